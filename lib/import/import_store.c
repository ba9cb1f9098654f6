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
		before[i].state = found ? now.gen[0].state : 0;
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
		   struct record *recs, const struct import_before *before,
		   struct totp_err *err)
{
	for (size_t i = 0; i < n; i++) {
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
	int rc = -1;

	*n_problems = 0;
	for (size_t i = 0; i < n; i++)
		if (user_name_check(entries[i].user, err) < 0)
			return -1;
	if (!dry_run && make_records(entries, n, now_ms, &recs, err) < 0)
		return -1;
	if (open_for_import(c, loc, dry_run, &s, err) < 0)
		goto done;
	if (look(s, entries, n, before, problems, n_problems, err) < 0)
		goto done;
	rc = dry_run ? 0 : put_all(s, entries, n, recs, before, err);
done:
	store_close(s);
	free_records(recs, n ? n : 1);
	return rc;
}
