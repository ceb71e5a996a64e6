/* memfd_create and seals: flags and name rules, what fstat and
 * /proc/self/fd show, F_ADD_SEALS/F_GET_SEALS (SEAL, SHRINK, GROW, WRITE,
 * FUTURE_WRITE, EXEC and its implied write seals, EBUSY with a shared map,
 * EPERM, EINVAL), and a MAP_SHARED memfd shared with a child process. */
#include "ward_test.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x10
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x20
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x8U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x10U
#endif

static void test_create(void)
{
	int fd = CHECK_OK(memfd_create("ward", 0));
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_mode, S_IFREG | 0777);
	CHECK_EQ(st.st_nlink, 0);
	CHECK_EQ(st.st_size, 0);
	CHECK_EQ(st.st_uid, geteuid());
	CHECK_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	CHECK_EQ(fcntl(fd, F_GETFD), 0);
	char link[64], target[256];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	CHECK_EQ(n, (ssize_t)strlen("/memfd:ward (deleted)"));
	target[n > 0 ? n : 0] = 0;
	CHECK_STREQ(target, "/memfd:ward (deleted)");
	/* Without MFD_ALLOW_SEALING it is sealed shut. */
	CHECK_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_SEAL);
	CHECK_ERRNO(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	/* An ordinary file otherwise. */
	CHECK_EQ(write(fd, "hello", 5), 5);
	CHECK_OK(ftruncate(fd, 10000));
	char buf[8] = { 0 };
	CHECK_EQ(pread(fd, buf, 5, 0), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 10000);
	close(fd);

	fd = CHECK_OK(memfd_create("c", MFD_CLOEXEC));
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	close(fd);

	CHECK_ERRNO(memfd_create("x", 0x100), EINVAL);
	CHECK_ERRNO(memfd_create("x", MFD_EXEC | MFD_NOEXEC_SEAL), EINVAL);
	CHECK_ERRNO(memfd_create((const char *)1, 0), EFAULT);
	char name[300];
	memset(name, 'a', sizeof(name));
	name[249] = 0;
	fd = CHECK_OK(memfd_create(name, 0));
	close(fd);
	name[249] = 'a';
	name[250] = 0;
	CHECK_ERRNO(memfd_create(name, 0), EINVAL);

	/* MFD_NOEXEC_SEAL: no exec bits, and they stay off. */
	fd = CHECK_OK(memfd_create("nx", MFD_NOEXEC_SEAL));
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_mode, S_IFREG | 0666);
	CHECK_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_EXEC);
	CHECK_ERRNO(fchmod(fd, 0755), EPERM);
	CHECK_OK(fchmod(fd, 0600));
	close(fd);
	fd = CHECK_OK(memfd_create("x", MFD_EXEC));
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_mode, S_IFREG | 0777);
	close(fd);
}

