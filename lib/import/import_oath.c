/* import_oath: parse a pam_oath users file (format in import_oath.h). */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chars.h"
#include "import.h"
#include "import_oath.h"

#define FIELDS_MAX 7
#define TIME_FORMAT "%Y-%m-%dT%H:%M:%SL"

struct span {
	const char *p;
	size_t n;
};

/* One line split into its fields (liboath's separators: blank, tab, CR). */
struct fields {
	struct span f[FIELDS_MAX];
	unsigned n;
};

struct type_row {
	const char *name;
	enum otp_type type;
	unsigned period;
	unsigned digits;
};

/* liboath's parse_type(), word for word. */
static const struct type_row types[] = {
    {"HOTP", OTP_HOTP, 0, 6},	     {"HOTP/E", OTP_HOTP, 0, 6},
    {"HOTP/E/6", OTP_HOTP, 0, 6},    {"HOTP/E/7", OTP_HOTP, 0, 7},
    {"HOTP/E/8", OTP_HOTP, 0, 8},    {"HOTP/T30", OTP_TOTP, 30, 6},
    {"HOTP/T30/6", OTP_TOTP, 30, 6}, {"HOTP/T30/7", OTP_TOTP, 30, 7},
    {"HOTP/T30/8", OTP_TOTP, 30, 8}, {"HOTP/T60", OTP_TOTP, 60, 6},
    {"HOTP/T60/6", OTP_TOTP, 60, 6}, {"HOTP/T60/7", OTP_TOTP, 60, 7},
    {"HOTP/T60/8", OTP_TOTP, 60, 8},
};

static bool span_is(struct span s, const char *word)
{
	return s.n == strlen(word) && memcmp(s.p, word, s.n) == 0;
}

static bool is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void split(struct span l, struct fields *fs)
{
	size_t i = 0;

	fs->n = 0;
	while (fs->n < FIELDS_MAX) {
		while (i < l.n && is_sep(l.p[i]))
			i++;
		if (i == l.n)
			return;
		fs->f[fs->n].p = l.p + i;
		while (i < l.n && !is_sep(l.p[i]))
			i++;
		fs->f[fs->n].n = (size_t)(l.p + i - fs->f[fs->n].p);
		fs->n++;
	}
}

/* ---- reports ----------------------------------------------------------- */

struct parse_state {
	struct import_oath_result *r;
	size_t cap_entries, cap_problems;
	struct totp_err *err;
};

static int report(struct parse_state *st, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int report(struct parse_state *st, unsigned line, const char *fmt, ...)
{
	struct import_oath_result *r = st->r;
	va_list ap;

	if (r->n_problems == st->cap_problems) {
		size_t cap = st->cap_problems ? 2 * st->cap_problems : 16;
		struct import_problem *p = realloc(r->problems, cap * sizeof(*p));
		if (!p)
			return totp_err_set(st->err, TOTP_R_NOMEM,
					    "out of memory reading the users file");
		r->problems = p;
		st->cap_problems = cap;
	}
	r->problems[r->n_problems].line = line;
	va_start(ap, fmt);
	vsnprintf(r->problems[r->n_problems].msg, IMPORT_MSG_MAX, fmt, ap);
	va_end(ap);
	r->n_problems++;
	return 0;
}

/* A free slot for an entry.  Grown by copy and wipe, never realloc: the
 * entries hold secrets, which must not be left behind in freed memory. */
static struct import_entry *new_entry(struct parse_state *st)
{
	struct import_oath_result *r = st->r;

	if (r->n_entries == st->cap_entries) {
		size_t cap = st->cap_entries ? 2 * st->cap_entries : 16;
		struct import_entry *e = calloc(cap, sizeof(*e));
		if (!e) {
			totp_err_set(st->err, TOTP_R_NOMEM,
				     "out of memory reading the users file");
			return NULL;
		}
		if (r->entries) {
			memcpy(e, r->entries, r->n_entries * sizeof(*e));
			explicit_bzero(r->entries, r->n_entries * sizeof(*e));
			free(r->entries);
		}
		r->entries = e;
		st->cap_entries = cap;
	}
	memset(&r->entries[r->n_entries], 0, sizeof(r->entries[0]));
	return &r->entries[r->n_entries];
}

/* ---- fields ---------------------------------------------------------------- */

static const struct type_row *find_type(struct span s)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (span_is(s, types[i].name))
			return &types[i];
	return NULL;
}

static bool parse_u64(struct span s, uint64_t *out)
{
	return import_parse_u64(s.p, s.n, UINT64_MAX, out);
}

