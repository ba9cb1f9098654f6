/*
 * fuzz_login: a whole login check with the code a user types.
 *
 * A real store (in a temporary folder, on /dev/shm when there is one)
 * holds one ready user; every input resets that record, then runs
 * login_check with the input as the typed code (up to its first NUL).
 * The first byte picks the generators' digits (6, 7 or 8), how many more
 * generators the user has beside "default" (0 to 3, each its own secret)
 * and which of those are still pending.  A login passes only with a code
 * of a ready generator's window not used before, moving that generator
 * (every ready one the code matches) and no other, and naming the first;
 * or with a live emergency code; anything else is a wrong code that
 * changes nothing but the failure count and the event; nothing ever
 * crashes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emergency.h"
#include "fuzz.h"
#include "login.h"
#include "otp.h"
#include "gdbm_store.h"
#include "store.h"

#define NOW_MS 1700000000123LL
#define USER "alice"

static const char live_code[] = "24681357";
static char dir[256];
static struct store_location loc;
static struct cfg conf;
static struct record base;

static void cleanup(void)
{
	char p[CFG_PATH_MAX + 16];

	snprintf(p, sizeof(p), "%s.lock", loc.where);
	unlink(p);
	unlink(loc.where);
	rmdir(dir);
}

static struct store *open_store(enum store_mode mode)
{
	struct store_opts o = {
	    .owner = geteuid(), .lock_timeout_ms = 1000, .sync = false};
	struct store *s = NULL;
	struct totp_err err;

	if (gdbm_store_open(loc.where, mode, &o, &s, &err) != 0) {
		fprintf(stderr, "fuzz_login: %s\n", err.msg);
		abort();
	}
	return s;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	struct totp_err err;

	(void)argc;
	(void)argv;
	FUZZ_CHECK(otp_init(&err) == 0);
	snprintf(dir, sizeof(dir), "%s/totp-fuzz-XXXXXX", tmp ? tmp : "/tmp");
	FUZZ_CHECK(mkdtemp(dir) != NULL);
	snprintf(loc.where, sizeof(loc.where), "%s/fuzz.db", dir);
	loc.owner = geteuid();
	loc.per_user = true;
	atexit(cleanup);
	cfg_defaults(&conf);
	conf.sync_login = false;
	conf.emergency_codes = 1; /* no dummy hashes beyond the one live code */
	/* the input picks 6, 7 or 8 digits: the realm allows all three (a
	 * record the realm does not allow is refused before its code is read) */
	conf.allow_digits |= 1u << 6 | 1u << 7 | 1u << 8;

	base.gen[0].state = RECORD_READY;
	base.gen[0].params = (struct otp_params){OTP_TOTP, OTP_SHA1, 6, 30};
	base.gen[0].secret_len = 20;
	memcpy(base.gen[0].secret, "12345678901234567890", 20);
	/* the step before now was used: only now and the next are open */
	base.gen[0].counter = otp_step_at(&base.gen[0].params, NOW_MS / 1000) - 1;
	/* the one hash format a record may hold (record.h): an 8-digit input
	 * costs a yescrypt check, tens of milliseconds */
	{
		const char *codes[] = {live_code};

		FUZZ_CHECK(emergency_set(&base, codes, 1, &err) == 0);
	}
	base.sequence = 7;
	{
		struct store *s = open_store(STORE_CREATE);

		FUZZ_CHECK(store_put(s, USER, &base, &err) == 0);
		store_close(s);
	}
	return 0;
}

/* Which of generator i's open steps (now, now + 1) `code` is, or 0. */
static uint64_t otp_step_of(const struct record *r, unsigned i, const char *code)
{
	const struct record_gen *g = &r->gen[i];
	uint64_t now = otp_step_at(&g->params, NOW_MS / 1000);
	char want[OTP_CODE_BUF];
	struct totp_err err;
	uint64_t hit = 0;

	for (uint64_t f = now; f <= now + 1; f++) {
		FUZZ_CHECK(
		    otp_code(g->secret, g->secret_len, &g->params, f, want, &err) == 0);
		if (strcmp(code, want) == 0)
			hit = f;
	}
	return hit;
}

