/* import_cmd: read, check, then write all or nothing (see import_cmd.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "json_answer.h"
#include "import_cmd.h"
#include "import_ga.h"
#include "import_oath.h"
#include "import_out.h"
#include "import_store.h"
#include "priv.h"
#include "exit_code.h"
#include "text.h"

/* The problems of one import, in line order at the end. */
struct problems {
	struct import_problem *v;
	size_t n, cap;
};

static int add_problem(struct problems *ps, unsigned line, const char *msg,
		       struct totp_err *err)
{
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? 2 * ps->cap : 16;
		struct import_problem *v = realloc(ps->v, cap * sizeof(*v));
		if (!v)
			return totp_err_set(err, TOTP_R_NOMEM, "out of memory importing");
		ps->v = v;
		ps->cap = cap;
	}
	ps->v[ps->n].line = line;
	snprintf(ps->v[ps->n].msg, IMPORT_MSG_MAX, "%s", msg);
	ps->n++;
	return 0;
}

static int by_line(const void *a, const void *b)
{
	const struct import_problem *x = a, *y = b;

	return x->line < y->line ? -1 : x->line > y->line;
}

/* Lists every problem and refuses the whole import. */
static int refuse(const struct opts *o, const char *source, struct problems *ps,
		  enum totp_reason reason)
{
	struct totp_err summary;

	qsort(ps->v, ps->n, sizeof(ps->v[0]), by_line);
	totp_err_set(&summary, reason,
		     "%zu line%s of %s cannot be imported; nothing was imported: fix or "
		     "remove %s and run again",
		     ps->n, ps->n == 1 ? "" : "s", source, ps->n == 1 ? "it" : "them");
	if (o->json)
		import_out_problems_json(stdout, &summary, source, ps->v, ps->n);
	else
		import_out_problems_text(stderr, &summary, source, ps->v, ps->n);
	return totp_reason_exit(reason);
}

/* The realm's allow_* settings bind imports as they bind registrations. */
static bool allowed(const struct context *x, const struct import_entry *e, char *why,
		    size_t whysz)
{
	if (cfg_allows(&x->cfg, &e->params))
		return true;
	/* a long path cuts the message, which is fine */
	if (snprintf(why, whysz,
		     "realm %s does not allow %s, %s, %u digits%s: see its allow_* "
		     "settings in %s",
		     x->cfg.realm, otp_type_name(e->params.type),
		     otp_alg_name(e->params.alg), e->params.digits,
		     e->params.type == OTP_TOTP ? ", this period" : "",
		     x->cfg.conf_path) < 0)
		why[0] = '\0';
	return false;
}

/* Writes (or, dry, checks) the entries as the store's owner. */
static int store_them(const struct opts *o, const struct context *x,
		      const struct import_entry *entries, size_t n,
		      struct import_before *before, struct problems *ps,
		      struct totp_err *err)
{
	struct import_problem *found = calloc(n ? n : 1, sizeof(*found));
	struct priv p;
	size_t nf = 0;
	int rc;

	if (!found)
		return totp_err_set(err, TOTP_R_NOMEM, "out of memory importing");
	if (priv_become(&x->target, &x->loc, &p, err) < 0) {
		free(found);
		return -1;
	}
	rc = import_store(&x->cfg, &x->loc, entries, n, o->dry_run, clock_now_ms(),
			  before, found, &nf, err);
	priv_restore(&p);
	for (size_t i = 0; i < nf && rc < 0; i++)
		if (add_problem(ps, found[i].line, found[i].msg, err) < 0)
			break;
	free(found);
	return rc;
}

static int answer(const struct opts *o, const struct context *x, const char *source,
		  const struct import_entry *entries, size_t n,
		  const struct import_before *before)
{
	struct import_view v = {x->cfg.realm, x->loc.where, source, entries, before, n,
				o->dry_run};

	if (o->json)
		return exit_code_written(import_out_json(stdout, &v));
	import_out_text(stdout, &v);
	return exit_code_written(0);
}

/* ---- google-authenticator ------------------------------------------------- */

/* A FILE given by root is read without following any symbolic link on
 * its path (issue 18: root must not follow a user's link to a root-only
 * folder); anyone else reads it with their own ids. */
static int read_given(const char *path, size_t max, char **buf, size_t *len,
		      struct totp_err *err)
{
	if (geteuid() == 0)
		return import_read_file_nofollow(path, max, buf, len, err);
	return import_read_file(path, max, buf, len, err);
}

/* The default file is the target's, read with the target's ids. */
static int read_ga(const struct opts *o, const struct context *x, char *path,
		   size_t pathsz, char **buf, size_t *len, struct totp_err *err)
{
	struct store_location as_target = {.per_user = true};
	struct priv p;
	int rc;

	if (o->file) {
		snprintf(path, pathsz, "%s", o->file);
		return read_given(path, IMPORT_GA_MAX, buf, len, err);
	}
	if ((size_t)snprintf(path, pathsz, "%s/.google_authenticator", x->target.home) >=
	    pathsz)
		return totp_err_set(err, TOTP_R_INVALID, "%s's home is too long a path",
				    x->target.name);
	if (priv_become(&x->target, &as_target, &p, err) < 0)
		return -1;
	rc = import_read_file(path, IMPORT_GA_MAX, buf, len, err);
	priv_restore(&p);
	return rc;
}

