/*
 * prompt: after a bare `totp-enroll` on a terminal, ask for a code from
 * the app and confirm the registration with it, a few tries; and ask
 * `totp-enroll codes` for its code the same way.
 *
 * An interrupt (SIGINT, SIGTERM, SIGHUP) or end of input stops the
 * prompt without touching the registration: it stays pending, and the
 * caller says how to finish it.
 */
#ifndef ENROLL_PROMPT_H
#define ENROLL_PROMPT_H

#include <stdio.h>

#include "errors.h"

#define PROMPT_TRIES 3

enum prompt_result {
	PROMPT_VERIFIED,    /* a code was accepted */
	PROMPT_FAILED,	    /* every try had a wrong code (err: the last) */
	PROMPT_ERROR,	    /* verification failed for another reason (err) */
	PROMPT_INTERRUPTED, /* a signal (*signo) or end of input (*signo 0) */
};

/* Checks one code: 0 accepted, -1 with err filled. */
typedef int (*prompt_verify_fn)(void *arg, const char *code, struct totp_err *err);

/* Reads answers from file descriptor `in`, prompts on `out`. */
enum prompt_result prompt_confirm(int in, FILE *out, prompt_verify_fn fn, void *arg,
				  int *signo, struct totp_err *err);

/* As prompt_confirm, asking `question` (totp-enroll codes). */
enum prompt_result prompt_code(int in, FILE *out, const char *question,
			       prompt_verify_fn fn, void *arg, int *signo,
			       struct totp_err *err);

#endif
