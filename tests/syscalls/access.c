/* access/faccessat/faccessat2 for existence and readability, and the
 * errors. Tests run as root, so a denial is only tested where root is
 * denied too (X_OK on a file with no execute bit); W_OK is left out since
 * the root is read-only under ward (EROFS) but not natively. */
#include "ward_test.h"

#include <fcntl.h>

#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif

int main(void)
{
	CHECK_OK(access("/etc/passwd", F_OK));
	CHECK_OK(access("/etc/passwd", R_OK));
	CHECK_OK(access("/usr", R_OK | X_OK));
	CHECK_OK(access("/usr/bin/env", X_OK));
	CHECK_OK(access("/dev/null", R_OK));
	/* Even root needs one execute bit to execute a file. */
	CHECK_ERRNO(access("/etc/passwd", X_OK), EACCES);

	CHECK_ERRNO(access("/nonexistent", F_OK), ENOENT);
	CHECK_ERRNO(access("", F_OK), ENOENT);
	CHECK_ERRNO(access("/etc/passwd/x", F_OK), ENOTDIR);
	CHECK_ERRNO(access("/etc/passwd", 0x10), EINVAL);
	CHECK_ERRNO(syscall(SYS_access, (char *)1, F_OK), EFAULT);

	int dir = CHECK_OK(open("/etc", O_RDONLY | O_DIRECTORY));
	CHECK_OK(faccessat(dir, "passwd", R_OK, 0));
	CHECK_OK(faccessat(dir, "passwd", R_OK, AT_EACCESS));
	CHECK_OK(faccessat(AT_FDCWD, "/etc/passwd", F_OK, AT_SYMLINK_NOFOLLOW));
	CHECK_ERRNO(faccessat(-42, "passwd", F_OK, 0), EBADF);
	CHECK_ERRNO(faccessat(dir, "nonexistent", F_OK, 0), ENOENT);

	/* The raw faccessat has no flags argument; faccessat2 does, and
	 * rejects unknown ones. */
	CHECK_OK(syscall(SYS_faccessat, dir, "passwd", R_OK));
	CHECK_OK(syscall(SYS_faccessat2, dir, "passwd", R_OK, 0));
	CHECK_OK(syscall(SYS_faccessat2, dir, "passwd", R_OK, AT_EACCESS));
	CHECK_ERRNO(syscall(SYS_faccessat2, dir, "passwd", R_OK, 0x1), EINVAL);
	CHECK_ERRNO(syscall(SYS_faccessat2, dir, "passwd", 0x10, 0), EINVAL);
	/* AT_EMPTY_PATH: the descriptor itself. */
	int fd = CHECK_OK(openat(dir, "passwd", O_RDONLY));
	CHECK_OK(syscall(SYS_faccessat2, fd, "", R_OK, AT_EMPTY_PATH));
	CHECK_ERRNO(syscall(SYS_faccessat2, fd, "", R_OK, 0), ENOENT);
	close(fd);
	close(dir);

	/* A symlink: followed by default, its own answer with
	 * AT_SYMLINK_NOFOLLOW. */
	const char *link = test_symlink(NULL, 0);
	if (link) {
		CHECK_OK(access(link, R_OK));
		CHECK_OK(syscall(SYS_faccessat2, AT_FDCWD, link, F_OK, AT_SYMLINK_NOFOLLOW));
	}
	return test_done();
}
