/*
 * bench_login: logs synthetic users in through a PAM stack and times it.
 *
 *   bench_login --service NAME --confdir DIR --users N
 *               [--from J] [--count C] [--deadline SECONDS]
 *               [--start-at UNIX_NS] [--label TEXT] [--password-prefix P]
 *
 * Logs in the users at positions J .. J+C-1 of synth_pick's walk over the
 * N users (so disjoint ranges never log one user in twice), each once:
 * pam_start_confdir, pam_authenticate (timed, CLOCK_MONOTONIC), pam_end.
 * The conversation answers the current TOTP code (SHA1, 6 digits, 30 s),
 * made by liboath from the user's derived secret; with --password-prefix,
 * a prompt that asks for the password alone ("Password: ", the ldap realm's
 * ldap_check = bind) gets P followed by the user's name instead (the
 * passwords bench/gen_ldif.c writes).  One extra handle stays
 * open for the whole run so the stack's modules stay loaded between
 * logins, as in a long-running service; the timing covers
 * pam_authenticate only.  Stops early when the deadline passes.
 *
 * Prints one line of key=value pairs: logins done, failures, p50/p99/mean
 * microseconds, logins per second over the whole loop (start, authenticate
 * and end), peak RSS (KiB), and the loop's end on CLOCK_REALTIME for
 * runners that start several processes together (--start-at).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <liboath/oath.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "synth.h"
#include "synth_pwd.h"

struct options {
	const char *service;
	const char *confdir;
	const char *label;
	const char *password_prefix; /* NULL: every prompt gets the code */
	uint32_t users;
	uint64_t from;
	uint64_t count;
	double deadline_s;
	uint64_t start_at_ns;
};

struct login_ctx {
	const char *password_prefix;
	uint32_t index;
	unsigned prompts;
};

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The code the user's phone would show now. */
static int current_code(uint32_t index, char out[64])
{
	uint8_t secret[SYNTH_SECRET_LEN];
	int rc;

	synth_secret(index, secret);
	rc = oath_totp_generate2((const char *)secret, sizeof(secret), time(NULL), 30, 0,
				 6, 0, out);
	explicit_bzero(secret, sizeof(secret));
	return rc == OATH_OK ? 0 : -1;
}

/* The derived password, when the prompt asks for a password alone. */
static int password_answer(const struct login_ctx *ctx, const char *prompt, char out[64])
{
	char user[SYNTH_NAME_BUF];

	if (ctx->password_prefix == NULL || prompt == NULL ||
	    strncmp(prompt, "Password", 8) != 0 || strstr(prompt, "code") != NULL)
		return 0;
	synth_name(ctx->index, user);
	return snprintf(out, 64, "%s%s", ctx->password_prefix, user) < 64 ? 1 : -1;
}

/* Answers every prompt with the current code (or a password prompt with the
 * derived password), and messages with nothing. */
