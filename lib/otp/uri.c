/* uri: build and parse otpauth:// URIs (Key Uri Format, RFC 3986 escapes). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chars.h"
#include "uri.h"

#define URI_SCHEME "otpauth://"
/* Longer than anything uri_build makes: every field fully escaped. */
#define URI_MAX 4096

/* ---- building ----------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
};

static int sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (n >= b->cap - b->len)
		return -1;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int sb_str(struct sbuf *b, const char *s)
{
	return sb_put(b, s, strlen(s));
}

static int is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Appends s percent-encoded; '@' stays only in the label. */
static int sb_escaped(struct sbuf *b, const char *s, int in_label)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++) {
		char esc[3] = {'%', hex[*c >> 4], hex[*c & 15]};
		int rc;

		if (is_unreserved(*c) || (in_label && *c == '@'))
			rc = sb_put(b, (const char *)c, 1);
		else
			rc = sb_put(b, esc, 3);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Issuer and account are C strings of printable text: a control character
 * (or a missing NUL) would reach terminals and logs. */
static int field_ok(const char *s, const char *what, int required, struct totp_err *err)
{
	size_t n = strnlen(s, URI_FIELD_MAX);

	if (n == URI_FIELD_MAX)
		return totp_err_set(err, TOTP_R_INVALID, "the %s is longer than %d bytes",
				    what, URI_FIELD_MAX - 1);
	if (required && n == 0)
		return totp_err_set(err, TOTP_R_INVALID, "the %s is empty", what);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return totp_err_set(err, TOTP_R_INVALID,
					    "the %s holds a control character", what);
	}
	return 0;
}

static int build_check(const struct uri_parts *in, struct totp_err *err)
{
	if (otp_params_check(&in->params, err) < 0)
		return -1;
	if (field_ok(in->issuer, "issuer", 0, err) < 0 ||
	    field_ok(in->account, "account name", 1, err) < 0)
		return -1;
	if (in->secret_len == 0 || in->secret_len > SECRET_MAX)
		return totp_err_set(err, TOTP_R_INVALID,
				    "a secret is 1 to %d bytes, not %zu", SECRET_MAX,
				    in->secret_len);
	return 0;
}

static int build_into(struct sbuf *b, const struct uri_parts *in, const char *b32)
{
	const struct otp_params *p = &in->params;
	int has_issuer = in->issuer[0] != '\0';
	char num[32];
	int rc = 0;

	rc |= sb_str(b, URI_SCHEME);
	rc |= sb_str(b, otp_type_name(p->type));
	rc |= sb_str(b, "/");
	if (has_issuer) {
		rc |= sb_escaped(b, in->issuer, 1);
		rc |= sb_str(b, ":");
	}
	rc |= sb_escaped(b, in->account, 1);
	rc |= sb_str(b, "?algorithm=");
	rc |= sb_str(b, otp_alg_name(p->alg));
	if (p->type == OTP_HOTP) {
		snprintf(num, sizeof(num), "&counter=%llu",
			 (unsigned long long)in->counter);
		rc |= sb_str(b, num);
	}
	snprintf(num, sizeof(num), "&digits=%u", p->digits);
	rc |= sb_str(b, num);
	if (has_issuer) {
		rc |= sb_str(b, "&issuer=");
		rc |= sb_escaped(b, in->issuer, 0);
	}
	if (p->type == OTP_TOTP) {
		snprintf(num, sizeof(num), "&period=%u", p->period);
		rc |= sb_str(b, num);
	}
	rc |= sb_str(b, "&secret=");
	rc |= sb_str(b, b32);
	return rc;
}

int uri_build(const struct uri_parts *in, char **out, struct totp_err *err)
{
	char b32[SECRET_B32_MAX];
	struct sbuf b = {NULL, 0, URI_MAX};
	int rc;

	*out = NULL;
	if (build_check(in, err) < 0)
		return -1;
	if (base32_encode(in->secret, in->secret_len, b32, sizeof(b32), err) < 0)
		return -1;
	b.p = malloc(b.cap);
	if (b.p == NULL) {
		explicit_bzero(b32, sizeof(b32));
		return totp_err_set(err, TOTP_R_NOMEM, "out of memory building the URI");
	}
	rc = build_into(&b, in, b32);
	explicit_bzero(b32, sizeof(b32));
	if (rc != 0) {
		explicit_bzero(b.p, b.cap);
		free(b.p);
		return totp_err_set(err, TOTP_R_INTERNAL,
				    "the URI is longer than %d bytes", URI_MAX - 1);
	}
	*out = b.p;
	return 0;
}

