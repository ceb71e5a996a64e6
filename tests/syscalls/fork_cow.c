/* Memory after fork as each side writes it: a page written by one side
 * after the fork is never seen by the other, whoever writes it — the
 * process itself, the kernel on its behalf (read(2), recv from a host
 * socket, futex atomics, process_vm_writev from the other side) — and
 * whenever the other side reads it; repeated forks, mremap, madvise,
 * mprotect and threads that write one page at once keep that. A futex
 * word in private memory stays the same futex for the process's threads
 * across a fork, and a different one from the child's copy. (ward forks
 * copy-on-write; these are the cases where a copy-on-write fork can go
 * wrong.) */
#include "ward_test.h"

#include <arpa/inet.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#define PAGE 4096
#define REGION (64 * PAGE)

static void child_done(void)
{
	_exit(ward_test_failures ? 1 : 0);
}

static void reap_ok(pid_t pid)
{
	int status = -1;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
}

static char *region(int fill)
{
	char *p = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	memset(p, fill, REGION);
	return p;
}

static bool all_are(const char *p, size_t len, int v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != (char)v)
			return false;
	return true;
}

/* A byte on a pipe: one side tells the other it may go on. */
static void signal_pipe(int fd)
{
	CHECK_EQ(write(fd, "x", 1), 1);
}

static void wait_pipe(int fd)
{
	char c;
	CHECK_EQ(read(fd, &c, 1), 1);
}

/* Both sides write after the fork, in both orders, each page or a part. */
static void test_writes_both_ways(void)
{
	char *p = region(1);
	int to_child[2], to_parent[2];
	CHECK_OK(pipe(to_child));
	CHECK_OK(pipe(to_parent));
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		/* The child writes first page 0, then reads page 1 after the
		 * parent has written it. */
		memset(p, 2, PAGE);
		signal_pipe(to_parent[1]);
		wait_pipe(to_child[0]);
		CHECK(all_are(p + PAGE, PAGE, 1));
		CHECK(all_are(p, PAGE, 2));
		CHECK(all_are(p + 2 * PAGE, REGION - 2 * PAGE, 1));
		child_done();
	}
	wait_pipe(to_parent[0]);
	CHECK(all_are(p, PAGE, 1));
	memset(p + PAGE, 3, PAGE);
	p[REGION - 1] = 4;
	signal_pipe(to_child[1]);
	reap_ok(pid);
	CHECK(all_are(p, PAGE, 1));
	CHECK(all_are(p + PAGE, PAGE, 3));
	CHECK_EQ(p[REGION - 1], 4);
	munmap(p, REGION);
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
}

/* The kernel's own writes into memory shared since a fork: read(2) into
 * the buffer in the child, and in the parent while the child still reads
 * the old contents. */
static void test_kernel_writes(void)
{
	char *p = region(1);
	int data[2], go[2];
	CHECK_OK(pipe(data));
	CHECK_OK(pipe(go));
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		char buf[PAGE];
		memset(buf, 9, sizeof(buf));
		CHECK_EQ(write(data[1], buf, sizeof(buf)), PAGE);
		wait_pipe(go[0]);
		/* The parent's read(2) into its copy is not seen here. */
		CHECK(all_are(p + 5 * PAGE, PAGE, 1));
		CHECK_EQ(read(data[0], p + 7 * PAGE + 100, 10), 10);
		CHECK(all_are(p + 7 * PAGE + 100, 10, 8));
		child_done();
	}
	CHECK_EQ(read(data[0], p + 5 * PAGE, PAGE), PAGE);
	CHECK(all_are(p + 5 * PAGE, PAGE, 9));
	char ten[10];
	memset(ten, 8, sizeof(ten));
	CHECK_EQ(write(data[1], ten, sizeof(ten)), 10);
	signal_pipe(go[1]);
	reap_ok(pid);
	CHECK(all_are(p + 7 * PAGE, PAGE, 1));
	munmap(p, REGION);
	close(data[0]);
	close(data[1]);
	close(go[0]);
	close(go[1]);
}