/* rec = base with the input's digits and generators (above). */
static void shape(struct record *rec, uint8_t pick)
{
	static const char *names[] = {"spare", "token", "g4"};
	unsigned extra = (pick / 3U) % 4U, pending = (pick / 12U) & 7U;
	struct totp_err err;

	*rec = base;
	rec->gen[0].params.digits = 6 + pick % 3U;
	for (unsigned k = 0; k < extra; k++) {
		struct record_gen *g = record_generator_add(rec, names[k], &err);

		FUZZ_CHECK(g != NULL);
		g->params = rec->gen[0].params;
		g->secret_len = rec->gen[0].secret_len;
		memcpy(g->secret, rec->gen[0].secret, g->secret_len);
		g->secret[0] ^= (uint8_t)(k + 1); /* a secret of its own */
		g->counter = rec->gen[0].counter;
		g->state = (pending >> k) & 1U ? RECORD_PENDING : RECORD_READY;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct record rec, after;
	struct login_event ev = {"fuzz", "rhost", NOW_MS, false};
	struct login_result res;
	struct totp_err err;
	struct store *s;
	uint64_t step[RECORD_GENERATORS_MAX];
	unsigned n;
	int first;
	char *code;

	if (size < 1)
		return 0;
	code = malloc(size);
	FUZZ_CHECK(code != NULL);
	memcpy(code, data + 1, size - 1);
	code[size - 1] = '\0';
	shape(&rec, data[0]);
	s = open_store(STORE_WRITE);
	FUZZ_CHECK(store_put(s, USER, &rec, &err) == 0);
	store_close(s);

	FUZZ_CHECK(login_check(&conf, &loc, USER, code, &ev, &res, &err) == 0);

	s = open_store(STORE_READ);
	FUZZ_CHECK(store_get(s, USER, &after, &err) == 1);
	store_close(s);
	n = record_generators(&rec);
	FUZZ_CHECK(record_generators(&after) == n);
	FUZZ_CHECK(after.sequence > rec.sequence);
	first = -1;
	for (unsigned i = 0; i < n; i++) {
		FUZZ_CHECK(memcmp(after.gen[i].secret, rec.gen[i].secret,
				  sizeof(rec.gen[i].secret)) == 0 &&
			   after.gen[i].state == rec.gen[i].state);
		step[i] =
		    rec.gen[i].state == RECORD_READY ? otp_step_of(&rec, i, code) : 0;
		if (step[i] != 0 && first < 0)
			first = (int)i;
	}
	if (first >= 0) {
		FUZZ_CHECK(res.outcome == LOGIN_SUCCESS && !res.emergency);
		FUZZ_CHECK(strcmp(res.generator, record_gen_name(&rec.gen[first])) == 0);
		FUZZ_CHECK(after.last_success.by == (uint8_t)first &&
			   after.failures == 0);
		FUZZ_CHECK(after.emergency_count == 1 && !record_code_used(&after, 0));
		for (unsigned i = 0; i < n; i++) /* the ones it matched moved, only */
			FUZZ_CHECK(after.gen[i].counter ==
				   (step[i] != 0 ? step[i] : rec.gen[i].counter));
	} else if (strcmp(code, live_code) == 0) {
		FUZZ_CHECK(res.outcome == LOGIN_SUCCESS && res.emergency);
		FUZZ_CHECK(record_code_used(&after, 0));
	} else {
		FUZZ_CHECK(res.outcome == LOGIN_WRONG_CODE);
		FUZZ_CHECK(after.failures == 1);
		FUZZ_CHECK(memcmp(&after.emergency[0], &rec.emergency[0],
				  sizeof(rec.emergency[0])) == 0 &&
			   !record_code_used(&after, 0));
	}
	if (first < 0) /* no generator moves but by its own code */
		for (unsigned i = 0; i < n; i++)
			FUZZ_CHECK(after.gen[i].counter == rec.gen[i].counter);
	record_wipe(&after);
	free(code);
	return 0;
}
