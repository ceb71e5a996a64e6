/* Attributes: chmod, fchmod, fchmodat, chown, fchown, lchown, fchownat,
 * utime, utimes, utimensat (UTIME_NOW, UTIME_OMIT, nanoseconds),
 * futimesat, ctime and mtime updates, mknod of a fifo's and a regular
 * file's inode, and statfs of a tmpfs (/dev/shm). */
#include "ward_test.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/time.h>
#include <time.h>
#include <utime.h>

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

static char dir[64];

static const char *at(const char *name)
{
	static char buf[2][PATH_MAX];
	static int which;
	which ^= 1;
	snprintf(buf[which], sizeof(buf[which]), "%s/%s", dir, name);
	return buf[which];
}

static int ts_before_or_eq(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec <= b.tv_nsec);
}

static void test_modes(void)
{
	struct stat st;
	int fd = CHECK_OK(open(at("f"), O_RDWR | O_CREAT, 0644));
	CHECK_OK(chmod(at("f"), 0600));
	CHECK_OK(stat(at("f"), &st));
	CHECK_EQ(st.st_mode & 07777, 0600);
	CHECK_OK(fchmod(fd, 04751));
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_mode & 07777, 04751);
	CHECK(S_ISREG(st.st_mode));
	CHECK_OK(fchmodat(AT_FDCWD, at("f"), 0640, 0));
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_mode & 07777, 0640);
	CHECK_ERRNO(chmod(at("missing"), 0600), ENOENT);
	CHECK_ERRNO(fchmod(-1, 0600), EBADF);

	/* chown: root may give files away; -1 keeps a field. */
	CHECK_OK(chown(at("f"), 1234, 5678));
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_uid, 1234);
	CHECK_EQ(st.st_gid, 5678);
	CHECK_OK(fchown(fd, -1, 42));
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_uid, 1234);
	CHECK_EQ(st.st_gid, 42);
	CHECK_OK(symlink("f", at("l")));
	CHECK_OK(lchown(at("l"), 77, 77));
	CHECK_OK(lstat(at("l"), &st));
	CHECK_EQ(st.st_uid, 77);
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_uid, 1234);
	CHECK_OK(fchownat(AT_FDCWD, at("l"), 0, 0, 0));
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_uid, 0);
	CHECK_OK(fchownat(AT_FDCWD, at("l"), 5, 5, AT_SYMLINK_NOFOLLOW));
	CHECK_OK(lstat(at("l"), &st));
	CHECK_EQ(st.st_uid, 5);
	CHECK_OK(fchownat(fd, "", 9, 9, AT_EMPTY_PATH));
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_uid, 9);
	CHECK_ERRNO(fchownat(AT_FDCWD, at("l"), 0, 0, 0x1), EINVAL);
	/* chown of an executable drops set-user-ID. */
	CHECK_OK(fchmod(fd, 04755));
	CHECK_OK(fchown(fd, 0, 0));
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_mode & 07777, 0755);
	close(fd);
	CHECK_OK(unlink(at("l")));
}

