/* Extended attributes, reading side: a missing attribute is ENODATA, bad
 * names are ERANGE, bad paths fail as path lookups do, bad fds are EBADF. */
#include "ward_test.h"

#include <fcntl.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

int main(void)
{
	char buf[256];
	char longname[300];

	CHECK_ERRNO(getxattr("/etc/os-release", "user.ward.absent", buf, sizeof(buf)), ENODATA);
	CHECK_ERRNO(lgetxattr("/etc/os-release", "user.ward.absent", buf, sizeof(buf)), ENODATA);
	CHECK_ERRNO(getxattr("/etc/os-release", "user.ward.absent", NULL, 0), ENODATA);
	CHECK_ERRNO(getxattr("/nonexistent/file", "user.x", buf, sizeof(buf)), ENOENT);
	CHECK_ERRNO(getxattr("/etc/os-release/x", "user.x", buf, sizeof(buf)), ENOTDIR);
	CHECK_ERRNO(getxattr("/etc/os-release", "", buf, sizeof(buf)), ERANGE);
	memset(longname, 'a', sizeof(longname) - 1);
	memcpy(longname, "user.", 5);
	longname[sizeof(longname) - 1] = 0;
	CHECK_ERRNO(getxattr("/etc/os-release", longname, buf, sizeof(buf)), ERANGE);
	CHECK_ERRNO(getxattr((const char *)1, "user.x", buf, sizeof(buf)), EFAULT);

	int fd = CHECK_OK(open("/etc/os-release", O_RDONLY));
	CHECK_ERRNO(fgetxattr(fd, "user.ward.absent", buf, sizeof(buf)), ENODATA);
	CHECK_OK(flistxattr(fd, buf, sizeof(buf)));
	close(fd);
	CHECK_ERRNO(fgetxattr(-1, "user.x", buf, sizeof(buf)), EBADF);
	CHECK_ERRNO(flistxattr(12345, buf, sizeof(buf)), EBADF);
	CHECK_ERRNO(listxattr("/nonexistent/file", buf, sizeof(buf)), ENOENT);
	CHECK_OK(llistxattr("/etc/os-release", buf, sizeof(buf)));
	return test_done();
}
