/*
 * fuzz_login: a whole login check with the code a user types.
 *
 * A real store (in a temporary folder, on /dev/shm when there is one)
 * holds one ready user; every input resets that record, then runs
 * login_check with the input as the typed code (up to its first NUL).
 * The first byte picks the generator's digits (6, 7 or 8).  A login
 * passes only with a code of the window not used before, or with a live
 * emergency code; anything else is a wrong code that changes nothing but
 * the failure count and the event; nothing ever crashes.
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

/* Which of the open steps (now, now + 1) `code` is, or 0. */
static uint64_t otp_step_of(const struct record *r, const char *code)
{
	uint64_t now = otp_step_at(&r->gen[0].params, NOW_MS / 1000);
	char want[OTP_CODE_BUF];
	struct totp_err err;
	uint64_t hit = 0;

	for (uint64_t f = now; f <= now + 1; f++) {
		FUZZ_CHECK(otp_code(r->gen[0].secret, r->gen[0].secret_len,
				    &r->gen[0].params, f, want, &err) == 0);
		if (strcmp(code, want) == 0)
			hit = f;
	}
	return hit;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct record rec, after;
	struct login_event ev = {"fuzz", "rhost", NOW_MS, false};
	struct login_result res;
	struct totp_err err;
	struct store *s;
	uint64_t step;
	char *code;

	if (size < 1)
		return 0;
	code = malloc(size);
	FUZZ_CHECK(code != NULL);
	memcpy(code, data + 1, size - 1);
	code[size - 1] = '\0';
	rec = base;
	rec.gen[0].params.digits = 6 + data[0] % 3;
	s = open_store(STORE_WRITE);
	FUZZ_CHECK(store_put(s, USER, &rec, &err) == 0);
	store_close(s);

	FUZZ_CHECK(login_check(&conf, &loc, USER, code, &ev, &res, &err) == 0);

	s = open_store(STORE_READ);
	FUZZ_CHECK(store_get(s, USER, &after, &err) == 1);
	store_close(s);
	FUZZ_CHECK(after.sequence > rec.sequence);
	FUZZ_CHECK(memcmp(after.gen[0].secret, rec.gen[0].secret,
			  sizeof(rec.gen[0].secret)) == 0);
	step = otp_step_of(&rec, code);
	if (step != 0) {
		FUZZ_CHECK(res.outcome == LOGIN_SUCCESS && !res.emergency);
		FUZZ_CHECK(after.gen[0].counter == step && after.failures == 0);
		FUZZ_CHECK(after.emergency_count == 1 && !record_code_used(&after, 0));
	} else if (strcmp(code, live_code) == 0) {
		FUZZ_CHECK(res.outcome == LOGIN_SUCCESS && res.emergency);
		FUZZ_CHECK(after.gen[0].counter == rec.gen[0].counter &&
			   record_code_used(&after, 0));
	} else {
		FUZZ_CHECK(res.outcome == LOGIN_WRONG_CODE);
		FUZZ_CHECK(after.failures == 1 &&
			   after.gen[0].counter == rec.gen[0].counter);
		FUZZ_CHECK(memcmp(&after.emergency[0], &rec.emergency[0],
				  sizeof(rec.emergency[0])) == 0 &&
			   !record_code_used(&after, 0));
	}
	record_wipe(&after);
	free(code);
	return 0;
}
