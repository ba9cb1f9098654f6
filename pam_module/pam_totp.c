/*
 * pam_totp: the PAM face of lib/login: options, prompting, privileges and
 * return codes.  Every rule about codes, records and locks is in lib/.
 *
 * The flow: settings (pam_totp.conf, then the pam.d arguments); the user;
 * a short shared look at the record (login_precheck) so that nobody holds
 * the store's lock while a person types; the prompt; then the check that
 * counts, under one exclusive lock (login_check).  A user store is only
 * touched after dropping to its owner, and privileges come back before the
 * next step, on every path.
 */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#define PAM_SM_AUTH
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>

#include "chars.h"
#include "clock.h"
#include "account.h"
#include "cfg.h"
#include "emergency.h"
#include "location.h"
#include "ldap_store.h"
#include "login.h"
#include "otp.h"
#include "user_name.h"

/* Requested on every call: libpam applies it only when the stack fails,
 * and takes the longest any module asked for. */
#define FAIL_DELAY_USEC 2000000u
/* An answer holds at most a password and a code. */
#define ANSWER_MAX (PAM_MAX_RESP_SIZE + 1)
#define FORWARD_PROMPT "Password and verification code: "
#define PASSWORD_PROMPT "Password: "
#define LOCKED_MESSAGE "Too many failed attempts: try again later."

struct ctx {
	pam_handle_t *pamh;
	int flags;
	struct cfg cfg;
	const char *user; /* as the application gave it */
	const char *service;
	const char *rhost;
	bool known; /* the user exists: acct and loc are filled */
	struct account acct;
	struct store_location loc;
	struct store_keep keep; /* the look's folder and lock, for the check */
};

/* A log field's value: "-" when empty; else each byte that is not a
 * letter, a digit or one of . _ - @ : / + , ~ is written as \xHH (a blank,
 * '=', a quote, '\\', ';', control bytes, UTF-8).  So a value is one word
 * that cannot hold another field: no service or remote host can forge
 * "rhost=..." for a log reader (fail2ban), nor put a line break in
 * (issue 18).  Cut to fit out. */
#define LOG_VALUE_MAX (4 * 256 + 1)
static enum chars_form field_form(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("._-@:/+,~", c) != NULL))
		return CHARS_AS_IS;
	return CHARS_HEX;
}

static const char *log_value(const char *s, char *out, size_t outsz)
{
	if (s == NULL || *s == '\0')
		return "-";
	return chars_escape(s, field_form, out, outsz);
}

/* The message itself: printable ASCII as it is, any other byte as \xHH,
 * so that nothing it quotes (an error naming a path) breaks the line. */
static enum chars_form message_form(unsigned char c)
{
	return c >= 0x20 && c < 0x7f ? CHARS_AS_IS : CHARS_HEX;
}

static void log_text(char *s)
{
	char tmp[TOTP_ERR_MSG_MAX + 128];

	chars_escape(s, message_form, tmp, sizeof(tmp));
	memcpy(s, tmp, strlen(tmp) + 1);
}

/* Who, for the log.  A known user by name (escaped as any field).  A name
 * that is nobody's is never logged: it may be a password typed in the
 * wrong place, or fields forged for a log reader (issue 18); a name that
 * cannot even be a key is "(invalid name)", any other "(unknown)". */
static const char *user_for_log(const struct ctx *x, char *out, size_t outsz)
{
	if (x->known)
		return log_value(x->acct.name, out, outsz);
	if (x->user != NULL && user_name_check(x->user, NULL) == 0)
		return "(unknown)";
	return "(invalid name)";
}

