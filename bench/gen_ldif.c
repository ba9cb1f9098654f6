/*
 * gen_ldif: the ldap realm's synthetic users as LDIF for slapadd (issue 14).
 *
 * For each user i: uid=NAME,ou=people (inetOrgPerson + oathTOTPUser, the
 * password "pw-NAME" in clear, linked to its token) and cn=NAME,ou=tokens
 * (device + oathTOTPToken, the derived secret, the SHA1/6/30 s params
 * entry of bench/ldap.sh).  The base entries come from bench/ldap.sh.
 */
#include "config.h"

#include <stdio.h>
#include <sys/stat.h>

#include "bench_gen.h"
#include "synth.h"

#define LDIF_SUFFIX "dc=example,dc=org"

/* RFC 4648 base64 of the 20-byte secret: 28 characters with the padding. */
static void base64_20(const uint8_t in[SYNTH_SECRET_LEN], char out[29])
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0, k;

	for (k = 0; k + 3 <= SYNTH_SECRET_LEN; k += 3) {
		uint32_t v = (uint32_t)in[k] << 16 | (uint32_t)in[k + 1] << 8 | in[k + 2];

		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	/* 20 = 6 * 3 + 2: two bytes left, one '=' */
	uint32_t v = (uint32_t)in[k] << 16 | (uint32_t)in[k + 1] << 8;
	out[o++] = alphabet[v >> 18 & 63];
	out[o++] = alphabet[v >> 12 & 63];
	out[o++] = alphabet[v >> 6 & 63];
	out[o++] = '=';
	out[o] = '\0';
}

int gen_ldif(const char *path, uint32_t n)
{
	FILE *f = fopen(path, "w");
	char name[SYNTH_NAME_BUF], b64[29];
	uint8_t secret[SYNTH_SECRET_LEN];

	if (f == NULL) {
		perror(path);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		synth_name(i, name);
		synth_secret(i, secret);
		base64_20(secret, b64);
		fprintf(f,
			"dn: cn=%s,ou=tokens," LDIF_SUFFIX "\n"
			"objectClass: device\nobjectClass: oathTOTPToken\ncn: %s\n"
			"oathSecret:: %s\n"
			"oathTOTPParams: cn=totp-sha1-6,ou=params," LDIF_SUFFIX "\n\n"
			"dn: uid=%s,ou=people," LDIF_SUFFIX "\n"
			"objectClass: inetOrgPerson\nobjectClass: oathTOTPUser\n"
			"uid: %s\ncn: %s\nsn: %s\nuserPassword: pw-%s\n"
			"oathTOTPToken: cn=%s,ou=tokens," LDIF_SUFFIX "\n\n",
			name, name, b64, name, name, name, name, name, name);
	}
	if (fchmod(fileno(f), 0600) < 0 || fclose(f) != 0) {
		perror(path);
		return -1;
	}
	return 0;
}
