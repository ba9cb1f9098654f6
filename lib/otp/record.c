/* record: one user's generator and its versioned big-endian encoding. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "record.h"

static const uint8_t record_magic[4] = {'T', 'O', 'T', 'P'};

/* The largest TOTP period otp_params_check accepts. */
#define RECORD_PERIOD_MAX 3600U

/* ---- writing ----------------------------------------------------------- */

/* A bounded writer: once full, it only remembers that it overflowed, so the
 * callers can write every field and check once at the end. */
struct wbuf {
	uint8_t *p;
	size_t cap;
	size_t len;
	bool overflow;
};

static void put_bytes(struct wbuf *w, const void *src, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	if (n > 0)
		memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void put_u8(struct wbuf *w, uint8_t v)
{
	put_bytes(w, &v, 1);
}

/* v as n big-endian bytes (n <= 8). */
static void put_be(struct wbuf *w, uint64_t v, size_t n)
{
	uint8_t b[8];

	for (size_t i = n; i > 0; i--) {
		b[i - 1] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
	put_bytes(w, b, n);
}

static void put_u32(struct wbuf *w, uint32_t v)
{
	put_be(w, v, 4);
}

static void put_u64(struct wbuf *w, uint64_t v)
{
	put_be(w, v, 8);
}

/* A string field as u8 length + bytes; the caller has checked its length. */
static void put_str(struct wbuf *w, const char *s)
{
	size_t n = strlen(s);

	put_u8(w, (uint8_t)n);
	put_bytes(w, s, n);
}

static bool printable(uint8_t c)
{
	return c >= 0x20 && c < 0x7f;
}

/* An event's string: a byte that is not printable ASCII (a terminal
 * escape, a carriage return, UTF-8) is written as '?', so that what a
 * login hands over is stored readable (the decoder refuses the bytes). */
static void put_printable(struct wbuf *w, const char *s)
{
	char tmp[RECORD_RHOST_MAX];
	size_t n = strnlen(s, sizeof(tmp) - 1);

	for (size_t i = 0; i < n; i++)
		tmp[i] = printable((uint8_t)s[i]) ? s[i] : '?';
	tmp[n] = '\0';
	put_str(w, tmp);
}

/* ---- reading ----------------------------------------------------------- */

/* A bounded reader: a read past the end sets `bad` and yields zeros, so a
 * truncated value is caught without reading a byte beyond it. */
struct rbuf {
	const uint8_t *p;
	size_t len;
	size_t pos;
	bool bad;
};

static const uint8_t *get_bytes(struct rbuf *r, size_t n)
{
	const uint8_t *at;

	if (r->bad || n > r->len - r->pos) {
		r->bad = true;
		return NULL;
	}
	at = r->p + r->pos;
	r->pos += n;
	return at;
}

static uint8_t get_u8(struct rbuf *r)
{
	const uint8_t *b = get_bytes(r, 1);

	return b != NULL ? b[0] : 0;
}

static uint64_t get_be(struct rbuf *r, size_t n)
{
	const uint8_t *b = get_bytes(r, n);
	uint64_t v = 0;

	if (b == NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | b[i];
	return v;
}

static uint32_t get_u32(struct rbuf *r)
{
	return (uint32_t)get_be(r, 4);
}

static uint64_t get_u64(struct rbuf *r)
{
	return get_be(r, 8);
}

/* Reads a u8-length string into dst[dstsz], refusing one that would not
 * leave room for the NUL or that holds a NUL of its own. */
static int get_str(struct rbuf *r, char *dst, size_t dstsz, const char *what,
		   struct totp_err *err)
{
	uint8_t n = get_u8(r);
	const uint8_t *b;

	if (r->bad)
		return totp_err_set(err, TOTP_R_CORRUPT, "record cut short in its %s",
				    what);
	if (n >= dstsz)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record's %s is too long (%u bytes)", what,
				    (unsigned)n);
	b = get_bytes(r, n);
	if (b == NULL)
		return totp_err_set(err, TOTP_R_CORRUPT, "record cut short in its %s",
				    what);
	if (memchr(b, '\0', n) != NULL)
		return totp_err_set(err, TOTP_R_CORRUPT, "record's %s holds a NUL byte",
				    what);
	memcpy(dst, b, n);
	dst[n] = '\0';
	return 0;
}

/* An event's string: printable ASCII only (issue 18: a user's own record
 * must not carry terminal escapes to whoever reads it). */
static int get_printable(struct rbuf *r, char *dst, size_t dstsz, const char *what,
			 struct totp_err *err)
{
	if (get_str(r, dst, dstsz, what, err) != 0)
		return -1;
	for (const char *c = dst; *c != '\0'; c++)
		if (!printable((uint8_t)*c))
			return totp_err_set(err, TOTP_R_CORRUPT,
					    "record's %s holds a byte that is not "
					    "printable ASCII (0x%02x)",
					    what, (unsigned)(uint8_t)*c);
	return 0;
}

/* ---- checks shared by both directions --------------------------------- */

static bool state_ok(unsigned s)
{
	return s >= RECORD_PENDING && s <= RECORD_REMOVED;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-';
}

static bool name_ok(const char *n)
{
	size_t len = strnlen(n, RECORD_NAME_MAX);

	if (len == 0 || len >= RECORD_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char(n[i]))
			return false;
	return true;
}

static int gen_check(const struct record_gen *g, unsigned i, enum totp_reason reason,
		     struct totp_err *err)
{
	if (!state_ok((unsigned)g->state))
		return totp_err_set(err, reason, "record has an unknown state %u",
				    (unsigned)g->state);
	if ((unsigned)g->params.type > OTP_HOTP)
		return totp_err_set(err, reason, "record has an unknown OTP type %u",
				    (unsigned)g->params.type);
	if ((unsigned)g->params.alg > OTP_SHA512)
		return totp_err_set(err, reason, "record has an unknown algorithm %u",
				    (unsigned)g->params.alg);
	if (g->params.digits < OTP_DIGITS_MIN || g->params.digits > OTP_DIGITS_MAX)
		return totp_err_set(err, reason, "record has %u digits, not %d to %d",
				    g->params.digits, OTP_DIGITS_MIN, OTP_DIGITS_MAX);
	if (g->params.period > RECORD_PERIOD_MAX ||
	    (g->params.type == OTP_TOTP && g->params.period < 1))
		return totp_err_set(err, reason, "record has a period of %u seconds",
				    g->params.period);
	if (g->window > OTP_WINDOW_MAX)
		return totp_err_set(err, reason, "record has a window of %u, over %d",
				    (unsigned)g->window, OTP_WINDOW_MAX);
	if (g->secret_len > SECRET_MAX)
		return totp_err_set(err, reason, "record's secret is %u bytes, over %d",
				    (unsigned)g->secret_len, SECRET_MAX);
	if (g->drift > RECORD_DRIFT_MAX || g->drift < -RECORD_DRIFT_MAX)
		return totp_err_set(err, reason,
				    "record has a drift of %d steps, over %d",
				    (int)g->drift, RECORD_DRIFT_MAX);
	if (g->name[0] != '\0' && !name_ok(g->name))
		return totp_err_set(err, reason, "record's generator %u has a bad name",
				    i + 1);
	return 0;
}

static bool by_ok(uint8_t by, unsigned n)
{
	return by < n || by == RECORD_BY_EMERGENCY || by == RECORD_BY_NONE;
}

static int user_check(const struct record *r, unsigned n, enum totp_reason reason,
		      struct totp_err *err)
{
	if (r->emergency_count > RECORD_EMERGENCY_MAX)
		return totp_err_set(err, reason, "record has %u emergency codes, over %d",
				    (unsigned)r->emergency_count, RECORD_EMERGENCY_MAX);
	if ((r->emergency_used >> r->emergency_count) != 0)
		return totp_err_set(
		    err, reason, "record marks an emergency code used that it has not");
	if (r->grace_count > RECORD_GRACE_MAX)
		return totp_err_set(err, reason, "record has %u grace hosts, over %d",
				    (unsigned)r->grace_count, RECORD_GRACE_MAX);
	if (!by_ok(r->last_success.by, n) || !by_ok(r->last_failure.by, n))
		return totp_err_set(err, reason,
				    "record's event names a generator it has not");
	return 0;
}

/* Generators in use: gen[0..n) with a state, none after a free one. */
unsigned record_generators(const struct record *r)
{
	unsigned n = 0;

	while (n < RECORD_GENERATORS_MAX && r->gen[n].state != 0)
		n++;
	return n;
}

static const char *gen_name(const struct record_gen *g)
{
	return g->name[0] != '\0' ? g->name : RECORD_DEFAULT_NAME;
}

struct record_gen *record_generator(struct record *r, const char *name)
{
	unsigned n = record_generators(r);

	if (name == NULL || name[0] == '\0')
		name = RECORD_DEFAULT_NAME;
	for (unsigned i = 0; i < n; i++) {
		if (strncmp(gen_name(&r->gen[i]), name, RECORD_NAME_MAX) == 0)
			return &r->gen[i];
	}
	return NULL;
}

const char *record_gen_name(const struct record_gen *g)
{
	return gen_name(g);
}

int record_name_check(const char *name, struct totp_err *err)
{
	if (name == NULL || name_ok(name))
		return 0;
	return totp_err_set(err, TOTP_R_INVALID,
			    "a generator's name is 1 to %d of a-z, 0-9, '.', '_' and '-'",
			    RECORD_NAME_MAX - 1);
}

bool record_live(const struct record *r)
{
	unsigned n = record_generators(r);

	for (unsigned i = 0; i < n; i++)
		if (r->gen[i].state == RECORD_PENDING || r->gen[i].state == RECORD_READY)
			return true;
	return false;
}

int record_first_ready(const struct record *r)
{
	unsigned n = record_generators(r);

	for (unsigned i = 0; i < n; i++)
		if (r->gen[i].state == RECORD_READY)
			return (int)i;
	return -1;
}

struct record_gen *record_generator_add(struct record *r, const char *name,
					struct totp_err *err)
{
	unsigned n = record_generators(r);
	struct record_gen *g;

	if (record_name_check(name, err) < 0)
		return NULL;
	if (n >= RECORD_GENERATORS_MAX) {
		totp_err_set(err, TOTP_R_TOO_MANY,
			     "a user has at most %d generators; remove one first "
			     "(totp-enroll remove --name NAME)",
			     RECORD_GENERATORS_MAX);
		return NULL;
	}
	g = &r->gen[n];
	memset(g, 0, sizeof(*g));
	if (name != NULL && strcmp(name, RECORD_DEFAULT_NAME) != 0)
		strcpy(g->name, name); /* name_ok: shorter than RECORD_NAME_MAX */
	return g;
}

/* An event's generator after generator i went and those after it moved
 * down by one. */
static uint8_t by_after_removal(uint8_t by, unsigned i)
{
	if (by >= RECORD_GENERATORS_MAX || by < i)
		return by;
	return by == i ? RECORD_BY_NONE : (uint8_t)(by - 1);
}

void record_generator_remove(struct record *r, unsigned i)
{
	unsigned n = record_generators(r);

	if (i >= n)
		return;
	explicit_bzero(&r->gen[i], sizeof(r->gen[i]));
	for (unsigned j = i; j + 1 < n; j++)
		r->gen[j] = r->gen[j + 1];
	explicit_bzero(&r->gen[n - 1], sizeof(r->gen[n - 1]));
	r->last_success.by = by_after_removal(r->last_success.by, i);
	r->last_failure.by = by_after_removal(r->last_failure.by, i);
}

const struct record_gen *record_primary(const struct record *r)
{
	int i = record_first_ready(r);

	return &r->gen[i < 0 ? 0 : i];
}

const char *record_by_name(const struct record *r, uint8_t by)
{
	if (by == RECORD_BY_EMERGENCY)
		return "emergency";
	if (by >= record_generators(r))
		return NULL;
	return gen_name(&r->gen[by]);
}

void record_wipe_secrets(struct record *r)
{
	for (unsigned i = 0; i < RECORD_GENERATORS_MAX; i++) {
		explicit_bzero(r->gen[i].secret, sizeof(r->gen[i].secret));
		r->gen[i].secret_len = 0;
	}
}

bool record_code_used(const struct record *r, unsigned i)
{
	return i < RECORD_EMERGENCY_MAX && ((r->emergency_used >> i) & 1U) != 0;
}

/* crypt(3)'s base-64 alphabet, in yescrypt's order. */
static const char itoa64[] =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static int atoi64(char c)
{
	const char *p = c != '\0' ? strchr(itoa64, c) : NULL;

	return p != NULL ? (int)(p - itoa64) : -1;
}

static bool crypt64(char c)
{
	return atoi64(c) >= 0;
}

bool record_hash_wellformed(const char *h)
{
	size_t pre = sizeof(RECORD_HASH_PREFIX) - 1, salt_end = pre + 22;

	if (strnlen(h, RECORD_HASH_MAX) != RECORD_HASH_LEN ||
	    memcmp(h, RECORD_HASH_PREFIX, pre) != 0 || h[salt_end] != '$')
		return false;
	for (size_t i = pre; i < RECORD_HASH_LEN; i++)
		if (i != salt_end && !crypt64(h[i]))
			return false;
	return true;
}

/* yescrypt's decode64: groups of up to 4 characters, 6 bits each, least
 * significant first, into up to 3 bytes; the bits left over must be 0.
 * Decodes `chars` characters into out[outlen]; -1 when they do not make
 * exactly outlen bytes.  With `partial`, decodes only the first outlen
 * bytes and ignores the rest. */
static int decode64(uint8_t *out, size_t outlen, const char *src, size_t chars,
		    bool partial)
{
	size_t o = 0, i = 0;

	while (i < chars) {
		uint32_t value = 0, bits = 0;

		for (int k = 0; k < 4 && i < chars; k++, i++) {
			int c = atoi64(src[i]);

			if (c < 0)
				return -1;
			value |= (uint32_t)c << bits;
			bits += 6;
		}
		if (bits < 12)
			return -1;
		while (bits >= 8) {
			if (o == outlen)
				return partial ? 0 : -1;
			out[o++] = (uint8_t)(value & 0xff);
			value >>= 8;
			bits -= 8;
		}
		if (value != 0 && !partial)
			return -1;
	}
	return o == outlen ? 0 : -1;
}

/* yescrypt's encode64 of n bytes, NUL-terminated; returns the end. */
static char *encode64(char *dst, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint32_t value = 0, bits = 0;

		do {
			value |= (uint32_t)src[i++] << bits;
			bits += 8;
		} while (bits < 24 && i < n);
		for (uint32_t b = 0; b < bits; b += 6) {
			*dst++ = itoa64[value & 0x3f];
			value >>= 6;
		}
	}
	*dst = '\0';
	return dst;
}

int record_digest_from_crypt(const char *h, uint8_t digest[RECORD_DIGEST_LEN])
{
	size_t pre = sizeof(RECORD_HASH_PREFIX) - 1;

	if (!record_hash_wellformed(h))
		return -1;
	return decode64(digest, RECORD_DIGEST_LEN, h + pre + 23, 43, true);
}

int record_code_from_crypt(const char *h, struct record_code *c, struct totp_err *err)
{
	size_t pre = sizeof(RECORD_HASH_PREFIX) - 1;

	if (!record_hash_wellformed(h) ||
	    decode64(c->salt, RECORD_SALT_LEN, h + pre, 22, false) != 0 ||
	    record_digest_from_crypt(h, c->digest) != 0) {
		explicit_bzero(c, sizeof(*c));
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record's emergency hash is not a yescrypt hash of "
				    "the cost this build writes (%s...): make new codes "
				    "with totp-enroll",
				    RECORD_HASH_PREFIX);
	}
	return 0;
}

