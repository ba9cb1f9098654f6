/*
 * login_try: one login check of a code, through lib/login.c's login_check
 * (what pam_totp calls under the store's lock), for the shell tests.
 *
 *   login_try OWNER_UID DB_PATH USER CODE [RHOST [SERVICE]]
 *
 * Prints the outcome (success, wrong-code, not-enrolled, locked-out) and
 * exits 0 on success, 1 on any other outcome, 2 on an error.  The realm is
 * the built-in default (window 1, 5 failures).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg.h"
#include "login.h"
#include "otp.h"

static const char *outcome_name(enum login_outcome o)
{
	switch (o) {
	case LOGIN_SUCCESS:
		return "success";
	case LOGIN_WRONG_CODE:
		return "wrong-code";
	case LOGIN_NOT_ENROLLED:
		return "not-enrolled";
	default:
		return "locked-out";
	}
}

int main(int argc, char **argv)
{
	struct cfg c;
	struct store_location loc;
	struct login_event ev = {"login_try", NULL, 0, false};
	struct login_result res;
	struct totp_err err;
	struct timespec ts;

	if (argc < 5 || argc > 7) {
		fprintf(
		    stderr,
		    "usage: login_try OWNER_UID DB_PATH USER CODE [RHOST [SERVICE]]\n");
		return 2;
	}
	if (argc > 5)
		ev.rhost = argv[5];
	if (argc > 6)
		ev.service = argv[6];
	cfg_defaults(&c);
	memset(&loc, 0, sizeof(loc));
	loc.owner = (uid_t)strtoul(argv[1], NULL, 10);
	snprintf(loc.where, sizeof(loc.where), "%s", argv[2]);
	/* a store root owns is a system store, kept in shards as location_for
	 * makes it; a user's own is one file */
	loc.sharded = loc.owner == 0;
	loc.per_user = !loc.sharded;
	clock_gettime(CLOCK_REALTIME, &ts);
	ev.now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (otp_init(&err) < 0 ||
	    login_check(&c, &loc, argv[3], argv[4], &ev, &res, &err) < 0) {
		fprintf(stderr, "login_try: %s\n", err.msg);
		return 2;
	}
	printf("%s%s\n", outcome_name(res.outcome), res.emergency ? " emergency" : "");
	return res.outcome == LOGIN_SUCCESS ? 0 : 1;
}
