/* mlock, mlock2, munlock, mlockall, munlockall against RLIMIT_MEMLOCK for a
 * privileged and an unprivileged caller; mincore's residency vector and its
 * errors; set_mempolicy, get_mempolicy and mbind on node 0. */
#include "ward_test.h"

#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define MPOL_DEFAULT 0
#define MPOL_PREFERRED 1
#define MPOL_BIND 2
#define MPOL_INTERLEAVE 3
#define MPOL_LOCAL 4
#define MPOL_F_STATIC_NODES (1 << 15)
#define MPOL_F_RELATIVE_NODES (1 << 14)
#define MPOL_F_NODE 1
#define MPOL_F_ADDR 2
#define MPOL_F_MEMS_ALLOWED 4

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

static long set_mempolicy_(int mode, const unsigned long *nodes, unsigned long maxnode)
{
	return syscall(SYS_set_mempolicy, mode, nodes, maxnode);
}

static long get_mempolicy_(int *mode, unsigned long *nodes, unsigned long maxnode, void *addr, unsigned long flags)
{
	return syscall(SYS_get_mempolicy, mode, nodes, maxnode, addr, flags);
}

static long mbind_(void *addr, unsigned long len, int mode, const unsigned long *nodes, unsigned long maxnode,
		   unsigned flags)
{
	return syscall(SYS_mbind, addr, len, mode, nodes, maxnode, flags);
}

static void test_mlock(void)
{
	long pg = 4096;
	char *p = mmap(NULL, 8 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK_OK(mlock(p + 10, pg)); /* rounded out to two pages */
	CHECK_OK(munlock(p, 2 * pg));
	CHECK_OK(syscall(SYS_mlock2, p, pg, 1 /* MLOCK_ONFAULT */));
	CHECK_ERRNO(syscall(SYS_mlock2, p, pg, 2), EINVAL);
	CHECK_OK(mlock(p, 0));
	CHECK_OK(munlock(p, 8 * pg));
	/* A hole is ENOMEM. */
	CHECK_OK(munmap(p + 4 * pg, pg));
	CHECK_ERRNO(mlock(p, 8 * pg), ENOMEM);
	CHECK_ERRNO(munlock(p, 8 * pg), ENOMEM);
	CHECK_ERRNO(mlockall(0), EINVAL);
	CHECK_ERRNO(mlockall(MCL_ONFAULT), EINVAL);
	CHECK_ERRNO(mlockall(8), EINVAL);
	CHECK_OK(munlockall());

	/* Unprivileged: the limit counts, locked pages once. */
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit rl = { 4 * 4096, 4 * 4096 };
		CHECK_OK(setrlimit(RLIMIT_MEMLOCK, &rl));
		CHECK_OK(setuid(65534));
		CHECK_OK(mlock(p, 3 * pg));
		CHECK_OK(mlock(p, 3 * pg)); /* already locked: still fits */
		CHECK_ERRNO(mlock(p + 3 * pg, pg * 1 + 1), ENOMEM);
		CHECK_OK(mlock(p + 3 * pg, pg));
		CHECK_OK(munlock(p, pg));
		CHECK_OK(mlock(p + 5 * pg, pg));
		CHECK_ERRNO(mlockall(MCL_CURRENT), ENOMEM);
		CHECK_OK(mlockall(MCL_FUTURE));
		CHECK_OK(munlockall());
		rl.rlim_cur = rl.rlim_max = 0;
		CHECK_OK(setrlimit(RLIMIT_MEMLOCK, &rl));
		CHECK_ERRNO(mlock(p, pg), EPERM);
		CHECK_ERRNO(mlockall(MCL_CURRENT), EPERM);
		CHECK_OK(munlock(p, pg));
		child_done();
	}
	reap_ok(pid);
	if (geteuid() == 0) {
		/* CAP_IPC_LOCK ignores the limit. */
		pid = fork();
		if (pid == 0) {
			struct rlimit rl = { 0, 0 };
			CHECK_OK(setrlimit(RLIMIT_MEMLOCK, &rl));
			CHECK_OK(mlock(p, 4 * pg));
			CHECK_OK(mlockall(MCL_CURRENT | MCL_FUTURE));
			CHECK_OK(munlockall());
			child_done();
		}
		reap_ok(pid);
	}
	munmap(p, 8 * pg);
}

static void test_mincore(void)
{
	long pg = 4096;
	unsigned char vec[8];
	char *p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	p[0] = 1;
	CHECK_OK(mincore(p, 4 * pg, vec));
	CHECK_EQ(vec[0] & 1, 1);
	CHECK_OK(mincore(p, 1, vec)); /* the length is rounded up */
	CHECK_ERRNO(mincore(p + 1, pg, vec), EINVAL);
	CHECK_ERRNO(mincore(p, 4 * pg, (unsigned char *)8), EFAULT);
	CHECK_OK(munmap(p + 2 * pg, pg));
	CHECK_ERRNO(mincore(p, 4 * pg, vec), ENOMEM);
	CHECK_OK(mincore(p, 0, vec));
	CHECK_ERRNO(mincore((void *)-4096L, pg, vec), ENOMEM);
	munmap(p, 4 * pg);
}

