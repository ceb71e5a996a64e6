/* readlink/readlinkat: the target without a NUL, truncation to the buffer,
 * and EINVAL for something that is not a link. */
#include "ward_test.h"

#include <fcntl.h>
#include <limits.h>
#include <libgen.h>

int main(void)
{
	char target[PATH_MAX], buf[PATH_MAX];
	const char *link = test_symlink(target, sizeof(target));
	if (!link)
		SKIP("no symbolic link found");
	size_t len = strlen(target);
	CHECK(len > 3);

	/* The target comes back whole and unterminated: the byte after it is
	 * untouched. */
	memset(buf, '#', sizeof(buf));
	CHECK_EQ(readlink(link, buf, sizeof(buf)), len);
	CHECK(memcmp(buf, target, len) == 0);
	CHECK_EQ(buf[len], '#');
	/* A short buffer truncates silently, still without a NUL. */
	memset(buf, '#', sizeof(buf));
	CHECK_EQ(readlink(link, buf, 3), 3);
	CHECK(memcmp(buf, target, 3) == 0);
	CHECK_EQ(buf[3], '#');

	/* readlinkat relative to the link's directory. */
	char dirbuf[PATH_MAX], basebuf[PATH_MAX];
	snprintf(dirbuf, sizeof(dirbuf), "%s", link);
	snprintf(basebuf, sizeof(basebuf), "%s", link);
	int dir = CHECK_OK(open(dirname(dirbuf), O_RDONLY | O_DIRECTORY));
	const char *base = basename(basebuf);
	CHECK_EQ(readlinkat(dir, base, buf, sizeof(buf)), len);
	CHECK(memcmp(buf, target, len) == 0);
	CHECK_EQ(readlinkat(AT_FDCWD, link, buf, sizeof(buf)), len);
	/* An O_PATH | O_NOFOLLOW descriptor of the link with an empty path. */
	int lfd = CHECK_OK(openat(dir, base, O_PATH | O_NOFOLLOW));
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(readlinkat(lfd, "", buf, sizeof(buf)), len);
	CHECK_STREQ(buf, target);
	close(lfd);
	CHECK_ERRNO(readlinkat(-42, base, buf, sizeof(buf)), EBADF);
	close(dir);

	/* Not a link: a file, a directory, an empty path. */
	CHECK_ERRNO(readlink("/etc/passwd", buf, sizeof(buf)), EINVAL);
	CHECK_ERRNO(readlink("/usr", buf, sizeof(buf)), EINVAL);
	CHECK_ERRNO(readlink("", buf, sizeof(buf)), ENOENT);
	CHECK_ERRNO(readlink("/nonexistent", buf, sizeof(buf)), ENOENT);
	CHECK_ERRNO(readlink("/etc/passwd/x", buf, sizeof(buf)), ENOTDIR);
	/* A zero or negative buffer size. */
	CHECK_ERRNO(syscall(SYS_readlink, link, buf, 0), EINVAL);
	CHECK_ERRNO(syscall(SYS_readlink, link, buf, -1), EINVAL);
	/* Bad pointers. */
	CHECK_ERRNO(syscall(SYS_readlink, link, (void *)1, sizeof(buf)), EFAULT);
	CHECK_ERRNO(syscall(SYS_readlink, (void *)1, buf, sizeof(buf)), EFAULT);
	return test_done();
}
