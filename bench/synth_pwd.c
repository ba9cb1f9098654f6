/*
 * synth_pwd: passwd entries for the synthetic users, answered in O(1).
 *
 * pam_totp and pam_google_authenticator look the user up.  A million real
 * accounts are out of the question, and nss_wrapper scans its passwd file
 * for each look-up, which at a million lines would swamp what we measure.
 * So the driver defines getpwnam, getpwnam_r, getpwuid and getpwuid_r
 * itself and is linked with --export-dynamic: the modules it dlopens bind
 * to these before libc's.  A synthetic name (bench%07u below the realm's
 * size) is answered from its index; anything else goes to libc.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "synth.h"
#include "synth_pwd.h"

static uint32_t synth_users; /* how many exist: set once before any login */

void synth_pwd_set_users(uint32_t n)
{
	synth_users = n;
}

/* Copies s into the caller's buffer at *off. */
static char *put(const char *s, char *buf, size_t buflen, size_t *off)
{
	size_t n = strlen(s) + 1;
	char *at;

	if (buflen - *off < n)
		return NULL;
	at = memcpy(buf + *off, s, n);
	*off += n;
	return at;
}

static int fill(uint32_t i, struct passwd *pw, char *buf, size_t buflen)
{
	char name[SYNTH_NAME_BUF];
	size_t off = 0;

	synth_name(i, name);
	pw->pw_name = put(name, buf, buflen, &off);
	pw->pw_passwd = put("x", buf, buflen, &off);
	pw->pw_gecos = put("", buf, buflen, &off);
	pw->pw_dir = put("/nonexistent", buf, buflen, &off);
	pw->pw_shell = put("/usr/sbin/nologin", buf, buflen, &off);
	if (pw->pw_name == NULL || pw->pw_passwd == NULL || pw->pw_gecos == NULL ||
	    pw->pw_dir == NULL || pw->pw_shell == NULL)
		return ERANGE;
	pw->pw_uid = SYNTH_UID_BASE + i;
	pw->pw_gid = SYNTH_UID_BASE + i;
	return 0;
}

static int known_name(const char *name, uint32_t *i)
{
	return name != NULL && synth_parse(name, i) == 0 && *i < synth_users;
}

static int known_uid(uid_t uid, uint32_t *i)
{
	if (uid < SYNTH_UID_BASE || uid - SYNTH_UID_BASE >= synth_users)
		return 0;
	*i = uid - SYNTH_UID_BASE;
	return 1;
}

typedef int (*getpwnam_r_fn)(const char *, struct passwd *, char *, size_t,
			     struct passwd **);
typedef int (*getpwuid_r_fn)(uid_t, struct passwd *, char *, size_t, struct passwd **);
typedef struct passwd *(*getpwnam_fn)(const char *);
typedef struct passwd *(*getpwuid_fn)(uid_t);

/* libc's own, for everyone who is not synthetic. */
static void *next(const char *sym)
{
	return dlsym(RTLD_NEXT, sym);
}

int getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t buflen,
	       struct passwd **result)
{
	uint32_t i;
	int rc;

	if (!known_name(name, &i))
		return ((getpwnam_r_fn)next("getpwnam_r"))(name, pw, buf, buflen, result);
	rc = fill(i, pw, buf, buflen);
	*result = rc == 0 ? pw : NULL;
	return rc;
}

int getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t buflen,
	       struct passwd **result)
{
	uint32_t i;
	int rc;

	if (!known_uid(uid, &i))
		return ((getpwuid_r_fn)next("getpwuid_r"))(uid, pw, buf, buflen, result);
	rc = fill(i, pw, buf, buflen);
	*result = rc == 0 ? pw : NULL;
	return rc;
}

/* The non-reentrant forms share one static entry, as libc's do; the
 * driver is single-threaded. */
static struct passwd static_pw;
static char static_buf[256];

struct passwd *getpwnam(const char *name)
{
	uint32_t i;

	if (!known_name(name, &i))
		return ((getpwnam_fn)next("getpwnam"))(name);
	return fill(i, &static_pw, static_buf, sizeof(static_buf)) == 0 ? &static_pw
									: NULL;
}

struct passwd *getpwuid(uid_t uid)
{
	uint32_t i;

	if (!known_uid(uid, &i))
		return ((getpwuid_fn)next("getpwuid"))(uid);
	return fill(i, &static_pw, static_buf, sizeof(static_buf)) == 0 ? &static_pw
									: NULL;
}
