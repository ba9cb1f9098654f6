/* synth_pwd: the driver's passwd look-ups for synthetic users (see .c). */
#ifndef BENCH_SYNTH_PWD_H
#define BENCH_SYNTH_PWD_H

#include <stdint.h>

/* Users bench0000000 .. bench(n-1) exist from now on. */
void synth_pwd_set_users(uint32_t n);

#endif
