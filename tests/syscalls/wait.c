/* waitid and the state changes a parent can see: exits and deaths with
 * their siginfo (CLD_EXITED, CLD_KILLED), WNOWAIT leaving the zombie, P_ALL,
 * P_PGID and P_PIDFD, WNOHANG with nothing to report; job-control stops and
 * continues (WUNTRACED/WSTOPPED, WCONTINUED) through waitpid and waitid;
 * SIGCHLD sent on exit and stop (not on stop with SA_NOCLDSTOP); children
 * reaped automatically with SA_NOCLDWAIT or SIGCHLD ignored; pidfd_open and
 * pidfd_send_signal. */
#include "ward_test.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* Forks a child that exits with code. */
static pid_t spawn_exit(int code)
{
	pid_t pid = CHECK_OK(fork());
	if (pid == 0)
		_exit(code);
	return pid;
}

/* Forks a child that waits in pause() until killed. */
static pid_t spawn_pause(void)
{
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void kill_and_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	CHECK_EQ(waitpid(pid, NULL, 0), pid);
}

static void test_waitid_exit(void)
{
	siginfo_t si;
	pid_t pid = spawn_exit(5);
	memset(&si, 0x55, sizeof(si));
	CHECK_EQ(waitid(P_PID, pid, &si, WEXITED), 0);
	CHECK_EQ(si.si_signo, SIGCHLD);
	CHECK_EQ(si.si_errno, 0);
	CHECK_EQ(si.si_code, CLD_EXITED);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_uid, getuid());
	CHECK_EQ(si.si_status, 5);
	/* Reaped: gone. */
	CHECK_ERRNO(waitid(P_PID, pid, &si, WEXITED), ECHILD);

	/* Killed by a signal: CLD_KILLED and the signal number. */
	pid = spawn_pause();
	CHECK_OK(kill(pid, SIGTERM));
	memset(&si, 0, sizeof(si));
	CHECK_EQ(waitid(P_PID, pid, &si, WEXITED), 0);
	CHECK_EQ(si.si_code, CLD_KILLED);
	CHECK_EQ(si.si_status, SIGTERM);
	CHECK_EQ(si.si_pid, pid);

	pid = spawn_pause();
	CHECK_OK(kill(pid, SIGKILL));
	memset(&si, 0, sizeof(si));
	CHECK_EQ(waitid(P_PID, pid, &si, WEXITED), 0);
	CHECK_EQ(si.si_code, CLD_KILLED);
	CHECK_EQ(si.si_status, SIGKILL);

	/* The raw call returns 0 too, and takes a struct rusage. */
	pid = spawn_exit(6);
	struct rusage ru;
	memset(&si, 0, sizeof(si));
	CHECK_EQ(syscall(SYS_waitid, P_PID, pid, &si, WEXITED, &ru), 0);
	CHECK_EQ(si.si_status, 6);
	CHECK(ru.ru_utime.tv_usec >= 0 && ru.ru_utime.tv_usec < 1000000);
	/* A NULL infop is allowed. */
	pid = spawn_exit(7);
	CHECK_EQ(waitid(P_PID, pid, NULL, WEXITED), 0);
	CHECK_ERRNO(waitid(P_PID, pid, NULL, WEXITED), ECHILD);
}

static void test_wnowait(void)
{
	siginfo_t si;
	pid_t pid = spawn_exit(3);
	/* WNOWAIT reports the zombie and leaves it: the same report again,
	 * and waitpid can still reap it. */
	memset(&si, 0, sizeof(si));
	CHECK_EQ(waitid(P_PID, pid, &si, WEXITED | WNOWAIT), 0);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_status, 3);
	memset(&si, 0, sizeof(si));
	CHECK_EQ(waitid(P_ALL, 0, &si, WEXITED | WNOWAIT), 0);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_code, CLD_EXITED);
	/* A zombie still exists for kill. */
	CHECK_OK(kill(pid, 0));
	int status;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(WEXITSTATUS(status), 3);
	CHECK_ERRNO(waitid(P_PID, pid, &si, WEXITED), ECHILD);
	CHECK_ERRNO(kill(pid, 0), ESRCH);

	/* And a second waitid reaps what WNOWAIT left. */
	pid = spawn_exit(4);
	CHECK_EQ(waitid(P_PID, pid, &si, WEXITED | WNOWAIT), 0);
	memset(&si, 0, sizeof(si));
	CHECK_EQ(waitid(P_PID, pid, &si, WEXITED), 0);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_status, 4);
	CHECK_ERRNO(waitid(P_PID, pid, &si, WEXITED | WNOHANG), ECHILD);
}

