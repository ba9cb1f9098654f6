/*
 * import_store: writes imported generators into a realm's store, all or
 * nothing.
 *
 * One exclusive open of the store (created if missing) for the whole
 * import: every user's record is looked at first; a user who already has
 * a ready generator is reported and then nothing is written (remove it
 * first: an import never replaces a phone that works).  A pending or
 * removed record is replaced, its sequence carried on.  Then every record
 * is put into a batch (store.h), which only the final store_commit
 * publishes; a failure before that drops the batch, so the store is left
 * as it was.  A dry run opens the store shared, writes nothing, and reports the
 * same.
 *
 * Several entries of one user (pam_oath's several tokens, issue 17) make
 * one record of several ready generators, in the entries' order, named
 * by their `name` ("" the default); more than RECORD_GENERATORS_MAX is
 * TOTP_R_TOO_MANY naming the user, two alike TOTP_R_INVALID: nothing is
 * written.
 */
#ifndef TOTP_IMPORT_STORE_H
#define TOTP_IMPORT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "account.h"
#include "location.h"
#include "cfg.h"
#include "errors.h"
#include "import.h"

/* What each user had before the import (0: nothing). */
struct import_before {
	enum record_state state; /* 0, RECORD_PENDING or RECORD_REMOVED */
	uint64_t sequence;
};

/*
 * Entries are keyed by entries[i].user.  before[] and problems[] have room
 * for n each.  Returns 0 when everything was written (or, dry, would be);
 * -1 on error, with TOTP_R_EXISTS and problems[0 .. *n_problems) naming
 * each user who already has a ready generator (their lines), or another
 * reason from the store.  Either way on -1 the store is as it was.
 */
int import_store(const struct cfg *c, const struct store_location *loc,
		 const struct import_entry *entries, size_t n, bool dry_run,
		 int64_t now_ms, struct import_before *before,
		 struct import_problem *problems, size_t *n_problems,
		 struct totp_err *err);

#endif
