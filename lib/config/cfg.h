/*
 * cfg: settings, from pam_totp.conf and then from pam.d arguments.
 *
 * One struct holds everything, and one call fills it for the module and
 * for totp-enroll alike: cfg_load() takes the defaults, the realm, the
 * file, then the arguments, which win, and checks the whole.  The file:
 *
 *     # comment
 *     key = value          (before any section: for every realm)
 *     [realm]
 *     key = value          (for this realm only)
 *
 * Only the chosen realm's section and the keys before the first section
 * are applied, but every line is checked.  An unknown key, a bad value, a
 * malformed line or a section named twice is TOTP_R_CONFIG with the file
 * and line in the message.  A pam.d argument is `key=value`, or `key`
 * alone for a flag, with the same keys and values.  The realm itself is
 * chosen before the file is read, from `realm=` (cfg_prescan_args).
 *
 * Keys (default):
 *   issuer (host name) store (user: ~/.config/totp/%r.db; system:
 *   /var/lib/totp/%r.db; or a path template with %h home, %u user, %r
 *   realm, %% a percent) type (totp) algorithm (sha1) digits (6)
 *   period (30) window (1) max_failures (5) lockout (300, seconds)
 *   emergency_codes (5) lock_timeout (2000, ms) sync_login (no)
 *   grace_period (0 = off, seconds, at most CFG_GRACE_MAX)
 *   allow_algorithms (sha1,sha256,sha512) allow_digits (6,8)
 *   allow_periods (30,60) allow_types (totp,hotp)
 * Module options: nullok prompt ("Verification code: ") echo_code debug
 *   use_first_pass try_first_pass forward_pass realm conf.
 * Flags take no value as arguments, and yes/no/true/false/1/0 in the file.
 *
 * Details of the file format:
 *   - lines up to 4095 bytes (CRLF ends are fine), the file up to 1 MiB;
 *   - a value runs to the end of the line, or to a '#' that follows a
 *     blank (a trailing comment), and is trimmed; a value in double quotes
 *     is taken as written (keeps blanks and '#'; no escapes);
 *   - a key given twice in the same place: the later one wins;
 *   - realm= and conf= are pam.d arguments only (refused in the file);
 *   - a realm other than "default" must have a [realm] section (it may be
 *     empty), else TOTP_R_CONFIG: a mistyped realm= must not silently
 *     open a fresh, empty store.  This holds for a missing file too.
 * Values: integers are plain decimal digits within their range (window
 * 0-10, digits 6-8, period 1-3600, max_failures 0-1000, lockout 0-86400,
 * emergency_codes 0-10, lock_timeout 1-60000, grace_period 0-86400);
 * allow_* are comma- or
 * blank-separated and replace the default set (allow_periods: at most 7);
 * issuer and prompt are 1-127 bytes of UTF-8 without control characters;
 * a store template starts with '/' or "%h" and knows %h %u %r %% only.
 */
#ifndef TOTP_CFG_H
#define TOTP_CFG_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "errors.h"
#include "ldap/ldap_cfg.h"
#include "otp.h"
#include "record.h"

#define CFG_REALM_MAX 64
#define CFG_ISSUER_MAX 128
#define CFG_PROMPT_MAX 128
#define CFG_PATH_MAX 1024
#define CFG_EMERGENCY_MAX RECORD_EMERGENCY_MAX
/* grace_period's bound: one day.  Grace trusts a remote address, not a
 * person; a day covers a working day of ssh sessions from one desk, and
 * anything longer is a standing exemption for an address, which is what
 * pam_access is for. */
#define CFG_GRACE_MAX 86400

enum cfg_store_kind {
	CFG_STORE_USER = 0,
	CFG_STORE_SYSTEM = 1,
	CFG_STORE_PATH = 2,
	CFG_STORE_LDAP = 3, /* store = ldap: the realm's ldap_* keys (issue 14) */
};

struct cfg {
	char realm[CFG_REALM_MAX + 1];
	char conf_path[CFG_PATH_MAX];