static void test_p_all_pgid(void)
{
	siginfo_t si;
	/* P_ALL: both children, in any order. */
	pid_t a = spawn_exit(1), b = spawn_exit(2);
	int seen = 0;
	for (int i = 0; i < 2; i++) {
		memset(&si, 0, sizeof(si));
		CHECK_EQ(waitid(P_ALL, 0, &si, WEXITED), 0);
		if (si.si_pid == a && si.si_status == 1)
			seen |= 1;
		else if (si.si_pid == b && si.si_status == 2)
			seen |= 2;
		else
			WARD_FAIL("unexpected child %d status %d", si.si_pid, si.si_status);
	}
	CHECK_EQ(seen, 3);
	CHECK_ERRNO(waitid(P_ALL, 0, &si, WEXITED), ECHILD);

	/* P_PGID: a child in its own group is found by the group id; one in
	 * ours is not. Both sides set the group, as shells do, so it is set
	 * before the wait whichever runs first. */
	pid_t plain = spawn_pause();
	int p[2];
	CHECK_OK(pipe(p));
	pid_t grouped = CHECK_OK(fork());
	if (grouped == 0) {
		char c;
		setpgid(0, 0);
		close(p[1]);
		_exit(read(p[0], &c, 1) == 0 ? 8 : 9);
	}
	CHECK_OK(setpgid(grouped, grouped));
	close(p[0]);
	/* Nothing has happened in the group yet. */
	memset(&si, 0x55, sizeof(si));
	CHECK_EQ(waitid(P_PGID, grouped, &si, WEXITED | WNOHANG), 0);
	/* With WNOHANG and nothing to report, si_pid and si_signo are 0. */
	CHECK_EQ(si.si_pid, 0);
	CHECK_EQ(si.si_signo, 0);
	close(p[1]);
	memset(&si, 0, sizeof(si));
	CHECK_EQ(waitid(P_PGID, grouped, &si, WEXITED), 0);
	CHECK_EQ(si.si_pid, grouped);
	CHECK_EQ(si.si_status, 8);
	/* No child left in that group. */
	CHECK_ERRNO(waitid(P_PGID, grouped, &si, WEXITED | WNOHANG), ECHILD);
	/* P_PGID 0 means our own group, where plain is. */
	CHECK_OK(kill(plain, SIGKILL));
	memset(&si, 0, sizeof(si));
	CHECK_EQ(waitid(P_PGID, 0, &si, WEXITED), 0);
	CHECK_EQ(si.si_pid, plain);
	/* waitpid(-pgid) and waitpid(0) are the same selections. */
	pid_t g = CHECK_OK(fork());
	if (g == 0) {
		setpgid(0, 0);
		_exit(10);
	}
	setpgid(g, g);
	int status;
	CHECK_EQ(waitpid(-g, &status, 0), g);
	CHECK_EQ(WEXITSTATUS(status), 10);
	pid_t same = spawn_exit(11);
	CHECK_EQ(waitpid(0, &status, 0), same);
	CHECK_EQ(WEXITSTATUS(status), 11);
}

