/* readahead and sync_file_range: accepted on regular files, and the
 * errors for descriptors and arguments they refuse. */
#include "ward_test.h"

#include <fcntl.h>

int main(void)
{
	char path[] = "/tmp/ward-readahead-XXXXXX";
	int fd = CHECK_OK(mkstemp(path));
	CHECK_EQ(write(fd, "data", 4), 4);
	int ro = CHECK_OK(open(path, O_RDONLY));
	int wo = CHECK_OK(open(path, O_WRONLY));
	int pa = CHECK_OK(open(path, O_PATH));
	int dir = CHECK_OK(open("/tmp", O_RDONLY | O_DIRECTORY));
	int p[2];
	CHECK_OK(pipe(p));

	CHECK_OK(readahead(ro, 0, 4096));
	CHECK_OK(readahead(fd, 1 << 20, 0));
	CHECK_ERRNO(readahead(wo, 0, 4096), EBADF);
	CHECK_ERRNO(readahead(pa, 0, 4096), EBADF);
	CHECK_ERRNO(readahead(-1, 0, 4096), EBADF);
	CHECK_ERRNO(readahead(p[0], 0, 4096), EINVAL);
	CHECK_ERRNO(readahead(dir, 0, 4096), EINVAL);

	CHECK_OK(sync_file_range(fd, 0, 0, 0));
	CHECK_OK(sync_file_range(fd, 0, 4, 7));
	CHECK_OK(sync_file_range(ro, 4096, 100, SYNC_FILE_RANGE_WRITE));
	CHECK_OK(sync_file_range(dir, 0, 0, SYNC_FILE_RANGE_WRITE));
	CHECK_ERRNO(sync_file_range(fd, 0, 0, 8), EINVAL);
	CHECK_ERRNO(sync_file_range(fd, -1, 0, 0), EINVAL);
	CHECK_ERRNO(sync_file_range(fd, 0, -2, 0), EINVAL);
	CHECK_ERRNO(sync_file_range(fd, 0x7fffffffffffffffLL, 1, 0), EINVAL);
	CHECK_ERRNO(sync_file_range(p[1], 0, 0, 0), ESPIPE);
	CHECK_ERRNO(sync_file_range(-1, 0, 0, 0), EBADF);
	CHECK_ERRNO(sync_file_range(pa, 0, 0, 0), EBADF);

	unlink(path);
	return test_done();
}