void record_code_setting(const struct record_code *c, char out[RECORD_HASH_MAX])
{
	size_t pre = sizeof(RECORD_HASH_PREFIX) - 1;

	memcpy(out, RECORD_HASH_PREFIX, pre);
	encode64(out + pre, c->salt, RECORD_SALT_LEN);
}

/* ---- version 2 ---------------------------------------------------------- */

static void put_u16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)(v & 0xff)};

	put_bytes(w, b, sizeof(b));
}

static uint16_t get_u16(struct rbuf *r)
{
	return (uint16_t)get_be(r, 2);
}

static void put_event2(struct wbuf *w, const struct record_event *e)
{
	char tmp[RECORD_RHOST_MAX];
	size_t n;

	put_u64(w, (uint64_t)e->time);
	put_u8(w, e->by);
	n = strnlen(e->service, RECORD_SERVICE_MAX - 1);
	memcpy(tmp, e->service, n);
	tmp[n] = '\0';
	put_printable(w, tmp);
	n = strnlen(e->rhost, RECORD_RHOST_MAX - 1);
	memcpy(tmp, e->rhost, n);
	tmp[n] = '\0';
	put_printable(w, tmp);
}

static int encode_checks(const struct record *r, unsigned *np, struct totp_err *err)
{
	unsigned n = record_generators(r);

	if (n == 0)
		return totp_err_set(err, TOTP_R_INVALID, "record has an unknown state 0");
	for (unsigned i = n; i < RECORD_GENERATORS_MAX; i++)
		if (r->gen[i].state != 0)
			return totp_err_set(err, TOTP_R_INVALID,
					    "record's generators are not packed");
	for (unsigned i = 0; i < n; i++) {
		if (gen_check(&r->gen[i], i, TOTP_R_INVALID, err) != 0)
			return -1;
		for (unsigned j = 0; j < i; j++)
			if (strncmp(gen_name(&r->gen[i]), gen_name(&r->gen[j]),
				    RECORD_NAME_MAX) == 0)
				return totp_err_set(err, TOTP_R_INVALID,
						    "record has two generators named "
						    "alike");
	}
	if (user_check(r, n, TOTP_R_INVALID, err) != 0)
		return -1;
	*np = n;
	return 0;
}

