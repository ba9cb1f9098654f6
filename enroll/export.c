/* export: one record without its secret (shapes in export.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json_answer.h"
#include "emergency.h"
#include "clock.h"
#include "export.h"
#include "json.h"
#include "lifecycle.h"
#include "priv.h"
#include "exit_code.h"
#include "text.h"

static void record_json(struct json *j, const struct record *r)
{
	const struct record_gen *g = record_primary(r);

	json_key(j, "record");
	json_object_open(j);
	json_kv_uint(j, "version", RECORD_VERSION);
	answer_gen_kind(j, g);
	answer_gen_steps(j, g);
	json_kv_uint(j, "failures", r->failures);
	answer_time_or_null(j, "lockedUntil", r->locked_until);
	answer_time_or_null(j, "created", g->created);
	answer_event(j, "lastSuccess", &r->last_success, r);
	answer_event(j, "lastFailure", &r->last_failure, r);
	json_key(j, "emergencyCodes");
	json_object_open(j);
	json_kv_uint(j, "total", r->emergency_count);
	json_kv_uint(j, "left", emergency_remaining(r));
	json_object_close(j);
	answer_generators(j, r, true);
	json_object_close(j);
}

static int export_json(FILE *f, const char *user, const struct record *r,
		       const char *realm)
{
	struct json j;

	json_begin(&j, f);
	json_object_open(&j);
	answer_details_object(&j, r, realm);
	json_kv_string(&j, "user", user);
	record_json(&j, r);
	json_object_close(&j);
	return json_end(&j);
}

/* UTC, so that an audit reads the same wherever it is run. */
static const char *utc(int64_t seconds, char *buf, size_t sz)
{
	if (seconds == 0 || clock_format(seconds * 1000, CLOCK_UTC, buf, sz)[0] == '\0')
		snprintf(buf, sz, "never");
	return buf;
}

static void event_text(FILE *f, const char *key, const struct record_event *e,
		       const struct record *r)
{
	char buf[64], safe[TEXT_SAFE_MAX(RECORD_RHOST_MAX)];
	const char *by = record_by_name(r, e->by);

	fprintf(f, "%-16s %s", key, utc(e->time, buf, sizeof(buf)));
	if (e->time && e->service[0])
		fprintf(f, " service=%s", text_safe(e->service, safe, sizeof(safe)));
	if (e->time && e->rhost[0])
		fprintf(f, " rhost=%s", text_safe(e->rhost, safe, sizeof(safe)));
	if (e->time && by != NULL)
		fprintf(f, " by=%s", by);
	fputc('\n', f);
}

static void export_text(FILE *f, const char *user, const struct record *r,
			const char *realm)
{
	const struct record_gen *g = record_primary(r);
	char buf[64], name[TEXT_SAFE_MAX(USER_NAME_MAX)];

	fprintf(f, "%-16s %s\n%-16s %s\n", "user", text_safe(user, name, sizeof(name)),
		"realm", realm);
	fprintf(f, "%-16s %d\n", "version", RECORD_VERSION);
	fprintf(f, "%-16s %s\n", "state", record_state_name(g->state));
	fprintf(f, "%-16s %s\n%-16s %s\n%-16s %u\n", "type",
		otp_type_name(g->params.type), "algorithm", otp_alg_name(g->params.alg),
		"digits", g->params.digits);
	if (g->params.type == OTP_TOTP)
		fprintf(f, "%-16s %u\n", "period", g->params.period);
	if (g->window)
		fprintf(f, "%-16s %u\n", "window", g->window);
	else
		fprintf(f, "%-16s realm's\n", "window");
	fprintf(f, "%-16s %llu\n",
		g->params.type == OTP_HOTP ? "next counter" : "last used step",
		(unsigned long long)g->counter);
	fprintf(f, "%-16s %u\n", "failures", (unsigned)r->failures);
	fprintf(f, "%-16s %s\n", "locked until", utc(r->locked_until, buf, sizeof(buf)));
	fprintf(f, "%-16s %s\n", "created", utc(g->created, buf, sizeof(buf)));
	event_text(f, "last success", &r->last_success, r);
	event_text(f, "last failure", &r->last_failure, r);
	fprintf(f, "%-16s %u of %u left\n", "emergency codes", emergency_remaining(r),
		(unsigned)r->emergency_count);
	fprintf(f, "%-16s %llu\n", "sequence", (unsigned long long)r->sequence);
	fprintf(f, "%-16s %s\n", "change date",
		utc(r->change_date_ms / 1000, buf, sizeof(buf)));
	text_generators(f, r);
}

int export_command(const struct opts *o, const struct context *x)
{
	struct record r;
	struct totp_err err;
	struct priv p;
	int rc;

	totp_err_clear(&err);
	if (priv_become(&x->target, &x->loc, &p, &err) < 0)
		return exit_code_failure(o, &err);
	rc = lifecycle_status(&x->cfg, &x->loc, x->target.name, &r, &err);
	priv_restore(&p);
	if (rc < 0)
		return exit_code_failure(o, &err);
	/* lifecycle_status wiped the secrets; the hashes are counted, never shown */
	record_wipe_secrets(&r);
	if (o->json)
		rc = export_json(stdout, x->target.name, &r, x->cfg.realm);
	else
		export_text(stdout, x->target.name, &r, x->cfg.realm), rc = 0;
	record_wipe(&r);
	return exit_code_written(rc);
}
