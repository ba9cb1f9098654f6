/*
 * report: what every totp-enroll command does with its outcome.  An error
 * goes out as JSON on stdout (--json) or as text on stderr, and the exit
 * code follows its reason (errors.h); an answer counts as given only once
 * stdout took all of it.
 */
#ifndef ENROLL_REPORT_H
#define ENROLL_REPORT_H

#include "errors.h"
#include "opts.h"

/* Prints err as --json asks; returns the exit code of its reason. */
int report_failure(const struct opts *o, const struct totp_err *err);

/* EX_OK when rc is 0 and stdout was flushed without error, else EX_IOERR. */
int report_written(int rc);

#endif
