/* ldap_conn: failover, timeouts, TLS and binds over libldap (ldap_conn.h). */
#include "config.h"

#define LDAP_DEPRECATED 0
#include <ldap.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ldap/ldap_conn.h"

/* The watchdog of one server attempt (try_server): libldap 2.5's
 * ldaps:// handshake ignores LDAP_OPT_NETWORK_TIMEOUT against a server that
 * accepts and never answers (it spins on EAGAIN: seen with Debian 12's
 * libldap 2.5.13, ldapwhoami -o nettimeout=1 too).  So a thread waits for
 * the attempt's deadline and, if the attempt is still running, shuts the
 * socket down: libldap's reads then fail and the attempt returns.  The
 * socket is known through libldap's connect callbacks, and forgotten when
 * libldap closes it, under the mutex. */
struct watchdog {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fd;			  /* the attempt's socket, -1 when none */
	bool done;		  /* the attempt returned */
	bool fired;		  /* the deadline passed first */
	struct timespec deadline; /* CLOCK_MONOTONIC */
};

struct ldapc {
	LDAP *ld;
	const struct ldap_realm_cfg *cfg; /* the caller's: outlives the connection */
	const char *uri;		  /* one of cfg->uri */
	int timeout_ms;
	struct ldap_conncb cb; /* libldap keeps a pointer to it */
	struct watchdog *dog;  /* during an attempt only */
};

static int conn_add(LDAP *ld, Sockbuf *sb, LDAPURLDesc *srv, struct sockaddr *addr,
		    struct ldap_conncb *ctx)
{
	struct ldapc *c = ctx->lc_arg;
	ber_socket_t fd = -1;

	(void)ld;
	(void)srv;
	(void)addr;
	if (c->dog == NULL || ber_sockbuf_ctrl(sb, LBER_SB_OPT_GET_FD, &fd) != 1)
		return 0;
	pthread_mutex_lock(&c->dog->mu);
	c->dog->fd = fd;
	if (c->dog->fired)
		shutdown(fd, SHUT_RDWR);
	pthread_mutex_unlock(&c->dog->mu);
	return 0;
}

static void conn_del(LDAP *ld, Sockbuf *sb, struct ldap_conncb *ctx)
{
	struct ldapc *c = ctx->lc_arg;

	(void)ld;
	(void)sb;
	if (c->dog == NULL)
		return;
	pthread_mutex_lock(&c->dog->mu);
	c->dog->fd = -1;
	pthread_mutex_unlock(&c->dog->mu);
}

