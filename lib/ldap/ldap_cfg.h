/*
 * ldap_cfg: the keys of a realm whose store is an LDAP directory
 * (`store = ldap`, issue 14), and their validation.
 *
 * The config parser calls ldap_cfg_set() for each key that
 * ldap_cfg_is_key() claims, then ldap_cfg_check() once the realm is read.
 * ldap_cfg_set() validates the value alone (a URI list that libldap
 * parses, a DN that libldap parses, a filter with %u, a timeout in range,
 * an absolute path); ldap_cfg_check() validates the keys together (a
 * base, a CA for every ldaps:// URI and every ldap:// URI that is not the
 * loopback, a bind DN and a password file together (and so the
 * administrative ones), and ldapi:// URIs
 * only when there is no bind DN: SASL EXTERNAL).  Both fail with
 * TOTP_R_CONFIG and a message naming the key; a key given twice replaces
 * its first value.  No global state: a cfg is the caller's.
 *
 * TLS: ldaps:// always verifies the server; ldap:// upgrades with
 * StartTLS (and verifies) whenever ldap_tls_ca is set, and may stay in
 * clear text only to 127.0.0.1, ::1 or localhost.  There is no key to
 * skip verification.
 */
#ifndef TOTP_LDAP_CFG_H
#define TOTP_LDAP_CFG_H

#include <stdbool.h>
#include <stddef.h>

#include "errors.h"

#define LDAP_CFG_URI_MAX 8	      /* servers in ldap_uri */
#define LDAP_CFG_TIMEOUT_DEFAULT 3000 /* ms per server */
#define LDAP_CFG_TIMEOUT_MIN 10
#define LDAP_CFG_TIMEOUT_MAX 600000
#define LDAP_CFG_FILTER_DEFAULT "(uid=%u)"
#define LDAP_CFG_VALUE_MAX 1024 /* the longest value of any key */

enum ldap_check {
	LDAP_CHECK_READ = 0, /* the host reads the token and checks the code */
	LDAP_CHECK_BIND = 1, /* a bind as the user with password+code: slapo-otp checks */
};

struct ldap_realm_cfg {
	char *uri[LDAP_CFG_URI_MAX]; /* ldap_uri, in the order they are tried */
	size_t n_uri;
	char *base;	   /* ldap_base: where user entries are searched */
	char *filter;	   /* ldap_filter: NULL means LDAP_CFG_FILTER_DEFAULT */
	char *tokens;	   /* ldap_tokens: container of token entries */
	char *params;	   /* ldap_params: DN of the params entry new tokens use */
	char *binddn;	   /* ldap_binddn: NULL means SASL EXTERNAL (ldapi://) */
	char *bindpw_file; /* ldap_bindpw_file: root-owned, not world-readable */
	char *tls_ca;	   /* ldap_tls_ca: CA file for ldaps:// and StartTLS */
	/* ldap_admin_binddn, ldap_admin_bindpw_file: the administrative
	 * identity with which root's totp-enroll acts for any user (NULL:
	 * root cannot enroll others in this realm).  The file is checked as
	 * ldap_bindpw_file's (root-owned, no permission for others). */
	char *admin_binddn;
	char *admin_bindpw_file;
	int timeout_ms;	       /* ldap_timeout: per server, milliseconds */
	enum ldap_check check; /* ldap_check: read (default) or bind */
};

/* An empty cfg: no URI, the default filter, timeout and check. */
void ldap_cfg_init(struct ldap_realm_cfg *cfg);

/* Frees what ldap_cfg_set allocated and empties cfg again. */
void ldap_cfg_free(struct ldap_realm_cfg *cfg);

/* Whether `key` is one of this file's keys (ldap_uri, ldap_base, ...). */
bool ldap_cfg_is_key(const char *key);

/* Sets `key` to `value` after validating the value alone.  -1 with
 * TOTP_R_CONFIG for an unknown key or a bad value (cfg unchanged),
 * TOTP_R_NOMEM. */
int ldap_cfg_set(struct ldap_realm_cfg *cfg, const char *key, const char *value,
		 struct totp_err *err);

/* Validates the keys together; see above. */
int ldap_cfg_check(const struct ldap_realm_cfg *cfg, struct totp_err *err);

/* The filter in use: cfg->filter or the default. */
const char *ldap_cfg_filter(const struct ldap_realm_cfg *cfg);

/* Whether `uri` (one of cfg->uri) names the loopback: 127.0.0.1, ::1 or
 * localhost. */
bool ldap_cfg_uri_is_loopback(const char *uri);

#endif
