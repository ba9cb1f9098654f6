/* import_store: all-or-nothing write of imported generators (import_store.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_store.h"
#include "store.h"

/* Records with secrets: wiped before they are freed. */
static void free_records(struct record *v, size_t n)
{
	if (!v)
		return;
	explicit_bzero(v, n * sizeof(*v));
	free(v);
}

/* The ready records, made (and their codes hashed) before the lock is
 * taken, so that the lock is held only for the store's own work. */
static int make_records(const struct import_entry *entries, size_t n, int64_t now_ms,
			struct record **out, struct totp_err *err)
{
	struct record *v = calloc(n ? n : 1, sizeof(*v));

	*out = NULL;
	if (!v)
		return totp_err_set(err, TOTP_R_NOMEM, "out of memory importing");
	for (size_t i = 0; i < n; i++) {
		if (import_to_record(&entries[i], 0, now_ms, &v[i], err) < 0) {
			free_records(v, n);
			return -1;
		}
	}
	*out = v;
	return 0;
}

/* Reads what each user has now into prev[] and before[]; a ready one is
 * a problem. */
static int look(struct store *s, const struct import_entry *entries, size_t n,
		struct record *prev, struct import_before *before,
		struct import_problem *problems, size_t *n_problems, struct totp_err *err)
{
	for (size_t i = 0; i < n; i++) {
		int found = s ? store_get(s, entries[i].user, &prev[i], err) : 0;

		if (found < 0)
			return -1;
		before[i].state = found ? prev[i].state : 0;
		before[i].sequence = found ? prev[i].sequence : 0;
		if (!found || prev[i].state != RECORD_READY)
			continue;
		problems[*n_problems].line = entries[i].line;
		snprintf(problems[*n_problems].msg, IMPORT_MSG_MAX,
			 "%s already has a ready generator; remove it first "
			 "(totp-enroll remove --user %s) or leave this user out",
			 entries[i].user, entries[i].user);
		(*n_problems)++;
	}
	if (*n_problems > 0)
		return totp_err_set(
		    err, TOTP_R_EXISTS,
		    "%zu user(s) already have a ready generator; nothing was "
		    "imported",
		    *n_problems);
	return 0;
}

/* Puts records 0 .. upto-1 back as they were before. */
static void roll_back(struct store *s, const struct import_entry *entries, size_t upto,
		      const struct record *prev, const struct import_before *before)
{
	struct totp_err ignored;

	for (size_t i = 0; i < upto; i++) {
		if (before[i].state != 0)
			store_put(s, entries[i].user, &prev[i], &ignored);
		else
			store_delete(s, entries[i].user, &ignored);
	}
	store_sync(s, &ignored);
}

static int put_all(struct store *s, const struct import_entry *entries, size_t n,
		   struct record *recs, const struct record *prev,
		   const struct import_before *before, struct totp_err *err)
{
	for (size_t i = 0; i < n; i++) {
		/* the two events of the import count on from the old record's */
		recs[i].sequence += before[i].sequence;
		if (store_put(s, entries[i].user, &recs[i], err) < 0) {
			roll_back(s, entries, i, prev, before);
			return -1;
		}
	}
	if (store_sync(s, err) < 0) {
		roll_back(s, entries, n, prev, before);
		return -1;
	}
	return 0;
}

static int open_store(const struct cfg *c, const struct store_location *loc, bool dry_run,
		      struct store **s, struct totp_err *err)
{
	/* batch: one copy of the store for the whole import (store.h) */
	struct store_opts opts = {.owner = loc->owner,
				  .lock_timeout_ms = c->lock_timeout_ms,
				  .sync = true,
				  .batch = true};

	*s = NULL;
	if (store_open_locked(loc->db_path, dry_run ? STORE_READ : STORE_CREATE, &opts, s,
			      err) == 0)
		return 0;
	/* a dry run against no store yet: everyone would be new */
	if (dry_run && err && err->reason == TOTP_R_NOT_FOUND) {
		totp_err_clear(err);
		return 0;
	}
	return -1;
}

int import_store(const struct cfg *c, const struct store_location *loc,
		 const struct import_entry *entries, size_t n, bool dry_run,
		 int64_t now_ms, struct import_before *before,
		 struct import_problem *problems, size_t *n_problems,
		 struct totp_err *err)
{
	struct record *recs = NULL, *prev = NULL;
	struct store *s = NULL;
	int rc = -1;

	*n_problems = 0;
	for (size_t i = 0; i < n; i++)
		if (store_user_name_check(entries[i].user, err) < 0)
			return -1;
	if (!dry_run && make_records(entries, n, now_ms, &recs, err) < 0)
		return -1;
	prev = calloc(n ? n : 1, sizeof(*prev));
	if (!prev) {
		totp_err_set(err, TOTP_R_NOMEM, "out of memory importing");
		goto done;
	}
	if (open_store(c, loc, dry_run, &s, err) < 0)
		goto done;
	if (look(s, entries, n, prev, before, problems, n_problems, err) < 0)
		goto done;
	rc = dry_run ? 0 : put_all(s, entries, n, recs, prev, before, err);
done:
	store_close(s);
	free_records(prev, n ? n : 1);
	free_records(recs, n ? n : 1);
	return rc;
}
