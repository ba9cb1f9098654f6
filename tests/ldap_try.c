/*
 * ldap_try: one pam_authenticate through a real libpam stack for the ldap
 * realm's tests (tests/ldap_pam.sh): the service file is read from
 * CONFDIR (pam_start_confdir), so the stack loads the built module by
 * its path; prompts are answered in order with ANSWER..., the last one
 * repeated.
 *
 *   ldap_try [-a START_MS] CONFDIR SERVICE USER ANSWER...
 *
 * -a waits, after pam_start, until the wall clock reaches START_MS (unix
 * milliseconds): the race test starts 8 of these at one instant.  The
 * module's log lines are printed to stderr as "log: ..." (this program
 * defines pam_syslog and pam_vsyslog and is linked with --export-dynamic).
 * The module's failure delay is not slept (PAM_FAIL_DELAY): the
 * milliseconds printed are the check's own.
 * Prints "success", "wrong-code" (PAM_AUTH_ERR), "unavailable"
 * (PAM_AUTHINFO_UNAVAIL), "maxtries" (PAM_MAXTRIES: locked out) or
 * pam_strerror's text, and the milliseconds the
 * check took; exits 0 on PAM_SUCCESS, 1 otherwise, 2 when the stack
 * cannot start, 77 when libpam has no pam_start_confdir.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <security/pam_appl.h>
#include <security/pam_ext.h>

struct answers {
	char **v;
	int n, next;
};

void pam_vsyslog(const pam_handle_t *pamh, int priority, const char *fmt, va_list args)
{
	(void)pamh;
	(void)priority;
	fputs("log: ", stderr);
	vfprintf(stderr, fmt, args);
	fputc('\n', stderr);
}

void pam_syslog(const pam_handle_t *pamh, int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pam_vsyslog(pamh, priority, fmt, ap);
	va_end(ap);
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp,
		void *data)
{
	struct answers *a = data;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		const char *ans;

		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF &&
		    msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
			continue;
		ans = a->v[a->next < a->n ? a->next : a->n - 1];
		a->next++;
		r[i].resp = strdup(ans);
		if (!r[i].resp) {
			for (int j = 0; j < i; j++)
				free(r[j].resp);
			free(r);
			return PAM_BUF_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* The failure delay the module asks for (2 s) is not slept: the times
 * printed are the check's own. */
static void no_delay(int retval, unsigned usec_delay, void *appdata)
{
	(void)retval;
	(void)usec_delay;
	(void)appdata;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
#ifdef HAVE_PAM_START_CONFDIR
	struct answers a = {0};
	struct pam_conv c = {conv, &a};
	pam_handle_t *h = NULL;
	int64_t start = 0, t0;
	int rc, i = 1;

	if (argc > 2 && strcmp(argv[1], "-a") == 0) {
		start = strtoll(argv[2], NULL, 10);
		i = 3;
	}
	if (argc - i < 4) {
		fprintf(stderr,
			"usage: ldap_try [-a START_MS] CONFDIR SERVICE USER ANSWER...\n");
		return 2;
	}
	a.v = argv + i + 3;
	a.n = argc - i - 3;
	/* LDAPT_PIN: the module (and so libldap) stays loaded after pam_end:
	 * under ASan, libldap's process-wide state then stays reachable and
	 * a leak report names its functions. */
	if (getenv("LDAPT_PIN") != NULL &&
	    dlopen(getenv("LDAPT_PIN"), RTLD_NOW | RTLD_NODELETE) == NULL) {
		fprintf(stderr, "ldap_try: %s\n", dlerror());
		return 2;
	}
	rc = pam_start_confdir(argv[i + 1], argv[i + 2], &c, argv[i], &h);
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "ldap_try: pam_start_confdir: %s\n", pam_strerror(h, rc));
		return 2;
	}
	(void)pam_set_item(h, PAM_FAIL_DELAY, (const void *)no_delay);
	while (start != 0 && now_ms() < start) {
		struct timespec ts = {0, 1000000};

		nanosleep(&ts, NULL);
	}
	t0 = now_ms();
	rc = pam_authenticate(h, 0);
	t0 = now_ms() - t0;
	if (rc == PAM_SUCCESS)
		printf("success %lld\n", (long long)t0);
	else if (rc == PAM_AUTH_ERR)
		printf("wrong-code %lld\n", (long long)t0);
	else if (rc == PAM_AUTHINFO_UNAVAIL)
		printf("unavailable %lld\n", (long long)t0);
	else if (rc == PAM_MAXTRIES)
		printf("maxtries %lld\n", (long long)t0);
	else
		printf("%s %lld\n", pam_strerror(h, rc), (long long)t0);
	pam_end(h, rc);
	return rc == PAM_SUCCESS ? 0 : 1;
#else
	(void)argc;
	(void)argv;
	fprintf(stderr, "ldap_try: libpam has no pam_start_confdir\n");
	return 77;
#endif
}
