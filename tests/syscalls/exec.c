/* execve and execveat: what fails (and leaves the caller running) with which
 * errno, and what crosses into the new image: argv and envp exactly, the pid
 * and parent, descriptors except close-on-exec ones (with their offsets),
 * the signal mask and pending signals, ignored signals (handlers become
 * SIG_DFL, flags and masks are cleared), a pending alarm, umask and cwd; the
 * alternate signal stack does not. A non-leader thread's exec takes over the
 * process's pid. argv NULL gives argc 1 with argv[0] "". `#!` scripts run
 * through their interpreter (an existing one: the root may be read-only).
 *
 * The checks on the new image are made by this same program, run again with
 * "--exec-child MODE ..." (or WARD_EXEC_MODE in the environment when argv is
 * NULL); its exit status says whether they held. */
#include "ward_test.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

extern char **environ;

/* This program's path, for running it again; NULL if unknown. */
static const char *self;

static int reap(pid_t pid)
{
	int status = -1;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	return status;
}

/* Checks that the child pid exits with code. */
static void reap_exit(pid_t pid, int code)
{
	int status = reap(pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != code)
		WARD_FAIL("child status %#x, wanted exit %d", status, code);
}

/* Runs path with argv and envp in a forked child; returns the wait status.
 * A failed exec exits 127. */
static int run(const char *path, char *const argv[], char *const envp[])
{
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		execve(path, argv, envp);
		_exit(127);
	}
	return reap(pid);
}

static long sys_execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	return syscall(SYS_execveat, dirfd, path, argv, envp, flags);
}

/* ---- The new image's side. ---- */

static void on_signal(int sig)
{
}

/* After the exec made by test_state(). */
static int child_state(int argc, char **argv)
{
	CHECK_EQ(argc, 5);
	if (argc != 5)
		return test_done();
	CHECK_STREQ(argv[0], "renamed-child");
	CHECK(argv[5] == NULL);
	/* The same process, the same parent. */
	CHECK_EQ(getpid(), atoi(argv[3]));
	CHECK_EQ(getppid(), atoi(argv[4]));
	/* Exactly the environment given. */
	CHECK(environ != NULL);
	if (environ) {
		CHECK_STREQ(environ[0], "A=1");
		CHECK_STREQ(environ[1], "B=two words");
		CHECK(environ[1] && environ[2] == NULL);
	}
	CHECK_STREQ(getenv("B"), "two words");

	/* fd 5 survives with its offset; 6 (O_CLOEXEC) and 7 (FD_CLOEXEC set
	 * by fcntl) were closed. */
	CHECK_EQ(fcntl(5, F_GETFD), 0);
	CHECK_EQ(lseek(5, 0, SEEK_CUR), 3);
	CHECK_ERRNO(fcntl(6, F_GETFD), EBADF);
	CHECK_ERRNO(fcntl(7, F_GETFD), EBADF);

	/* The handled signal is back to SIG_DFL, the ignored one is still
	 * ignored; flags and masks are cleared for both. */
	struct sigaction sa;
	CHECK_OK(sigaction(SIGUSR1, NULL, &sa));
	CHECK(sa.sa_handler == SIG_DFL);
	CHECK_EQ(sa.sa_flags, 0);
	CHECK(sigisemptyset(&sa.sa_mask));
	CHECK_OK(sigaction(SIGUSR2, NULL, &sa));
	CHECK(sa.sa_handler == SIG_IGN);
	CHECK_EQ(sa.sa_flags, 0);
	CHECK(sigisemptyset(&sa.sa_mask));
	CHECK_OK(sigaction(SIGTERM, NULL, &sa));
	CHECK(sa.sa_handler == SIG_DFL);

	/* The mask is kept, and so is the pending SIGHUP, with its sender. */
	sigset_t set;
	CHECK_OK(sigprocmask(SIG_BLOCK, NULL, &set));
	CHECK(sigismember(&set, SIGHUP));
	CHECK(!sigismember(&set, SIGUSR1));
	CHECK_OK(sigpending(&set));
	CHECK(sigismember(&set, SIGHUP));
	sigset_t hup;
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	struct timespec zero = { 0, 0 };
	/* Raw: glibc's sigtimedwait rewrites SI_TKILL as SI_USER. */
	CHECK_EQ(syscall(SYS_rt_sigtimedwait, &hup, &si, &zero, 8), SIGHUP);
	CHECK_EQ(si.si_signo, SIGHUP);
	CHECK_EQ(si.si_code, SI_TKILL);
	CHECK_EQ(si.si_pid, getpid());

	/* The alternate stack is gone. */
	stack_t ss;
	CHECK_OK(sigaltstack(NULL, &ss));
	CHECK_EQ(ss.ss_flags, SS_DISABLE);

	/* The alarm set before the exec is still counting. */
	unsigned left = alarm(0);
	CHECK(left >= 95 && left <= 100);
	/* umask and cwd are kept. */
	CHECK_EQ(umask(022), 027);
	char cwd[64];
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK_STREQ(cwd, "/usr");
	return test_done();
}

