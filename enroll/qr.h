/*
 * qr: the otpauth:// URI as a QR code, on the terminal or in a file.
 *
 * Every rendering has a 4-module quiet zone and paints light modules as
 * explicitly as dark ones, so the code scans on dark and light terminal
 * themes alike:
 *   QR_UTF8: two modules per character cell with the half blocks
 *            U+2580/U+2584/U+2588 and space, black on white (ANSI colours);
 *   QR_ANSI: one module per two spaces, ANSI black or white background
 *            (for terminals whose locale is not UTF-8).
 * A file is PNG (libpng, 8 pixels a module) or SVG, chosen by the name's
 * extension, created new (O_CREAT|O_EXCL|O_NOFOLLOW) with mode 0600: it
 * holds the secret.
 */
#ifndef ENROLL_QR_H
#define ENROLL_QR_H

#include <stdio.h>

#include "errors.h"

enum qr_mode { QR_AUTO = 0, QR_UTF8, QR_ANSI, QR_NONE };

/* "utf8", "ansi", "none": 0, else -1. */
int qr_mode_parse(const char *s, enum qr_mode *out);

/* QR_AUTO resolved: QR_UTF8 when the locale's codeset is UTF-8, else
 * QR_ANSI.  setlocale(LC_CTYPE, "") must have been called. */
enum qr_mode qr_mode_resolve(enum qr_mode m);

int qr_print(FILE *out, const char *text, enum qr_mode mode, struct totp_err *err);

/* Writes a .png or .svg file (by extension, either case); anything else is
 * TOTP_R_INVALID.  An existing file is never overwritten (TOTP_R_EXISTS);
 * a half-written one is removed. */
int qr_write_file(const char *path, const char *text, struct totp_err *err);

#endif
