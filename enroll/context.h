/*
 * context: everything a command needs, resolved once from the options:
 * who runs it (the caller), on whom (the target), the realm's
 * configuration, where the target's record lives, and, for register, the
 * generator's parameters, issuer and account label.  Setting it up is
 * where "who may do what" is decided, before any store is touched.
 */
#ifndef ENROLL_CONTEXT_H
#define ENROLL_CONTEXT_H

#include <stdbool.h>

#include "account.h"
#include "location.h"
#include "cfg.h"
#include "errors.h"
#include "opts.h"

#define CONTEXT_HOST_MAX 256
/* An ldap realm's user password (LDAPC_PASSWORD_MAX). */
#define CONTEXT_PASSWORD_MAX 256

struct context {
	struct cfg cfg;
	struct account caller, target;
	struct store_location loc;
	struct otp_params params;
	char host[CONTEXT_HOST_MAX];
	char issuer[CFG_ISSUER_MAX];
	char label[USER_NAME_MAX + CONTEXT_HOST_MAX + 2]; /* user@host */
	/* store = ldap, run by the user: their own LDAP password (password.h),
	 * wiped when the command is done; NULL-like ("") for root, who acts
	 * with the realm's administrative identity. */
	bool have_password;
	const char *name; /* --name: a generator's, NULL for the default */
	char password[CONTEXT_PASSWORD_MAX + 1];
};

int context_setup(const struct opts *o, struct context *x, struct totp_err *err);

#endif
