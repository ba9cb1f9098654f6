/* bench_gen: the record generators (see bench_gen.c). */
#ifndef BENCH_GEN_H
#define BENCH_GEN_H

#include <stddef.h>
#include <stdint.h>

/* pam_totp's system store at `db`, through lib/store/store.h: 0 or -1. */
int gen_totp(const char *db, uint32_t n);
/* One more user, number i, registered on its own (synced): 0 or -1. */
int gen_totp_add(const char *db, uint32_t i, size_t *journal);
/* The ldap realm's users and tokens as LDIF for slapadd (gen_ldif.c). */
int gen_ldif(const char *path, uint32_t n);

#endif
