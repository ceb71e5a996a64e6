/* dup/dup2/dup3: which descriptor comes back, shared offsets, FD_CLOEXEC,
 * replacing an open descriptor, and the errors. */
#include "ward_test.h"

#include <fcntl.h>
#include <sys/resource.h>

int main(void)
{
	int fd = CHECK_OK(open("/etc/passwd", O_RDONLY | O_CLOEXEC));

	/* dup: the lowest free descriptor, FD_CLOEXEC clear, same file. */
	int d = CHECK_OK(dup(fd));
	CHECK_EQ(d, fd + 1);
	CHECK_EQ(fcntl(d, F_GETFD), 0);
	CHECK_EQ(lseek(fd, 11, SEEK_SET), 11);
	CHECK_EQ(lseek(d, 0, SEEK_CUR), 11);
	/* Closing one leaves the other usable. */
	CHECK_OK(close(fd));
	char c;
	CHECK_EQ(read(d, &c, 1), 1);
	CHECK_EQ(lseek(d, 0, SEEK_CUR), 12);
	fd = d;

	/* dup2 onto a free descriptor, then onto an open one (which it closes
	 * first, silently). */
	CHECK_EQ(dup2(fd, 50), 50);
	CHECK_EQ(lseek(50, 0, SEEK_CUR), 12);
	int null = CHECK_OK(open("/dev/null", O_RDONLY));
	CHECK_EQ(dup2(fd, null), null);
	CHECK_EQ(lseek(null, 0, SEEK_CUR), 12); /* now the passwd file */
	close(null);
	/* dup2 of a descriptor onto itself is a no-op that returns it, even
	 * with FD_CLOEXEC set, which it leaves alone. */
	CHECK_OK(fcntl(50, F_SETFD, FD_CLOEXEC));
	CHECK_EQ(dup2(50, 50), 50);
	CHECK_EQ(fcntl(50, F_GETFD), FD_CLOEXEC);
	/* dup2 clears FD_CLOEXEC on the new descriptor. */
	CHECK_EQ(dup2(fd, 50), 50);
	CHECK_EQ(fcntl(50, F_GETFD), 0);

	/* dup3 sets FD_CLOEXEC on request. */
	CHECK_EQ(dup3(fd, 51, O_CLOEXEC), 51);
	CHECK_EQ(fcntl(51, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(dup3(fd, 51, 0), 51);
	CHECK_EQ(fcntl(51, F_GETFD), 0);
	/* dup3 of a descriptor onto itself is EINVAL (unlike dup2). */
	CHECK_ERRNO(dup3(fd, fd, 0), EINVAL);
	CHECK_ERRNO(dup3(fd, fd, O_CLOEXEC), EINVAL);
	/* Flags other than O_CLOEXEC. */
	CHECK_ERRNO(dup3(fd, 52, O_NONBLOCK), EINVAL);
	CHECK_ERRNO(fcntl(52, F_GETFD), EBADF); /* and nothing was made */

	/* Bad old descriptors. */
	CHECK_ERRNO(dup(-1), EBADF);
	CHECK_ERRNO(dup(9999), EBADF);
	CHECK_ERRNO(dup2(9999, 53), EBADF);
	CHECK_ERRNO(dup2(9999, 9999), EBADF); /* same fd, but not open */
	CHECK_ERRNO(dup3(9999, 53, 0), EBADF);
	/* Bad new descriptors: negative or beyond RLIMIT_NOFILE. */
	struct rlimit rl;
	CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
	CHECK_ERRNO(dup2(fd, -1), EBADF);
	CHECK_ERRNO(dup2(fd, (int)rl.rlim_cur), EBADF);
	CHECK_ERRNO(dup3(fd, (int)rl.rlim_cur, 0), EBADF);
	/* The highest allowed descriptor works. */
	CHECK_EQ(dup2(fd, (int)rl.rlim_cur - 1), (int)rl.rlim_cur - 1);
	CHECK_OK(close((int)rl.rlim_cur - 1));

	/* A full table: lower the limit to just above what is open. */
	struct rlimit low = { 60, rl.rlim_max };
	CHECK_OK(setrlimit(RLIMIT_NOFILE, &low));
	int last = -1, n;
	while ((n = dup(fd)) >= 0)
		last = n;
	CHECK_EQ(errno, EMFILE);
	CHECK_EQ(last, 59);
	CHECK_ERRNO(open("/etc/passwd", O_RDONLY), EMFILE);
	for (int i = 3; i < 60; i++)
		if (i != fd)
			close(i);
	CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
	CHECK_OK(close(fd));
	return test_done();
}