static void *watch(void *arg)
{
	struct watchdog *w = arg;

	pthread_mutex_lock(&w->mu);
	while (!w->done) {
		if (pthread_cond_timedwait(&w->cv, &w->mu, &w->deadline) == ETIMEDOUT &&
		    !w->done) {
			w->fired = true;
			if (w->fd >= 0)
				shutdown(w->fd, SHUT_RDWR);
			break;
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Starts the watchdog for `ms` (0 on success). */
static int dog_start(struct watchdog *w, pthread_t *t, int64_t ms)
{
	pthread_condattr_t a;
	sigset_t all, old;
	int rc;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	clock_gettime(CLOCK_MONOTONIC, &w->deadline);
	w->deadline.tv_sec += (time_t)(ms / 1000);
	w->deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (w->deadline.tv_nsec >= 1000000000L) {
		w->deadline.tv_sec++;
		w->deadline.tv_nsec -= 1000000000L;
	}
	if (pthread_condattr_init(&a) != 0)
		return -1;
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &a);
	pthread_condattr_destroy(&a);
	pthread_mutex_init(&w->mu, NULL);
	/* The thread takes no signal: a process-directed one (SIGTERM,
	 * SIGALRM, SIGCHLD of sshd or sudo) stays with the application's
	 * threads and handlers.  It inherits the mask it is created with. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(t, NULL, watch, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		return -1;
	}
	return 0;
}

/* Stops the watchdog; true when it fired. */
static bool dog_stop(struct watchdog *w, pthread_t t)
{
	bool fired;

	pthread_mutex_lock(&w->mu);
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(t, NULL);
	fired = w->fired;
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	return fired;
}

void *ldapc_handle(struct ldapc *c)
{
	return c->ld;
}

int ldapc_timeout_ms(const struct ldapc *c)
{
	return c->timeout_ms;
}

const char *ldapc_uri(const struct ldapc *c)
{
	return c->uri;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval tv_ms(int64_t ms)
{
	struct timeval tv;

	if (ms < 1)
		ms = 1;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	return tv;
}

/* Whether an LDAP result code means "this server is not available". */
static bool unavailable(int rc)
{
	switch (rc) {
	case LDAP_SERVER_DOWN:
	case LDAP_TIMEOUT:
	case LDAP_CONNECT_ERROR:
	case LDAP_UNAVAILABLE:
	case LDAP_BUSY:
	case LDAP_TIMELIMIT_EXCEEDED:
	case LDAP_LOCAL_ERROR:
	case LDAP_ENCODING_ERROR:
	case LDAP_DECODING_ERROR:
		return true;
	default:
		return false;
	}
}

static enum totp_reason reason_of(int rc)
{
	if (unavailable(rc))
		return TOTP_R_IO;
	switch (rc) {
	case LDAP_INVALID_CREDENTIALS:
	case LDAP_INSUFFICIENT_ACCESS:
	case LDAP_INAPPROPRIATE_AUTH:
	case LDAP_STRONG_AUTH_REQUIRED:
	case LDAP_CONFIDENTIALITY_REQUIRED:
		return TOTP_R_PERMISSION;
	case LDAP_NO_SUCH_OBJECT:
		return TOTP_R_NOT_FOUND;
	case LDAP_ALREADY_EXISTS:
		return TOTP_R_EXISTS;
	case LDAP_NO_SUCH_ATTRIBUTE:
	case LDAP_TYPE_OR_VALUE_EXISTS:
	case LDAP_CONSTRAINT_VIOLATION:
	case LDAP_NOT_ALLOWED_ON_NONLEAF:
		return TOTP_R_PRECONDITION;
	case LDAP_NO_MEMORY:
		return TOTP_R_NOMEM;
	case LDAP_INVALID_SYNTAX:
	case LDAP_OBJECT_CLASS_VIOLATION:
	case LDAP_UNDEFINED_TYPE:
	case LDAP_INVALID_DN_SYNTAX:
		return TOTP_R_INVALID;
	default:
		return TOTP_R_INTERNAL;
	}
}

static int fail_ld(LDAP *ld, const char *uri, int rc, const char *what,
		   struct totp_err *err)
{
	char *diag = NULL;
	int r;

	if (ld != NULL)
		ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	r = totp_err_set(err, reason_of(rc), "%s: %s: %s (%d)%s%.100s%s", uri, what,
			 ldap_err2string(rc), rc, diag != NULL && diag[0] ? " [" : "",
			 diag != NULL ? diag : "", diag != NULL && diag[0] ? "]" : "");
	ldap_memfree(diag);
	return r;
}

int ldapc_fail(struct ldapc *c, int rc, const char *what, struct totp_err *err)
{
	return fail_ld(c->ld, c->uri, rc, what, err);
}

/* Waits at most `ms` for msgid; *res set on a result.  Returns the LDAP
 * result code of the wait (LDAP_SUCCESS, LDAP_TIMEOUT, ...); on timeout
 * the operation is abandoned. */
static int wait_ms(LDAP *ld, int msgid, int64_t ms, LDAPMessage **res)
{
	struct timeval tv = tv_ms(ms);
	int rc;

	*res = NULL;
	rc = ldap_result(ld, msgid, LDAP_MSG_ALL, &tv, res);
	if (rc > 0)
		return LDAP_SUCCESS;
	if (rc == 0) {
		ldap_abandon_ext(ld, msgid, NULL, NULL);
		return LDAP_TIMEOUT;
	}
	rc = LDAP_SERVER_DOWN;
	ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &rc);
	return rc;
}

int ldapc_wait(struct ldapc *c, int msgid, void **res, const char *what,
	       struct totp_err *err)
{
	LDAPMessage *m = NULL;
	int rc = wait_ms(c->ld, msgid, c->timeout_ms, &m);

	*res = m;
	if (rc != LDAP_SUCCESS)
		return ldapc_fail(c, rc, what, err);
	return 0;
}

int ldapc_read_bindpw(const char *path, char *out, size_t outlen, struct totp_err *err)
{
	struct stat st;
	ssize_t n;
	size_t len;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0) {
		if (errno == ELOOP)
			return totp_err_set(err, TOTP_R_SYMLINK,
					    "ldap_bindpw_file %.200s is a symbolic link",
					    path);
		return totp_err_errno(err, errno, "ldap_bindpw_file %.200s", path);
	}
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return totp_err_errno(err, e, "ldap_bindpw_file %.200s", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return totp_err_set(err, TOTP_R_NOT_REGULAR,
				    "ldap_bindpw_file %.200s is not a regular file",
				    path);
	}
	if (st.st_uid != 0) {
		close(fd);
		return totp_err_set(err, TOTP_R_BAD_OWNER,
				    "ldap_bindpw_file %.200s is not owned by root", path);
	}
	if ((st.st_mode & (S_IRWXO | S_IWGRP)) != 0) {
		close(fd);
		return totp_err_set(
		    err, TOTP_R_BAD_MODE,
		    "ldap_bindpw_file %.200s is readable or writable by others "
		    "(or group-writable): chmod 0600 it",
		    path);
	}
	if (outlen < 2) {
		close(fd);
		return totp_err_set(err, TOTP_R_INVALID, "no room for the bind password");
	}
	n = read(fd, out, outlen);
	close(fd);
	if (n < 0)
		return totp_err_errno(err, errno, "ldap_bindpw_file %.200s", path);
	len = (size_t)n;
	if (len == outlen) {
		explicit_bzero(out, outlen);
		return totp_err_set(err, TOTP_R_INVALID,
				    "ldap_bindpw_file %.200s: longer than %zu bytes",
				    path, outlen - 1);
	}
	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
		len--;
	out[len] = '\0';
	if (len == 0 || memchr(out, '\0', len) != NULL) {
		explicit_bzero(out, outlen);
		return totp_err_set(err, TOTP_R_INVALID,
				    "ldap_bindpw_file %.200s: empty, or holds a NUL byte",
				    path);
	}
	return 0;
}

/* Sets the per-handle options: protocol, no referrals, timeouts, and for
 * TLS the CA and DEMAND, applied with a new TLS context. */
static int set_options(LDAP *ld, const char *uri, const struct ldap_realm_cfg *cfg,
		       int64_t ms, struct ldapc *c, struct totp_err *err)
{
	int v3 = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, server = 0;
	int tls12 = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
	struct timeval tv = tv_ms(ms);

	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_ON) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_CONNECT_CB, &c->cb) != LDAP_OPT_SUCCESS)
		return totp_err_set(err, TOTP_R_INTERNAL, "%s: cannot set LDAP options",
				    uri);
	if (strncmp(uri, "ldapi://", 8) == 0 || cfg->tls_ca == NULL)
		return 0;
	if (ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, cfg->tls_ca) !=
		LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) !=
		LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls12) != LDAP_OPT_SUCCESS)
		return totp_err_set(err, TOTP_R_INTERNAL,
				    "%s: cannot set the TLS options", uri);
	if (ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &server) != LDAP_OPT_SUCCESS)
		return totp_err_set(
		    err, TOTP_R_CONFIG,
		    "%s: cannot make a TLS context with ldap_tls_ca %.200s "
		    "(a readable PEM file of CA certificates?)",
		    uri, cfg->tls_ca);
	return 0;
}