/* One log line, always naming who, where and from where; never a code. */
__attribute__((format(printf, 3, 4))) static void note(const struct ctx *x, int prio,
						       const char *fmt, ...)
{
	char what[TOTP_ERR_MSG_MAX + 128], user[LOG_VALUE_MAX], realm[LOG_VALUE_MAX],
	    service[LOG_VALUE_MAX], rhost[LOG_VALUE_MAX];
	va_list ap;

	if ((prio & LOG_PRIMASK) == LOG_DEBUG && !x->cfg.debug)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	log_text(what);
	pam_syslog(x->pamh, LOG_AUTHPRIV | prio,
		   "%s; user=%s realm=%s service=%s rhost=%s", what,
		   user_for_log(x, user, sizeof(user)),
		   log_value(x->cfg.realm, realm, sizeof(realm)),
		   log_value(x->service, service, sizeof(service)),
		   log_value(x->rhost, rhost, sizeof(rhost)));
}

static bool silent(const struct ctx *x)
{
	return ((unsigned)x->flags & PAM_SILENT) != 0;
}

static void tell_user(const struct ctx *x, const char *msg)
{
	if (!silent(x))
		(void)pam_error(x->pamh, "%s", msg);
}

static const char *item_string(pam_handle_t *pamh, int item)
{
	const void *v = NULL;

	if (pam_get_item(pamh, item, &v) != PAM_SUCCESS)
		return NULL;
	return v;
}

/* ---- privileges ---------------------------------------------------------- */

/* Linux-PAM's own initialiser stores -1 in uid_t/gid_t fields. */
#define DEF_PRIVS(n)                                                                     \
	_Pragma("GCC diagnostic push")                                                   \
	    _Pragma("GCC diagnostic ignored \"-Wsign-conversion\"")                      \
		PAM_MODUTIL_DEF_PRIVS(n);                                                \
	_Pragma("GCC diagnostic pop")

/* For a user store: from here on, files are opened as the user. */
static int drop(struct ctx *x, struct pam_modutil_privs *p, struct totp_err *err)
{
	const struct passwd *pw;

	if (!x->loc.per_user)
		return 0;
	pw = pam_modutil_getpwnam(x->pamh, x->acct.name);
	if (pw == NULL)
		return totp_err_set(err, TOTP_R_NOT_FOUND, "cannot look up %s again",
				    x->acct.name);
	if (pam_modutil_drop_priv(x->pamh, p, pw) != PAM_SUCCESS)
		return totp_err_set(err, TOTP_R_PERMISSION,
				    "cannot drop privileges to %s to read the user store",
				    x->acct.name);
	return 0;
}

static int regain(struct ctx *x, struct pam_modutil_privs *p, struct totp_err *err)
{
	if (!x->loc.per_user)
		return 0;
	if (pam_modutil_regain_priv(x->pamh, p) != PAM_SUCCESS)
		return totp_err_set(
		    err, TOTP_R_INTERNAL,
		    "cannot regain privileges after reading the user store");
	return 0;
}

static int precheck_as_user(struct ctx *x, struct login_result *res, struct totp_err *err)
{
	DEF_PRIVS(privs)
	int rc;

	if (drop(x, &privs, err) < 0)
		return -1;
	rc = login_precheck_from(&x->cfg, &x->loc, x->acct.name, x->rhost, clock_now_ms(),
				 res, err);
	if (regain(x, &privs, err) < 0)
		rc = -1;
	return rc;
}

static int check_as_user(struct ctx *x, const char *code, bool retry,
			 struct login_result *res, struct totp_err *err)
{
	DEF_PRIVS(privs)
	struct login_event ev = {
	    .service = x->service, .rhost = x->rhost, .retry = retry};
	int rc;

	if (drop(x, &privs, err) < 0)
		return -1;
	ev.now_ms = clock_now_ms();
	rc = login_check(&x->cfg, &x->loc, x->acct.name, code, &ev, res, err);
	if (regain(x, &privs, err) < 0)
		rc = -1;
	return rc;
}

/* ---- the answer ---------------------------------------------------------- */

static bool is_code_shaped(const char *s, unsigned digits)
{
	size_t n = strlen(s);

	return (n == digits || n == EMERGENCY_DIGITS) && chars_all_digits(s, n);
}

/* Copies s into out; an answer too long to be anything becomes "", which
 * is a wrong code like any other. */
