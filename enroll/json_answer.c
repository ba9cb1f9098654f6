/* json_answer: the JSON shapes of json_answer.h, over the json writer. */
#include "config.h"

#include "json_answer.h"
#include "emergency.h"
#include "json.h"
#include "otp.h"

void answer_details_object(struct json *j, const struct record *r, const char *realm)
{
	char when[JSON_TIME_BUF];

	json_key(j, "details");
	json_object_open(j);
	json_key(j, "sequence");
	json_uint_string(j, r->sequence);
	json_kv_string(j, "changeDate", json_time_ms(r->change_date_ms, when));
	json_kv_string(j, "resourceOwner", realm);
	json_object_close(j);
}

void answer_time_or_null(struct json *j, const char *key, int64_t seconds)
{
	char when[JSON_TIME_BUF];

	json_key(j, key);
	if (seconds == 0)
		json_null(j);
	else
		json_string(j, json_time_ms(seconds * 1000, when));
}

void answer_event(struct json *j, const char *key, const struct record_event *e,
		  const struct record *r)
{
	const char *by = record_by_name(r, e->by);

	json_key(j, key);
	if (e->time == 0) {
		json_null(j);
		return;
	}
	json_object_open(j);
	answer_time_or_null(j, "time", e->time);
	json_kv_string(j, "service", e->service);
	json_kv_string(j, "rhost", e->rhost);
	json_key(j, "by");
	if (by == NULL)
		json_null(j);
	else
		json_string(j, by);
	json_object_close(j);
}

void answer_gen_kind(struct json *j, const struct record_gen *g)
{
	json_kv_string(j, "state", record_state_name(g->state));
	json_kv_string(j, "type", otp_type_name(g->params.type));
	json_kv_string(j, "algorithm", otp_alg_name(g->params.alg));
	json_kv_uint(j, "digits", g->params.digits);
	if (g->params.type == OTP_TOTP)
		json_kv_uint(j, "period", g->params.period);
}

void answer_gen_steps(struct json *j, const struct record_gen *g)
{
	json_key(j, "window");
	if (g->window)
		json_uint(j, g->window);
	else
		json_null(j);
	json_key(j, g->params.type == OTP_HOTP ? "nextCounter" : "lastUsedStep");
	if (g->params.type == OTP_TOTP && g->counter == 0)
		json_null(j);
	else
		json_uint_string(j, g->counter);
}

void answer_generators(struct json *j, const struct record *r, bool steps)
{
	unsigned n = record_generators(r);

	json_key(j, "generators");
	json_array_open(j);
	for (unsigned i = 0; i < n; i++) {
		const struct record_gen *g = &r->gen[i];

		json_object_open(j);
		json_kv_string(j, "name", record_gen_name(g));
		answer_gen_kind(j, g);
		answer_time_or_null(j, "created", g->created);
		answer_time_or_null(j, "lastUsed", g->last_used);
		if (steps) {
			answer_gen_steps(j, g);
			if (g->params.type == OTP_TOTP) {
				json_key(j, "drift");
				json_int(j, g->drift);
			}
		}
		json_object_close(j);
	}
	json_array_close(j);
}

void answer_error_open(struct json *j, const struct totp_err *e)
{
	json_object_open(j);
	json_kv_uint(j, "code", (uint64_t)totp_reason_grpc(e->reason));
	json_kv_string(j, "message", e->msg);
	json_key(j, "details");
	json_array_open(j);
	json_object_open(j);
	json_kv_string(j, "@type", "type.googleapis.com/google.rpc.ErrorInfo");
	json_kv_string(j, "reason", totp_reason_name(e->reason));
	json_kv_string(j, "domain", "pam_totp");
	json_object_close(j);
}

int answer_error(FILE *f, const struct totp_err *e)
{
	struct json j;

	json_begin(&j, f);
	answer_error_open(&j, e);
	json_array_close(&j);
	json_object_close(&j);
	return json_end(&j);
}

static void codes_array(struct json *j, const char codes[][EMERGENCY_BUF], unsigned n)
{
	json_key(j, "emergencyCodes");
	json_array_open(j);
	for (unsigned i = 0; i < n; i++)
		json_string(j, codes[i]);
	json_array_close(j);
}

int answer_register(FILE *f, const struct registration *r, const char *realm)
{
	struct json j;

	json_begin(&j, f);
	json_object_open(&j);
	answer_details_object(&j, &r->rec, realm);
	json_kv_string(&j, "uri", r->uri);
	json_kv_string(&j, "secret", r->secret_b32);
	codes_array(&j, r->codes, r->n_codes);
	json_object_close(&j);
	return json_end(&j);
}

int answer_codes(FILE *f, const struct new_codes *n, const char *realm)
{
	struct json j;

	json_begin(&j, f);
	json_object_open(&j);
	answer_details_object(&j, &n->rec, realm);
	codes_array(&j, n->codes, n->n_codes);
	json_object_close(&j);
	return json_end(&j);
}

int answer_details(FILE *f, const struct record *r, const char *realm)
{
	struct json j;

	json_begin(&j, f);
	json_object_open(&j);
	answer_details_object(&j, r, realm);
	json_object_close(&j);
	return json_end(&j);
}

/* The fields status and list share, after "details"/"user". */
/* state to created: the first ready generator's (else the first's), so a
 * user with one generator reads as before; "generators" lists them all. */
static void record_fields(struct json *j, const struct record *r)
{
	const struct record_gen *g = record_primary(r);

	answer_gen_kind(j, g);
	answer_time_or_null(j, "created", g->created);
	answer_event(j, "lastSuccess", &r->last_success, r);
	answer_event(j, "lastFailure", &r->last_failure, r);
	json_kv_uint(j, "failures", r->failures);
	answer_time_or_null(j, "lockedUntil", r->locked_until);
}

int answer_status(FILE *f, const char *user, const struct record *r, const char *realm)
{
	struct json j;

	json_begin(&j, f);
	json_object_open(&j);
	answer_details_object(&j, r, realm);
	json_kv_string(&j, "user", user);
	record_fields(&j, r);
	json_kv_uint(&j, "emergencyCodesLeft", emergency_remaining(r));
	answer_generators(&j, r, false);
	json_object_close(&j);
	return json_end(&j);
}

int answer_list(FILE *f, const char *realm, const struct list_entry *v, size_t n)
{
	struct json j;
	char when[JSON_TIME_BUF];

	json_begin(&j, f);
	json_object_open(&j);
	json_key(&j, "details");
	json_object_open(&j);
	json_key(&j, "totalResult");
	json_uint_string(&j, n);
	json_kv_string(&j, "resourceOwner", realm);
	json_object_close(&j);
	json_key(&j, "result");
	json_array_open(&j);
	for (size_t i = 0; i < n; i++) {
		json_object_open(&j);
		json_kv_string(&j, "user", v[i].user);
		json_key(&j, "sequence");
		json_uint_string(&j, v[i].rec.sequence);
		json_kv_string(&j, "changeDate",
			       json_time_ms(v[i].rec.change_date_ms, when));
		record_fields(&j, &v[i].rec);
		json_object_close(&j);
	}
	json_array_close(&j);
	json_object_close(&j);
	return json_end(&j);
}
