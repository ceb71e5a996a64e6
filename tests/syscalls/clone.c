/* clone and clone3: the flag combinations Linux refuses (EINVAL, E2BIG),
 * fork through the raw calls, CLONE_PARENT_SETTID/CLONE_CHILD_SETTID and
 * CLONE_CHILD_CLEARTID (with its futex wake), CLONE_VFORK, the sharing
 * flags (CLONE_VM, CLONE_FILES, CLONE_FS, CLONE_SIGHAND), exit signals
 * other than SIGCHLD (__WCLONE/__WALL), CLONE_PARENT and CLONE_PIDFD. */
#include "ward_test.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif

#define MS 1000000LL

/* The fields of struct clone_args up to cgroup (CLONE_ARGS_SIZE_VER2). */
struct cargs {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size,
		cgroup;
};

static long clone3(void *args, size_t size)
{
	return syscall(SYS_clone3, args, size);
}

/* The raw x86-64 clone: flags, stack, parent_tid, child_tid, tls. With no
 * new stack the child returns here like fork's. */
static long raw_clone(unsigned long flags, void *parent_tid, void *child_tid)
{
	return syscall(SYS_clone, flags, NULL, parent_tid, child_tid, 0);
}

/* A system call that is expected to fail, made so that if it creates a
 * task after all, the new task exits at once without touching the stack it
 * may share with us. The result is in errno's convention. */
