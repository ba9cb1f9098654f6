/*
 * How long one login's check takes, with and without sync_login: a loop
 * of login_check calls (right codes and wrong ones) on a store in a
 * folder given on the command line (default: a new one under /var/tmp,
 * which is on disk where /tmp may be a tmpfs).  Not a test: it prints the
 * numbers behind pam_totp(8)'s choice of the sync_login default.
 *
 *   make tests/login_timing && tests/login_timing [DIR] [N]
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "login.h"
#include "otp.h"
#include "record.h"
#include "gdbm_store.h"
#include "store.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int seed(const struct store_location *loc)
{
	struct store_opts o = {
	    .owner = loc->owner, .lock_timeout_ms = 2000, .sync = true};
	struct store *s = NULL;
	struct totp_err e;
	struct record r;

	memset(&r, 0, sizeof(r));
	r.state = RECORD_READY;
	r.params = (struct otp_params){OTP_HOTP, OTP_SHA1, 6, 30};
	memcpy(r.secret, "12345678901234567890", 20);
	r.secret_len = 20;
	if (gdbm_store_open(loc->where, STORE_CREATE, &o, &s, &e) < 0 ||
	    store_put(s, "timing", &r, &e) < 0) {
		fprintf(stderr, "login_timing: %s\n", e.msg);
		store_close(s);
		return -1;
	}
	store_close(s);
	return 0;
}

/* n checks, alternately the next right code and a wrong one. */
static int loop(struct cfg *c, const struct store_location *loc, int n, double *per_call)
{
	struct otp_params p = {OTP_HOTP, OTP_SHA1, 6, 30};
	struct login_result res;
	struct totp_err e;
	char code[OTP_CODE_BUF];
	uint64_t counter = 0;
	double t0 = now_s();

	for (int i = 0; i < n; i++) {
		struct login_event ev = {"timing", NULL, (int64_t)time(NULL) * 1000,
					 false};

		if (i % 2 == 0)
			otp_code((const uint8_t *)"12345678901234567890", 20, &p,
				 counter++, code, &e);
		else
			strcpy(code, "000000");
		if (login_check(c, loc, "timing", code, &ev, &res, &e) < 0) {
			fprintf(stderr, "login_timing: %s\n", e.msg);
			return -1;
		}
	}
	*per_call = (now_s() - t0) / n;
	return 0;
}

int main(int argc, char **argv)
{
	char dir[PATH_MAX] = "/var/tmp/login_timing.XXXXXX", lock[PATH_MAX + 16];
	struct store_location loc = {.owner = getuid(), .per_user = true};
	int n = argc > 2 ? atoi(argv[2]) : 400;
	struct totp_err e;
	struct cfg c;
	double with, without;

	if (argc > 1 && argv[1][0] != '\0')
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	else if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(loc.where, sizeof(loc.where), "%s/timing.db", dir);
	if (otp_init(&e) < 0 || seed(&loc) < 0)
		return 1;
	cfg_defaults(&c);
	c.max_failures = 0;
	c.sync_login = false;
	if (loop(&c, &loc, n, &without) < 0)
		return 1;
	c.sync_login = true;
	if (loop(&c, &loc, n, &with) < 0)
		return 1;
	printf("%d login_check calls in %s\n", n, dir);
	printf("  sync_login=no:  %.3f ms per check\n", without * 1e3);
	printf("  sync_login=yes: %.3f ms per check\n", with * 1e3);
	snprintf(lock, sizeof(lock), "%s.lock", loc.where);
	unlink(loc.where);
	unlink(lock);
	if (argc <= 1 || argv[1][0] == '\0')
		rmdir(dir);
	return 0;
}