static void encode_imm(const struct record *r, unsigned n, struct wbuf *w)
{
	put_u8(w, (uint8_t)n);
	for (unsigned i = 0; i < n; i++) {
		const struct record_gen *g = &r->gen[i];

		put_str(w, gen_name(g));
		put_u8(w, (uint8_t)g->state);
		put_u8(w, (uint8_t)g->params.type);
		put_u8(w, (uint8_t)g->params.alg);
		put_u8(w, (uint8_t)g->params.digits);
		put_u32(w, g->params.period);
		put_u8(w, g->window);
		put_u8(w, g->secret_len);
		put_bytes(w, g->secret, g->secret_len);
		put_u64(w, (uint64_t)g->created);
	}
	put_u8(w, r->emergency_count);
	for (unsigned i = 0; i < r->emergency_count; i++) {
		put_bytes(w, r->emergency[i].salt, RECORD_SALT_LEN);
		put_bytes(w, r->emergency[i].digest, RECORD_DIGEST_LEN);
	}
}

static void encode_mut(const struct record *r, unsigned n, struct wbuf *w)
{
	put_u8(w, (uint8_t)n);
	for (unsigned i = 0; i < n; i++) {
		put_u64(w, r->gen[i].counter);
		put_u8(w, (uint8_t)r->gen[i].drift);
		put_u64(w, (uint64_t)r->gen[i].last_used);
	}
	put_u32(w, r->failures);
	put_u64(w, (uint64_t)r->locked_until);
	put_u64(w, r->sequence);
	put_u64(w, (uint64_t)r->change_date_ms);
	put_u16(w, r->emergency_used);
	put_event2(w, &r->last_success);
	put_event2(w, &r->last_failure);
	put_u8(w, r->grace_count);
	for (unsigned i = 0; i < r->grace_count; i++) {
		put_bytes(w, r->grace[i].key, RECORD_GRACE_KEY_LEN);
		put_u64(w, (uint64_t)r->grace[i].time);
	}
}

