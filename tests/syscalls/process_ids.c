/* Sessions, process groups and prctl's process attributes: setsid makes a
 * new session and group led by the caller (EPERM for a group leader),
 * setpgid from the child and from the parent (ESRCH, EPERM, EACCES after
 * exec), getpgid/getsid; PR_SET_PDEATHSIG (read back, not inherited, sent
 * when the parent dies), PR_SET_CHILD_SUBREAPER (orphans are reparented to
 * the subreaper, which can wait for them), PR_SET_NAME, PR_SET_NO_NEW_PRIVS
 * and PR_SET_DUMPABLE. */
#include "ward_test.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

/* fork() for a child that makes checks of its own: its count starts
 * from zero, so that its exit status speaks only for them. */
static pid_t test_fork(void)
{
	pid_t pid = fork();
	if (pid == 0)
		ward_test_failures = 0;
	return pid;
}

static void child_done(void)
{
	_exit(ward_test_failures ? 1 : 0);
}

static void reap_ok(pid_t pid)
{
	int status = -1;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		WARD_FAIL("child %d: status %#x", pid, status);
}

static pid_t dead_pid(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

static void test_setsid(void)
{
	pid_t parent_sid = getsid(0);
	CHECK(parent_sid >= 0);
	CHECK_EQ(getsid(getpid()), parent_sid);
	CHECK_EQ(getpgid(0), getpgrp());
	CHECK_EQ(getpgid(getpid()), getpgrp());

	pid_t pid = CHECK_OK(test_fork());
	if (pid == 0) {
		pid_t me = getpid();
		/* A fresh child is in its parent's session and group. */
		CHECK_EQ(getsid(0), parent_sid);
		/* setsid: a new session and group, both named by our pid. */
		CHECK_EQ(setsid(), me);
		CHECK_EQ(getsid(0), me);
		CHECK_EQ(getpgrp(), me);
		CHECK_EQ(getpgid(0), me);
		/* Now a group leader: a second setsid is EPERM. */
		CHECK_ERRNO(setsid(), EPERM);
		/* A session leader cannot change its group. */
		CHECK_ERRNO(setpgid(0, 0), EPERM);
		child_done();
	}
	reap_ok(pid);

	/* A process group leader (not a session leader) cannot setsid. */
	pid = CHECK_OK(test_fork());
	if (pid == 0) {
		CHECK_OK(setpgid(0, 0));
		CHECK_EQ(getpgrp(), getpid());
		CHECK_ERRNO(setsid(), EPERM);
		CHECK_EQ(getsid(0), parent_sid);
		child_done();
	}
	reap_ok(pid);

	/* The parent sees the child's new session. */
	int p[2];
	CHECK_OK(pipe(p));
	pid = CHECK_OK(test_fork());
	if (pid == 0) {
		char c;
		close(p[1]);
		setsid();
		read(p[0], &c, 1);
		_exit(0);
	}
	close(p[0]);
	for (int i = 0; i < 2000 && getsid(pid) != pid; i++)
		usleep(1000);
	CHECK_EQ(getsid(pid), pid);
	CHECK_EQ(getpgid(pid), pid);
	/* Moving a child in another session is EPERM. */
	CHECK_ERRNO(setpgid(pid, getpgrp()), EPERM);
	close(p[1]);
	reap_ok(pid);

	pid_t gone = dead_pid();
	CHECK_ERRNO(getsid(gone), ESRCH);
	CHECK_ERRNO(getpgid(gone), ESRCH);
	CHECK_ERRNO(getpgid(-1), ESRCH);
}

static void test_setpgid(void)
{
	pid_t our_group = getpgrp();
	/* The child moves itself into a new group; the parent sees it once
	 * the child says so. */
	int p[2], q[2];
	CHECK_OK(pipe(p));
	CHECK_OK(pipe(q));
	pid_t pid = CHECK_OK(test_fork());
	if (pid == 0) {
		char c;
		close(p[0]);
		close(q[1]);
		CHECK_EQ(getpgrp(), our_group);
		CHECK_OK(setpgid(0, 0));
		CHECK_EQ(getpgrp(), getpid());
		CHECK_EQ(write(p[1], "x", 1), 1);
		/* Wait for the parent to move us back. */
		CHECK_EQ(read(q[0], &c, 1), 1);
		CHECK_EQ(getpgrp(), our_group);
		child_done();
	}
	close(p[1]);
	close(q[0]);
	char c;
	CHECK_EQ(read(p[0], &c, 1), 1);
	CHECK_EQ(getpgid(pid), pid);
	/* The parent moves it back into our group (allowed: same session,
	 * and the group exists). */
	CHECK_OK(setpgid(pid, our_group));
	CHECK_EQ(getpgid(pid), our_group);
	/* ...and out again; setpgid(pid, pid) and setpgid(pid, 0) are the
	 * same. */
	CHECK_OK(setpgid(pid, 0));
	CHECK_EQ(getpgid(pid), pid);
	CHECK_OK(setpgid(pid, our_group));
	CHECK_EQ(write(q[1], "x", 1), 1);
	reap_ok(pid);
	close(p[0]);
	close(q[1]);

	pid_t gone = dead_pid();
	/* No such process. */
	CHECK_ERRNO(setpgid(gone, 0), ESRCH);
	/* No such group in our session. */
	CHECK_ERRNO(setpgid(0, gone), EPERM);
	/* A negative group. */
	CHECK_ERRNO(setpgid(0, -1), EINVAL);

	/* After the child has exec'd, the parent may no longer move it:
	 * EACCES. The exec closes the close-on-exec pipe, which the parent
	 * sees as EOF. */
	CHECK_OK(pipe(p));
	pid = CHECK_OK(test_fork());
	if (pid == 0) {
		close(p[0]);
		fcntl(p[1], F_SETFD, FD_CLOEXEC);
		char *argv[] = { "sleep", "10", NULL };
		char *envp[] = { NULL };
		execve("/bin/sleep", argv, envp);
		_exit(127);
	}
	close(p[1]);
	CHECK_EQ(read(p[0], &c, 1), 0);
	close(p[0]);
	CHECK_ERRNO(setpgid(pid, pid), EACCES);
	kill(pid, SIGKILL);
	CHECK_EQ(waitpid(pid, NULL, 0), pid);

	/* A grandchild is not ours to move: ESRCH. */
	CHECK_OK(pipe(p));
	CHECK_OK(pipe(q));
	pid = CHECK_OK(test_fork());
	if (pid == 0) {
		close(p[0]);
		close(q[1]);
		pid_t g = fork();
		if (g == 0) {
			char cc;
			read(q[0], &cc, 1);
			_exit(0);
		}
		close(q[0]);
		write(p[1], &g, sizeof(g));
		waitpid(g, NULL, 0);
		_exit(0);
	}
	close(p[1]);
	close(q[0]);
	pid_t g = 0;
	CHECK_EQ(read(p[0], &g, sizeof(g)), sizeof(g));
	CHECK_ERRNO(setpgid(g, g), ESRCH);
	close(q[1]);
	close(p[0]);
	reap_ok(pid);
}

static void test_pdeathsig(void)
{
	int sig = -1;
	CHECK_OK(prctl(PR_GET_PDEATHSIG, &sig));
	CHECK_EQ(sig, 0);
	CHECK_OK(prctl(PR_SET_PDEATHSIG, SIGUSR1));
	CHECK_OK(prctl(PR_GET_PDEATHSIG, &sig));
	CHECK_EQ(sig, SIGUSR1);
	CHECK_ERRNO(prctl(PR_SET_PDEATHSIG, 65), EINVAL);
	CHECK_ERRNO(prctl(PR_SET_PDEATHSIG, -1), EINVAL);
	CHECK_OK(prctl(PR_GET_PDEATHSIG, &sig));
	CHECK_EQ(sig, SIGUSR1);
	CHECK_ERRNO(prctl(PR_GET_PDEATHSIG, (int *)1), EFAULT);
	/* Not inherited by a child. */
	pid_t pid = CHECK_OK(test_fork());
	if (pid == 0) {
		int s = -1;
		CHECK_OK(prctl(PR_GET_PDEATHSIG, &s));
		CHECK_EQ(s, 0);
		child_done();
	}
	reap_ok(pid);
	CHECK_OK(prctl(PR_SET_PDEATHSIG, 0));
	CHECK_OK(prctl(PR_GET_PDEATHSIG, &sig));
	CHECK_EQ(sig, 0);
}

static void test_subreaper(void)
{
	int on = -1;
	CHECK_OK(prctl(PR_GET_CHILD_SUBREAPER, &on));
	CHECK_EQ(on, 0);
	CHECK_OK(prctl(PR_SET_CHILD_SUBREAPER, 1));
	CHECK_OK(prctl(PR_GET_CHILD_SUBREAPER, &on));
	CHECK_EQ(on, 1);
	/* Not inherited. */
	pid_t pid = CHECK_OK(test_fork());
	if (pid == 0) {
		int s = -1;
		CHECK_OK(prctl(PR_GET_CHILD_SUBREAPER, &s));
		CHECK_EQ(s, 0);
		child_done();
	}
	reap_ok(pid);

	/* A grandchild whose parent exits is reparented to us. */
	pid_t me = getpid();
	int info[2], go[2];
	CHECK_OK(pipe(info));
	CHECK_OK(pipe(go));
	pid_t middle = CHECK_OK(test_fork());
	if (middle == 0) {
		pid_t g = fork();
		if (g == 0) {
			char c;
			close(info[0]);
			close(info[1]);
			close(go[1]);
			/* Wait for the test to have reaped the middle one,
			 * our parent. */
			if (read(go[0], &c, 1) != 1)
				_exit(3);
			_exit(getppid() == me ? 0 : 1);
		}
		write(info[1], &g, sizeof(g));
		_exit(0);
	}
	close(info[1]);
	close(go[0]);
	pid_t g = 0;
	CHECK_EQ(read(info[0], &g, sizeof(g)), sizeof(g));
	close(info[0]);
	reap_ok(middle);
	/* The middle process is gone: the grandchild is now our child. */
	CHECK_EQ(write(go[1], "x", 1), 1);
	close(go[1]);
	reap_ok(g);
	CHECK_ERRNO(waitpid(-1, NULL, WNOHANG), ECHILD);

	/* Parent-death signal: the grandchild asks for SIGTERM when its parent
	 * dies, and is reaped by us with that signal. */
	int ready[2], pidp[2];
	CHECK_OK(pipe(ready));
	CHECK_OK(pipe(pidp));
	middle = CHECK_OK(test_fork());
	if (middle == 0) {
		pid_t gg = fork();
		if (gg == 0) {
			close(ready[0]);
			close(pidp[0]);
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			write(pidp[1], &(pid_t){ getpid() }, sizeof(pid_t));
			write(ready[1], "x", 1);
			for (;;)
				pause();
		}
		char c;
		close(ready[1]);
		/* Exit once the grandchild has set its death signal. */
		read(ready[0], &c, 1);
		_exit(0);
	}
	close(ready[0]);
	close(ready[1]);
	close(pidp[1]);
	g = 0;
	CHECK_EQ(read(pidp[0], &g, sizeof(g)), sizeof(g));
	close(pidp[0]);
	reap_ok(middle);
	int status = -1;
	CHECK_EQ(waitpid(g, &status, 0), g);
	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGTERM);

	CHECK_OK(prctl(PR_SET_CHILD_SUBREAPER, 0));
	CHECK_OK(prctl(PR_GET_CHILD_SUBREAPER, &on));
	CHECK_EQ(on, 0);
}

