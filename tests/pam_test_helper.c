/*
 * A PAM module for test_pam's stacks, standing in for the modules around
 * pam_totp: PAM lets only a module set PAM_AUTHTOK, and a stack needs a
 * second module to show what pam_totp passed on or that it stepped aside.
 *   set            prompt "Password: " and set PAM_AUTHTOK (as pam_unix
 *                  does before pam_totp use_first_pass); returns PAM_IGNORE
 *   expect=VALUE   PAM_SUCCESS if PAM_AUTHTOK is VALUE, else PAM_AUTH_ERR
 *                  (as pam_unix use_first_pass after forward_pass)
 *   rc=N           returns N (marks that the stack got this far)
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#define PAM_SM_AUTH
#include <security/pam_ext.h>
#include <security/pam_modules.h>

static int set_token(pam_handle_t *pamh)
{
	char *resp = NULL;
	int rc = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &resp, "Password: ");

	if (rc == PAM_SUCCESS && resp != NULL)
		rc = pam_set_item(pamh, PAM_AUTHTOK, resp);
	free(resp);
	return rc == PAM_SUCCESS ? PAM_IGNORE : rc;
}

static int expect_token(pam_handle_t *pamh, const char *want)
{
	const void *tok = NULL;

	if (pam_get_item(pamh, PAM_AUTHTOK, &tok) != PAM_SUCCESS || tok == NULL)
		return PAM_AUTH_ERR;
	return strcmp(tok, want) == 0 ? PAM_SUCCESS : PAM_AUTH_ERR;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
				   const char **argv)
{
	(void)flags;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "set") == 0)
			return set_token(pamh);
		if (strncmp(argv[i], "expect=", 7) == 0)
			return expect_token(pamh, argv[i] + 7);
		if (strncmp(argv[i], "rc=", 3) == 0)
			return atoi(argv[i] + 3);
	}
	return PAM_SERVICE_ERR;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}
