/*
 * totp-enroll: register (enroll), verify, status and remove one user's
 * TOTP/HOTP generator, and make new emergency codes; root also unlocks,
 * lists, imports and exports.
 * This file dispatches the commands: it resolves the context (context.c),
 * calls lib/lifecycle.c (where every rule is) as the store's owner (or
 * list.c, import_cmd.c, export.c), and hands the result to json_answer.c
 * (--json) or text.c.  Never installed setuid.
 */
#include "config.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "clock.h"
#include "json_answer.h"
#include "context.h"
#include "export.h"
#include "import_cmd.h"
#include "lifecycle.h"
#include "lifecycle_ldap.h"
#include "list.h"
#include "opts.h"
#include "password.h"
#include "priv.h"
#include "exit_code.h"
#include "prompt.h"
#include "qr.h"
#include "text.h"

/* ---- store calls, as the store's owner ------------------------------------ */

enum op { OP_VERIFY, OP_REMOVE, OP_UNLOCK, OP_STATUS };

/* An ldap realm (lifecycle_ldap.h): the user's password, or NULL for
 * root's administrative identity. */
static bool in_ldap(const struct context *x)
{
	return x->loc.kind == STORE_KIND_LDAP;
}

static const char *ldap_password(const struct context *x)
{
	return x->have_password ? x->password : NULL;
}

static int ldap_op(const struct context *x, enum op op, const char *code,
		   struct record *out, struct totp_err *err)
{
	switch (op) {
	case OP_VERIFY:
		return lifecycle_ldap_verify(&x->cfg, &x->loc, x->target.name,
					     ldap_password(x), code, clock_now_ms(), out,
					     err);
	case OP_REMOVE:
		return lifecycle_ldap_remove(&x->cfg, &x->loc, x->target.name,
					     ldap_password(x), clock_now_ms(), out, err);
	case OP_STATUS:
		return lifecycle_ldap_status(&x->cfg, &x->loc, x->target.name,
					     ldap_password(x), out, err);
	default: /* unlock: the host's identity, through the store (root only) */
		return lifecycle_unlock(&x->cfg, &x->loc, x->target.name, clock_now_ms(),
					out, err);
	}
}

static int store_op(const struct context *x, enum op op, const char *code,
		    struct record *out, struct totp_err *err)
{
	struct priv p;
	int rc;

	memset(out, 0, sizeof(*out));
	if (in_ldap(x))
		return ldap_op(x, op, code, out, err);
	if (priv_become(&x->target, &x->loc, &p, err) < 0)
		return -1;
	switch (op) {
	case OP_VERIFY:
		rc = lifecycle_verify_named(&x->cfg, &x->loc, x->target.name, x->name,
					    code, clock_now_ms(), out, err);
		break;
	case OP_REMOVE:
		rc = lifecycle_remove_named(&x->cfg, &x->loc, x->target.name, x->name,
					    clock_now_ms(), out, err);
		break;
	case OP_UNLOCK:
		rc = lifecycle_unlock(&x->cfg, &x->loc, x->target.name, clock_now_ms(),
				      out, err);
		break;
	default:
		rc = lifecycle_status(&x->cfg, &x->loc, x->target.name, out, err);
	}
	priv_restore(&p);
	return rc;
}

static int do_register(const struct context *x, struct registration *r,
		       struct totp_err *err)
{
	struct priv p;
	int rc;

	if (in_ldap(x))
		return lifecycle_ldap_register(&x->cfg, &x->loc, x->target.name,
					       ldap_password(x), &x->params, x->issuer,
					       x->label, clock_now_ms(), r, err);
	if (priv_become(&x->target, &x->loc, &p, err) < 0)
		return -1;
	rc = lifecycle_register_named(&x->cfg, &x->loc, x->target.name, x->name,
				      &x->params, x->issuer, x->label, clock_now_ms(), r,
				      err);
	priv_restore(&p);
	return rc;
}

static int do_codes(const struct context *x, const char *code, struct new_codes *n,
		    struct totp_err *err)
{
	struct priv p;
	int rc;

	if (priv_become(&x->target, &x->loc, &p, err) < 0)
		return -1;
	rc = lifecycle_codes(&x->cfg, &x->loc, x->target.name, code, clock_now_ms(), n,
			     err);
	priv_restore(&p);
	return rc;
}

