/*
 * text: totp-enroll's answers for a person on a terminal.  Results go to
 * stdout, errors to stderr as "totp-enroll: MESSAGE".
 */
#ifndef ENROLL_TEXT_H
#define ENROLL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "context.h"
#include "lifecycle.h"
#include "list.h"
#include "opts.h"
#include "qr.h"

void text_error(FILE *f, const struct totp_err *e);

/* The QR code (unless QR_NONE), the URI, the secret in groups of four and
 * the emergency codes. */
void text_register(FILE *f, const struct context *x, const struct registration *r,
		   enum qr_mode qr);

/* The new emergency codes of totp-enroll codes, and that they replace
 * the old ones and are shown only once. */
void text_codes(FILE *f, const struct context *x, const struct new_codes *n);

/* What to run to confirm a pending registration. */
void text_verify_hint(FILE *f, const struct context *x);

/* After verify, remove or unlock. */
void text_done(FILE *f, enum command cmd, const struct context *x,
	       const struct record *r);

/* Each generator of r, a line each, after a "generators N of at most 4" line. */
void text_generators(FILE *f, const struct record *r);

void text_status(FILE *f, const struct context *x, const struct record *r);
void text_list(FILE *f, const char *realm, const struct list_entry *v, size_t n);

/* s made safe for a terminal: printable ASCII as it is but '\\', every
 * other byte (control characters, escapes, DEL, bytes of UTF-8) as \xHH,
 * "\\" for '\\'.  Cut to fit out (at least 1 byte); returns out. */
#define TEXT_SAFE_MAX(n) (4 * (n) + 1)
const char *text_safe(const char *s, char *out, size_t outsz);

/* "ABCD EFGH ..." into out (at least SECRET_B32_MAX * 5 / 4 + 1 bytes). */
#define TEXT_GROUPED_MAX (SECRET_B32_MAX * 5 / 4 + 1)
void text_group4(const char *s, char *out, size_t outsz);

#endif