/* One bind (simple when mech is NULL), waited for at most `ms`. */
static int bind_ms(LDAP *ld, const char *uri, const char *dn, const char *mech,
		   struct berval *cred, int64_t ms, struct totp_err *err)
{
	LDAPMessage *res = NULL;
	int msgid = -1, rc, result = LDAP_OTHER;

	rc = ldap_sasl_bind(ld, dn, mech, cred, NULL, NULL, &msgid);
	if (rc != LDAP_SUCCESS)
		return fail_ld(ld, uri, rc, "bind", err);
	rc = wait_ms(ld, msgid, ms, &res);
	if (rc != LDAP_SUCCESS)
		return fail_ld(ld, uri, rc, "bind", err);
	rc = ldap_parse_result(ld, res, &result, NULL, NULL, NULL, NULL, 1);
	if (rc != LDAP_SUCCESS)
		return fail_ld(ld, uri, rc, "bind", err);
	if (result != LDAP_SUCCESS)
		return fail_ld(ld, uri, result, "bind", err);
	return 0;
}

/* SASL EXTERNAL: slapd's Cyrus SASL answers the first step with
 * saslBindInProgress and an empty challenge; the empty response ends it
 * (what ldap_sasl_interactive_bind does, without its callbacks). */
static int bind_external(LDAP *ld, const char *uri, int64_t ms, struct totp_err *err)
{
	int64_t start = now_ms();
	struct berval empty = {0, ""};
	struct berval *cred = NULL;

	for (int step = 0; step < 3; step++) {
		LDAPMessage *res = NULL;
		int msgid = -1, rc, result = LDAP_OTHER;

		rc = ldap_sasl_bind(ld, NULL, "EXTERNAL", cred, NULL, NULL, &msgid);
		if (rc != LDAP_SUCCESS)
			return fail_ld(ld, uri, rc, "SASL EXTERNAL bind", err);
		rc = wait_ms(ld, msgid, ms - (now_ms() - start), &res);
		if (rc != LDAP_SUCCESS)
			return fail_ld(ld, uri, rc, "SASL EXTERNAL bind", err);
		rc = ldap_parse_result(ld, res, &result, NULL, NULL, NULL, NULL, 1);
		if (rc != LDAP_SUCCESS)
			return fail_ld(ld, uri, rc, "SASL EXTERNAL bind", err);
		if (result == LDAP_SUCCESS)
			return 0;
		if (result != LDAP_SASL_BIND_IN_PROGRESS)
			return fail_ld(ld, uri, result, "SASL EXTERNAL bind", err);
		cred = &empty;
	}
	return fail_ld(ld, uri, LDAP_SASL_BIND_IN_PROGRESS, "SASL EXTERNAL bind", err);
}

