/* kcmp (files, descriptor tables, address spaces, fs, handlers, undo lists,
 * epoll targets; ESRCH, EBADF, EINVAL, EPERM) and process_vm_readv/writev
 * between a parent and its child: scattered vectors, partial transfers at
 * an unmapped or read-only page, the errors, and the ptrace access rule. */
#include "ward_test.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define KCMP_FILE 0
#define KCMP_VM 1
#define KCMP_FILES 2
#define KCMP_FS 3
#define KCMP_SIGHAND 4
#define KCMP_SYSVSEM 6
#define KCMP_EPOLL_TFD 7

struct kcmp_epoll_slot {
	uint32_t efd, tfd, toff;
};

static long kcmp(pid_t a, pid_t b, int type, unsigned long i1, unsigned long i2)
{
	return syscall(SYS_kcmp, a, b, type, i1, i2);
}

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

static char page_buf[3 * 4096] __attribute__((aligned(4096)));

static void test_kcmp(void)
{
	pid_t me = getpid();
	int fd = CHECK_OK(open("/dev/null", O_RDONLY));
	int dup_fd = CHECK_OK(dup(fd));
	int other = CHECK_OK(open("/dev/null", O_RDONLY));
	CHECK_EQ(kcmp(me, me, KCMP_FILE, fd, dup_fd), 0);
	long r = kcmp(me, me, KCMP_FILE, fd, other);
	CHECK(r == 1 || r == 2);
	CHECK_EQ(kcmp(me, me, KCMP_FILE, other, fd), 3 - r);
	CHECK_ERRNO(kcmp(me, me, KCMP_FILE, fd, 999), EBADF);
	CHECK_EQ(kcmp(me, me, KCMP_VM, 0, 0), 0);
	CHECK_ERRNO(kcmp(me, 999999, KCMP_VM, 0, 0), ESRCH);
	CHECK_ERRNO(kcmp(me, me, 99, 0, 0), EINVAL);

	int ep = CHECK_OK(epoll_create1(0));
	struct epoll_event ev = { .events = EPOLLIN };
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	struct kcmp_epoll_slot slot = { (uint32_t)ep, (uint32_t)p[0], 0 };
	CHECK_EQ(kcmp(me, me, KCMP_EPOLL_TFD, p[0], (unsigned long)&slot), 0);
	r = kcmp(me, me, KCMP_EPOLL_TFD, p[1], (unsigned long)&slot);
	CHECK(r == 1 || r == 2);
	slot.toff = 1;
	CHECK_ERRNO(kcmp(me, me, KCMP_EPOLL_TFD, p[0], (unsigned long)&slot), ENOENT);
	slot.efd = (uint32_t)fd;
	slot.toff = 0;
	CHECK_ERRNO(kcmp(me, me, KCMP_EPOLL_TFD, p[0], (unsigned long)&slot), EINVAL);
	CHECK_ERRNO(kcmp(me, me, KCMP_EPOLL_TFD, p[0], 8), EFAULT);

	/* A forked child: its own table, memory, fs and handlers, but the
	 * same open files. */
	int go[2];
	CHECK_OK(pipe(go));
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(go[1]);
		CHECK_EQ(read(go[0], &c, 1), 0);
		child_done();
	}
	CHECK_EQ(kcmp(me, pid, KCMP_FILE, fd, fd), 0);
	CHECK(kcmp(me, pid, KCMP_FILES, 0, 0) > 0);
	CHECK(kcmp(me, pid, KCMP_VM, 0, 0) > 0);
	CHECK(kcmp(me, pid, KCMP_FS, 0, 0) > 0);
	CHECK(kcmp(me, pid, KCMP_SIGHAND, 0, 0) > 0);
	CHECK_EQ(kcmp(me, pid, KCMP_SYSVSEM, 0, 0), 0); /* neither has an undo list */
	if (geteuid() == 0) {
		pid_t q = fork();
		if (q == 0) {
			CHECK_OK(setuid(65534));
			CHECK_ERRNO(kcmp(me, pid, KCMP_VM, 0, 0), EPERM);
			CHECK_EQ(kcmp(getpid(), getpid(), KCMP_VM, 0, 0), 0);
			child_done();
		}
		reap_ok(q);
	}
	close(go[1]);
	reap_ok(pid);
	close(go[0]);
	close(ep);
	close(p[0]);
	close(p[1]);
	close(fd);
	close(dup_fd);
	close(other);
}

