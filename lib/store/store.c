/* store: the interface, dispatched to the location's backend (store.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gdbm_store.h"
#include "ldap_store.h"
#include "shard_store.h"
#include "store_backend.h"

struct store {
	const struct store_backend *be;
	void *h;
};

static const struct store_backend *backend_for(enum store_kind kind)
{
	switch (kind) {
	case STORE_KIND_GDBM:
		return &gdbm_store_backend;
	case STORE_KIND_LDAP:
		return &ldap_store_backend;
	}
	return NULL;
}

int store_wrap(const struct store_backend *be, void *h, struct store **out,
	       struct totp_err *err)
{
	struct store *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		be->close(h);
		return totp_err_set(err, TOTP_R_NOMEM, "out of memory opening a store");
	}
	s->be = be;
	s->h = h;
	*out = s;
	return 0;
}

void *store_handle_of(const struct store *s, const struct store_backend *be)
{
	return s != NULL && s->be == be ? s->h : NULL;
}

int store_open(const struct store_location *loc, enum store_mode mode,
	       const struct store_opts *opts, struct store **out, struct totp_err *err)
{
	const struct store_backend *be = loc != NULL ? backend_for(loc->kind) : NULL;
	void *h = NULL;

	if (out != NULL)
		*out = NULL;
	if (be == NULL || out == NULL)
		return totp_err_set(err, TOTP_R_INVALID,
				    "store_open: no such store kind");
	if (loc->kind == STORE_KIND_GDBM && loc->sharded)
		return shard_store_open(loc, NULL, mode, opts, out, err);
	if (be->open(loc, mode, opts, &h, err) != 0)
		return -1;
	return store_wrap(be, h, out, err);
}

int store_open_user(const struct store_location *loc, const char *user,
		    enum store_mode mode, const struct store_opts *opts,
		    struct store **out, struct totp_err *err)
{
	if (loc != NULL && loc->kind == STORE_KIND_GDBM && loc->sharded) {
		if (out != NULL)
			*out = NULL;
		if (user == NULL)
			return totp_err_set(err, TOTP_R_INVALID,
					    "store_open_user: no user");
		return shard_store_open(loc, user, mode, opts, out, err);
	}
	return store_open(loc, mode, opts, out, err);
}

int store_get(struct store *s, const char *user, struct record *r, struct totp_err *err)
{
	return s->be->get(s->h, user, r, err);
}

int store_put(struct store *s, const char *user, const struct record *r,
	      struct totp_err *err)
{
	return s->be->put(s->h, user, r, err);
}

/* Under a lock held since the read, the compare cannot race: read again,
 * compare, put. */
static int put_if_locked(struct store *s, const char *user, const struct record *r,
			 uint64_t read_sequence, struct totp_err *err)
{
	struct record now;
	int found = s->be->get(s->h, user, &now, err);
	bool same = found == 1 && now.sequence == read_sequence;

	if (found == 1)
		record_wipe(&now);
	if (found < 0)
		return -1;
	if (!same)
		return 1;
	return s->be->put(s->h, user, r, err) < 0 ? -1 : 0;
}

int store_put_if(struct store *s, const char *user, const struct record *r,
		 uint64_t read_sequence, struct totp_err *err)
{
	if (s->be->put_if != NULL)
		return s->be->put_if(s->h, user, r, read_sequence, err);
	return put_if_locked(s, user, r, read_sequence, err);
}

bool store_lockless(const struct store *s)
{
	return s->be->lockless;
}

int store_delete(struct store *s, const char *user, struct totp_err *err)
{
	return s->be->del(s->h, user, err);
}

int store_iterate(struct store *s, store_iter_fn fn, void *arg, struct totp_err *err)
{
	return s->be->iterate(s->h, fn, arg, err);
}

int store_commit(struct store *s, struct totp_err *err)
{
	return s->be->commit(s->h, err);
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	s->be->close(s->h);
	explicit_bzero(s, sizeof(*s));
	free(s);
}
