/* import_store: all-or-nothing write of imported generators (import_store.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_store.h"
#include "location.h"
#include "store.h"

/* Records with secrets: wiped before they are freed. */
static void free_records(struct record *v, size_t n)
{
	if (!v)
		return;
	explicit_bzero(v, n * sizeof(*v));
	free(v);
}

static int by_user_then_place(const void *a, const void *b)
{
	const struct import_entry *x = *(const struct import_entry *const *)a;
	const struct import_entry *y = *(const struct import_entry *const *)b;
	int c = strcmp(x->user, y->user);

	if (c)
		return c;
	return x < y ? -1 : x > y;
}

/* The entries grouped by user (each user's in their order), in *out
 * (malloc'd); a user with more than RECORD_GENERATORS_MAX entries is
 * TOTP_R_TOO_MANY, naming the user. */
static int group(const struct import_entry *entries, size_t n,
		 const struct import_entry ***out, struct totp_err *err)
{
	const struct import_entry **idx = calloc(n ? n : 1, sizeof(*idx));

	*out = NULL;
	if (!idx)
		return totp_err_set(err, TOTP_R_NOMEM, "out of memory importing");
	for (size_t i = 0; i < n; i++)
		idx[i] = &entries[i];
	qsort(idx, n, sizeof(*idx), by_user_then_place);
	for (size_t k = 0, first = 0; k < n; k++) {
		if (strcmp(idx[k]->user, idx[first]->user) != 0)
			first = k;
		if (k - first >= RECORD_GENERATORS_MAX) {
			totp_err_set(err, TOTP_R_TOO_MANY,
				     "%s would have more than %d generators: nothing "
				     "was imported",
				     idx[k]->user, RECORD_GENERATORS_MAX);
			free(idx);
			return -1;
		}
	}
	*out = idx;
	return 0;
}

/* The record `add` (one generator) joins `base`, the record of the
 * user's first entry: the user's several tokens (import_oath.h). */
static int merge(struct record *base, const struct record *add, const char *user,
		 struct totp_err *err)
{
	struct record_gen *g;

	if (record_generator(base, record_gen_name(&add->gen[0])) != NULL)
		return totp_err_set(err, TOTP_R_INVALID,
				    "%s has two generators named %s: nothing was "
				    "imported",
				    user, record_gen_name(&add->gen[0]));
	g = record_generator_add(base, add->gen[0].name, err);
	if (g == NULL)
		return -1;
	*g = add->gen[0];
	if (add->last_success.time > base->last_success.time) {
		base->last_success = add->last_success;
		base->last_success.by = (uint8_t)(g - base->gen);
	}
	base->sequence += add->sequence; /* its registration and verification */
	return 0;
}

/* The ready records, made (and their codes hashed) before the lock is
 * taken, so that the lock is held only for the store's own work.  A user
 * with several entries gets one record, in the place of the entry that
 * comes first in `entries`; put[i] says which records are stored. */
static int make_records(const struct import_entry *entries, size_t n,
			const struct import_entry **idx, int64_t now_ms,
			struct record **out, bool *put, struct totp_err *err)
{
	struct record *v = calloc(n ? n : 1, sizeof(*v));

	*out = NULL;
	if (!v)
		return totp_err_set(err, TOTP_R_NOMEM, "out of memory importing");
	for (size_t i = 0; i < n; i++) {
		put[i] = true;
		if (import_to_record(&entries[i], 0, now_ms, &v[i], err) < 0)
			goto fail;
	}
	for (size_t k = 1, first = 0; k < n; k++) {
		size_t f = (size_t)(idx[first] - entries), i = (size_t)(idx[k] - entries);

		if (strcmp(idx[k]->user, idx[first]->user) != 0) {
			first = k;
			continue;
		}
		if (merge(&v[f], &v[i], entries[i].user, err) < 0)
			goto fail;
		put[i] = false;
		record_wipe(&v[i]);
	}
	*out = v;
	return 0;
fail:
	free_records(v, n ? n : 1);
	return -1;
}

/* Notes what each user has now in before[]; a ready one is a problem. */
static int look(struct store *s, const struct import_entry *entries, size_t n,
		struct import_before *before, struct import_problem *problems,
		size_t *n_problems, struct totp_err *err)
{
	struct record now;

	for (size_t i = 0; i < n; i++) {
		int found = s ? store_get(s, entries[i].user, &now, err) : 0;

		if (found < 0)
			return -1;
		/* ready if any generator is: an import never replaces one */
		before[i].state = !found			  ? 0
				  : record_first_ready(&now) >= 0 ? RECORD_READY
				  : record_live(&now)		  ? RECORD_PENDING
								  : RECORD_REMOVED;
		before[i].sequence = found ? now.sequence : 0;
		record_wipe(&now);
		if (!found || before[i].state != RECORD_READY)
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

/* Every put goes to the batch's copy of the store, which store_commit
 * publishes; a failure before that leaves the copy to store_close, which
 * drops it: all or nothing (store.h). */
static int put_all(struct store *s, const struct import_entry *entries, size_t n,
		   struct record *recs, const bool *put,
		   const struct import_before *before, struct totp_err *err)
{
	for (size_t i = 0; i < n; i++) {
		if (!put[i]) /* another generator of a user put with the first */
			continue;
		/* the two events of the import count on from the old record's */
		recs[i].sequence += before[i].sequence;
		if (store_put(s, entries[i].user, &recs[i], err) < 0)
			return -1;
	}
	return store_commit(s, err);
}

static int open_for_import(const struct cfg *c, const struct store_location *loc,
			   bool dry_run, struct store **s, struct totp_err *err)
{
	/* batch: all or nothing, one copy of the store for the whole import */
	struct store_opts opts = location_store_opts(c, loc, true, true);

	*s = NULL;
	if (store_open(loc, dry_run ? STORE_READ : STORE_CREATE, &opts, s, err) == 0)
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
	struct record *recs = NULL;
	struct store *s = NULL;
	const struct import_entry **idx = NULL;
	bool *put = calloc(n ? n : 1, sizeof(*put));
	int rc = -1;

	*n_problems = 0;
	if (put == NULL)
		return totp_err_set(err, TOTP_R_NOMEM, "out of memory importing");
	for (size_t i = 0; i < n; i++)
		if (user_name_check(entries[i].user, err) < 0)
			goto done;
	if (group(entries, n, &idx, err) < 0)
		goto done;
	if (!dry_run && make_records(entries, n, idx, now_ms, &recs, put, err) < 0)
		goto done;
	if (open_for_import(c, loc, dry_run, &s, err) < 0)
		goto done;
	if (look(s, entries, n, before, problems, n_problems, err) < 0)
		goto done;
	rc = dry_run ? 0 : put_all(s, entries, n, recs, put, before, err);
done:
	store_close(s);
	if (recs != NULL)
		free_records(recs, n ? n : 1);
	free(put);
	free(idx);
	return rc;
}