static void test_vm(void)
{
	/* The child keeps page_buf: "hello" at 0, "world" one page up, and
	 * the third page read-only. */
	memset(page_buf, 0, sizeof(page_buf));
	strcpy(page_buf, "hello");
	strcpy(page_buf + 4096, "world");
	char *unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(unmapped, 4096);
	int go[2], ready[2];
	CHECK_OK(pipe(go));
	CHECK_OK(pipe(ready));
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(go[1]);
		CHECK_OK(mprotect(page_buf + 2 * 4096, 4096, PROT_READ));
		CHECK_EQ(write(ready[1], "r", 1), 1);
		CHECK_EQ(read(go[0], &c, 1), 0);
		CHECK_STREQ(page_buf, "HELLO");
		CHECK_STREQ(page_buf + 4096, "world");
		child_done();
	}
	close(go[0]);
	char c;
	CHECK_EQ(read(ready[0], &c, 1), 1);
	memset(page_buf, 0, 16);

	char a[3] = { 0 }, b[16] = { 0 };
	struct iovec local[2] = { { a, 2 }, { b, 8 } };
	struct iovec remote[2] = { { page_buf, 5 }, { page_buf + 4096, 5 } };
	CHECK_EQ(process_vm_readv(pid, local, 2, remote, 2, 0), 10);
	CHECK(memcmp(a, "he", 2) == 0);
	CHECK(memcmp(b, "lloworld", 8) == 0);
	/* Partial: the read stops at an unmapped remote page. */
	struct iovec r2[2] = { { page_buf, 3 }, { unmapped, 10 } };
	struct iovec l1 = { b, 16 };
	CHECK_EQ(process_vm_readv(pid, &l1, 1, r2, 2, 0), 3);
	struct iovec bad = { unmapped, 10 };
	CHECK_ERRNO(process_vm_readv(pid, &l1, 1, &bad, 1, 0), EFAULT);
	/* A fault on our side too. */
	struct iovec lbad = { unmapped, 4 };
	CHECK_ERRNO(process_vm_readv(pid, &lbad, 1, remote, 1, 0), EFAULT);
	/* Nothing to move. */
	struct iovec empty = { b, 0 };
	CHECK_EQ(process_vm_readv(pid, &empty, 1, remote, 1, 0), 0);
	CHECK_EQ(process_vm_readv(pid, &l1, 1, &empty, 1, 0), 0);
	CHECK_ERRNO(process_vm_readv(pid, &l1, 1, remote, 1, 1), EINVAL);
	CHECK_ERRNO(process_vm_readv(999999, &l1, 1, remote, 1, 0), ESRCH);
	CHECK_ERRNO(process_vm_readv(pid, &l1, 1, remote, 1025, 0), EINVAL);
	CHECK_ERRNO(process_vm_readv(pid, &l1, 1, (struct iovec *)8, 1, 0), EFAULT);

	/* Writes: a read-only remote page stops them. */
	struct iovec w = { (void *)"HELLO", 6 };
	struct iovec rw = { page_buf, 6 };
	CHECK_EQ(process_vm_writev(pid, &w, 1, &rw, 1, 0), 6);
	struct iovec ro = { page_buf + 2 * 4096, 6 };
	CHECK_ERRNO(process_vm_writev(pid, &w, 1, &ro, 1, 0), EFAULT);

	if (geteuid() == 0) {
		pid_t q = fork();
		if (q == 0) {
			CHECK_OK(setuid(65534));
			CHECK_ERRNO(process_vm_readv(pid, &l1, 1, remote, 1, 0), EPERM);
			child_done();
		}
		reap_ok(q);
	}
	close(go[1]);
	reap_ok(pid);
	close(ready[0]);
	close(ready[1]);
}

int main(void)
{
	test_kcmp();
	test_vm();
	return test_done();
}