static void test_errors(void)
{
	siginfo_t si;
	pid_t pid = spawn_pause();
	/* No state to wait for (none of WEXITED, WSTOPPED, WCONTINUED). */
	CHECK_ERRNO(waitid(P_PID, pid, &si, 0), EINVAL);
	CHECK_ERRNO(waitid(P_PID, pid, &si, WNOHANG), EINVAL);
	/* Unknown bits and id types. */
	CHECK_ERRNO(waitid(P_PID, pid, &si, WEXITED | 0x10000), EINVAL);
	CHECK_ERRNO(waitid((idtype_t)42, pid, &si, WEXITED), EINVAL);
	/* P_PID and P_PGID take positive ids. */
	CHECK_ERRNO(waitid(P_PID, 0, &si, WEXITED), EINVAL);
	CHECK_ERRNO(waitid(P_PID, -1, &si, WEXITED), EINVAL);
	CHECK_ERRNO(waitid(P_PGID, -1, &si, WEXITED), EINVAL);
	/* A bad infop, when there is something to report. */
	CHECK_OK(kill(pid, SIGKILL));
	CHECK_ERRNO(syscall(SYS_waitid, P_PID, pid, (void *)1, WEXITED | WNOWAIT, NULL), EFAULT);
	kill_and_reap(pid);
	CHECK_ERRNO(waitid(P_ALL, 0, &si, WEXITED), ECHILD);
	CHECK_ERRNO(waitid(P_ALL, 0, &si, WEXITED | WNOHANG), ECHILD);
}

static volatile sig_atomic_t chld_count, chld_code, chld_pid, chld_status;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	chld_count++;
	chld_code = si->si_code;
	chld_pid = si->si_pid;
	chld_status = si->si_status;
}

/* Waits up to 2 s for the SIGCHLD handler to have run n times. A stop or a
 * continue can be waited for a moment before the SIGCHLD that reports it is
 * sent: Linux marks the child stopped (or, for SIGCONT, continued, in the
 * sender's kill) before the notification. An exit has no such window. */
static void wait_chld(int n)
{
	for (int i = 0; i < 2000 && chld_count < n; i++)
		usleep(1000);
	CHECK_EQ(chld_count, n);
}

static void set_chld(void (*action)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	if (action) {
		sa.sa_sigaction = action;
		sa.sa_flags = SA_SIGINFO | flags;
	} else {
		sa.sa_handler = SIG_DFL;
		sa.sa_flags = flags;
	}
	CHECK_OK(sigaction(SIGCHLD, &sa, NULL));
}