int record_encode_areas(const struct record *r, uint8_t *imm, size_t *imm_len,
			uint8_t *mut, size_t *mut_len, struct totp_err *err)
{
	struct wbuf wi = {imm, RECORD_IMMUTABLE_MAX, 0, false};
	struct wbuf wm = {mut, RECORD_MUTABLE_MAX, 0, false};
	unsigned n = 0;

	if (encode_checks(r, &n, err) != 0)
		return -1;
	encode_imm(r, n, &wi);
	encode_mut(r, n, &wm);
	if (wi.overflow || wm.overflow) {
		explicit_bzero(imm, RECORD_IMMUTABLE_MAX);
		return totp_err_set(err, TOTP_R_INTERNAL,
				    "record does not fit its areas");
	}
	*imm_len = wi.len;
	*mut_len = wm.len;
	return 0;
}

int record_encode(const struct record *r, uint8_t *buf, size_t bufsz, size_t *len,
		  struct totp_err *err)
{
	uint8_t imm[RECORD_IMMUTABLE_MAX], mut[RECORD_MUTABLE_MAX];
	size_t il, ml;
	struct wbuf w = {buf, bufsz, 0, false};

	if (record_encode_areas(r, imm, &il, mut, &ml, err) != 0)
		return -1;
	put_bytes(&w, record_magic, sizeof(record_magic));
	put_u8(&w, RECORD_VERSION);
	put_u16(&w, (uint16_t)il);
	put_bytes(&w, imm, il);
	put_u16(&w, (uint16_t)ml);
	put_bytes(&w, mut, ml);
	explicit_bzero(imm, sizeof(imm));
	if (w.overflow) {
		explicit_bzero(buf, bufsz);
		return totp_err_set(err, TOTP_R_INTERNAL,
				    "record does not fit in a %zu-byte buffer", bufsz);
	}
	*len = w.len;
	return 0;
}