/* After the exec of a second thread, made by test_thread_exec(). */
static int child_thread(int argc, char **argv)
{
	CHECK_EQ(argc, 5);
	if (argc != 5)
		return test_done();
	pid_t pid = atoi(argv[3]), old_tid = atoi(argv[4]);
	CHECK(old_tid != pid);
	/* The process keeps its pid, and the one thread left is the leader. */
	CHECK_EQ(getpid(), pid);
	CHECK_EQ(gettid(), pid);
	CHECK_EQ(syscall(SYS_gettid), pid);
	/* The new image has the exec'ing thread's signal mask (SIGUSR2), not
	 * the main thread's (SIGUSR1). */
	sigset_t set;
	CHECK_OK(sigprocmask(SIG_BLOCK, NULL, &set));
	CHECK(sigismember(&set, SIGUSR2));
	CHECK(!sigismember(&set, SIGUSR1));
	return test_done();
}

/* ---- The calling side. ---- */

static void test_errors(void)
{
	char *argv[] = { "x", NULL };
	char *envp[] = { NULL };
	/* Each failure returns to the caller, which keeps running. */
	CHECK_ERRNO(execve("/nonexistent/program", argv, envp), ENOENT);
	CHECK_ERRNO(execve("/nonexistent", argv, envp), ENOENT);
	CHECK_ERRNO(execve("", argv, envp), ENOENT);
	/* Directories. */
	CHECK_ERRNO(execve("/", argv, envp), EACCES);
	CHECK_ERRNO(execve("/etc", argv, envp), EACCES);
	CHECK_ERRNO(execve("/etc/", argv, envp), EACCES);
	/* A regular file without execute permission, even for root. */
	struct stat st;
	if (stat("/etc/os-release", &st) == 0 && S_ISREG(st.st_mode) && !(st.st_mode & 0111))
		CHECK_ERRNO(execve("/etc/os-release", argv, envp), EACCES);
	else
		WARD_FAIL("/etc/os-release is not a regular file without execute bits");
	/* A path through a file. */
	CHECK_ERRNO(execve("/etc/os-release/x", argv, envp), ENOTDIR);
	CHECK_ERRNO(execve("/bin/true/", argv, envp), ENOTDIR);
	/* Bad pointers (raw calls, which the compiler does not check). */
	CHECK_ERRNO(syscall(SYS_execve, (char *)1, argv, envp), EFAULT);
	CHECK_ERRNO(syscall(SYS_execve, "/bin/true", (char **)1, envp), EFAULT);
	CHECK_ERRNO(syscall(SYS_execve, "/bin/true", argv, (char **)1), EFAULT);
	char *bad_argv[] = { "x", (char *)1, NULL };
	CHECK_ERRNO(execve("/bin/true", bad_argv, envp), EFAULT);
	/* One string longer than MAX_ARG_STRLEN (32 pages). */
	size_t len = 33 * 4096;
	char *big = malloc(len + 1);
	CHECK(big != NULL);
	if (big) {
		memset(big, 'a', len);
		big[len] = '\0';
		char *big_argv[] = { "true", big, NULL };
		CHECK_ERRNO(execve("/bin/true", big_argv, envp), E2BIG);
		char *big_envp[] = { big, NULL };
		CHECK_ERRNO(execve("/bin/true", argv, big_envp), E2BIG);
		free(big);
	}

	/* execveat's own errors. */
	CHECK_ERRNO(sys_execveat(AT_FDCWD, "/bin/true", argv, envp, 0x1), EINVAL);
	CHECK_ERRNO(sys_execveat(-5, "true", argv, envp, 0), EBADF);
	CHECK_ERRNO(sys_execveat(AT_FDCWD, "", argv, envp, 0), ENOENT);
	/* /bin/sh is a symbolic link (to dash). */
	CHECK_ERRNO(sys_execveat(AT_FDCWD, "/bin/sh", argv, envp, AT_SYMLINK_NOFOLLOW), ELOOP);
	int etc = CHECK_OK(open("/etc", O_RDONLY | O_DIRECTORY));
	CHECK_ERRNO(sys_execveat(etc, "os-release", argv, envp, 0), EACCES);
	CHECK_ERRNO(sys_execveat(etc, "", argv, envp, AT_EMPTY_PATH), EACCES);
	close(etc);
	/* Still running, still ourselves. */
	CHECK(getpid() > 0);
}