static void take(char out[ANSWER_MAX], const char *s)
{
	size_t n = strlen(s);

	if (n >= ANSWER_MAX)
		n = 0;
	memcpy(out, s, n);
	out[n] = '\0';
}

/* One prompt through the conversation; `what` names the answer in the
 * log line of a failure.  The application's copy is wiped. */
static int prompt_for(struct ctx *x, int style, const char *prompt, const char *what,
		      char out[ANSWER_MAX])
{
	char *resp = NULL;
	int rc = pam_prompt(x->pamh, style, &resp, "%s", prompt);

	if (rc == PAM_SUCCESS && resp == NULL)
		rc = PAM_CONV_ERR;
	if (rc == PAM_SUCCESS)
		take(out, resp);
	if (resp != NULL) {
		explicit_bzero(resp, strlen(resp));
		free(resp);
	}
	if (rc != PAM_SUCCESS)
		note(x, LOG_ERR, "cannot read the %s: %s", what,
		     pam_strerror(x->pamh, rc));
	return rc;
}

static int ask(struct ctx *x, const char *prompt, char out[ANSWER_MAX])
{
	int style = x->cfg.echo_code ? PAM_PROMPT_ECHO_ON : PAM_PROMPT_ECHO_OFF;

	return prompt_for(x, style, prompt, "answer", out);
}

/* forward_pass: "PASSWORDCODE" in one answer.  The trailing `digits`
 * characters are the code; the rest becomes PAM_AUTHTOK for the next
 * module (pam_unix use_first_pass).  With nothing before the code, no
 * token is set, so the next module cannot be handed an empty password. */
static int ask_forward(struct ctx *x, unsigned digits, char code[ANSWER_MAX])
{
	struct cfg d;
	char answer[ANSWER_MAX];
	size_t n;
	int rc;

	cfg_defaults(&d);
	rc = ask(x, strcmp(x->cfg.prompt, d.prompt) == 0 ? FORWARD_PROMPT : x->cfg.prompt,
		 answer);
	if (rc != PAM_SUCCESS)
		return rc;
	n = strlen(answer);
	if (n > digits) {
		take(code, answer + n - digits);
		answer[n - digits] = '\0';
		rc = pam_set_item(x->pamh, PAM_AUTHTOK, answer);
	} else {
		take(code, answer);
	}
	explicit_bzero(answer, sizeof(answer));
	if (rc != PAM_SUCCESS)
		note(x, LOG_ERR, "cannot pass the password on: %s",
		     pam_strerror(x->pamh, rc));
	return rc;
}

/* The code from a prompt (forward_pass: with the password before it). */
static int ask_code(struct ctx *x, unsigned digits, char code[ANSWER_MAX])
{
	if (x->cfg.forward_pass)
		return ask_forward(x, digits, code);
	return ask(x, x->cfg.prompt, code);
}

/* The code, from PAM_AUTHTOK (use_first_pass, try_first_pass) or a prompt.
 * try_first_pass takes the token only if it looks like a code (*borrowed
 * then set): a password left by an earlier module is asked past. */
static int get_code(struct ctx *x, unsigned digits, char code[ANSWER_MAX], bool *borrowed)
{
	const char *tok = NULL;

	*borrowed = false;
	if (x->cfg.use_first_pass || x->cfg.try_first_pass)
		tok = item_string(x->pamh, PAM_AUTHTOK);
	if (tok != NULL && (x->cfg.use_first_pass || is_code_shaped(tok, digits))) {
		take(code, tok);
		*borrowed = x->cfg.try_first_pass && !x->cfg.use_first_pass;
		return PAM_SUCCESS;
	}
	if (x->cfg.use_first_pass) {
		note(x, LOG_ERR, "use_first_pass, but no earlier module set a token");
		return PAM_AUTH_ERR;
	}
	return ask_code(x, digits, code);
}

/* ---- outcomes ------------------------------------------------------------ */

static int store_trouble(const struct ctx *x, const struct totp_err *err)
{
	note(x, LOG_ERR, "cannot check the code: %s (%s)", err->msg,
	     totp_reason_name(err->reason));
	return PAM_AUTHINFO_UNAVAIL;
}