/* recvfrom a UDP socket on loopback into a page shared since a fork. */
static void test_socket_recv(void)
{
	char *p = region(1);
	int s = CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	CHECK_OK(bind(s, (struct sockaddr *)&a, sizeof(a)));
	CHECK_OK(getsockname(s, (struct sockaddr *)&a, &alen));
	int go[2];
	CHECK_OK(pipe(go));
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		wait_pipe(go[0]);
		CHECK(all_are(p + 3 * PAGE, 2 * PAGE, 1));
		child_done();
	}
	char msg[PAGE + 10];
	memset(msg, 6, sizeof(msg));
	CHECK_EQ(sendto(s, msg, sizeof(msg), 0, (struct sockaddr *)&a, sizeof(a)), (long)sizeof(msg));
	CHECK_EQ(recv(s, p + 3 * PAGE + 50, sizeof(msg), 0), (long)sizeof(msg));
	CHECK(all_are(p + 3 * PAGE + 50, sizeof(msg), 6));
	CHECK_EQ(p[3 * PAGE + 49], 1);
	signal_pipe(go[1]);
	reap_ok(pid);
	close(s);
	close(go[0]);
	close(go[1]);
	munmap(p, REGION);
}

/* process_vm_writev from the child into the parent's copy. */
static void test_cross_process_write(void)
{
	char *p = region(1);
	int go[2];
	CHECK_OK(pipe(go));
	pid_t parent = getpid();
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		char buf[100];
		memset(buf, 7, sizeof(buf));
		struct iovec local = { buf, sizeof(buf) }, remote = { p + 9 * PAGE, sizeof(buf) };
		CHECK_EQ(process_vm_writev(parent, &local, 1, &remote, 1, 0), (long)sizeof(buf));
		CHECK(all_are(p + 9 * PAGE, PAGE, 1));
		signal_pipe(go[1]);
		child_done();
	}
	wait_pipe(go[0]);
	reap_ok(pid);
	CHECK(all_are(p + 9 * PAGE, 100, 7));
	CHECK(all_are(p + 9 * PAGE + 100, PAGE - 100, 1));
	close(go[0]);
	close(go[1]);
	munmap(p, REGION);
}

/* Three generations: each sees what its parent had when it forked. */
static void test_generations(void)
{
	char *p = region(1);
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		p[0] = 2;
		pid_t grand = fork();
		if (grand == 0) {
			CHECK_EQ(p[0], 2);
			CHECK_EQ(p[PAGE], 1);
			p[PAGE] = 3;
			child_done();
		}
		CHECK(grand > 0);
		p[0] = 4;
		reap_ok(grand);
		CHECK_EQ(p[0], 4);
		CHECK_EQ(p[PAGE], 1);
		child_done();
	}
	p[0] = 5;
	reap_ok(pid);
	CHECK_EQ(p[0], 5);
	CHECK_EQ(p[PAGE], 1);
	/* A fork after the first child is gone still copies nothing wrong. */
	for (int i = 0; i < 3; i++) {
		pid = CHECK_OK(fork());
		if (pid == 0) {
			CHECK_EQ(p[0], 5 + i);
			p[0] = 99;
			child_done();
		}
		p[0] = (char)(6 + i);
		reap_ok(pid);
	}
	CHECK_EQ(p[0], 8);
	munmap(p, REGION);
}

/* mremap grows and moves memory shared since a fork. */
static void test_mremap(void)
{
	char *p = region(1);
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		char *q = mremap(p, REGION, 4 * REGION, MREMAP_MAYMOVE);
		CHECK(q != MAP_FAILED);
		CHECK(all_are(q, REGION, 1));
		CHECK(all_are(q + REGION, 3 * REGION, 0));
		memset(q, 2, REGION);
		child_done();
	}
	char *q = mremap(p, REGION, REGION / 2, 0);
	CHECK(q == p);
	reap_ok(pid);
	CHECK(all_are(p, REGION / 2, 1));
	munmap(p, REGION / 2);
}

/* MADV_DONTNEED drops the pages of one side only. */
static void test_madvise(void)
{
	char *p = region(1);
	int go[2];
	CHECK_OK(pipe(go));
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		CHECK_OK(madvise(p, 4 * PAGE, MADV_DONTNEED));
		CHECK(all_are(p, 4 * PAGE, 0));
		CHECK(all_are(p + 4 * PAGE, PAGE, 1));
		signal_pipe(go[1]);
		child_done();
	}
	wait_pipe(go[0]);
	CHECK(all_are(p, REGION, 1));
	reap_ok(pid);
	close(go[0]);
	close(go[1]);
	munmap(p, REGION);
}

static sigjmp_buf segv_jump;

static void on_segv(int sig)
{
	siglongjmp(segv_jump, 1);
}

/* mprotect after a fork: read-only stays read-only; writable again is the
 * process's own copy. */