static int cut(struct totp_err *err, const char *where)
{
	return totp_err_set(err, TOTP_R_CORRUPT, "record cut short in its %s", where);
}

static int decode_gen2(struct rbuf *rd, struct record_gen *g, unsigned i,
		       struct totp_err *err)
{
	const uint8_t *secret;

	if (get_str(rd, g->name, sizeof(g->name), "generator name", err) != 0)
		return -1;
	if (!name_ok(g->name))
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record's generator %u has a bad name", i + 1);
	g->state = (enum record_state)get_u8(rd);
	g->params.type = (enum otp_type)get_u8(rd);
	g->params.alg = (enum otp_alg)get_u8(rd);
	g->params.digits = get_u8(rd);
	g->params.period = get_u32(rd);
	g->window = get_u8(rd);
	g->secret_len = get_u8(rd);
	if (rd->bad)
		return cut(err, "generator");
	if (gen_check(g, i, TOTP_R_CORRUPT, err) != 0)
		return -1;
	secret = get_bytes(rd, g->secret_len);
	if (secret == NULL)
		return cut(err, "secret");
	memcpy(g->secret, secret, g->secret_len);
	g->created = (int64_t)get_u64(rd);
	if (rd->bad)
		return cut(err, "generator");
	return 0;
}

static int decode_imm(struct rbuf *rd, struct record *r, unsigned *np,
		      struct totp_err *err)
{
	unsigned n = get_u8(rd);

