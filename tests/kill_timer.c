/* kill_timer: a SIGKILL after a delay, by a timer of the process's own. */
#include "config.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "kill_timer.h"

void arm_kill_timer(long delay_us)
{
	struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGKILL};
	struct itimerspec its = {
	    .it_value = {delay_us / 1000000, (delay_us % 1000000) * 1000}};
	timer_t t;

	if (delay_us == 0) /* a zero it_value disarms: kill at once instead */
		raise(SIGKILL);
	if (timer_create(CLOCK_MONOTONIC, &sev, &t) != 0 ||
	    timer_settime(t, 0, &its, NULL) != 0)
		_exit(3);
}
