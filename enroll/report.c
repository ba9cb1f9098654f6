/* report: errors and exit codes for every command (report.h). */
#include "config.h"

#include <stdio.h>
#include <sysexits.h>

#include "answer.h"
#include "report.h"
#include "text.h"

int report_failure(const struct opts *o, const struct totp_err *err)
{
	if (o->json)
		answer_error(stdout, err);
	else
		text_error(stderr, err);
	return totp_reason_exit(err->reason);
}

int report_written(int rc)
{
	return rc == 0 && fflush(stdout) == 0 && !ferror(stdout) ? EX_OK : EX_IOERR;
}
