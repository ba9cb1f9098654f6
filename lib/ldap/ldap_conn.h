/*
 * ldap_conn: a connection to the realm's directory, over libldap.
 *
 * Failover.  ldapc_open() tries cfg->uri in order; the first server that
 * connects, (for ldap:// with ldap_tls_ca) completes StartTLS, and
 * answers the bind is used.  Only a server that is unavailable (refused,
 * down, stalled, timed out, a TLS handshake or certificate refused) makes
 * it go on to the next; an answer such as invalidCredentials is final.
 *
 * Time.  Each server gets cfg->timeout_ms for all of connect, TLS and
 * bind: LDAP_OPT_NETWORK_TIMEOUT bounds the connect, LDAP_OPT_TIMEOUT the
 * StartTLS exchange, the bind is waited for with ldap_result() on the
 * time left, then abandoned; and a watchdog thread shuts the socket down
 * when the attempt outlives its deadline (libldap 2.5.13 spins forever in
 * an ldaps:// handshake with a server that accepts and never answers,
 * whatever the timeouts).  Every later operation on the connection is
 * waited for at most cfg->timeout_ms.  So a silent server never holds a
 * call longer than about the timeout, and ldapc_open() returns within
 * about n_uri times the timeout.
 *
 * TLS.  ldaps://, and ldap:// when ldap_tls_ca is set (StartTLS,
 * required), verify the server's certificate against ldap_tls_ca alone and
 * its name against the URI's host: LDAP_OPT_X_TLS_CACERTFILE and
 * LDAP_OPT_X_TLS_REQUIRE_CERT = DEMAND, set on the handle and applied
 * with LDAP_OPT_X_TLS_NEWCTX (never the process-wide defaults, nor
 * ldap.conf's TLS_REQCERT).  There is no way to skip verification.
 *
 * Identities.  LDAPC_HOST binds as cfg->binddn with the password in
 * cfg->bindpw_file (opened O_NOFOLLOW; it must be a regular file owned by
 * root with no permission for others: TOTP_R_SYMLINK, _NOT_REGULAR,
 * _BAD_OWNER, _BAD_MODE otherwise), or with SASL EXTERNAL over ldapi://
 * when there is no binddn.  LDAPC_SIMPLE binds as a given DN and password
 * (a user, for enrollment).  LDAPC_ANON does not bind.
 *
 * Errors (errors.h): TOTP_R_IO when no server was available (each
 * server's cause is in the message): this maps to PAM_AUTHINFO_UNAVAIL,
 * and GRPC_UNAVAILABLE; TOTP_R_PERMISSION for refused credentials or
 * access; TOTP_R_NOT_FOUND, TOTP_R_CORRUPT (an answer we cannot use),
 * TOTP_R_NOMEM, TOTP_R_INTERNAL.  Nothing is printed or logged here;
 * messages never hold a password, secret or code.  Passwords are wiped
 * with explicit_bzero as soon as they are sent.
 *
 * The cfg given to ldapc_open must outlive the connection.
 * No global state: all of it is in the struct ldapc.  A struct ldapc is
 * used by one thread at a time.
 */
#ifndef TOTP_LDAP_CONN_H
#define TOTP_LDAP_CONN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "errors.h"
#include "ldap/ldap_cfg.h"

#define LDAPC_PASSWORD_MAX 256 /* longest bind password (file or argument) */
#define LDAPC_USER_MAX 256     /* longest user name looked up */
#define LDAPC_FILTER_MAX 4096  /* longest filter after %u is expanded */

struct ldapc; /* opaque: one open, bound connection */

enum ldapc_as {
	LDAPC_HOST = 0,	  /* the host's identity: binddn + password file, or EXTERNAL */
	LDAPC_SIMPLE = 1, /* simple bind as dn + password */
	LDAPC_ANON = 2,	  /* no bind */
};

/* Opens and binds a connection (see above).  `dn` and `password` are for
 * LDAPC_SIMPLE and NULL otherwise.  On success *out is the caller's, to
 * be closed with ldapc_close. */
int ldapc_open(const struct ldap_realm_cfg *cfg, enum ldapc_as as, const char *dn,
	       const char *password, struct ldapc **out, struct totp_err *err);

