/*
 * gen_totp: a pam_totp system store of N ready users, written the fast
 * way: one exclusive open (creating the store), N store_put with sync
 * off, one store_commit before the close.  The store is what the module
 * opens for `store = DIR/%r.db`: sharded (shard_store.h), under DIR/<realm>.d,
 * the batch committed shard by shard.  Every record is what a verified
 * registration leaves: ready, TOTP SHA1/6/30, the user's derived secret,
 * sequence 2 (registered, verified).
 *
 * gen_totp_add adds one more user the way a registration does: its own
 * locked open of the user's shard (store_open_user, as a registration),
 * synced, not a batch, so it pays what a new user costs (a change in
 * place of the user's shard through its redo journal, redo.h), and says
 * how long that journal was: the free space the registration needed
 * besides the shard's growth.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench_gen.h"
#include "shard_store.h"
#include "store.h"
#include "synth.h"

static void ready_record(uint32_t i, int64_t now_ms, struct record *r)
{
	memset(r, 0, sizeof(*r));
	r->gen[0].state = RECORD_READY;
	r->gen[0].params = (struct otp_params){OTP_TOTP, OTP_SHA1, 6, 30};
	synth_secret(i, r->gen[0].secret);
	r->gen[0].secret_len = SYNTH_SECRET_LEN;
	r->gen[0].created = now_ms / 1000;
	record_add_event(r, now_ms); /* registered */
	record_add_event(r, now_ms); /* verified */
}

/* The realm's system store named by its legacy path DIR/<realm>.db. */
static void system_loc(const char *db, struct store_location *loc)
{
	memset(loc, 0, sizeof(*loc));
	loc->kind = STORE_KIND_GDBM;
	snprintf(loc->where, sizeof(loc->where), "%s", db);
	loc->owner = 0;
	loc->sharded = true;
}

int gen_totp(const char *db, uint32_t n)
{
	struct store_location loc;
	struct store_opts opts = {
	    .owner = 0, .lock_timeout_ms = 2000, .sync = false, .batch = true};
	struct totp_err err = {0};
	struct store *s = NULL;
	struct record r;
	char name[SYNTH_NAME_BUF];
	int64_t now_ms = (int64_t)time(NULL) * 1000;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	system_loc(db, &loc);
	if (store_open(&loc, STORE_CREATE, &opts, &s, &err) < 0) {
		fprintf(stderr, "bench_gen: %s: %s\n", db, err.msg);
		return -1;
	}
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		synth_name(i, name);
		ready_record(i, now_ms, &r);
		rc = store_put(s, name, &r, &err);
	}
	if (rc == 0)
		rc = store_commit(s, &err);
	if (rc < 0)
		fprintf(stderr, "bench_gen: %s: %s\n", db, err.msg);
	record_wipe(&r);
	store_close(s);
	return rc;
}

int gen_totp_add(const char *db, uint32_t i, size_t *journal)
{
	struct store_opts opts = {.owner = 0, .lock_timeout_ms = 2000, .sync = true};
	struct store_location loc;
	struct totp_err err = {0};
	struct store *s = NULL;
	struct record r;
	char name[SYNTH_NAME_BUF];
	int rc;

	synth_name(i, name);
	system_loc(db, &loc);
	if (store_open_user(&loc, name, STORE_WRITE, &opts, &s, &err) < 0) {
		fprintf(stderr, "bench_gen: %s: %s\n", db, err.msg);
		return -1;
	}
	ready_record(i, (int64_t)time(NULL) * 1000, &r);
	rc = store_put(s, name, &r, &err);
	if (rc < 0)
		fprintf(stderr, "bench_gen: %s: %s\n", db, err.msg);
	*journal = shard_store_last_journal(s);
	record_wipe(&r);
	store_close(s);
	return rc;
}