static int do_codes_precheck(const struct context *x, struct totp_err *err)
{
	struct priv p;
	int rc;

	if (priv_become(&x->target, &x->loc, &p, err) < 0)
		return -1;
	rc = lifecycle_codes_precheck(&x->cfg, &x->loc, x->target.name, clock_now_ms(),
				      err);
	priv_restore(&p);
	return rc;
}

/* ---- commands ------------------------------------------------------------- */

static int verify_one(void *arg, const char *code, struct totp_err *err)
{
	struct record rec;
	int rc = store_op(arg, OP_VERIFY, code, &rec, err);

	if (rc == 0)
		text_done(stdout, CMD_VERIFY, arg, &rec);
	record_wipe(&rec);
	return rc;
}

/* Bare totp-enroll on a terminal: confirm at once. */
static int confirm(const struct opts *o, const struct context *x)
{
	struct totp_err err;
	int sig;

	totp_err_clear(&err);
	switch (prompt_confirm(STDIN_FILENO, stdout, verify_one, (void *)x, &sig, &err)) {
	case PROMPT_VERIFIED:
		return EX_OK;
	case PROMPT_INTERRUPTED:
		text_verify_hint(stdout, x);
		fflush(stdout);
		return sig ? 128 + sig : EX_TEMPFAIL;
	case PROMPT_FAILED:
		text_verify_hint(stdout, x);
		return totp_reason_exit(err.reason);
	default:
		exit_code_failure(o, &err);
		text_verify_hint(stdout, x);
		return totp_reason_exit(err.reason);
	}
}

static int cmd_register(const struct opts *o, const struct context *x)
{
	struct registration r;
	struct totp_err err;
	int rc;

	totp_err_clear(&err);
	if (do_register(x, &r, &err) < 0)
		return exit_code_failure(o, &err);
	/* The file is the caller's, written after root took its ids back. */
	if (o->qr_file != NULL && qr_write_file(o->qr_file, r.uri, &err) < 0) {
		lifecycle_registration_wipe(&r);
		return exit_code_failure(o, &err);
	}
	if (o->json) {
		rc = exit_code_written(answer_register(stdout, &r, x->cfg.realm));
	} else {
		text_register(stdout, x, &r, o->qr);
		rc = exit_code_written(0);
	}
	lifecycle_registration_wipe(&r);
	if (rc != EX_OK || o->json)
		return rc;
	if (o->cmd == CMD_ENROLL && isatty(STDIN_FILENO))
		return confirm(o, x);
	text_verify_hint(stdout, x);
	return exit_code_written(0);
}

static int cmd_record(const struct opts *o, const struct context *x)
{
	static const enum op ops[] = {[CMD_VERIFY] = OP_VERIFY,
				      [CMD_REMOVE] = OP_REMOVE,
				      [CMD_UNLOCK] = OP_UNLOCK,
				      [CMD_STATUS] = OP_STATUS};
	struct record rec;
	struct totp_err err;
	int rc;

	totp_err_clear(&err);
	if (store_op(x, ops[o->cmd], o->code, &rec, &err) < 0)
		return exit_code_failure(o, &err);
	if (o->json && o->cmd == CMD_STATUS)
		rc = answer_status(stdout, x->target.name, &rec, x->cfg.realm);
	else if (o->json)
		rc = answer_details(stdout, &rec, x->cfg.realm);
	else if (o->cmd == CMD_STATUS)
		text_status(stdout, x, &rec), rc = 0;
	else
		text_done(stdout, o->cmd, x, &rec), rc = 0;
	record_wipe(&rec);
	return exit_code_written(rc);
}

struct codes_call {
	const struct context *x;
	struct new_codes *n;
};

static int codes_one(void *arg, const char *code, struct totp_err *err)
{
	struct codes_call *call = arg;

	return do_codes(call->x, code, call->n, err);
}

/* No CODE argument: refuse at once what no code would change, then ask
 * for one (the prompt on stderr under --json, so stdout stays JSON).
 * Returns 0 with the new codes in *n, or an exit code. */
static int codes_prompt(const struct opts *o, const struct context *x,
			struct new_codes *n)
{
	struct codes_call call = {x, n};
	struct totp_err err;
	int sig;

