/*
 * account: who a user is (the passwd look-up); where that user's record
 * lives is location.h's.
 */
#ifndef TOTP_ACCOUNT_H
#define TOTP_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cfg.h"
#include "errors.h"
#include "user_name.h"

struct account {
	char name[USER_NAME_MAX + 1];
	uid_t uid;
	gid_t gid;
	char home[CFG_PATH_MAX];
};

/* Looks the user up (getpwnam_r, its buffer grown on ERANGE up to 1 MiB);
 * an unknown user is TOTP_R_NOT_FOUND, a name that cannot be a key
 * (user_name_check) TOTP_R_INVALID.  A user that exists but whose
 * entry cannot be taken (a home of CFG_PATH_MAX bytes or more) is
 * TOTP_R_CONFIG: never "unknown", which nullok would let in. */
int account_lookup(const char *name, struct account *out, struct totp_err *err);

/* account_lookup with the passwd look-up given (getpwnam_r's shape), so
 * that tests can hand in passwd entries no real system should have. */
struct passwd;
typedef int (*account_getpwnam_fn)(const char *name, struct passwd *pw, char *buf,
				   size_t size, struct passwd **result);
int account_lookup_with(const char *name, account_getpwnam_fn getpwnam_fn,
			struct account *out, struct totp_err *err);

/* The same, by uid. */
int account_lookup_uid(uid_t uid, struct account *out, struct totp_err *err);

#endif