static void test_seals(void)
{
	int fd = CHECK_OK(memfd_create("seals", MFD_ALLOW_SEALING));
	CHECK_EQ(fcntl(fd, F_GET_SEALS), 0);
	CHECK_OK(ftruncate(fd, 8192));
	CHECK_ERRNO(fcntl(fd, F_ADD_SEALS, 0x40), EINVAL);

	CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
	CHECK_ERRNO(ftruncate(fd, 4096), EPERM);
	CHECK_OK(ftruncate(fd, 12288));
	CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
	CHECK_ERRNO(ftruncate(fd, 16384), EPERM);
	CHECK_OK(ftruncate(fd, 12288));
	CHECK_ERRNO(pwrite(fd, "x", 1, 12288), EPERM);
	/* A write across the end stops there. */
	CHECK_EQ(pwrite(fd, "abcdefgh", 8, 12284), 4);
	CHECK_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW);

	/* SEAL_WRITE is EBUSY while a shared map exists. */
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_ERRNO(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
	CHECK_OK(munmap(p, 4096));
	CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	CHECK_ERRNO(write(fd, "x", 1), EPERM);
	CHECK_ERRNO(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EPERM);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED);
	if (p != MAP_FAILED) {
		((char *)p)[0] = 'p'; /* a private copy */
		munmap(p, 4096);
	}
	char c = 0;
	CHECK_EQ(pread(fd, &c, 1, 0), 1);
	CHECK_EQ(c, 0);
	CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
	CHECK_ERRNO(fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC), EPERM);
	close(fd);

	/* FUTURE_WRITE: no new writers, but maps made before keep writing. */
	fd = CHECK_OK(memfd_create("future", MFD_ALLOW_SEALING));
	CHECK_OK(ftruncate(fd, 4096));
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	CHECK_ERRNO(write(fd, "x", 1), EPERM);
	CHECK_ERRNO(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EPERM);
	if (m != MAP_FAILED) {
		m[10] = 'f';
		CHECK_EQ(pread(fd, &c, 1, 10), 1);
		CHECK_EQ(c, 'f');
		munmap(m, 4096);
	}
	close(fd);

	/* SEAL_EXEC on an executable memfd brings the write seals along. */
	fd = CHECK_OK(memfd_create("exec", MFD_ALLOW_SEALING));
	CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC));
	CHECK_EQ(fcntl(fd, F_GET_SEALS),
		 F_SEAL_EXEC | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE);
	close(fd);

	/* Read-only descriptors cannot seal; files that are no tmpfs take
	 * none; tmpfs files are born sealed. */
	char path[64];
	snprintf(path, sizeof(path), "/dev/shm/ward-memfd-%d", (int)getpid());
	fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
	CHECK_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_SEAL);
	CHECK_ERRNO(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	close(fd);
	fd = CHECK_OK(open(path, O_RDONLY));
	CHECK_ERRNO(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	close(fd);
	unlink(path);
	snprintf(path, sizeof(path), "/var/tmp/ward-memfd-%d", (int)getpid());
	fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
	CHECK_ERRNO(fcntl(fd, F_GET_SEALS), EINVAL);
	CHECK_ERRNO(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EINVAL);
	close(fd);
	unlink(path);
	int pfd[2];
	CHECK_OK(pipe(pfd));
	CHECK_ERRNO(fcntl(pfd[0], F_GET_SEALS), EINVAL);
	close(pfd[0]);
	close(pfd[1]);
}

/* A shared map of a memfd is one memory for parent and child, and the
 * file's contents for read and write. */
static void test_shared_map(void)
{
	int fd = CHECK_OK(memfd_create("shared", 0));
	CHECK_OK(ftruncate(fd, 3 * 4096));
	char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	if (m == MAP_FAILED)
		return;
	CHECK_EQ(pwrite(fd, "written", 7, 4096), 7);
	CHECK(memcmp(m + 4096, "written", 7) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		memcpy(m + 100, "child", 5);
		/* A map of its own, made after the fork. */
		char *m2 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 8192);
		if (m2 != MAP_FAILED)
			memcpy(m2, "second", 6);
		_exit(m2 == MAP_FAILED);
	}
	int st = -1;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(st, 0);
	CHECK(memcmp(m + 100, "child", 5) == 0);
	CHECK(memcmp(m + 8192, "second", 6) == 0);
	char buf[8] = { 0 };
	CHECK_EQ(pread(fd, buf, 5, 100), 5);
	CHECK(memcmp(buf, "child", 5) == 0);
	CHECK_OK(munmap(m, 3 * 4096));
	CHECK_EQ(pread(fd, buf, 6, 8192), 6);
	CHECK(memcmp(buf, "second", 6) == 0);
	/* Truncation cuts what the maps hold too. */
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	CHECK_OK(ftruncate(fd, 50));
	CHECK_OK(ftruncate(fd, 4096));
	if (m != MAP_FAILED) {
		CHECK_EQ(m[100], 0);
		munmap(m, 4096);
	}
	close(fd);
}

int main(void)
{
	test_create();
	test_seals();
	test_shared_map();
	return test_done();
}
