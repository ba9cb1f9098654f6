/* location: where a realm's store lives, and how it is opened (location.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "location.h"
#include "user_name.h"

/* ---- the %h/%u/%r template -------------------------------------------------- */

int location_template_check(const char *tmpl, struct totp_err *err)
{
	if (tmpl[0] != '/' && strncmp(tmpl, "%h", 2) != 0)
		return totp_err_set(
		    err, TOTP_R_CONFIG,
		    "is not user, system, or a path starting with / or %%h");
	if (strlen(tmpl) >= CFG_PATH_MAX)
		return totp_err_set(err, TOTP_R_CONFIG, "is longer than %d bytes",
				    CFG_PATH_MAX - 1);
	for (const char *p = tmpl; *p != '\0'; p++) {
		if (*p <= 0x20 || *p == 0x7f)
			return totp_err_set(err, TOTP_R_CONFIG,
					    "has a space or control character");
		if (*p != '%')
			continue;
		p++;
		if (*p != 'h' && *p != 'u' && *p != 'r' && *p != '%')
			return totp_err_set(
			    err, TOTP_R_CONFIG,
			    "may have only %%h, %%u, %%r or %%%% after a %%");
	}
	return 0;
}

static int append(char *out, size_t outsz, size_t *len, const char *s,
		  struct totp_err *err)
{
	size_t n = strlen(s);

	if (n >= outsz - *len)
		return totp_err_set(err, TOTP_R_INVALID,
				    "the store path is longer than %zu bytes", outsz - 1);
	memcpy(out + *len, s, n + 1);
	*len += n;
	return 0;
}

static const char *expansion(char esc, const struct cfg *c, const char *user,
			     const char *home, struct totp_err *err)
{
	switch (esc) {
	case 'h':
		if (home == NULL || home[0] != '/') {
			totp_err_set(
			    err, TOTP_R_INVALID,
			    "the store path needs the home directory, which is not "
			    "an absolute path");
			return NULL;
		}
		return home;
	case 'u':
		return user_name_check(user, err) == 0 ? user : NULL;
	case 'r':
		return cfg_realm_check(c->realm, err) == 0 ? c->realm : NULL;
	case '%':
		return "%";
	default:
		totp_err_set(err, TOTP_R_CONFIG,
			     "store template: %%%c is not %%h %%u %%r or %%%%", esc);
		return NULL;
	}
}

int location_db_path(const struct cfg *c, const char *user, const char *home, char *out,
		     size_t outsz, struct totp_err *err)
{
	size_t len = 0;
	char one[2] = {0, 0};

	if (outsz == 0)
		return totp_err_set(err, TOTP_R_INVALID, "no room for the store path");
	out[0] = '\0';
	for (const char *p = c->store_path; *p != '\0'; p++) {
		const char *piece = one;

		if (*p == '%') {
			piece = expansion(*++p, c, user, home, err);
			if (piece == NULL)
				goto fail;
		} else {
			one[0] = *p;
		}
		if (append(out, outsz, &len, piece, err) != 0)
			goto fail;
	}
	if (out[0] == '/')
		return 0;
	totp_err_set(err, TOTP_R_CONFIG, "the store path is not absolute: fix store=");
fail:
	out[0] = '\0';
	return -1;
}

/* ---- the location ------------------------------------------------------------ */

bool location_per_user(const struct cfg *c)
{
	return c->store == CFG_STORE_USER ||
	       (c->store == CFG_STORE_PATH && strstr(c->store_path, "%h") != NULL);
}

bool location_listable(const struct cfg *c)
{
	return !location_per_user(c) && strstr(c->store_path, "%u") == NULL &&
	       strstr(c->store_path, "%h") == NULL;
}

int location_for(const struct cfg *c, const struct account *a, struct store_location *out,
		 struct totp_err *err)
{
	memset(out, 0, sizeof(*out));
	if (c->store == CFG_STORE_LDAP) { /* issue 14: the realm's directory */
		if (c->ldap.n_uri == 0)
			return totp_err_set(err, TOTP_R_CONFIG,
					    "realm %s: store = ldap needs ldap_uri",
					    c->realm);
		out->kind = STORE_KIND_LDAP;
		snprintf(out->where, sizeof(out->where), "%s", c->ldap.uri[0]);
		out->ldap = &c->ldap;
		out->max_failures = c->max_failures;
		out->lockout = c->lockout;
		return 0;
	}
	out->kind = STORE_KIND_GDBM;
	if (location_db_path(c, a->name, a->home, out->where, sizeof(out->where), err) <
	    0)
		return -1;
	out->per_user = location_per_user(c);
	out->owner = out->per_user ? a->uid : 0;
	/* one store shared by the realm: shards (shard_store.h) */
	out->sharded = location_listable(c);
	return 0;
}

struct store_opts location_store_opts(const struct cfg *c,
				      const struct store_location *loc, bool sync,
				      bool batch)
{
	struct store_opts o = {.owner = loc->owner,
			       .lock_timeout_ms = c->lock_timeout_ms,
			       .sync = sync,
			       .batch = batch,
			       .max_bytes = loc->per_user ? STORE_USER_BYTES_MAX : 0,
			       .keep = loc->keep};

	return o;
}
