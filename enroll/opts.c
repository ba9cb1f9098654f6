/* opts: getopt_long over totp-enroll's options and subcommands. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "opts.h"
#include "record.h"

enum {
	OPT_JSON = 256,
	OPT_QR,
	OPT_QR_FILE,
	OPT_CONF,
	OPT_ISSUER,
	OPT_DIGITS,
	OPT_PERIOD,
	OPT_ALGORITHM,
	OPT_TYPE,
	OPT_FROM,
	OPT_DRY_RUN,
	OPT_PASSWORD_FD,
	OPT_NAME,
};

static const struct option longopts[] = {
    {"realm", required_argument, NULL, 'r'},
    {"user", required_argument, NULL, 'u'},
    {"json", no_argument, NULL, OPT_JSON},
    {"qr", required_argument, NULL, OPT_QR},
    {"qr-file", required_argument, NULL, OPT_QR_FILE},
    {"conf", required_argument, NULL, OPT_CONF},
    {"issuer", required_argument, NULL, OPT_ISSUER},
    {"digits", required_argument, NULL, OPT_DIGITS},
    {"period", required_argument, NULL, OPT_PERIOD},
    {"algorithm", required_argument, NULL, OPT_ALGORITHM},
    {"type", required_argument, NULL, OPT_TYPE},
    {"from", required_argument, NULL, OPT_FROM},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"password-fd", required_argument, NULL, OPT_PASSWORD_FD},
    {"name", required_argument, NULL, OPT_NAME},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static const char *const names[] = {
    [CMD_ENROLL] = "enroll", [CMD_REGISTER] = "register", [CMD_VERIFY] = "verify",
    [CMD_STATUS] = "status", [CMD_REMOVE] = "remove",	  [CMD_LIST] = "list",
    [CMD_UNLOCK] = "unlock", [CMD_IMPORT] = "import",	  [CMD_EXPORT] = "export",
    [CMD_CODES] = "codes",   [CMD_HELP] = "help",	  [CMD_VERSION] = "version",
};

const char *command_name(enum command c)
{
	return names[c];
}

void opts_usage(FILE *f)
{
	fputs(
	    "Usage: totp-enroll [OPTION]... [COMMAND]\n"
	    "Register a TOTP/HOTP generator (authenticator app) for logins.\n"
	    "\n"
	    "Commands:\n"
	    "  (none)        register, then ask for a code from the app to confirm\n"
	    "  register      make a new secret; the registration stays pending\n"
	    "  verify CODE   confirm a pending registration with a code from the app\n"
	    "  status        show the state of the user's generators\n"
	    "  remove        remove a generator (--name; default: default)\n"
	    "  list          every user of a system-store realm (root only)\n"
	    "  unlock        clear failures and a lockout (root only)\n"
	    "  export        the record without its secret, for audits (root only)\n"
	    "  codes [CODE]  new emergency codes, replacing the old ones; asks for\n"
	    "                the code the app shows now (root: no code needed)\n"
	    "  import --from google-authenticator [FILE]\n"
	    "                a ~/.google_authenticator file (default: the user's own)\n"
	    "  import --from oath FILE\n"
	    "                every token of a pam_oath users file (root only)\n"
	    "\n"
	    "Options:\n"
	    "  -r, --realm=NAME       realm (default: default)\n"
	    "  -u, --user=NAME        act on NAME (root only)\n"
	    "      --name=NAME        register, verify, remove: the generator called\n"
	    "                         NAME ([a-z0-9._-], 1 to 16; default: default);\n"
	    "                         a user has at most 4 (a phone, a spare, a token)\n"
	    "      --json             answer with one JSON object on stdout\n"
	    "      --qr=utf8|ansi|none  how to draw the QR code (default: by locale)\n"
	    "      --qr-file=PATH     also write the QR code to a new .png or .svg file\n"
	    "      --conf=PATH        configuration file\n"
	    "      --issuer=NAME      issuer shown by the app\n"
	    "      --digits=N         code length, if the realm allows it\n"
	    "      --period=SECONDS   TOTP step, if the realm allows it\n"
	    "      --algorithm=ALG    sha1, sha256 or sha512, if the realm allows it\n"
	    "      --type=totp|hotp   generator type, if the realm allows it\n"
	    "      --from=SOURCE      import from google-authenticator or oath\n"
	    "      --dry-run          import: say what would happen, write nothing\n"
	    "      --password-fd=N    ldap realm: read your LDAP password from\n"
	    "                         descriptor N (else the terminal, or stdin)\n"
	    "  -h, --help             show this help\n"
	    "  -V, --version          show the version\n"
	    "\n"
	    "See totp-enroll(1).\n",
	    f);
}

static int parse_uint(const char *opt, const char *s, unsigned *out, struct totp_err *err)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > 100000)
		return totp_err_set(err, TOTP_R_INVALID, "%s: '%s' is not a number", opt,
				    s);
	*out = (unsigned)v;
	return 0;
}

static int parse_command(int argc, char **argv, struct opts *o, struct totp_err *err)
{
	static const enum command cmds[] = {CMD_REGISTER, CMD_VERIFY, CMD_STATUS,
					    CMD_REMOVE,	  CMD_LIST,   CMD_UNLOCK,
					    CMD_IMPORT,	  CMD_EXPORT, CMD_CODES};
	int nargs;

	if (optind >= argc)
		return 0;
	o->cmd = CMD_HELP;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[optind], names[cmds[i]]) == 0)
			o->cmd = cmds[i];
	if (o->cmd == CMD_HELP)
		return totp_err_set(err, TOTP_R_INVALID,
				    "unknown command '%s'; try totp-enroll --help",
				    argv[optind]);
	nargs = argc - optind - 1;
	if (o->cmd == CMD_VERIFY && nargs != 1)
		return totp_err_set(err, TOTP_R_INVALID,
				    "verify takes one CODE: the code your app shows now");
	if (o->cmd == CMD_CODES && nargs > 1)
		return totp_err_set(
		    err, TOTP_R_INVALID,
		    "codes takes at most one CODE: the code your app shows now");
	if (o->cmd == CMD_VERIFY || (o->cmd == CMD_CODES && nargs == 1))
		o->code = argv[optind + 1];
	else if (o->cmd == CMD_IMPORT && nargs <= 1)
		o->file = nargs == 1 ? argv[optind + 1] : NULL;
	else if (nargs != 0)
		return totp_err_set(err, TOTP_R_INVALID, "%s takes no argument ('%s')",
				    argv[optind], argv[optind + 1]);
	return 0;
}

static int parse_from(const char *arg, struct opts *o, struct totp_err *err)
{
	if (strcmp(arg, "google-authenticator") == 0)
		o->import_from = IMPORT_FROM_GA;
	else if (strcmp(arg, "oath") == 0)
		o->import_from = IMPORT_FROM_OATH;
	else
		return totp_err_set(err, TOTP_R_INVALID,
				    "--from: '%s' is not google-authenticator or oath",
				    arg);
	return 0;
}

/* import needs --from; --from and --dry-run belong to import. */
static int check_import(const struct opts *o, struct totp_err *err)
{
	if (o->cmd != CMD_IMPORT) {
		if (o->import_from != IMPORT_FROM_NONE || o->dry_run)
			return totp_err_set(err, TOTP_R_INVALID,
					    "--from and --dry-run apply only to import");
		return 0;
	}
	if (o->import_from == IMPORT_FROM_NONE)
		return totp_err_set(
		    err, TOTP_R_INVALID,
		    "import needs --from google-authenticator or --from oath");
	if (o->import_from == IMPORT_FROM_OATH && o->file == NULL)
		return totp_err_set(err, TOTP_R_INVALID,
				    "import --from oath needs the users file (FILE)");
	if (o->import_from == IMPORT_FROM_OATH && o->user != NULL)
		return totp_err_set(
		    err, TOTP_R_INVALID,
		    "import --from oath takes its users from FILE, not --user");
	return 0;
}

