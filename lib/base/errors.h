/*
 * errors: the one error type of lib/.
 *
 * Every lib/ function that can fail takes a `struct totp_err *` last and
 * returns -1 after filling it (0 on success, unless its header says
 * otherwise).  The reason is the precise cause, fixed for each refusal so
 * that tests and callers can tell them apart; the gRPC code and the
 * sysexits(3) exit code follow from the reason through one table
 * (errors.c).  The message is for a person: what happened and what to do.
 * It never holds a secret or a code.
 */
#ifndef TOTP_ERRORS_H
#define TOTP_ERRORS_H

/* gRPC status codes, as ZITADEL answers them. */
enum grpc_code {
	GRPC_OK = 0,
	GRPC_CANCELLED = 1,
	GRPC_UNKNOWN = 2,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_DEADLINE_EXCEEDED = 4,
	GRPC_NOT_FOUND = 5,
	GRPC_ALREADY_EXISTS = 6,
	GRPC_PERMISSION_DENIED = 7,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_FAILED_PRECONDITION = 9,
	GRPC_ABORTED = 10,
	GRPC_OUT_OF_RANGE = 11,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
	GRPC_DATA_LOSS = 15,
	GRPC_UNAUTHENTICATED = 16,
};

/* The precise cause.  Append only: tests and JSON details name them. */
enum totp_reason {
	TOTP_R_NONE = 0,
	TOTP_R_INVALID,	      /* a bad argument or value */
	TOTP_R_NOMEM,	      /* out of memory */
	TOTP_R_NOT_FOUND,     /* no such record, user or file */
	TOTP_R_EXISTS,	      /* a ready generator is already registered */
	TOTP_R_PERMISSION,    /* EACCES, or acting on someone else */
	TOTP_R_PRECONDITION,  /* the record is in the wrong state */
	TOTP_R_WRONG_CODE,    /* the code did not match */
	TOTP_R_LOCKED_OUT,    /* too many failures, locked for a while */
	TOTP_R_SYMLINK,	      /* a path component is a symbolic link */
	TOTP_R_NOT_REGULAR,   /* not a regular file (or not a directory) */
	TOTP_R_BAD_OWNER,     /* owned by someone it must not be */
	TOTP_R_BAD_MODE,      /* writable by group or others */
	TOTP_R_HARDLINK,      /* more than one hard link */
	TOTP_R_TRUNCATED,     /* the database file is cut short */
	TOTP_R_CORRUPT,	      /* the database or a record is not ours or damaged */
	TOTP_R_LOCK_TIMEOUT,  /* the lock was held past the deadline */
	TOTP_R_NO_SPACE,      /* ENOSPC, EDQUOT */
	TOTP_R_READ_ONLY,     /* EROFS */
	TOTP_R_IO,	      /* any other system error */
	TOTP_R_CONFIG,	      /* a bad configuration line or argument */
	TOTP_R_VERSION,	      /* a record of a version this build does not read */
	TOTP_R_INTERNAL,      /* a bug or a library failure */
	TOTP_R_TOO_MANY,      /* past a cap (RECORD_GENERATORS_MAX generators) */
	TOTP_R_UNIMPLEMENTED, /* not done by this realm's kind of store */
	TOTP_R_COUNT
};

#define TOTP_ERR_MSG_MAX 256

struct totp_err {
	enum totp_reason reason;
	char msg[TOTP_ERR_MSG_MAX];
};

/* Fills `e` (if not NULL) and returns -1, so that `return totp_err_set(...)`
 * reads as the error path. */
int totp_err_set(struct totp_err *e, enum totp_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As totp_err_set, choosing the reason from errno (ENOSPC, EROFS, EACCES,
 * ELOOP, ENOENT, ...) and appending strerror(errnum) to the message. */
int totp_err_errno(struct totp_err *e, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clears `e` to "no error". */
void totp_err_clear(struct totp_err *e);

/* The reason's gRPC code, sysexits(3) code and JSON name, from the one
 * table in errors.c; an unknown reason maps as TOTP_R_INTERNAL. */
enum grpc_code totp_reason_grpc(enum totp_reason reason);
int totp_reason_exit(enum totp_reason reason);	       /* sysexits.h */
const char *totp_reason_name(enum totp_reason reason); /* "symlink", ... */

#endif