	totp_err_clear(&err);
	if (do_codes_precheck(x, &err) < 0)
		return exit_code_failure(o, &err);
	switch (prompt_code(STDIN_FILENO, o->json ? stderr : stdout,
			    "Enter the code the app shows now (not an emergency code) "
			    "to make new emergency codes: ",
			    codes_one, &call, &sig, &err)) {
	case PROMPT_VERIFIED:
		return 0;
	case PROMPT_INTERRUPTED:
		if (sig != 0)
			return 128 + sig;
		totp_err_set(&err, TOTP_R_INVALID,
			     "no code was given, nothing changed; give the code the app "
			     "shows now as totp-enroll codes CODE");
		return exit_code_failure(o, &err);
	case PROMPT_FAILED: /* each wrong code was said at the prompt */
		if (!o->json)
			return totp_reason_exit(err.reason);
		return exit_code_failure(o, &err);
	default:
		return exit_code_failure(o, &err);
	}
}

/* Root is not asked for a code (totp-enroll(1) says why); anyone else
 * gives it as CODE or at the prompt. */
static int cmd_codes(const struct opts *o, const struct context *x)
{
	struct new_codes n;
	struct totp_err err;
	int rc;

	totp_err_clear(&err);
	memset(&n, 0, sizeof(n));
	if (o->code != NULL || x->caller.uid == 0) {
		if (do_codes(x, o->code, &n, &err) < 0)
			return exit_code_failure(o, &err);
	} else if ((rc = codes_prompt(o, x, &n)) != 0) {
		lifecycle_new_codes_wipe(&n);
		return rc;
	}
	if (o->json)
		rc = answer_codes(stdout, &n, x->cfg.realm);
	else
		text_codes(stdout, x, &n), rc = 0;
	lifecycle_new_codes_wipe(&n);
	return exit_code_written(rc);
}

static int cmd_list(const struct opts *o, const struct context *x)
{
	struct list_entry *v;
	struct totp_err err;
	size_t n;
	int rc;

	totp_err_clear(&err);
	if (list_realm(&x->cfg, &x->loc, &v, &n, &err) < 0)
		return exit_code_failure(o, &err);
	if (o->json)
		rc = answer_list(stdout, x->cfg.realm, v, n);
	else
		text_list(stdout, x->cfg.realm, v, n), rc = 0;
	free(v);
	return exit_code_written(rc);
}

static int dispatch(const struct opts *o, const struct context *x);

/* In an ldap realm, the user's commands bind as them: their password. */
static int ask_password(const struct opts *o, struct context *x, struct totp_err *err)
{
	if (!in_ldap(x) || x->caller.uid == 0)
		return 0;
	if (o->cmd != CMD_ENROLL && o->cmd != CMD_REGISTER && o->cmd != CMD_VERIFY &&
	    o->cmd != CMD_REMOVE && o->cmd != CMD_STATUS)
		return 0;
	if (password_read(o->password_fd, x->target.name, x->password,
			  sizeof(x->password), err) < 0)
		return -1;
	x->have_password = true;
	return 0;
}

static int run(const struct opts *o)
{
	static struct context x; /* large; one per process */
	struct totp_err err;
	int rc;

	totp_err_clear(&err);
	if (otp_init(&err) < 0 || context_setup(o, &x, &err) < 0 ||
	    ask_password(o, &x, &err) < 0)
		rc = exit_code_failure(o, &err);
	else
		rc = dispatch(o, &x);
	explicit_bzero(x.password, sizeof(x.password));
	cfg_free(&x.cfg); /* an ldap realm's strings */
	return rc;
}

static int dispatch(const struct opts *o, const struct context *x)
{
	switch (o->cmd) {
	case CMD_ENROLL:
	case CMD_REGISTER:
		return cmd_register(o, x);
	case CMD_LIST:
		return cmd_list(o, x);
	case CMD_IMPORT:
		return import_command(o, x);
	case CMD_EXPORT:
		return export_command(o, x);
	case CMD_CODES:
		return cmd_codes(o, x);
	default:
		return cmd_record(o, x);
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	struct totp_err err;

	/* Whatever this process creates holds a secret or guards one. */
	umask(077);
	setlocale(LC_ALL, "");
	totp_err_clear(&err);
	if (opts_parse(argc, argv, &o, &err) < 0) {
		exit_code_failure(&o, &err);
		return EX_USAGE;
	}
	if (o.cmd == CMD_HELP) {
		opts_usage(stdout);
		return exit_code_written(0);
	}
	if (o.cmd == CMD_VERSION) {
		printf("totp-enroll (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		return exit_code_written(0);
	}
	return run(&o);
}
