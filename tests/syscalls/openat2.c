/* openat2: struct open_how's size rules (EINVAL, E2BIG for non-zero
 * trailing bytes), unknown flags and modes, and every RESOLVE_ flag:
 * BENEATH (no absolute paths, no escaping "..", no magic links), IN_ROOT
 * (the directory is the root), NO_SYMLINKS, NO_MAGICLINKS, NO_XDEV and
 * CACHED. */
#include "ward_test.h"

#include <fcntl.h>
#include <stdint.h>
#include <linux/openat2.h>
#include <sys/stat.h>

static long oa2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve)
{
	struct open_how how = { .flags = flags, .mode = mode, .resolve = resolve };
	return syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/* Opens path and says whether it is the same file as ref. */
static int same_file(long fd, const char *ref)
{
	struct stat a, b;
	if (fd < 0 || fstat((int)fd, &a) < 0 || stat(ref, &b) < 0)
		return 0;
	close((int)fd);
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static char base[64], path[128];

static const char *at(const char *rel)
{
	snprintf(path, sizeof(path), "%s/%s", base, rel);
	return path;
}

static void test_how(int dir)
{
	struct {
		struct open_how how;
		char tail[16];
	} big;
	memset(&big, 0, sizeof(big));
	big.how.flags = O_RDONLY;
	CHECK_ERRNO(syscall(SYS_openat2, dir, "file", &big, 0), EINVAL);
	CHECK_ERRNO(syscall(SYS_openat2, dir, "file", &big, 23), EINVAL);
	CHECK_ERRNO(syscall(SYS_openat2, dir, "file", &big, 4097), E2BIG);
	long fd = CHECK_OK(syscall(SYS_openat2, dir, "file", &big, sizeof(big)));
	if (fd >= 0)
		close((int)fd);
	big.tail[9] = 1;
	CHECK_ERRNO(syscall(SYS_openat2, dir, "file", &big, sizeof(big)), E2BIG);
	CHECK_ERRNO(syscall(SYS_openat2, dir, "file", (void *)1, 24), EFAULT);

	CHECK_ERRNO(oa2(dir, "file", 1ULL << 40, 0, 0), EINVAL);
	CHECK_ERRNO(oa2(dir, "file", 0x80000000ULL, 0, 0), EINVAL);
	CHECK_ERRNO(oa2(dir, "file", O_RDONLY, 0, 0x40), EINVAL);
	CHECK_ERRNO(oa2(dir, "file", O_RDONLY, 0644, 0), EINVAL);
	CHECK_ERRNO(oa2(dir, "new", O_RDWR | O_CREAT, 010000, 0), EINVAL);
	CHECK_ERRNO(oa2(dir, "file", O_PATH | O_RDWR, 0, 0), EINVAL);
	CHECK_ERRNO(oa2(dir, "file", O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT), EINVAL);
	/* Creations and truncations are not even tried cached. */
	CHECK_ERRNO(oa2(dir, "file", O_RDWR | O_CREAT, 0600, RESOLVE_CACHED), EAGAIN);
	CHECK_ERRNO(oa2(dir, "file", O_RDWR | O_TRUNC, 0, RESOLVE_CACHED), EAGAIN);
	/* RESOLVE_CACHED may or may not find everything cached. */
	fd = oa2(dir, "file", O_RDONLY, 0, RESOLVE_CACHED);
	CHECK(fd >= 0 || errno == EAGAIN);
	if (fd >= 0)
		close((int)fd);

	/* Plain opens and creations work as openat's. */
	fd = CHECK_OK(oa2(dir, "created", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, 0));
	CHECK_EQ(fcntl((int)fd, F_GETFD), FD_CLOEXEC);
	close((int)fd);
	CHECK_ERRNO(oa2(dir, "created", O_RDWR | O_CREAT | O_EXCL, 0600, 0), EEXIST);
	unlink(at("created"));
}

static void test_beneath(int dir)
{
	CHECK(same_file(oa2(dir, "file", O_RDONLY, 0, RESOLVE_BENEATH), at("file")));
	CHECK(same_file(oa2(dir, "sub/../file", O_RDONLY, 0, RESOLVE_BENEATH), at("file")));
	CHECK(same_file(oa2(dir, "link_rel", O_RDONLY, 0, RESOLVE_BENEATH), at("file")));
	CHECK(same_file(oa2(dir, "sub/link_dotdot", O_RDONLY, 0, RESOLVE_BENEATH), at("file")));
	CHECK_ERRNO(oa2(dir, "../x", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
	CHECK_ERRNO(oa2(dir, "sub/../../x", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
	CHECK_ERRNO(oa2(dir, "/etc/passwd", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
	CHECK_ERRNO(oa2(dir, "link_abs", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
	CHECK_ERRNO(oa2(dir, "link_up/x", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
	int proc = CHECK_OK(open("/proc", O_RDONLY | O_DIRECTORY));
	char fdpath[64];
	snprintf(fdpath, sizeof(fdpath), "self/fd/%d", dir);
	CHECK_ERRNO(oa2(proc, fdpath, O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
	CHECK_OK(oa2(proc, "self/status", O_RDONLY, 0, RESOLVE_BENEATH));
	close(proc);
}

static void test_in_root(int dir)
{
	CHECK(same_file(oa2(dir, "/file", O_RDONLY, 0, RESOLVE_IN_ROOT), at("file")));
	CHECK(same_file(oa2(dir, "../../file", O_RDONLY, 0, RESOLVE_IN_ROOT), at("file")));
	CHECK(same_file(oa2(dir, "sub/../../sub/../file", O_RDONLY, 0, RESOLVE_IN_ROOT), at("file")));
	/* An absolute target stays inside too. */
	CHECK(same_file(oa2(dir, "link_root_file", O_RDONLY, 0, RESOLVE_IN_ROOT), at("file")));
	CHECK_ERRNO(oa2(dir, "link_abs", O_RDONLY, 0, RESOLVE_IN_ROOT), ENOENT);
	CHECK(same_file(oa2(dir, "link_up/file", O_RDONLY, 0, RESOLVE_IN_ROOT), at("file")));
}

static void test_symlinks(int dir)
{
	CHECK_ERRNO(oa2(dir, "link_rel", O_RDONLY, 0, RESOLVE_NO_SYMLINKS), ELOOP);
	CHECK_ERRNO(oa2(dir, "link_up/file", O_RDONLY, 0, RESOLVE_NO_SYMLINKS), ELOOP);
	CHECK(same_file(oa2(dir, "file", O_RDONLY, 0, RESOLVE_NO_SYMLINKS), at("file")));
	/* The link itself, with O_PATH | O_NOFOLLOW. */
	long fd = CHECK_OK(oa2(dir, "link_rel", O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_SYMLINKS));
	struct stat st;
	if (fd >= 0) {
		CHECK_OK(fstat((int)fd, &st));
		CHECK(S_ISLNK(st.st_mode));
		close((int)fd);
	}
	char fdpath[64];
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", dir);
	CHECK_ERRNO(oa2(AT_FDCWD, fdpath, O_RDONLY, 0, RESOLVE_NO_MAGICLINKS), ELOOP);
	CHECK_ERRNO(oa2(AT_FDCWD, "/proc/self/exe", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS), ELOOP);
	CHECK_ERRNO(oa2(AT_FDCWD, fdpath, O_RDONLY, 0, RESOLVE_NO_SYMLINKS), ELOOP);
	/* /proc/self is an ordinary symlink. */
	CHECK_OK(oa2(AT_FDCWD, "/proc/self/status", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS));
	/* Without the flag the magic link goes to the open file. */
	CHECK(same_file(oa2(AT_FDCWD, fdpath, O_RDONLY, 0, 0), base));
}

static void test_xdev(int dir)
{
	int root = CHECK_OK(open("/", O_RDONLY | O_DIRECTORY));
	CHECK_OK(oa2(root, "etc", O_RDONLY, 0, RESOLVE_NO_XDEV));
	CHECK_ERRNO(oa2(root, "proc/self", O_RDONLY, 0, RESOLVE_NO_XDEV), EXDEV);
	CHECK_ERRNO(oa2(root, "/proc", O_RDONLY, 0, RESOLVE_NO_XDEV), EXDEV);
	CHECK(same_file(oa2(dir, "sub/../file", O_RDONLY, 0, RESOLVE_NO_XDEV), at("file")));
	CHECK_ERRNO(oa2(dir, "../..", O_RDONLY, 0, RESOLVE_NO_XDEV), EXDEV);
	/* An absolute path starts at the root, which crosses nothing; an
	 * absolute symlink from another mount does cross. */
	CHECK_OK(oa2(dir, "/etc", O_RDONLY, 0, RESOLVE_NO_XDEV));
	CHECK_ERRNO(oa2(dir, "link_abs", O_RDONLY, 0, RESOLVE_NO_XDEV), EXDEV);
	close(root);
}

int main(void)
{
	snprintf(base, sizeof(base), "/dev/shm/ward-openat2-%d", (int)getpid());
	CHECK_OK(mkdir(base, 0755));
	CHECK_OK(mkdir(at("sub"), 0755));
	close(CHECK_OK(open(at("file"), O_RDWR | O_CREAT, 0644)));
	CHECK_OK(symlink("file", at("link_rel")));
	CHECK_OK(symlink("/etc/passwd", at("link_abs")));
	CHECK_OK(symlink("/file", at("link_root_file")));
	CHECK_OK(symlink("..", at("link_up")));
	CHECK_OK(symlink("../file", at("sub/link_dotdot")));
	int dir = CHECK_OK(open(base, O_RDONLY | O_DIRECTORY));

	test_how(dir);
	test_beneath(dir);
	test_in_root(dir);
	test_symlinks(dir);
	test_xdev(dir);

	close(dir);
	unlink(at("sub/link_dotdot"));
	rmdir(at("sub"));
	unlink(at("link_rel"));
	unlink(at("link_abs"));
	unlink(at("link_root_file"));
	unlink(at("link_up"));
	unlink(at("file"));
	rmdir(base);
	return test_done();
}
