/* fork, vfork, wait4/waitpid: fork returns twice with the right values, the
 * child's memory is a copy (globals, stack, heap, a private anonymous
 * mapping) while a shared mapping stays shared, descriptors share their open
 * file description (offset), the signal mask and dispositions are inherited
 * but pending signals are not, and the parent sees how the child ended:
 * exit status, death by SIGKILL or by a fault. vfork suspends the parent
 * until the child exits or execs. Checks made in a child are counted there
 * and reported through its exit status. */
#include "ward_test.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#define MIB (1024 * 1024)

static int global = 1;

/* Ends a forked child: exit 0 if every check made in it held. */
static void child_done(void)
{
	_exit(ward_test_failures ? 1 : 0);
}

/* Waits for pid and returns its wait status (-1 if waitpid failed). */
static int reap(pid_t pid)
{
	int status = -1;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	return status;
}

/* Waits for pid and checks that it exited 0, i.e. its checks held. */
static void reap_ok(pid_t pid)
{
	int status = reap(pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
}

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void test_ids(void)
{
	pid_t parent = getpid();
	int p[2];
	CHECK_OK(pipe(p));
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		/* The child's own ids, sent to the parent to compare. */
		pid_t ids[3] = { getpid(), getppid(), gettid() };
		CHECK(ids[0] != parent);
		CHECK_EQ(ids[1], parent);
		CHECK_EQ(ids[2], ids[0]);
		CHECK_EQ(write(p[1], ids, sizeof(ids)), sizeof(ids));
		child_done();
	}
	CHECK(pid > 0);
	CHECK(pid != parent);
	close(p[1]);
	pid_t ids[3] = { 0 };
	CHECK_EQ(read(p[0], ids, sizeof(ids)), sizeof(ids));
	CHECK_EQ(ids[0], pid);
	CHECK_EQ(ids[1], parent);
	close(p[0]);
	reap_ok(pid);
	/* The parent is unchanged. */
	CHECK_EQ(getpid(), parent);
}

static void test_memory(void)
{
	int on_stack = 10;
	int *heap = malloc(sizeof(int));
	CHECK(heap != NULL);
	if (!heap)
		return;
	*heap = 20;
	char *priv = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(priv != MAP_FAILED && shared != MAP_FAILED);
	if (priv == MAP_FAILED || shared == MAP_FAILED)
		return;
	memset(priv, 'a', MIB);
	global = 1;

	/* to_child tells the child the parent has written; to_parent the
	 * reverse. */
	int to_child[2], to_parent[2];
	CHECK_OK(pipe(to_child));
	CHECK_OK(pipe(to_parent));
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		/* The child starts with the parent's values... */
		CHECK_EQ(global, 1);
		CHECK_EQ(on_stack, 10);
		CHECK_EQ(*heap, 20);
		CHECK_EQ(priv[0], 'a');
		CHECK_EQ(priv[MIB - 1], 'a');
		/* ...and its writes are its own. */
		global = 2;
		on_stack = 11;
		*heap = 21;
		memset(priv, 'b', MIB);
		shared[0] = 'c';
		CHECK_EQ(write(to_parent[1], "x", 1), 1);
		/* The parent's writes, made now, are not seen here. */
		char c;
		CHECK_EQ(read(to_child[0], &c, 1), 1);
		CHECK_EQ(global, 2);
		CHECK_EQ(on_stack, 11);
		CHECK_EQ(*heap, 21);
		CHECK_EQ(priv[0], 'b');
		CHECK_EQ(priv[MIB / 2], 'b');
		CHECK_EQ(priv[MIB - 1], 'b');
		/* The shared page is the same memory. */
		CHECK_EQ(shared[1], 'p');
		child_done();
	}
	char c;
	CHECK_EQ(read(to_parent[0], &c, 1), 1);
	/* The child's writes are not seen here, except in the shared page. */
	CHECK_EQ(global, 1);
	CHECK_EQ(on_stack, 10);
	CHECK_EQ(*heap, 20);
	CHECK_EQ(priv[0], 'a');
	CHECK_EQ(priv[MIB / 2], 'a');
	CHECK_EQ(priv[MIB - 1], 'a');
	CHECK_EQ(shared[0], 'c');
	global = 3;
	on_stack = 12;
	*heap = 22;
	memset(priv, 'd', MIB);
	shared[1] = 'p';
	CHECK_EQ(write(to_child[1], "x", 1), 1);
	reap_ok(pid);
	CHECK_EQ(global, 3);
	CHECK_EQ(priv[MIB - 1], 'd');
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
	munmap(priv, MIB);
	munmap(shared, 4096);
	free(heap);
}

