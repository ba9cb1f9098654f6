/* cfg: one table of keys drives the file and the pam.d arguments (cfg.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "location.h"
#include "safe_open.h"
#include "safe_read.h"

#define DEFAULT_PROMPT "Verification code: "
#define USER_STORE "%h/.config/totp/%r.db"
#define SYSTEM_STORE LOCALSTATEDIR "/lib/totp/%r.db"

/* Where a key may be given. */
#define IN_FILE 1u
#define IN_ARGS 2u

struct key;
typedef int (*setter)(struct cfg *c, const struct key *k, const char *v,
		      const char *where, struct totp_err *err);

struct key {
	const char *name;
	setter set;
	size_t off;		/* the field, for the generic setters */
	unsigned long min, max; /* the range, for the integer setters */
	unsigned in;		/* IN_FILE | IN_ARGS */
};

const char *cfg_default_path(void)
{
	return SYSCONFDIR "/security/pam_totp.conf";
}

void cfg_defaults(struct cfg *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->realm, sizeof(c->realm), "default");
	snprintf(c->conf_path, sizeof(c->conf_path), "%s", cfg_default_path());
	c->store = CFG_STORE_USER;
	snprintf(c->store_path, sizeof(c->store_path), "%s", USER_STORE);
	c->params.type = OTP_TOTP;
	c->params.alg = OTP_SHA1;
	c->params.digits = 6;
	c->params.period = 30;
	c->window = 1;
	c->max_failures = 5;
	c->lockout = 300;
	c->emergency_codes = 5;
	c->lock_timeout_ms = 2000;
	c->sync_login = false; /* why: pam_totp(8), DURABILITY */
	c->allow_algorithms = 1u << OTP_SHA1 | 1u << OTP_SHA256 | 1u << OTP_SHA512;
	c->allow_digits = 1u << 6 | 1u << 8;
	c->allow_types = 1u << OTP_TOTP | 1u << OTP_HOTP;
	c->allow_periods[0] = 30;
	c->allow_periods[1] = 60;
	snprintf(c->prompt, sizeof(c->prompt), "%s", DEFAULT_PROMPT);
	ldap_cfg_init(&c->ldap);
}

void cfg_free(struct cfg *c)
{
	ldap_cfg_free(&c->ldap);
}

/* ---- messages ----------------------------------------------------------- */

/* A value as a message may show it: cut, and non-printable bytes as '?',
 * so that a hostile value cannot forge log lines. */
static const char *shown(const char *v, char out[48])
{
	size_t i = 0;

	for (; v[i] != '\0' && i < 40; i++)
		out[i] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
	if (v[i] != '\0' && i == 40)
		out[i++] = '.', out[i++] = '.', out[i++] = '.';
	out[i] = '\0';
	return out;
}

static int bad(struct totp_err *err, const char *where, const char *key, const char *fmt,
	       ...) __attribute__((format(printf, 4, 5)));

/* TOTP_R_CONFIG, "where: key: what". */
static int bad(struct totp_err *err, const char *where, const char *key, const char *fmt,
	       ...)
{
	char what[TOTP_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return totp_err_set(err, TOTP_R_CONFIG, "%s: %s: %s", where, key, what);
}

/* ---- value parsers -------------------------------------------------------- */

/* Strict decimal: digits only, no sign, no space, no suffix. */
static int parse_ulong(const char *v, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	unsigned long n = 0;

	if (*v == '\0')
		return -1;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9')
			return -1;
		unsigned long d = (unsigned long)(*v - '0');
		if (d > max || n > (max - d) / 10)
			return -1; /* above max, and never overflows */
		n = n * 10 + d;
	}
	if (n < min)
		return -1;
	*out = n;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"yes", "true", "1"}, *const no[] = {
								   "no", "false", "0"};

	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

/* Length of the UTF-8 sequence at s if well-formed and not a control
 * character (C0, DEL, C1), else 0. */