static int bind_simple(LDAP *ld, const char *uri, const char *dn, const char *password,
		       int64_t ms, struct totp_err *err)
{
	size_t len = strlen(password);
	char *copy = malloc(len + 1);
	struct berval cred;
	int rc;

	if (copy == NULL)
		return totp_err_set(err, TOTP_R_NOMEM, "out of memory");
	memcpy(copy, password, len + 1);
	cred.bv_val = copy;
	cred.bv_len = len;
	rc = bind_ms(ld, uri, dn, LDAP_SASL_SIMPLE, &cred, ms, err);
	explicit_bzero(copy, len);
	free(copy);
	return rc;
}

/* Connect, TLS, bind on one server within `ms`. */
static int try_server(const struct ldap_realm_cfg *cfg, const char *uri, enum ldapc_as as,
		      const char *dn, const char *password, struct ldapc *c, LDAP **out,
		      struct totp_err *err)
{
	int64_t start = now_ms(), ms = cfg->timeout_ms;
	LDAP *ld = NULL;
	char pw[LDAPC_PASSWORD_MAX + 1];
	int rc;

	rc = ldap_initialize(&ld, uri);
	if (rc != LDAP_SUCCESS)
		return totp_err_set(err, TOTP_R_CONFIG, "%s: %s", uri,
				    ldap_err2string(rc));
	if (set_options(ld, uri, cfg, ms, c, err) < 0)
		goto fail;
	if (strncmp(uri, "ldap://", 7) == 0 && cfg->tls_ca != NULL) {
		rc = ldap_start_tls_s(ld, NULL, NULL);
		if (rc != LDAP_SUCCESS) {
			/* Whatever StartTLS answered, this server is not usable. */
			fail_ld(ld, uri, rc, "StartTLS", err);
			err->reason = TOTP_R_IO;
			goto fail;
		}
	}
	ms -= now_ms() - start;
	if (as == LDAPC_SIMPLE) {
		if (bind_simple(ld, uri, dn, password, ms, err) < 0)
			goto fail;
	} else if (as == LDAPC_HOST && cfg->binddn != NULL) {
		if (ldapc_read_bindpw(cfg->bindpw_file, pw, sizeof(pw), err) < 0)
			goto fail;
		rc = bind_simple(ld, uri, cfg->binddn, pw, ms, err);
		explicit_bzero(pw, sizeof(pw));
		if (rc < 0)
			goto fail;
	} else if (as == LDAPC_HOST) {
		/* EXTERNAL with no credentials: the identity is the peer's
		 * uid and gid on ldapi://, as slapd's authz-regexp maps it. */
		if (bind_external(ld, uri, ms, err) < 0)
			goto fail;
	} else {
		/* LDAPC_ANON: make sure the server is there and answers. */
		if (ldap_connect(ld) != LDAP_SUCCESS) {
			fail_ld(ld, uri, LDAP_SERVER_DOWN, "connect", err);
			goto fail;
		}
	}
	*out = ld;
	return 0;
fail:
	ldap_unbind_ext(ld, NULL, NULL);
	return -1;
}

