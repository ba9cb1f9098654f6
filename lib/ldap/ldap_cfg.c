/* ldap_cfg: the keys of an ldap realm and their validation (ldap_cfg.h). */
#include "config.h"

#define LDAP_DEPRECATED 0
#include <ldap.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ldap/ldap_cfg.h"

static const char *const keys[] = {
    "ldap_uri",	    "ldap_base",   "ldap_filter",	"ldap_tokens",
    "ldap_params",  "ldap_binddn", "ldap_bindpw_file",	"ldap_tls_ca",
    "ldap_timeout", "ldap_check",  "ldap_admin_binddn", "ldap_admin_bindpw_file",
};

void ldap_cfg_init(struct ldap_realm_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->timeout_ms = LDAP_CFG_TIMEOUT_DEFAULT;
	cfg->check = LDAP_CHECK_READ;
}

static void free_uris(struct ldap_realm_cfg *cfg)
{
	for (size_t i = 0; i < cfg->n_uri; i++)
		free(cfg->uri[i]);
	cfg->n_uri = 0;
}

void ldap_cfg_free(struct ldap_realm_cfg *cfg)
{
	free_uris(cfg);
	free(cfg->base);
	free(cfg->filter);
	free(cfg->tokens);
	free(cfg->params);
	free(cfg->binddn);
	free(cfg->bindpw_file);
	free(cfg->admin_binddn);
	free(cfg->admin_bindpw_file);
	free(cfg->tls_ca);
	ldap_cfg_init(cfg);
}

bool ldap_cfg_is_key(const char *key)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

const char *ldap_cfg_filter(const struct ldap_realm_cfg *cfg)
{
	return cfg->filter != NULL ? cfg->filter : LDAP_CFG_FILTER_DEFAULT;
}

bool ldap_cfg_uri_is_loopback(const char *uri)
{
	LDAPURLDesc *u = NULL;
	bool yes = false;

	if (ldap_url_parse(uri, &u) != LDAP_URL_SUCCESS)
		return false;
	if (u->lud_host != NULL)
		yes = strcmp(u->lud_host, "127.0.0.1") == 0 ||
		      strcmp(u->lud_host, "::1") == 0 ||
		      strcasecmp(u->lud_host, "localhost") == 0;
	ldap_free_urldesc(u);
	return yes;
}

/* One URI: a scheme we speak, that libldap parses, with nothing but a
 * host and port (no DN, attributes, scope or filter part). */
static int check_uri(const char *uri, struct totp_err *err)
{
	LDAPURLDesc *u = NULL;
	int rc;

	if (strncmp(uri, "ldap://", 7) != 0 && strncmp(uri, "ldaps://", 8) != 0 &&
	    strncmp(uri, "ldapi://", 8) != 0)
		return totp_err_set(
		    err, TOTP_R_CONFIG,
		    "ldap_uri: \"%.80s\" is not ldap://, ldaps:// or ldapi://", uri);
	rc = ldap_url_parse(uri, &u);
	if (rc != LDAP_URL_SUCCESS)
		return totp_err_set(err, TOTP_R_CONFIG,
				    "ldap_uri: \"%.80s\" is not a valid LDAP URI (%d)",
				    uri, rc);
	rc = (u->lud_dn != NULL && u->lud_dn[0] != '\0') || u->lud_attrs != NULL ||
	     u->lud_filter != NULL || u->lud_exts != NULL;
	ldap_free_urldesc(u);
	if (rc)
		return totp_err_set(err, TOTP_R_CONFIG,
				    "ldap_uri: \"%.80s\" has a DN, attribute, filter or "
				    "extension part: give the server only",
				    uri);
	return 0;
}

