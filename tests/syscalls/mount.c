/* mount, umount2, chroot and pivot_root: tmpfs with its options and the
 * per-mount flags, bind mounts (recursive or not, remounted read-only),
 * propagation types, the umount2 flags and busy mounts, chroot and the
 * classic escape through a descriptor kept outside, pivot_root's rules and
 * its effect, and EPERM without CAP_SYS_ADMIN. Natively the test first
 * moves into a private mount namespace of its own, so the host's table is
 * never touched; it skips where that is not allowed. */
#include "ward_test.h"

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#define TMPFS_MAGIC 0x01021994

static char base[64];

static const char *at(const char *rel)
{
	static char bufs[8][PATH_MAX];
	static int next;
	char *b = bufs[next++ % 8];
	snprintf(b, PATH_MAX, "%s/%s", base, rel);
	return b;
}

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
		close(fd);
	}
}

static int mounts_have(const char *needle)
{
	char buf[16384];
	int fd = open("/proc/self/mountinfo", O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = 0, r;
	while ((r = read(fd, buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
		n += r;
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, needle) != NULL;
}

static int run_child(void (*fn)(void))
{
	pid_t pid = fork();
	if (pid == 0) {
		fn();
		_exit(ward_test_failures ? 1 : 0);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void unprivileged(void)
{
	CHECK_OK(setgid(65534));
	CHECK_OK(setuid(65534));
	CHECK_ERRNO(mount("none", at("t"), "tmpfs", 0, NULL), EPERM);
	CHECK_ERRNO(umount2(at("t"), 0), EPERM);
	CHECK_ERRNO(umount2(at("nonexistent"), 0), ENOENT);
	CHECK_ERRNO(syscall(SYS_pivot_root, at("t"), at("t")), EPERM);
	CHECK_ERRNO(chroot("/"), EPERM);
	CHECK_ERRNO(unshare(CLONE_NEWNS), EPERM);
}

static void chroot_child(void)
{
	char buf[PATH_MAX];
	setvbuf(stderr, NULL, _IONBF, 0);
	CHECK_OK(mkdir(at("c"), 0755));
	CHECK_OK(mkdir(at("c/sub"), 0755));
	put(at("c/sub/file"), "in");
	int outside = CHECK_OK(open("/", O_RDONLY | O_DIRECTORY));
	CHECK_OK(chdir(base));
	CHECK_ERRNO(chroot(at("c/sub/file")), ENOTDIR);
	CHECK_ERRNO(chroot(at("nonexistent")), ENOENT);
	CHECK_OK(chroot(at("c")));
	/* The cwd stays outside the new root: getcwd says so. */
	long n = syscall(SYS_getcwd, buf, sizeof(buf));
	CHECK(n > 0 && strncmp(buf, "(unreachable)", 13) == 0);
	CHECK_OK(chdir("/"));
	CHECK_STREQ(getcwd(buf, sizeof(buf)), "/");
	CHECK_OK(access("/sub/file", R_OK));
	CHECK_OK(access("/../../sub/file", R_OK));
	CHECK_OK(chdir("sub/../.."));
	CHECK_STREQ(getcwd(buf, sizeof(buf)), "/");
	CHECK_ERRNO(access("/etc/passwd", F_OK), ENOENT);
	int fd = CHECK_OK(open("/sub", O_RDONLY | O_DIRECTORY));
	CHECK_OK(fchdir(fd));
	CHECK_STREQ(getcwd(buf, sizeof(buf)), "/sub");
	close(fd);
	/* The classic escape: a descriptor from outside the root, then "..". */
	CHECK_OK(fchdir(outside));
	for (int i = 0; i < 20; i++)
		CHECK_OK(chdir(".."));
	CHECK_OK(chroot("."));
	CHECK_OK(access("/etc/passwd", F_OK));
	CHECK_STREQ(getcwd(buf, sizeof(buf)), "/");
}

static void pivot_child(void)
{
	char buf[PATH_MAX];
	/* A namespace of its own natively, so the parent keeps its root to
	 * clean up from (ward has one namespace and a /tmp of its own). */
	CHECK_OK(unshare(CLONE_NEWNS));
	CHECK_OK(mkdir(at("new"), 0755));
	CHECK_ERRNO(syscall(SYS_pivot_root, at("file1"), at("new")), ENOTDIR);
	CHECK_ERRNO(syscall(SYS_pivot_root, at("nonexistent"), at("new")), ENOENT);
	CHECK_ERRNO(syscall(SYS_pivot_root, "/", "/"), EBUSY);
	CHECK_OK(mount("none", at("new"), "tmpfs", 0, NULL));
	CHECK_OK(mkdir(at("new/old"), 0755));
	put(at("new/marker"), "new root");
	CHECK_ERRNO(syscall(SYS_pivot_root, at("new/old"), at("new/old")), EINVAL); /* not a mount point */
	CHECK_ERRNO(syscall(SYS_pivot_root, at("new"), "/proc"), EINVAL); /* put_old outside new_root */
	CHECK_OK(chdir("/"));
	CHECK_OK(syscall(SYS_pivot_root, at("new"), at("new/old")));
	CHECK_STREQ(getcwd(buf, sizeof(buf)), "/");
	CHECK_OK(access("/marker", F_OK));
	snprintf(buf, sizeof(buf), "/old%s/file1", base);
	CHECK_OK(access(buf, F_OK));
	CHECK_OK(umount2("/old", MNT_DETACH));
	CHECK_ERRNO(access(buf, F_OK), ENOENT);
	CHECK_OK(access("/marker", F_OK));
	CHECK_ERRNO(access("/etc", F_OK), ENOENT);
}

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

int main(void)
{
	char buf[PATH_MAX];
	struct stat st, st2;
	struct statfs sfs;
	struct statvfs svfs;

	if (unshare(CLONE_NEWNS) != 0)
		SKIP("no private mount namespace here");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		SKIP("cannot make the mounts private");
	snprintf(base, sizeof(base), "/tmp/ward-mount.XXXXXX");
	CHECK(mkdtemp(base) != NULL);
	CHECK_OK(chmod(base, 0755));
	CHECK_OK(mkdir(at("t"), 0755));
	CHECK_OK(mkdir(at("b"), 0755));
	CHECK_OK(stat(at("t"), &st2));

	/* A tmpfs: a new file system, mode 1777 by default. */
	CHECK_OK(mount("scratch", at("t"), "tmpfs", 0, NULL));
	CHECK_OK(stat(at("t"), &st));
	CHECK_EQ(st.st_mode, S_IFDIR | 01777);
	CHECK(st.st_dev != st2.st_dev);
	CHECK_OK(statfs(at("t"), &sfs));
	CHECK_EQ(sfs.f_type, TMPFS_MAGIC);
	put(at("t/file"), "data");
	CHECK(mounts_have(" - tmpfs scratch rw"));
	/* Busy: an open file, a cwd inside. */
	int fd = CHECK_OK(open(at("t/file"), O_RDONLY));
	CHECK_ERRNO(umount2(at("t"), 0), EBUSY);
	CHECK_ERRNO(umount2(at("t"), MNT_FORCE), EBUSY);
	close(fd);
	CHECK_OK(chdir(at("t")));
	CHECK_ERRNO(umount2(at("t"), 0), EBUSY);
	CHECK_OK(chdir("/"));
	CHECK_ERRNO(umount2(at("t/file"), 0), EINVAL);
	CHECK_ERRNO(umount2(at("b"), 0), EINVAL);
	CHECK_ERRNO(umount2(at("nonexistent"), 0), ENOENT);
	CHECK_ERRNO(umount2(at("t"), 0x100), EINVAL);
	CHECK_ERRNO(umount2(at("t"), MNT_EXPIRE | MNT_DETACH), EINVAL);
	/* MNT_EXPIRE: marked the first time, gone the second. */
	CHECK_ERRNO(umount2(at("t"), MNT_EXPIRE), EAGAIN);
	CHECK_OK(umount2(at("t"), MNT_EXPIRE));
	CHECK_ERRNO(access(at("t/file"), F_OK), ENOENT);

	/* Options: size= and mode=, shown in /proc/self/mounts; a full tmpfs
	 * is ENOSPC. Bad options are EINVAL, unknown types ENODEV. */
	CHECK_OK(mount("none", at("t"), "tmpfs", 0, "size=64k,mode=0750"));
	CHECK_OK(stat(at("t"), &st));
	CHECK_EQ(st.st_mode, S_IFDIR | 0750);
	CHECK(mounts_have("size=64k,mode=750"));
	static char big[128 * 1024];
	fd = CHECK_OK(open(at("t/big"), O_WRONLY | O_CREAT, 0644));
	CHECK_EQ(write(fd, big, sizeof(big)), 64 * 1024);
	CHECK_ERRNO(write(fd, big, 4096), ENOSPC);
	close(fd);
	CHECK_OK(unlink(at("t/big")));
	CHECK_ERRNO(mount("none", at("b"), "tmpfs", 0, "bogus=1"), EINVAL);
	CHECK_ERRNO(mount("none", at("b"), "tmpfs", 0, "size=abc"), EINVAL);
	CHECK_ERRNO(mount("none", at("b"), "no-such-fs-type", 0, NULL), ENODEV);
	CHECK_ERRNO(mount("none", at("nonexistent"), "tmpfs", 0, NULL), ENOENT);
	CHECK_ERRNO(mount("none", at("b"), NULL, 0, NULL), EINVAL);
	/* Remount read-only and back. */
	CHECK_OK(mount(NULL, at("t"), NULL, MS_REMOUNT | MS_RDONLY, NULL));
	CHECK_ERRNO(open(at("t/new"), O_WRONLY | O_CREAT, 0644), EROFS);
	CHECK_OK(statvfs(at("t"), &svfs));
	CHECK(svfs.f_flag & ST_RDONLY);
	CHECK_OK(mount(NULL, at("t"), NULL, MS_REMOUNT, NULL));
	put(at("t/new"), "x");
	CHECK_ERRNO(mount(NULL, at("b"), NULL, MS_REMOUNT, NULL), EINVAL);
	CHECK_OK(umount2(at("t"), 0));

	/* MS_RDONLY, MS_NOEXEC, MS_NODEV on new mounts. */
	CHECK_OK(mount("none", at("t"), "tmpfs", MS_RDONLY, NULL));
	CHECK_ERRNO(mkdir(at("t/d"), 0755), EROFS);
	CHECK_OK(umount2(at("t"), 0));
	CHECK_OK(mount("none", at("t"), "tmpfs", MS_NOEXEC | MS_NODEV | MS_NOSUID, NULL));
	CHECK_OK(statvfs(at("t"), &svfs));
	CHECK(svfs.f_flag & ST_NOEXEC);
	CHECK(svfs.f_flag & ST_NODEV);
	CHECK(svfs.f_flag & ST_NOSUID);
	put(at("t/script"), "#!/bin/sh\nexit 0\n");
	char *argv[] = { "script", NULL };
	CHECK_ERRNO(execve(at("t/script"), argv, argv + 1), EACCES);
	fd = CHECK_OK(open(at("t/script"), O_RDONLY));
	CHECK(mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0) == MAP_FAILED && errno == EPERM);
	void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_ERRNO(mprotect(p, 4096, PROT_READ | PROT_EXEC), EACCES);
	munmap(p, 4096);
	close(fd);
	CHECK_OK(mknod(at("t/null"), S_IFCHR | 0666, makedev(1, 3)));
	CHECK_ERRNO(open(at("t/null"), O_WRONLY), EACCES);
	CHECK(mounts_have("rw,nosuid,nodev,noexec,relatime"));
	CHECK_OK(umount2(at("t"), 0));

	/* Bind mounts: a directory, a file; type mismatches are ENOTDIR. */
	CHECK_OK(mount("none", at("t"), "tmpfs", 0, NULL));
	CHECK_OK(mkdir(at("t/sub"), 0755));
	CHECK_OK(mkdir(at("t/sub/inner"), 0755));
	put(at("t/sub/f"), "bound");
	CHECK_OK(mount(at("t/sub"), at("b"), NULL, MS_BIND, NULL));
	fd = CHECK_OK(open(at("b/f"), O_RDONLY));
	CHECK_EQ(read(fd, buf, sizeof(buf)), 5);
	close(fd);
	put(at("b/g"), "back");
	CHECK_OK(access(at("t/sub/g"), F_OK));
	CHECK(mounts_have(" /sub "));
	/* Remounted read-only through the bind alone. */
	CHECK_OK(mount(NULL, at("b"), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
	CHECK_ERRNO(open(at("b/h"), O_WRONLY | O_CREAT, 0644), EROFS);
	CHECK_ERRNO(unlink(at("b/g")), EROFS);
	put(at("t/sub/h"), "still writable");
	CHECK_OK(access(at("b/h"), F_OK));
	CHECK_OK(umount2(at("b"), 0));
	/* A remount without MS_BIND makes the file system read-only: every
	 * bind of it. */
	CHECK_OK(mount(at("t/sub"), at("b"), NULL, MS_BIND, NULL));
	CHECK_OK(mount(NULL, at("t"), NULL, MS_REMOUNT | MS_RDONLY, NULL));
	CHECK_ERRNO(open(at("b/i"), O_WRONLY | O_CREAT, 0644), EROFS);
	CHECK_OK(statvfs(at("b"), &svfs));
	CHECK(svfs.f_flag & ST_RDONLY);
	CHECK_OK(mount(NULL, at("t"), NULL, MS_REMOUNT, NULL));
	put(at("b/i"), "writable again");
	CHECK_OK(umount2(at("b"), 0));
	put(at("file1"), "one");
	put(at("file2"), "two");
	CHECK_OK(mount(at("file1"), at("file2"), NULL, MS_BIND, NULL));
	fd = CHECK_OK(open(at("file2"), O_RDONLY));
	CHECK_EQ(read(fd, buf, sizeof(buf)), 3);
	CHECK(memcmp(buf, "one", 3) == 0);
	close(fd);
	CHECK_OK(umount2(at("file2"), 0));
	CHECK_ERRNO(mount(at("file1"), at("b"), NULL, MS_BIND, NULL), ENOTDIR);
	CHECK_ERRNO(mount(at("b"), at("file1"), NULL, MS_BIND, NULL), ENOTDIR);
	CHECK_ERRNO(mount(at("nonexistent"), at("b"), NULL, MS_BIND, NULL), ENOENT);
	CHECK_ERRNO(mount("", at("b"), NULL, MS_BIND, NULL), EINVAL);
	/* Without MS_REC the mounts below the source stay behind. */
	CHECK_OK(mount("none", at("t/sub/inner"), "tmpfs", 0, NULL));
	put(at("t/sub/inner/deep"), "deep");
	CHECK_OK(mount(at("t/sub"), at("b"), NULL, MS_BIND, NULL));
	CHECK_ERRNO(access(at("b/inner/deep"), F_OK), ENOENT);
	CHECK_OK(umount2(at("b"), 0));
	CHECK_OK(mount(at("t/sub"), at("b"), NULL, MS_BIND | MS_REC, NULL));
	CHECK_OK(access(at("b/inner/deep"), F_OK));
	/* A mount with mounts below it is busy; MNT_DETACH takes them all. */
	CHECK_ERRNO(umount2(at("b"), 0), EBUSY);
	fd = CHECK_OK(open(at("b/inner/deep"), O_RDONLY));
	CHECK_OK(umount2(at("b"), MNT_DETACH));
	CHECK_ERRNO(access(at("b/inner"), F_OK), ENOENT);
	CHECK_EQ(read(fd, buf, sizeof(buf)), 4);
	close(fd);
	/* UMOUNT_NOFOLLOW: a symlink to a mount point is not one. */
	CHECK_OK(symlink(at("t/sub/inner"), at("link")));
	CHECK_ERRNO(umount2(at("link"), UMOUNT_NOFOLLOW), EINVAL);
	CHECK_OK(umount2(at("link"), 0));

	/* A second proc. */
	CHECK_OK(mount("proc", at("b"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
	CHECK_OK(statfs(at("b"), &sfs));
	CHECK_EQ(sfs.f_type, 0x9fa0);
	CHECK_OK(access(at("b/self/status"), R_OK));
	CHECK(mounts_have(" - proc proc rw"));
	CHECK_OK(umount2(at("b"), 0));

	/* MS_MOVE: the mount and those below it move; a cwd inside follows. */
	CHECK_OK(mkdir(at("m1"), 0755));
	CHECK_OK(mkdir(at("m2"), 0755));
	CHECK_OK(mount("none", at("m1"), "tmpfs", 0, NULL));
	CHECK_OK(mkdir(at("m1/in"), 0755));
	CHECK_OK(mount("none", at("m1/in"), "tmpfs", 0, NULL));
	put(at("m1/in/f"), "moved");
	CHECK_OK(chdir(at("m1/in")));
	CHECK_ERRNO(mount(at("m1"), at("m1/in"), NULL, MS_MOVE, NULL), ELOOP);
	CHECK_ERRNO(mount(at("m2"), at("b"), NULL, MS_MOVE, NULL), EINVAL); /* not a mount point */
	CHECK_ERRNO(mount(at("m1"), at("file1"), NULL, MS_MOVE, NULL), EINVAL);
	CHECK_OK(mount(at("m1"), at("m2"), NULL, MS_MOVE, NULL));
	CHECK_ERRNO(access(at("m1/in"), F_OK), ENOENT);
	CHECK_OK(access(at("m2/in/f"), F_OK));
	CHECK_STREQ(getcwd(buf, sizeof(buf)), at("m2/in"));
	CHECK_OK(chdir("/"));
	CHECK_OK(umount2(at("m2"), MNT_DETACH));

	/* Propagation types: one at a time, on mount points only. */
	CHECK_OK(mount(NULL, at("t"), NULL, MS_SHARED, NULL));
	CHECK_OK(mount(NULL, at("t"), NULL, MS_PRIVATE | MS_REC, NULL));
	CHECK_OK(mount(NULL, at("t"), NULL, MS_SLAVE, NULL));
	CHECK_OK(mount(NULL, at("t"), NULL, MS_PRIVATE, NULL));
	CHECK_ERRNO(mount(NULL, at("t"), NULL, MS_SHARED | MS_PRIVATE, NULL), EINVAL);
	CHECK_ERRNO(mount(NULL, at("b"), NULL, MS_PRIVATE, NULL), EINVAL);
	CHECK_OK(umount2(at("t"), 0));

	CHECK_EQ(run_child(unprivileged), 0);
	CHECK_EQ(run_child(chroot_child), 0);

	CHECK_EQ(run_child(pivot_child), 0);
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return test_done();
}