static void test_mempolicy(void)
{
	int mode = -1;
	unsigned long nodes = 0;
	CHECK_OK(get_mempolicy_(&mode, &nodes, 64, NULL, 0));
	CHECK_EQ(mode, MPOL_DEFAULT);
	CHECK_EQ(nodes, 0);
	CHECK_OK(get_mempolicy_(&mode, &nodes, 64, NULL, MPOL_F_MEMS_ALLOWED));
	CHECK_EQ(nodes, 1);
	CHECK_ERRNO(get_mempolicy_(&mode, &nodes, 0, NULL, 0), EINVAL);
	CHECK_ERRNO(get_mempolicy_(&mode, &nodes, 64, NULL, 8), EINVAL);
	CHECK_ERRNO(get_mempolicy_(&mode, &nodes, 64, NULL, MPOL_F_MEMS_ALLOWED | MPOL_F_NODE), EINVAL);
	CHECK_ERRNO(get_mempolicy_(&mode, &nodes, 64, (void *)4096, 0), EINVAL);
	CHECK_ERRNO(get_mempolicy_(&mode, &nodes, 64, NULL, MPOL_F_NODE), EINVAL);
	CHECK_ERRNO(get_mempolicy_(&mode, NULL, 0, (void *)4096, MPOL_F_ADDR), EFAULT);
	CHECK_OK(get_mempolicy_(&mode, NULL, 0, &mode, MPOL_F_ADDR | MPOL_F_NODE));
	CHECK_EQ(mode, 0);

	unsigned long one = 1, two = 2, both = 3;
	CHECK_OK(set_mempolicy_(MPOL_BIND, &one, 64));
	CHECK_OK(get_mempolicy_(&mode, &nodes, 64, NULL, 0));
	CHECK_EQ(mode, MPOL_BIND);
	CHECK_EQ(nodes, 1);
	CHECK_OK(set_mempolicy_(MPOL_INTERLEAVE, &both, 64));
	CHECK_OK(get_mempolicy_(&mode, &nodes, 64, NULL, 0));
	CHECK_EQ(mode, MPOL_INTERLEAVE);
	CHECK_EQ(nodes, 1);
	CHECK_OK(get_mempolicy_(&mode, NULL, 0, NULL, MPOL_F_NODE));
	CHECK_EQ(mode, 0);
	CHECK_ERRNO(set_mempolicy_(MPOL_BIND, &two, 64), EINVAL);
	CHECK_ERRNO(set_mempolicy_(MPOL_BIND, NULL, 0), EINVAL);
	CHECK_ERRNO(set_mempolicy_(MPOL_DEFAULT, &one, 64), EINVAL);
	CHECK_ERRNO(set_mempolicy_(MPOL_LOCAL, &one, 64), EINVAL);
	CHECK_ERRNO(set_mempolicy_(7 + 1, NULL, 0), EINVAL);
	CHECK_ERRNO(set_mempolicy_(MPOL_BIND | MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES, &one, 64), EINVAL);
	CHECK_ERRNO(set_mempolicy_(MPOL_BIND, (unsigned long *)8, 64), EFAULT);
	/* Bits past maxnode are ignored. */
	CHECK_ERRNO(set_mempolicy_(MPOL_BIND, &one, 1), EINVAL);
	CHECK_OK(set_mempolicy_(MPOL_PREFERRED, NULL, 0)); /* local */
	CHECK_OK(get_mempolicy_(&mode, &nodes, 64, NULL, 0));
	CHECK_EQ(mode, MPOL_LOCAL);
	CHECK_OK(set_mempolicy_(MPOL_PREFERRED | MPOL_F_STATIC_NODES, &both, 64));
	CHECK_OK(get_mempolicy_(&mode, &nodes, 64, NULL, 0));
	CHECK_EQ(mode, MPOL_PREFERRED | MPOL_F_STATIC_NODES);
	CHECK_EQ(nodes, 3);
	/* Inherited by a child. */
	pid_t pid = fork();
	if (pid == 0) {
		CHECK_OK(get_mempolicy_(&mode, NULL, 0, NULL, 0));
		CHECK_EQ(mode, MPOL_PREFERRED | MPOL_F_STATIC_NODES);
		child_done();
	}
	reap_ok(pid);
	CHECK_OK(set_mempolicy_(MPOL_DEFAULT, NULL, 0));
	CHECK_OK(get_mempolicy_(&mode, &nodes, 64, NULL, 0));
	CHECK_EQ(mode, MPOL_DEFAULT);

	char *p = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK_OK(mbind_(p, 4 * 4096, MPOL_BIND, &one, 64, 0));
	CHECK_OK(mbind_(p, 4 * 4096, MPOL_DEFAULT, NULL, 0, 1));
	CHECK_ERRNO(mbind_(p + 1, 4096, MPOL_BIND, &one, 64, 0), EINVAL);
	CHECK_ERRNO(mbind_(p, 4096, MPOL_BIND, &one, 64, 8), EINVAL);
	CHECK_ERRNO(mbind_(p, 4096, MPOL_BIND, &two, 64, 0), EINVAL);
	CHECK_OK(mbind_(p, 0, MPOL_BIND, &one, 64, 0));
	CHECK_OK(munmap(p + 2 * 4096, 4096));
	CHECK_ERRNO(mbind_(p, 4 * 4096, MPOL_BIND, &one, 64, 0), EFAULT);
	munmap(p, 4 * 4096);
}

int main(void)
{
	test_mlock();
	test_mincore();
	test_mempolicy();
	return test_done();
}