static int set_uris(struct ldap_realm_cfg *cfg, const char *value, struct totp_err *err)
{
	char *uris[LDAP_CFG_URI_MAX];
	size_t n = 0;
	const char *p = value;

	while (*p != '\0') {
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, " \t");
		if (n == LDAP_CFG_URI_MAX) {
			totp_err_set(err, TOTP_R_CONFIG, "ldap_uri: more than %d servers",
				     LDAP_CFG_URI_MAX);
			goto fail;
		}
		uris[n] = strndup(p, len);
		if (uris[n] == NULL) {
			totp_err_set(err, TOTP_R_NOMEM, "ldap_uri: out of memory");
			goto fail;
		}
		n++;
		if (check_uri(uris[n - 1], err) < 0)
			goto fail;
		p += len;
	}
	if (n == 0) {
		totp_err_set(err, TOTP_R_CONFIG, "ldap_uri: no server given");
		goto fail;
	}
	free_uris(cfg);
	memcpy(cfg->uri, uris, n * sizeof(uris[0]));
	cfg->n_uri = n;
	return 0;
fail:
	while (n > 0)
		free(uris[--n]);
	return -1;
}

static int check_dn(const char *key, const char *value, struct totp_err *err)
{
	LDAPDN dn = NULL;

	if (value[0] == '\0')
		return totp_err_set(err, TOTP_R_CONFIG, "%s: empty DN", key);
	if (ldap_str2dn(value, &dn, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		return totp_err_set(err, TOTP_R_CONFIG, "%s: \"%.80s\" is not a valid DN",
				    key, value);
	ldap_dnfree(dn);
	return 0;
}

/* A filter: in parentheses that balance (outside \-escapes), with at least
 * one %u, and no other %-sequence than %u and %%. */
static int check_filter(const char *f, struct totp_err *err)
{
	size_t len = strlen(f);
	int depth = 0, users = 0;

	if (len < 3 || f[0] != '(' || f[len - 1] != ')')
		return totp_err_set(
		    err, TOTP_R_CONFIG,
		    "ldap_filter: \"%.80s\" is not a parenthesised filter", f);
	for (size_t i = 0; i < len; i++) {
		if (f[i] == '\\') {
			i++;
			continue;
		}
		if (f[i] == '(')
			depth++;
		else if (f[i] == ')' && --depth < 0)
			break;
		else if (f[i] == '%') {
			if (f[i + 1] == 'u')
				users++;
			else if (f[i + 1] != '%')
				return totp_err_set(
				    err, TOTP_R_CONFIG,
				    "ldap_filter: only %%u and %%%% may follow %%");
			i++;
		}
	}
	if (depth != 0)
		return totp_err_set(err, TOTP_R_CONFIG,
				    "ldap_filter: \"%.80s\": unbalanced parentheses", f);
	if (users == 0)
		return totp_err_set(err, TOTP_R_CONFIG,
				    "ldap_filter: \"%.80s\" has no %%u for the user name",
				    f);
	return 0;
}

static int check_path(const char *key, const char *value, struct totp_err *err)
{
	if (value[0] != '/')
		return totp_err_set(err, TOTP_R_CONFIG,
				    "%s: \"%.80s\" is not an absolute path", key, value);
	return 0;
}

static int parse_timeout(const char *value, int *out, struct totp_err *err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno != 0 ||
	    v < LDAP_CFG_TIMEOUT_MIN || v > LDAP_CFG_TIMEOUT_MAX)
		return totp_err_set(
		    err, TOTP_R_CONFIG,
		    "ldap_timeout: \"%.40s\" is not a number of milliseconds "
		    "from %d to %d",
		    value, LDAP_CFG_TIMEOUT_MIN, LDAP_CFG_TIMEOUT_MAX);
	*out = (int)v;
	return 0;
}

static int replace(char **slot, const char *value, struct totp_err *err)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return totp_err_set(err, TOTP_R_NOMEM, "out of memory");
	free(*slot);
	*slot = copy;
	return 0;
}

