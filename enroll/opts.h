/*
 * opts: totp-enroll's command line, parsed and checked for shape only
 * (who may do what, and what the realm allows, is decided later).
 */
#ifndef ENROLL_OPTS_H
#define ENROLL_OPTS_H

#include <stdbool.h>
#include <stdio.h>

#include "errors.h"
#include "otp.h"
#include "qr.h"

enum command {
	CMD_ENROLL, /* no subcommand: register, then confirm on a terminal */
	CMD_REGISTER,
	CMD_VERIFY,
	CMD_STATUS,
	CMD_REMOVE,
	CMD_LIST,
	CMD_UNLOCK,
	CMD_IMPORT, /* import --from SOURCE [FILE] */
	CMD_EXPORT, /* one record without its secret (root) */
	CMD_CODES,  /* new emergency codes, after a code from the app */
	CMD_HELP,
	CMD_VERSION,
};

enum import_from { IMPORT_FROM_NONE, IMPORT_FROM_GA, IMPORT_FROM_OATH };

struct opts {
	enum command cmd;
	const char *code; /* verify's CODE, codes' optional CODE */
	const char *realm, *user, *conf, *issuer, *qr_file;
	const char *name; /* --name: a generator's, or NULL (the default) */
	bool json;
	int password_fd; /* --password-fd N (ldap realms), -1 when not given */
	enum qr_mode qr;
	/* generator parameters asked for (register only) */
	bool set_type, set_alg, set_digits, set_period;
	enum otp_type type;
	enum otp_alg alg;
	unsigned digits, period;
	/* import only */
	enum import_from import_from;
	bool dry_run;
	const char *file; /* import's FILE, or NULL */
};

/* Fills *o; a malformed command line is TOTP_R_INVALID with a message
 * naming the argument (the caller exits with EX_USAGE). */
int opts_parse(int argc, char **argv, struct opts *o, struct totp_err *err);

void opts_usage(FILE *f);

const char *command_name(enum command c);

#endif
