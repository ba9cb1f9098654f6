/* list: store_iterate over one system-store database, under a shared lock. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "list.h"
#include "location.h"
#include "store.h"

struct collect {
	struct list_entry *v;
	size_t n, cap;
	int nomem;
};

static int collect_one(const char *user, const struct record *r, void *arg)
{
	struct collect *c = arg;
	struct list_entry *e;

	if (!record_live(r))
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct list_entry *v = realloc(c->v, cap * sizeof(*v));

		if (v == NULL) {
			c->nomem = 1;
			return 1;
		}
		c->v = v;
		c->cap = cap;
	}
	e = &c->v[c->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->user, sizeof(e->user), "%s", user);
	e->rec = *r;
	record_wipe_secrets(&e->rec);
	explicit_bzero(e->rec.emergency, sizeof(e->rec.emergency));
	return 0;
}

static int by_user(const void *a, const void *b)
{
	return strcmp(((const struct list_entry *)a)->user,
		      ((const struct list_entry *)b)->user);
}

int list_realm(const struct cfg *c, const struct store_location *loc,
	       struct list_entry **out, size_t *n, struct totp_err *err)
{
	struct store_opts opts = location_store_opts(c, loc, false, false);
	struct collect col = {0};
	struct store *s = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if (!location_listable(c))
		return totp_err_set(
		    err, TOTP_R_INVALID,
		    "realm %s keeps one store per user (%s); list works on "
		    "system stores only: use status --user NAME",
		    c->realm, c->store_path);
	if (store_open(loc, STORE_READ, &opts, &s, err) < 0) {
		/* No database yet: nobody is registered. */
		if (err == NULL || err->reason != TOTP_R_NOT_FOUND)
			return -1;
		totp_err_clear(err);
		return 0;
	}
	rc = store_iterate(s, collect_one, &col, err);
	store_close(s);
	if (col.nomem)
		rc = totp_err_set(err, TOTP_R_NOMEM, "out of memory listing realm %s",
				  c->realm);
	if (rc != 0) {
		free(col.v);
		return -1;
	}
	if (col.n > 0)
		qsort(col.v, col.n, sizeof(*col.v), by_user);
	*out = col.v;
	*n = col.n;
	return 0;
}