static void test_times(void)
{
	struct stat st, st2;
	int fd = CHECK_OK(open(at("f"), O_RDWR));
	/* Explicit times, to the nanosecond. */
	struct timespec ts[2] = { { 1000000000, 123456789 }, { 1100000000, 987654321 } };
	CHECK_OK(utimensat(AT_FDCWD, at("f"), ts, 0));
	CHECK_OK(stat(at("f"), &st));
	CHECK_EQ(st.st_atim.tv_sec, 1000000000);
	CHECK_EQ(st.st_atim.tv_nsec, 123456789);
	CHECK_EQ(st.st_mtim.tv_sec, 1100000000);
	CHECK_EQ(st.st_mtim.tv_nsec, 987654321);
	/* UTIME_OMIT keeps one, UTIME_NOW sets the other to now. */
	struct timespec before;
	clock_gettime(CLOCK_REALTIME, &before);
	before.tv_sec -= 1;
	struct timespec ts2[2] = { { 0, UTIME_OMIT }, { 0, UTIME_NOW } };
	CHECK_OK(futimens(fd, ts2));
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_atim.tv_sec, 1000000000);
	CHECK(ts_before_or_eq(before, st.st_mtim));
	/* ctime moved too. */
	CHECK(ts_before_or_eq(before, st.st_ctim));
	struct timespec bad[2] = { { 0, 1000000000 }, { 0, 0 } };
	CHECK_ERRNO(utimensat(AT_FDCWD, at("f"), bad, 0), EINVAL);
	CHECK_ERRNO(utimensat(AT_FDCWD, at("f"), ts, 0x1), EINVAL);
	CHECK_ERRNO(utimensat(AT_FDCWD, at("missing"), ts, 0), ENOENT);
	/* NULL times: both now. */
	CHECK_OK(utimensat(AT_FDCWD, at("f"), NULL, 0));
	CHECK_OK(stat(at("f"), &st));
	CHECK(ts_before_or_eq(before, st.st_atim));
	/* utimes, futimesat and utime take microseconds and seconds. */
	struct timeval tv[2] = { { 1200000000, 5 }, { 1300000000, 7 } };
	CHECK_OK(utimes(at("f"), tv));
	CHECK_OK(stat(at("f"), &st));
	CHECK_EQ(st.st_atim.tv_nsec, 5000);
	CHECK_EQ(st.st_mtim.tv_sec, 1300000000);
	CHECK_EQ(st.st_mtim.tv_nsec, 7000);
	struct timeval badtv[2] = { { 0, 1000000 }, { 0, 0 } };
	CHECK_ERRNO(utimes(at("f"), badtv), EINVAL);
	CHECK_OK(futimesat(AT_FDCWD, at("f"), tv));
	struct utimbuf ub = { 1400000000, 1500000000 };
	CHECK_OK(utime(at("f"), &ub));
	CHECK_OK(stat(at("f"), &st));
	CHECK_EQ(st.st_atim.tv_sec, 1400000000);
	CHECK_EQ(st.st_mtim.tv_sec, 1500000000);
	CHECK_EQ(st.st_mtim.tv_nsec, 0);
	/* A write moves mtime and ctime. */
	CHECK_EQ(write(fd, "x", 1), 1);
	CHECK_OK(fstat(fd, &st2));
	CHECK(st2.st_mtim.tv_sec > 1500000000);
	CHECK(ts_before_or_eq(before, st2.st_ctim));
	/* Creating a name moves the directory's mtime. */
	CHECK_OK(utimensat(AT_FDCWD, dir, ts, 0));
	CHECK_OK(link(at("f"), at("g")));
	CHECK_OK(stat(dir, &st));
	CHECK(ts_before_or_eq(before, st.st_mtim));
	CHECK_OK(unlink(at("g")));
	close(fd);
	CHECK_OK(unlink(at("f")));
}

static void test_mknod_statfs(void)
{
	struct stat st;
	CHECK_OK(mknod(at("fifo"), S_IFIFO | 0600, 0));
	CHECK_OK(lstat(at("fifo"), &st));
	CHECK(S_ISFIFO(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0600);
	CHECK_OK(mknodat(AT_FDCWD, at("reg"), 0644, 0));
	CHECK_OK(lstat(at("reg"), &st));
	CHECK(S_ISREG(st.st_mode));
	CHECK_ERRNO(mknod(at("reg"), S_IFIFO | 0600, 0), EEXIST);
	CHECK_ERRNO(mknod(at("dir"), S_IFDIR | 0600, 0), EPERM);
	CHECK_OK(unlink(at("fifo")));
	CHECK_OK(unlink(at("reg")));

	struct statfs sf;
	CHECK_OK(statfs("/dev/shm", &sf));
	CHECK_EQ(sf.f_type, TMPFS_MAGIC);
	CHECK(sf.f_bsize > 0);
	int fd = CHECK_OK(open("/dev/shm", O_RDONLY | O_DIRECTORY));
	CHECK_OK(fstatfs(fd, &sf));
	CHECK_EQ(sf.f_type, TMPFS_MAGIC);
	close(fd);
	/* /dev/shm is world-writable and sticky. */
	CHECK_OK(stat("/dev/shm", &st));
	CHECK_EQ(st.st_mode & 07777, 01777);
}

int main(void)
{
	if (geteuid() != 0)
		SKIP("needs root (chown)");
	snprintf(dir, sizeof(dir), "/tmp/ward-attr-XXXXXX");
	if (!mkdtemp(dir))
		SKIP("no /tmp");
	test_modes();
	test_times();
	test_mknod_statfs();
	CHECK_OK(rmdir(dir));
	return test_done();
}
