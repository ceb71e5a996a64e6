/* fstat, stat, lstat, newfstatat and statx agree with one another on the
 * same file; AT_EMPTY_PATH and AT_SYMLINK_NOFOLLOW; and the errors. */
#include "ward_test.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static void same_file(const struct stat *a, const struct stat *b)
{
	CHECK_EQ(a->st_dev, b->st_dev);
	CHECK_EQ(a->st_ino, b->st_ino);
	CHECK_EQ(a->st_mode, b->st_mode);
	CHECK_EQ(a->st_nlink, b->st_nlink);
	CHECK_EQ(a->st_uid, b->st_uid);
	CHECK_EQ(a->st_gid, b->st_gid);
	CHECK_EQ(a->st_size, b->st_size);
	CHECK_EQ(a->st_blocks, b->st_blocks);
	CHECK_EQ(a->st_mtim.tv_sec, b->st_mtim.tv_sec);
	CHECK_EQ(a->st_mtim.tv_nsec, b->st_mtim.tv_nsec);
}

static void test_regular(void)
{
	struct stat a, b, c, d;
	char buf[16];
	int fd = CHECK_OK(open("/etc/passwd", O_RDONLY));
	CHECK_OK(fstat(fd, &a));
	CHECK(S_ISREG(a.st_mode));
	CHECK(a.st_size > 0);
	CHECK(a.st_nlink >= 1);
	CHECK(a.st_blksize > 0);
	/* The size is what read sees. */
	CHECK_EQ(pread(fd, buf, 1, a.st_size - 1), 1);
	CHECK_EQ(pread(fd, buf, 1, a.st_size), 0);

	CHECK_OK(stat("/etc/passwd", &b));
	same_file(&a, &b);
	CHECK_OK(lstat("/etc/passwd", &c));
	same_file(&a, &c);
	CHECK_OK(fstatat(AT_FDCWD, "/etc/passwd", &d, 0));
	same_file(&a, &d);
	/* Relative to a directory descriptor. */
	int dir = CHECK_OK(open("/etc", O_RDONLY | O_DIRECTORY));
	memset(&d, 0, sizeof(d));
	CHECK_OK(fstatat(dir, "passwd", &d, 0));
	same_file(&a, &d);
	/* AT_EMPTY_PATH: the descriptor itself, for files and O_PATH ones. */
	memset(&d, 0, sizeof(d));
	CHECK_OK(fstatat(fd, "", &d, AT_EMPTY_PATH));
	same_file(&a, &d);
	int path = CHECK_OK(open("/etc/passwd", O_PATH));
	memset(&d, 0, sizeof(d));
	CHECK_OK(fstat(path, &d));
	same_file(&a, &d);
	close(path);
	/* Without AT_EMPTY_PATH, "" is ENOENT. */
	CHECK_ERRNO(fstatat(fd, "", &d, 0), ENOENT);
	/* A relative path against a file descriptor. */
	CHECK_ERRNO(fstatat(fd, "x", &d, 0), ENOTDIR);
	/* Unknown flags (with a path: see statx below). */
	CHECK_ERRNO(fstatat(dir, "passwd", &d, 0x1), EINVAL);

	/* statx gives the same answers. */
	struct statx x;
	CHECK_OK(statx(dir, "passwd", 0, STATX_BASIC_STATS, &x));
	CHECK((x.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS);
	CHECK_EQ(x.stx_ino, a.st_ino);
	CHECK_EQ(x.stx_mode, a.st_mode);
	CHECK_EQ(x.stx_size, a.st_size);
	CHECK_EQ(x.stx_nlink, a.st_nlink);
	CHECK_EQ(x.stx_uid, a.st_uid);
	CHECK_EQ(x.stx_blocks, a.st_blocks);
	CHECK_EQ(makedev(x.stx_dev_major, x.stx_dev_minor), a.st_dev);
	CHECK_EQ(x.stx_mtime.tv_sec, a.st_mtim.tv_sec);
	CHECK_EQ(x.stx_mtime.tv_nsec, a.st_mtim.tv_nsec);
	memset(&x, 0, sizeof(x));
	CHECK_OK(statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_SIZE, &x));
	CHECK_EQ(x.stx_ino, a.st_ino);
	CHECK_EQ(x.stx_size, a.st_size);
	/* The reserved mask bit, and two sync types at once. */
	CHECK_ERRNO(statx(fd, "", AT_EMPTY_PATH, 0x80000000U, &x), EINVAL);
	CHECK_ERRNO(statx(fd, "", AT_EMPTY_PATH | AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &x),
		    EINVAL);
	/* Unknown flags, with a path: since 6.10 or so Linux takes a fast path
	 * for AT_EMPTY_PATH with "" that does not look at unknown flags, so
	 * that case is left alone. */
	CHECK_ERRNO(statx(AT_FDCWD, "/etc/passwd", 0x1, STATX_BASIC_STATS, &x), EINVAL);
	CHECK_ERRNO(statx(AT_FDCWD, "/nonexistent", 0, STATX_BASIC_STATS, &x), ENOENT);
	close(dir);
	close(fd);
}

