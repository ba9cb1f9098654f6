/*
 * location: the one place that knows where a realm's store lives.
 *
 * A realm's `store` (cfg.h) is `user` (~/.config/totp/%r.db), `system`
 * (/var/lib/totp/%r.db) or a template with %h (home), %u (user), %r
 * (realm) and %% (location_template_check checks its syntax).  A store whose template
 * holds %h is a user store: owned by the user, opened as the user.  Any other is a system
 * store, owned by root.  Only a store shared by every user of the realm (no %h, no %u)
 * can be listed.
 */
#ifndef TOTP_LOCATION_H
#define TOTP_LOCATION_H

#include <stdbool.h>
#include <stddef.h>

#include "account.h"
#include "cfg.h"
#include "errors.h"
#include "store.h"

/* A store template's syntax: it starts with '/' or "%h", fits
 * CFG_PATH_MAX, has no blank or control character, and knows %h %u %r %%
 * only.  TOTP_R_CONFIG, the message saying what is wrong. */
int location_template_check(const char *tmpl, struct totp_err *err);

/* Expands the store template for a user: the database path.  Refuses a
 * result that is not absolute or does not fit, a %u user name that
 * user_name_check refuses, and a %h home that is not absolute
 * (TOTP_R_INVALID); `out` is "" on failure.  A name not in the template
 * is not checked: it is only a key. */
int location_db_path(const struct cfg *c, const char *user, const char *home, char *out,
		     size_t outsz, struct totp_err *err);

/* Whether the realm's stores are user stores (one per user, the user's). */
bool location_per_user(const struct cfg *c);

/* Whether the realm has one store for all its users, which list can read. */
bool location_listable(const struct cfg *c);

/* Where `a`'s record lives in the realm of `c`, and who owns it. */
int location_for(const struct cfg *c, const struct account *a, struct store_location *out,
		 struct totp_err *err);

/* The options every open of `loc` takes: its owner, the realm's lock
 * timeout, a user store's size bound; `sync` and `batch` as store.h. */
struct store_opts location_store_opts(const struct cfg *c,
				      const struct store_location *loc, bool sync,
				      bool batch);

#endif
