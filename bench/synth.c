/* synth: names, secrets and the sampling walk of the synthetic users. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "synth.h"

void synth_name(uint32_t i, char out[SYNTH_NAME_BUF])
{
	snprintf(out, SYNTH_NAME_BUF, SYNTH_PREFIX "%07u", i);
}

int synth_parse(const char *name, uint32_t *i)
{
	const size_t plen = sizeof(SYNTH_PREFIX) - 1;
	uint32_t v = 0;

	if (strncmp(name, SYNTH_PREFIX, plen) != 0 || strlen(name) != plen + SYNTH_DIGITS)
		return -1;
	for (size_t k = plen; k < plen + SYNTH_DIGITS; k++) {
		if (name[k] < '0' || name[k] > '9')
			return -1;
		v = v * 10 + (uint32_t)(name[k] - '0');
	}
	*i = v;
	return 0;
}

/* splitmix64's finaliser: a cheap bijective mix, plenty for spreading an
 * index into bytes that look random. */
static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

void synth_secret(uint32_t i, uint8_t out[SYNTH_SECRET_LEN])
{
	uint64_t state = mix64(0x70616d5f746f7470ULL ^ i); /* "pam_totp" */

	for (size_t k = 0; k < SYNTH_SECRET_LEN; k++) {
		if (k % 8 == 0)
			state = mix64(state);
		out[k] = (uint8_t)(state >> (8 * (k % 8)));
	}
}

/* j * P mod n is a permutation of 0..n-1 when P is a prime that does not
 * divide n (n <= SYNTH_MAX_USERS < P here); Knuth's multiplicative-hash
 * prime leaves a large stride modulo every power of ten. */
uint32_t synth_pick(uint64_t j, uint32_t n)
{
	const uint64_t P = 2654435761u;

	return (uint32_t)((j % n) * P % n);
}