static void test_run(void)
{
	char *true_argv[] = { "true", NULL };
	char *false_argv[] = { "false", NULL };
	char *envp[] = { NULL };
	int status = run("/bin/true", true_argv, envp);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	status = run("/bin/false", false_argv, envp);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 1);

	/* argv and envp reach the new program (dash on Debian). */
	char *sh_argv[] = { "sh",   "-c", "test \"$1\" = x && test \"$V\" = y && test $# = 1 && test \"$0\" = name",
			    "name", "x",  NULL };
	char *good_envp[] = { "V=y", NULL };
	char *bad_envp[] = { "V=z", NULL };
	status = run("/bin/sh", sh_argv, good_envp);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	status = run("/bin/sh", sh_argv, bad_envp);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 1);
	/* The exit status of the program comes through. */
	char *exit_argv[] = { "sh", "-c", "exit 42", NULL };
	status = run("/bin/sh", exit_argv, envp);
	CHECK_EQ(WEXITSTATUS(status), 42);

	/* execveat: relative to a directory, and of an open file. */
	int bin = CHECK_OK(open("/bin", O_RDONLY | O_DIRECTORY));
	int exe = CHECK_OK(open("/bin/true", O_RDONLY));
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		sys_execveat(bin, "true", true_argv, envp, 0);
		_exit(127);
	}
	reap_exit(pid, 0);
	pid = CHECK_OK(fork());
	if (pid == 0) {
		sys_execveat(exe, "", true_argv, envp, AT_EMPTY_PATH);
		_exit(127);
	}
	reap_exit(pid, 0);
	/* An O_PATH descriptor will do as well. */
	int path_fd = CHECK_OK(open("/bin/false", O_PATH));
	pid = CHECK_OK(fork());
	if (pid == 0) {
		sys_execveat(path_fd, "", false_argv, envp, AT_EMPTY_PATH);
		_exit(127);
	}
	reap_exit(pid, 1);
	close(path_fd);
	close(bin);
	close(exe);
}

static void test_cloexec_shell(void)
{
	/* Close-on-exec seen by a real program: dash can read the kept
	 * descriptor but not the close-on-exec one. */
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		int fd = open("/etc/os-release", O_RDONLY);
		if (fd < 0 || dup2(fd, 5) != 5 || dup3(fd, 6, O_CLOEXEC) != 6)
			_exit(126);
		char *argv[] = { "sh", "-c",
				 "exec 2>/dev/null; read line <&5 && test -n \"$line\" || exit 1; "
				 "if true <&6; then exit 2; fi; exit 0",
				 NULL };
		char *envp[] = { NULL };
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	reap_exit(pid, 0);
}