static void test_fds(void)
{
	/* A descriptor inherited across fork shares the open file
	 * description: the child's read moves the parent's offset. */
	int fd = CHECK_OK(open("/etc/os-release", O_RDONLY));
	int cloexec = CHECK_OK(open("/etc/os-release", O_RDONLY | O_CLOEXEC));
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0);
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		char buf[5];
		CHECK_EQ(read(fd, buf, 5), 5);
		CHECK_EQ(lseek(fd, 2, SEEK_CUR), 7);
		/* Close-on-exec means nothing to fork: the flag is kept. */
		CHECK_EQ(fcntl(cloexec, F_GETFD), FD_CLOEXEC);
		CHECK_EQ(fcntl(fd, F_GETFD), 0);
		/* Closing in the child leaves the parent's open. */
		CHECK_OK(close(fd));
		CHECK_OK(close(cloexec));
		child_done();
	}
	reap_ok(pid);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 7);
	CHECK_EQ(fcntl(fd, F_GETFD), 0);
	CHECK_EQ(fcntl(cloexec, F_GETFD), FD_CLOEXEC);
	/* And the other way: the parent's seek, made after the fork, is seen
	 * by the child. */
	int p[2];
	CHECK_OK(pipe(p));
	pid = CHECK_OK(fork());
	if (pid == 0) {
		char c;
		CHECK_EQ(read(p[0], &c, 1), 1);
		CHECK_EQ(lseek(cloexec, 0, SEEK_CUR), 3);
		CHECK_EQ(read(cloexec, &c, 1), 1);
		CHECK_EQ(lseek(cloexec, 0, SEEK_CUR), 4);
		child_done();
	}
	CHECK_EQ(lseek(cloexec, 3, SEEK_SET), 3);
	CHECK_EQ(write(p[1], "x", 1), 1);
	reap_ok(pid);
	close(p[0]);
	close(p[1]);
	CHECK_EQ(lseek(cloexec, 0, SEEK_CUR), 4);
	close(fd);
	close(cloexec);
}

static volatile sig_atomic_t usr1_count;

static void on_usr1(int sig)
{
	usr1_count++;
}

static void test_signal_state(void)
{
	/* The mask and the dispositions are inherited; pending signals are
	 * not. */
	struct sigaction sa = { .sa_handler = on_usr1 };
	CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
	sa.sa_handler = SIG_IGN;
	CHECK_OK(sigaction(SIGUSR2, &sa, NULL));
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	CHECK_OK(sigprocmask(SIG_BLOCK, &set, &old));
	CHECK_OK(raise(SIGTERM));
	sigset_t pending;
	CHECK_OK(sigpending(&pending));
	CHECK(sigismember(&pending, SIGTERM));
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		sigset_t cur, pend;
		CHECK_OK(sigprocmask(SIG_BLOCK, NULL, &cur));
		CHECK(sigismember(&cur, SIGUSR1));
		CHECK(sigismember(&cur, SIGTERM));
		CHECK_OK(sigpending(&pend));
		CHECK(sigisemptyset(&pend));
		struct sigaction got;
		CHECK_OK(sigaction(SIGUSR1, NULL, &got));
		CHECK(got.sa_handler == on_usr1);
		CHECK_OK(sigaction(SIGUSR2, NULL, &got));
		CHECK(got.sa_handler == SIG_IGN);
		/* The inherited handler runs in the child. */
		usr1_count = 0;
		CHECK_OK(raise(SIGUSR1));
		CHECK_EQ(usr1_count, 0);
		CHECK_OK(sigprocmask(SIG_UNBLOCK, &set, NULL));
		CHECK_EQ(usr1_count, 1);
		child_done();
	}
	reap_ok(pid);
	/* The parent's SIGTERM is still pending: take it without dying. */
	sigset_t term;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	struct timespec zero = { 0, 0 };
	CHECK_EQ(sigtimedwait(&term, NULL, &zero), SIGTERM);
	CHECK_OK(sigprocmask(SIG_SETMASK, &old, NULL));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
}