static void test_stop_continue(void)
{
	int status;
	siginfo_t si;
	set_chld(on_chld, SA_RESTART);
	chld_count = 0;
	pid_t pid = spawn_pause();

	/* SIGSTOP: seen with WUNTRACED, and SIGCHLD says CLD_STOPPED. By the
	 * time the wait returns, the SIGCHLD has been sent and handled. */
	CHECK_OK(kill(pid, SIGSTOP));
	CHECK_EQ(waitpid(pid, &status, WUNTRACED), pid);
	CHECK(WIFSTOPPED(status));
	CHECK(!WIFEXITED(status) && !WIFSIGNALED(status));
	CHECK_EQ(WSTOPSIG(status), SIGSTOP);
	CHECK_EQ(status, (SIGSTOP << 8) | 0x7f);
	wait_chld(1);
	CHECK_EQ(chld_code, CLD_STOPPED);
	CHECK_EQ(chld_pid, pid);
	CHECK_EQ(chld_status, SIGSTOP);
	/* Reported once: a stopped child is not reported again, nor without
	 * WUNTRACED. */
	CHECK_EQ(waitpid(pid, &status, WUNTRACED | WNOHANG), 0);
	CHECK_EQ(waitpid(pid, &status, WNOHANG), 0);

	/* SIGCONT: seen with WCONTINUED, SIGCHLD says CLD_CONTINUED. */
	CHECK_OK(kill(pid, SIGCONT));
	CHECK_EQ(waitpid(pid, &status, WCONTINUED), pid);
	CHECK(WIFCONTINUED(status));
	CHECK(!WIFSTOPPED(status));
	CHECK_EQ(status, 0xffff);
	wait_chld(2);
	CHECK_EQ(chld_code, CLD_CONTINUED);
	CHECK_EQ(chld_status, SIGCONT);
	CHECK_EQ(waitpid(pid, &status, WCONTINUED | WNOHANG), 0);

	/* The same through waitid, with WNOWAIT first. */
	CHECK_OK(kill(pid, SIGSTOP));
	memset(&si, 0, sizeof(si));
	CHECK_EQ(waitid(P_PID, pid, &si, WSTOPPED | WNOWAIT), 0);
	CHECK_EQ(si.si_code, CLD_STOPPED);
	memset(&si, 0, sizeof(si));
	CHECK_EQ(waitid(P_PID, pid, &si, WSTOPPED), 0);
	CHECK_EQ(si.si_signo, SIGCHLD);
	CHECK_EQ(si.si_code, CLD_STOPPED);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_status, SIGSTOP);
	wait_chld(3);
	/* WEXITED alone does not report a stop. */
	CHECK_EQ(waitid(P_PID, pid, &si, WEXITED | WNOHANG), 0);
	CHECK_OK(kill(pid, SIGCONT));
	memset(&si, 0, sizeof(si));
	CHECK_EQ(waitid(P_PID, pid, &si, WCONTINUED), 0);
	CHECK_EQ(si.si_code, CLD_CONTINUED);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_status, SIGCONT);
	wait_chld(4);

	/* Other stop signals: SIGTSTP's default action stops too. */
	CHECK_OK(kill(pid, SIGTSTP));
	CHECK_EQ(waitpid(pid, &status, WUNTRACED), pid);
	CHECK(WIFSTOPPED(status));
	CHECK_EQ(WSTOPSIG(status), SIGTSTP);
	wait_chld(5);
	/* A stopped child still dies of SIGKILL. */
	CHECK_OK(kill(pid, SIGKILL));
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGKILL);
	CHECK_EQ(chld_count, 6);
	CHECK_EQ(chld_code, CLD_KILLED);

	/* SA_NOCLDSTOP: no SIGCHLD for the stop, one for the exit. */
	set_chld(on_chld, SA_RESTART | SA_NOCLDSTOP);
	chld_count = 0;
	pid = spawn_pause();
	CHECK_OK(kill(pid, SIGSTOP));
	CHECK_EQ(waitpid(pid, &status, WUNTRACED), pid);
	CHECK(WIFSTOPPED(status));
	usleep(20000);
	CHECK_EQ(chld_count, 0);
	CHECK_OK(kill(pid, SIGKILL));
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(chld_count, 1);
	CHECK_EQ(chld_code, CLD_KILLED);
	set_chld(NULL, 0);
}

static void test_sigchld(void)
{
	set_chld(on_chld, SA_RESTART);
	chld_count = 0;
	pid_t pid = spawn_exit(3);
	int status;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	/* SIGCHLD was sent before the zombie could be waited for. */
	CHECK_EQ(chld_count, 1);
	CHECK_EQ(chld_code, CLD_EXITED);
	CHECK_EQ(chld_pid, pid);
	CHECK_EQ(chld_status, 3);

	/* A blocked SIGCHLD stays pending; its siginfo is the exit's. */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	CHECK_OK(sigprocmask(SIG_BLOCK, &set, &old));
	chld_count = 0;
	pid = spawn_exit(4);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(chld_count, 0);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	struct timespec zero = { 0, 0 };
	CHECK_EQ(sigtimedwait(&set, &si, &zero), SIGCHLD);
	CHECK_EQ(si.si_code, CLD_EXITED);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_status, 4);
	CHECK_OK(sigprocmask(SIG_SETMASK, &old, NULL));
	CHECK_EQ(chld_count, 0);
	set_chld(NULL, 0);
}

/* Checks that pid goes away within 2 s. An automatically reaped child is
 * released just after a waiter is told ECHILD, so kill() may find it for a
 * moment longer. */
static void check_gone(pid_t pid)
{
	for (int i = 0; i < 2000 && kill(pid, 0) == 0; i++)
		usleep(1000);
	CHECK_ERRNO(kill(pid, 0), ESRCH);
}