int ldapc_open(const struct ldap_realm_cfg *cfg, enum ldapc_as as, const char *dn,
	       const char *password, struct ldapc **out, struct totp_err *err)
{
	char why[TOTP_ERR_MSG_MAX] = "";
	struct ldapc *c;

	*out = NULL;
	if (cfg->n_uri == 0)
		return totp_err_set(err, TOTP_R_CONFIG, "ldap realm: no ldap_uri");
	if (as == LDAPC_SIMPLE && (dn == NULL || password == NULL || password[0] == '\0'))
		return totp_err_set(err, TOTP_R_INVALID,
				    "a simple bind needs a DN and a password");
	if (as == LDAPC_SIMPLE && strlen(password) > LDAPC_PASSWORD_MAX)
		return totp_err_set(err, TOTP_R_INVALID, "password longer than %d bytes",
				    LDAPC_PASSWORD_MAX);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return totp_err_set(err, TOTP_R_NOMEM, "out of memory");
	c->timeout_ms = cfg->timeout_ms;
	c->cfg = cfg;
	c->cb.lc_add = conn_add;
	c->cb.lc_del = conn_del;
	c->cb.lc_arg = c;
	for (size_t i = 0; i < cfg->n_uri; i++) {
		struct totp_err e;

		totp_err_clear(&e);
		struct watchdog dog;
		pthread_t t;
		int rc;

		if (dog_start(&dog, &t, cfg->timeout_ms) < 0) {
			free(c);
			return totp_err_set(err, TOTP_R_INTERNAL,
					    "cannot start a thread");
		}
		c->dog = &dog;
		rc = try_server(cfg, cfg->uri[i], as, dn, password, c, &c->ld, &e);
		if (dog_stop(&dog, t)) {
			/* Past the deadline: whatever libldap made of it, this
			 * server did not answer in time. */
			if (rc == 0) {
				ldap_unbind_ext(c->ld, NULL, NULL);
				c->ld = NULL;
				rc = -1;
			}
			totp_err_set(&e, TOTP_R_IO, "%s: no answer within %d ms",
				     cfg->uri[i], cfg->timeout_ms);
		}
		c->dog = NULL;
		if (rc == 0) {
			c->uri = cfg->uri[i];
			*out = c;
			return 0;
		}
		if (e.reason != TOTP_R_IO) {
			free(c);
			if (err != NULL)
				*err = e;
			return -1;
		}
		/* Keep the first and last causes; the middle ones repeat. */
		if (why[0] == '\0' || i + 1 == cfg->n_uri) {
			size_t at = strlen(why);

			size_t room = sizeof(why) - at, n = strnlen(e.msg, sizeof(e.msg));

			if (at > 0 && room > 2) {
				memcpy(why + at, "; ", 2);
				at += 2;
				room -= 2;
			}
			if (n >= room)
				n = room - 1;
			memcpy(why + at, e.msg, n);
			why[at + n] = '\0';
		}
	}
	free(c);
	return totp_err_set(err, TOTP_R_IO, "no LDAP server available: %s", why);
}

