/* import_store: all or nothing, replacing only what has no working phone. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "import_store.h"
#include "gdbm_store.h"
#include "store.h"

struct fixture {
	char dir[64];
	struct cfg c;
	struct store_location loc;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/test_import_store.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	cfg_defaults(&f->c);
	f->c.lock_timeout_ms = 200;
	snprintf(f->loc.where, sizeof(f->loc.where), "%s/sys/default.db", f->dir);
	f->loc.owner = geteuid();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	free(f);
	return system(cmd) == 0 ? 0 : -1;
}

static struct import_entry entry(const char *user, unsigned line, uint64_t counter)
{
	struct import_entry e;

	memset(&e, 0, sizeof(e));
	snprintf(e.user, sizeof(e.user), "%s", user);
	e.line = line;
	e.params = (struct otp_params){OTP_HOTP, OTP_SHA1, 6, 30};
	memcpy(e.secret, "12345678901234567890", 20);
	e.secret_len = 20;
	e.counter = counter;
	return e;
}

/* 1 and *r when the user has a record, else 0. */
static int get(const struct fixture *f, const char *user, struct record *r)
{
	struct store_opts o = {
	    .owner = f->loc.owner, .lock_timeout_ms = 200, .sync = false};
	struct store *s;
	struct totp_err err;
	int found;

	if (gdbm_store_open(f->loc.where, STORE_READ, &o, &s, &err) < 0) {
		assert_int_equal(err.reason, TOTP_R_NOT_FOUND);
		return 0;
	}
	found = store_get(s, user, r, &err);
	store_close(s);
	assert_true(found >= 0);
	return found;
}

static void put(const struct fixture *f, const char *user, enum record_state st,
		uint64_t sequence)
{
	struct store_opts o = {
	    .owner = f->loc.owner, .lock_timeout_ms = 200, .sync = true};
	struct store *s;
	struct totp_err err;
	struct record r;

	memset(&r, 0, sizeof(r));
	r.gen[0].state = st;
	r.gen[0].params = (struct otp_params){OTP_TOTP, OTP_SHA1, 6, 30};
	memcpy(r.gen[0].secret, "abcdefghijabcdefghij", 20);
	r.gen[0].secret_len = st == RECORD_REMOVED ? 0 : 20;
	r.sequence = sequence;
	assert_int_equal(gdbm_store_open(f->loc.where, STORE_CREATE, &o, &s, &err), 0);
	assert_int_equal(store_put(s, user, &r, &err), 0);
	store_close(s);
}

static void test_new_users_written_ready(void **state)
{
	struct fixture *f = *state;
	struct import_entry e[2] = {entry("ann", 1, 4), entry("ben", 3, 0)};
	struct import_before before[2];
	struct import_problem problems[2];
	size_t np = 9;
	struct totp_err err;
	struct record r;

	assert_int_equal(
	    import_store(&f->c, &f->loc, e, 2, false, 5000, before, problems, &np, &err),
	    0);
	assert_int_equal(np, 0);
	assert_int_equal(before[0].state, 0);
	assert_int_equal(before[1].state, 0);
	assert_int_equal(get(f, "ann", &r), 1);
	assert_int_equal(r.gen[0].state, RECORD_READY);
	assert_int_equal(r.gen[0].counter, 4);
	assert_int_equal(r.sequence, 2);
	assert_int_equal(r.change_date_ms, 5000);
	assert_memory_equal(r.gen[0].secret, "12345678901234567890", 20);
	assert_int_equal(get(f, "ben", &r), 1);
	assert_int_equal(r.gen[0].counter, 0);
	record_wipe(&r);
}

/* issue 17: a user on several lines gets one record of several
 * generators, in the lines' order, each with its own counter. */
static void test_several_tokens_one_record(void **state)
{
	struct fixture *f = *state;
	struct import_entry e[4];
	struct import_before before[4];
	struct import_problem problems[4];
	size_t np;
	struct record r;
	struct totp_err err;

	e[0] = entry("alice", 1, 5);
	e[1] = entry("bob", 2, 7);
	e[2] = entry("alice", 3, 9);
	strcpy(e[2].name, "oath2");
	e[2].last_used = 1700000000;
	e[3] = entry("alice", 4, 11);
	strcpy(e[3].name, "oath3");
	memcpy(e[3].secret, "abcdefghijabcdefghij", 20);
	assert_int_equal(import_store(&f->c, &f->loc, e, 4, false, 1718261075000, before,
				      problems, &np, &err),
			 0);
	assert_int_equal(get(f, "alice", &r), 1);
	assert_int_equal(record_generators(&r), 3);
	assert_string_equal(record_gen_name(&r.gen[0]), "default");
	assert_string_equal(record_gen_name(&r.gen[1]), "oath2");
	assert_string_equal(record_gen_name(&r.gen[2]), "oath3");
	assert_int_equal(r.gen[0].counter, 5);
	assert_int_equal(r.gen[1].counter, 9);
	assert_int_equal(r.gen[2].counter, 11);
	assert_memory_equal(r.gen[2].secret, "abcdefghijabcdefghij", 20);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(r.gen[i].state, RECORD_READY);
	assert_int_equal(r.sequence, 6); /* registered and verified, each */
	assert_int_equal(r.last_success.time, 1700000000);
	assert_int_equal(r.last_success.by, 1);
	record_wipe(&r);
	assert_int_equal(get(f, "bob", &r), 1);
	assert_int_equal(record_generators(&r), 1);
	record_wipe(&r);
}