/* The answer asked for and thrown away, for a user it is not checked
 * against: every user is asked, so the prompt tells nobody who is
 * enrolled or locked out. */
static int ask_anyway(struct ctx *x, unsigned digits, bool equal_work)
{
	char code[ANSWER_MAX];
	struct totp_err err;
	bool borrowed;
	int rc = get_code(x, digits, code, &borrowed);

	/* the hashing an enrolled user's emergency-shaped answer costs */
	if (rc == PAM_SUCCESS && equal_work && login_equal_work(&x->cfg, code, &err) < 0)
		rc = store_trouble(x, &err);
	explicit_bzero(code, sizeof(code));
	return rc;
}

static int locked_out(const struct ctx *x, const struct login_result *res)
{
	note(x, LOG_NOTICE, "refused: locked out for %lld more seconds",
	     (long long)(res->locked_until - clock_now_ms() / 1000));
	tell_user(x, LOCKED_MESSAGE);
	return PAM_MAXTRIES;
}

/* Nobody to check against: an unknown user, or no ready generator.  With
 * nullok, this module steps aside; without, the user is asked all the same
 * and refused, so that nobody learns who is enrolled. */
static int not_enrolled(struct ctx *x, unsigned digits)
{
	int rc;

	if (x->cfg.nullok) {
		note(x, LOG_DEBUG, "no ready generator: ignored (nullok)");
		return PAM_IGNORE;
	}
	rc = ask_anyway(x, digits, true);
	if (rc != PAM_SUCCESS)
		return rc;
	note(x, LOG_NOTICE, "refused: %s",
	     x->known ? "no ready generator" : "unknown user");
	return PAM_AUTH_ERR;
}

/* Whether a look before the prompt decides anything: nullok (a user
 * with no ready generator steps aside unasked), grace_period (a host
 * within it is not asked), try_first_pass and forward_pass (both take the
 * code's length from the user's generator).  Without them every user is
 * asked all the same, enrolled, locked out or not, and the check after
 * the answer, under the lock, finds all a look would have: a login then
 * opens the store once (issue 15). */
static bool look_first(const struct cfg *c)
{
	return c->nullok || c->grace_period != 0 || c->try_first_pass || c->forward_pass;
}

static int report(const struct ctx *x, const struct login_result *res)
{
	switch (res->outcome) {
	case LOGIN_SUCCESS:
		if (!res->emergency) {
			char gen[LOG_VALUE_MAX];

			note(x, LOG_NOTICE, "accepted a code of generator %s",
			     log_value(res->generator, gen, sizeof(gen)));
			return PAM_SUCCESS;
		}
		note(x, LOG_NOTICE, "accepted an emergency code, %u left",
		     res->emergency_left);
		if (!silent(x))
			(void)pam_info(x->pamh, "Emergency code accepted: %u left.",
				       res->emergency_left);
		return PAM_SUCCESS;
	case LOGIN_WRONG_CODE:
		if (!res->locked_now) {
			note(x, LOG_NOTICE,
			     "refused: wrong code, %u consecutive failures",
			     res->failures);
			return PAM_AUTH_ERR;
		}
		note(x, LOG_WARNING,
		     "refused: wrong code, locked out for %u seconds after %u failures",
		     x->cfg.lockout, res->failures);
		tell_user(x, LOCKED_MESSAGE);
		return PAM_MAXTRIES;
	case LOGIN_LOCKED_OUT:
		return locked_out(x, res);
	case LOGIN_NOT_ENROLLED:
	default:
		/* never a pass: asked without a look, or removed while the
		 * user typed */
		note(x, LOG_NOTICE, "refused: %s",
		     look_first(&x->cfg) ? "the generator went away during the prompt"
					 : "no ready generator");
		return PAM_AUTH_ERR;
	}
}