static int parse_option(int c, const char *arg, struct opts *o, struct totp_err *err)
{
	switch (c) {
	case 'r':
		o->realm = arg;
		return 0;
	case 'u':
		o->user = arg;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_QR:
		if (qr_mode_parse(arg, &o->qr) < 0)
			return totp_err_set(err, TOTP_R_INVALID,
					    "--qr: '%s' is not utf8, ansi or none", arg);
		return 0;
	case OPT_QR_FILE:
		o->qr_file = arg;
		return 0;
	case OPT_CONF:
		o->conf = arg;
		return 0;
	case OPT_ISSUER:
		o->issuer = arg;
		return 0;
	case OPT_DIGITS:
		o->set_digits = true;
		return parse_uint("--digits", arg, &o->digits, err);
	case OPT_PERIOD:
		o->set_period = true;
		return parse_uint("--period", arg, &o->period, err);
	case OPT_ALGORITHM:
		o->set_alg = true;
		if (otp_alg_parse(arg, &o->alg) < 0)
			return totp_err_set(
			    err, TOTP_R_INVALID,
			    "--algorithm: '%s' is not sha1, sha256 or sha512", arg);
		return 0;
	case OPT_FROM:
		return parse_from(arg, o, err);
	case OPT_DRY_RUN:
		o->dry_run = true;
		return 0;
	case OPT_NAME:
		o->name = arg;
		return 0;
	case OPT_PASSWORD_FD: {
		unsigned fd;

		if (parse_uint("--password-fd", arg, &fd, err) < 0)
			return -1;
		o->password_fd = (int)fd;
		return 0;
	}
	case OPT_TYPE:
		o->set_type = true;
		if (otp_type_parse(arg, &o->type) < 0)
			return totp_err_set(err, TOTP_R_INVALID,
					    "--type: '%s' is not totp or hotp", arg);
		return 0;
	default:
		return totp_err_set(err, TOTP_R_INVALID, "unknown option; try --help");
	}
}

