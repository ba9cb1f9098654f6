/*
 * synth: the benchmark's synthetic users, derived from their index alone.
 *
 * User i is named "bench%07u" and has a 20-byte SHA1 secret expanded from
 * i by a fixed keyed mix, so the generators that write the records and
 * the driver that logs in agree without any table between them.  These
 * secrets are public by construction: they exist only for benchmarking.
 */
#ifndef BENCH_SYNTH_H
#define BENCH_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#define SYNTH_PREFIX "bench"
#define SYNTH_DIGITS 7
#define SYNTH_MAX_USERS 10000000u /* what seven digits can name */
#define SYNTH_NAME_BUF 16
#define SYNTH_SECRET_LEN 20
#define SYNTH_UID_BASE 3000000u

/* "bench0000042" for 42. */
void synth_name(uint32_t i, char out[SYNTH_NAME_BUF]);

/* The index named by `name`, in O(1): 0 and *i, or -1 when the name is
 * not a synthetic user's. */
int synth_parse(const char *name, uint32_t *i);

void synth_secret(uint32_t i, uint8_t out[SYNTH_SECRET_LEN]);

/* The j-th user of a walk that visits every index below n exactly once in
 * a scattered order (j < n): rows log in users spread over the whole
 * store, and disjoint ranges of j give disjoint users. */
uint32_t synth_pick(uint64_t j, uint32_t n);

#endif
