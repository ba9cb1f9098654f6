/*
 * fuzz.h: what every libFuzzer target here shares.
 *
 * A target states an invariant and calls FUZZ_CHECK on it: a broken
 * invariant aborts, and libFuzzer keeps the input that broke it as a
 * crash, exactly as it does for a sanitizer's finding.
 */
#ifndef TOTP_FUZZ_H
#define TOTP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                                 \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__,       \
				__LINE__, #cond);                                        \
			abort();                                                         \
		}                                                                        \
	} while (0)

/* Takes bytes off the front of the input, as the parts of a structured
 * input; past the end it yields zeros. */
struct fuzz_in {
	const uint8_t *p;
	size_t len;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	uint8_t v = 0;

	if (in->len > 0) {
		v = in->p[0];
		in->p++;
		in->len--;
	}
	return v;
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | fuzz_u8(in);
	return v;
}

/* A NUL-terminated string of at most max - 1 bytes of the input, up to a
 * NUL byte (consumed) or the end. */
static inline void fuzz_str(struct fuzz_in *in, char *out, size_t max)
{
	size_t n = 0;

	while (in->len > 0 && n + 1 < max) {
		uint8_t c = fuzz_u8(in);

		if (c == '\0')
			break;
		out[n++] = (char)c;
	}
	out[n] = '\0';
}

struct cfg;
/* Aborts unless a configuration that cfg accepted is one the rest of lib/
 * can rely on (sane.c). */
void fuzz_cfg_sane(const struct cfg *c);

#endif
