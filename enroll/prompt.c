/* prompt: read a code, verify, up to PROMPT_TRIES times; stop on a signal. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "prompt.h"

#define LINE_MAX_ 64

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	caught = sig;
}

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define NSIG_STOP (sizeof(stop_signals) / sizeof(stop_signals[0]))

/* The stop signals are blocked except inside ppoll(), which lets them in
 * atomically while it waits: a signal that comes between two reads is
 * then seen at the next wait instead of being missed while read() blocks. */
struct sigstate {
	struct sigaction old[NSIG_STOP];
	sigset_t oldmask, waitmask;
};

static void catch_signals(struct sigstate *st)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	caught = 0;
	for (size_t i = 0; i < NSIG_STOP; i++) {
		sigaction(stop_signals[i], &sa, &st->old[i]);
		sigaddset(&block, stop_signals[i]);
	}
	sigprocmask(SIG_BLOCK, &block, &st->oldmask);
	st->waitmask = st->oldmask;
	for (size_t i = 0; i < NSIG_STOP; i++)
		sigdelset(&st->waitmask, stop_signals[i]);
}

static void release_signals(const struct sigstate *st)
{
	sigprocmask(SIG_SETMASK, &st->oldmask, NULL);
	for (size_t i = 0; i < NSIG_STOP; i++)
		sigaction(stop_signals[i], &st->old[i], NULL);
}

/* One line, without spaces (people type "123 456"), cut at LINE_MAX_.
 * false on end of input, an error or a signal. */
static bool read_code(int in, const struct sigstate *st, char *buf, size_t sz)
{
	struct pollfd pfd = {.fd = in, .events = POLLIN};
	size_t n = 0;
	char c;

	for (;;) {
		ssize_t r;

		if (caught)
			return false;
		if (ppoll(&pfd, 1, NULL, &st->waitmask) < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		r = read(in, &c, 1);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return false;
		if (c == '\n')
			break;
		if (c != ' ' && c != '\t' && c != '\r' && n + 1 < sz)
			buf[n++] = c;
	}
	buf[n] = '\0';
	return true;
}

enum prompt_result prompt_confirm(int in, FILE *out, prompt_verify_fn fn, void *arg,
				  int *signo, struct totp_err *err)
{
	return prompt_code(in, out, "\nEnter the code the app shows now to confirm: ", fn,
			   arg, signo, err);
}

enum prompt_result prompt_code(int in, FILE *out, const char *question,
			       prompt_verify_fn fn, void *arg, int *signo,
			       struct totp_err *err)
{
	struct sigstate st;
	enum prompt_result res = PROMPT_FAILED;
	char code[LINE_MAX_];

	*signo = 0;
	catch_signals(&st);
	for (int i = 0; i < PROMPT_TRIES; i++) {
		fputs(question, out);
		fflush(out);
		if (!read_code(in, &st, code, sizeof(code))) {
			fputc('\n', out);
			*signo = caught;
			res = PROMPT_INTERRUPTED;
			break;
		}
		if (fn(arg, code, err) == 0) {
			res = PROMPT_VERIFIED;
			break;
		}
		if (err->reason != TOTP_R_WRONG_CODE && err->reason != TOTP_R_INVALID) {
			res = PROMPT_ERROR;
			break;
		}
		fprintf(out, "%s\n", err->msg);
	}
	explicit_bzero(code, sizeof(code));
	release_signals(&st);
	return res;
}
