/*
 * import_out: what `totp-enroll import` answers, in text and in JSON.
 *
 * JSON, done (or, with dryRun, would be done):
 *   {"details":{"totalResult":"N","resourceOwner":REALM},"dryRun":false,
 *    "source":PATH,"result":[{"user":..,"line":N,"type":..,"algorithm":..,
 *    "digits":N,"period":N (totp),"window":N|null (null: the realm's),
 *    "nextCounter":"N" (hotp) | "lastUsedStep":"N"|null (totp),
 *    "emergencyCodes":N,"replaces":"none"|"pending"|"removed"},...]}
 * JSON, refused for its lines:
 *   {"code":N,"message":..,"details":[{ErrorInfo},{"@type":
 *    "type.googleapis.com/google.rpc.BadRequest","fieldViolations":
 *    [{"field":"line N","description":..},...]}],"source":PATH}
 */
#ifndef ENROLL_IMPORT_OUT_H
#define ENROLL_IMPORT_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "errors.h"
#include "import.h"
#include "import_store.h"

struct import_view {
	const char *realm, *where, *source;
	const struct import_entry *entries;
	const struct import_before *before;
	size_t n;
	bool dry_run;
};

void import_out_text(FILE *f, const struct import_view *v);
int import_out_json(FILE *f, const struct import_view *v);

/* "totp-enroll: PATH:LINE: message" for each, then the summary. */
void import_out_problems_text(FILE *f, const struct totp_err *summary, const char *source,
			      const struct import_problem *p, size_t n);
int import_out_problems_json(FILE *f, const struct totp_err *summary, const char *source,
			     const struct import_problem *p, size_t n);

#endif
