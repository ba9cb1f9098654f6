/* import_ga: parse a ~/.google_authenticator file (format in import_ga.h). */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "chars.h"
#include "import.h"
#include "import_ga.h"
#include "secret.h"

/* What the option lines said, before it becomes an entry. */
struct ga_opts {
	bool totp_auth;
	bool has_counter, has_step, has_window, has_reuse;
	uint64_t hotp_counter;
	uint64_t step;
	uint64_t window;
	uint64_t last_step; /* largest DISALLOW_REUSE step */
};

/* A line of the buffer, without its '\n' (and a '\r' before it). */
struct span {
	const char *p;
	size_t n;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The next blank-separated token of *s, consumed; false at the end. */
static bool next_token(struct span *s, struct span *tok)
{
	while (s->n > 0 && is_blank(*s->p)) {
		s->p++;
		s->n--;
	}
	if (s->n == 0)
		return false;
	tok->p = s->p;
	tok->n = 0;
	while (s->n > 0 && !is_blank(*s->p)) {
		s->p++;
		s->n--;
		tok->n++;
	}
	return true;
}

static bool span_is(struct span s, const char *word)
{
	return s.n == strlen(word) && memcmp(s.p, word, s.n) == 0;
}

/* Decimal digits only, no sign, no overflow past `max`. */
static bool parse_number(struct span s, uint64_t max, uint64_t *out)
{
	return import_parse_u64(s.p, s.n, max, out);
}

/* The one number an option takes, in [lo, hi]. */
static int option_number(struct span args, const char *name, uint64_t lo, uint64_t hi,
			 unsigned line, uint64_t *out, struct totp_err *err)
{
	struct span tok, extra;

	if (!next_token(&args, &tok) || !parse_number(tok, UINT64_MAX, out) ||
	    *out < lo || *out > hi || next_token(&args, &extra))
		return totp_err_set(err, TOTP_R_INVALID,
				    "line %u: %s must be one number from %llu to %llu",
				    line, name, (unsigned long long)lo,
				    (unsigned long long)hi);
	return 0;
}

/* DISALLOW_REUSE's list of used time steps: we keep the newest. */
static int reuse_list(struct span args, unsigned line, uint64_t *last,
		      struct totp_err *err)
{
	struct span tok;
	uint64_t v;

	*last = 0;
	while (next_token(&args, &tok)) {
		if (!parse_number(tok, UINT64_MAX, &v))
			return totp_err_set(
			    err, TOTP_R_INVALID,
			    "line %u: DISALLOW_REUSE lists time steps, which are "
			    "numbers; this one is not",
			    line);
		if (v > *last)
			*last = v;
	}
	return 0;
}

static int once(bool *seen, const char *name, unsigned line, struct totp_err *err)
{
	if (*seen)
		return totp_err_set(err, TOTP_R_INVALID,
				    "line %u: %s appears a second time: keep one", line,
				    name);
	*seen = true;
	return 0;
}

/* Upper-case letters, digits and '_', with at least one '_' (FILEFORMAT). */
static bool is_option_name(struct span s)
{
	bool underscore = false;

	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		if (c == '_')
			underscore = true;
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return false;
	}
	return s.n > 0 && underscore;
}

static int option_line(struct span l, unsigned line, struct ga_opts *o,
		       struct totp_err *err)
{
	struct span args = {l.p, 0}, name;

	if (l.n >= 3) {
		args.p = l.p + 2;
		args.n = l.n - 2;
	}
	if (args.n == 0 || l.p[1] != ' ' || !next_token(&args, &name) ||
	    !is_option_name(name))
		return totp_err_set(
		    err, TOTP_R_INVALID,
		    "line %u: an option line is '\" NAME' and arguments; this "
		    "one is not",
		    line);
	if (span_is(name, "TOTP_AUTH"))
		return once(&o->totp_auth, "TOTP_AUTH", line, err);
	if (span_is(name, "HOTP_COUNTER"))
		return once(&o->has_counter, "HOTP_COUNTER", line, err) < 0
			   ? -1
			   : option_number(args, "HOTP_COUNTER", 0, INT64_MAX, line,
					   &o->hotp_counter, err);
	if (span_is(name, "STEP_SIZE"))
		return once(&o->has_step, "STEP_SIZE", line, err) < 0
			   ? -1
			   : option_number(args, "STEP_SIZE", 1, 60, line, &o->step, err);
	if (span_is(name, "WINDOW_SIZE"))
		return once(&o->has_window, "WINDOW_SIZE", line, err) < 0
			   ? -1
			   : option_number(args, "WINDOW_SIZE", 1, 100, line, &o->window,
					   err);
	if (span_is(name, "DISALLOW_REUSE"))
		return once(&o->has_reuse, "DISALLOW_REUSE", line, err) < 0
			   ? -1
			   : reuse_list(args, line, &o->last_step, err);
	return 0; /* RATE_LIMIT, TIME_SKEW and the like: GA's own state */
}

/* Eight digits, not starting with 0, as the module accepts them. */
static bool is_scratch_code(struct span l)
{
	return l.n == EMERGENCY_DIGITS && l.p[0] != '0' && chars_all_digits(l.p, l.n);
}

