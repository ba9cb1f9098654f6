/*
 * safe_read: the one loop that reads a trusted file (pam_totp.conf, a
 * user's --conf, an import source) from a descriptor its caller opened
 * with O_NOFOLLOW and checked with fstat, so that the file checked is
 * the file read.  Modelled on Linux-PAM's pam_modutil_read: read until
 * the end, retrying EINTR, never past a bound.  And the two positional
 * loops every store file is read and written with.
 */
#ifndef TOTP_SAFE_READ_H
#define TOTP_SAFE_READ_H

#include <stddef.h>
#include <sys/types.h>

#include "errors.h"

/* Reads fd to its end into a new NUL-terminated buffer *out (*len bytes,
 * the caller frees it with safe_read_free, which wipes it).  A file of
 * more than `max` bytes is -1 with reason `too_big`; a read error follows
 * errno.  `path` names the file in messages. */
int safe_read_all(int fd, size_t max, enum totp_reason too_big, const char *path,
		  char **out, size_t *len, struct totp_err *err);

/* Wipes and frees what safe_read_all made (NULL is fine). */
void safe_read_free(char *buf, size_t len);

/* Reads up to n bytes at `at`, retrying EINTR and short reads: the bytes
 * read, fewer only at the file's end, or -1 with errno. */
ssize_t safe_pread(int fd, void *buf, size_t n, off_t at);

/* Writes all n bytes at `at`, retrying EINTR and short writes: 0, or -1
 * with errno (EIO when a write wrote nothing). */
int safe_pwrite(int fd, const void *buf, size_t n, off_t at);

#endif