	if (rd->bad)
		return cut(err, "immutable area");
	if (n < 1 || n > RECORD_GENERATORS_MAX)
		return totp_err_set(err, TOTP_R_CORRUPT, "record has %u generators", n);
	for (unsigned i = 0; i < n; i++) {
		if (decode_gen2(rd, &r->gen[i], i, err) != 0)
			return -1;
		for (unsigned j = 0; j < i; j++)
			if (strcmp(gen_name(&r->gen[i]), gen_name(&r->gen[j])) == 0)
				return totp_err_set(err, TOTP_R_CORRUPT,
						    "record has two generators named "
						    "alike");
	}
	/* RECORD_DEFAULT_NAME is held as "" in memory (record.h) */
	for (unsigned i = 0; i < n; i++)
		if (strcmp(r->gen[i].name, RECORD_DEFAULT_NAME) == 0)
			memset(r->gen[i].name, 0, sizeof(r->gen[i].name));
	r->emergency_count = get_u8(rd);
	if (rd->bad)
		return cut(err, "emergency codes");
	if (r->emergency_count > RECORD_EMERGENCY_MAX)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record has %u emergency codes, over %d",
				    (unsigned)r->emergency_count, RECORD_EMERGENCY_MAX);
	for (unsigned i = 0; i < r->emergency_count; i++) {
		const uint8_t *b = get_bytes(rd, RECORD_SALT_LEN + RECORD_DIGEST_LEN);

		if (b == NULL)
			return cut(err, "emergency codes");
		memcpy(r->emergency[i].salt, b, RECORD_SALT_LEN);
		memcpy(r->emergency[i].digest, b + RECORD_SALT_LEN, RECORD_DIGEST_LEN);
	}
	if (rd->pos != rd->len)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record has %zu unexpected bytes at its end",
				    rd->len - rd->pos);
	*np = n;
	return 0;
}

static int get_event2(struct rbuf *rd, struct record_event *e, const char *what,
		      struct totp_err *err)
{
	char label[32];

	e->time = (int64_t)get_u64(rd);
	e->by = get_u8(rd);
	snprintf(label, sizeof(label), "%s service", what);
	if (get_printable(rd, e->service, sizeof(e->service), label, err) != 0)
		return -1;
	snprintf(label, sizeof(label), "%s host", what);
	return get_printable(rd, e->rhost, sizeof(e->rhost), label, err);
}

