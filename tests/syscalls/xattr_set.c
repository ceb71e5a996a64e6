/* Extended attributes, writing side, on tmpfs (/dev/shm) and on a file of
 * the root file system (the overlay's upper layer under ward): set, get,
 * list and remove with their l and f variants, XATTR_CREATE and
 * XATTR_REPLACE, the size rules (ERANGE for a short buffer, E2BIG past
 * 64 KiB), the namespaces (user.* only on files and directories, trusted.*
 * for CAP_SYS_ADMIN, unknown ones EOPNOTSUPP) and the argument errors. */
#include "ward_test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

/* Whether the NUL-separated list of n bytes holds name. */
static int list_has(const char *list, long n, const char *name)
{
	for (long off = 0; off < n; off += (long)strlen(list + off) + 1)
		if (strcmp(list + off, name) == 0)
			return 1;
	return 0;
}

static void exercise(const char *dir)
{
	char path[256], link[256], buf[512];
	snprintf(path, sizeof(path), "%s/ward-xattr-%d", dir, (int)getpid());
	snprintf(link, sizeof(link), "%s/ward-xattr-link-%d", dir, (int)getpid());
	int fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0644));
	CHECK_OK(symlink(path, link));

	CHECK_ERRNO(getxattr(path, "user.a", buf, sizeof(buf)), ENODATA);
	CHECK_EQ(setxattr(path, "user.a", "hello", 5, 0), 0);
	CHECK_EQ(getxattr(path, "user.a", buf, sizeof(buf)), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	/* Size 0 asks for the length; a short buffer is ERANGE. */
	CHECK_EQ(getxattr(path, "user.a", NULL, 0), 5);
	CHECK_ERRNO(getxattr(path, "user.a", buf, 4), ERANGE);
	/* Through the symlink, and on the descriptor. */
	CHECK_EQ(getxattr(link, "user.a", buf, sizeof(buf)), 5);
	CHECK_EQ(fgetxattr(fd, "user.a", buf, sizeof(buf)), 5);

	CHECK_ERRNO(setxattr(path, "user.a", "x", 1, XATTR_CREATE), EEXIST);
	CHECK_ERRNO(setxattr(path, "user.b", "x", 1, XATTR_REPLACE), ENODATA);
	CHECK_EQ(setxattr(path, "user.a", "bye", 3, XATTR_REPLACE), 0);
	CHECK_EQ(getxattr(path, "user.a", buf, sizeof(buf)), 3);
	CHECK(memcmp(buf, "bye", 3) == 0);
	CHECK_ERRNO(setxattr(path, "user.a", "x", 1, 4), EINVAL);
	/* An empty value is a value. */
	CHECK_EQ(fsetxattr(fd, "user.empty", "", 0, XATTR_CREATE), 0);
	CHECK_EQ(getxattr(path, "user.empty", buf, sizeof(buf)), 0);

	long n = listxattr(path, buf, sizeof(buf));
	CHECK(n > 0);
	CHECK(list_has(buf, n, "user.a"));
	CHECK(list_has(buf, n, "user.empty"));
	CHECK_EQ(listxattr(path, NULL, 0), n);
	CHECK_ERRNO(listxattr(path, buf, 3), ERANGE);
	CHECK_EQ(flistxattr(fd, buf, sizeof(buf)), n);

	/* user.* is for files and directories only: not on a symlink. */
	CHECK_ERRNO(lsetxattr(link, "user.a", "x", 1, 0), EPERM);
	CHECK_ERRNO(lgetxattr(link, "user.a", buf, sizeof(buf)), ENODATA);
	long ln = llistxattr(link, buf, sizeof(buf));
	CHECK(ln >= 0);
	CHECK(!list_has(buf, ln, "user.a"));

	/* Namespaces. */
	CHECK_ERRNO(setxattr(path, "bogus.a", "x", 1, 0), EOPNOTSUPP);
	CHECK_ERRNO(setxattr(path, "user", "x", 1, 0), EOPNOTSUPP);
	CHECK_ERRNO(getxattr(path, "bogus.a", buf, sizeof(buf)), EOPNOTSUPP);
	if (geteuid() == 0) {
		CHECK_EQ(setxattr(path, "trusted.t", "tt", 2, 0), 0);
		CHECK_EQ(getxattr(path, "trusted.t", buf, sizeof(buf)), 2);
		n = listxattr(path, buf, sizeof(buf));
		CHECK(list_has(buf, n, "trusted.t"));
		CHECK_EQ(removexattr(path, "trusted.t"), 0);
	}

	/* Names and sizes. */
	CHECK_ERRNO(setxattr(path, "", "x", 1, 0), ERANGE);
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	memcpy(longname, "user.", 5);
	longname[sizeof(longname) - 1] = 0;
	CHECK_ERRNO(setxattr(path, longname, "x", 1, 0), ERANGE);
	CHECK_ERRNO(setxattr(path, "user.big", buf, 65537, 0), E2BIG);
	CHECK_ERRNO(setxattr(path, "user.f", (void *)1, 4, 0), EFAULT);
	CHECK_ERRNO(getxattr(path, "user.a", (void *)1, 100), EFAULT);
	CHECK_ERRNO(fsetxattr(-1, "user.a", "x", 1, 0), EBADF);
	int opath = CHECK_OK(open(path, O_PATH));
	CHECK_ERRNO(fsetxattr(opath, "user.a", "x", 1, 0), EBADF);
	CHECK_ERRNO(fgetxattr(opath, "user.a", buf, sizeof(buf)), EBADF);
	close(opath);

	/* Removal. */
	CHECK_EQ(removexattr(path, "user.a"), 0);
	CHECK_ERRNO(removexattr(path, "user.a"), ENODATA);
	CHECK_ERRNO(getxattr(path, "user.a", buf, sizeof(buf)), ENODATA);
	CHECK_EQ(fremovexattr(fd, "user.empty"), 0);
	CHECK_ERRNO(lremovexattr(link, "user.a"), EPERM);
	CHECK_EQ(listxattr(path, buf, sizeof(buf)) >= 0, 1);
	CHECK(!list_has(buf, listxattr(path, buf, sizeof(buf)), "user.a"));

	/* Directories take them too. */
	char sub[300];
	snprintf(sub, sizeof(sub), "%s.d", path);
	CHECK_OK(mkdir(sub, 0755));
	CHECK_EQ(setxattr(sub, "user.d", "dd", 2, 0), 0);
	CHECK_EQ(getxattr(sub, "user.d", buf, sizeof(buf)), 2);
	CHECK_OK(rmdir(sub));

	close(fd);
	unlink(link);
	unlink(path);
}