static int scratch_line(struct span l, unsigned line, struct import_entry *out,
			struct totp_err *err)
{
	if (!is_scratch_code(l))
		return totp_err_set(
		    err, TOTP_R_INVALID,
		    "line %u: neither an option ('\" NAME') nor an 8-digit "
		    "scratch code",
		    line);
	if (out->n_codes >= IMPORT_CODES_MAX)
		return totp_err_set(
		    err, TOTP_R_INVALID,
		    "line %u: more than %d scratch codes; a record keeps %d", line,
		    IMPORT_CODES_MAX, IMPORT_CODES_MAX);
	memcpy(out->codes[out->n_codes], l.p, EMERGENCY_DIGITS);
	out->codes[out->n_codes][EMERGENCY_DIGITS] = '\0';
	out->n_codes++;
	return 0;
}

static int secret_line(struct span l, struct import_entry *out, struct totp_err *err)
{
	char b32[2 * SECRET_B32_MAX];
	struct totp_err e2;
	int rc;

	if (l.n == 0 || l.n >= sizeof(b32))
		return totp_err_set(
		    err, TOTP_R_INVALID,
		    "line 1: the first line must be the base32 secret, of at "
		    "most %zu characters",
		    sizeof(b32) - 1);
	memcpy(b32, l.p, l.n);
	b32[l.n] = '\0';
	rc = base32_decode(b32, out->secret, sizeof(out->secret), &out->secret_len, &e2);
	explicit_bzero(b32, sizeof(b32));
	if (rc < 0 || out->secret_len == 0)
		return totp_err_set(err, TOTP_R_INVALID,
				    "line 1: the secret is not valid base32 (%s)",
				    rc < 0 ? e2.msg : "empty");
	return 0;
}

static unsigned map_window(uint64_t w, enum otp_type type)
{
	uint64_t ours = type == OTP_TOTP ? (w - 1) / 2 : w - 1;

	return (unsigned)(ours > OTP_WINDOW_MAX ? OTP_WINDOW_MAX : ours);
}

/* The options decide the type, counter, period and window. */
static int apply_opts(const struct ga_opts *o, struct import_entry *out,
		      struct totp_err *err)
{
	out->params.alg = OTP_SHA1;
	out->params.digits = 6;
	out->params.period = (unsigned)(o->has_step ? o->step : IMPORT_GA_STEP_DEFAULT);
	if (o->has_counter && o->hotp_counter >= 1) {
		out->params.type = OTP_HOTP;
		out->counter = o->hotp_counter;
	} else if (o->totp_auth) {
		out->params.type = OTP_TOTP;
		out->counter = o->has_reuse ? o->last_step : 0;
	} else {
		return totp_err_set(
		    err, TOTP_R_INVALID,
		    "neither TOTP_AUTH nor a HOTP_COUNTER of 1 or more: this "
		    "file only ever accepted scratch codes; enroll afresh");
	}
	out->window = map_window(o->has_window ? o->window : IMPORT_GA_WINDOW_DEFAULT,
				 out->params.type);
	return 0;
}

/* Cuts the next line off *rest; a final line without '\n' counts. */
static bool next_line(struct span *rest, struct span *l)
{
	const char *nl;

	if (rest->n == 0)
		return false;
	nl = memchr(rest->p, '\n', rest->n);
	l->p = rest->p;
	l->n = nl ? (size_t)(nl - rest->p) : rest->n;
	rest->p += l->n + (nl ? 1 : 0);
	rest->n -= l->n + (nl ? 1 : 0);
	if (l->n > 0 && l->p[l->n - 1] == '\r')
		l->n--;
	return true;
}

static int parse_lines(struct span rest, struct import_entry *out, struct ga_opts *o,
		       struct totp_err *err)
{
	struct span l;
	unsigned line = 0;

	while (next_line(&rest, &l)) {
		int rc;
		line++;
		if (line == 1)
			rc = secret_line(l, out, err);
		else if (l.n == 0)
			rc = 0;
		else if (l.p[0] == '"')
			rc = option_line(l, line, o, err);
		else
			rc = scratch_line(l, line, out, err);
		if (rc < 0)
			return -1;
	}
	if (line == 0)
		return totp_err_set(err, TOTP_R_INVALID,
				    "the file is empty: it holds no secret");
	return 0;
}

int import_ga_parse(const char *buf, size_t len, struct import_entry *out,
		    struct totp_err *err)
{
	struct ga_opts o;
	struct span all = {buf, len};

	memset(out, 0, sizeof(*out));
	memset(&o, 0, sizeof(o));
	if (len > IMPORT_GA_MAX)
		return totp_err_set(
		    err, TOTP_R_INVALID,
		    "the file is over %d bytes: not a google-authenticator file",
		    IMPORT_GA_MAX);
	if (len > 0 && memchr(buf, '\0', len))
		return totp_err_set(
		    err, TOTP_R_INVALID,
		    "the file holds a NUL byte: not a google-authenticator file");
	out->line = 1;
	if (parse_lines(all, out, &o, err) < 0 || apply_opts(&o, out, err) < 0) {
		import_entry_wipe(out);
		return -1;
	}
	return 0;
}
