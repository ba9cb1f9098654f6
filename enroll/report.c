/* report: errors, exit codes and the clock for every command (report.h). */
#include "config.h"

#include <stdio.h>
#include <sysexits.h>
#include <time.h>

#include "answer.h"
#include "report.h"
#include "text.h"

int64_t report_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
