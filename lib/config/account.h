/*
 * account: who a user is, and where that user's record lives.
 *
 * A user store (store = user, or a path template with %h) lives in the
 * user's home and is owned by the user: the module reads it after dropping
 * to the user, the CLI writes it as the user.  Any other store is a system
 * store, owned by root: only root writes it.
 */
#ifndef TOTP_ACCOUNT_H
#define TOTP_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cfg.h"
#include "errors.h"
#include "store.h"

struct account {
	char name[STORE_USER_MAX + 1];
	uid_t uid;
	gid_t gid;
	char home[CFG_PATH_MAX];
};

struct store_location {
	char db_path[CFG_PATH_MAX];
	uid_t owner;   /* who must own the database */
	bool per_user; /* a user store: open it as the user */
};

/* Looks the user up (getpwnam_r, its buffer grown on ERANGE up to 1 MiB);
 * an unknown user is TOTP_R_NOT_FOUND, a name that cannot be a key
 * (store_user_name_check) TOTP_R_INVALID.  A user that exists but whose
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

/* Where `a`'s record lives in the realm of `c`, and who owns it. */
int account_store_location(const struct cfg *c, const struct account *a,
			   struct store_location *out, struct totp_err *err);

#endif
