/*
 * conf: which configuration file totp-enroll trusts.
 *
 * The realm's policy limits what a user may choose, so a file that sets it
 * must be one the user cannot write:
 *   - as root, the file (default or --conf) must be owned by root and
 *     writable by no one else;
 *   - as a user, the default file must be owned by root too; a file given
 *     with --conf may be owned by root or by the user (a user may only
 *     change their own generator, which they could do anyway), and must
 *     not be writable by group or others.
 * A missing default file means the built-in defaults; a missing --conf
 * file is an error.
 */
#ifndef ENROLL_CONF_H
#define ENROLL_CONF_H

#include <sys/types.h>

#include "cfg.h"
#include "errors.h"

/* c->realm is set; path is --conf or NULL for the default. */
int conf_load(struct cfg *c, const char *path, uid_t caller, struct totp_err *err);

#endif