static void test_dirs_and_links(void)
{
	struct stat a, b;
	CHECK_OK(stat("/usr", &a));
	CHECK(S_ISDIR(a.st_mode));
	CHECK(a.st_nlink >= 2);
	/* "/usr/." and "/usr/bin/.." are /usr. */
	CHECK_OK(stat("/usr/.", &b));
	CHECK_EQ(b.st_ino, a.st_ino);
	CHECK_OK(stat("/usr/include/..", &b));
	CHECK_EQ(b.st_ino, a.st_ino);
	/* The root's parent is the root. */
	CHECK_OK(stat("/", &a));
	CHECK_OK(stat("/..", &b));
	CHECK_EQ(a.st_ino, b.st_ino);
	CHECK_EQ(a.st_dev, b.st_dev);
	/* A character device. */
	CHECK_OK(stat("/dev/null", &a));
	CHECK(S_ISCHR(a.st_mode));
	CHECK_EQ(a.st_rdev, makedev(1, 3));

	char target[PATH_MAX];
	const char *link = test_symlink(target, sizeof(target));
	if (!link)
		return;
	/* stat follows the link, lstat does not; the link's size is the
	 * length of its target. */
	CHECK_OK(stat(link, &a));
	CHECK(S_ISREG(a.st_mode));
	CHECK_OK(lstat(link, &b));
	CHECK(S_ISLNK(b.st_mode));
	CHECK_EQ(b.st_size, strlen(target));
	CHECK(a.st_ino != b.st_ino);
	struct stat c;
	CHECK_OK(fstatat(AT_FDCWD, link, &c, AT_SYMLINK_NOFOLLOW));
	same_file(&b, &c);
	struct statx x;
	CHECK_OK(statx(AT_FDCWD, link, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &x));
	CHECK(S_ISLNK(x.stx_mode));
	CHECK_OK(statx(AT_FDCWD, link, 0, STATX_BASIC_STATS, &x));
	CHECK(S_ISREG(x.stx_mode));
	CHECK_EQ(x.stx_ino, a.st_ino);
}

static void test_errors(void)
{
	struct stat st;
	char longname[NAME_MAX + 2];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';

	CHECK_ERRNO(stat("/nonexistent", &st), ENOENT);
	CHECK_ERRNO(stat("", &st), ENOENT);
	CHECK_ERRNO(lstat("/etc/passwd/", &st), ENOTDIR);
	CHECK_ERRNO(stat("/etc/passwd/x", &st), ENOTDIR);
	CHECK_ERRNO(stat(longname, &st), ENAMETOOLONG);
	CHECK_ERRNO(fstat(-1, &st), EBADF);
	CHECK_ERRNO(fstat(9999, &st), EBADF);
	CHECK_ERRNO(fstatat(-42, "passwd", &st, 0), EBADF);
	/* Raw calls: glibc may not pass bad pointers straight through. */
	CHECK_ERRNO(syscall(SYS_stat, (char *)1, &st), EFAULT);
	CHECK_ERRNO(syscall(SYS_stat, "/etc/passwd", (void *)1), EFAULT);
	CHECK_ERRNO(syscall(SYS_fstat, 0, (void *)1), EFAULT);
}

int main(void)
{
	test_regular();
	test_dirs_and_links();
	test_errors();
	return test_done();
}
