/* Makes tests/data/store-v1-*.db with the store and record code of the
 * commit it is built from (the format of the release before the record
 * changes of issues 15 and 17). */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "emergency.h"
#include "otp.h"
#include "record.h"
#include "store.h"

#define T0 1700000000LL /* 2023-11-14T22:13:20Z */

static const char *const codes[] = {"12345678", "87654321", "11223344"};

static void base(struct record *r, enum otp_type t, enum otp_alg a, unsigned d,
		 unsigned p)
{
	memset(r, 0, sizeof(*r));
	r->state = RECORD_READY;
	r->params = (struct otp_params){t, a, d, p};
	r->secret_len = 20;
	memcpy(r->secret, "12345678901234567890", 20);
	r->sequence = 2;
	r->created = T0 - 86400;
	r->change_date_ms = (T0 - 86400) * 1000 + 123;
}

static void put(struct store *s, const char *u, struct record *r)
{
	struct totp_err e;
	if (store_put(s, u, r, &e) != 0) {
		fprintf(stderr, "%s: %s\n", u, e.msg);
		_exit(1);
	}
}

int main(int argc, char **argv)
{
	struct store_opts o = {.owner = geteuid(), .lock_timeout_ms = 1000, .sync = true};
	struct store *s = NULL;
	struct totp_err e;
	struct record r;

	if (argc != 3 || otp_init(&e) != 0)
		return 2;
	/* system store: five users in every state */
	if (store_open_locked(argv[1], STORE_CREATE, &o, &s, &e) != 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	base(&r, OTP_TOTP, OTP_SHA1, 6, 30);
	r.counter = (uint64_t)(T0 / 30) - 2;
	r.sequence = 9;
	r.last_success = (struct record_event){T0 - 60, "sshd", "192.0.2.7"};
	r.last_failure = (struct record_event){T0 - 120, "sudo", ""};
	r.failures = 1;
	if (emergency_set(&r, codes, 3, &e) != 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	explicit_bzero(r.emergency[0], RECORD_HASH_MAX); /* the first one used */
	put(s, "alice", &r);
	base(&r, OTP_HOTP, OTP_SHA1, 6, 30);
	r.counter = 5;
	r.window = 3;
	put(s, "bob", &r);
	base(&r, OTP_TOTP, OTP_SHA1, 6, 30);
	r.state = RECORD_PENDING;
	r.sequence = 1;
	put(s, "carol", &r);
	base(&r, OTP_TOTP, OTP_SHA1, 6, 30);
	r.state = RECORD_REMOVED;
	r.secret_len = 0;
	memset(r.secret, 0, sizeof(r.secret));
	r.sequence = 4;
	put(s, "dave", &r);
	base(&r, OTP_TOTP, OTP_SHA256, 8, 60);
	memcpy(r.secret, "12345678901234567890123456789012", 32);
	r.secret_len = 32;
	r.counter = (uint64_t)(T0 / 60) - 1;
	r.failures = 5;
	r.locked_until = T0 + 300;
	r.sequence = 17;
	put(s, "erin", &r);
	if (store_sync(s, &e) != 0)
		return 1;
	store_close(s);
	/* user store: alice alone */
	if (store_open_locked(argv[2], STORE_CREATE, &o, &s, &e) != 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	base(&r, OTP_TOTP, OTP_SHA1, 6, 30);
	r.counter = (uint64_t)(T0 / 30) - 2;
	if (emergency_set(&r, codes, 2, &e) != 0)
		return 1;
	put(s, "alice", &r);
	if (store_sync(s, &e) != 0)
		return 1;
	store_close(s);
	return 0;
}
