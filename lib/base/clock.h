/*
 * clock: the wall clock and the one way dates are written.  Rules take
 * the time as an argument (now_ms); only the programs read the clock,
 * through clock_now_ms, so that tests can hand in any time.
 */
#ifndef TOTP_CLOCK_H
#define TOTP_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_REALTIME in unix milliseconds. */
int64_t clock_now_ms(void);

enum clock_style {
	CLOCK_UTC_MS, /* 2024-06-13T06:44:35.838Z (the JSON answers) */
	CLOCK_UTC,    /* 2024-06-13T06:44:35Z (export) */
	CLOCK_LOCAL,  /* 2024-06-13 08:44:35 CEST (text for a person) */
};

/* Writes ms (unix milliseconds) in `style` into out and returns out; ""
 * when the time cannot be shown (out of gmtime's range, or sz too small). */
const char *clock_format(int64_t ms, enum clock_style style, char *out, size_t sz);

#endif
