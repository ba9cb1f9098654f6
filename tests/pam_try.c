/*
 * pam_try: one pam_authenticate through a real libpam stack, for the
 * shell tests: the service file is read from CONFDIR (pam_start_confdir),
 * and every prompt is answered with CODE.
 *
 *   pam_try CONFDIR SERVICE USER CODE
 *
 * Prints "success", "wrong-code" (PAM_AUTH_ERR) or pam_strerror's text,
 * and exits 0 on PAM_SUCCESS, 1 otherwise, 2 when the stack cannot start,
 * 77 when libpam has no pam_start_confdir.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

struct answer {
	const char *code;
};

static int conv(int n, const struct pam_message **msg, struct pam_response **resp,
		void *data)
{
	const struct answer *a = data;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF &&
		    msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
			continue;
		r[i].resp = strdup(a->code);
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

int main(int argc, char **argv)
{
#ifdef HAVE_PAM_START_CONFDIR
	struct answer a;
	struct pam_conv c = {conv, &a};
	pam_handle_t *h = NULL;
	int rc;

	if (argc != 5) {
		fprintf(stderr, "usage: pam_try CONFDIR SERVICE USER CODE\n");
		return 2;
	}
	a.code = argv[4];
	rc = pam_start_confdir(argv[2], argv[3], &c, argv[1], &h);
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "pam_try: pam_start_confdir: %s\n", pam_strerror(h, rc));
		return 2;
	}
	rc = pam_authenticate(h, 0);
	if (rc == PAM_SUCCESS)
		printf("success\n");
	else if (rc == PAM_AUTH_ERR)
		printf("wrong-code\n");
	else
		printf("%s\n", pam_strerror(h, rc));
	pam_end(h, rc);
	return rc == PAM_SUCCESS ? 0 : 1;
#else
	(void)argc;
	(void)argv;
	fprintf(stderr, "pam_try: libpam has no pam_start_confdir\n");
	return 77;
#endif
}
