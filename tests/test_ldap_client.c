/*
 * lib/ldap against a real slapd (tests/ldap/fixture.sh starts it; run
 * through tests/ldap_client.sh): failover, a stalled server, verified TLS,
 * SASL EXTERNAL, RFC 4515 escaping, a hand-made OATH-LDAP token read,
 * compare-and-set under a race of 8 processes, the ACLs of docs/ldap.md,
 * and enrollment whose token slapo-otp then accepts in a bind.
 * @needs ldapwhoami oathtool
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ldap/ldap_cfg.h"
#include "ldap/ldap_conn.h"
#include "ldap/ldap_token.h"
#include "otp.h"

#define BASE "dc=example,dc=org"
#define PEOPLE "ou=people," BASE
#define TOKENS "ou=tokens," BASE
#define PARAMS "cn=totp-sha1-6,ou=params," BASE
#define HANG_GUARD 60 /* seconds: a call that takes this long is a hang */
#define RACERS 8
#define ROUNDS 50
/* RFC 6238's SHA1 key, as tests/ldap/data.ldif holds it for carol. */
#define KEY_HEX "3132333435363738393031323334353637383930"
static const uint8_t key[] = "12345678901234567890";

static const char *env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL) {
		fprintf(stderr, "%s is not set: run through tests/ldap_client.sh\n",
			name);
		exit(77);
	}
	return v;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A realm cfg: URIs, the host identity by password file, CA, timeout. */
static void cfg_make(struct ldap_realm_cfg *c, const char *uris, const char *ca, int ms)
{
	struct totp_err e;
	char t[16];

	ldap_cfg_init(c);
	snprintf(t, sizeof(t), "%d", ms);
	if (ldap_cfg_set(c, "ldap_uri", uris, &e) < 0 ||
	    ldap_cfg_set(c, "ldap_base", PEOPLE, &e) < 0 ||
	    ldap_cfg_set(c, "ldap_tokens", TOKENS, &e) < 0 ||
	    ldap_cfg_set(c, "ldap_params", PARAMS, &e) < 0 ||
	    ldap_cfg_set(c, "ldap_binddn", "cn=host1,ou=hosts," BASE, &e) < 0 ||
	    ldap_cfg_set(c, "ldap_bindpw_file", env("LDAPT_PW_FILE"), &e) < 0 ||
	    ldap_cfg_set(c, "ldap_timeout", t, &e) < 0 ||
	    (ca != NULL && ldap_cfg_set(c, "ldap_tls_ca", ca, &e) < 0))
		fail_msg("cfg: %s", e.msg);
	if (ldap_cfg_check(c, &e) < 0)
		fail_msg("cfg check: %s", e.msg);
}

static struct ldapc *open_host(const struct ldap_realm_cfg *c)
{
	struct ldapc *l = NULL;
	struct totp_err e;

	if (ldapc_open(c, LDAPC_HOST, NULL, NULL, &l, &e) < 0)
		fail_msg("open as host: %s", e.msg);
	return l;
}

/* Waits, if needed, so that at least 4 s of the current 30 s step are
 * left: a code computed now is still the current one when it is used. */
static void fresh_step(void)
{
	time_t t = time(NULL);

	if (30 - t % 30 < 4)
		sleep((unsigned)(30 - t % 30 + 1));
}

static void code_now(char out[OTP_CODE_BUF], uint64_t *step)
{
	struct otp_params p = {OTP_TOTP, OTP_SHA1, 6, 30};
	struct totp_err e;

	*step = otp_step_at(&p, time(NULL));
	assert_int_equal(otp_code(key, 20, &p, *step, out, &e), 0);
}

/* oathtool's code for `hex` now (independent of lib/otp). */
static void oathtool_code(const char *hex, char out[OTP_CODE_BUF])
{
	char cmd[256];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "oathtool --totp %s", hex);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(out, OTP_CODE_BUF, f));
	out[strcspn(out, "\n")] = '\0';
	assert_int_equal(pclose(f), 0);
	assert_int_equal(strlen(out), 6);
}

