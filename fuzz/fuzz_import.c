/*
 * fuzz_import: the google-authenticator and pam_oath file parsers on
 * arbitrary bytes (FUZZ_IMPORT_GA selects the first, else the second).
 *
 * A file to import is whatever the user or the old module left: the
 * parsers must refuse or report it without reading past `len`, and what
 * they take must be a generator the rest of lib/ accepts: parameters in
 * range, a secret of 1 to SECRET_MAX bytes, a window within
 * OTP_WINDOW_MAX, 8-digit scratch codes, a user name that can be a key.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "import_ga.h"
#include "import_oath.h"

static void entry_sane(const struct import_entry *e, int need_user)
{
	struct totp_err err;

	FUZZ_CHECK(otp_params_check(&e->params, &err) == 0);
	FUZZ_CHECK(e->secret_len >= 1 && e->secret_len <= SECRET_MAX);
	FUZZ_CHECK(e->window <= OTP_WINDOW_MAX);
	FUZZ_CHECK(e->n_codes <= IMPORT_CODES_MAX);
	for (unsigned i = 0; i < e->n_codes; i++) {
		FUZZ_CHECK(strlen(e->codes[i]) == EMERGENCY_DIGITS);
		for (int k = 0; k < EMERGENCY_DIGITS; k++)
			FUZZ_CHECK(e->codes[i][k] >= '0' && e->codes[i][k] <= '9');
	}
	if (need_user)
		FUZZ_CHECK(user_name_check(e->user, &err) == 0);
	/* a generator's name: the default, or oath2..oath4 (issue 17) */
	FUZZ_CHECK(e->name[0] == '\0' ||
		   (record_name_check(e->name, &err) == 0 &&
		    strncmp(e->name, "oath", 4) == 0 && e->name[4] >= '2' &&
		    e->name[4] <= '4' && e->name[5] == '\0'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* exactly the file's bytes, not terminated: ASan sees a read past */
	char *buf = malloc(size ? size : 1);
	struct totp_err err;

	FUZZ_CHECK(buf != NULL);
	memcpy(buf, data, size);
#ifdef FUZZ_IMPORT_GA
	{
		static struct import_entry e;

		if (size <= IMPORT_GA_MAX && import_ga_parse(buf, size, &e, &err) == 0)
			entry_sane(&e, 0);
		else if (size <= IMPORT_GA_MAX)
			FUZZ_CHECK(err.reason == TOTP_R_INVALID && err.msg[0] != '\0');
		import_entry_wipe(&e);
	}
#else
	{
		struct import_oath_result r;

		memset(&r, 0, sizeof(r));
		if (import_oath_parse(buf, size, &r, &err) == 0) {
			for (size_t i = 0; i < r.n_entries; i++)
				entry_sane(&r.entries[i], 1);
			for (size_t i = 0; i < r.n_problems; i++)
				FUZZ_CHECK(r.problems[i].line >= 1 &&
					   r.problems[i].msg[0] != '\0');
		}
		import_oath_result_free(&r);
	}
#endif
	free(buf);
	return 0;
}
