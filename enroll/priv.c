/* priv: setegid/seteuid to the target user and back. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "priv.h"

int priv_become(const struct account *a, const struct store_location *loc, struct priv *p,
		struct totp_err *err)
{
	memset(p, 0, sizeof(*p));
	p->euid = geteuid();
	p->egid = getegid();
	if (p->euid != 0 || a->uid == 0 || !loc->per_user)
		return 0;
	p->ngroups = getgroups(PRIV_GROUPS_MAX, p->groups);
	if (p->ngroups < 0)
		return totp_err_errno(err, errno, "cannot read the supplementary groups");
	/* Groups first, then the gid, then the uid: each needs root. */
	if (setgroups(0, NULL) < 0 || setegid(a->gid) < 0)
		goto fail;
	if (seteuid(a->uid) < 0)
		goto fail;
	p->dropped = true;
	return 0;
fail : {
	int e = errno;

	p->dropped = true;
	priv_restore(p);
	return totp_err_errno(err, e, "cannot act as %s", a->name);
}
}

void priv_restore(struct priv *p)
{
	if (!p->dropped)
		return;
	if (seteuid(p->euid) < 0 || setegid(p->egid) < 0 ||
	    setgroups((size_t)p->ngroups, p->groups) < 0) {
		fprintf(stderr, "totp-enroll: cannot take back root's ids: %s\n",
			strerror(errno));
		abort();
	}
	p->dropped = false;
}
