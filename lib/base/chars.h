/*
 * chars: the character rules every parser shares: "all digits" and hex.
 * Each is written once here; callers add their own length rules.
 */
#ifndef TOTP_CHARS_H
#define TOTP_CHARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when s[0..n) is n ASCII digits and n > 0 (s need not end there). */
bool chars_all_digits(const char *s, size_t n);

/* A hex digit's value (either case), or -1. */
int chars_hex_value(char c);

/* Decodes n hex digits (n even, 0 < n / 2 <= outsz) into out, *len the
 * bytes made.  False on anything else, with out wiped (it may hold a
 * secret's first half). */
bool chars_hex_decode(const char *s, size_t n, uint8_t *out, size_t outsz, size_t *len);

#endif