static void test_status(void)
{
	int status;
	/* Exit statuses: the low 8 bits of the value given to exit. */
	pid_t pid = CHECK_OK(fork());
	if (pid == 0)
		_exit(42);
	status = reap(pid);
	CHECK(WIFEXITED(status));
	CHECK(!WIFSIGNALED(status));
	CHECK(!WIFSTOPPED(status));
	CHECK_EQ(WEXITSTATUS(status), 42);
	CHECK_EQ(status, 42 << 8);

	pid = CHECK_OK(fork());
	if (pid == 0)
		exit(256 + 3);
	status = reap(pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 3);

	/* exit_group directly. */
	pid = CHECK_OK(fork());
	if (pid == 0)
		syscall(SYS_exit_group, 9);
	status = reap(pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 9);

	/* Killed by SIGKILL while blocked in pause(). */
	int p[2];
	CHECK_OK(pipe(p));
	pid = CHECK_OK(fork());
	if (pid == 0) {
		close(p[0]);
		for (;;)
			pause();
	}
	close(p[1]);
	CHECK_OK(kill(pid, SIGKILL));
	status = reap(pid);
	CHECK(!WIFEXITED(status));
	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGKILL);
	CHECK(!WCOREDUMP(status));
	/* The dead child's end of the pipe is closed. */
	char c;
	CHECK_EQ(read(p[0], &c, 1), 0);
	close(p[0]);

	/* Killed by the SIGSEGV of a NULL dereference (no core file: its
	 * core limit is 0, and whether the core bit is set depends on the
	 * host's core_pattern, so it is not checked). */
	pid = CHECK_OK(fork());
	if (pid == 0) {
		struct rlimit rl = { 0, 0 };
		setrlimit(RLIMIT_CORE, &rl);
		*(volatile int *)0 = 1;
		_exit(99);
	}
	status = reap(pid);
	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGSEGV);

	/* A signal the child raises itself. */
	pid = CHECK_OK(fork());
	if (pid == 0) {
		struct rlimit rl = { 0, 0 };
		setrlimit(RLIMIT_CORE, &rl);
		raise(SIGABRT);
		_exit(99);
	}
	status = reap(pid);
	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGABRT);
}

static void test_wait_errors(void)
{
	int status = 12345;
	/* No children at all. */
	CHECK_ERRNO(waitpid(-1, &status, 0), ECHILD);
	CHECK_ERRNO(waitpid(-1, &status, WNOHANG), ECHILD);
	CHECK_ERRNO(wait(&status), ECHILD);
	CHECK_EQ(status, 12345);
	/* Not a child: ourselves. */
	CHECK_ERRNO(waitpid(getpid(), &status, 0), ECHILD);
	/* Unknown option bits (WEXITED is waitid's only) are EINVAL, checked
	 * before anything else. */
	CHECK_ERRNO(waitpid(-1, &status, 0x10000), EINVAL);
	CHECK_ERRNO(waitpid(-1, &status, WEXITED), EINVAL);
	CHECK_ERRNO(waitpid(-1, &status, WNOWAIT), EINVAL);

	/* A reaped child is gone. */
	pid_t pid = CHECK_OK(fork());
	if (pid == 0)
		_exit(0);
	reap(pid);
	CHECK_ERRNO(waitpid(pid, &status, 0), ECHILD);
	CHECK_ERRNO(kill(pid, 0), ESRCH);

	/* WNOHANG on a running child is 0 and leaves status alone. */
	int p[2];
	CHECK_OK(pipe(p));
	pid = CHECK_OK(fork());
	if (pid == 0) {
		char c;
		close(p[1]);
		/* EOF when the parent closes its end. */
		_exit(read(p[0], &c, 1) == 0 ? 5 : 6);
	}
	close(p[0]);
	status = 12345;
	CHECK_EQ(waitpid(pid, &status, WNOHANG), 0);
	CHECK_EQ(waitpid(-1, &status, WNOHANG), 0);
	CHECK_EQ(status, 12345);
	close(p[1]);
	/* wait4 with a struct rusage. */
	struct rusage ru;
	memset(&ru, 0xff, sizeof(ru));
	CHECK_EQ(wait4(pid, &status, 0, &ru), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 5);
	CHECK(ru.ru_utime.tv_sec >= 0 && ru.ru_utime.tv_usec >= 0 && ru.ru_utime.tv_usec < 1000000);
	CHECK(ru.ru_stime.tv_sec >= 0 && ru.ru_stime.tv_usec >= 0 && ru.ru_stime.tv_usec < 1000000);
	CHECK(ru.ru_utime.tv_sec < 10 && ru.ru_stime.tv_sec < 10);
	CHECK(ru.ru_maxrss >= 0);
	/* A NULL status is fine too. */
	pid = CHECK_OK(fork());
	if (pid == 0)
		_exit(1);
	CHECK_EQ(waitpid(pid, NULL, 0), pid);
	/* waitpid(-1) and wait() take any child. */
	pid = CHECK_OK(fork());
	if (pid == 0)
		_exit(2);
	CHECK_EQ(wait(&status), pid);
	CHECK_EQ(WEXITSTATUS(status), 2);
	CHECK_ERRNO(wait(&status), ECHILD);
}

