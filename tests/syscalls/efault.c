/* Bad user pointers: every call that reads or writes user memory fails
 * with EFAULT (never a crash) for each kind of bad address: a low unmapped
 * address, a page that was unmapped, a PROT_NONE page, a kernel address, a
 * non-canonical address; and writes into a read-only page. Raw system calls
 * throughout, so glibc neither touches the memory first nor fills in. */
#include "ward_test.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>

/* Addresses that are bad for any access, and last a read-only page, bad
 * only for the kernel to write into. */
#define NBAD 5
#define RO NBAD
static void *bad[NBAD + 1];
static const char *const bad_name[NBAD + 1] = {
	"(void *)1", "unmapped page", "PROT_NONE page", "kernel address", "non-canonical", "read-only page",
};

/* Checks that one raw call fails with EFAULT for the bad address i. */
#define EFAULT_FOR(i, call)                                                                     \
	do {                                                                                    \
		errno = 0;                                                                      \
		long _r = (call);                                                               \
		if (_r != -1 || errno != EFAULT)                                                \
			WARD_FAIL("%s with %s: returned %ld, errno %s", #call, bad_name[i], _r, \
				  strerrorname_np(errno) ? strerrorname_np(errno) : "0");       \
	} while (0)

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	/* Four pages: good, PROT_NONE, read-only, unmapped. */
	char *m = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		SKIP("mmap failed");
	char *none = m + page, *ro = m + 2 * page, *unmapped = m + 3 * page;
	CHECK_OK(munmap(unmapped, page));
	CHECK_OK(mprotect(none, page, PROT_NONE));
	CHECK_OK(mprotect(ro, page, PROT_READ));
	bad[0] = (void *)1;
	bad[1] = unmapped;
	bad[2] = none;
	bad[3] = (void *)0xffffffff81000000UL;
	bad[4] = (void *)0x8000000000000000UL;
	bad[RO] = ro;

	int fd = CHECK_OK(open("/etc/passwd", O_RDONLY));
	int dir = CHECK_OK(open("/usr", O_RDONLY | O_DIRECTORY));
	char buf[256];

	for (int i = 0; i < NBAD; i++) {
		void *b = bad[i];
		struct iovec iov = { b, 16 };

		/* Buffers the kernel writes. */
		EFAULT_FOR(i, syscall(SYS_read, fd, b, 16));
		EFAULT_FOR(i, syscall(SYS_pread64, fd, b, 16, 0));
		EFAULT_FOR(i, syscall(SYS_readv, fd, &iov, 1));
		EFAULT_FOR(i, syscall(SYS_readv, fd, b, 1));
		EFAULT_FOR(i, syscall(SYS_fstat, fd, b));
		EFAULT_FOR(i, syscall(SYS_newfstatat, AT_FDCWD, "/etc/passwd", b, 0));
		EFAULT_FOR(i, syscall(SYS_statx, AT_FDCWD, "/etc/passwd", 0, 0x7ff, b));
		EFAULT_FOR(i, syscall(SYS_getdents64, dir, b, 4096));
		EFAULT_FOR(i, syscall(SYS_readlink, "/lib64/ld-linux-x86-64.so.2", b, 64));
		EFAULT_FOR(i, syscall(SYS_getcwd, b, 256));
		EFAULT_FOR(i, syscall(SYS_uname, b));
		EFAULT_FOR(i, syscall(SYS_getrandom, b, 16, 0));
		EFAULT_FOR(i, syscall(SYS_clock_gettime, CLOCK_MONOTONIC, b));
		EFAULT_FOR(i, syscall(SYS_clock_getres, CLOCK_MONOTONIC, b));
		EFAULT_FOR(i, syscall(SYS_gettimeofday, b, NULL));
		EFAULT_FOR(i, syscall(SYS_time, b));
		EFAULT_FOR(i, syscall(SYS_getrlimit, RLIMIT_NOFILE, b));
		EFAULT_FOR(i, syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, b));
		EFAULT_FOR(i, syscall(SYS_sched_getaffinity, 0, 128, b));
		EFAULT_FOR(i, syscall(SYS_rt_sigaction, SIGUSR1, NULL, b, 8));
		EFAULT_FOR(i, syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, b, 8));
		EFAULT_FOR(i, syscall(SYS_rt_sigpending, b, 8));
		EFAULT_FOR(i, syscall(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, b));
		EFAULT_FOR(i, syscall(SYS_getresuid, b, buf, buf + 8));
		EFAULT_FOR(i, syscall(SYS_ioctl, fd, 0x541B /* FIONREAD */, b));

		/* Buffers and strings the kernel reads. */
		EFAULT_FOR(i, syscall(SYS_openat, AT_FDCWD, b, O_RDONLY));
		EFAULT_FOR(i, syscall(SYS_open, b, O_RDONLY));
		EFAULT_FOR(i, syscall(SYS_stat, b, buf));
		EFAULT_FOR(i, syscall(SYS_lstat, b, buf));
		EFAULT_FOR(i, syscall(SYS_newfstatat, AT_FDCWD, b, buf, 0));
		EFAULT_FOR(i, syscall(SYS_access, b, F_OK));
		EFAULT_FOR(i, syscall(SYS_faccessat, AT_FDCWD, b, F_OK));
		EFAULT_FOR(i, syscall(SYS_readlink, b, buf, sizeof(buf)));
		EFAULT_FOR(i, syscall(SYS_chdir, b));
		EFAULT_FOR(i, syscall(SYS_writev, 2, b, 1));
		EFAULT_FOR(i, syscall(SYS_write, 2, b, 16));
		EFAULT_FOR(i, syscall(SYS_nanosleep, b, NULL));
		EFAULT_FOR(i, syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, b, NULL));
		EFAULT_FOR(i, syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, b, NULL));
		EFAULT_FOR(i, syscall(SYS_setrlimit, RLIMIT_NOFILE, b));
		EFAULT_FOR(i, syscall(SYS_rt_sigaction, SIGUSR1, b, NULL, 8));
		EFAULT_FOR(i, syscall(SYS_rt_sigprocmask, SIG_BLOCK, b, NULL, 8));
		EFAULT_FOR(i, syscall(SYS_sched_setaffinity, 0, 128, b));
	}

	/* A read-only page is fine to read from but not to write into. */
	EFAULT_FOR(RO, syscall(SYS_read, fd, ro, 16));
	EFAULT_FOR(RO, syscall(SYS_getrandom, ro, 16, 0));
	EFAULT_FOR(RO, syscall(SYS_clock_gettime, CLOCK_MONOTONIC, ro));
	EFAULT_FOR(RO, syscall(SYS_uname, ro));
	EFAULT_FOR(RO, syscall(SYS_fstat, fd, ro));
	CHECK_ERRNO(syscall(SYS_openat, AT_FDCWD, ro, O_RDONLY), ENOENT); /* "" */

	/* A path string that runs into a PROT_NONE page. */
	memset(none - 8, 'a', 8);
	CHECK_ERRNO(syscall(SYS_openat, AT_FDCWD, none - 8, O_RDONLY), EFAULT);

	/* A read that crosses from good memory into bad stops at the boundary:
	 * the bytes before it are delivered and counted, no error. */
	char *good = none - 8;
	long n = syscall(SYS_read, fd, good, 64);
	CHECK(n > 0 && n <= 8);
	if (n > 0) {
		char want[8];
		CHECK_EQ(pread(fd, want, n, 0), n);
		CHECK(memcmp(good, want, n) == 0);
	}

	/* /dev/null never touches the buffer: a bad one is not an error. */
	int null = CHECK_OK(open("/dev/null", O_RDWR));
	CHECK_EQ(syscall(SYS_write, null, (void *)1, 16), 16);
	CHECK_EQ(syscall(SYS_read, null, (void *)1, 16), 0);
	close(null);
	/* Nor does a zero-length transfer. */
	CHECK_EQ(syscall(SYS_read, fd, (void *)1, 0), 0);

	close(dir);
	close(fd);
	return test_done();
}
