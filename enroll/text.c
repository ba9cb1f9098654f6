/* text: the human-readable answers. */
#include "config.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "emergency.h"
#include "clock.h"
#include "chars.h"
#include "text.h"

void text_error(FILE *f, const struct totp_err *e)
{
	fprintf(f, "totp-enroll: %s\n", e->msg);
}

void text_group4(const char *s, char *out, size_t outsz)
{
	size_t o = 0;

	if (outsz == 0)
		return;
	for (size_t i = 0; s[i] != '\0' && o + 2 < outsz; i++) {
		if (i > 0 && i % 4 == 0)
			out[o++] = ' ';
		out[o++] = s[i];
	}
	out[o] = '\0';
}

/* For a terminal: printable ASCII, a backslash doubled, the rest \xHH. */
static enum chars_form terminal_form(unsigned char c)
{
	if (c == '\\')
		return CHARS_BACKSLASHED;
	return c >= 0x20 && c < 0x7f ? CHARS_AS_IS : CHARS_HEX;
}

const char *text_safe(const char *s, char *out, size_t outsz)
{
	return chars_escape(s, terminal_form, out, outsz);
}

/* " for alice" when root acts on someone else, else "". */
static const char *for_whom(const struct context *x, char *buf, size_t sz)
{
	char name[TEXT_SAFE_MAX(USER_NAME_MAX)];

	if (x->target.uid == x->caller.uid)
		return "";
	snprintf(buf, sz, " for %s", text_safe(x->target.name, name, sizeof(name)));
	return buf;
}

static void params_line(FILE *f, const struct otp_params *p)
{
	if (p->type == OTP_TOTP)
		fprintf(f, "(TOTP, %s, %u digits, a new code every %u seconds)\n",
			otp_alg_name(p->alg), p->digits, p->period);
	else
		fprintf(f, "(HOTP, %s, %u digits, counter starting at 0)\n",
			otp_alg_name(p->alg), p->digits);
}

void text_register(FILE *f, const struct context *x, const struct registration *r,
		   enum qr_mode qr)
{
	char who[TEXT_SAFE_MAX(USER_NAME_MAX) + 8], grouped[TEXT_GROUPED_MAX];
	struct totp_err err;

	totp_err_clear(&err);
	fprintf(f,
		"Registered a new generator%s in realm %s; it stays pending until "
		"a code from the app confirms it.\n\n",
		for_whom(x, who, sizeof(who)), x->cfg.realm);
	if (qr_mode_resolve(qr) != QR_NONE) {
		fputs("Scan this QR code with your authenticator app:\n\n", f);
		if (qr_print(f, r->uri, qr, &err) < 0)
			text_error(stderr, &err);
		fputs("\n", f);
	}
	fprintf(f, "Or open this URI:\n  %s\n\n", r->uri);
	text_group4(r->secret_b32, grouped, sizeof(grouped));
	fprintf(f, "Or type this secret by hand, account %s, issuer %s:\n  %s\n",
		x->label, x->issuer, grouped);
	params_line(f, &r->rec.gen[r->gen % RECORD_GENERATORS_MAX].params);
	explicit_bzero(grouped, sizeof(grouped));
	if (r->n_codes == 0)
		return;
	fputs("\nEmergency codes: each works once instead of a code from the app.\n"
	      "Write them down now; they are never shown again.\n",
	      f);
	for (unsigned i = 0; i < r->n_codes; i++)
		fprintf(f, "  %s\n", r->codes[i]);
}

void text_codes(FILE *f, const struct context *x, const struct new_codes *n)
{
	char who[TEXT_SAFE_MAX(USER_NAME_MAX) + 8];

	fprintf(f,
		"New emergency codes%s in realm %s (sequence %llu).\n"
		"They replace the old ones: every earlier emergency code, used or "
		"not, no longer works.\n"
		"Each works once instead of a code from the app.  Write them down "
		"now; they are shown only once.\n",
		for_whom(x, who, sizeof(who)), x->cfg.realm,
		(unsigned long long)n->rec.sequence);
	for (unsigned i = 0; i < n->n_codes; i++)
		fprintf(f, "  %s\n", n->codes[i]);
}

void text_verify_hint(FILE *f, const struct context *x)
{
	bool other_conf = strcmp(x->cfg.conf_path, cfg_default_path()) != 0;
	bool other_realm = strcmp(x->cfg.realm, "default") != 0;

	fputs("\nThe registration is pending.  Finish it with the code the app shows:\n"
	      "  totp-enroll",
	      f);
	if (other_conf)
		fprintf(f, " --conf %s", x->cfg.conf_path);
	if (other_realm)
		fprintf(f, " --realm %s", x->cfg.realm);
	if (x->target.uid != x->caller.uid)
		fprintf(f, " --user %s", x->target.name);
	fputs(" verify CODE\n", f);
}

