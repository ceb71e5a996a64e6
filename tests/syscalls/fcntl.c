/* fcntl basics: descriptor flags (FD_CLOEXEC), file status flags, the
 * F_DUPFD family, and the errors. */
#include "ward_test.h"

#include <fcntl.h>
#include <sys/resource.h>

/* x86-64 Linux forces O_LARGEFILE on every open file and F_GETFL reports
 * it, although glibc's O_LARGEFILE is 0 there; this is the kernel's value. */
#define KERNEL_O_LARGEFILE 0100000

int main(void)
{
	int fd = CHECK_OK(open("/etc/passwd", O_RDONLY));

	/* F_GETFD/F_SETFD. */
	CHECK_EQ(fcntl(fd, F_GETFD), 0);
	CHECK_OK(fcntl(fd, F_SETFD, FD_CLOEXEC));
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	/* Only FD_CLOEXEC is kept. */
	CHECK_OK(fcntl(fd, F_SETFD, 0xff));
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	CHECK_OK(fcntl(fd, F_SETFD, 0));
	CHECK_EQ(fcntl(fd, F_GETFD), 0);

	/* F_GETFL: the access mode, plus the forced O_LARGEFILE. */
	int fl = CHECK_OK(fcntl(fd, F_GETFL));
	CHECK_EQ(fl & O_ACCMODE, O_RDONLY);
	CHECK_EQ(fl & ~O_ACCMODE, KERNEL_O_LARGEFILE);
	int null = CHECK_OK(open("/dev/null", O_WRONLY | O_APPEND));
	fl = CHECK_OK(fcntl(null, F_GETFL));
	CHECK_EQ(fl & O_ACCMODE, O_WRONLY);
	CHECK(fl & O_APPEND);
	close(null);
	/* O_CLOEXEC is a descriptor flag, not a status flag. */
	null = CHECK_OK(open("/dev/null", O_RDWR | O_CLOEXEC));
	CHECK_EQ(fcntl(null, F_GETFL) & (O_ACCMODE | O_CLOEXEC), O_RDWR);
	close(null);
	/* F_SETFL changes O_NONBLOCK and O_APPEND but not the access mode. */
	CHECK_OK(fcntl(fd, F_SETFL, O_NONBLOCK | O_RDWR));
	fl = CHECK_OK(fcntl(fd, F_GETFL));
	CHECK_EQ(fl & O_ACCMODE, O_RDONLY);
	CHECK(fl & O_NONBLOCK);
	CHECK_OK(fcntl(fd, F_SETFL, 0));
	CHECK_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	/* An O_PATH descriptor reports O_PATH. */
	int path = CHECK_OK(open("/etc/passwd", O_PATH));
	CHECK(fcntl(path, F_GETFL) & O_PATH);
	close(path);

	/* F_DUPFD: the lowest free descriptor at or above the argument, with
	 * FD_CLOEXEC clear; F_DUPFD_CLOEXEC sets it. */
	CHECK_OK(fcntl(fd, F_SETFD, FD_CLOEXEC));
	int d = CHECK_OK(fcntl(fd, F_DUPFD, 100));
	CHECK_EQ(d, 100);
	CHECK_EQ(fcntl(d, F_GETFD), 0);
	CHECK_EQ(fcntl(fd, F_DUPFD, 100), 101);
	int e = CHECK_OK(fcntl(fd, F_DUPFD_CLOEXEC, 100));
	CHECK_EQ(e, 102);
	CHECK_EQ(fcntl(e, F_GETFD), FD_CLOEXEC);
	/* The duplicate shares the file offset. */
	CHECK_EQ(lseek(fd, 7, SEEK_SET), 7);
	CHECK_EQ(lseek(d, 0, SEEK_CUR), 7);
	close(100);
	close(101);
	close(102);
	/* F_DUPFD 0 gives the lowest free descriptor overall. */
	d = CHECK_OK(fcntl(fd, F_DUPFD, 0));
	CHECK_EQ(d, fd + 1);
	close(d);

	/* Errors. */
	struct rlimit rl;
	CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
	CHECK_ERRNO(fcntl(fd, F_DUPFD, -1), EINVAL);
	CHECK_ERRNO(fcntl(fd, F_DUPFD, (long)rl.rlim_cur), EINVAL);
	CHECK_ERRNO(fcntl(fd, F_DUPFD_CLOEXEC, (long)rl.rlim_cur), EINVAL);
	CHECK_ERRNO(fcntl(fd, 12345), EINVAL);
	CHECK_OK(close(fd));
	CHECK_ERRNO(fcntl(fd, F_GETFD), EBADF);
	CHECK_ERRNO(fcntl(fd, F_SETFD, 0), EBADF);
	CHECK_ERRNO(fcntl(fd, F_GETFL), EBADF);
	CHECK_ERRNO(fcntl(-1, F_DUPFD, 0), EBADF);
	return test_done();
}