/* A 64 KiB value, the most one attribute holds (tmpfs takes it). */
static void big_value(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/dev/shm/ward-xattr-big-%d", (int)getpid());
	int fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0644));
	char *v = malloc(65536);
	memset(v, 'v', 65536);
	CHECK_EQ(fsetxattr(fd, "user.big", v, 65536, 0), 0);
	memset(v, 0, 65536);
	CHECK_EQ(fgetxattr(fd, "user.big", v, 65536), 65536);
	CHECK_EQ(v[65535], 'v');
	free(v);
	close(fd);
	unlink(path);
}

/* Pipes have the rules of their type and no attributes. */
static void on_pipe(void)
{
	int p[2];
	char buf[16];
	CHECK_OK(pipe(p));
	CHECK_EQ(flistxattr(p[0], buf, sizeof(buf)), 0);
	CHECK_ERRNO(fgetxattr(p[0], "user.x", buf, sizeof(buf)), ENODATA);
	CHECK_ERRNO(fsetxattr(p[0], "user.x", "1", 1, 0), EPERM);
	CHECK_ERRNO(fremovexattr(p[0], "user.x"), EPERM);
	CHECK_ERRNO(fgetxattr(p[0], "security.x", buf, sizeof(buf)), EOPNOTSUPP);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	on_pipe();
	exercise("/dev/shm");
	exercise("/var/tmp");
	big_value();
	return test_done();
}