static void test_prctl_misc(void)
{
	pid_t pid = CHECK_OK(test_fork());
	if (pid == 0) {
		/* The name: up to 15 bytes, truncated beyond. */
		char name[32];
		CHECK_OK(prctl(PR_SET_NAME, "ward-test"));
		memset(name, 'x', sizeof(name));
		CHECK_OK(prctl(PR_GET_NAME, name));
		CHECK_STREQ(name, "ward-test");
		CHECK_OK(prctl(PR_SET_NAME, "0123456789abcdefghij"));
		CHECK_OK(prctl(PR_GET_NAME, name));
		CHECK_STREQ(name, "0123456789abcde");
		/* Dumpable: 1 by default, 0 or 1 only. */
		CHECK_EQ(prctl(PR_GET_DUMPABLE), 1);
		CHECK_OK(prctl(PR_SET_DUMPABLE, 0));
		CHECK_EQ(prctl(PR_GET_DUMPABLE), 0);
		CHECK_ERRNO(prctl(PR_SET_DUMPABLE, 2), EINVAL);
		CHECK_OK(prctl(PR_SET_DUMPABLE, 1));
		CHECK_EQ(prctl(PR_GET_DUMPABLE), 1);
		/* No new privileges: set once, never cleared. */
		CHECK_EQ(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0);
		CHECK_ERRNO(prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0), EINVAL);
		CHECK_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
		CHECK_EQ(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 1);
		CHECK_ERRNO(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0), EINVAL);
		CHECK_EQ(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 1);
		/* It is inherited. */
		pid_t g = fork();
		if (g == 0)
			_exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 1);
		reap_ok(g);
		/* An unknown option. */
		CHECK_ERRNO(prctl(0x7fff1234, 0, 0, 0, 0), EINVAL);
		child_done();
	}
	reap_ok(pid);
}

int main(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGCHLD, SIG_DFL);

	test_setsid();
	test_setpgid();
	test_pdeathsig();
	test_subreaper();
	test_prctl_misc();
	return test_done();
}