/* A user whose default generator is pending but another one is ready has
 * a working phone: the import refuses, and the record stays. */
static void test_ready_second_generator_stops_import(void **state)
{
	struct fixture *f = *state;
	struct import_entry e[1] = {entry("dora", 1, 3)};
	struct import_before before[1];
	struct import_problem problems[1];
	struct store_opts o = {
	    .owner = f->loc.owner, .lock_timeout_ms = 200, .sync = true};
	struct store *s;
	struct record r;
	size_t np;
	struct totp_err err;

	memset(&r, 0, sizeof(r));
	r.gen[0].state = RECORD_PENDING;
	r.gen[0].params = (struct otp_params){OTP_TOTP, OTP_SHA1, 6, 30};
	r.gen[0].secret_len = 20;
	r.gen[1] = r.gen[0];
	strcpy(r.gen[1].name, "spare");
	r.gen[1].state = RECORD_READY;
	r.sequence = 4;
	assert_int_equal(gdbm_store_open(f->loc.where, STORE_CREATE, &o, &s, &err), 0);
	assert_int_equal(store_put(s, "dora", &r, &err), 0);
	store_close(s);
	assert_int_equal(import_store(&f->c, &f->loc, e, 1, false, 1718261075000, before,
				      problems, &np, &err),
			 -1);
	assert_int_equal(err.reason, TOTP_R_EXISTS);
	assert_int_equal(np, 1);
	assert_int_equal(before[0].state, RECORD_READY);
	assert_int_equal(get(f, "dora", &r), 1);
	assert_int_equal(record_generators(&r), 2);
	assert_int_equal(r.sequence, 4);
	record_wipe(&r);
}

/* More than four for one user: refused, naming the user, nothing written
 * (and a dry run says the same). */
static void test_too_many_tokens_nothing_written(void **state)
{
	struct fixture *f = *state;
	struct import_entry e[6];
	struct import_before before[6];
	struct import_problem problems[6];
	size_t np;
	struct record r;
	struct totp_err err;

	e[0] = entry("bob", 1, 1);
	for (unsigned i = 1; i < 6; i++) {
		e[i] = entry("carol", i + 1, i);
		if (i > 1)
			snprintf(e[i].name, sizeof(e[i].name), "oath%u", i);
	}
	for (int dry = 1; dry >= 0; dry--) {
		assert_int_equal(import_store(&f->c, &f->loc, e, 6, dry, 1718261075000,
					      before, problems, &np, &err),
				 -1);
		assert_int_equal(err.reason, TOTP_R_TOO_MANY);
		assert_non_null(strstr(err.msg, "carol"));
		assert_non_null(strstr(err.msg, "nothing was imported"));
	}
	assert_int_equal(get(f, "bob", &r), 0);
	assert_int_equal(get(f, "carol", &r), 0);
	/* two alike: refused too */
	strcpy(e[3].name, "oath2");
	assert_int_equal(import_store(&f->c, &f->loc, e + 1, 4, false, 1718261075000,
				      before, problems, &np, &err),
			 -1);
	assert_int_equal(err.reason, TOTP_R_INVALID);
	assert_non_null(strstr(err.msg, "two generators named oath2"));
	assert_int_equal(get(f, "carol", &r), 0);
}

static void test_pending_and_removed_replaced(void **state)
{
	struct fixture *f = *state;
	struct import_entry e[2] = {entry("ann", 1, 4), entry("ben", 2, 0)};
	struct import_before before[2];
	struct import_problem problems[2];
	size_t np;
	struct totp_err err;
	struct record r;

	put(f, "ann", RECORD_PENDING, 1);
	put(f, "ben", RECORD_REMOVED, 7);
	assert_int_equal(
	    import_store(&f->c, &f->loc, e, 2, false, 5000, before, problems, &np, &err),
	    0);
	assert_int_equal(before[0].state, RECORD_PENDING);
	assert_int_equal(before[1].state, RECORD_REMOVED);
	assert_int_equal(before[1].sequence, 7);
	assert_int_equal(get(f, "ann", &r), 1);
	assert_int_equal(r.gen[0].state, RECORD_READY);
	assert_int_equal(r.sequence, 3);
	assert_memory_equal(r.gen[0].secret, "12345678901234567890", 20);
	assert_int_equal(get(f, "ben", &r), 1);
	assert_int_equal(r.sequence, 9);
	record_wipe(&r);
}

