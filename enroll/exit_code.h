/*
 * exit_code: what every totp-enroll command does with its outcome.  An error
 * goes out as JSON on stdout (--json) or as text on stderr, and the exit
 * code follows its reason (errors.h); an answer counts as given only once
 * stdout took all of it.
 */
#ifndef ENROLL_EXIT_CODE_H
#define ENROLL_EXIT_CODE_H

#include "errors.h"
#include "opts.h"

/* Prints err as --json asks; returns the exit code of its reason. */
int exit_code_failure(const struct opts *o, const struct totp_err *err);

/* EX_OK when rc is 0 and stdout was flushed without error, else EX_IOERR. */
int exit_code_written(int rc);

#endif
