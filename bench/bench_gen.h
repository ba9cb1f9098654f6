/* bench_gen: the record generators (see bench_gen.c). */
#ifndef BENCH_GEN_H
#define BENCH_GEN_H

#include <stdint.h>

/* pam_totp's system store at `db`, through lib/store.h: 0 or -1. */
int gen_totp(const char *db, uint32_t n);

#endif