static void test_many(void)
{
	/* Several children, reaped in whatever order they end. */
	enum { N = 8 };
	pid_t pids[N];
	for (int i = 0; i < N; i++) {
		pids[i] = CHECK_OK(fork());
		if (pids[i] == 0)
			_exit(10 + i);
	}
	int seen = 0;
	for (int n = 0; n < N; n++) {
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		CHECK(pid > 0);
		for (int i = 0; i < N; i++)
			if (pids[i] == pid) {
				CHECK(WIFEXITED(status));
				CHECK_EQ(WEXITSTATUS(status), 10 + i);
				seen |= 1 << i;
			}
	}
	CHECK_EQ(seen, (1 << N) - 1);
	CHECK_ERRNO(waitpid(-1, NULL, WNOHANG), ECHILD);

	/* A child forks a grandchild: the grandchild is not ours to wait. */
	int p[2];
	CHECK_OK(pipe(p));
	pid_t child = CHECK_OK(fork());
	if (child == 0) {
		pid_t g = fork();
		if (g == 0)
			_exit(4);
		CHECK_EQ(write(p[1], &g, sizeof(g)), sizeof(g));
		int status;
		CHECK_EQ(waitpid(g, &status, 0), g);
		CHECK_EQ(WEXITSTATUS(status), 4);
		child_done();
	}
	pid_t g = 0;
	CHECK_EQ(read(p[0], &g, sizeof(g)), sizeof(g));
	CHECK(g > 0 && g != child);
	CHECK_ERRNO(waitpid(g, NULL, WNOHANG), ECHILD);
	reap_ok(child);
	close(p[0]);
	close(p[1]);
}

static void test_vfork(void)
{
	int status;
	/* vfork + _exit: the status comes through. */
	pid_t pid = vfork();
	if (pid == 0)
		_exit(7);
	CHECK(pid > 0);
	status = reap(pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 7);

	/* The parent resumes only once the child has exited: what the child
	 * wrote to a pipe before _exit is there when vfork returns, and the
	 * child's 50 ms sleep has passed. */
	int p[2];
	CHECK_OK(pipe2(p, O_NONBLOCK));
	long long start = now_ns();
	pid = vfork();
	if (pid == 0) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		syscall(SYS_nanosleep, &ts, NULL);
		syscall(SYS_write, p[1], "v", 1);
		_exit(8);
	}
	CHECK(now_ns() - start >= 50 * 1000 * 1000);
	char c = 0;
	CHECK_EQ(read(p[0], &c, 1), 1);
	CHECK_EQ(c, 'v');
	status = reap(pid);
	CHECK_EQ(WEXITSTATUS(status), 8);
	close(p[0]);
	close(p[1]);

	/* vfork + execve: the parent resumes at the exec. */
	pid = vfork();
	if (pid == 0) {
		char *argv[] = { "true", NULL };
		execve("/bin/true", argv, environ);
		_exit(127);
	}
	status = reap(pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);

	/* vfork + a failed exec: the child reports it. */
	pid = vfork();
	if (pid == 0) {
		char *argv[] = { "nope", NULL };
		execve("/nonexistent/nope", argv, environ);
		_exit(errno == ENOENT ? 126 : 125);
	}
	status = reap(pid);
	CHECK_EQ(WEXITSTATUS(status), 126);
	/* A vfork child is a child like any other. */
	CHECK_ERRNO(waitpid(-1, NULL, WNOHANG), ECHILD);
}

int main(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGCHLD, SIG_DFL);

	test_ids();
	test_memory();
	test_fds();
	test_signal_state();
	test_status();
	test_wait_errors();
	test_many();
	test_vfork();
	return test_done();
}