static size_t utf8_printable(const unsigned char *s)
{
	unsigned cp;
	size_t n;

	if (s[0] < 0x20 || s[0] == 0x7f)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07u;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return n;
}

static bool text_printable(const char *v)
{
	const unsigned char *s = (const unsigned char *)v;

	while (*s != '\0') {
		size_t n = utf8_printable(s);
		if (n == 0)
			return false;
		s += n;
	}
	return true;
}

/* Calls `each` on every item of a comma- or space-separated list. */
static int list_each(const char *v, int (*each)(struct cfg *c, const char *item),
		     struct cfg *c)
{
	char item[32];
	unsigned count = 0;

	while (*v != '\0') {
		size_t n;

		v += strspn(v, ", \t");
		n = strcspn(v, ", \t");
		if (n == 0)
			break;
		if (n >= sizeof(item))
			return -1;
		memcpy(item, v, n);
		item[n] = '\0';
		if (each(c, item) != 0)
			return -1;
		count++;
		v += n;
	}
	return count == 0 ? -1 : 0;
}

/* ---- setters ---------------------------------------------------------------- */

static int set_flag(struct cfg *c, const struct key *k, const char *v, const char *where,
		    struct totp_err *err)
{
	char s[48];

	if (parse_bool(v, (bool *)((char *)c + k->off)) != 0)
		return bad(err, where, k->name,
			   "\"%s\" is not yes, no, true, false, 1 or 0", shown(v, s));
	return 0;
}

/* A whole number within the key's range, for set_uint and set_int. */
static int key_number(const struct key *k, const char *v, const char *where,
		      unsigned long *n, struct totp_err *err)
{
	char s[48];

	if (parse_ulong(v, k->min, k->max, n) != 0)
		return bad(err, where, k->name,
			   "\"%s\" is not a whole number from %lu to %lu", shown(v, s),
			   k->min, k->max);
	return 0;
}

static int set_uint(struct cfg *c, const struct key *k, const char *v, const char *where,
		    struct totp_err *err)
{
	unsigned long n = 0;

	if (key_number(k, v, where, &n, err) != 0)
		return -1;
	*(unsigned *)((char *)c + k->off) = (unsigned)n;
	return 0;
}

static int set_int(struct cfg *c, const struct key *k, const char *v, const char *where,
		   struct totp_err *err)
{
	unsigned long n = 0;

	if (key_number(k, v, where, &n, err) != 0)
		return -1;
	*(int *)((char *)c + k->off) = (int)n;
	return 0;
}

static int set_type(struct cfg *c, const struct key *k, const char *v, const char *where,
		    struct totp_err *err)
{
	char s[48];

	if (otp_type_parse(v, &c->params.type) != 0)
		return bad(err, where, k->name, "\"%s\" is not totp or hotp",
			   shown(v, s));
	return 0;
}

static int set_alg(struct cfg *c, const struct key *k, const char *v, const char *where,
		   struct totp_err *err)
{
	char s[48];

	if (otp_alg_parse(v, &c->params.alg) != 0)
		return bad(err, where, k->name, "\"%s\" is not sha1, sha256 or sha512",
			   shown(v, s));
	return 0;
}

static int text_check(const struct key *k, const char *v, size_t max, const char *where,
		      struct totp_err *err)
{
	if (*v == '\0')
		return bad(err, where, k->name, "is empty");
	if (strlen(v) >= max)
		return bad(err, where, k->name, "is longer than %zu bytes", max - 1);
	if (!text_printable(v))
		return bad(err, where, k->name,
			   "has a control character or is not valid UTF-8");
	return 0;
}

static int set_issuer(struct cfg *c, const struct key *k, const char *v,
		      const char *where, struct totp_err *err)
{
	if (text_check(k, v, sizeof(c->issuer), where, err) != 0)
		return -1;
	memcpy(c->issuer, v, strlen(v) + 1);
	return 0;
}

static int set_prompt(struct cfg *c, const struct key *k, const char *v,
		      const char *where, struct totp_err *err)
{
	if (text_check(k, v, sizeof(c->prompt), where, err) != 0)
		return -1;
	memcpy(c->prompt, v, strlen(v) + 1);
	return 0;
}

