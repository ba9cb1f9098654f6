/* exit_code: how a command ends: its error printed, its exit code (exit_code.h). */
#include "config.h"

#include <stdio.h>
#include <sysexits.h>

#include "json_answer.h"
#include "exit_code.h"
#include "text.h"

int exit_code_failure(const struct opts *o, const struct totp_err *err)
{
	if (o->json)
		answer_error(stdout, err);
	else
		text_error(stderr, err);
	return totp_reason_exit(err->reason);
}

int exit_code_written(int rc)
{
	return rc == 0 && fflush(stdout) == 0 && !ferror(stdout) ? EX_OK : EX_IOERR;
}
