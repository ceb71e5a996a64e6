/* open/openat/close: which descriptor comes back, the flags that change how
 * a path resolves (O_DIRECTORY, O_NOFOLLOW, O_PATH), the errno of every way
 * a path can be wrong, and close of bad descriptors. Nothing is created: the
 * root is read-only under ward. */
#include "ward_test.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

static void test_paths(void)
{
	char longname[NAME_MAX + 2], longpath[PATH_MAX + 1];

	CHECK_ERRNO(open("/nonexistent", O_RDONLY), ENOENT);
	CHECK_ERRNO(open("/usr/nonexistent/x", O_RDONLY), ENOENT);
	CHECK_ERRNO(open("", O_RDONLY), ENOENT);
	/* A regular file used as a directory. */
	CHECK_ERRNO(open("/etc/passwd/x", O_RDONLY), ENOTDIR);
	CHECK_ERRNO(open("/etc/passwd/", O_RDONLY), ENOTDIR);
	CHECK_ERRNO(open("/etc/passwd", O_RDONLY | O_DIRECTORY), ENOTDIR);
	/* A directory opened for writing. */
	CHECK_ERRNO(open("/usr", O_WRONLY), EISDIR);
	CHECK_ERRNO(open("/usr", O_RDWR), EISDIR);
	/* Exclusive creation of an existing file: EEXIST, nothing created. */
	CHECK_ERRNO(open("/etc/passwd", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);
	/* O_TMPFILE needs write access: EINVAL before the path matters. */
	CHECK_ERRNO(open("/usr", O_RDONLY | O_TMPFILE, 0600), EINVAL);

	/* A component longer than NAME_MAX. */
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_ERRNO(open(longname, O_RDONLY), ENAMETOOLONG);
	/* A whole path of PATH_MAX bytes or more (counting the NUL), even
	 * though each component is short. */
	for (size_t i = 0; i < PATH_MAX; i += 2)
		memcpy(longpath + i, "/.", 2);
	longpath[PATH_MAX] = '\0';
	CHECK_ERRNO(open(longpath, O_RDONLY), ENAMETOOLONG);
	/* One byte shorter, it resolves (to "/"). */
	longpath[PATH_MAX - 1] = '\0';
	int fd = CHECK_OK(open(longpath, O_RDONLY | O_DIRECTORY));
	close(fd);

	/* "." and ".." and repeated slashes resolve. */
	fd = CHECK_OK(open("//usr/./include/../include//stdio.h", O_RDONLY));
	close(fd);
	fd = CHECK_OK(open("/..", O_RDONLY | O_DIRECTORY));
	close(fd);

	/* A bad path pointer. */
	CHECK_ERRNO(open((const char *)1, O_RDONLY), EFAULT);
}

static void test_symlinks(void)
{
	char target[PATH_MAX];
	struct stat st;
	const char *link = test_symlink(target, sizeof(target));
	if (!link) {
		fprintf(stderr, "note: no symlink found, O_NOFOLLOW not tested\n");
		return;
	}
	/* Followed by default... */
	int fd = CHECK_OK(open(link, O_RDONLY));
	CHECK_OK(fstat(fd, &st));
	CHECK(S_ISREG(st.st_mode));
	close(fd);
	/* ...refused with O_NOFOLLOW... */
	CHECK_ERRNO(open(link, O_RDONLY | O_NOFOLLOW), ELOOP);
	/* ...and opened itself with O_PATH | O_NOFOLLOW. */
	fd = CHECK_OK(open(link, O_PATH | O_NOFOLLOW));
	CHECK_OK(fstat(fd, &st));
	CHECK(S_ISLNK(st.st_mode));
	close(fd);
	/* A link to a file, used as a directory, is followed and then
	 * refused. */
	char via[PATH_MAX + 8];
	snprintf(via, sizeof(via), "%s/../", link);
	CHECK_ERRNO(open(via, O_RDONLY), ENOTDIR);
	/* O_NOFOLLOW only concerns the last component: with a merged /usr,
	 * /bin is a link to usr/bin. */
	if (readlink("/bin", target, sizeof(target)) > 0) {
		fd = CHECK_OK(open("/bin/true", O_RDONLY | O_NOFOLLOW));
		close(fd);
	}
}

static void test_openat(void)
{
	int dir = CHECK_OK(open("/etc", O_RDONLY | O_DIRECTORY));
	int fd = CHECK_OK(openat(dir, "passwd", O_RDONLY));
	close(fd);
	fd = CHECK_OK(openat(dir, "../usr/include/stdio.h", O_RDONLY));
	close(fd);
	CHECK_ERRNO(openat(dir, "nonexistent", O_RDONLY), ENOENT);
	/* An absolute path ignores dirfd, even a bad one. */
	fd = CHECK_OK(openat(-42, "/etc/passwd", O_RDONLY));
	close(fd);
	/* A relative path with a bad dirfd. */
	CHECK_ERRNO(openat(-42, "passwd", O_RDONLY), EBADF);
	CHECK_ERRNO(openat(9999, "passwd", O_RDONLY), EBADF);
	/* A relative path with a dirfd that is not a directory. */
	int file = CHECK_OK(openat(dir, "passwd", O_RDONLY));
	CHECK_ERRNO(openat(file, "x", O_RDONLY), ENOTDIR);
	close(file);
	/* An O_PATH directory works as a dirfd. */
	int path = CHECK_OK(open("/etc", O_PATH));
	fd = CHECK_OK(openat(path, "passwd", O_RDONLY));
	close(fd);
	close(path);
	close(dir);
}

static void test_fds(void)
{
	/* Descriptors are allocated lowest-first. */
	int a = CHECK_OK(open("/etc/passwd", O_RDONLY));
	int b = CHECK_OK(open("/etc/passwd", O_RDONLY));
	int c = CHECK_OK(open("/etc/passwd", O_RDONLY));
	CHECK_EQ(b, a + 1);
	CHECK_EQ(c, a + 2);
	CHECK_OK(close(b));
	CHECK_EQ(open("/etc/passwd", O_RDONLY), b);
	/* O_CLOEXEC shows in F_GETFD. */
	CHECK_OK(close(b));
	b = CHECK_OK(open("/etc/passwd", O_RDONLY | O_CLOEXEC));
	CHECK_EQ(fcntl(b, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(a, F_GETFD), 0);
	/* Unknown flag bits are ignored by open. */
	int d = CHECK_OK(open("/etc/passwd", O_RDONLY | 0x40000000));
	close(d);

	/* close: closed, negative and never-opened descriptors. */
	CHECK_OK(close(a));
	CHECK_ERRNO(close(a), EBADF);
	CHECK_ERRNO(close(-1), EBADF);
	CHECK_ERRNO(close(99999), EBADF);
	CHECK_OK(close(b));
	CHECK_OK(close(c));
}

int main(void)
{
	test_paths();
	test_symlinks();
	test_openat();
	test_fds();
	return test_done();
}
