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

static void put_event(struct wbuf *w, const struct record_event *e)
{
	put_u64(w, (uint64_t)e->time);
	put_printable(w, e->service);
	put_printable(w, e->rhost);
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

static int get_event(struct rbuf *r, struct record_event *e, const char *what,
		     struct totp_err *err)
{
	char label[32];

	e->time = (int64_t)get_u64(r);
	snprintf(label, sizeof(label), "%s service", what);
	if (get_printable(r, e->service, sizeof(e->service), label, err) != 0)
		return -1;
	snprintf(label, sizeof(label), "%s host", what);
	return get_printable(r, e->rhost, sizeof(e->rhost), label, err);
}

/* ---- checks shared by both directions --------------------------------- */

static bool state_ok(unsigned s)
{
	return s >= RECORD_PENDING && s <= RECORD_REMOVED;
}

static int params_check(const struct record *r, enum totp_reason reason,
			struct totp_err *err)
{
	if (!state_ok((unsigned)r->state))
		return totp_err_set(err, reason, "record has an unknown state %u",
				    (unsigned)r->state);
	if ((unsigned)r->params.type > OTP_HOTP)
		return totp_err_set(err, reason, "record has an unknown OTP type %u",
				    (unsigned)r->params.type);
	if ((unsigned)r->params.alg > OTP_SHA512)
		return totp_err_set(err, reason, "record has an unknown algorithm %u",
				    (unsigned)r->params.alg);
	if (r->params.digits < OTP_DIGITS_MIN || r->params.digits > OTP_DIGITS_MAX)
		return totp_err_set(err, reason, "record has %u digits, not %d to %d",
				    r->params.digits, OTP_DIGITS_MIN, OTP_DIGITS_MAX);
	if (r->params.period > RECORD_PERIOD_MAX ||
	    (r->params.type == OTP_TOTP && r->params.period < 1))
		return totp_err_set(err, reason, "record has a period of %u seconds",
				    r->params.period);
	if (r->window > OTP_WINDOW_MAX)
		return totp_err_set(err, reason, "record has a window of %u, over %d",
				    (unsigned)r->window, OTP_WINDOW_MAX);
	if (r->secret_len > SECRET_MAX)
		return totp_err_set(err, reason, "record's secret is %u bytes, over %d",
				    (unsigned)r->secret_len, SECRET_MAX);
	if (r->emergency_count > RECORD_EMERGENCY_MAX)
		return totp_err_set(err, reason, "record has %u emergency codes, over %d",
				    (unsigned)r->emergency_count, RECORD_EMERGENCY_MAX);
	return 0;
}

/* crypt(3)'s base-64 alphabet. */
static bool crypt64(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '.' || c == '/';
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

/* An emergency hash: used up (empty), or of the one format. */
static int hash_check(const char *h, unsigned i, enum totp_reason reason,
		      struct totp_err *err)
{
	if (h[0] == '\0' || record_hash_wellformed(h))
		return 0;
	return totp_err_set(err, reason,
			    "record's emergency hash %u is not a yescrypt hash of the "
			    "cost this build writes (%s...): make new codes with "
			    "totp-enroll",
			    i + 1, RECORD_HASH_PREFIX);
}

/* Strings the encoder is handed must end inside their buffers. */
static int strings_check(const struct record *r, struct totp_err *err)
{
	const struct record_event *ev[2] = {&r->last_success, &r->last_failure};

	for (int i = 0; i < 2; i++) {
		if (strnlen(ev[i]->service, RECORD_SERVICE_MAX) >= RECORD_SERVICE_MAX ||
		    strnlen(ev[i]->rhost, RECORD_RHOST_MAX) >= RECORD_RHOST_MAX)
			return totp_err_set(err, TOTP_R_INVALID,
					    "record's event strings are not terminated");
	}
	for (unsigned i = 0; i < r->emergency_count; i++) {
		if (strnlen(r->emergency[i], RECORD_HASH_MAX) >= RECORD_HASH_MAX)
			return totp_err_set(
			    err, TOTP_R_INVALID,
			    "record's emergency hash %u is not terminated", i);
		if (hash_check(r->emergency[i], i, TOTP_R_INVALID, err) != 0)
			return -1;
	}
	return 0;
}

/* ---- the codec ---------------------------------------------------------- */

int record_encode(const struct record *r, uint8_t *buf, size_t bufsz, size_t *len,
		  struct totp_err *err)
{
	struct wbuf w = {buf, bufsz, 0, false};

	if (params_check(r, TOTP_R_INVALID, err) != 0 || strings_check(r, err) != 0)
		return -1;
	put_bytes(&w, record_magic, sizeof(record_magic));
	put_u8(&w, RECORD_VERSION);
	put_u8(&w, (uint8_t)r->state);
	put_u8(&w, (uint8_t)r->params.type);
	put_u8(&w, (uint8_t)r->params.alg);
	put_u8(&w, (uint8_t)r->params.digits);
	put_u32(&w, r->params.period);
	put_u8(&w, r->window);
	put_u8(&w, r->secret_len);
	put_bytes(&w, r->secret, r->secret_len);
	put_u64(&w, r->counter);
	put_u32(&w, r->failures);
	put_u64(&w, (uint64_t)r->locked_until);
	put_u64(&w, r->sequence);
	put_u64(&w, (uint64_t)r->change_date_ms);
	put_u64(&w, (uint64_t)r->created);
	put_event(&w, &r->last_success);
	put_event(&w, &r->last_failure);
	put_u8(&w, r->emergency_count);
	for (unsigned i = 0; i < r->emergency_count; i++)
		put_str(&w, r->emergency[i]);
	if (w.overflow) {
		explicit_bzero(buf, bufsz);
		return totp_err_set(err, TOTP_R_INTERNAL,
				    "record does not fit in a %zu-byte buffer", bufsz);
	}
	*len = w.len;
	return 0;
}

/* Magic and version: a newer version is told apart from damage. */
static int decode_header(struct rbuf *rd, struct totp_err *err)
{
	const uint8_t *magic = get_bytes(rd, sizeof(record_magic));
	uint8_t version;

	if (magic == NULL || memcmp(magic, record_magic, sizeof(record_magic)) != 0)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record does not start with the TOTP magic");
	version = get_u8(rd);
	if (rd->bad || version == 0)
		return totp_err_set(err, TOTP_R_CORRUPT, "record has no valid version");
	if (version > RECORD_VERSION)
		return totp_err_set(err, TOTP_R_VERSION,
				    "record is version %u, this build reads up to %d: "
				    "upgrade pam_totp",
				    (unsigned)version, RECORD_VERSION);
	return 0;
}

static int decode_fixed(struct rbuf *rd, struct record *r, struct totp_err *err)
{
	const uint8_t *secret;

	r->state = (enum record_state)get_u8(rd);
	r->params.type = (enum otp_type)get_u8(rd);
	r->params.alg = (enum otp_alg)get_u8(rd);
	r->params.digits = get_u8(rd);
	r->params.period = get_u32(rd);
	r->window = get_u8(rd);
	r->secret_len = get_u8(rd);
	if (rd->bad)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record cut short in its header");
	if (params_check(r, TOTP_R_CORRUPT, err) != 0)
		return -1;
	secret = get_bytes(rd, r->secret_len);
	if (secret == NULL)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record cut short in its secret");
	memcpy(r->secret, secret, r->secret_len);
	r->counter = get_u64(rd);
	r->failures = get_u32(rd);
	r->locked_until = (int64_t)get_u64(rd);
	r->sequence = get_u64(rd);
	r->change_date_ms = (int64_t)get_u64(rd);
	r->created = (int64_t)get_u64(rd);
	if (rd->bad)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record cut short in its counters");
	return 0;
}

static int decode_emergency(struct rbuf *rd, struct record *r, struct totp_err *err)
{
	r->emergency_count = get_u8(rd);
	if (rd->bad)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record cut short before its emergency codes");
	if (r->emergency_count > RECORD_EMERGENCY_MAX)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record has %u emergency codes, over %d",
				    (unsigned)r->emergency_count, RECORD_EMERGENCY_MAX);
	for (unsigned i = 0; i < r->emergency_count; i++) {
		if (get_str(rd, r->emergency[i], RECORD_HASH_MAX, "emergency hash",
			    err) != 0 ||
		    hash_check(r->emergency[i], i, TOTP_R_CORRUPT, err) != 0)
			return -1;
	}
	return 0;
}

static int decode_all(struct rbuf *rd, struct record *r, struct totp_err *err)
{
	if (decode_header(rd, err) != 0 || decode_fixed(rd, r, err) != 0)
		return -1;
	if (get_event(rd, &r->last_success, "last success", err) != 0 ||
	    get_event(rd, &r->last_failure, "last failure", err) != 0)
		return -1;
	if (decode_emergency(rd, r, err) != 0)
		return -1;
	if (rd->pos != rd->len)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "record has %zu unexpected bytes at its end",
				    rd->len - rd->pos);
	return 0;
}

int record_decode(const uint8_t *buf, size_t len, struct record *r, struct totp_err *err)
{
	struct rbuf rd = {buf, len, 0, false};

	memset(r, 0, sizeof(*r));
	if (buf == NULL && len > 0)
		return totp_err_set(err, TOTP_R_INVALID, "no record bytes given");
	if (decode_all(&rd, r, err) != 0) {
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