static int import_ga(const struct opts *o, const struct context *x)
{
	char path[CFG_PATH_MAX + 32], why[IMPORT_MSG_MAX];
	struct import_entry e;
	struct import_before before;
	struct problems ps = {0};
	struct totp_err err, e2;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	totp_err_clear(&err);
	if (read_ga(o, x, path, sizeof(path), &buf, &len, &err) < 0)
		return exit_code_failure(o, &err);
	rc = import_ga_parse(buf, len, &e, &e2);
	import_buf_free(buf, len);
	if (rc < 0) {
		totp_err_set(&err, e2.reason, "%s: %s", path, e2.msg);
		return exit_code_failure(o, &err);
	}
	snprintf(e.user, sizeof(e.user), "%s", x->target.name);
	if (!allowed(x, &e, why, sizeof(why))) {
		import_entry_wipe(&e);
		totp_err_set(&err, TOTP_R_INVALID, "%s: %s", path, why);
		return exit_code_failure(o, &err);
	}
	rc = store_them(o, x, &e, 1, &before, &ps, &err);
	if (rc < 0 && ps.n > 0)
		totp_err_set(&err, err.reason, "%s", ps.v[0].msg);
	free(ps.v);
	rc = rc < 0 ? exit_code_failure(o, &err) : answer(o, x, path, &e, 1, &before);
	import_entry_wipe(&e);
	return rc;
}

/* ---- pam_oath ------------------------------------------------------------- */

/* Only a realm with all its users in one database can take a users file. */
static int one_database(const struct context *x, struct totp_err *err)
{
	if (x->loc.per_user || strstr(x->cfg.store_path, "%u") ||
	    strstr(x->cfg.store_path, "%h"))
		return totp_err_set(
		    err, TOTP_R_INVALID,
		    "realm %s keeps one store per user (%s); import --from "
		    "oath needs a system store with every user in one "
		    "database (store = system)",
		    x->cfg.realm, x->cfg.store_path);
	return 0;
}

/* Users unknown here, or outside the realm's policy, are problems too. */
static int check_entries(const struct context *x, const struct import_oath_result *r,
			 struct problems *ps, struct totp_err *err)
{
	char why[IMPORT_MSG_MAX];
	struct account a;
	struct totp_err e2;

	for (size_t i = 0; i < r->n_problems; i++)
		if (add_problem(ps, r->problems[i].line, r->problems[i].msg, err) < 0)
			return -1;
	for (size_t i = 0; i < r->n_entries; i++) {
		const struct import_entry *e = &r->entries[i];
		if (account_lookup(e->user, &a, &e2) < 0) {
			if (snprintf(why, sizeof(why), "%s: %s", e->user, e2.msg) < 0)
				why[0] = '\0';
			if (add_problem(ps, e->line, why, err) < 0)
				return -1;
		} else if (!allowed(x, e, why, sizeof(why)) &&
			   add_problem(ps, e->line, why, err) < 0) {
			return -1;
		}
	}
	return 0;
}

static int import_oath_run(const struct opts *o, const struct context *x,
			   const char *path, struct import_oath_result *r)
{
	struct import_before *before = NULL;
	struct problems ps = {0};
	struct totp_err err;
	int rc;

	totp_err_clear(&err);
	if (check_entries(x, r, &ps, &err) < 0)
		goto failed;
	if (ps.n > 0) {
		rc = refuse(o, path, &ps, TOTP_R_INVALID);
		goto out;
	}
	if (r->n_entries == 0) {
		totp_err_set(&err, TOTP_R_INVALID, "%s holds no token to import", path);
		goto failed;
	}
	before = calloc(r->n_entries, sizeof(*before));
	if (!before) {
		totp_err_set(&err, TOTP_R_NOMEM, "out of memory importing");
		goto failed;
	}
	if (store_them(o, x, r->entries, r->n_entries, before, &ps, &err) < 0) {
		rc = ps.n > 0 ? refuse(o, path, &ps, err.reason)
			      : exit_code_failure(o, &err);
		goto out;
	}
	rc = answer(o, x, path, r->entries, r->n_entries, before);
	goto out;
failed:
	rc = exit_code_failure(o, &err);
out:
	free(before);
	free(ps.v);
	return rc;
}

static int import_oath(const struct opts *o, const struct context *x)
{
	struct import_oath_result r;
	struct totp_err err;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	totp_err_clear(&err);
	if (one_database(x, &err) < 0 ||
	    read_given(o->file, IMPORT_OATH_MAX, &buf, &len, &err) < 0)
		return exit_code_failure(o, &err);
	rc = import_oath_parse(buf, len, &r, &err);
	import_buf_free(buf, len);
	if (rc < 0)
		return exit_code_failure(o, &err);
	rc = import_oath_run(o, x, o->file, &r);
	import_oath_result_free(&r);
	return rc;
}

int import_command(const struct opts *o, const struct context *x)
{
	return o->import_from == IMPORT_FROM_OATH ? import_oath(o, x) : import_ga(o, x);
}
