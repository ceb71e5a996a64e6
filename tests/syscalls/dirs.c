/* The file tree: mkdir, rmdir, unlink, link, symlink and rename in their
 * plain and *at forms, with link counts, renameat2's flags, listings after
 * changes, and the errno of each way they fail. Works in a fresh directory
 * under /tmp (a tmpfs under ward). */
#include "ward_test.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#endif

static char dir[64];

static const char *at(const char *name)
{
	static char buf[4][PATH_MAX];
	static int which;
	which = (which + 1) % 4;
	snprintf(buf[which], sizeof(buf[which]), "%s/%s", dir, name);
	return buf[which];
}

static void touch(const char *path, const char *data)
{
	int fd = CHECK_OK(open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
	if (data)
		CHECK_EQ(write(fd, data, strlen(data)), (long)strlen(data));
	close(fd);
}

static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void test_mkdir_rmdir(void)
{
	struct stat st, parent;
	CHECK_OK(stat(dir, &parent));
	CHECK_EQ(parent.st_nlink, 2);
	CHECK_OK(mkdir(at("d"), 0755));
	CHECK_OK(stat(at("d"), &st));
	CHECK(S_ISDIR(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0755);
	CHECK_EQ(st.st_nlink, 2);
	CHECK_OK(stat(dir, &parent));
	CHECK_EQ(parent.st_nlink, 3);
	CHECK_ERRNO(mkdir(at("d"), 0755), EEXIST);
	CHECK_ERRNO(mkdir(at("nodir/d"), 0755), ENOENT);
	CHECK_ERRNO(mkdir(at("d/."), 0755), EEXIST);
	CHECK_OK(mkdir(at("d/sub/"), 0700));
	int dfd = CHECK_OK(open(at("d"), O_RDONLY | O_DIRECTORY));
	CHECK_OK(mkdirat(dfd, "sub2", 0700));
	CHECK_EQ(count_entries(at("d")), 4);
	CHECK_ERRNO(rmdir(at("d")), ENOTEMPTY);
	CHECK_ERRNO(rmdir(at("d/sub/.")), EINVAL);
	CHECK_ERRNO(unlinkat(dfd, "sub2", 0), EISDIR);
	CHECK_OK(unlinkat(dfd, "sub2", AT_REMOVEDIR));
	CHECK_ERRNO(unlinkat(dfd, "sub2", AT_REMOVEDIR), ENOENT);
	CHECK_ERRNO(unlinkat(dfd, "sub", 0x1), EINVAL);
	CHECK_OK(rmdir(at("d/sub/")));
	touch(at("d/file"), NULL);
	CHECK_ERRNO(rmdir(at("d/file")), ENOTDIR);
	CHECK_ERRNO(mkdir(at("d/file/x"), 0755), ENOTDIR);
	CHECK_OK(unlink(at("d/file")));
	CHECK_OK(rmdir(at("d")));
	/* The removed directory's descriptor still works, but takes no new
	 * entries. */
	CHECK_ERRNO(mkdirat(dfd, "x", 0755), ENOENT);
	CHECK_ERRNO(openat(dfd, "x", O_WRONLY | O_CREAT, 0644), ENOENT);
	close(dfd);
	CHECK_OK(stat(dir, &parent));
	CHECK_EQ(parent.st_nlink, 2);
	CHECK_ERRNO(rmdir(at("d")), ENOENT);
}

static void test_links(void)
{
	struct stat a, b;
	touch(at("orig"), "data");
	CHECK_OK(link(at("orig"), at("hard")));
	CHECK_OK(stat(at("orig"), &a));
	CHECK_OK(stat(at("hard"), &b));
	CHECK_EQ(a.st_ino, b.st_ino);
	CHECK_EQ(a.st_nlink, 2);
	CHECK_ERRNO(link(at("orig"), at("hard")), EEXIST);
	CHECK_ERRNO(link(at("missing"), at("x")), ENOENT);
	CHECK_ERRNO(link(dir, at("dirlink")), EPERM);
	CHECK_OK(unlink(at("orig")));
	CHECK_OK(stat(at("hard"), &b));
	CHECK_EQ(b.st_nlink, 1);

	/* Symlinks: the target is kept as given, dangling or not. */
	CHECK_OK(symlink("hard", at("sym")));
	CHECK_OK(symlink("/nonexistent/x", at("dangling")));
	char buf[PATH_MAX];
	CHECK_EQ(readlink(at("sym"), buf, sizeof(buf)), 4);
	CHECK(memcmp(buf, "hard", 4) == 0);
	CHECK_OK(lstat(at("sym"), &a));
	CHECK(S_ISLNK(a.st_mode));
	CHECK_EQ(a.st_size, 4);
	CHECK_OK(stat(at("sym"), &a));
	CHECK_EQ(a.st_ino, b.st_ino);
	CHECK_ERRNO(stat(at("dangling"), &a), ENOENT);
	CHECK_OK(lstat(at("dangling"), &a));
	CHECK_ERRNO(symlink("x", at("sym")), EEXIST);
	CHECK_ERRNO(symlink("", at("empty")), ENOENT);
	int dfd = CHECK_OK(open(dir, O_RDONLY | O_DIRECTORY));
	CHECK_OK(symlinkat("hard", dfd, "sym2"));
	/* linkat: a link to the symlink itself, or (AT_SYMLINK_FOLLOW) to
	 * its target. */
	CHECK_OK(linkat(dfd, "sym2", dfd, "sym3", 0));
	CHECK_OK(lstat(at("sym3"), &a));
	CHECK(S_ISLNK(a.st_mode));
	CHECK_EQ(a.st_nlink, 2);
	CHECK_OK(linkat(dfd, "sym2", dfd, "hard2", AT_SYMLINK_FOLLOW));
	CHECK_OK(lstat(at("hard2"), &a));
	CHECK(S_ISREG(a.st_mode));
	CHECK_EQ(a.st_nlink, 2);
	CHECK_ERRNO(linkat(dfd, "sym2", dfd, "x", 0x1), EINVAL);
	/* A symlink loop. */
	CHECK_OK(symlink("loop", at("loop")));
	CHECK_ERRNO(open(at("loop"), O_RDONLY), ELOOP);
	CHECK_ERRNO(unlink(at("hard/")), ENOTDIR);
	for (const char *n = "sym\0dangling\0sym2\0sym3\0hard2\0loop\0hard\0"; *n; n += strlen(n) + 1)
		CHECK_OK(unlinkat(dfd, n, 0));
	close(dfd);
	CHECK_EQ(count_entries(dir), 2);
}

static void read_file(const char *path, char *buf, size_t len)
{
	memset(buf, 0, len);
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(read(fd, buf, len - 1) >= 0);
		close(fd);
	}
}

static void test_rename(void)
{
	char buf[64];
	struct stat st;
	touch(at("a"), "A");
	touch(at("b"), "B");
	CHECK_OK(mkdir(at("d"), 0755));
	CHECK_OK(mkdir(at("e"), 0755));
	CHECK_OK(rename(at("a"), at("c")));
	CHECK_ERRNO(stat(at("a"), &st), ENOENT);
	read_file(at("c"), buf, sizeof(buf));
	CHECK_STREQ(buf, "A");
	/* Onto an existing file: replaced. */
	CHECK_OK(rename(at("c"), at("b")));
	read_file(at("b"), buf, sizeof(buf));
	CHECK_STREQ(buf, "A");
	/* Into a directory, and back. */
	CHECK_OK(rename(at("b"), at("d/b")));
	CHECK_OK(renameat(AT_FDCWD, at("d/b"), AT_FDCWD, at("b")));
	/* Same file: nothing happens. */
	CHECK_OK(link(at("b"), at("b2")));
	CHECK_OK(rename(at("b"), at("b2")));
	CHECK_OK(stat(at("b"), &st));
	CHECK_OK(unlink(at("b2")));
	/* Type mismatches. */
	CHECK_ERRNO(rename(at("b"), at("d")), EISDIR);
	CHECK_ERRNO(rename(at("d"), at("b")), ENOTDIR);
	CHECK_ERRNO(rename(at("missing"), at("x")), ENOENT);
	CHECK_ERRNO(rename(at("d"), at("d/sub")), EINVAL);
	/* A directory onto an empty one, not onto a full one. */
	touch(at("d/f"), NULL);
	CHECK_ERRNO(rename(at("e"), at("d")), ENOTEMPTY);
	CHECK_OK(rename(at("d"), at("e")));
	CHECK_OK(stat(at("e/f"), &st));
	CHECK_ERRNO(stat(at("d"), &st), ENOENT);
	/* renameat2 flags. */
	touch(at("x"), "X");
	CHECK_ERRNO(syscall(SYS_renameat2, AT_FDCWD, at("x"), AT_FDCWD, at("b"), RENAME_NOREPLACE), EEXIST);
	CHECK_OK(syscall(SYS_renameat2, AT_FDCWD, at("x"), AT_FDCWD, at("y"), RENAME_NOREPLACE));
	CHECK_OK(syscall(SYS_renameat2, AT_FDCWD, at("y"), AT_FDCWD, at("b"), RENAME_EXCHANGE));
	read_file(at("b"), buf, sizeof(buf));
	CHECK_STREQ(buf, "X");
	read_file(at("y"), buf, sizeof(buf));
	CHECK_STREQ(buf, "A");
	CHECK_OK(syscall(SYS_renameat2, AT_FDCWD, at("y"), AT_FDCWD, at("e"), RENAME_EXCHANGE));
	CHECK_OK(stat(at("y/f"), &st));
	CHECK_ERRNO(syscall(SYS_renameat2, AT_FDCWD, at("b"), AT_FDCWD, at("zz"), RENAME_EXCHANGE), ENOENT);
	CHECK_ERRNO(syscall(SYS_renameat2, AT_FDCWD, at("b"), AT_FDCWD, at("e"), RENAME_EXCHANGE | RENAME_NOREPLACE),
		    EINVAL);
	CHECK_ERRNO(syscall(SYS_renameat2, AT_FDCWD, at("b"), AT_FDCWD, at("e"), 0x100), EINVAL);
	CHECK_OK(unlink(at("y/f")));
	CHECK_OK(rmdir(at("y")));
	CHECK_OK(unlink(at("e")));
	CHECK_OK(unlink(at("b")));
	CHECK_EQ(count_entries(dir), 2);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ward-dirs-XXXXXX");
	if (!mkdtemp(dir))
		SKIP("no /tmp");
	test_mkdir_rmdir();
	test_links();
	test_rename();
	CHECK_OK(rmdir(dir));
	return test_done();
}
