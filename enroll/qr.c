/* qr: libqrencode's matrix drawn on a terminal, or into a PNG or SVG file. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <png.h>
#include <qrencode.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "qr.h"

#define QUIET 4	    /* modules of white around the code (ISO/IEC 18004) */
#define PNG_SCALE 8 /* pixels per module in a PNG */

/* Black text on a white background, set at each line's start and reset at
 * its end so that nothing bleeds into the rest of the terminal. */
#define SGR_CODE "\033[30;47m"
#define SGR_DARK "\033[40m"
#define SGR_LIGHT "\033[47m"
#define SGR_RESET "\033[0m"

int qr_mode_parse(const char *s, enum qr_mode *out)
{
	if (strcmp(s, "utf8") == 0)
		*out = QR_UTF8;
	else if (strcmp(s, "ansi") == 0)
		*out = QR_ANSI;
	else if (strcmp(s, "none") == 0)
		*out = QR_NONE;
	else
		return -1;
	return 0;
}

enum qr_mode qr_mode_resolve(enum qr_mode m)
{
	const char *cs;

	if (m != QR_AUTO)
		return m;
	cs = nl_langinfo(CODESET);
	return cs != NULL && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0)
		   ? QR_UTF8
		   : QR_ANSI;
}

static QRcode *encode(const char *text, struct totp_err *err)
{
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);

	if (q == NULL)
		totp_err_errno(err, errno ? errno : EINVAL, "cannot make the QR code");
	return q;
}

/* Whether module (x, y) of the code with its quiet zone is dark. */
static bool dark(const QRcode *q, int x, int y)
{
	x -= QUIET;
	y -= QUIET;
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return false;
	return q->data[y * q->width + x] & 1;
}

static void print_utf8(FILE *out, const QRcode *q)
{
	static const char *const cell[4] = {" ", "\u2584", "\u2580", "\u2588"};
	int size = q->width + 2 * QUIET;

	for (int y = 0; y < size; y += 2) {
		fputs(SGR_CODE, out);
		for (int x = 0; x < size; x++)
			fputs(cell[dark(q, x, y) * 2 + dark(q, x, y + 1)], out);
		fputs(SGR_RESET "\n", out);
	}
}

static void print_ansi(FILE *out, const QRcode *q)
{
	int size = q->width + 2 * QUIET;

	for (int y = 0; y < size; y++) {
		for (int x = 0; x < size; x++)
			fputs(dark(q, x, y) ? SGR_DARK "  " : SGR_LIGHT "  ", out);
		fputs(SGR_RESET "\n", out);
	}
}

int qr_print(FILE *out, const char *text, enum qr_mode mode, struct totp_err *err)
{
	QRcode *q;

	mode = qr_mode_resolve(mode);
	if (mode == QR_NONE)
		return 0;
	q = encode(text, err);
	if (q == NULL)
		return -1;
	if (mode == QR_UTF8)
		print_utf8(out, q);
	else
		print_ansi(out, q);
	/* The matrix encodes the secret. */
	explicit_bzero(q->data, (size_t)q->width * (size_t)q->width);
	QRcode_free(q);
	return 0;
}

/* ---- files ---------------------------------------------------------------- */

/* stroke="none" is said outright: ImageMagick's own SVG renderer outlines
 * shapes without it, which turns the white quiet zone black. */
static int write_svg(FILE *f, const QRcode *q)
{
	int size = q->width + 2 * QUIET;

	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
		"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"shape-rendering=\"crispEdges\">\n"
		"<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\" "
		"stroke=\"none\"/>\n"
		"<path fill=\"#000000\" stroke=\"none\" d=\"",
		size * PNG_SCALE, size * PNG_SCALE, size, size, size, size);
	for (int y = 0; y < size; y++)
		for (int x = 0; x < size; x++)
			if (dark(q, x, y))
				fprintf(f, "M%d %dh1v1h-1z", x, y);
	fputs("\"/>\n</svg>\n", f);
	return ferror(f) ? -1 : 0;
}

/* libpng reports errors by longjmp; this one is local to write_png. */
static int write_png(FILE *f, const QRcode *q)
{
	int size = q->width + 2 * QUIET;
	png_uint_32 px = (png_uint_32)(size * PNG_SCALE);
	png_structp png =
	    png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	png_bytep row = NULL;
	volatile int rc = -1;

	if (png == NULL || info == NULL)
		goto out;
	row = malloc(px);
	if (row == NULL)
		goto out;
	if (setjmp(png_jmpbuf(png)))
		goto out;
	png_init_io(png, f);
	png_set_IHDR(png, info, px, px, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (int y = 0; y < size; y++) {
		for (int x = 0; x < size; x++)
			memset(row + x * PNG_SCALE, dark(q, x, y) ? 0x00 : 0xff,
			       PNG_SCALE);
		for (int i = 0; i < PNG_SCALE; i++)
			png_write_row(png, row);
	}
	png_write_end(png, NULL);
	rc = ferror(f) ? -1 : 0;
out:
	png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
	if (row != NULL) {
		explicit_bzero(row, px);
		free(row);
	}
	return rc;
}

static bool has_ext(const char *path, const char *ext)
{
	size_t n = strlen(path), e = strlen(ext);

	return n > e && strcasecmp(path + n - e, ext) == 0;
}

int qr_write_file(const char *path, const char *text, struct totp_err *err)
{
	bool png = has_ext(path, ".png");
	QRcode *q;
	FILE *f;
	int fd, rc;

	if (!png && !has_ext(path, ".svg"))
		return totp_err_set(err, TOTP_R_INVALID,
				    "--qr-file %s: name a .png or .svg file", path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return totp_err_set(
		    err, TOTP_R_EXISTS,
		    "--qr-file %s already exists; it is never overwritten: "
		    "remove it or choose another name",
		    path);
	if (fd < 0)
		return totp_err_errno(err, errno, "cannot create %s", path);
	f = fdopen(fd, "wb");
	if (f == NULL) {
		rc = totp_err_errno(err, errno, "cannot write %s", path);
		close(fd);
		unlink(path);
		return rc;
	}
	q = encode(text, err);
	rc = q == NULL ? -1 : png ? write_png(f, q) : write_svg(f, q);
	if (q != NULL) {
		explicit_bzero(q->data, (size_t)q->width * (size_t)q->width);
		QRcode_free(q);
	}
	if (fflush(f) == EOF || fsync(fileno(f)) < 0)
		rc = -1;
	if (fclose(f) == EOF)
		rc = -1;
	if (rc < 0) {
		if (err != NULL && err->reason == TOTP_R_NONE)
			totp_err_set(err, TOTP_R_IO, "cannot write the QR code to %s",
				     path);
		unlink(path);
	}
	return rc;
}