/* A token borrowed with try_first_pass that is not the code (a password
 * of digits, most likely): its failure is stored like any other, before
 * its check could be cut short, and then the user is asked.  The answer
 * is checked as a retry: wrong, it is not counted again, so the session
 * counts one failure; right, it clears the count.  A user who does not
 * answer leaves the one failure counted: a borrowed token must not be a
 * free guess. */
static bool ask_past_token(const struct ctx *x, bool borrowed,
			   const struct login_result *res)
{
	if (!borrowed || res->outcome != LOGIN_WRONG_CODE || res->locked_now)
		return false;
	note(x, LOG_DEBUG, "try_first_pass: the token is not the code; asking");
	return true;
}

static int check(struct ctx *x, unsigned digits)
{
	struct login_result res;
	struct totp_err err;
	char code[ANSWER_MAX];
	bool borrowed;
	int rc;

	rc = get_code(x, digits, code, &borrowed);
	if (rc == PAM_SUCCESS && check_as_user(x, code, false, &res, &err) < 0)
		rc = store_trouble(x, &err);
	else if (rc == PAM_SUCCESS && ask_past_token(x, borrowed, &res)) {
		explicit_bzero(code, sizeof(code));
		rc = ask_code(x, digits, code);
		if (rc == PAM_SUCCESS && check_as_user(x, code, true, &res, &err) < 0)
			rc = store_trouble(x, &err);
		else if (rc == PAM_SUCCESS)
			rc = report(x, &res);
	} else if (rc == PAM_SUCCESS)
		rc = report(x, &res);
	explicit_bzero(code, sizeof(code));
	return rc;
}

/* ---- setting up ---------------------------------------------------------- */

static int load_settings(struct ctx *x, int argc, const char **argv)
{
	struct totp_err err;

	if (cfg_load_module(&x->cfg, argc, argv, &err) < 0) {
		note(x, LOG_ERR, "configuration refused, failing closed: %s", err.msg);
		return PAM_SERVICE_ERR;
	}
	if (otp_init(&err) < 0) {
		note(x, LOG_ERR, "cannot start: %s", err.msg);
		return PAM_AUTHINFO_UNAVAIL;
	}
	return PAM_SUCCESS;
}

/* 1: a known user, acct and loc filled; 0: no such user; -1: trouble. */
static int resolve_user(struct ctx *x, struct totp_err *err)
{
	struct totp_err e;

	if (x->cfg.store == CFG_STORE_LDAP) {
		/* The directory knows the user (ldap_filter); the machine may
		 * not (no sssd on it), and needs no home for the store. */
		if (user_name_check(x->user, NULL) != 0)
			return 0;
		snprintf(x->acct.name, sizeof(x->acct.name), "%s", x->user);
	} else if (account_lookup(x->user, &x->acct, &e) < 0) {
		if (e.reason == TOTP_R_NOT_FOUND || e.reason == TOTP_R_INVALID)
			return 0;
		*err = e;
		return -1;
	}
	if (location_for(&x->cfg, &x->acct, &x->loc, err) < 0)
		return -1;
	x->loc.keep = &x->keep; /* one walk a login (issue 15) */
	x->known = true;
	note(x, LOG_DEBUG, "store %s (%s)", x->loc.where,
	     x->loc.per_user ? "user store" : "system store");
	return 1;
}

/* ---- ldap_check = bind (issue 14) ---------------------------------------- */

/* The user's password: PAM_AUTHTOK from an earlier module (use_first_pass,
 * try_first_pass), else asked, never echoed.  In this mode the first_pass
 * options are about the password, not the code. */
static int get_password(struct ctx *x, char out[ANSWER_MAX])
{
	const char *tok = NULL;

	if (x->cfg.use_first_pass || x->cfg.try_first_pass)
		tok = item_string(x->pamh, PAM_AUTHTOK);
	if (tok != NULL && tok[0] != '\0') {
		take(out, tok);
		return PAM_SUCCESS;
	}
	if (x->cfg.use_first_pass) {
		note(x, LOG_ERR, "use_first_pass, but no earlier module set a password");
		return PAM_AUTH_ERR;
	}
	return prompt_for(x, PAM_PROMPT_ECHO_OFF, PASSWORD_PROMPT, "password", out);
}