int ldap_cfg_set(struct ldap_realm_cfg *cfg, const char *key, const char *value,
		 struct totp_err *err)
{
	if (!ldap_cfg_is_key(key))
		return totp_err_set(err, TOTP_R_CONFIG,
				    "\"%.40s\" is not an ldap realm key", key);
	if (strlen(value) > LDAP_CFG_VALUE_MAX)
		return totp_err_set(err, TOTP_R_CONFIG, "%s: longer than %d bytes", key,
				    LDAP_CFG_VALUE_MAX);
	for (const char *p = value; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return totp_err_set(err, TOTP_R_CONFIG, "%s: a control character",
					    key);
	if (strcmp(key, "ldap_uri") == 0)
		return set_uris(cfg, value, err);
	if (strcmp(key, "ldap_filter") == 0)
		return check_filter(value, err) < 0 ? -1
						    : replace(&cfg->filter, value, err);
	if (strcmp(key, "ldap_timeout") == 0)
		return parse_timeout(value, &cfg->timeout_ms, err);
	if (strcmp(key, "ldap_check") == 0) {
		if (strcmp(value, "read") == 0)
			cfg->check = LDAP_CHECK_READ;
		else if (strcmp(value, "bind") == 0)
			cfg->check = LDAP_CHECK_BIND;
		else
			return totp_err_set(
			    err, TOTP_R_CONFIG,
			    "ldap_check: \"%.40s\" is neither read nor bind", value);
		return 0;
	}
	if (strcmp(key, "ldap_bindpw_file") == 0)
		return check_path(key, value, err) < 0
			   ? -1
			   : replace(&cfg->bindpw_file, value, err);
	if (strcmp(key, "ldap_admin_bindpw_file") == 0)
		return check_path(key, value, err) < 0
			   ? -1
			   : replace(&cfg->admin_bindpw_file, value, err);
	if (strcmp(key, "ldap_tls_ca") == 0)
		return check_path(key, value, err) < 0
			   ? -1
			   : replace(&cfg->tls_ca, value, err);
	if (check_dn(key, value, err) < 0)
		return -1;
	if (strcmp(key, "ldap_base") == 0)
		return replace(&cfg->base, value, err);
	if (strcmp(key, "ldap_tokens") == 0)
		return replace(&cfg->tokens, value, err);
	if (strcmp(key, "ldap_params") == 0)
		return replace(&cfg->params, value, err);
	if (strcmp(key, "ldap_admin_binddn") == 0)
		return replace(&cfg->admin_binddn, value, err);
	return replace(&cfg->binddn, value, err); /* ldap_binddn */
}

int ldap_cfg_check(const struct ldap_realm_cfg *cfg, struct totp_err *err)
{
	bool all_ldapi = true;

	if (cfg->n_uri == 0)
		return totp_err_set(err, TOTP_R_CONFIG, "ldap realm: no ldap_uri");
	if (cfg->base == NULL)
		return totp_err_set(err, TOTP_R_CONFIG, "ldap realm: no ldap_base");
	for (size_t i = 0; i < cfg->n_uri; i++) {
		const char *u = cfg->uri[i];

		if (strncmp(u, "ldapi://", 8) == 0)
			continue;
		all_ldapi = false;
		if (cfg->tls_ca != NULL)
			continue;
		if (strncmp(u, "ldaps://", 8) == 0)
			return totp_err_set(
			    err, TOTP_R_CONFIG,
			    "ldap realm: %.80s needs ldap_tls_ca to verify "
			    "the server",
			    u);
		if (!ldap_cfg_uri_is_loopback(u))
			return totp_err_set(err, TOTP_R_CONFIG,
					    "ldap realm: %.80s is not the loopback: give "
					    "ldap_tls_ca so that StartTLS protects it",
					    u);
	}
	if (cfg->bindpw_file != NULL && cfg->binddn == NULL)
		return totp_err_set(err, TOTP_R_CONFIG,
				    "ldap realm: ldap_bindpw_file without ldap_binddn");
	if (cfg->binddn != NULL && cfg->bindpw_file == NULL)
		return totp_err_set(err, TOTP_R_CONFIG,
				    "ldap realm: ldap_binddn without ldap_bindpw_file");
	if ((cfg->admin_binddn == NULL) != (cfg->admin_bindpw_file == NULL))
		return totp_err_set(err, TOTP_R_CONFIG,
				    "ldap realm: ldap_admin_binddn and "
				    "ldap_admin_bindpw_file go together");
	if (cfg->binddn == NULL && !all_ldapi)
		return totp_err_set(err, TOTP_R_CONFIG,
				    "ldap realm: no ldap_binddn, so the host binds with "
				    "SASL EXTERNAL, which needs ldapi:// URIs only");
	return 0;
}
