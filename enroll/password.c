/* password: reads the user's LDAP password (password.h). */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "password.h"

/* One line from fd into buf, byte by byte: 0, or -1. */
static int read_line(int fd, char *buf, size_t len, struct totp_err *err)
{
	size_t n = 0;
	char ch;

	for (;;) {
		ssize_t r = read(fd, &ch, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return totp_err_errno(err, errno,
					      "cannot read the LDAP password");
		if (r == 0 || ch == '\n')
			break;
		if (n + 1 >= len) {
			explicit_bzero(buf, len);
			return totp_err_set(err, TOTP_R_INVALID,
					    "the LDAP password is longer than %zu bytes",
					    len - 1);
		}
		buf[n++] = ch;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	ch = 0;
	return 0;
}

int password_read(int fd, const char *user, char *buf, size_t len, struct totp_err *err)
{
	struct termios old, quiet;
	bool tty = false;
	int rc;

	buf[0] = '\0';
	if (fd < 0) {
		fd = STDIN_FILENO;
		tty = isatty(fd) && tcgetattr(fd, &old) == 0;
	}
	if (tty) {
		fprintf(stderr,
			"LDAP password for %s (once a token is verified: the password "
			"followed by the code the app shows now): ",
			user);
		fflush(stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		if (tcsetattr(fd, TCSAFLUSH, &quiet) < 0)
			return totp_err_errno(err, errno, "cannot turn the echo off");
	}
	rc = read_line(fd, buf, len, err);
	if (tty)
		tcsetattr(fd, TCSAFLUSH, &old);
	if (rc == 0 && buf[0] == '\0')
		rc = totp_err_set(err, TOTP_R_INVALID,
				  "no LDAP password was given (an ldap realm binds as "
				  "you with it)");
	return rc;
}