/* The password, then the code, and one bind as the user with both:
 * slapo-otp checks the code in the directory, which records its step. */
static int bind_login(struct ctx *x)
{
	char password[ANSWER_MAX], code[ANSWER_MAX];
	struct totp_err err;
	char *dn = NULL;
	int rc = ldap_store_bind_lookup(&x->loc, x->acct.name, &dn, &err);

	if (rc < 0)
		return store_trouble(x, &err);
	if (rc == 0)
		return not_enrolled(x, x->cfg.params.digits);
	rc = get_password(x, password);
	if (rc == PAM_SUCCESS)
		rc = ask(x, x->cfg.prompt, code);
	if (rc == PAM_SUCCESS) {
		int ok = ldap_store_bind_check(&x->loc, dn, password, code, &err);

		if (ok < 0) {
			rc = store_trouble(x, &err);
		} else if (ok == 1) {
			note(x, LOG_NOTICE, "accepted (ldap bind)");
			rc = PAM_SUCCESS;
		} else {
			note(x, LOG_NOTICE,
			     "refused: the directory refused the password and code");
			rc = PAM_AUTH_ERR;
		}
	}
	explicit_bzero(password, sizeof(password));
	explicit_bzero(code, sizeof(code));
	free(dn);
	return rc;
}

static int authenticate(struct ctx *x)
{
	struct login_result pre;
	struct totp_err err;
	int rc = resolve_user(x, &err);

	if (rc < 0)
		return store_trouble(x, &err);
	if (rc == 0)
		return not_enrolled(x, x->cfg.params.digits);
	if (x->cfg.store == CFG_STORE_LDAP && x->cfg.ldap.check == LDAP_CHECK_BIND)
		return bind_login(x);
	if (!look_first(&x->cfg))
		return check(x, x->cfg.params.digits);
	if (precheck_as_user(x, &pre, &err) < 0)
		return store_trouble(x, &err);
	switch (pre.outcome) {
	case LOGIN_READY:
		return check(x, pre.digits);
	case LOGIN_GRACE:
		/* grace_period (login.h): a code from this PAM_RHOST lately */
		note(x, LOG_NOTICE,
		     "accepted without a code: grace period, a code from this host "
		     "%lld seconds ago",
		     (long long)pre.grace_age);
		return PAM_SUCCESS;
	case LOGIN_LOCKED_OUT:
		/* asked first, as everyone: the refusal comes after the prompt */
		rc = ask_anyway(x, pre.digits, false);
		return rc != PAM_SUCCESS ? rc : locked_out(x, &pre);
	case LOGIN_NOT_ENROLLED:
	case LOGIN_WRONG_CODE:
	case LOGIN_SUCCESS:
	default:
		return not_enrolled(x, x->cfg.params.digits);
	}
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
				   const char **argv)
{
	struct ctx *x = calloc(1, sizeof(*x)); /* several KiB: not on someone's stack */
	int rc;

	if (x == NULL)
		return PAM_BUF_ERR;
	(void)pam_fail_delay(pamh, FAIL_DELAY_USEC);
	store_keep_init(&x->keep);
	x->pamh = pamh;
	x->flags = flags;
	x->service = item_string(pamh, PAM_SERVICE);
	x->rhost = item_string(pamh, PAM_RHOST);
	rc = load_settings(x, argc, argv);
	if (rc == PAM_SUCCESS) {
		rc = pam_get_user(pamh, &x->user, NULL);
		if (rc == PAM_SUCCESS && x->user == NULL)
			rc = PAM_AUTH_ERR;
		if (rc != PAM_SUCCESS)
			note(x, LOG_ERR, "cannot get the user name: %s",
			     pam_strerror(pamh, rc));
		else
			rc = authenticate(x);
	}
	store_keep_release(&x->keep);
	cfg_free(&x->cfg);
	explicit_bzero(x, sizeof(*x));
	free(x);
	return rc;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}
