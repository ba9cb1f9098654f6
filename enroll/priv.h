/*
 * priv: root working on a user store as that user.
 *
 * A user store belongs to its user (DESIGN.md): when root registers or
 * removes for someone else, the database, lock file and folders must be
 * made by that user, or the module (which opens them as the user) would
 * refuse them.  So root takes the user's effective ids, with no
 * supplementary groups, around the store calls, and takes its own back
 * after.  Nothing changes when the caller already is the user.
 */
#ifndef ENROLL_PRIV_H
#define ENROLL_PRIV_H

#include <stdbool.h>
#include <sys/types.h>

#include "account.h"
#include "location.h"
#include "errors.h"

#define PRIV_GROUPS_MAX 256

struct priv {
	bool dropped;
	uid_t euid;
	gid_t egid;
	int ngroups;
	gid_t groups[PRIV_GROUPS_MAX];
};

/* Becomes `a` (effective uid and gid, no supplementary groups) when the
 * process runs as root, the store is a user store and `a` is someone
 * else; else does nothing (a system store is root's). */
int priv_become(const struct account *a, const struct store_location *loc, struct priv *p,
		struct totp_err *err);

/* Undoes priv_become.  Failing to regain root is fatal (abort): going on
 * with half the ids would be worse. */
void priv_restore(struct priv *p);

#endif
