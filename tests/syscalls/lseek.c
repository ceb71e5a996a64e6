/* lseek: SEEK_SET/CUR/END on a regular file, seeking past the end, the
 * effect on read, and the errors. (ESPIPE on a pipe belongs to the pipe
 * tests.) */
#include "ward_test.h"

#include <fcntl.h>
#include <sys/stat.h>

int main(void)
{
	struct stat st;
	char all[64], c;
	int fd = CHECK_OK(open("/etc/passwd", O_RDONLY));
	CHECK_OK(fstat(fd, &st));
	off_t size = st.st_size;
	CHECK(size > 64);
	CHECK_EQ(pread(fd, all, sizeof(all), 0), sizeof(all));

	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0);
	CHECK_EQ(lseek(fd, 10, SEEK_SET), 10);
	CHECK_EQ(read(fd, &c, 1), 1);
	CHECK_EQ(c, all[10]);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 11);
	CHECK_EQ(lseek(fd, 5, SEEK_CUR), 16);
	CHECK_EQ(lseek(fd, -6, SEEK_CUR), 10);
	CHECK_EQ(lseek(fd, 0, SEEK_END), size);
	CHECK_EQ(lseek(fd, -1, SEEK_END), size - 1);
	CHECK_EQ(read(fd, &c, 1), 1);
	CHECK_EQ(c, '\n');

	/* Past the end is allowed; reading there returns end of file. */
	CHECK_EQ(lseek(fd, 1000, SEEK_END), size + 1000);
	CHECK_EQ(read(fd, &c, 1), 0);
	CHECK_EQ(lseek(fd, 1L << 40, SEEK_SET), 1L << 40);

	/* SEEK_DATA and SEEK_HOLE on a file without holes. */
	CHECK_EQ(lseek(fd, 0, SEEK_DATA), 0);
	CHECK_EQ(lseek(fd, 0, SEEK_HOLE), size);
	CHECK_ERRNO(lseek(fd, size, SEEK_DATA), ENXIO);

	/* A negative result is EINVAL and leaves the offset alone. */
	CHECK_EQ(lseek(fd, 20, SEEK_SET), 20);
	CHECK_ERRNO(lseek(fd, -1, SEEK_SET), EINVAL);
	CHECK_ERRNO(lseek(fd, -21, SEEK_CUR), EINVAL);
	CHECK_ERRNO(lseek(fd, -size - 1, SEEK_END), EINVAL);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 20);
	/* An unknown whence. */
	CHECK_ERRNO(lseek(fd, 0, 42), EINVAL);
	CHECK_OK(close(fd));
	CHECK_ERRNO(lseek(fd, 0, SEEK_SET), EBADF);
	CHECK_ERRNO(lseek(-1, 0, SEEK_SET), EBADF);

	/* /dev/null accepts any seek and stays at 0. */
	fd = CHECK_OK(open("/dev/null", O_RDONLY));
	CHECK_EQ(lseek(fd, 100, SEEK_SET), 0);
	close(fd);

	/* A directory can be rewound. */
	fd = CHECK_OK(open("/usr", O_RDONLY | O_DIRECTORY));
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	close(fd);
	return test_done();
}
