/*
 * safe_read: the one loop that reads a trusted file (pam_totp.conf, a
 * user's --conf, an import source) from a descriptor its caller opened
 * with O_NOFOLLOW and checked with fstat, so that the file checked is
 * the file read.  Modelled on Linux-PAM's pam_modutil_read: read until
 * the end, retrying EINTR, never past a bound.
 */
#ifndef TOTP_SAFE_READ_H
#define TOTP_SAFE_READ_H

#include <stddef.h>

#include "errors.h"

/* Reads fd to its end into a new NUL-terminated buffer *out (*len bytes,
 * the caller frees it with safe_read_free, which wipes it).  A file of
 * more than `max` bytes is -1 with reason `too_big`; a read error follows
 * errno.  `path` names the file in messages. */
int safe_read_all(int fd, size_t max, enum totp_reason too_big, const char *path,
		  char **out, size_t *len, struct totp_err *err);

/* Wipes and frees what safe_read_all made (NULL is fine). */
void safe_read_free(char *buf, size_t len);

#endif