static void test_signals_shell(void)
{
	char *argv[] = { "sh", "-c", "kill -USR1 $$; exit 0", NULL };
	char *envp[] = { NULL };
	/* An ignored signal stays ignored in the new program: dash survives
	 * the signal it sends itself. */
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		signal(SIGUSR1, SIG_IGN);
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	reap_exit(pid, 0);
	/* A handled signal is back to the default action: it kills. */
	pid = CHECK_OK(fork());
	if (pid == 0) {
		signal(SIGUSR1, on_signal);
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	int status = reap(pid);
	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGUSR1);
}

static void test_state(void)
{
	pid_t parent = getpid();
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		int fd = open("/etc/os-release", O_RDONLY);
		char buf[3];
		if (fd < 0 || read(fd, buf, 3) != 3)
			_exit(126);
		if (dup2(fd, 5) != 5 || dup3(fd, 6, O_CLOEXEC) != 6 || dup2(fd, 7) != 7 ||
		    fcntl(7, F_SETFD, FD_CLOEXEC) != 0)
			_exit(126);
		if (fd > 7)
			close(fd);
		struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART | SA_NODEFER };
		sigemptyset(&sa.sa_mask);
		sigaddset(&sa.sa_mask, SIGINT);
		sigaction(SIGUSR1, &sa, NULL);
		sa.sa_handler = SIG_IGN;
		sigaction(SIGUSR2, &sa, NULL);
		sigset_t hup;
		sigemptyset(&hup);
		sigaddset(&hup, SIGHUP);
		sigprocmask(SIG_BLOCK, &hup, NULL);
		raise(SIGHUP);
		static char altstack[65536];
		stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
		sigaltstack(&ss, NULL);
		alarm(100);
		umask(027);
		if (chdir("/usr") != 0)
			_exit(126);
		char pid_s[16], ppid_s[16];
		snprintf(pid_s, sizeof(pid_s), "%d", getpid());
		snprintf(ppid_s, sizeof(ppid_s), "%d", parent);
		char *argv[] = { "renamed-child", "--exec-child", "state", pid_s, ppid_s, NULL };
		char *envp[] = { "A=1", "B=two words", NULL };
		execve(self, argv, envp);
		_exit(127);
	}
	reap_exit(pid, 0);
}

static void *exec_thread(void *arg)
{
	char pid_s[16], tid_s[16];
	snprintf(pid_s, sizeof(pid_s), "%d", getpid());
	snprintf(tid_s, sizeof(tid_s), "%d", gettid());
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	char *argv[] = { (char *)self, "--exec-child", "thread", pid_s, tid_s, NULL };
	execve(self, argv, environ);
	_exit(127);
}

static void test_thread_exec(void)
{
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		/* The main thread starts a thread that execs, blocks SIGUSR1
		 * (its mask does not carry over) and waits forever: the exec
		 * ends it. */
		pthread_t t;
		if (pthread_create(&t, NULL, exec_thread, NULL) != 0)
			_exit(126);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		pthread_join(t, NULL);
		_exit(125);
	}
	/* One exit status, from the new image. */
	reap_exit(pid, 0);
	CHECK_ERRNO(waitpid(-1, NULL, WNOHANG), ECHILD);
}

static void test_null_argv(void)
{
	/* Since Linux 5.18 a NULL argv becomes { "", NULL }. */
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		char *envp[] = { "WARD_EXEC_MODE=nullargv", NULL };
		syscall(SYS_execve, self, NULL, envp);
		_exit(127);
	}
	reap_exit(pid, 0);
	/* A NULL envp is an empty environment. */
	pid = CHECK_OK(fork());
	if (pid == 0) {
		char *argv[] = { (char *)self, "--exec-child", "noenv", NULL };
		execve(self, argv, NULL);
		_exit(127);
	}
	reap_exit(pid, 0);
	/* An empty argv ({ NULL }) is treated the same way as NULL. */
	pid = CHECK_OK(fork());
	if (pid == 0) {
		char *argv[] = { NULL };
		char *envp[] = { "WARD_EXEC_MODE=nullargv", NULL };
		execve(self, argv, envp);
		_exit(127);
	}
	reap_exit(pid, 0);
}

