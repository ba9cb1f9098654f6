/* import_out: import's answers (shapes in import_out.h). */
#include "config.h"

#include <stdio.h>

#include "json_answer.h"
#include "import_out.h"
#include "json.h"
#include "otp.h"

static const char *replaces(enum record_state s)
{
	return s == RECORD_PENDING ? "pending" : s == RECORD_REMOVED ? "removed" : "none";
}

static void entry_text(FILE *f, const struct import_entry *e,
		       const struct import_before *b)
{
	const struct otp_params *p = &e->params;

	fprintf(f, "  %-16s %s, %s, %u digits", e->user, otp_type_name(p->type),
		otp_alg_name(p->alg), p->digits);
	if (e->name[0])
		fprintf(f, ", generator %s", e->name);
	if (p->type == OTP_TOTP)
		fprintf(f, ", %u seconds", p->period);
	if (e->window)
		fprintf(f, ", window %u", e->window);
	if (p->type == OTP_HOTP)
		fprintf(f, ", next counter %llu", (unsigned long long)e->counter);
	else if (e->counter)
		fprintf(f, ", steps up to %llu already used",
			(unsigned long long)e->counter);
	if (e->n_codes)
		fprintf(f, ", %u emergency code%s", e->n_codes,
			e->n_codes == 1 ? "" : "s");
	if (b->state)
		fprintf(f, ", replaces a %s registration", replaces(b->state));
	fprintf(f, " (line %u)\n", e->line);
}

void import_out_text(FILE *f, const struct import_view *v)
{
	fprintf(f, "%s %zu generator%s from %s into realm %s (%s):\n",
		v->dry_run ? "Would import" : "Imported", v->n, v->n == 1 ? "" : "s",
		v->source, v->realm, v->where);
	for (size_t i = 0; i < v->n; i++)
		entry_text(f, &v->entries[i], &v->before[i]);
	if (v->dry_run)
		fprintf(f, "Nothing was written (--dry-run).\n");
	else
		fprintf(f,
			"Ready: the phones already enrolled keep working.  %s was not "
			"changed; retire it once pam_totp is in the PAM stack.\n",
			v->source);
}

static void entry_json(struct json *j, const struct import_entry *e,
		       const struct import_before *b)
{
	const struct otp_params *p = &e->params;

	json_object_open(j);
	json_kv_string(j, "user", e->user);
	json_kv_string(j, "name", e->name[0] ? e->name : RECORD_DEFAULT_NAME);
	json_kv_uint(j, "line", e->line);
	json_kv_string(j, "type", otp_type_name(p->type));
	json_kv_string(j, "algorithm", otp_alg_name(p->alg));
	json_kv_uint(j, "digits", p->digits);
	if (p->type == OTP_TOTP)
		json_kv_uint(j, "period", p->period);
	json_key(j, "window");
	if (e->window)
		json_uint(j, e->window);
	else
		json_null(j);
	json_key(j, p->type == OTP_HOTP ? "nextCounter" : "lastUsedStep");
	if (p->type == OTP_TOTP && e->counter == 0)
		json_null(j);
	else
		json_uint_string(j, e->counter);
	json_kv_uint(j, "emergencyCodes", e->n_codes);
	json_kv_string(j, "replaces", replaces(b->state));
	json_object_close(j);
}

int import_out_json(FILE *f, const struct import_view *v)
{
	struct json j;

	json_begin(&j, f);
	json_object_open(&j);
	json_key(&j, "details");
	json_object_open(&j);
	json_key(&j, "totalResult");
	json_uint_string(&j, v->n);
	json_kv_string(&j, "resourceOwner", v->realm);
	json_object_close(&j);
	json_key(&j, "dryRun");
	json_bool(&j, v->dry_run);
	json_kv_string(&j, "source", v->source);
	json_key(&j, "result");
	json_array_open(&j);
	for (size_t i = 0; i < v->n; i++)
		entry_json(&j, &v->entries[i], &v->before[i]);
	json_array_close(&j);
	json_object_close(&j);
	return json_end(&j);
}

void import_out_problems_text(FILE *f, const struct totp_err *summary, const char *source,
			      const struct import_problem *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "totp-enroll: %s:%u: %s\n", source, p[i].line, p[i].msg);
	fprintf(f, "totp-enroll: %s\n", summary->msg);
}

int import_out_problems_json(FILE *f, const struct totp_err *summary, const char *source,
			     const struct import_problem *p, size_t n)
{
	struct json j;
	char field[64];

	json_begin(&j, f);
	answer_error_open(&j, summary);
	json_object_open(&j);
	json_kv_string(&j, "@type", "type.googleapis.com/google.rpc.BadRequest");
	json_key(&j, "fieldViolations");
	json_array_open(&j);
	for (size_t i = 0; i < n; i++) {
		json_object_open(&j);
		snprintf(field, sizeof(field), "line %u", p[i].line);
		json_kv_string(&j, "field", field);
		json_kv_string(&j, "description", p[i].msg);
		json_object_close(&j);
	}
	json_array_close(&j);
	json_object_close(&j);
	json_array_close(&j);
	json_kv_string(&j, "source", source);
	json_object_close(&j);
	return json_end(&j);
}
