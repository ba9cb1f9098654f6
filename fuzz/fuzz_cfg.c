/*
 * fuzz_cfg: the pam_totp.conf parser on arbitrary text.
 *
 * The first byte picks the realm asked for; the rest is the file.  The
 * parser must accept or refuse (TOTP_R_CONFIG, with a message) without
 * crashing, and what it accepts must be a configuration every other unit
 * can rely on: values within their ranges, strings terminated.
 */
#include "config.h"

#include <string.h>

#include "cfg.h"
#include "fuzz.h"

static const char *const realms[] = {"default", "corp", "a", "x-1.y_z"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cfg c;
	struct totp_err err;
	const char *realm;
	char *text;

	if (size == 0)
		return 0;
	realm = realms[data[0] % (sizeof(realms) / sizeof(realms[0]))];
	/* exactly the file's bytes, not terminated: ASan sees a read past */
	text = malloc(size - 1 ? size - 1 : 1);
	FUZZ_CHECK(text != NULL);
	memcpy(text, data + 1, size - 1);
	cfg_defaults(&c);
	strcpy(c.realm, realm);
	totp_err_clear(&err);
	if (cfg_load_buffer(&c, text, size - 1, "fuzz.conf", &err) == 0) {
		FUZZ_CHECK(strcmp(c.realm, realm) == 0);
		fuzz_cfg_sane(&c);
	} else {
		FUZZ_CHECK(err.reason == TOTP_R_CONFIG);
		FUZZ_CHECK(err.msg[0] != '\0');
	}
	cfg_free(&c); /* an ldap realm's strings, whatever the outcome */
	free(text);
	return 0;
}