static int set_store(struct cfg *c, const struct key *k, const char *v, const char *where,
		     struct totp_err *err)
{
	const char *tmpl = v;

	if (strcmp(v, "user") == 0) {
		c->store = CFG_STORE_USER;
		tmpl = USER_STORE;
	} else if (strcmp(v, "ldap") == 0) {
		c->store = CFG_STORE_LDAP; /* the ldap_* keys say where */
		tmpl = "";
	} else if (strcmp(v, "system") == 0) {
		c->store = CFG_STORE_SYSTEM;
		tmpl = SYSTEM_STORE;
	} else {
		struct totp_err e;
		char sh[48];

		if (location_template_check(v, &e) != 0)
			return bad(err, where, k->name, "\"%s\" %s", shown(v, sh), e.msg);
		c->store = CFG_STORE_PATH;
	}
	snprintf(c->store_path, sizeof(c->store_path), "%s", tmpl);
	return 0;
}

static int add_alg(struct cfg *c, const char *item)
{
	enum otp_alg a;

	if (otp_alg_parse(item, &a) != 0)
		return -1;
	c->allow_algorithms |= 1u << a;
	return 0;
}

static int add_type(struct cfg *c, const char *item)
{
	enum otp_type t;

	if (otp_type_parse(item, &t) != 0)
		return -1;
	c->allow_types |= 1u << t;
	return 0;
}

static int add_digits(struct cfg *c, const char *item)
{
	unsigned long n = 0;

	if (parse_ulong(item, OTP_DIGITS_MIN, OTP_DIGITS_MAX, &n) != 0)
		return -1;
	c->allow_digits |= 1u << n;
	return 0;
}

#define PERIODS_MAX (sizeof(((struct cfg *)0)->allow_periods) / sizeof(unsigned) - 1)

static int add_period(struct cfg *c, const char *item)
{
	unsigned long n = 0;
	size_t i = 0;

	if (parse_ulong(item, 1, 3600, &n) != 0)
		return -1;
	for (; c->allow_periods[i] != 0; i++)
		if (c->allow_periods[i] == n)
			return 0;
	if (i >= PERIODS_MAX)
		return -1;
	c->allow_periods[i] = (unsigned)n;
	c->allow_periods[i + 1] = 0;
	return 0;
}

/* The allow_* lists replace the default set, and only if all of it parses. */
static int set_list(struct cfg *c, const struct key *k, const char *v, const char *where,
		    struct totp_err *err, int (*each)(struct cfg *, const char *),
		    const char *what)
{
	struct cfg tmp = *c;
	char s[48];

	tmp.allow_algorithms = tmp.allow_types = tmp.allow_digits = 0;
	memset(tmp.allow_periods, 0, sizeof(tmp.allow_periods));
	if (list_each(v, each, &tmp) != 0)
		return bad(err, where, k->name, "\"%s\" is not a list of %s", shown(v, s),
			   what);
	if (each == add_alg)
		c->allow_algorithms = tmp.allow_algorithms;
	else if (each == add_type)
		c->allow_types = tmp.allow_types;
	else if (each == add_digits)
		c->allow_digits = tmp.allow_digits;
	else
		memcpy(c->allow_periods, tmp.allow_periods, sizeof(c->allow_periods));
	return 0;
}

static int set_allow_alg(struct cfg *c, const struct key *k, const char *v,
			 const char *where, struct totp_err *err)
{
	return set_list(c, k, v, where, err, add_alg, "sha1, sha256, sha512");
}

static int set_allow_type(struct cfg *c, const struct key *k, const char *v,
			  const char *where, struct totp_err *err)
{
	return set_list(c, k, v, where, err, add_type, "totp, hotp");
}

static int set_allow_digits(struct cfg *c, const struct key *k, const char *v,
			    const char *where, struct totp_err *err)
{
	return set_list(c, k, v, where, err, add_digits, "6, 7, 8");
}