/* Unbinds, closes and frees; NULL is fine. */
void ldapc_close(struct ldapc *c);

/* The URI of the server that answered (one of cfg->uri). */
const char *ldapc_uri(const struct ldapc *c);

/* Binds the open connection again, as `dn` with `password` (simple).
 * TOTP_R_PERMISSION for invalidCredentials, TOTP_R_IO when the server
 * does not answer in time.  After a failure the connection is anonymous
 * or closed: open a new one. */
int ldapc_bind(struct ldapc *c, const char *dn, const char *password,
	       struct totp_err *err);

/* Reads the host's bind password from `path` into out (NUL-terminated,
 * without a final newline), checking the file as above.  The caller wipes
 * out. */
int ldapc_read_bindpw(const char *path, char *out, size_t outlen, struct totp_err *err);

/* RFC 4515: copies `value` into out with every byte that is not a letter,
 * digit or one of " -._@+=,:;/!~'" written as \XX (so '*', '(', ')',
 * '\\' and all controls and non-ASCII bytes are escaped).  -1 with
 * TOTP_R_INVALID when it does not fit. */
int ldapc_filter_escape(const char *value, char *out, size_t outlen,
			struct totp_err *err);

/* Expands the %u of `filter` (ldap_cfg.h) with the escaped `user`, and %%
 * to %.  TOTP_R_INVALID for an empty or too long user name. */
int ldapc_user_filter(const char *filter, const char *user, char *out, size_t outlen,
		      struct totp_err *err);

/* Finds the DN of `user` under cfg->base with the realm's filter (subtree
 * search, one entry expected).  *dn is the caller's (free()).
 * TOTP_R_NOT_FOUND when no entry matches, TOTP_R_CORRUPT when more than
 * one does. */
int ldapc_find_user(struct ldapc *c, const char *user, char **dn, struct totp_err *err);

/* RFC 4514: the DN "<attr>=<escaped value>,<parent>" in out.  -1 with
 * TOTP_R_INVALID when value is empty or it does not fit. */
int ldapc_child_dn(const char *attr, const char *value, const char *parent, char *out,
		   size_t outlen, struct totp_err *err);

/* SIGPIPE.  liblber writes to the socket with write(2) (sockbuf.c's
 * sb_stream_write, under TLS too), which raises SIGPIPE in the writing
 * thread when the server has gone or the watchdog shut the socket down;
 * su, login or sudo do not all ignore it, and would be killed inside a
 * login.  So every entry point that talks to the directory (ldap_store.c)
 * runs between ldapc_sigpipe_block, which blocks SIGPIPE in the calling
 * thread, and ldapc_sigpipe_restore, which takes a SIGPIPE that became
 * pending meanwhile (unless one was pending before) and restores the
 * mask: the write fails with EPIPE and the caller sees an unavailable
 * server.  The watchdog thread runs with every signal blocked. */
struct ldapc_sigpipe {
	sigset_t old;
	bool was_pending;
};
void ldapc_sigpipe_block(struct ldapc_sigpipe *g);
void ldapc_sigpipe_restore(struct ldapc_sigpipe *g);

/* In an entry point: returns `call`'s value, made with SIGPIPE blocked and
 * any it raised taken (above). */
#define LDAPC_GUARDED_RETURN(call)                                                       \
	do {                                                                             \
		struct ldapc_sigpipe g_;                                                 \
		int rc_;                                                                 \
		ldapc_sigpipe_block(&g_);                                                \
		rc_ = (call);                                                            \
		ldapc_sigpipe_restore(&g_);                                              \
		return rc_;                                                              \
	} while (0)

/* ---- for ldap_token.c ---------------------------------------------------- */

/* The libldap handle, and the per-operation timeout in ms. */
void *ldapc_handle(struct ldapc *c);
int ldapc_timeout_ms(const struct ldapc *c);

/* Waits for the result of operation `msgid` at most the timeout;
 * abandons it on timeout.  *res is the caller's (ldap_msgfree). */
int ldapc_wait(struct ldapc *c, int msgid, void **res, const char *what,
	       struct totp_err *err);

/* Fills err from an LDAP result code (and the handle's diagnostic):
 * the mapping above.  Returns -1. */
int ldapc_fail(struct ldapc *c, int rc, const char *what, struct totp_err *err);

#endif
