/* getcwd/chdir/fchdir: the working directory follows chdir, relative paths
 * resolve against it, and the errors, including ERANGE for a small buffer. */
#include "ward_test.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

int main(void)
{
	char buf[PATH_MAX];

	CHECK_OK(chdir("/usr"));
	CHECK(getcwd(buf, sizeof(buf)) == buf);
	CHECK_STREQ(buf, "/usr");
	/* Relative paths resolve against it. */
	struct stat a, b;
	CHECK_OK(stat("include/stdio.h", &a));
	CHECK_OK(stat("/usr/include/stdio.h", &b));
	CHECK_EQ(a.st_ino, b.st_ino);
	CHECK_OK(chdir("include/../bin/."));
	CHECK_STREQ(getcwd(buf, sizeof(buf)), "/usr/bin");
	CHECK_OK(chdir(".."));
	CHECK_STREQ(getcwd(buf, sizeof(buf)), "/usr");
	CHECK_OK(chdir("/"));
	CHECK_OK(chdir(".."));
	CHECK_STREQ(getcwd(buf, sizeof(buf)), "/");
	/* The kernel's own result: the length including the NUL. */
	CHECK_OK(chdir("/usr/include"));
	CHECK_EQ(syscall(SYS_getcwd, buf, sizeof(buf)), sizeof("/usr/include"));
	CHECK_STREQ(buf, "/usr/include");

	/* ERANGE when the path and its NUL do not fit, including exactly one
	 * byte short. */
	errno = 0;
	CHECK(getcwd(buf, 3) == NULL);
	CHECK_EQ(errno, ERANGE);
	CHECK_ERRNO(syscall(SYS_getcwd, buf, sizeof("/usr/include") - 1), ERANGE);
	CHECK_EQ(syscall(SYS_getcwd, buf, sizeof("/usr/include")), sizeof("/usr/include"));
	CHECK_ERRNO(syscall(SYS_getcwd, buf, 0), ERANGE);
	/* glibc turns a zero size with a buffer into EINVAL itself. */
	errno = 0;
	CHECK(getcwd(buf, 0) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK_ERRNO(syscall(SYS_getcwd, (void *)1, sizeof(buf)), EFAULT);

	/* chdir errors leave the directory alone. */
	CHECK_ERRNO(chdir("/nonexistent"), ENOENT);
	CHECK_ERRNO(chdir(""), ENOENT);
	CHECK_ERRNO(chdir("/etc/passwd"), ENOTDIR);
	CHECK_ERRNO(chdir("/etc/passwd/x"), ENOTDIR);
	CHECK_ERRNO(syscall(SYS_chdir, (char *)1), EFAULT);
	CHECK_STREQ(getcwd(buf, sizeof(buf)), "/usr/include");

	/* fchdir to a directory descriptor, plain or O_PATH. */
	int fd = CHECK_OK(open("/etc", O_RDONLY | O_DIRECTORY));
	CHECK_OK(fchdir(fd));
	CHECK_STREQ(getcwd(buf, sizeof(buf)), "/etc");
	close(fd);
	fd = CHECK_OK(open("/usr", O_PATH));
	CHECK_OK(fchdir(fd));
	CHECK_STREQ(getcwd(buf, sizeof(buf)), "/usr");
	close(fd);
	fd = CHECK_OK(open("/etc/passwd", O_RDONLY));
	CHECK_ERRNO(fchdir(fd), ENOTDIR);
	close(fd);
	CHECK_ERRNO(fchdir(fd), EBADF);
	CHECK_ERRNO(fchdir(-1), EBADF);
	CHECK_STREQ(getcwd(buf, sizeof(buf)), "/usr");
	return test_done();
}
