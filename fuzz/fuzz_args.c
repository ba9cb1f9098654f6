/*
 * fuzz_args: the pam.d argument parser on arbitrary arguments.
 *
 * The input is split at NUL bytes and newlines into argv, as a pam.d line
 * gives the module its words.  Prescan and apply must accept or refuse
 * (TOTP_R_CONFIG) without crashing; an accepted set leaves a sane
 * configuration (see fuzz_cfg_sane in fuzz_cfg.c).
 */
#include "config.h"

#include <string.h>

#include "cfg.h"
#include "fuzz.h"

#define ARGS_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cfg c;
	const char *argv[ARGS_MAX];
	struct totp_err err;
	int argc = 0;
	char *text = malloc(size + 1), *start;

	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	start = text;
	for (size_t i = 0; i <= size && argc < ARGS_MAX; i++) {
		if (text[i] == '\0' || text[i] == '\n') {
			text[i] = '\0';
			argv[argc++] = start;
			start = text + i + 1;
		}
	}
	cfg_defaults(&c);
	totp_err_clear(&err);
	if (cfg_prescan_args(&c, argc, argv, &err) == 0 &&
	    cfg_apply_args(&c, argc, argv, &err) == 0) {
		fuzz_cfg_sane(&c);
	} else {
		FUZZ_CHECK(err.reason == TOTP_R_CONFIG || err.reason == TOTP_R_INVALID);
		FUZZ_CHECK(err.msg[0] != '\0');
	}
	cfg_free(&c);
	free(text);
	return 0;
}