static void test_ready_user_stops_everything(void **state)
{
	struct fixture *f = *state;
	struct import_entry e[3] = {entry("ann", 1, 4), entry("ben", 2, 0),
				    entry("cat", 5, 0)};
	struct import_before before[3];
	struct import_problem problems[3];
	size_t np;
	struct totp_err err;
	struct record r;

	put(f, "ben", RECORD_READY, 2);
	put(f, "cat", RECORD_READY, 4);
	assert_int_equal(
	    import_store(&f->c, &f->loc, e, 3, false, 5000, before, problems, &np, &err),
	    -1);
	assert_int_equal(err.reason, TOTP_R_EXISTS);
	assert_non_null(strstr(err.msg, "nothing was imported"));
	assert_int_equal(np, 2);
	assert_int_equal(problems[0].line, 2);
	assert_non_null(strstr(problems[0].msg, "ben already has a ready generator"));
	assert_int_equal(problems[1].line, 5);
	assert_int_equal(get(f, "ann", &r), 0); /* not half-imported */
	assert_int_equal(get(f, "ben", &r), 1);
	assert_memory_equal(r.gen[0].secret, "abcdefghijabcdefghij", 20); /* untouched */
	assert_int_equal(r.sequence, 2);
	record_wipe(&r);
}

static void test_dry_run_writes_nothing(void **state)
{
	struct fixture *f = *state;
	struct import_entry e[2] = {entry("ann", 1, 4), entry("ben", 2, 0)};
	struct import_before before[2];
	struct import_problem problems[2];
	size_t np;
	struct totp_err err;
	struct stat st;
	struct record r;

	/* no store yet: none is made */
	assert_int_equal(
	    import_store(&f->c, &f->loc, e, 2, true, 5000, before, problems, &np, &err),
	    0);
	assert_int_equal(stat(f->loc.where, &st), -1);
	/* a store with a pending and a ready user: reported, unchanged */
	put(f, "ann", RECORD_PENDING, 1);
	assert_int_equal(
	    import_store(&f->c, &f->loc, e, 2, true, 5000, before, problems, &np, &err),
	    0);
	assert_int_equal(before[0].state, RECORD_PENDING);
	assert_int_equal(get(f, "ann", &r), 1);
	assert_int_equal(r.gen[0].state, RECORD_PENDING);
	assert_int_equal(get(f, "ben", &r), 0);
	put(f, "ben", RECORD_READY, 2);
	assert_int_equal(
	    import_store(&f->c, &f->loc, e, 2, true, 5000, before, problems, &np, &err),
	    -1);
	assert_int_equal(err.reason, TOTP_R_EXISTS);
	assert_int_equal(np, 1);
	assert_int_equal(problems[0].line, 2);
	record_wipe(&r);
}

static void test_refusals_leave_the_store(void **state)
{
	struct fixture *f = *state;
	struct import_entry e[2] = {entry("ann", 1, 4), entry("-bad", 2, 0)};
	struct import_before before[2];
	struct import_problem problems[2];
	size_t np;
	struct totp_err err;
	struct store_opts o = {
	    .owner = f->loc.owner, .lock_timeout_ms = 200, .sync = true};
	struct store *held;
	struct record r;

	assert_int_equal(
	    import_store(&f->c, &f->loc, e, 2, false, 5000, before, problems, &np, &err),
	    -1);
	assert_int_equal(err.reason, TOTP_R_INVALID);
	assert_int_equal(get(f, "ann", &r), 0);

	/* a bad entry (no secret) is refused before the store is opened */
	e[1] = entry("ben", 2, 0);
	e[1].secret_len = 0;
	assert_int_equal(
	    import_store(&f->c, &f->loc, e, 2, false, 5000, before, problems, &np, &err),
	    -1);
	assert_int_equal(get(f, "ann", &r), 0);

	/* someone holds the store: the lock's deadline passes */
	e[1] = entry("ben", 2, 0);
	assert_int_equal(gdbm_store_open(f->loc.where, STORE_CREATE, &o, &held, &err), 0);
	assert_int_equal(
	    import_store(&f->c, &f->loc, e, 2, false, 5000, before, problems, &np, &err),
	    -1);
	assert_int_equal(err.reason, TOTP_R_LOCK_TIMEOUT);
	store_close(held);
	assert_int_equal(get(f, "ann", &r), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_new_users_written_ready, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_several_tokens_one_record, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_ready_second_generator_stops_import,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_many_tokens_nothing_written, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_pending_and_removed_replaced, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_ready_user_stops_everything, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_dry_run_writes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusals_leave_the_store, setup,
					    teardown),
	};

	return cmocka_run_group_tests_name("import_store", tests, NULL, NULL);
}
