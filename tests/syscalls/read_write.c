/* read/write/readv/writev/pread64/pwrite64 on a read-only file and
 * /dev/null: the data, the file offset, and the errno of each bad call. */
#include "ward_test.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/uio.h>

static const char path[] = "/etc/os-release";

int main(void)
{
	struct stat st;
	char all[8192], buf[8192], a[7], b[13];
	int fd = CHECK_OK(open(path, O_RDONLY));
	CHECK_OK(fstat(fd, &st));
	size_t size = st.st_size;
	CHECK(size > 20 && size < sizeof(all));

	/* read: the whole file, then end of file. */
	CHECK_EQ(read(fd, all, sizeof(all)), size);
	CHECK_EQ(read(fd, buf, sizeof(buf)), 0);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), size);
	/* A zero-length read returns 0 and does not need a valid buffer. */
	CHECK_EQ(read(fd, NULL, 0), 0);

	/* pread reads at an offset without moving the file offset. */
	CHECK_EQ(pread(fd, buf, 10, 5), 10);
	CHECK(memcmp(buf, all + 5, 10) == 0);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), size);
	CHECK_EQ(pread(fd, buf, 100, size - 3), 3);
	CHECK_EQ(pread(fd, buf, 100, size + 1000), 0);
	CHECK_ERRNO(pread(fd, buf, 10, -1), EINVAL);

	/* readv fills the buffers in order and moves the offset. */
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	struct iovec iov[3] = { { a, sizeof(a) }, { NULL, 0 }, { b, sizeof(b) } };
	CHECK_EQ(readv(fd, iov, 3), sizeof(a) + sizeof(b));
	CHECK(memcmp(a, all, sizeof(a)) == 0);
	CHECK(memcmp(b, all + sizeof(a), sizeof(b)) == 0);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), sizeof(a) + sizeof(b));
	/* preadv at an offset leaves the offset alone. */
	CHECK_EQ(preadv(fd, iov, 1, 2), sizeof(a));
	CHECK(memcmp(a, all + 2, sizeof(a)) == 0);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), sizeof(a) + sizeof(b));
	/* readv with no buffers. */
	CHECK_EQ(readv(fd, iov, 0), 0);

	/* Bad calls on a good descriptor. */
	CHECK_ERRNO(write(fd, "x", 1), EBADF); /* open read-only */
	CHECK_ERRNO(pwrite(fd, "x", 1, 0), EBADF);
	/* (Raw calls: glibc's readv is declared to read iovcnt entries, and
	 * the compiler rightly objects to these counts.) */
	CHECK_ERRNO(syscall(SYS_readv, fd, iov, -1), EINVAL);
	CHECK_ERRNO(syscall(SYS_readv, fd, iov, IOV_MAX + 1), EINVAL);
	/* A length that is negative as an ssize_t is EINVAL. */
	struct iovec huge[2] = { { buf, 1 }, { buf, (size_t)SSIZE_MAX + 1 } };
	CHECK_ERRNO(readv(fd, huge, 2), EINVAL);
	/* Lengths whose sum overflows ssize_t: the man page says EINVAL, but
	 * Linux checks each buffer's range first (access_ok), so it is EFAULT;
	 * totals past MAX_RW_COUNT are otherwise silently truncated. */
	huge[0].iov_len = SSIZE_MAX;
	huge[1].iov_len = SSIZE_MAX;
	CHECK_ERRNO(readv(fd, huge, 2), EFAULT);
	CHECK_OK(close(fd));

	/* Bad descriptors. */
	CHECK_ERRNO(read(fd, buf, 1), EBADF);
	CHECK_ERRNO(read(-1, buf, 1), EBADF);
	CHECK_ERRNO(write(9999, "x", 1), EBADF);
	CHECK_ERRNO(pread(-1, buf, 1, 0), EBADF);
	CHECK_ERRNO(readv(-1, iov, 1), EBADF);
	CHECK_ERRNO(writev(-1, iov, 1), EBADF);

	/* A directory cannot be read as a file. */
	fd = CHECK_OK(open("/usr", O_RDONLY | O_DIRECTORY));
	CHECK_ERRNO(read(fd, buf, sizeof(buf)), EISDIR);
	CHECK_ERRNO(pread(fd, buf, sizeof(buf), 0), EISDIR);
	close(fd);

	/* /dev/null swallows everything and reads as empty. */
	int null = CHECK_OK(open("/dev/null", O_RDWR));
	CHECK_EQ(write(null, all, size), size);
	CHECK_EQ(pwrite(null, all, size, 12345), size);
	struct iovec out[2] = { { all, 10 }, { all + 10, size - 10 } };
	CHECK_EQ(writev(null, out, 2), size);
	CHECK_EQ(pwritev(null, out, 2, 0), size);
	CHECK_EQ(read(null, buf, sizeof(buf)), 0);
	CHECK_EQ(pread(null, buf, sizeof(buf), 0), 0);
	close(null);
	/* A write-only descriptor cannot be read. */
	null = CHECK_OK(open("/dev/null", O_WRONLY));
	CHECK_ERRNO(read(null, buf, 1), EBADF);
	close(null);

	/* /dev/zero reads as zeroes. */
	int zero = CHECK_OK(open("/dev/zero", O_RDONLY));
	memset(buf, 1, 100);
	CHECK_EQ(read(zero, buf, 100), 100);
	CHECK_EQ(buf[0] + buf[99], 0);
	close(zero);

	/* A zero-length write to stderr succeeds and shows nothing. */
	CHECK_EQ(write(2, "", 0), 0);
	return test_done();
}
