/*
 * kill_timer: the crash tests' kill (test_torture, test_shard).  The
 * child arms it as its call starts, so that the delay is measured from
 * there on the child's own clock: on a busy machine the call runs slower
 * and the kill lands earlier in it, never after it by the test's fault.
 */
#ifndef TOTP_TESTS_KILL_TIMER_H
#define TOTP_TESTS_KILL_TIMER_H

/* SIGKILL to this process after delay_us (at once for 0); _exit(3) when
 * the timer cannot be made. */
void arm_kill_timer(long delay_us);

#endif