/* liboath's TOTP "position": a signed int. */
static bool parse_position(struct span s, int64_t *out)
{
	bool neg = s.n > 0 && s.p[0] == '-';
	struct span digits = s;
	uint64_t v;

	if (s.n > 0 && (s.p[0] == '-' || s.p[0] == '+')) {
		digits.p++;
		digits.n--;
	}
	if (!parse_u64(digits, &v) || v > INT32_MAX)
		return false;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

/* The local time liboath writes (strftime of localtime, TIME_FORMAT). */
static bool parse_timestamp(struct span s, int64_t *out)
{
	char buf[32];
	struct tm tm;
	const char *end;
	time_t t;

	if (s.n == 0 || s.n >= sizeof(buf))
		return false;
	memcpy(buf, s.p, s.n);
	buf[s.n] = '\0';
	memset(&tm, 0, sizeof(tm));
	end = strptime(buf, TIME_FORMAT, &tm);
	if (!end || *end != '\0')
		return false;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t == (time_t)-1)
		return false;
	*out = (int64_t)t;
	return true;
}

/* ---- one line -------------------------------------------------------------- */

static int take_user(struct parse_state *st, unsigned line, struct span u,
		     struct import_entry *e)
{
	struct totp_err e2;

	if (u.n > USER_NAME_MAX)
		return report(st, line, "the user name is longer than %d characters",
			      USER_NAME_MAX);
	memcpy(e->user, u.p, u.n);
	e->user[u.n] = '\0';
	if (strlen(e->user) != u.n || user_name_check(e->user, &e2) < 0)
		return report(st, line, "the user name cannot be a key: %s", e2.msg);
	return 1;
}

/* The FACTOR LAST_OTP TIMESTAMP log: 1 if taken, else reported. */
static int take_log(struct parse_state *st, unsigned line, const struct fields *fs,
		    struct import_entry *e)
{
	bool used = fs->n >= 6; /* a LAST_OTP: the factor was accepted */
	uint64_t factor = 0;
	int64_t position = 0, ts = 0;

	if (fs->n >= 7 && !parse_timestamp(fs->f[6], &ts))
		return report(st, line, "the timestamp is not liboath's %s", TIME_FORMAT);
	e->last_used = ts;
	if (e->params.type == OTP_HOTP) {
		if (fs->n >= 5 && !parse_u64(fs->f[4], &factor))
			return report(st, line, "the counter is not a number");
		if (used && factor == UINT64_MAX)
			return report(st, line,
				      "the counter is at its end: enroll afresh");
		e->counter = used ? factor + 1 : factor;
		return 1;
	}
	if (fs->n >= 5 && !parse_position(fs->f[4], &position))
		return report(st, line, "the TOTP position is not a whole number");
	if (used && fs->n < 7)
		return report(st, line,
			      "a last code without its time: the step it used "
			      "cannot be told");
	if (used && ts / (int64_t)e->params.period + position > 0)
		e->counter = (uint64_t)(ts / (int64_t)e->params.period + position);
	return 1;
}

/* 1: an entry was added; 0: the line was reported; -1: out of memory. */
static int take_line(struct parse_state *st, unsigned line, const struct fields *fs)
{
	const struct type_row *t = find_type(fs->f[0]);
	struct import_entry *e;
	int rc;

	if (!t)
		return report(st, line,
			      "%.*s is not a pam_oath type (HOTP, HOTP/E[/6-8], "
			      "HOTP/T30[/6-8], HOTP/T60[/6-8])",
			      (int)(fs->f[0].n > 24 ? 24 : fs->f[0].n), fs->f[0].p);
	if (fs->n < 4)
		return report(st, line,
			      "a line needs TYPE USER PASSWORD SECRET; this one has "
			      "%u field(s)",
			      fs->n);
	if (!span_is(fs->f[2], "-") && !span_is(fs->f[2], "+"))
		return report(st, line,
			      "the password column is not '-' or '+': a static "
			      "password cannot be imported");
	e = new_entry(st);
	if (!e)
		return -1;
	e->line = line;
	e->params =
	    (struct otp_params){t->type, OTP_SHA1, t->digits, t->period ? t->period : 30};
	rc = take_user(st, line, fs->f[1], e);
	if (rc == 1 && !chars_hex_decode(fs->f[3].p, fs->f[3].n, e->secret,
					 sizeof(e->secret), &e->secret_len))
		rc = report(st, line,
			    "the secret is not an even number of hex digits, at "
			    "most %d bytes",
			    SECRET_MAX);
	if (rc == 1)
		rc = take_log(st, line, fs, e);
	if (rc != 1) {
		import_entry_wipe(e);
		return rc;
	}
	st->r->n_entries++;
	return 1;
}

