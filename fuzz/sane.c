/* sane: the checks of a loaded configuration that fuzz_cfg and fuzz_args
 * share. */
#include "config.h"

#include "location.h"

#include <string.h>

#include "cfg.h"
#include "fuzz.h"

/* What the rest of lib/ takes for granted of a loaded configuration. */
void fuzz_cfg_sane(const struct cfg *c)
{
	struct totp_err err;
	unsigned n = 0;

	FUZZ_CHECK(cfg_realm_check(c->realm, &err) == 0);
	FUZZ_CHECK(otp_params_check(&c->params, &err) == 0);
	FUZZ_CHECK(c->window <= OTP_WINDOW_MAX);
	FUZZ_CHECK(c->max_failures <= 1000);
	FUZZ_CHECK(c->lockout <= 86400);
	FUZZ_CHECK(c->emergency_codes <= CFG_EMERGENCY_MAX);
	FUZZ_CHECK(c->lock_timeout_ms >= 1 && c->lock_timeout_ms <= 60000);
	FUZZ_CHECK(strnlen(c->issuer, sizeof(c->issuer)) < sizeof(c->issuer));
	FUZZ_CHECK(strnlen(c->prompt, sizeof(c->prompt)) < sizeof(c->prompt));
	FUZZ_CHECK(strnlen(c->store_path, sizeof(c->store_path)) < sizeof(c->store_path));
	FUZZ_CHECK(strnlen(c->conf_path, sizeof(c->conf_path)) < sizeof(c->conf_path));
	/* an ldap realm has no path: its ldap_* keys say where (issue 14) */
	if (c->store == CFG_STORE_LDAP)
		FUZZ_CHECK(c->store_path[0] == '\0');
	else
		FUZZ_CHECK(c->store_path[0] == '/' ||
			   strncmp(c->store_path, "%h", 2) == 0);
	FUZZ_CHECK(c->prompt[0] != '\0');
	while (n < 8 && c->allow_periods[n] != 0) {
		FUZZ_CHECK(c->allow_periods[n] >= 1 && c->allow_periods[n] <= 3600);
		n++;
	}
	FUZZ_CHECK(n < 8);
	/* the expansion of whatever template was accepted stays in bounds */
	if (c->store != CFG_STORE_LDAP) {
		char out[CFG_PATH_MAX];

		if (location_db_path(c, "alice", "/home/alice", out, sizeof(out), &err) ==
		    0)
			FUZZ_CHECK(out[0] == '/' && strlen(out) < sizeof(out));
		else
			FUZZ_CHECK(out[0] == '\0' && err.reason == TOTP_R_INVALID);
	}
}
