/* Writing files: open with O_CREAT, O_EXCL, O_TRUNC and O_APPEND, creat,
 * write and pwrite read back, sparse files, truncate, ftruncate,
 * fallocate, a private map of a written file, and the errors. Works in a
 * fresh directory under /tmp (a tmpfs under ward). */
#include "ward_test.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>

static char dir[64];

static const char *at(const char *name)
{
	static char buf[2][PATH_MAX];
	static int which;
	which ^= 1;
	snprintf(buf[which], sizeof(buf[which]), "%s/%s", dir, name);
	return buf[which];
}

static void test_create(void)
{
	struct stat st;
	umask(022);
	int fd = CHECK_OK(open(at("f"), O_WRONLY | O_CREAT | O_EXCL, 0666));
	CHECK_OK(fstat(fd, &st));
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0644);
	CHECK_EQ(st.st_size, 0);
	CHECK_EQ(st.st_nlink, 1);
	CHECK_EQ(st.st_uid, geteuid());
	CHECK_EQ(write(fd, "hello", 5), 5);
	CHECK_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_WRONLY);
	/* Not open for reading. */
	char c;
	CHECK_ERRNO(read(fd, &c, 1), EBADF);
	close(fd);
	CHECK_ERRNO(open(at("f"), O_WRONLY | O_CREAT | O_EXCL, 0666), EEXIST);
	/* Without O_EXCL an existing file is simply opened. */
	fd = CHECK_OK(open(at("f"), O_RDONLY | O_CREAT, 0600));
	char buf[16] = { 0 };
	CHECK_EQ(read(fd, buf, sizeof(buf)), 5);
	CHECK_STREQ(buf, "hello");
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_mode & 07777, 0644);
	close(fd);

	/* Errors of the path. */
	CHECK_ERRNO(open(at("nodir/f"), O_WRONLY | O_CREAT, 0644), ENOENT);
	CHECK_ERRNO(open(at("f/x"), O_WRONLY | O_CREAT, 0644), ENOTDIR);
	CHECK_ERRNO(open(dir, O_WRONLY | O_CREAT, 0644), EISDIR);
	CHECK_ERRNO(open(at("new/"), O_WRONLY | O_CREAT, 0644), EISDIR);
	CHECK_ERRNO(open(at("missing"), O_RDONLY), ENOENT);

	/* O_TRUNC empties, O_APPEND writes at the end whatever the offset. */
	fd = CHECK_OK(open(at("f"), O_RDWR | O_TRUNC));
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 0);
	CHECK_EQ(write(fd, "abc", 3), 3);
	close(fd);
	fd = CHECK_OK(open(at("f"), O_WRONLY | O_APPEND));
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	CHECK_EQ(write(fd, "def", 3), 3);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 6);
	close(fd);
	fd = CHECK_OK(open(at("f"), O_RDONLY));
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(read(fd, buf, sizeof(buf)), 6);
	CHECK_STREQ(buf, "abcdef");
	close(fd);

	/* creat is O_CREAT | O_WRONLY | O_TRUNC. */
	fd = CHECK_OK(creat(at("f"), 0600));
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 0);
	CHECK_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_WRONLY);
	close(fd);
	CHECK_OK(unlink(at("f")));

	/* The umask applies to the mode. */
	umask(077);
	fd = CHECK_OK(open(at("m"), O_WRONLY | O_CREAT, 0777));
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_mode & 07777, 0700);
	close(fd);
	umask(022);
	CHECK_OK(unlink(at("m")));

	/* O_CREAT through a dangling symlink creates its target. */
	CHECK_OK(symlink("target", at("dangling")));
	fd = CHECK_OK(open(at("dangling"), O_WRONLY | O_CREAT, 0644));
	close(fd);
	CHECK_OK(stat(at("target"), &st));
	CHECK(S_ISREG(st.st_mode));
	CHECK_ERRNO(open(at("dangling"), O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);
	CHECK_ERRNO(open(at("dangling"), O_WRONLY | O_CREAT | O_NOFOLLOW, 0644), ELOOP);
	CHECK_OK(unlink(at("dangling")));
	CHECK_OK(unlink(at("target")));
}

