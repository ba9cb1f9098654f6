/* context: resolves caller, target, realm, store and parameters. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "context.h"
#include "lifecycle.h"
#include "lifecycle_ldap.h"
#include "location.h"

/* totp-enroll is never setuid: refuse to run as if it were. */
static int check_not_setuid(struct totp_err *err)
{
	if (getuid() != geteuid() || getgid() != getegid())
		return totp_err_set(
		    err, TOTP_R_PERMISSION,
		    "totp-enroll must not be installed setuid or setgid; "
		    "root runs it as root (sudo totp-enroll --user NAME)");
	return 0;
}

/* The realm's settings, under cfg_load's ownership rule: root's file, or
 * a user's own --conf. */
static int load_config(const struct opts *o, struct context *x, struct totp_err *err)
{
	return cfg_load(&x->cfg, o->conf, o->realm, 0, NULL, x->caller.uid, err);
}

/* Root may name anyone; anyone else only themselves.  A user naming
 * someone else is refused before the name is even looked up, so that the
 * answer says nothing about which users exist. */
static int find_target(const struct opts *o, struct context *x, struct totp_err *err)
{
	if (o->user == NULL || strcmp(o->user, x->caller.name) == 0) {
		x->target = x->caller;
		return 0;
	}
	if (x->caller.uid != 0)
		return totp_err_set(err, TOTP_R_PERMISSION,
				    "only root can act on another user's generator (%s)",
				    o->user);
	return account_lookup(o->user, &x->target, err);
}

static int root_only(const struct opts *o, const struct context *x, struct totp_err *err)
{
	if (x->caller.uid == 0)
		return 0;
	if (o->cmd == CMD_EXPORT)
		return totp_err_set(
		    err, TOTP_R_PERMISSION,
		    "only root can export a record; use status for your own");
	if (o->cmd == CMD_IMPORT && o->import_from == IMPORT_FROM_OATH)
		return totp_err_set(err, TOTP_R_PERMISSION,
				    "only root can import a pam_oath users file");
	if (o->cmd == CMD_LIST || o->cmd == CMD_UNLOCK)
		return totp_err_set(
		    err, TOTP_R_PERMISSION, "only root can %s; ask an administrator",
		    o->cmd == CMD_LIST ? "list a realm's users" : "unlock a generator");
	return 0;
}

/* The realm's parameters, changed only as far as the realm allows. */
static int choose_params(const struct opts *o, struct context *x, struct totp_err *err)
{
	struct otp_params *p = &x->params;

	*p = x->cfg.params;
	if (o->set_type)
		p->type = o->type;
	if (o->set_alg)
		p->alg = o->alg;
	if (o->set_digits)
		p->digits = o->digits;
	if (o->set_period)
		p->period = o->period;
	if (otp_params_check(p, err) < 0)
		return -1;
	if (!cfg_allows(&x->cfg, p))
		return totp_err_set(
		    err, TOTP_R_INVALID,
		    "realm %s does not allow %s, %s, %u digits, %u seconds; "
		    "see its allow_* settings in %s",
		    x->cfg.realm, otp_type_name(p->type), otp_alg_name(p->alg), p->digits,
		    p->period, x->cfg.conf_path);
	return 0;
}

static int name_it(const struct opts *o, struct context *x, struct totp_err *err)
{
	const char *issuer;

	if (gethostname(x->host, sizeof(x->host)) < 0)
		return totp_err_errno(err, errno, "cannot read the host name");
	x->host[sizeof(x->host) - 1] = '\0';
	issuer = o->issuer != NULL	    ? o->issuer
		 : x->cfg.issuer[0] != '\0' ? x->cfg.issuer
					    : x->host;
	if (issuer[0] == '\0' || strlen(issuer) >= sizeof(x->issuer))
		return totp_err_set(err, TOTP_R_INVALID,
				    "the issuer must be 1 to %zu bytes long",
				    sizeof(x->issuer) - 1);
	strcpy(x->issuer, issuer);
	snprintf(x->label, sizeof(x->label), "%s@%s", x->target.name, x->host);
	return 0;
}

int context_setup(const struct opts *o, struct context *x, struct totp_err *err)
{
	memset(x, 0, sizeof(*x));
	if (check_not_setuid(err) < 0 ||
	    account_lookup_uid(getuid(), &x->caller, err) < 0)
		return -1;
	if (root_only(o, x, err) < 0 || find_target(o, x, err) < 0 ||
	    load_config(o, x, err) < 0)
		return -1;
	if (location_for(&x->cfg, &x->target, &x->loc, err) < 0 ||
	    lifecycle_authorize(x->caller.uid, &x->target, &x->loc, x->cfg.realm, err) <
		0)
		return -1;
	x->name = o->name;
	if (x->loc.kind == STORE_KIND_LDAP && lifecycle_ldap_name_check(o->name, err) < 0)
		return -1;
	if (o->cmd != CMD_ENROLL && o->cmd != CMD_REGISTER)
		return 0;
	return choose_params(o, x, err) < 0 ? -1 : name_it(o, x, err);
}