/* ---- parsing ------------------------------------------------------------ */

/* A piece of the input: not NUL-terminated, never read past len. */
struct span {
	const char *s;
	size_t len;
};

/* Percent-decodes sp into out (NUL-terminated, at most outsz - 1 bytes).
 * A bad escape, %00, a control character or too long a result is -1. */
static int pct_decode(struct span sp, char *out, size_t outsz)
{
	size_t o = 0;

	for (size_t i = 0; i < sp.len; i++) {
		int c = (unsigned char)sp.s[i];

		if (c == '%') {
			int hi, lo;

			if (sp.len - i < 3)
				return -1;
			hi = chars_hex_value(sp.s[i + 1]);
			lo = chars_hex_value(sp.s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || o + 1 >= outsz)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* Splits *rest at the first `sep`: the part before goes to *head and *rest
 * keeps what follows.  Without `sep`, *head is all of *rest (returns 0). */
static int span_cut(struct span *rest, char sep, struct span *head)
{
	const char *at = memchr(rest->s, sep, rest->len);

	if (at == NULL) {
		*head = *rest;
		rest->s += rest->len;
		rest->len = 0;
		return 0;
	}
	head->s = rest->s;
	head->len = (size_t)(at - rest->s);
	rest->len -= head->len + 1;
	rest->s = at + 1;
	return 1;
}

static int span_is(struct span sp, const char *word)
{
	return sp.len == strlen(word) && strncasecmp(sp.s, word, sp.len) == 0;
}

/* A decimal number without sign, spaces or leading zeros, at most max. */
static int parse_uint(struct span sp, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (sp.len == 0 || (sp.len > 1 && sp.s[0] == '0'))
		return -1;
	for (size_t i = 0; i < sp.len; i++) {
		if (sp.s[i] < '0' || sp.s[i] > '9')
			return -1;
		uint64_t d = (uint64_t)(sp.s[i] - '0');

		if (d > max || v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

enum { P_ALG, P_COUNTER, P_DIGITS, P_ISSUER, P_PERIOD, P_SECRET, P_COUNT };
static const char *const param_names[P_COUNT] = {"algorithm", "counter", "digits",
						 "issuer",    "period",	 "secret"};

/* The query's known parameters, each seen at most once. */
struct query {
	struct span val[P_COUNT];
	int seen[P_COUNT];
};

static int bad(struct totp_err *err, const char *what)
{
	return totp_err_set(err, TOTP_R_INVALID, "not an otpauth URI: %s", what);
}

static int split_query(struct span rest, struct query *q, struct totp_err *err)
{
	struct span item, key;

	int more = 1;

	memset(q, 0, sizeof(*q));
	while (more) {
		more = span_cut(&rest, '&', &item);
		if (!span_cut(&item, '=', &key) || key.len == 0)
			return bad(err, "a parameter is not name=value");
		for (int i = 0; i < P_COUNT; i++) {
			if (!span_is(key, param_names[i]))
				continue;
			if (q->seen[i])
				return bad(err, "a parameter appears twice");
			q->seen[i] = 1;
			q->val[i] = item;
		}
		/* Unknown parameters (image=, ...) are other apps' business. */
	}
	return 0;
}

static int parse_params(const struct query *q, struct uri_parts *out,
			struct totp_err *err)
{
	struct otp_params *p = &out->params;
	char alg[8];
	uint64_t v;

	p->alg = OTP_SHA1;
	p->digits = 6;
	p->period = 30;
	if (q->seen[P_ALG] && (pct_decode(q->val[P_ALG], alg, sizeof(alg)) < 0 ||
			       otp_alg_parse(alg, &p->alg) < 0))
		return bad(err, "algorithm is not SHA1, SHA256 or SHA512");
	if (q->seen[P_DIGITS]) {
		if (parse_uint(q->val[P_DIGITS], OTP_DIGITS_MAX, &v) < 0 ||
		    v < OTP_DIGITS_MIN)
			return bad(err, "digits is not 6, 7 or 8");
		p->digits = (unsigned)v;
	}
	if (q->seen[P_PERIOD] && p->type != OTP_TOTP)
		return bad(err, "period is for TOTP only");
	if (q->seen[P_PERIOD]) {
		if (parse_uint(q->val[P_PERIOD], 3600, &v) < 0 || v < 1)
			return bad(err, "period is not 1 to 3600 seconds");
		p->period = (unsigned)v;
	}
	if (q->seen[P_COUNTER] != (p->type == OTP_HOTP))
		return bad(err, "counter is needed for HOTP, and only there");
	if (q->seen[P_COUNTER] &&
	    parse_uint(q->val[P_COUNTER], UINT64_MAX, &out->counter) < 0)
		return bad(err, "counter is not a number");
	return otp_params_check(p, err);
}

static int parse_secret(const struct query *q, struct uri_parts *out,
			struct totp_err *err)
{
	char b32[2 * SECRET_B32_MAX];
	int rc;

	if (!q->seen[P_SECRET] || q->val[P_SECRET].len == 0)
		return bad(err, "no secret");
	if (pct_decode(q->val[P_SECRET], b32, sizeof(b32)) < 0) {
		explicit_bzero(b32, sizeof(b32));
		return bad(err, "the secret is malformed or too long");
	}
	rc = base32_decode(b32, out->secret, sizeof(out->secret), &out->secret_len, err);
	explicit_bzero(b32, sizeof(b32));
	if (rc == 0 && out->secret_len == 0)
		return bad(err, "the secret is empty");
	return rc;
}

/* The label is ISSUER:ACCOUNT or ACCOUNT, split at a literal ':' (uri_build
 * escapes any ':' inside the fields).  Other tools may escape the separator
 * too: then the issuer parameter tells where the account starts. */
static int parse_label(struct span label, const struct query *q, struct uri_parts *out,
		       struct totp_err *err)
{
	char pissuer[URI_FIELD_MAX] = "";
	struct span head;
	size_t n;

	if (q->seen[P_ISSUER] &&
	    pct_decode(q->val[P_ISSUER], pissuer, sizeof(pissuer)) < 0)
		return bad(err, "the issuer parameter is malformed or too long");
	if (!span_cut(&label, ':', &head))
		label = head; /* no issuer in the label */
	else if (pct_decode(head, out->issuer, sizeof(out->issuer)) < 0)
		return bad(err, "the label's issuer is malformed or too long");
	if (pct_decode(label, out->account, sizeof(out->account)) < 0)
		return bad(err, "the account name is malformed or too long");
	n = strlen(pissuer);
	if (out->issuer[0] == '\0' && n > 0 && strncmp(out->account, pissuer, n) == 0 &&
	    out->account[n] == ':')
		memmove(out->account, out->account + n + 1,
			strlen(out->account + n + 1) + 1);
	if (out->account[0] == '\0')
		return bad(err, "no account name");
	if (q->seen[P_ISSUER] && out->issuer[0] != '\0' &&
	    strcmp(pissuer, out->issuer) != 0)
		return bad(err, "the label's issuer and the issuer parameter differ");
	if (out->issuer[0] == '\0')
		memcpy(out->issuer, pissuer, sizeof(pissuer));
	return 0;
}

/* Only printable ASCII without '#': a fragment or a raw space or byte
 * above 0x7e is not something uri_build makes or an app shows. */
static int charset_ok(const char *uri, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)uri[i];

		if (c <= 0x20 || c >= 0x7f || c == '#')
			return 0;
	}
	return 1;
}

static int parse_all(const char *uri, struct uri_parts *out, struct totp_err *err)
{
	size_t len = strnlen(uri, URI_MAX);
	struct span rest, type, label;
	struct query q;
	char tname[8];

	if (len == URI_MAX)
		return bad(err, "longer than 4095 bytes");
	if (!charset_ok(uri, len))
		return bad(err, "a space, '#' or non-ASCII byte");
	if (len < strlen(URI_SCHEME) ||
	    strncasecmp(uri, URI_SCHEME, strlen(URI_SCHEME)) != 0)
		return bad(err, "it does not start with otpauth://");
	rest.s = uri + strlen(URI_SCHEME);
	rest.len = len - strlen(URI_SCHEME);
	if (!span_cut(&rest, '/', &type) || type.len >= sizeof(tname))
		return bad(err, "no type (totp or hotp)");
	memcpy(tname, type.s, type.len);
	tname[type.len] = '\0';
	if (otp_type_parse(tname, &out->params.type) < 0)
		return bad(err, "the type is not totp or hotp");
	if (!span_cut(&rest, '?', &label))
		return bad(err, "no parameters");
	if (split_query(rest, &q, err) < 0 || parse_params(&q, out, err) < 0 ||
	    parse_label(label, &q, out, err) < 0)
		return -1;
	return parse_secret(&q, out, err);
}

int uri_parse(const char *uri, struct uri_parts *out, struct totp_err *err)
{
	memset(out, 0, sizeof(*out));
	if (uri == NULL)
		return bad(err, "no URI");
	if (parse_all(uri, out, err) < 0) {
		explicit_bzero(out, sizeof(*out));
		return -1;
	}
	return 0;
}