/* Options that make sense only where something is registered. */
static int check_combination(const struct opts *o, struct totp_err *err)
{
	bool registers = o->cmd == CMD_ENROLL || o->cmd == CMD_REGISTER;
	bool params = o->set_type || o->set_alg || o->set_digits || o->set_period;

	if (!registers && (params || o->issuer != NULL || o->qr_file != NULL))
		return totp_err_set(
		    err, TOTP_R_INVALID,
		    "--issuer, --digits, --period, --algorithm, --type and "
		    "--qr-file apply only to register");
	if (o->name != NULL && !registers && o->cmd != CMD_VERIFY && o->cmd != CMD_REMOVE)
		return totp_err_set(err, TOTP_R_INVALID,
				    "--name applies only to register, verify and remove");
	if (o->name != NULL && record_name_check(o->name, NULL) < 0)
		return totp_err_set(
		    err, TOTP_R_INVALID,
		    "--name: not a generator's name (1 to %d of a-z, 0-9, "
		    "'.', '_' and '-')",
		    RECORD_NAME_MAX - 1);
	if (o->qr_file != NULL) {
		size_t n = strlen(o->qr_file);

		if (n < 5 || (strcasecmp(o->qr_file + n - 4, ".png") != 0 &&
			      strcasecmp(o->qr_file + n - 4, ".svg") != 0))
			return totp_err_set(err, TOTP_R_INVALID,
					    "--qr-file %s: name a .png or .svg file",
					    o->qr_file);
	}
	return 0;
}

int opts_parse(int argc, char **argv, struct opts *o, struct totp_err *err)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->cmd = CMD_ENROLL;
	o->password_fd = -1;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":r:u:hV", longopts, NULL)) != -1) {
		if (c == 'h' || c == 'V') {
			o->cmd = c == 'h' ? CMD_HELP : CMD_VERSION;
			return 0;
		}
		if (c == '?')
			return totp_err_set(err, TOTP_R_INVALID,
					    "unknown option '%s'; try totp-enroll --help",
					    argv[optind - 1]);
		if (c == ':')
			return totp_err_set(err, TOTP_R_INVALID,
					    "option '%s' needs a value",
					    argv[optind - 1]);
		if (parse_option(c, optarg, o, err) < 0)
			return -1;
	}
	if (parse_command(argc, argv, o, err) < 0)
		return -1;
	if (check_import(o, err) < 0)
		return -1;
	return check_combination(o, err);
}