	/* realm policy */
	char issuer[CFG_ISSUER_MAX]; /* "" until set: the caller uses the host name */
	enum cfg_store_kind store;
	char store_path[CFG_PATH_MAX]; /* the template in force */
	struct otp_params params;
	unsigned window;
	unsigned max_failures; /* 0: never lock */
	unsigned lockout;      /* seconds */
	unsigned emergency_codes;
	int lock_timeout_ms;
	bool sync_login;
	unsigned grace_period;	   /* seconds; 0: off (issue 17) */
	unsigned allow_algorithms; /* bit (1 << enum otp_alg) */
	unsigned allow_digits;	   /* bit (1 << digits) */
	unsigned allow_types;	   /* bit (1 << enum otp_type) */
	unsigned allow_periods[8]; /* 0-terminated */

	/* module options */
	bool nullok;
	bool echo_code;
	bool debug;
	bool use_first_pass;
	bool try_first_pass;
	bool forward_pass;
	char prompt[CFG_PROMPT_MAX];

	/* store = ldap: the ldap_* keys of the realm's section (ldap_cfg.h;
	 * malloc'd strings, freed by cfg_free) */
	struct ldap_realm_cfg ldap;
};

/* The default configuration file, $sysconfdir/security/pam_totp.conf. */
const char *cfg_default_path(void);

/* Fills c with the built-in defaults listed above: realm "default", the
 * default file, a user store.  cfg_load starts here. */
void cfg_defaults(struct cfg *c);

/* Frees what the ldap_* keys allocated (cfg_defaults again after it). */
void cfg_free(struct cfg *c);

/* A valid realm name: [A-Za-z0-9][A-Za-z0-9._-]{0,63}. 0 or -1. */
int cfg_realm_check(const char *realm, struct totp_err *err);

/* Sets one key from a string (used by the file and the arguments).
 * `where` names the origin for messages ("pam_totp.conf:12"). */
int cfg_set(struct cfg *c, const char *key, const char *value, const char *where,
	    struct totp_err *err);

/*
 * The one loader.  Fills c with the defaults; the realm `realm` (NULL:
 * realm= among the arguments, else "default"); the file at `path` (NULL:
 * conf= among the arguments, else cfg_default_path(); a missing one then
 * means the defaults, see the realm rule above); and the pam.d arguments
 * (argc 0 for none), which win.  The file is walked from "/" without
 * following a link (safe_open.h) and must be a regular file writable by
 * no one but its owner, root; a file the caller named with `path` may be
 * `caller`'s too (totp-enroll: a user's own --conf, which can only change
 * the user's own generator).  Last, the settings are checked together:
 * forward_pass with use_first_pass or try_first_pass is TOTP_R_CONFIG, and
 * so is forward_pass with grace_period (a login within grace is not
 * asked, so no password would be passed on).
 */
int cfg_load(struct cfg *c, const char *path, const char *realm, int argc,
	     const char **argv, uid_t caller, struct totp_err *err);

/* The module's call: cfg_load with no path, no realm, root's file. */
int cfg_load_module(struct cfg *c, int argc, const char **argv, struct totp_err *err);

/* One step of cfg_load, for tests: reads the file at c->conf_path for
 * realm c->realm.  When `must_be_root`, the file must be root's and
 * writable by no one else (TOTP_R_BAD_OWNER, TOTP_R_BAD_MODE); else any
 * regular file will do.  A missing file is fine (defaults stay) when
 * `missing_ok`, for the "default" realm (a named realm needs its
 * section, see above). */
int cfg_load_file(struct cfg *c, bool must_be_root, bool missing_ok,
		  struct totp_err *err);

/* Parses text as a file would be; `name` labels messages.  cfg_load
 * calls it on what it read, and so do the tests and fuzz_cfg. */
int cfg_load_buffer(struct cfg *c, const char *text, size_t len, const char *name,
		    struct totp_err *err);

/* From pam.d arguments, takes only realm= and conf= (to know which file
 * and section to read); rejects malformed ones.  A step of cfg_load. */
int cfg_prescan_args(struct cfg *c, int argc, const char **argv, struct totp_err *err);

/* Applies every pam.d argument over the file's settings.  A step of
 * cfg_load. */
int cfg_apply_args(struct cfg *c, int argc, const char **argv, struct totp_err *err);

/* Whether the realm lets an enrolling user choose these (the period only
 * matters for TOTP). */
bool cfg_allows(const struct cfg *c, const struct otp_params *p);

#endif