static void test_enoexec(void)
{
	/* An executable file in no known format. memfd_create is the only
	 * place to write one when the root is read-only. */
	int fd = memfd_create("garbage", MFD_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "note: memfd_create failed (%s): ENOEXEC not checked\n", strerror(errno));
		return;
	}
	const char junk[] = "this is not a program\n";
	CHECK_EQ(write(fd, junk, sizeof(junk) - 1), sizeof(junk) - 1);
	char *argv[] = { "garbage", NULL };
	char *envp[] = { NULL };
	CHECK_ERRNO(sys_execveat(fd, "", argv, envp, AT_EMPTY_PATH), ENOEXEC);
	/* An empty file too. */
	CHECK_OK(ftruncate(fd, 0));
	CHECK_ERRNO(sys_execveat(fd, "", argv, envp, AT_EMPTY_PATH), ENOEXEC);
	close(fd);
}

static void test_script(void)
{
	/* `#!` scripts: Debian's which(1) is "#! /bin/sh". The kernel runs
	 * the interpreter with the script's path and our arguments. */
	static const char *const candidates[] = { "/bin/which", "/usr/bin/which" };
	const char *script = NULL;
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]) && !script; i++) {
		char head[2];
		int fd = open(candidates[i], O_RDONLY);
		if (fd >= 0 && read(fd, head, 2) == 2 && head[0] == '#' && head[1] == '!' &&
		    access(candidates[i], X_OK) == 0)
			script = candidates[i];
		if (fd >= 0)
			close(fd);
	}
	if (!script) {
		fprintf(stderr, "note: no #! script found: scripts not checked\n");
		return;
	}
	int p[2];
	CHECK_OK(pipe(p));
	char *envp[] = { "PATH=/bin", NULL };
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		dup2(p[1], 1);
		char *argv[] = { "which", "sh", NULL };
		execve(script, argv, envp);
		_exit(127);
	}
	close(p[1]);
	char out[64] = { 0 };
	ssize_t n = 0, r;
	while (n < (ssize_t)sizeof(out) - 1 && (r = read(p[0], out + n, sizeof(out) - 1 - n)) > 0)
		n += r;
	close(p[0]);
	CHECK_STREQ(out, "/bin/sh\n");
	reap_exit(pid, 0);
	/* And its exit status: 1 for a command that is nowhere. */
	pid = CHECK_OK(fork());
	if (pid == 0) {
		char *argv[] = { "which", "no-such-command-anywhere", NULL };
		execve(script, argv, envp);
		_exit(127);
	}
	reap_exit(pid, 1);
}

int main(int argc, char **argv)
{
	const char *mode = getenv("WARD_EXEC_MODE");
	if (mode && strcmp(mode, "nullargv") == 0) {
		CHECK_EQ(argc, 1);
		CHECK_STREQ(argv[0], "");
		CHECK(argv[1] == NULL);
		return test_done();
	}
	if (argc >= 3 && strcmp(argv[1], "--exec-child") == 0) {
		if (strcmp(argv[2], "state") == 0)
			return child_state(argc, argv);
		if (strcmp(argv[2], "thread") == 0)
			return child_thread(argc, argv);
		if (strcmp(argv[2], "noenv") == 0) {
			CHECK(environ == NULL || environ[0] == NULL);
			CHECK(getenv("PATH") == NULL);
			return test_done();
		}
		WARD_FAIL("unknown mode %s", argv[2]);
		return test_done();
	}

	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (argc > 0 && strchr(argv[0], '/'))
		self = argv[0];

	test_errors();
	test_run();
	test_cloexec_shell();
	test_signals_shell();
	test_enoexec();
	test_script();
	if (self) {
		test_state();
		test_thread_exec();
		test_null_argv();
	} else {
		fprintf(stderr, "note: argv[0] is not a path: the new image's state is not checked\n");
	}
	return test_done();
}