void text_done(FILE *f, enum command cmd, const struct context *x, const struct record *r)
{
	const char *what = cmd == CMD_VERIFY   ? "Verified: logins now ask for its codes"
			   : cmd == CMD_REMOVE ? "Removed: logins no longer ask for codes"
					       : "Unlocked: failures cleared";
	char name[TEXT_SAFE_MAX(USER_NAME_MAX)];

	/* several generators: say which, and what is left */
	if (cmd == CMD_VERIFY && x->name != NULL)
		what = "Verified: logins now take its codes too";
	if (cmd == CMD_REMOVE && record_live(r))
		what = "Removed: logins take the codes of the other generators";
	if (x->name != NULL && cmd != CMD_UNLOCK)
		fprintf(f, "[generator %s] ", x->name);
	fprintf(f, "%s (%s, realm %s, sequence %llu).\n", what,
		text_safe(x->target.name, name, sizeof(name)), x->cfg.realm,
		(unsigned long long)r->sequence);
}

/* Local time for a person; "never" for 0. */
static const char *when(int64_t seconds, char *buf, size_t sz)
{
	if (seconds == 0 || clock_format(seconds * 1000, CLOCK_LOCAL, buf, sz)[0] == '\0')
		snprintf(buf, sz, "never");
	return buf;
}

static void event_line(FILE *f, const char *label, const struct record_event *e,
		       const struct record *r)
{
	const char *by = record_by_name(r, e->by);

	char buf[64], service[TEXT_SAFE_MAX(RECORD_SERVICE_MAX)],
	    rhost[TEXT_SAFE_MAX(RECORD_RHOST_MAX)];

	fprintf(f, "%-15s %s", label, when(e->time, buf, sizeof(buf)));
	if (e->time != 0 && e->service[0] != '\0')
		fprintf(f, " (%s%s%s)", text_safe(e->service, service, sizeof(service)),
			e->rhost[0] ? " from " : "",
			text_safe(e->rhost, rhost, sizeof(rhost)));
	if (e->time != 0 && by != NULL)
		fprintf(f, " with %s", by);
	fputc('\n', f);
}

void text_generators(FILE *f, const struct record *r)
{
	unsigned n = record_generators(r);
	char buf[64];

	fprintf(f, "%-15s %u of at most %d\n", "generators", n, RECORD_GENERATORS_MAX);
	for (unsigned i = 0; i < n; i++) {
		const struct record_gen *g = &r->gen[i];

		fprintf(f, "  %-16s %s, %s, %s, %u digits", record_gen_name(g),
			record_state_name(g->state), otp_type_name(g->params.type),
			otp_alg_name(g->params.alg), g->params.digits);
		if (g->params.type == OTP_TOTP)
			fprintf(f, ", %u seconds", g->params.period);
		fprintf(f, ", last used %s\n", when(g->last_used, buf, sizeof(buf)));
	}
}

void text_status(FILE *f, const struct context *x, const struct record *r)
{
	const struct record_gen *g = record_primary(r);
	char buf[64], name[TEXT_SAFE_MAX(USER_NAME_MAX)];

	fprintf(f, "%-15s %s\n", "user", text_safe(x->target.name, name, sizeof(name)));
	fprintf(f, "%-15s %s\n", "realm", x->cfg.realm);
	fprintf(f, "%-15s %s\n", "state", record_state_name(g->state));
	fprintf(f, "%-15s %s, %s, %u digits", "generator", otp_type_name(g->params.type),
		otp_alg_name(g->params.alg), g->params.digits);
	if (g->params.type == OTP_TOTP)
		fprintf(f, ", %u seconds", g->params.period);
	fputc('\n', f);
	fprintf(f, "%-15s %s\n", "created", when(g->created, buf, sizeof(buf)));
	event_line(f, "last success", &r->last_success, r);
	event_line(f, "last failure", &r->last_failure, r);
	fprintf(f, "%-15s %u\n", "failures", (unsigned)r->failures);
	fprintf(f, "%-15s %s\n", "locked until", when(r->locked_until, buf, sizeof(buf)));
	fprintf(f, "%-15s %u\n", "emergency codes", emergency_remaining(r));
	fprintf(f, "%-15s %llu\n", "sequence", (unsigned long long)r->sequence);
	text_generators(f, r);
	if (record_first_ready(r) < 0)
		text_verify_hint(f, x);
}

void text_list(FILE *f, const char *realm, const struct list_entry *v, size_t n)
{
	char buf[64], name[TEXT_SAFE_MAX(USER_NAME_MAX)];

	fprintf(f, "%zu user%s in realm %s\n", n, n == 1 ? "" : "s", realm);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %-20s %-8s %s failures %u locked until %s\n",
			text_safe(v[i].user, name, sizeof(name)),
			record_state_name(record_primary(&v[i].rec)->state),
			otp_type_name(record_primary(&v[i].rec)->params.type),
			(unsigned)v[i].rec.failures,
			when(v[i].rec.locked_until, buf, sizeof(buf)));
}
