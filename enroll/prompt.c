/* prompt: read a code, verify, up to PROMPT_TRIES times; stop on a signal. */
#include "config.h"

#include <errno.h>
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

/* No SA_RESTART: a signal must end the blocking read. */
static void catch_signals(struct sigaction old[NSIG_STOP])
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	caught = 0;
	for (size_t i = 0; i < NSIG_STOP; i++)
		sigaction(stop_signals[i], &sa, &old[i]);
}

static void release_signals(const struct sigaction old[NSIG_STOP])
{
	for (size_t i = 0; i < NSIG_STOP; i++)
		sigaction(stop_signals[i], &old[i], NULL);
}

/* One line, without spaces (people type "123 456"), cut at LINE_MAX_.
 * false on end of input, an error or a signal. */
static bool read_code(int in, char *buf, size_t sz)
{
	size_t n = 0;
	char c;

	for (;;) {
		ssize_t r = read(in, &c, 1);

		if (r < 0 && errno == EINTR && !caught)
			continue;
		if (r <= 0 || caught)
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
	struct sigaction old[NSIG_STOP];
	enum prompt_result res = PROMPT_FAILED;
	char code[LINE_MAX_];

	*signo = 0;
	catch_signals(old);
	for (int i = 0; i < PROMPT_TRIES; i++) {
		fprintf(out, "\nEnter the code the app shows now to confirm: ");
		fflush(out);
		if (!read_code(in, code, sizeof(code))) {
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
	release_signals(old);
	return res;
}