static int set_allow_periods(struct cfg *c, const struct key *k, const char *v,
			     const char *where, struct totp_err *err)
{
	return set_list(c, k, v, where, err, add_period,
			"at most 7 periods of 1 to 3600 seconds");
}

int cfg_realm_check(const char *realm, struct totp_err *err)
{
	size_t n = strlen(realm);
	char s[48];

	if (n == 0 || n > CFG_REALM_MAX)
		return totp_err_set(err, TOTP_R_INVALID,
				    "realm name \"%s\" must be 1 to %d characters",
				    shown(realm, s), CFG_REALM_MAX);
	for (size_t i = 0; i < n; i++) {
		char ch = realm[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9');
		if (!alnum && (i == 0 || (ch != '.' && ch != '_' && ch != '-')))
			return totp_err_set(
			    err, TOTP_R_INVALID,
			    "realm name \"%s\": use letters, digits, '.', '_' "
			    "and '-', starting with a letter or digit",
			    shown(realm, s));
	}
	return 0;
}

static int set_realm(struct cfg *c, const struct key *k, const char *v, const char *where,
		     struct totp_err *err)
{
	struct totp_err e;

	if (cfg_realm_check(v, &e) != 0)
		return bad(err, where, k->name, "%s", e.msg);
	memcpy(c->realm, v, strlen(v) + 1);
	return 0;
}

static int set_conf(struct cfg *c, const struct key *k, const char *v, const char *where,
		    struct totp_err *err)
{
	if (v[0] != '/')
		return bad(err, where, k->name, "must be an absolute path");
	if (strlen(v) >= sizeof(c->conf_path))
		return bad(err, where, k->name, "is longer than %zu bytes",
			   sizeof(c->conf_path) - 1);
	memcpy(c->conf_path, v, strlen(v) + 1);
	return 0;
}

#define F(field) offsetof(struct cfg, field)
#define BOTH (IN_FILE | IN_ARGS)

static const struct key keys[] = {
    {"issuer", set_issuer, 0, 0, 0, BOTH},
    {"store", set_store, 0, 0, 0, BOTH},
    {"type", set_type, 0, 0, 0, BOTH},
    {"algorithm", set_alg, 0, 0, 0, BOTH},
    {"digits", set_uint, F(params.digits), OTP_DIGITS_MIN, OTP_DIGITS_MAX, BOTH},
    {"period", set_uint, F(params.period), 1, 3600, BOTH},
    {"window", set_uint, F(window), 0, OTP_WINDOW_MAX, BOTH},
    {"max_failures", set_uint, F(max_failures), 0, 1000, BOTH},
    {"lockout", set_uint, F(lockout), 0, 86400, BOTH},
    {"emergency_codes", set_uint, F(emergency_codes), 0, CFG_EMERGENCY_MAX, BOTH},
    {"lock_timeout", set_int, F(lock_timeout_ms), 1, 60000, BOTH},
    {"sync_login", set_flag, F(sync_login), 0, 0, BOTH},
    {"grace_period", set_uint, F(grace_period), 0, CFG_GRACE_MAX, BOTH},
    {"allow_algorithms", set_allow_alg, 0, 0, 0, BOTH},
    {"allow_digits", set_allow_digits, 0, 0, 0, BOTH},
    {"allow_periods", set_allow_periods, 0, 0, 0, BOTH},
    {"allow_types", set_allow_type, 0, 0, 0, BOTH},
    {"nullok", set_flag, F(nullok), 0, 0, BOTH},
    {"echo_code", set_flag, F(echo_code), 0, 0, BOTH},
    {"debug", set_flag, F(debug), 0, 0, BOTH},
    {"use_first_pass", set_flag, F(use_first_pass), 0, 0, BOTH},
    {"try_first_pass", set_flag, F(try_first_pass), 0, 0, BOTH},
    {"forward_pass", set_flag, F(forward_pass), 0, 0, BOTH},
    {"prompt", set_prompt, 0, 0, 0, BOTH},
    /* which file and section are read: they cannot come from the file */
    {"realm", set_realm, 0, 0, 0, IN_ARGS},
    {"conf", set_conf, 0, 0, 0, IN_ARGS},
};

static const struct key *key_find(const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* Looks the key up and checks it may be given from here. */
static int key_lookup(const char *name, unsigned in, const char *where,
		      const struct key **out, struct totp_err *err)
{
	const struct key *k = key_find(name);
	char s[48];

	if (k == NULL)
		return totp_err_set(err, TOTP_R_CONFIG, "%s: unknown key \"%s\"", where,
				    shown(name, s));
	if ((k->in & in) == 0)
		return bad(err, where, k->name, "may only be given as a pam.d argument");
	*out = k;
	return 0;
}

static int set_from(struct cfg *c, unsigned in, const char *key, const char *value,
		    const char *where, struct totp_err *err)
{
	const struct key *k;

	if (key_lookup(key, in, where, &k, err) != 0)
		return -1;
	return k->set(c, k, value, where, err);
}

int cfg_set(struct cfg *c, const char *key, const char *value, const char *where,
	    struct totp_err *err)
{
	return set_from(c, IN_FILE | IN_ARGS, key, value, where, err);
}

/* ---- the file ------------------------------------------------------------------ */

#define LINE_MAX_BYTES 4096
#define FILE_MAX_BYTES (1024 * 1024)

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

static char *trim(char *s)
{
	size_t n;

	while (is_space(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* After a value or a section header, only blanks or a " # comment". */
static bool rest_is_comment(const char *s)
{
	while (is_space(*s))
		s++;
	return *s == '\0' || *s == '#';
}

/* The value after '=': "quoted" verbatim, else up to a '#' that follows a
 * blank, trimmed.  NULL when a quoted value is followed by anything else. */
static char *value_of(char *s)
{
	s = trim(s);
	if (*s == '"') {
		char *end = strchr(s + 1, '"');
		if (end == NULL || !rest_is_comment(end + 1))
			return NULL;
		*end = '\0';
		return s + 1;
	}
	for (char *p = s; *p != '\0'; p++) {
		if (*p == '#' && p > s && is_space(p[-1])) {
			*p = '\0';
			break;
		}
	}
	return trim(s);
}

struct section {
	char name[CFG_REALM_MAX + 1];
	unsigned line;
};

/* The parse state: sections seen (to refuse one named twice), and whether
 * the current section is the chosen realm. */
struct parse {
	struct cfg *c;
	struct cfg scratch; /* other sections are checked against this */
	const char *name;
	struct section *seen;
	size_t nseen, cap;
	bool in_section, selected, found;
};

static int section_line(struct parse *ps, char *s, unsigned line, struct totp_err *err)
{
	char where[CFG_PATH_MAX + 16], sh[48];
	char *end = strchr(s, ']');
	struct totp_err e;

	snprintf(where, sizeof(where), "%s:%u", ps->name, line);
	if (end == NULL || !rest_is_comment(end + 1))
		return totp_err_set(err, TOTP_R_CONFIG,
				    "%s: a section header is [realm], nothing else",
				    where);
	*end = '\0';
	if (cfg_realm_check(s + 1, &e) != 0)
		return totp_err_set(err, TOTP_R_CONFIG, "%s: section [%s]: %s", where,
				    shown(s + 1, sh), e.msg);
	for (size_t i = 0; i < ps->nseen; i++)
		if (strcmp(ps->seen[i].name, s + 1) == 0)
			return totp_err_set(
			    err, TOTP_R_CONFIG,
			    "%s: section [%s] is already at line %u: merge them", where,
			    s + 1, ps->seen[i].line);
	if (ps->nseen == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 8;
		struct section *n = realloc(ps->seen, cap * sizeof(*n));
		if (n == NULL)
			return totp_err_set(err, TOTP_R_NOMEM, "out of memory reading %s",
					    ps->name);
		ps->seen = n;
		ps->cap = cap;
	}
	memcpy(ps->seen[ps->nseen].name, s + 1, strlen(s + 1) + 1);
	ps->seen[ps->nseen++].line = line;
	ps->in_section = true;
	ps->selected = strcmp(s + 1, ps->c->realm) == 0;
	ps->found = ps->found || ps->selected;
	return 0;
}

/* The ldap_* keys of a `store = ldap` realm (ldap_cfg.h): in a [realm]
 * section only, since they name one realm's directory. */
static int ldap_key(const struct parse *ps, struct cfg *target, const char *key,
		    const char *value, const char *where, struct totp_err *err)
{
	struct totp_err e;

	if (!ps->in_section)
		return bad(err, where, key, "belongs in a [realm] section");
	if (ldap_cfg_set(&target->ldap, key, value, &e) != 0)
		return totp_err_set(err, e.reason, "%s: %s", where, e.msg);
	return 0;
}

static int key_line(struct parse *ps, char *s, unsigned line, struct totp_err *err)
{
	char where[CFG_PATH_MAX + 16], sh[48];
	char *eq = strchr(s, '='), *key, *value;
	struct cfg *target = (!ps->in_section || ps->selected) ? ps->c : &ps->scratch;

	snprintf(where, sizeof(where), "%s:%u", ps->name, line);
	if (eq == NULL)
		return totp_err_set(
		    err, TOTP_R_CONFIG,
		    "%s: \"%s\" is not key = value, [realm] or a # comment", where,
		    shown(s, sh));
	*eq = '\0';
	key = trim(s);
	value = value_of(eq + 1);
	if (*key == '\0')
		return totp_err_set(err, TOTP_R_CONFIG, "%s: a key is missing before '='",
				    where);
	if (value == NULL)
		return bad(err, where, shown(key, sh),
			   "a quoted value must end with '\"'");
	if (ldap_cfg_is_key(key))
		return ldap_key(ps, target, key, value, where, err);
	return set_from(target, IN_FILE, key, value, where, err);
}

static int one_line(struct parse *ps, char *s, unsigned line, struct totp_err *err)
{
	s = trim(s);
	if (*s == '\0' || *s == '#')
		return 0;
	if (*s == '[')
		return section_line(ps, s, line, err);
	return key_line(ps, s, line, err);
}

/* Cuts the next line out of text into buf; its length (without the
 * newline) must stay under LINE_MAX_BYTES and hold no NUL. */
static int next_line(const char *text, size_t len, size_t *pos, char *buf,
		     const char *name, unsigned line, struct totp_err *err)
{
	const char *start = text + *pos;
	const char *nl = memchr(start, '\n', len - *pos);
	size_t n = nl ? (size_t)(nl - start) : len - *pos;

	*pos += n + (nl ? 1 : 0);
	if (n > 0 && start[n - 1] == '\r')
		n--; /* CRLF */
	if (n >= LINE_MAX_BYTES)
		return totp_err_set(err, TOTP_R_CONFIG,
				    "%s:%u: the line is longer than %d bytes", name, line,
				    LINE_MAX_BYTES - 1);
	if (memchr(start, '\0', n) != NULL)
		return totp_err_set(err, TOTP_R_CONFIG,
				    "%s:%u: the line holds a NUL byte", name, line);
	memcpy(buf, start, n);
	buf[n] = '\0';
	return 0;
}

static int realm_defined(const struct cfg *c, bool found, const char *name,
			 struct totp_err *err)
{
	if (found || strcmp(c->realm, "default") == 0)
		return 0;
	return totp_err_set(
	    err, TOTP_R_CONFIG,
	    "%s: realm \"%s\" has no [%s] section: add one (it may be empty)", name,
	    c->realm, c->realm);
}

/* The end of a `store = ldap` realm: its keys together (ldap_cfg_check). */
static int ldap_realm_check(const struct cfg *c, const char *name, struct totp_err *err)
{
	struct totp_err e;

	if (ldap_cfg_check(&c->ldap, &e) == 0)
		return 0;
	return totp_err_set(err, e.reason, "%s: realm %s (store = ldap): %s", name,
			    c->realm, e.msg);
}

int cfg_load_buffer(struct cfg *c, const char *text, size_t len, const char *name,
		    struct totp_err *err)
{
	struct parse ps = {.c = c, .name = name};
	char *buf = malloc(LINE_MAX_BYTES);
	size_t pos = 0;
	unsigned line = 0;
	int rc = 0;

	if (buf == NULL)
		return totp_err_set(err, TOTP_R_NOMEM, "out of memory reading %s", name);
	cfg_defaults(&ps.scratch);
	while (pos < len && rc == 0) {
		rc = next_line(text, len, &pos, buf, name, ++line, err);
		if (rc == 0)
			rc = one_line(&ps, buf, line, err);
	}
	if (rc == 0)
		rc = realm_defined(c, ps.found, name, err);
	if (rc == 0 && c->store == CFG_STORE_LDAP)
		rc = ldap_realm_check(c, name, err);
	cfg_free(&ps.scratch);
	free(ps.seen);
	free(buf);
	return rc;
}

/* Who may own the file: root, and `also` when not root (0: root only);
 * `checked` false takes any regular file (tests and fuzzing). */
static struct safe_rule file_rule(bool checked, uid_t also)
{
	struct safe_rule r = {also, SAFE_OWNER_OR_ROOT | SAFE_NOT_SHARED};

	if (!checked)
		r.checks = 0;
	return r;
}

/* Reads and applies the file at c->conf_path: opened without following a
 * link at its name and checked (safe_open.h), but not walked from "/".
 * Its folders are root's (/etc/security) or, for totp-enroll --conf, the
 * caller's own; a walk would refuse only a linked folder that its owner
 * could replace anyway, and costs every login a descriptor per folder. */
static int load_file(struct cfg *c, const struct safe_rule *rule, bool missing_ok,
		     struct totp_err *err)
{
	const char *path = c->conf_path;
	int fd = safe_open_at(AT_FDCWD, path, O_RDONLY, rule, "file", path, err);
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (fd == SAFE_MISSING && missing_ok)
		return realm_defined(c, false, path, err);
	if (fd == SAFE_MISSING)
		return totp_err_errno(err, ENOENT, "opening %s", path);
	if (fd < 0)
		return -1;
	rc = safe_read_all(fd, FILE_MAX_BYTES, TOTP_R_CONFIG, path, &text, &len, err);
	close(fd);
	if (rc == 0)
		rc = cfg_load_buffer(c, text, len, path, err);
	safe_read_free(text, len);
	return rc;
}

int cfg_load_file(struct cfg *c, bool must_be_root, bool missing_ok, struct totp_err *err)
{
	struct safe_rule rule = file_rule(must_be_root, 0);

	return load_file(c, &rule, missing_ok, err);
}

/* ---- pam.d arguments --------------------------------------------------------- */

/* Splits "key=value" (a bare flag reads as "yes") and applies it; the
 * prescan checks every argument but applies only realm= and conf=. */
static int one_arg(struct cfg *c, const char *arg, int i, bool prescan,
		   struct totp_err *err)
{
	char where[32], key[32], sh[48];
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct key *k;

	snprintf(where, sizeof(where), "pam.d argument %d", i + 1);
	if (n == 0 || n >= sizeof(key))
		return totp_err_set(err, TOTP_R_CONFIG, "%s: \"%s\" is not key=value",
				    where, shown(arg, sh));
	memcpy(key, arg, n);
	key[n] = '\0';
	if (key_lookup(key, IN_ARGS, where, &k, err) != 0)
		return -1;
	if (eq == NULL && k->set != set_flag)
		return bad(err, where, k->name, "needs a value: %s=...", k->name);
	if (prescan && k->set != set_realm && k->set != set_conf)
		return 0;
	return k->set(c, k, eq ? eq + 1 : "yes", where, err);
}

static int args_walk(struct cfg *c, int argc, const char **argv, bool prescan,
		     struct totp_err *err)
{
	for (int i = 0; i < argc; i++) {
		if (argv[i] == NULL)
			return totp_err_set(err, TOTP_R_CONFIG,
					    "pam.d argument %d is missing", i + 1);
		if (one_arg(c, argv[i], i, prescan, err) != 0)
			return -1;
	}
	return 0;
}

int cfg_prescan_args(struct cfg *c, int argc, const char **argv, struct totp_err *err)
{
	return args_walk(c, argc, argv, true, err);
}

int cfg_apply_args(struct cfg *c, int argc, const char **argv, struct totp_err *err)
{
	return args_walk(c, argc, argv, false, err);
}

/* Settings that are each fine but not together. */
static int consistent(const struct cfg *c, struct totp_err *err)
{
	if (c->forward_pass && (c->use_first_pass || c->try_first_pass))
		return totp_err_set(err, TOTP_R_CONFIG,
				    "forward_pass prompts itself; drop "
				    "use_first_pass/try_first_pass");
	if (c->forward_pass && c->grace_period != 0)
		return totp_err_set(err, TOTP_R_CONFIG,
				    "forward_pass with grace_period: a login within "
				    "grace is not asked, so no password would be "
				    "passed on; drop one");
	return 0;
}

/* The realm given by the caller, else realm= among the arguments. */
static int choose_realm(struct cfg *c, const char *realm, int argc, const char **argv,
			struct totp_err *err)
{
	if (cfg_prescan_args(c, argc, argv, err) != 0)
		return -1;
	if (realm == NULL)
		return 0;
	if (cfg_realm_check(realm, err) != 0)
		return -1;
	memcpy(c->realm, realm, strlen(realm) + 1);
	return 0;
}

/* The file given by the caller (it must be there), else conf= or the
 * default (missing: the defaults). */
static int choose_file(struct cfg *c, const char *path, bool *missing_ok,
		       struct totp_err *err)
{
	*missing_ok = path == NULL;
	if (path == NULL)
		return 0;
	if (strlen(path) >= sizeof(c->conf_path))
		return totp_err_set(err, TOTP_R_INVALID, "--conf: the path is too long");
	memcpy(c->conf_path, path, strlen(path) + 1);
	return 0;
}

int cfg_load(struct cfg *c, const char *path, const char *realm, int argc,
	     const char **argv, uid_t caller, struct totp_err *err)
{
	struct safe_rule rule = file_rule(true, path != NULL ? caller : 0);
	bool missing_ok = false;

	cfg_defaults(c);
	if (choose_realm(c, realm, argc, argv, err) != 0 ||
	    choose_file(c, path, &missing_ok, err) != 0)
		return -1;
	if (load_file(c, &rule, missing_ok, err) != 0 ||
	    cfg_apply_args(c, argc, argv, err) != 0)
		return -1;
	return consistent(c, err);
}

int cfg_load_module(struct cfg *c, int argc, const char **argv, struct totp_err *err)
{
	return cfg_load(c, NULL, NULL, argc, argv, 0, err);
}

/* ---- policy ------------------------------------------------------------------ */

bool cfg_allows(const struct cfg *c, const struct otp_params *p)
{
	if ((unsigned)p->type > OTP_HOTP || (unsigned)p->alg > OTP_SHA512 ||
	    p->digits > 31)
		return false;
	if ((c->allow_types & 1u << p->type) == 0 ||
	    (c->allow_algorithms & 1u << p->alg) == 0 ||
	    (c->allow_digits & 1u << p->digits) == 0)
		return false;
	if (p->type == OTP_HOTP)
		return true;
	for (size_t i = 0; i < sizeof(c->allow_periods) / sizeof(unsigned); i++) {
		if (c->allow_periods[i] == 0)
			break;
		if (c->allow_periods[i] == p->period)
			return true;
	}
	return false;
}
