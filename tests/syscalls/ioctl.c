/* ioctl on regular files and /dev/null: terminal requests are ENOTTY,
 * FIONREAD reports the bytes left, FIOCLEX/FIONCLEX set FD_CLOEXEC. */
#include "ward_test.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>

int main(void)
{
	struct termios t;
	struct winsize ws;
	struct stat st;
	int fd = CHECK_OK(open("/etc/os-release", O_RDONLY));
	CHECK_OK(fstat(fd, &st));

	/* Not a terminal. */
	CHECK_ERRNO(ioctl(fd, TCGETS, &t), ENOTTY);
	CHECK_ERRNO(ioctl(fd, TIOCGWINSZ, &ws), ENOTTY);
	CHECK_ERRNO(ioctl(fd, TIOCGPGRP, &(int){ 0 }), ENOTTY);
	CHECK(!isatty(fd));
	CHECK_EQ(errno, ENOTTY);
	/* A request no one knows. */
	CHECK_ERRNO(ioctl(fd, 0x12345678, 0), ENOTTY);

	/* FIONREAD: the bytes between the offset and the end. */
	int n = -1;
	CHECK_OK(ioctl(fd, FIONREAD, &n));
	CHECK_EQ(n, st.st_size);
	CHECK_EQ(lseek(fd, 10, SEEK_SET), 10);
	CHECK_OK(ioctl(fd, FIONREAD, &n));
	CHECK_EQ(n, st.st_size - 10);
	CHECK_ERRNO(ioctl(fd, FIONREAD, (int *)1), EFAULT);

	/* FIOCLEX/FIONCLEX. */
	CHECK_OK(ioctl(fd, FIOCLEX));
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	CHECK_OK(ioctl(fd, FIONCLEX));
	CHECK_EQ(fcntl(fd, F_GETFD), 0);
	CHECK_OK(close(fd));

	/* Bad descriptors, including an O_PATH one. */
	CHECK_ERRNO(ioctl(fd, TCGETS, &t), EBADF);
	CHECK_ERRNO(ioctl(-1, FIONREAD, &n), EBADF);
	fd = CHECK_OK(open("/etc/os-release", O_PATH));
	CHECK_ERRNO(ioctl(fd, FIONREAD, &n), EBADF);
	close(fd);

	/* /dev/null is not a terminal either. */
	fd = CHECK_OK(open("/dev/null", O_RDWR));
	CHECK_ERRNO(ioctl(fd, TCGETS, &t), ENOTTY);
	close(fd);
	return test_done();
}
