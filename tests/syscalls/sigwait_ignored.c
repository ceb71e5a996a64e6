/* A signal whose default action is to be ignored (SIGWINCH, SIGCHLD,
 * SIGURG) still reaches a thread that waits for it in sigtimedwait while
 * it is sent: the kernel's sig_ignored looks at the mask the wait set
 * aside (real_blocked), not only at the one in force during the wait. */
#include "ward_test.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

int main(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	CHECK_OK(sigprocmask(SIG_BLOCK, &set, NULL));
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		/* Late enough that the parent is already waiting. */
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		kill(parent, SIGWINCH);
		_exit(0);
	}
	struct timespec limit = { 10, 0 };
	siginfo_t si;
	CHECK_EQ(sigtimedwait(&set, &si, &limit), SIGWINCH);
	CHECK_EQ(si.si_pid, pid);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	return test_done();
}