static void test_autoreap(void)
{
	int status;
	/* SA_NOCLDWAIT: waitpid blocks until the child has exited, then
	 * finds nothing to reap. */
	set_chld(NULL, SA_NOCLDWAIT);
	pid_t pid = spawn_exit(1);
	CHECK_ERRNO(waitpid(pid, &status, 0), ECHILD);
	check_gone(pid);
	CHECK_ERRNO(waitpid(-1, &status, 0), ECHILD);

	/* The same with SIGCHLD ignored. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	CHECK_OK(sigaction(SIGCHLD, &sa, NULL));
	pid = spawn_exit(2);
	siginfo_t si;
	CHECK_ERRNO(waitid(P_PID, pid, &si, WEXITED), ECHILD);
	check_gone(pid);
	/* A waiter blocks while any child is alive, then gets ECHILD. */
	int p[2];
	CHECK_OK(pipe(p));
	pid = CHECK_OK(fork());
	if (pid == 0) {
		char c;
		close(p[1]);
		_exit(read(p[0], &c, 1));
	}
	close(p[0]);
	CHECK_EQ(waitpid(-1, &status, WNOHANG), 0);
	close(p[1]);
	CHECK_ERRNO(waitpid(-1, &status, 0), ECHILD);

	/* SA_NOCLDWAIT with a handler: the child is reaped, and on Linux the
	 * SIGCHLD is sent all the same. */
	set_chld(on_chld, SA_NOCLDWAIT | SA_RESTART);
	chld_count = 0;
	pid = spawn_exit(3);
	CHECK_ERRNO(waitpid(pid, &status, 0), ECHILD);
	CHECK_EQ(chld_count, 1);
	CHECK_EQ(chld_pid, pid);
	CHECK_EQ(chld_code, CLD_EXITED);
	check_gone(pid);

	/* Back to the default: children become zombies again. */
	set_chld(NULL, 0);
	pid = spawn_exit(4);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(WEXITSTATUS(status), 4);
}

static void test_pidfd(void)
{
	pid_t pid = spawn_pause();
	int fd = syscall(SYS_pidfd_open, pid, 0);
	CHECK(fd >= 0);
	if (fd < 0) {
		kill_and_reap(pid);
		return;
	}
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	/* Not readable while the child runs. */
	struct pollfd pfd = { fd, POLLIN, 0 };
	CHECK_EQ(poll(&pfd, 1, 0), 0);
	CHECK_OK(syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0));
	CHECK_OK(syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0));
	/* Readable once it has exited, before it is reaped. */
	CHECK_EQ(poll(&pfd, 1, 5000), 1);
	CHECK(pfd.revents & POLLIN);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	CHECK_EQ(waitid(P_PIDFD, fd, &si, WEXITED), 0);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_code, CLD_KILLED);
	CHECK_EQ(si.si_status, SIGTERM);
	/* The process is gone: ESRCH through its pidfd. */
	CHECK_ERRNO(syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0), ESRCH);
	CHECK_ERRNO(waitid(P_PIDFD, fd, &si, WEXITED), ECHILD);
	close(fd);

	/* Errors. */
	CHECK_ERRNO(syscall(SYS_pidfd_open, pid, 0), ESRCH);
	CHECK_ERRNO(syscall(SYS_pidfd_open, 0, 0), EINVAL);
	CHECK_ERRNO(syscall(SYS_pidfd_open, getpid(), 0x1), EINVAL);
	CHECK_ERRNO(waitid(P_PIDFD, 0x7fff, &si, WEXITED), EBADF);
	int self = syscall(SYS_pidfd_open, getpid(), 0);
	CHECK(self >= 0);
	CHECK_ERRNO(syscall(SYS_pidfd_send_signal, self, 65, NULL, 0), EINVAL);
	CHECK_ERRNO(syscall(SYS_pidfd_send_signal, self, 0, NULL, 0x10), EINVAL);
	/* A descriptor that is not a pidfd. */
	CHECK_ERRNO(syscall(SYS_pidfd_send_signal, 0, 0, NULL, 0), EBADF);
	close(self);
}

int main(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	set_chld(NULL, 0);

	test_waitid_exit();
	test_wnowait();
	test_p_all_pgid();
	test_errors();
	test_stop_continue();
	test_sigchld();
	test_autoreap();
	test_pidfd();
	return test_done();
}
