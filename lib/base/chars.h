/*
 * chars: the character rules every parser shares: "all digits", hex, and
 * the one escape loop for text shown to a person or a log reader.  Each
 * is written once here; callers add their own length rules and sets.
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

/* How chars_escape writes one byte. */
enum chars_form {
	CHARS_AS_IS,	   /* the byte itself */
	CHARS_BACKSLASHED, /* '\\' then the byte (a backslash as "\\\\") */
	CHARS_HEX,	   /* \xHH, lower case */
};

/* The caller's set: the form each byte takes. */
typedef enum chars_form (*chars_form_fn)(unsigned char c);

/* Writes s into out (outsz > 0 bytes, NUL-terminated), each byte in the
 * form `form` gives it; stops before the first byte whose form would not
 * fit, so an escape is never cut in half.  Returns out. */
const char *chars_escape(const char *s, chars_form_fn form, char *out, size_t outsz);

#endif