static void test_data(void)
{
	struct stat st;
	int fd = CHECK_OK(open(at("data"), O_RDWR | O_CREAT | O_TRUNC, 0644));
	char big[10000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	CHECK_EQ(write(fd, big, sizeof(big)), sizeof(big));
	char back[10000];
	CHECK_EQ(pread(fd, back, sizeof(back), 0), sizeof(back));
	CHECK(memcmp(big, back, sizeof(big)) == 0);
	/* pwrite does not move the offset. */
	CHECK_EQ(pwrite(fd, "XY", 2, 4095), 2);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), sizeof(big));
	CHECK_EQ(pread(fd, back, 4, 4094), 4);
	CHECK_EQ(back[1], 'X');
	CHECK_EQ(back[2], 'Y');
	CHECK_EQ(back[0], big[4094]);
	CHECK_EQ(pwrite(fd, "x", 1, -1), -1);

	/* A hole reads as zeros and takes no blocks. */
	CHECK_OK(ftruncate(fd, 0));
	CHECK_EQ(pwrite(fd, "end", 3, 1 << 20), 3);
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, (1 << 20) + 3);
	CHECK(st.st_blocks < 64);
	CHECK_EQ(pread(fd, back, 100, 4096), 100);
	int zero = 1;
	for (int i = 0; i < 100; i++)
		zero &= back[i] == 0;
	CHECK(zero);

	/* truncate and ftruncate grow and shrink. */
	CHECK_OK(ftruncate(fd, 10));
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 10);
	CHECK_OK(truncate(at("data"), 20000));
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 20000);
	CHECK_EQ(pread(fd, back, 10, 10), 10);
	CHECK_EQ(back[0] | back[9], 0);
	CHECK_ERRNO(ftruncate(fd, -1), EINVAL);
	CHECK_ERRNO(truncate(dir, 0), EISDIR);
	CHECK_ERRNO(truncate(at("missing"), 0), ENOENT);
	int ro = CHECK_OK(open(at("data"), O_RDONLY));
	CHECK_ERRNO(ftruncate(ro, 0), EINVAL);
	CHECK_ERRNO(write(ro, "x", 1), EBADF);
	/* A private map sees what was written. */
	CHECK_OK(ftruncate(fd, 0));
	CHECK_EQ(pwrite(fd, "mapped", 6, 0), 6);
	char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, ro, 0);
	CHECK(p != MAP_FAILED);
	if (p != MAP_FAILED) {
		CHECK(memcmp(p, "mapped", 6) == 0);
		CHECK_EQ(p[6], 0);
		munmap(p, 4096);
	}
	close(ro);

	/* fallocate extends (mode 0) or not (KEEP_SIZE). */
	CHECK_OK(fallocate(fd, 0, 0, 8192));
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 8192);
	CHECK_OK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 100000));
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, 8192);
	CHECK_ERRNO(fallocate(fd, 0, -1, 10), EINVAL);
	CHECK_ERRNO(fallocate(fd, 0, 0, 0), EINVAL);
	ro = CHECK_OK(open(at("data"), O_RDONLY));
	CHECK_ERRNO(fallocate(ro, 0, 0, 10), EBADF);
	close(ro);

	/* fsync and friends. */
	CHECK_OK(fsync(fd));
	CHECK_OK(fdatasync(fd));
	CHECK_OK(syncfs(fd));
	sync();
	CHECK_ERRNO(fsync(-1), EBADF);
	close(fd);
	CHECK_OK(unlink(at("data")));

	/* An unlinked file lives on while it is open. */
	fd = CHECK_OK(open(at("gone"), O_RDWR | O_CREAT, 0644));
	CHECK_OK(unlink(at("gone")));
	CHECK_EQ(write(fd, "still", 5), 5);
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 0);
	CHECK_EQ(pread(fd, back, 5, 0), 5);
	CHECK(memcmp(back, "still", 5) == 0);
	close(fd);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ward-fw-XXXXXX");
	if (!mkdtemp(dir))
		SKIP("no /tmp");
	test_create();
	test_data();
	CHECK_OK(rmdir(dir));
	return test_done();
}