static int decode_mut(struct rbuf *rd, struct record *r, unsigned n, struct totp_err *err)
{
	unsigned mn = get_u8(rd);

	if (rd->bad)
		return cut(err, "mutable area");
	if (mn != n)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record's areas hold %u and %u generators", n, mn);
	for (unsigned i = 0; i < n; i++) {
		r->gen[i].counter = get_u64(rd);
		r->gen[i].drift = (int8_t)get_u8(rd);
		r->gen[i].last_used = (int64_t)get_u64(rd);
	}
	r->failures = get_u32(rd);
	r->locked_until = (int64_t)get_u64(rd);
	r->sequence = get_u64(rd);
	r->change_date_ms = (int64_t)get_u64(rd);
	r->emergency_used = get_u16(rd);
	if (rd->bad)
		return cut(err, "counters");
	for (unsigned i = 0; i < n; i++)
		if (gen_check(&r->gen[i], i, TOTP_R_CORRUPT, err) != 0)
			return -1;
	if (get_event2(rd, &r->last_success, "last success", err) != 0 ||
	    get_event2(rd, &r->last_failure, "last failure", err) != 0)
		return -1;
	r->grace_count = get_u8(rd);
	if (rd->bad)
		return cut(err, "grace hosts");
	if (r->grace_count > RECORD_GRACE_MAX)
		return totp_err_set(err, TOTP_R_CORRUPT, "record has %u grace hosts",
				    (unsigned)r->grace_count);
	for (unsigned i = 0; i < r->grace_count; i++) {
		const uint8_t *k = get_bytes(rd, RECORD_GRACE_KEY_LEN);

		if (k == NULL)
			return cut(err, "grace hosts");
		memcpy(r->grace[i].key, k, RECORD_GRACE_KEY_LEN);
		r->grace[i].time = (int64_t)get_u64(rd);
	}
	if (rd->bad)
		return cut(err, "grace hosts");
	if (rd->pos != rd->len)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record has %zu unexpected bytes at its end",
				    rd->len - rd->pos);
	return user_check(r, n, TOTP_R_CORRUPT, err);
}

int record_decode_areas(const uint8_t *imm, size_t imm_len, const uint8_t *mut,
			size_t mut_len, struct record *r, struct totp_err *err)
{
	struct rbuf ri = {imm, imm_len, 0, false}, rm = {mut, mut_len, 0, false};
	unsigned n = 0;

	memset(r, 0, sizeof(*r));
	if ((imm == NULL && imm_len > 0) || (mut == NULL && mut_len > 0))
		return totp_err_set(err, TOTP_R_INVALID, "no record bytes given");
	if (decode_imm(&ri, r, &n, err) != 0 || decode_mut(&rm, r, n, err) != 0) {
		record_wipe(r);
		return -1;
	}
	return 0;
}

/* ---- version 1 ---------------------------------------------------------- */

/* Magic and version: a newer version is told apart from damage. */
static int decode_header(struct rbuf *rd, unsigned *version, struct totp_err *err)
{
	const uint8_t *magic = get_bytes(rd, sizeof(record_magic));
	uint8_t v;

	if (magic == NULL || memcmp(magic, record_magic, sizeof(record_magic)) != 0)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record does not start with the TOTP magic");
	v = get_u8(rd);
	if (rd->bad || v == 0)
		return totp_err_set(err, TOTP_R_CORRUPT, "record has no valid version");
	if (v > RECORD_VERSION)
		return totp_err_set(err, TOTP_R_VERSION,
				    "record is version %u, this build reads up to %d: "
				    "upgrade pam_totp",
				    (unsigned)v, RECORD_VERSION);
	*version = v;
	return 0;
}

static int decode_fixed1(struct rbuf *rd, struct record *r, struct totp_err *err)
{
	const uint8_t *secret;

	r->gen[0].state = (enum record_state)get_u8(rd);
	r->gen[0].params.type = (enum otp_type)get_u8(rd);
	r->gen[0].params.alg = (enum otp_alg)get_u8(rd);
	r->gen[0].params.digits = get_u8(rd);
	r->gen[0].params.period = get_u32(rd);
	r->gen[0].window = get_u8(rd);
	r->gen[0].secret_len = get_u8(rd);
	if (rd->bad)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record cut short in its header");
	if (gen_check(&r->gen[0], 0, TOTP_R_CORRUPT, err) != 0)
		return -1;
	secret = get_bytes(rd, r->gen[0].secret_len);
	if (secret == NULL)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record cut short in its secret");
	memcpy(r->gen[0].secret, secret, r->gen[0].secret_len);
	r->gen[0].counter = get_u64(rd);
	r->failures = get_u32(rd);
	r->locked_until = (int64_t)get_u64(rd);
	r->sequence = get_u64(rd);
	r->change_date_ms = (int64_t)get_u64(rd);
	r->gen[0].created = (int64_t)get_u64(rd);
	if (rd->bad)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record cut short in its counters");
	return 0;
}