void ldapc_close(struct ldapc *c)
{
	if (c == NULL)
		return;
	if (c->ld != NULL)
		ldap_unbind_ext(c->ld, NULL, NULL);
	free(c);
}

int ldapc_bind(struct ldapc *c, const char *dn, const char *password,
	       struct totp_err *err)
{
	if (dn == NULL || password == NULL || password[0] == '\0')
		return totp_err_set(err, TOTP_R_INVALID,
				    "a bind needs a DN and a password");
	if (strlen(password) > LDAPC_PASSWORD_MAX)
		return totp_err_set(err, TOTP_R_INVALID, "password longer than %d bytes",
				    LDAPC_PASSWORD_MAX);
	return bind_simple(c->ld, c->uri, dn, password, c->timeout_ms, err);
}

int ldapc_filter_escape(const char *value, char *out, size_t outlen, struct totp_err *err)
{
	static const char hex[] = "0123456789abcdef";
	static const char plain[] = " -._@+=,:;/!~'";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		bool keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || strchr(plain, *p) != NULL;

		if (o + (keep ? 1 : 3) >= outlen)
			return totp_err_set(err, TOTP_R_INVALID,
					    "the escaped value is too long");
		if (keep) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '\\';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	if (outlen == 0)
		return totp_err_set(err, TOTP_R_INVALID, "no room");
	out[o] = '\0';
	return 0;
}

int ldapc_user_filter(const char *filter, const char *user, char *out, size_t outlen,
		      struct totp_err *err)
{
	char esc[LDAPC_USER_MAX * 3 + 1];
	size_t o = 0, elen;

	if (user[0] == '\0' || strlen(user) > LDAPC_USER_MAX)
		return totp_err_set(err, TOTP_R_INVALID,
				    "user name empty or longer than %d", LDAPC_USER_MAX);
	if (ldapc_filter_escape(user, esc, sizeof(esc), err) < 0)
		return -1;
	elen = strlen(esc);
	for (const char *p = filter; *p != '\0'; p++) {
		const char *add = p;
		size_t n = 1;

		if (p[0] == '%' && p[1] == 'u') {
			add = esc;
			n = elen;
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			p++;
		}
		if (o + n >= outlen)
			return totp_err_set(err, TOTP_R_INVALID,
					    "the filter is too long");
		memcpy(out + o, add, n);
		o += n;
	}
	if (outlen == 0)
		return totp_err_set(err, TOTP_R_INVALID, "no room");
	out[o] = '\0';
	return 0;
}