static int converse(int n, const struct pam_message **msg, struct pam_response **resp,
		    void *data)
{
	struct login_ctx *ctx = data;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (r == NULL)
		return PAM_BUF_ERR;
	for (int k = 0; k < n; k++) {
		char code[64];
		int style = msg[k]->msg_style, pw;

		if (style != PAM_PROMPT_ECHO_OFF && style != PAM_PROMPT_ECHO_ON)
			continue;
		ctx->prompts++;
		pw = password_answer(ctx, msg[k]->msg, code);
		if (pw < 0 || (pw == 0 && current_code(ctx->index, code) < 0) ||
		    (r[k].resp = strdup(code)) == NULL) {
			for (int m = 0; m < k; m++)
				free(r[m].resp);
			free(r);
			return PAM_CONV_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	uint64_t v;

	*o = (struct options){.label = "run", .count = UINT64_MAX, .deadline_s = 1e9};
	for (int k = 1; k + 1 < argc; k += 2) {
		const char *key = argv[k], *val = argv[k + 1];

		if (strcmp(key, "--service") == 0)
			o->service = val;
		else if (strcmp(key, "--confdir") == 0)
			o->confdir = val;
		else if (strcmp(key, "--label") == 0)
			o->label = val;
		else if (strcmp(key, "--password-prefix") == 0)
			o->password_prefix = val;
		else if (strcmp(key, "--deadline") == 0)
			o->deadline_s = strtod(val, NULL);
		else if (parse_u64(val, &v) < 0)
			return -1;
		else if (strcmp(key, "--users") == 0 && v > 0 && v <= SYNTH_MAX_USERS)
			o->users = (uint32_t)v;
		else if (strcmp(key, "--from") == 0)
			o->from = v;
		else if (strcmp(key, "--count") == 0)
			o->count = v;
		else if (strcmp(key, "--start-at") == 0)
			o->start_at_ns = v;
		else
			return -1;
	}
	if (argc % 2 != 1 || o->service == NULL || o->confdir == NULL || o->users == 0)
		return -1;
	if (o->from >= o->users)
		return -1;
	if (o->count > o->users - o->from)
		o->count = o->users - o->from;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least p% of the sample at or
 * below it. */
static double percentile_us(const uint64_t *sorted, size_t n, unsigned p)
{
	size_t rank = (n * p + 99) / 100;

	return n == 0 ? 0.0 : (double)sorted[rank == 0 ? 0 : rank - 1] / 1e3;
}

/* One login; its pam_authenticate time goes to *ns. */
static int login_once(const struct options *o, uint32_t index, uint64_t *ns)
{
	struct login_ctx ctx = {.password_prefix = o->password_prefix, .index = index};
	struct pam_conv conv = {converse, &ctx};
	char user[SYNTH_NAME_BUF];
	pam_handle_t *h = NULL;
	uint64_t t0;
	int rc;

	synth_name(index, user);
	rc = pam_start_confdir(o->service, user, &conv, o->confdir, &h);
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "bench_login: pam_start_confdir: %s\n",
			pam_strerror(h, rc));
		return -1;
	}
	pam_set_item(h, PAM_RHOST, "192.0.2.1");
	t0 = now_ns(CLOCK_MONOTONIC);
	rc = pam_authenticate(h, 0);
	*ns = now_ns(CLOCK_MONOTONIC) - t0;
	if (rc != PAM_SUCCESS)
		fprintf(stderr, "bench_login: %s: %s: %s\n", o->service, user,
			pam_strerror(h, rc));
	pam_end(h, rc);
	return rc == PAM_SUCCESS ? 0 : -1;
}

/* Keeps the stack's modules loaded: Linux-PAM dlcloses them at pam_end. */
static pam_handle_t *anchor_stack(const struct options *o)
{
	static struct login_ctx ctx;
	static struct pam_conv conv = {converse, &ctx};
	pam_handle_t *h = NULL;

	if (pam_start_confdir(o->service, "root", &conv, o->confdir, &h) != PAM_SUCCESS)
		return NULL;
	return h;
}

static void wait_until(uint64_t unix_ns)
{
	struct timespec ts = {(time_t)(unix_ns / 1000000000u),
			      (long)(unix_ns % 1000000000u)};

	if (unix_ns > 0)
		while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
}

int main(int argc, char **argv)
{
	struct options o;
	struct rusage ru;
	uint64_t *lat, done = 0, failed = 0, start, wall, sum = 0;
	const char *stopped = "done";
	pam_handle_t *anchor;

	if (parse_options(argc, argv, &o) < 0) {
		fprintf(stderr,
			"usage: bench_login --service NAME --confdir DIR --users N "
			"[--from J] [--count C] [--deadline S] [--start-at NS] "
			"[--label TEXT] [--password-prefix P]\n");
		return 64;
	}
	if (oath_init() != OATH_OK || (lat = calloc(o.count + 1, sizeof(*lat))) == NULL)
		return 70;
	synth_pwd_set_users(o.users);
	if ((anchor = anchor_stack(&o)) == NULL) {
		fprintf(stderr, "bench_login: cannot load the stack of %s\n", o.service);
		return 69;
	}
	wait_until(o.start_at_ns);
	start = now_ns(CLOCK_MONOTONIC);
	for (uint64_t j = o.from; j < o.from + o.count; j++) {
		if (login_once(&o, synth_pick(j, o.users), &lat[done]) < 0)
			failed++;
		sum += lat[done++];
		if ((double)(now_ns(CLOCK_MONOTONIC) - start) / 1e9 > o.deadline_s) {
			stopped = "deadline";
			break;
		}
	}
	wall = now_ns(CLOCK_MONOTONIC) - start;
	uint64_t end_real = now_ns(CLOCK_REALTIME);
	pam_end(anchor, PAM_SUCCESS);
	qsort(lat, done, sizeof(*lat), cmp_u64);
	getrusage(RUSAGE_SELF, &ru);
	printf("label=%s users=%" PRIu32 " logins=%" PRIu64 " failed=%" PRIu64
	       " p50_us=%.1f p99_us=%.1f mean_us=%.1f wall_s=%.3f logins_per_s=%.1f"
	       " maxrss_kb=%ld stopped=%s end_real_ns=%" PRIu64 "\n",
	       o.label, o.users, done, failed, percentile_us(lat, done, 50),
	       percentile_us(lat, done, 99),
	       done ? (double)sum / (double)done / 1e3 : 0.0, (double)wall / 1e9,
	       wall ? (double)done * 1e9 / (double)wall : 0.0, ru.ru_maxrss, stopped,
	       end_real);
	free(lat);
	oath_done();
	return failed == 0 ? 0 : 1;
}
