/* sysinfo and fadvise64: what programs sizing their buffers ask. */
#include "ward_test.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

int main(void)
{
	struct sysinfo si;
	CHECK_OK(sysinfo(&si));
	CHECK(si.totalram > 0);
	CHECK(si.mem_unit >= 1);
	CHECK(si.freeram <= si.totalram);
	CHECK(si.procs >= 1);
	CHECK_ERRNO(syscall(SYS_sysinfo, (void *)1), EFAULT);

	int fd = CHECK_OK(open("/etc/os-release", O_RDONLY));
	CHECK_EQ(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL), 0);
	CHECK_EQ(posix_fadvise(fd, 0, 4096, POSIX_FADV_DONTNEED), 0);
	CHECK_EQ(posix_fadvise(fd, 0, 0, 12345), EINVAL);
	CHECK_EQ(posix_fadvise(fd, 0, -1, POSIX_FADV_NORMAL), EINVAL);
	close(fd);
	CHECK_EQ(posix_fadvise(fd, 0, 0, POSIX_FADV_NORMAL), EBADF);
	return test_done();
}