/* ---- duplicates ------------------------------------------------------------ */

static int by_user_then_line(const void *a, const void *b)
{
	const struct import_entry *x = *(const struct import_entry *const *)a;
	const struct import_entry *y = *(const struct import_entry *const *)b;
	int c = strcmp(x->user, y->user);

	if (c)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int by_line(const void *a, const void *b)
{
	const struct import_problem *x = a, *y = b;

	return x->line < y->line ? -1 : x->line > y->line;
}

/* A user listed on several lines has several generators (issue 17): the
 * first line's is RECORD_DEFAULT_NAME, the k-th's "oath<k>".  Past
 * RECORD_GENERATORS_MAX lines for one user, every line of that user is
 * reported and dropped: which to leave out cannot be told. */
static int name_duplicates(struct parse_state *st)
{
	struct import_oath_result *r = st->r;
	struct import_entry **idx;
	size_t kept = 0;

	if (r->n_entries < 2)
		return 0;
	idx = calloc(r->n_entries, sizeof(*idx));
	if (!idx)
		return totp_err_set(st->err, TOTP_R_NOMEM,
				    "out of memory reading the users file");
	for (size_t i = 0; i < r->n_entries; i++)
		idx[i] = &r->entries[i];
	qsort(idx, r->n_entries, sizeof(*idx), by_user_then_line);
	for (size_t first = 0, end; first < r->n_entries; first = end) {
		for (end = first + 1;
		     end < r->n_entries && strcmp(idx[end]->user, idx[first]->user) == 0;
		     end++)
			snprintf(idx[end]->name, sizeof(idx[end]->name), "oath%zu",
				 end - first + 1);
		if (end - first <= RECORD_GENERATORS_MAX)
			continue;
		for (size_t k = first; k < end; k++) {
			if (report(st, idx[k]->line,
				   "%s is listed on %zu lines (the first on line %u): "
				   "a user has at most %d generators",
				   idx[k]->user, end - first, idx[first]->line,
				   RECORD_GENERATORS_MAX) < 0) {
				free(idx);
				return -1;
			}
		}
		for (size_t k = first; k < end; k++)
			idx[k]->line = 0; /* dropped; line numbers start at 1 */
	}
	free(idx);
	for (size_t i = 0; i < r->n_entries; i++) {
		if (r->entries[i].line == 0) {
			import_entry_wipe(&r->entries[i]);
			continue;
		}
		if (kept != i)
			r->entries[kept] = r->entries[i];
		kept++;
	}
	explicit_bzero(r->entries + kept, (r->n_entries - kept) * sizeof(r->entries[0]));
	r->n_entries = kept;
	return 0;
}

/* ---- the file -------------------------------------------------------------- */

static int parse_all(struct parse_state *st, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	unsigned line = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct span l = {p, nl ? (size_t)(nl - p) : (size_t)(end - p)};
		struct fields fs;

		line++;
		p = nl ? nl + 1 : end;
		if (memchr(l.p, '\0', l.n)) {
			if (report(st, line, "the line holds a NUL byte") < 0)
				return -1;
			continue;
		}
		split(l, &fs);
		if (fs.n == 0 || fs.f[0].p[0] == '#')
			continue;
		if (take_line(st, line, &fs) < 0)
			return -1;
	}
	return 0;
}

void import_oath_result_free(struct import_oath_result *r)
{
	if (!r)
		return;
	if (r->entries) {
		explicit_bzero(r->entries, r->n_entries * sizeof(r->entries[0]));
		free(r->entries);
	}
	free(r->problems);
	memset(r, 0, sizeof(*r));
}

int import_oath_parse(const char *buf, size_t len, struct import_oath_result *out,
		      struct totp_err *err)
{
	struct parse_state st = {out, 0, 0, err};

	memset(out, 0, sizeof(*out));
	if (len > IMPORT_OATH_MAX)
		return totp_err_set(
		    err, TOTP_R_INVALID,
		    "the users file is over %d bytes: refusing to read it",
		    IMPORT_OATH_MAX);
	if (parse_all(&st, buf, len) < 0 || name_duplicates(&st) < 0) {
		import_oath_result_free(out);
		return -1;
	}
	if (out->n_problems > 1)
		qsort(out->problems, out->n_problems, sizeof(out->problems[0]), by_line);
	return 0;
}
