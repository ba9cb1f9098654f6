/*
 * password: the user's own LDAP password, for totp-enroll in a `store =
 * ldap` realm (lifecycle_ldap.h).  Never from the command line:
 *   --password-fd N   one line read from descriptor N;
 *   stdin a terminal  asked on stderr, echo off;
 *   otherwise         one line read from stdin (byte by byte, so that
 *                     what follows, such as a code, stays unread).
 * Once the user's token is linked, slapo-otp wants the password followed
 * by a current code in every bind as the user: that is what is typed then
 * (status and remove of a ready token cost a code, as any LDAP login).
 * The final newline (and a CR before it) is dropped; an empty password is
 * refused (an empty simple bind would be anonymous).  The caller wipes
 * buf with explicit_bzero.
 */
#ifndef ENROLL_PASSWORD_H
#define ENROLL_PASSWORD_H

#include <stddef.h>

#include "errors.h"

int password_read(int fd, const char *user, char *buf, size_t len, struct totp_err *err);

#endif