int ldapc_find_user(struct ldapc *c, const char *user, char **dn, struct totp_err *err)
{
	char filter[LDAPC_FILTER_MAX];
	char *attrs[] = {LDAP_NO_ATTRS, NULL};
	LDAPMessage *res = NULL;
	void *r = NULL;
	int msgid = -1, rc, n = 0, result = LDAP_OTHER;
	char *found = NULL;

	*dn = NULL;
	if (ldapc_user_filter(ldap_cfg_filter(c->cfg), user, filter, sizeof(filter),
			      err) < 0)
		return -1;
	rc = ldap_search_ext(c->ld, c->cfg->base, LDAP_SCOPE_SUBTREE, filter, attrs, 0,
			     NULL, NULL, NULL, 2, &msgid);
	if (rc != LDAP_SUCCESS)
		return ldapc_fail(c, rc, "user search", err);
	if (ldapc_wait(c, msgid, &r, "user search", err) < 0)
		return -1;
	res = r;
	for (LDAPMessage *m = ldap_first_message(c->ld, res); m != NULL;
	     m = ldap_next_message(c->ld, m)) {
		if (ldap_msgtype(m) == LDAP_RES_SEARCH_ENTRY) {
			n++;
			if (found == NULL)
				found = ldap_get_dn(c->ld, m);
		} else if (ldap_msgtype(m) == LDAP_RES_SEARCH_RESULT) {
			ldap_parse_result(c->ld, m, &result, NULL, NULL, NULL, NULL, 0);
		}
	}
	ldap_msgfree(res);
	if (n > 1 || (result == LDAP_SIZELIMIT_EXCEEDED && n > 0)) {
		ldap_memfree(found);
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "more than one entry under %.80s matches the user",
				    c->cfg->base);
	}
	if (result != LDAP_SUCCESS && result != LDAP_NO_SUCH_OBJECT) {
		ldap_memfree(found);
		return ldapc_fail(c, result, "user search", err);
	}
	if (found == NULL)
		return totp_err_set(err, TOTP_R_NOT_FOUND,
				    "no entry for the user under %.80s", c->cfg->base);
	*dn = strdup(found);
	ldap_memfree(found);
	if (*dn == NULL)
		return totp_err_set(err, TOTP_R_NOMEM, "out of memory");
	return 0;
}

int ldapc_child_dn(const char *attr, const char *value, const char *parent, char *out,
		   size_t outlen, struct totp_err *err)
{
	static const char hex[] = "0123456789abcdef";
	size_t o, len = strlen(value);
	int n;

	if (len == 0)
		return totp_err_set(err, TOTP_R_INVALID, "an empty RDN value");
	n = snprintf(out, outlen, "%s=", attr);
	if (n < 0 || (size_t)n >= outlen)
		return totp_err_set(err, TOTP_R_INVALID, "the DN is too long");
	o = (size_t)n;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)value[i];
		bool special = strchr(",+\"\\<>;=", ch) != NULL ||
			       (i == 0 && (ch == '#' || ch == ' ')) ||
			       (i + 1 == len && ch == ' ');
		bool hexed = ch < 0x20 || ch == 0x7f;

		if (o + 4 >= outlen)
			return totp_err_set(err, TOTP_R_INVALID, "the DN is too long");
		if (hexed) {
			out[o++] = '\\';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		} else {
			if (special)
				out[o++] = '\\';
			out[o++] = (char)ch;
		}
	}
	n = snprintf(out + o, outlen - o, ",%s", parent);
	if (n < 0 || (size_t)n >= outlen - o)
		return totp_err_set(err, TOTP_R_INVALID, "the DN is too long");
	return 0;
}

/* ---- SIGPIPE (ldap_conn.h) ------------------------------------------------ */

void ldapc_sigpipe_block(struct ldapc_sigpipe *g)
{
	sigset_t pipe_set, pending;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigemptyset(&pending);
	g->was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &pipe_set, &g->old);
}

void ldapc_sigpipe_restore(struct ldapc_sigpipe *g)
{
	sigset_t pipe_set, pending;
	struct timespec zero = {0, 0};

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigemptyset(&pending);
	/* A SIGPIPE raised by a write of ours is pending now: take it. */
	if (!g->was_pending && sigpending(&pending) == 0 &&
	    sigismember(&pending, SIGPIPE) == 1)
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}