/* ldapwhoami -x -D dn -w password<code>: its exit status. */
static int whoami(const char *uri, const char *dn, const char *pw, const char *code)
{
	char cmd[1024];
	int st;

	snprintf(cmd, sizeof(cmd),
		 "ldapwhoami -x -H '%s' -D '%s' -w '%s%s' >/dev/null 2>&1", uri, dn, pw,
		 code);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

/* ---- escaping ------------------------------------------------------------ */

static void find_is(struct ldapc *l, const char *user, const char *want_dn, int reason)
{
	struct totp_err e;
	char *dn = NULL;
	int rc = ldapc_find_user(l, user, &dn, &e);

	if (want_dn != NULL) {
		if (rc != 0)
			fail_msg("find %s: %s", user, e.msg);
		assert_string_equal(dn, want_dn);
	} else {
		assert_int_equal(rc, -1);
		assert_int_equal(e.reason, reason);
	}
	free(dn);
}

static void test_escaping(void **state)
{
	struct ldap_realm_cfg c;
	struct ldapc *l;

	(void)state;
	cfg_make(&c, env("LDAPT_URI1"), NULL, 5000);
	l = open_host(&c);
	find_is(l, "alice", "uid=alice," PEOPLE, 0);
	find_is(l, "a*b(c)\\d", "cn=odd1," PEOPLE, 0);
	find_is(l, "j\xc3\xb6rg-\xc3\xbc", "cn=odd2," PEOPLE, 0);
	find_is(l, "x)(uid=*", "cn=odd3," PEOPLE, 0);
	find_is(l, "a*bc", "cn=odd4," PEOPLE, 0);
	/* Not wildcards, not injections: literal names nobody has. */
	find_is(l, "*", NULL, TOTP_R_NOT_FOUND);
	find_is(l, "a*", NULL, TOTP_R_NOT_FOUND);
	find_is(l, "alice)(|(uid=*", NULL, TOTP_R_NOT_FOUND);
	find_is(l, "alice\\", NULL, TOTP_R_NOT_FOUND);
	find_is(l, "\x01\x7f\xff", NULL, TOTP_R_NOT_FOUND);
	ldapc_close(l);
	ldap_cfg_free(&c);
}

/* ---- a silent server ------------------------------------------------------ */

static void stalls(const char *uris, const char *ca, int ms)
{
	struct ldap_realm_cfg c;
	struct ldapc *l = NULL;
	struct totp_err e;
	double t0;
	int rc;

	cfg_make(&c, uris, ca, ms);
	alarm(HANG_GUARD);
	t0 = now_s();
	rc = ldapc_open(&c, LDAPC_HOST, NULL, NULL, &l, &e);
	alarm(0);
	assert_int_equal(rc, -1);
	assert_int_equal(e.reason, TOTP_R_IO);
	print_message("# stalled %s (ldap_timeout %d ms): failed after %.2f s: %s\n",
		      uris, ms, now_s() - t0, e.msg);
	ldap_cfg_free(&c);
}

static void test_stall(void **state)
{
	char uris[512], tls[256];
	const char *stall = env("LDAPT_STALL");
	struct ldap_realm_cfg c;
	struct ldapc *l = NULL;
	struct totp_err e;
	double t0;

	(void)state;
	stalls(stall, NULL, 1000);
	/* StartTLS to a silent server, and ldaps:// to one. */
	stalls(stall, env("LDAPT_CA"), 1000);
	snprintf(tls, sizeof(tls), "ldaps://%s", stall + strlen("ldap://"));
	stalls(tls, env("LDAPT_CA"), 1000);
	/* A silent first server, then a good one: the second answers. */
	snprintf(uris, sizeof(uris), "%s %s", stall, env("LDAPT_URI2"));
	cfg_make(&c, uris, NULL, 1000);
	alarm(HANG_GUARD);
	t0 = now_s();
	if (ldapc_open(&c, LDAPC_HOST, NULL, NULL, &l, &e) < 0)
		fail_msg("past a stalled server: %s", e.msg);
	alarm(0);
	assert_string_equal(ldapc_uri(l), env("LDAPT_URI2"));
	print_message("# stalled first server, then %s answered after %.2f s\n",
		      ldapc_uri(l), now_s() - t0);
	ldapc_close(l);
	ldap_cfg_free(&c);
}

/* ---- TLS ----------------------------------------------------------------- */

static int tls_open(const char *uri, const char *ca, struct totp_err *e)
{
	struct ldap_realm_cfg c;
	struct ldapc *l = NULL;
	int rc;

	cfg_make(&c, uri, ca, 5000);
	alarm(HANG_GUARD);
	rc = ldapc_open(&c, LDAPC_HOST, NULL, NULL, &l, e);
	alarm(0);
	ldapc_close(l);
	ldap_cfg_free(&c);
	return rc;
}

static void test_tls(void **state)
{
	struct totp_err e;
	char starttls[256];

	(void)state;
	if (tls_open(env("LDAPT_LDAPS1"), env("LDAPT_CA"), &e) < 0)
		fail_msg("ldaps:// with the right CA: %s", e.msg);
	snprintf(starttls, sizeof(starttls), "%s", env("LDAPT_URI1"));
	if (tls_open(starttls, env("LDAPT_CA"), &e) < 0)
		fail_msg("StartTLS with the right CA: %s", e.msg);
	print_message("# ldaps:// and StartTLS with the test CA: accepted\n");

	assert_int_equal(tls_open(env("LDAPT_LDAPS1"), env("LDAPT_OTHER_CA"), &e), -1);
	assert_int_equal(e.reason, TOTP_R_IO);
	print_message("# ldaps://, certificate of another CA: refused: %s\n", e.msg);
	assert_int_equal(tls_open(starttls, env("LDAPT_OTHER_CA"), &e), -1);
	assert_int_equal(e.reason, TOTP_R_IO);
	print_message("# StartTLS, certificate of another CA: refused: %s\n", e.msg);
	assert_int_equal(tls_open(env("LDAPT_LDAPS1_WRONG_NAME"), env("LDAPT_CA"), &e),
			 -1);
	assert_int_equal(e.reason, TOTP_R_IO);
	print_message("# ldaps://, name mismatch: refused: %s\n", e.msg);
	assert_int_equal(tls_open(env("LDAPT_STARTTLS1_WRONG_NAME"), env("LDAPT_CA"), &e),
			 -1);
	assert_int_equal(e.reason, TOTP_R_IO);
	print_message("# StartTLS, name mismatch: refused: %s\n", e.msg);
}

/* ---- SASL EXTERNAL over ldapi:// ----------------------------------------- */

static void test_ldapi_external(void **state)
{
	struct ldap_realm_cfg c;
	struct ldapc *l = NULL;
	struct totp_err e;
	char *dn = NULL;

	(void)state;
	ldap_cfg_init(&c);
	assert_int_equal(ldap_cfg_set(&c, "ldap_uri", env("LDAPT_LDAPI1"), &e), 0);
	assert_int_equal(ldap_cfg_set(&c, "ldap_base", PEOPLE, &e), 0);
	assert_int_equal(ldap_cfg_check(&c, &e), 0);
	if (ldapc_open(&c, LDAPC_HOST, NULL, NULL, &l, &e) < 0)
		fail_msg("EXTERNAL over ldapi: %s", e.msg);
	/* Mapped to the host identity: it may search people. */
	if (ldapc_find_user(l, "carol", &dn, &e) < 0)
		fail_msg("find as the EXTERNAL identity: %s", e.msg);
	assert_string_equal(dn, "uid=carol," PEOPLE);
	free(dn);
	ldapc_close(l);
	ldap_cfg_free(&c);
}

/* ---- interop 1: a token made by hand with ldapadd ------------------------- */

static void test_handmade_token(void **state)
{
	struct ldap_realm_cfg c;
	struct ldapc *l;
	struct totp_err e;
	struct ldapc_token t;
	struct ldapc_params p;
	struct otp_params op;
	enum otp_type type;
	char *dn = NULL, *tok = NULL, code[OTP_CODE_BUF];
	uint64_t matched = 0;
	int rc;

	(void)state;
	cfg_make(&c, env("LDAPT_URI1"), NULL, 5000);
	l = open_host(&c);
	assert_int_equal(ldapc_find_user(l, "carol", &dn, &e), 0);
	assert_int_equal(ldapc_user_token(l, dn, &type, &tok, &e), 0);
	assert_int_equal(type, OTP_TOTP);
	assert_string_equal(tok, "cn=carol," TOKENS);
	if (ldapc_token_read(l, tok, type, &t, &e) < 0)
		fail_msg("read: %s", e.msg);
	assert_int_equal(t.secret_len, 20);
	assert_memory_equal(t.secret, key, 20);
	assert_string_equal(t.params_dn, PARAMS);
	assert_true(t.has_failures);
	assert_int_equal(t.failures, 2);
	assert_string_equal(t.last_failure, "20260101120000Z");
	assert_false(t.has_last);
	assert_int_equal(ldapc_params_read(l, t.params_dn, type, &p, &e), 0);
	assert_int_equal(p.digits, 6);
	assert_int_equal(p.alg, OTP_SHA1);
	assert_int_equal(p.period, 30);
	assert_int_equal(p.window, 1);
	assert_int_equal(
	    ldapc_params_read(l, "cn=totp-sha256-8,ou=params," BASE, type, &p, &e), 0);
	assert_int_equal(p.digits, 8);
	assert_int_equal(p.alg, OTP_SHA256);
	assert_int_equal(p.period, 60);
	assert_int_equal(p.window, 2);
	assert_int_equal(ldapc_params_read(l, t.params_dn, type, &p, &e), 0);

	/* oathtool's current code checks against what was read, and the step
	 * is recorded with compare-and-set; recording it again loses. */
	fresh_step();
	oathtool_code(KEY_HEX, code);
	op = (struct otp_params){OTP_TOTP, p.alg, p.digits, p.period};
	assert_int_equal(otp_verify_window(t.secret, t.secret_len, &op,
					   otp_step_at(&op, (int64_t)time(NULL)),
					   p.window, t.has_last ? t.last + 1 : 0, code,
					   &matched, &e),
			 1);
	rc = ldapc_cas_u64(l, tok, ldapc_attr_last(type), t.has_last, t.last, matched,
			   NULL, 0, &e);
	assert_int_equal(rc, 0);
	rc = ldapc_cas_u64(l, tok, ldapc_attr_last(type), t.has_last, t.last, matched,
			   NULL, 0, &e);
	assert_int_equal(rc, 1);
	/* The code, used here, now fails in a bind through slapo-otp. */
	assert_int_not_equal(whoami(env("LDAPT_URI1"), dn, "pw-carol", code), 0);
	print_message("# hand-made token: read, code %s checked, step %" PRIu64
		      " recorded; the same code then refused by slapo-otp\n",
		      "(oathtool's)", matched);
	ldapc_token_wipe(&t);
	free(tok);
	free(dn);
	ldapc_close(l);
	ldap_cfg_free(&c);
}

/* ---- compare-and-set race --------------------------------------------------- */

static void racer(const struct ldap_realm_cfg *c, int go, int done)
{
	struct ldapc *l = NULL;
	struct totp_err e;
	unsigned char r;

	if (ldapc_open(c, LDAPC_HOST, NULL, NULL, &l, &e) < 0) {
		fprintf(stderr, "racer: %s\n", e.msg);
		_exit(2);
	}
	while (read(go, &r, 1) == 1) {
		int rc = ldapc_cas_u64(l, "cn=racer," TOKENS, "oathTOTPLastTimeStep",
				       true, r, (uint64_t)r + 1, NULL, 0, &e);
		unsigned char out = (unsigned char)(rc == 0 ? 'W' : rc == 1 ? 'L' : 'E');

		if (rc < 0)
			fprintf(stderr, "racer: %s\n", e.msg);
		if (write(done, &out, 1) != 1)
			_exit(2);
	}
	ldapc_close(l);
	_exit(0);
}

static void test_race(void **state)
{
	struct ldap_realm_cfg c;
	int go[RACERS][2], done[2], all_one = 1, wins_total = 0;
	pid_t pids[RACERS];

	(void)state;
	cfg_make(&c, env("LDAPT_URI1"), NULL, 10000);
	assert_int_equal(pipe(done), 0);
	for (int i = 0; i < RACERS; i++) {
		assert_int_equal(pipe(go[i]), 0);
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(done[0]);
			for (int j = 0; j <= i; j++)
				close(go[j][1]);
			racer(&c, go[i][0], done[1]);
		}
		close(go[i][0]);
	}
	close(done[1]);
	alarm(HANG_GUARD * 2);
	for (int round = 0; round < ROUNDS; round++) {
		unsigned char r = (unsigned char)round, res;
		int wins = 0, losses = 0;

		for (int i = 0; i < RACERS; i++)
			assert_int_equal(write(go[i][1], &r, 1), 1);
		for (int i = 0; i < RACERS; i++) {
			assert_int_equal(read(done[0], &res, 1), 1);
			wins += res == 'W';
			losses += res == 'L';
		}
		if (wins != 1 || losses != RACERS - 1) {
			print_message("# round %d: %d winners, %d losers\n", round, wins,
				      losses);
			all_one = 0;
		}
		wins_total += wins;
	}
	alarm(0);
	for (int i = 0; i < RACERS; i++) {
		int st;

		close(go[i][1]);
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	close(done[0]);
	print_message("# race: %d rounds of %d processes, each with its own connection: "
		      "%d winners in all, %s\n",
		      ROUNDS, RACERS, wins_total,
		      all_one ? "exactly one per round" : "NOT one per round");
	assert_true(all_one);
	assert_int_equal(wins_total, ROUNDS);
	ldap_cfg_free(&c);
}

/* ---- ACLs, and interop 2: a token made here, checked by slapo-otp --------- */

/* As user `u` (found anonymously, bound with their password). */
static struct ldapc *open_user(const struct ldap_realm_cfg *c, const char *u, char **dn)
{
	struct ldapc *l = NULL;
	struct totp_err e;
	char pw[64];

	if (ldapc_open(c, LDAPC_ANON, NULL, NULL, &l, &e) < 0)
		fail_msg("anonymous: %s", e.msg);
	if (ldapc_find_user(l, u, dn, &e) < 0)
		fail_msg("anonymous find %s: %s", u, e.msg);
	snprintf(pw, sizeof(pw), "pw-%s", u);
	if (ldapc_bind(l, *dn, pw, &e) < 0)
		fail_msg("bind as %s: %s", u, e.msg);
	return l;
}

static void enroll(struct ldapc *l, const char *user, const char *dn)
{
	struct totp_err e;
	char tok[512];

	assert_int_equal(ldapc_child_dn("cn", user, TOKENS, tok, sizeof(tok), &e), 0);
	if (ldapc_token_create(l, tok, user, OTP_TOTP, key, 20, PARAMS, &e) < 0)
		fail_msg("create %s: %s", tok, e.msg);
	if (ldapc_link(l, dn, OTP_TOTP, tok, &e) != 0)
		fail_msg("link %s: %s", tok, e.msg);
}

static void test_acl_and_enrollment(void **state)
{
	struct ldap_realm_cfg c;
	struct ldapc *alice, *bob, *host;
	struct totp_err e;
	struct ldapc_token t;
	char *adn = NULL, *bdn = NULL, *tok = NULL, code[OTP_CODE_BUF];
	enum otp_type type;
	uint64_t step;

	(void)state;
	cfg_make(&c, env("LDAPT_URI1"), NULL, 5000);
	alice = open_user(&c, "alice", &adn);
	bob = open_user(&c, "bob", &bdn);
	host = open_host(&c);

	/* alice cannot make a token in bob's name. */
	assert_int_equal(ldapc_token_create(alice, "cn=bob," TOKENS, "bob", OTP_TOTP, key,
					    20, PARAMS, &e),
			 -1);
	assert_int_equal(e.reason, TOTP_R_PERMISSION);
	/* Pending: created, not linked; neither we nor slapo-otp use it. */
	assert_int_equal(ldapc_token_create(bob, "cn=bob," TOKENS, "bob", OTP_TOTP, key,
					    20, PARAMS, &e),
			 0);
	assert_int_equal(ldapc_user_token(host, bdn, &type, &tok, &e), -1);
	assert_int_equal(e.reason, TOTP_R_NOT_FOUND);
	assert_int_equal(ldapc_link(bob, bdn, OTP_TOTP, "cn=bob," TOKENS, &e), 0);
	assert_int_equal(ldapc_link(bob, bdn, OTP_TOTP, "cn=bob," TOKENS, &e), 1);

	/* alice can neither change, delete nor link bob's token. */
	assert_int_equal(ldapc_cas(alice, "cn=bob," TOKENS, "oathTOTPParams", PARAMS,
				   "cn=x", NULL, 0, &e),
			 -1);
	assert_int_equal(e.reason, TOTP_R_PERMISSION);
	assert_int_equal(ldapc_token_delete(alice, "cn=bob," TOKENS, &e), -1);
	assert_true(e.reason == TOTP_R_PERMISSION || e.reason == TOTP_R_NOT_FOUND);
	assert_int_equal(ldapc_link(alice, bdn, OTP_TOTP, "cn=alice," TOKENS, &e), -1);
	assert_int_equal(e.reason, TOTP_R_PERMISSION);
	/* bob cannot rewind his own replay state (hosts only) ... */
	assert_int_equal(ldapc_cas_u64(bob, "cn=bob," TOKENS, "oathTOTPLastTimeStep",
				       false, 0, 1, NULL, 0, &e),
			 -1);
	assert_int_equal(e.reason, TOTP_R_PERMISSION);
	/* ... nor read his secret back; the host reads it. */
	assert_int_equal(ldapc_token_read(bob, "cn=bob," TOKENS, OTP_TOTP, &t, &e), -1);
	assert_int_equal(e.reason, TOTP_R_CORRUPT); /* oathSecret: not readable */
	assert_int_equal(ldapc_token_read(host, "cn=bob," TOKENS, OTP_TOTP, &t, &e), 0);
	assert_memory_equal(t.secret, key, 20);
	ldapc_token_wipe(&t);
	print_message(
	    "# ACLs: alice cannot create, change, delete or link bob's token; bob "
	    "cannot read his secret or rewind his last step\n");

	/* ldap_check = bind: slapo-otp checks password+code; a replay fails. */
	fresh_step();
	code_now(code, &step);
	assert_int_equal(ldapc_check_bind(&c, bdn, "pw-bob", code, &e), 0);
	assert_int_equal(ldapc_check_bind(&c, bdn, "pw-bob", code, &e), -1);
	assert_int_equal(e.reason, TOTP_R_WRONG_CODE);
	assert_int_equal(ldapc_check_bind(&c, bdn, "wrong", code, &e), -1);
	assert_int_equal(e.reason, TOTP_R_WRONG_CODE);
	/* ... and the host's reader sees the step slapo-otp recorded. */
	assert_int_equal(ldapc_token_read(host, "cn=bob," TOKENS, OTP_TOTP, &t, &e), 0);
	assert_true(t.has_last);
	assert_true(t.last >= step);
	ldapc_token_wipe(&t);
	print_message("# ldap_check = bind: accepted once (step %" PRIu64 "), the replay "
		      "refused\n",
		      step);

	/* Interop 2: alice enrolls with this code; ldapwhoami with her
	 * password and oathtool's code passes once, then fails. */
	enroll(alice, "alice", adn);
	fresh_step();
	oathtool_code(KEY_HEX, code);
	assert_int_equal(whoami(env("LDAPT_URI1"), adn, "pw-alice", code), 0);
	assert_int_not_equal(whoami(env("LDAPT_URI1"), adn, "pw-alice", code), 0);
	assert_int_not_equal(whoami(env("LDAPT_URI1"), adn, "pw-alice", ""), 0);
	print_message("# token made by lib/ldap: ldapwhoami with password+code accepted, "
		      "the same code then refused, the password alone refused\n");

	/* remove: unlink, then delete. */
	assert_int_equal(ldapc_unlink(alice, adn, OTP_TOTP, "cn=alice," TOKENS, &e), 0);
	assert_int_equal(ldapc_unlink(alice, adn, OTP_TOTP, "cn=alice," TOKENS, &e), 1);
	assert_int_equal(ldapc_token_delete(alice, "cn=alice," TOKENS, &e), 0);
	assert_int_equal(ldapc_token_delete(alice, "cn=alice," TOKENS, &e), -1);
	assert_int_equal(e.reason, TOTP_R_NOT_FOUND);
	assert_int_equal(whoami(env("LDAPT_URI1"), adn, "pw-alice", ""), 0);

	free(tok);
	free(adn);
	free(bdn);
	ldapc_close(alice);
	ldapc_close(bob);
	ldapc_close(host);
	ldap_cfg_free(&c);
}

/* ---- failover (last: it kills provider 1) ------------------------------------ */

static void test_failover(void **state)
{
	struct ldap_realm_cfg c;
	struct ldapc *l = NULL;
	struct totp_err e;
	struct ldapc_token t;
	char uris[512], dead[64];
	double t0;
	pid_t p1 = (pid_t)atoi(env("LDAPT_P1_PID"));

	(void)state;
	/* Both up: the first answers.  Then provider 1 is killed (its port
	 * refuses) and the second must answer. */
	snprintf(uris, sizeof(uris), "%s %s", env("LDAPT_URI1"), env("LDAPT_URI2"));
	cfg_make(&c, uris, NULL, 2000);
	l = open_host(&c);
	assert_string_equal(ldapc_uri(l), env("LDAPT_URI1"));
	ldapc_close(l);

	assert_int_equal(kill(p1, SIGKILL), 0);
	for (int i = 0; i < 100 && kill(p1, 0) == 0; i++)
		usleep(100000);
	snprintf(dead, sizeof(dead), "%s", env("LDAPT_URI1"));
	alarm(HANG_GUARD);
	t0 = now_s();
	if (ldapc_open(&c, LDAPC_HOST, NULL, NULL, &l, &e) < 0)
		fail_msg("failover: %s", e.msg);
	alarm(0);
	assert_string_equal(ldapc_uri(l), env("LDAPT_URI2"));
	print_message(
	    "# failover: provider 1 (%s) killed, provider 2 answered after %.3f s\n",
	    dead, now_s() - t0);
	/* Provider 2 has the replicated data: carol's token. */
	if (ldapc_token_read(l, "cn=carol," TOKENS, OTP_TOTP, &t, &e) < 0)
		fail_msg("read on provider 2: %s", e.msg);
	assert_memory_equal(t.secret, key, 20);
	ldapc_token_wipe(&t);
	ldapc_close(l);
	ldap_cfg_free(&c);

	/* Both down: fails closed, unavailable. */
	snprintf(uris, sizeof(uris), "%s", env("LDAPT_URI1"));
	cfg_make(&c, uris, NULL, 2000);
	assert_int_equal(ldapc_open(&c, LDAPC_HOST, NULL, NULL, &l, &e), -1);
	assert_int_equal(e.reason, TOTP_R_IO);
	ldap_cfg_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_stall),
	    cmocka_unit_test(test_tls),
	    cmocka_unit_test(test_ldapi_external),
	    cmocka_unit_test(test_handmade_token),
	    cmocka_unit_test(test_race),
	    cmocka_unit_test(test_acl_and_enrollment),
	    cmocka_unit_test(test_failover),
	};
	struct totp_err e;

	/* liblber writes with write(2): a write to a connection the server
	 * (or the watchdog, at a deadline) closed raises SIGPIPE.  Callers
	 * keep it from killing the process (ldap_conn.h); the module blocks
	 * it around each store call (ldap_store.c), this program once. */
	signal(SIGPIPE, SIG_IGN);

	env("LDAPT_URI1");
	if (otp_init(&e) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
