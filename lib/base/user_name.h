/*
 * user_name: the one rule for a user name pam_totp takes, wherever it
 * goes (a store's key, a %u in a store path, a passwd answer, an import).
 *
 * A name is 1 to USER_NAME_MAX bytes, holds no control character and no
 * '/', and starts with neither '-' (an option to whatever reads it) nor
 * '.' (".", "..", a hidden file in a %u path).  Anything else is taken,
 * UTF-8 and '@' or '\' included (sssd and winbind names), as shadow's
 * useradd and the NSS modules allow more than the POSIX portable set.
 */
#ifndef TOTP_USER_NAME_H
#define TOTP_USER_NAME_H

#include "errors.h"

#define USER_NAME_MAX 256 /* longest user name accepted */

/* 0, or -1 with TOTP_R_INVALID saying which part of the rule fails. */
int user_name_check(const char *user, struct totp_err *err);

#endif