static void test_mprotect(void)
{
	char *p = region(1);
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		CHECK_OK(mprotect(p, REGION, PROT_READ));
		struct sigaction sa = { .sa_handler = on_segv }, old;
		sigaction(SIGSEGV, &sa, &old);
		volatile int faulted = 0;
		if (sigsetjmp(segv_jump, 1) == 0)
			*(volatile char *)p = 2;
		else
			faulted = 1;
		sigaction(SIGSEGV, &old, NULL);
		CHECK_EQ(faulted, 1);
		CHECK_EQ(p[0], 1);
		CHECK_OK(mprotect(p + PAGE, PAGE, PROT_READ | PROT_WRITE));
		p[PAGE] = 3;
		CHECK_EQ(p[PAGE], 3);
		child_done();
	}
	reap_ok(pid);
	CHECK(all_are(p, REGION, 1));
	munmap(p, REGION);
}

/* Threads that write one shared-since-fork page at the same moment all
 * keep their writes. */
#define WRITERS 4
static char *race_page;
static atomic_int race_go;

static void *race_writer(void *arg)
{
	long k = (long)arg;
	while (!atomic_load(&race_go))
		;
	for (int i = 0; i < 64; i++)
		race_page[k * 64 + i] = (char)(10 + k);
	return NULL;
}

static void test_threads_write_one_page(void)
{
	for (int round = 0; round < 5; round++) {
		race_page = region(1);
		atomic_store(&race_go, 0);
		pthread_t th[WRITERS];
		for (long k = 0; k < WRITERS; k++)
			CHECK_EQ(pthread_create(&th[k], NULL, race_writer, (void *)k), 0);
		pid_t pid = CHECK_OK(fork());
		if (pid == 0) {
			CHECK(all_are(race_page, REGION, 1));
			child_done();
		}
		atomic_store(&race_go, 1);
		for (long k = 0; k < WRITERS; k++)
			pthread_join(th[k], NULL);
		for (long k = 0; k < WRITERS; k++)
			CHECK(all_are(race_page + k * 64, 64, 10 + k));
		reap_ok(pid);
		munmap(race_page, REGION);
	}
}

/* A futex word in private memory: a waiter from before the fork is woken
 * by its own process after the fork (its page copied meanwhile), never by
 * the child's wake of the same address. */
static _Atomic uint32_t *fword;

static long futex(_Atomic uint32_t *w, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, w, op, val, ts, NULL, 0);
}

static void *futex_waiter(void *arg)
{
	long r;
	while (atomic_load(fword) == 0) {
		r = futex(fword, FUTEX_WAIT, 0, NULL);
		if (r < 0 && errno != EAGAIN && errno != EINTR)
			return (void *)1;
	}
	return NULL;
}

static void test_futex_across_fork(void)
{
	char *p = region(0);
	fword = (_Atomic uint32_t *)(p + 2 * PAGE);
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, futex_waiter, NULL), 0);
	/* Let it sleep; a wake before it sleeps is harmless (it rechecks). */
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	nanosleep(&pause, NULL);
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		/* The child's copy of the word has no waiter. */
		CHECK_EQ(futex(fword, FUTEX_WAKE, 1, NULL), 0);
		child_done();
	}
	reap_ok(pid);
	atomic_store(fword, 1);
	CHECK_EQ(futex(fword, FUTEX_WAKE, 1, NULL), 1);
	void *ret = NULL;
	pthread_join(th, &ret);
	CHECK(ret == NULL);
	munmap(p, REGION);
}

/* A large region, written whole by the child: every page arrives. */
static void test_child_writes_all(void)
{
	size_t len = 8 << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	for (size_t i = 0; i < len; i += PAGE)
		p[i] = (char)(i / PAGE);
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		for (size_t i = 0; i < len; i += PAGE)
			CHECK_EQ(p[i], (char)(i / PAGE));
		for (size_t i = 0; i < len; i += PAGE)
			p[i] = (char)(i / PAGE + 1);
		for (size_t i = 0; i < len; i += PAGE)
			if (p[i] != (char)(i / PAGE + 1))
				WARD_FAIL("page %zu", i / PAGE);
		child_done();
	}
	reap_ok(pid);
	for (size_t i = 0; i < len; i += PAGE)
		if (p[i] != (char)(i / PAGE))
			WARD_FAIL("parent page %zu", i / PAGE);
	munmap(p, len);
}

int main(void)
{
	test_writes_both_ways();
	test_kernel_writes();
	test_socket_recv();
	test_cross_process_write();
	test_generations();
	test_mremap();
	test_madvise();
	test_mprotect();
	test_threads_write_one_page();
	test_futex_across_fork();
	test_child_writes_all();
	return test_done();
}
