/*
 * store_backend: what an implementation of the store interface (store.h)
 * provides.  Each function keeps store.h's contract for its namesake;
 * `h` is the backend's own handle, made by open and freed by close.
 * Only store.c calls these; a backend is chosen by store_location.kind.
 */
#ifndef TOTP_STORE_BACKEND_H
#define TOTP_STORE_BACKEND_H

#include "store.h"

struct store_backend {
	const char *name;
	int (*open)(const struct store_location *loc, enum store_mode mode,
		    const struct store_opts *opts, void **h, struct totp_err *err);
	int (*get)(void *h, const char *user, struct record *r, struct totp_err *err);
	int (*put)(void *h, const char *user, const struct record *r,
		   struct totp_err *err);
	/* NULL when the backend's lock already makes a get and a put of one
	 * open atomic (GDBM): store.c then compares and puts itself.  A
	 * directory (LDAP) implements it with its own compare-and-set. */
	int (*put_if)(void *h, const char *user, const struct record *r,
		      uint64_t read_sequence, struct totp_err *err);
	int (*del)(void *h, const char *user, struct totp_err *err);
	int (*iterate)(void *h, store_iter_fn fn, void *arg, struct totp_err *err);
	int (*commit)(void *h, struct totp_err *err);
	void (*close)(void *h);
	/* true: no lock; put_if is then the only safe write (store.h) */
	bool lockless;
};

/* Wraps an open backend handle as a struct store (0, or -1 when out of
 * memory: then h is closed).  For a backend's own open-by-address. */
int store_wrap(const struct store_backend *be, void *h, struct store **out,
	       struct totp_err *err);

/* The handle of s when `be` opened it, else NULL (NULL s too): for a
 * backend's own calls on a store it made. */
void *store_handle_of(const struct store *s, const struct store_backend *be);

#endif
