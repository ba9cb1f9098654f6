/* chars: digits, hex and escaping, once (chars.h). */
#include "config.h"

#include <string.h>

#include "chars.h"

bool chars_all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

int chars_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool chars_hex_decode(const char *s, size_t n, uint8_t *out, size_t outsz, size_t *len)
{
	if (n == 0 || n % 2 != 0 || n / 2 > outsz)
		return false;
	for (size_t i = 0; i < n; i += 2) {
		int hi = chars_hex_value(s[i]), lo = chars_hex_value(s[i + 1]);

		if (hi < 0 || lo < 0) {
			explicit_bzero(out, outsz);
			return false;
		}
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return true;
}

static size_t form_width(enum chars_form f)
{
	return f == CHARS_AS_IS ? 1 : f == CHARS_BACKSLASHED ? 2 : 4;
}

const char *chars_escape(const char *s, chars_form_fn form, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		enum chars_form f = form(c);

		if (o + form_width(f) >= outsz)
			break;
		if (f == CHARS_HEX) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0xf];
			continue;
		}
		if (f == CHARS_BACKSLASHED)
			out[o++] = '\\';
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}