static long must_fail(long nr, long a1, long a2, long a3, long a4)
{
	long ret;
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = 0;
	__asm__ volatile("syscall\n"
			 "test %%rax, %%rax\n"
			 "jnz 1f\n"
			 "mov $60, %%eax\n" /* SYS_exit: only the new task */
			 "xor %%edi, %%edi\n"
			 "syscall\n"
			 "1:\n"
			 : "=a"(ret)
			 : "0"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

static long bad_clone3(void *args, size_t size)
{
	return must_fail(SYS_clone3, (long)args, (long)size, 0, 0);
}

static long bad_clone(unsigned long flags, void *parent_tid, void *child_tid)
{
	return must_fail(SYS_clone, (long)flags, 0, (long)parent_tid, (long)child_tid);
}

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int reap(pid_t pid, int options)
{
	int status = -1;
	CHECK_EQ(waitpid(pid, &status, options), pid);
	return status;
}

static void reap_exit(pid_t pid, int options, int code)
{
	int status = reap(pid, options);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != code)
		WARD_FAIL("child %d: status %#x, wanted exit %d", pid, status, code);
}

static void test_errors(void)
{
	struct cargs a;
	char big[4096 + 64];
	/* Sizes: below the first version is EINVAL, above a page E2BIG, and
	 * a larger struct whose unknown tail is not zero E2BIG. */
	memset(&a, 0, sizeof(a));
	a.exit_signal = SIGCHLD;
	CHECK_ERRNO(bad_clone3(&a, 0), EINVAL);
	CHECK_ERRNO(bad_clone3(&a, 63), EINVAL);
	memset(big, 0, sizeof(big));
	CHECK_ERRNO(bad_clone3(big, 4096 + 8), E2BIG);
	memset(big, 0, sizeof(big));
	((struct cargs *)big)->exit_signal = SIGCHLD;
	big[200] = 1;
	CHECK_ERRNO(bad_clone3(big, 256), E2BIG);
	CHECK_ERRNO(bad_clone3(NULL, sizeof(a)), EFAULT);
	CHECK_ERRNO(bad_clone3((void *)1, sizeof(a)), EFAULT);
	/* The exit signal must be a signal, and go in exit_signal, not in
	 * the flags. */
	a.exit_signal = 65;
	CHECK_ERRNO(bad_clone3(&a, sizeof(a)), EINVAL);
	memset(&a, 0, sizeof(a));
	a.flags = SIGCHLD;
	CHECK_ERRNO(bad_clone3(&a, sizeof(a)), EINVAL);
	/* Unknown flags. */
	memset(&a, 0, sizeof(a));
	a.flags = 1ULL << 40;
	CHECK_ERRNO(bad_clone3(&a, sizeof(a)), EINVAL);
	/* A thread needs the signal handlers, which need the memory. */
	memset(&a, 0, sizeof(a));
	a.flags = CLONE_THREAD;
	CHECK_ERRNO(bad_clone3(&a, sizeof(a)), EINVAL);
	a.flags = CLONE_SIGHAND;
	CHECK_ERRNO(bad_clone3(&a, sizeof(a)), EINVAL);
	/* Sharing and clearing the handlers at once. */
	a.flags = CLONE_VM | CLONE_SIGHAND | CLONE_CLEAR_SIGHAND;
	CHECK_ERRNO(bad_clone3(&a, sizeof(a)), EINVAL);
	/* A stack without a size. */
	memset(&a, 0, sizeof(a));
	a.exit_signal = SIGCHLD;
	a.stack = (uintptr_t)big;
	CHECK_ERRNO(bad_clone3(&a, sizeof(a)), EINVAL);

	/* The same rules for clone. */
	CHECK_ERRNO(bad_clone(CLONE_THREAD | SIGCHLD, NULL, NULL), EINVAL);
	CHECK_ERRNO(bad_clone(CLONE_THREAD | CLONE_VM, NULL, NULL), EINVAL);
	CHECK_ERRNO(bad_clone(CLONE_SIGHAND | SIGCHLD, NULL, NULL), EINVAL);
	/* A new mount namespace cannot share the fs info, nor a new user
	 * namespace. */
	CHECK_ERRNO(bad_clone(CLONE_NEWNS | CLONE_FS | SIGCHLD, NULL, NULL), EINVAL);
	CHECK_ERRNO(bad_clone(CLONE_NEWUSER | CLONE_FS | SIGCHLD, NULL, NULL), EINVAL);
	/* clone's CLONE_PIDFD uses the parent_tid slot. */
	int slot = 0;
	CHECK_ERRNO(bad_clone(CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, &slot, NULL), EINVAL);
	/* No child was made by any of these. */
	CHECK_ERRNO(waitpid(-1, NULL, __WALL | WNOHANG), ECHILD);
}

static void test_fork_like(void)
{
	/* clone(SIGCHLD) is fork. */
	pid_t parent = getpid();
	long pid = raw_clone(SIGCHLD, NULL, NULL);
	if (pid == 0)
		_exit(getppid() == parent ? 5 : 6);
	CHECK(pid > 0);
	reap_exit(pid, 0, 5);

	/* clone3 with exit_signal SIGCHLD is fork too. */
	struct cargs a;
	memset(&a, 0, sizeof(a));
	a.exit_signal = SIGCHLD;
	pid = clone3(&a, sizeof(a));
	if (pid == 0)
		_exit(getppid() == parent ? 6 : 7);
	CHECK(pid > 0);
	reap_exit(pid, 0, 6);
	/* The first version of the struct (64 bytes) will do. */
	pid = clone3(&a, 64);
	if (pid == 0)
		_exit(8);
	CHECK(pid > 0);
	reap_exit(pid, 0, 8);
	/* A larger struct with a zero tail is fine. */
	static char big[256];
	memset(big, 0, sizeof(big));
	((struct cargs *)big)->exit_signal = SIGCHLD;
	pid = clone3(big, sizeof(big));
	if (pid == 0)
		_exit(9);
	CHECK(pid > 0);
	reap_exit(pid, 0, 9);
}

static void test_settid(void)
{
	/* PARENT_SETTID writes the child's id in the parent's memory before
	 * clone returns; CHILD_SETTID in the child's (a copy, here). */
	pid_t ptid = 0, ctid = 0;
	long pid = raw_clone(CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | SIGCHLD, &ptid, &ctid);
	if (pid == 0) {
		/* The parent's write came after the copy was made. */
		_exit(ctid == getpid() && ptid == 0 ? 0 : 1);
	}
	CHECK(pid > 0);
	CHECK_EQ(ptid, pid);
	CHECK_EQ(ctid, 0);
	reap_exit(pid, 0, 0);

	/* The same through clone3. */
	struct cargs a;
	memset(&a, 0, sizeof(a));
	ptid = ctid = 0;
	a.flags = CLONE_PARENT_SETTID | CLONE_CHILD_SETTID;
	a.parent_tid = (uintptr_t)&ptid;
	a.child_tid = (uintptr_t)&ctid;
	a.exit_signal = SIGCHLD;
	pid = clone3(&a, sizeof(a));
	if (pid == 0)
		_exit(ctid == getpid() ? 0 : 1);
	CHECK(pid > 0);
	CHECK_EQ(ptid, pid);
	CHECK_EQ(ctid, 0);
	reap_exit(pid, 0, 0);
}

/* ---- Children on their own stacks (glibc's clone), sharing memory. ---- */

static char stack[256 * 1024] __attribute__((aligned(16)));
static char *const stack_top = stack + sizeof(stack);
static volatile int shared_flag;
static volatile pid_t child_tid_word;

static int set_flag(void *arg)
{
	shared_flag = (int)(intptr_t)arg;
	return 0;
}

static int sleep_then_set_flag(void *arg)
{
	struct timespec d = { 0, 50 * MS };
	syscall(SYS_nanosleep, &d, NULL);
	shared_flag = 1;
	return 3;
}

static int exec_true(void *arg)
{
	char *argv[] = { "true", NULL };
	char *envp[] = { NULL };
	syscall(SYS_execve, "/bin/true", argv, envp);
	return 127;
}

static void test_vm(void)
{
	/* CLONE_VM: the child's write is seen by the parent. CLEARTID: the
	 * kernel zeroes child_tid_word at the child's exit and wakes the
	 * futex, which is how the parent knows it is done. */
	/* As pthread_create does: the same word for PARENT_SETTID (set before
	 * clone returns) and CHILD_CLEARTID. */
	shared_flag = 0;
	child_tid_word = -1;
	int pid = clone(set_flag, stack_top, CLONE_VM | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD, (void *)7,
			&child_tid_word, NULL, &child_tid_word);
	CHECK(pid > 0);
	if (pid <= 0)
		return;
	pid_t v = child_tid_word;
	/* The child's id, or already 0 if it has been and gone. */
	CHECK(v == pid || v == 0);
	while ((v = child_tid_word) != 0)
		syscall(SYS_futex, &child_tid_word, FUTEX_WAIT, v, NULL, NULL, 0);
	/* Cleared after the child's last write. */
	CHECK_EQ(shared_flag, 7);
	reap_exit(pid, 0, 0);
	CHECK_EQ(child_tid_word, 0);
	/* CHILD_SETTID in shared memory: the child writes its own id. */
	child_tid_word = 0;
	pid = clone(set_flag, stack_top, CLONE_VM | CLONE_CHILD_SETTID | SIGCHLD, (void *)8, NULL, NULL,
		    &child_tid_word);
	CHECK(pid > 0);
	reap_exit(pid, 0, 0);
	CHECK_EQ(child_tid_word, pid);
	CHECK_EQ(shared_flag, 8);

	/* CLONE_VFORK: the parent sleeps until the child exits. */
	shared_flag = 0;
	long long start = now_ns();
	pid = clone(sleep_then_set_flag, stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	CHECK(pid > 0);
	CHECK_EQ(shared_flag, 1);
	CHECK(now_ns() - start >= 50 * MS);
	reap_exit(pid, 0, 3);
	/* ...or until it execs. */
	pid = clone(exec_true, stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	CHECK(pid > 0);
	reap_exit(pid, 0, 0);
}

static int close_fd(void *arg)
{
	close((int)(intptr_t)arg);
	return 0;
}

static int open_fd(void *arg)
{
	int fd = open("/etc/os-release", O_RDONLY);
	return fd >= 0 ? fd : 255;
}

static int set_umask(void *arg)
{
	umask(077);
	return 0;
}

static void noop(int sig)
{
}

static void ignore_usr2_now(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGUSR2, &sa, NULL);
}

static int ignore_usr2(void *arg)
{
	ignore_usr2_now();
	return 0;
}

static void test_sharing(void)
{
	/* CLONE_FILES: one descriptor table. The child's close is ours... */
	int fd = CHECK_OK(open("/etc/os-release", O_RDONLY));
	int pid = clone(close_fd, stack_top, CLONE_FILES | SIGCHLD, (void *)(intptr_t)fd);
	CHECK(pid > 0);
	reap_exit(pid, 0, 0);
	CHECK_ERRNO(fcntl(fd, F_GETFD), EBADF);
	/* ...and so is its open. */
	int status = -1;
	pid = clone(open_fd, stack_top, CLONE_FILES | SIGCHLD, NULL);
	CHECK(pid > 0);
	status = reap(pid, 0);
	CHECK(WIFEXITED(status));
	int opened = WEXITSTATUS(status);
	CHECK(opened != 255);
	CHECK_OK(fcntl(opened, F_GETFD));
	close(opened);
	/* Without it, a copy. */
	fd = CHECK_OK(open("/etc/os-release", O_RDONLY));
	pid = clone(close_fd, stack_top, SIGCHLD, (void *)(intptr_t)fd);
	reap_exit(pid, 0, 0);
	CHECK_OK(fcntl(fd, F_GETFD));
	close(fd);

	/* CLONE_FS: one umask (and cwd, root). */
	mode_t old = umask(022);
	pid = clone(set_umask, stack_top, CLONE_FS | SIGCHLD, NULL);
	reap_exit(pid, 0, 0);
	CHECK_EQ(umask(022), 077);
	pid = clone(set_umask, stack_top, SIGCHLD, NULL);
	reap_exit(pid, 0, 0);
	CHECK_EQ(umask(old), 022);

	/* CLONE_SIGHAND (with CLONE_VM): one table of dispositions. */
	signal(SIGUSR2, SIG_DFL);
	pid = clone(ignore_usr2, stack_top, CLONE_VM | CLONE_SIGHAND | SIGCHLD, NULL);
	CHECK(pid > 0);
	reap_exit(pid, 0, 0);
	struct sigaction sa;
	CHECK_OK(sigaction(SIGUSR2, NULL, &sa));
	CHECK(sa.sa_handler == SIG_IGN);
	signal(SIGUSR2, SIG_DFL);
	pid = clone(ignore_usr2, stack_top, CLONE_VM | SIGCHLD, NULL);
	reap_exit(pid, 0, 0);
	CHECK_OK(sigaction(SIGUSR2, NULL, &sa));
	CHECK(sa.sa_handler == SIG_DFL);

	/* clone3's CLONE_CLEAR_SIGHAND: handled signals are back to the
	 * default in the child, ignored ones stay ignored. */
	signal(SIGUSR1, noop);
	signal(SIGUSR2, SIG_IGN);
	struct cargs a;
	memset(&a, 0, sizeof(a));
	a.flags = CLONE_CLEAR_SIGHAND;
	a.exit_signal = SIGCHLD;
	pid = clone3(&a, sizeof(a));
	if (pid == 0) {
		struct sigaction s1, s2;
		sigaction(SIGUSR1, NULL, &s1);
		sigaction(SIGUSR2, NULL, &s2);
		_exit(s1.sa_handler == SIG_DFL && s2.sa_handler == SIG_IGN ? 0 : 1);
	}
	CHECK(pid > 0);
	reap_exit(pid, 0, 0);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
}

static volatile sig_atomic_t usr1_count;

static void on_usr1(int sig)
{
	usr1_count++;
}

static void test_exit_signal(void)
{
	/* Exit signal 0: a "clone" child, invisible to a plain wait. */
	long pid = raw_clone(0, NULL, NULL);
	if (pid == 0)
		_exit(4);
	CHECK(pid > 0);
	int status;
	CHECK_ERRNO(waitpid(pid, &status, 0), ECHILD);
	CHECK_ERRNO(waitpid(-1, &status, WNOHANG), ECHILD);
	reap_exit(pid, __WCLONE, 4);

	/* Exit signal SIGUSR1: sent to us at the child's exit. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
	usr1_count = 0;
	pid = raw_clone(SIGUSR1, NULL, NULL);
	if (pid == 0)
		_exit(5);
	CHECK(pid > 0);
	reap_exit(pid, __WALL, 5);
	CHECK_EQ(usr1_count, 1);
	signal(SIGUSR1, SIG_DFL);
	/* And a SIGCHLD child is not a __WCLONE one. */
	pid = raw_clone(SIGCHLD, NULL, NULL);
	if (pid == 0)
		_exit(6);
	CHECK(pid > 0);
	CHECK_ERRNO(waitpid(pid, &status, __WCLONE), ECHILD);
	reap_exit(pid, 0, 6);
}

static void test_parent_and_pidfd(void)
{
	/* CLONE_PARENT: the new process is a sibling of the caller, here a
	 * child of ours (the test itself may be an init, which cannot use
	 * CLONE_PARENT, so a child does it). */
	pid_t me = getpid();
	int p[2];
	CHECK_OK(pipe(p));
	pid_t middle = CHECK_OK(fork());
	if (middle == 0) {
		long sib = raw_clone(CLONE_PARENT | SIGCHLD, NULL, NULL);
		if (sib == 0)
			_exit(getppid() == me ? 12 : 13);
		write(p[1], &(pid_t){ (pid_t)sib }, sizeof(pid_t));
		/* Not our child: we cannot wait for it. */
		_exit(waitpid(sib, NULL, 0) == -1 && errno == ECHILD ? 0 : 1);
	}
	close(p[1]);
	pid_t sib = 0;
	CHECK_EQ(read(p[0], &sib, sizeof(sib)), sizeof(sib));
	close(p[0]);
	reap_exit(middle, 0, 0);
	reap_exit(sib, 0, 12);

	/* CLONE_PIDFD: clone3 returns a pidfd in args.pidfd, close-on-exec,
	 * readable once the child exits. */
	struct cargs a;
	memset(&a, 0, sizeof(a));
	int pidfd = -1;
	a.flags = CLONE_PIDFD;
	a.pidfd = (uintptr_t)&pidfd;
	a.exit_signal = SIGCHLD;
	int go[2];
	CHECK_OK(pipe(go));
	long pid = clone3(&a, sizeof(a));
	if (pid == 0) {
		char c;
		close(go[1]);
		_exit(read(go[0], &c, 1) == 0 ? 14 : 15);
	}
	close(go[0]);
	CHECK(pid > 0);
	CHECK(pidfd >= 0);
	if (pidfd >= 0) {
		CHECK_EQ(fcntl(pidfd, F_GETFD), FD_CLOEXEC);
		struct pollfd pf = { pidfd, POLLIN, 0 };
		CHECK_EQ(poll(&pf, 1, 0), 0);
		close(go[1]);
		CHECK_EQ(poll(&pf, 1, 5000), 1);
		close(pidfd);
	} else {
		close(go[1]);
	}
	reap_exit(pid, 0, 14);
	/* clone's CLONE_PIDFD writes it through the parent_tid slot. */
	pidfd = -1;
	pid = raw_clone(CLONE_PIDFD | SIGCHLD, &pidfd, NULL);
	if (pid == 0)
		_exit(16);
	CHECK(pid > 0);
	CHECK(pidfd >= 0);
	reap_exit(pid, 0, 16);
	if (pidfd >= 0)
		close(pidfd);
}

int main(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGCHLD, SIG_DFL);

	test_errors();
	test_fork_like();
	test_settid();
	test_vm();
	test_sharing();
	test_exit_signal();
	test_parent_and_pidfd();
	return test_done();
}
