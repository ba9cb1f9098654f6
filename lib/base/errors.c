/* errors: one table from reason to gRPC code, exit code and name. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "errors.h"

struct reason_row {
	const char *name;
	enum grpc_code grpc;
	int exit_code;
};

static const struct reason_row reasons[TOTP_R_COUNT] = {
    [TOTP_R_NONE] = {"ok", GRPC_OK, EX_OK},
    [TOTP_R_INVALID] = {"invalid", GRPC_INVALID_ARGUMENT, EX_DATAERR},
    [TOTP_R_NOMEM] = {"nomem", GRPC_RESOURCE_EXHAUSTED, EX_OSERR},
    [TOTP_R_NOT_FOUND] = {"not-found", GRPC_NOT_FOUND, EX_NOUSER},
    [TOTP_R_EXISTS] = {"exists", GRPC_ALREADY_EXISTS, EX_CANTCREAT},
    [TOTP_R_PERMISSION] = {"permission", GRPC_PERMISSION_DENIED, EX_NOPERM},
    [TOTP_R_PRECONDITION] = {"precondition", GRPC_FAILED_PRECONDITION, EX_DATAERR},
    [TOTP_R_WRONG_CODE] = {"wrong-code", GRPC_INVALID_ARGUMENT, EX_DATAERR},
    [TOTP_R_LOCKED_OUT] = {"locked-out", GRPC_RESOURCE_EXHAUSTED, EX_TEMPFAIL},
    [TOTP_R_SYMLINK] = {"symlink", GRPC_PERMISSION_DENIED, EX_NOPERM},
    [TOTP_R_NOT_REGULAR] = {"not-regular", GRPC_FAILED_PRECONDITION, EX_NOINPUT},
    [TOTP_R_BAD_OWNER] = {"bad-owner", GRPC_PERMISSION_DENIED, EX_NOPERM},
    [TOTP_R_BAD_MODE] = {"bad-mode", GRPC_PERMISSION_DENIED, EX_NOPERM},
    [TOTP_R_HARDLINK] = {"hardlink", GRPC_PERMISSION_DENIED, EX_NOPERM},
    [TOTP_R_TRUNCATED] = {"truncated", GRPC_DATA_LOSS, EX_DATAERR},
    [TOTP_R_CORRUPT] = {"corrupt", GRPC_DATA_LOSS, EX_DATAERR},
    [TOTP_R_LOCK_TIMEOUT] = {"lock-timeout", GRPC_UNAVAILABLE, EX_TEMPFAIL},
    [TOTP_R_NO_SPACE] = {"no-space", GRPC_RESOURCE_EXHAUSTED, EX_CANTCREAT},
    [TOTP_R_READ_ONLY] = {"read-only", GRPC_UNAVAILABLE, EX_CANTCREAT},
    [TOTP_R_IO] = {"io", GRPC_UNAVAILABLE, EX_IOERR},
    [TOTP_R_CONFIG] = {"config", GRPC_INVALID_ARGUMENT, EX_CONFIG},
    [TOTP_R_VERSION] = {"version", GRPC_FAILED_PRECONDITION, EX_DATAERR},
    [TOTP_R_INTERNAL] = {"internal", GRPC_INTERNAL, EX_SOFTWARE},
    [TOTP_R_TOO_MANY] = {"too-many", GRPC_RESOURCE_EXHAUSTED, EX_CANTCREAT},
    [TOTP_R_UNIMPLEMENTED] = {"unimplemented", GRPC_UNIMPLEMENTED, EX_UNAVAILABLE},
};

static const struct reason_row *row(enum totp_reason r)
{
	if ((unsigned)r >= TOTP_R_COUNT)
		r = TOTP_R_INTERNAL;
	return &reasons[r];
}

enum grpc_code totp_reason_grpc(enum totp_reason reason)
{
	return row(reason)->grpc;
}

int totp_reason_exit(enum totp_reason reason)
{
	return row(reason)->exit_code;
}

const char *totp_reason_name(enum totp_reason reason)
{
	return row(reason)->name;
}

void totp_err_clear(struct totp_err *e)
{
	if (e == NULL)
		return;
	e->reason = TOTP_R_NONE;
	e->msg[0] = '\0';
}

static void vset(struct totp_err *e, enum totp_reason reason, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void vset(struct totp_err *e, enum totp_reason reason, const char *fmt, va_list ap)
{
	e->reason = reason;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

int totp_err_set(struct totp_err *e, enum totp_reason reason, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vset(e, reason, fmt, ap);
	va_end(ap);
	return -1;
}

static enum totp_reason reason_of_errno(int errnum)
{
	switch (errnum) {
	case ENOSPC:
	case EDQUOT:
		return TOTP_R_NO_SPACE;
	case EROFS:
		return TOTP_R_READ_ONLY;
	case EACCES:
	case EPERM:
		return TOTP_R_PERMISSION;
	case ELOOP:
		return TOTP_R_SYMLINK;
	case ENOENT:
		return TOTP_R_NOT_FOUND;
	case ENOTDIR:
		return TOTP_R_NOT_REGULAR;
	case ENOMEM:
		return TOTP_R_NOMEM;
	case EWOULDBLOCK:
		return TOTP_R_LOCK_TIMEOUT;
	default:
		return TOTP_R_IO;
	}
}

int totp_err_errno(struct totp_err *e, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vset(e, reason_of_errno(errnum), fmt, ap);
	va_end(ap);
	len = strlen(e->msg);
	snprintf(e->msg + len, sizeof(e->msg) - len, ": %s", strerror(errnum));
	return -1;
}
