/* O_TMPFILE on tmpfs (/dev/shm) and the root file system (the overlay
 * under ward): an unnamed file (nlink 0, "#INO (deleted)" in /proc), the
 * flag rules (EINVAL without write access or with O_CREAT, ENOTDIR,
 * ENOENT, EOPNOTSUPP where the file system has none), linkat with
 * AT_EMPTY_PATH and through /proc/self/fd, and O_EXCL forbidding the link. */
#include "ward_test.h"

#include <fcntl.h>
#include <sys/stat.h>

static void exercise(const char *dir)
{
	char name[128], other[128];
	snprintf(name, sizeof(name), "%s/ward-tmpfile-%d", dir, (int)getpid());
	snprintf(other, sizeof(other), "%s/ward-tmpfile2-%d", dir, (int)getpid());
	mode_t old = umask(022);
	int fd = CHECK_OK(open(dir, O_TMPFILE | O_RDWR, 0666));
	umask(old);
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_mode, S_IFREG | 0644);
	CHECK_EQ(st.st_nlink, 0);
	CHECK_EQ(fcntl(fd, F_GETFL) & (O_ACCMODE | O_TMPFILE), O_RDWR | O_TMPFILE);
	char link[64], target[256], want[256];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	CHECK(n > 0);
	target[n > 0 ? n : 0] = 0;
	snprintf(want, sizeof(want), "%s/#%llu (deleted)", dir, (unsigned long long)st.st_ino);
	CHECK_STREQ(target, want);
	CHECK_EQ(write(fd, "tmpdata", 7), 7);

	/* A name for it. */
	CHECK_OK(linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH));
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 1);
	char buf[8] = { 0 };
	int rd = CHECK_OK(open(name, O_RDONLY));
	CHECK_EQ(read(rd, buf, 7), 7);
	CHECK(memcmp(buf, "tmpdata", 7) == 0);
	close(rd);
	CHECK_OK(unlink(name));
	close(fd);

	/* Through the magic link of /proc/self/fd. */
	fd = CHECK_OK(open(dir, O_TMPFILE | O_WRONLY, 0600));
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	CHECK_OK(linkat(AT_FDCWD, link, AT_FDCWD, other, AT_SYMLINK_FOLLOW));
	CHECK_OK(stat(other, &st));
	CHECK_EQ(st.st_nlink, 1);
	CHECK_EQ(st.st_mode, S_IFREG | 0600);
	CHECK_OK(unlink(other));
	close(fd);

	/* O_EXCL: it never gets a name. */
	fd = CHECK_OK(open(dir, O_TMPFILE | O_RDWR | O_EXCL, 0600));
	CHECK_ERRNO(linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH), ENOENT);
	CHECK_ERRNO(access(name, F_OK), ENOENT);
	close(fd);

	/* The flag rules. */
	CHECK_ERRNO(open(dir, O_TMPFILE | O_RDONLY, 0600), EINVAL);
	CHECK_ERRNO(open(dir, O_TMPFILE | O_RDWR | O_CREAT, 0600), EINVAL);
	fd = CHECK_OK(open(dir, O_TMPFILE | O_RDWR, 0600));
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	/* Not a directory. */
	CHECK_ERRNO(open(link, O_TMPFILE | O_RDWR, 0600), ENOTDIR);
	close(fd);
	snprintf(link, sizeof(link), "%s/ward-tmpfile-absent/x", dir);
	CHECK_ERRNO(open(link, O_TMPFILE | O_RDWR, 0600), ENOENT);
}

int main(void)
{
	exercise("/dev/shm");
	exercise("/var/tmp");
	CHECK_ERRNO(open("/proc", O_TMPFILE | O_RDWR, 0600), EOPNOTSUPP);
	CHECK_ERRNO(open("/etc/passwd", O_TMPFILE | O_RDWR, 0600), ENOTDIR);
	return test_done();
}