/* A v1 event: strings up to 255 bytes, cut to v2's bounds. */
static int get_event1(struct rbuf *rd, struct record_event *e, const char *what,
		      struct totp_err *err)
{
	char label[32], tmp[256];

	e->time = (int64_t)get_u64(rd);
	e->by = e->time != 0 ? 0 : RECORD_BY_NONE;
	snprintf(label, sizeof(label), "%s service", what);
	if (get_printable(rd, tmp, sizeof(tmp), label, err) != 0)
		return -1;
	snprintf(e->service, sizeof(e->service), "%.*s", RECORD_SERVICE_MAX - 1, tmp);
	snprintf(label, sizeof(label), "%s host", what);
	if (get_printable(rd, tmp, sizeof(tmp), label, err) != 0)
		return -1;
	snprintf(e->rhost, sizeof(e->rhost), "%.*s", RECORD_RHOST_MAX - 1, tmp);
	return 0;
}

static int decode_emergency1(struct rbuf *rd, struct record *r, struct totp_err *err)
{
	char h[RECORD_HASH_MAX];
	int rc = 0;

	r->emergency_count = get_u8(rd);
	if (rd->bad)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record cut short before its emergency codes");
	if (r->emergency_count > RECORD_EMERGENCY_MAX)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record has %u emergency codes, over %d",
				    (unsigned)r->emergency_count, RECORD_EMERGENCY_MAX);
	for (unsigned i = 0; i < r->emergency_count && rc == 0; i++) {
		rc = get_str(rd, h, sizeof(h), "emergency hash", err);
		if (rc == 0 && h[0] == '\0')
			r->emergency_used |= (uint16_t)(1U << i);
		else if (rc == 0)
			rc = record_code_from_crypt(h, &r->emergency[i], err);
	}
	explicit_bzero(h, sizeof(h));
	return rc;
}

static int decode_v1(struct rbuf *rd, struct record *r, struct totp_err *err)
{
	if (decode_fixed1(rd, r, err) != 0)
		return -1;
	if (get_event1(rd, &r->last_success, "last success", err) != 0 ||
	    get_event1(rd, &r->last_failure, "last failure", err) != 0)
		return -1;
	if (decode_emergency1(rd, r, err) != 0)
		return -1;
	if (rd->pos != rd->len)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record has %zu unexpected bytes at its end",
				    rd->len - rd->pos);
	return 0;
}

static int decode_v2(struct rbuf *rd, struct record *r, struct totp_err *err)
{
	uint16_t il, ml;
	const uint8_t *imm, *mut;

	il = get_u16(rd);
	imm = get_bytes(rd, il);
	ml = get_u16(rd);
	mut = get_bytes(rd, ml);
	if (rd->bad)
		return cut(err, "areas");
	if (rd->pos != rd->len)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record has %zu unexpected bytes at its end",
				    rd->len - rd->pos);
	return record_decode_areas(imm, il, mut, ml, r, err);
}

int record_decode(const uint8_t *buf, size_t len, struct record *r, struct totp_err *err)
{
	struct rbuf rd = {buf, len, 0, false};
	unsigned version = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	if (buf == NULL && len > 0)
		return totp_err_set(err, TOTP_R_INVALID, "no record bytes given");
	rc = decode_header(&rd, &version, err);
	if (rc == 0)
		rc = version == 1 ? decode_v1(&rd, r, err) : decode_v2(&rd, r, err);
	if (rc != 0) {
		/* a half-read record may hold part of the secret */
		record_wipe(r);
		return -1;
	}
	return 0;
}

/* ---- the rest ----------------------------------------------------------- */

void record_add_event(struct record *r, int64_t now_ms)
{
	r->sequence++;
	r->change_date_ms = now_ms;
}

void record_wipe(struct record *r)
{
	if (r != NULL)
		explicit_bzero(r, sizeof(*r));
}

const char *record_state_name(enum record_state s)
{
	switch (s) {
	case RECORD_PENDING:
		return "pending";
	case RECORD_READY:
		return "ready";
	case RECORD_REMOVED:
		return "removed";
	}
	return "unknown";
}
