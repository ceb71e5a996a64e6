/* getdents64 on /usr: the records are well formed, list ".", "..", "bin",
 * "lib" and "include" with the right d_type and inode numbers, rewinding
 * lists the same again, and the errors. */
#include "ward_test.h"

#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct dirent64_raw {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static const char *const wanted[] = { ".", "..", "bin", "lib", "include" };
#define NWANTED (sizeof(wanted) / sizeof(wanted[0]))

/* Lists the directory from its current offset to the end, with a buffer of
 * bufsize bytes; returns the number of entries and marks the wanted ones. */
static int list(int fd, size_t bufsize, int seen[NWANTED])
{
	char *buf = malloc(bufsize);
	int count = 0;
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, bufsize);
		CHECK(n >= 0);
		if (n <= 0)
			break;
		for (long off = 0; off < n;) {
			struct dirent64_raw *d = (struct dirent64_raw *)(buf + off);
			/* Records are 8-byte aligned and the name is
			 * NUL-terminated inside the record. */
			CHECK_EQ(d->d_reclen % 8, 0);
			CHECK(d->d_reclen > offsetof(struct dirent64_raw, d_name));
			CHECK(strnlen(d->d_name, d->d_reclen - offsetof(struct dirent64_raw, d_name)) <
			      d->d_reclen - offsetof(struct dirent64_raw, d_name));
			CHECK(off + d->d_reclen <= n);
			for (size_t i = 0; i < NWANTED; i++) {
				if (strcmp(d->d_name, wanted[i]) != 0)
					continue;
				seen[i]++;
				CHECK_EQ(d->d_type, DT_DIR);
				/* The inode number is stat's. */
				struct stat st;
				char path[64];
				snprintf(path, sizeof(path), "/usr/%s", d->d_name);
				CHECK_OK(stat(path, &st));
				CHECK_EQ(d->d_ino, st.st_ino);
			}
			count++;
			if (d->d_reclen == 0)
				break;
			off += d->d_reclen;
		}
	}
	free(buf);
	return count;
}

int main(void)
{
	int seen[NWANTED] = { 0 };
	int fd = CHECK_OK(open("/usr", O_RDONLY | O_DIRECTORY));

	int n = list(fd, 4096, seen);
	CHECK(n >= 5);
	for (size_t i = 0; i < NWANTED; i++)
		if (seen[i] != 1)
			WARD_FAIL("\"%s\" seen %d times in /usr", wanted[i], seen[i]);
	/* At the end, getdents64 keeps returning 0. */
	char buf[512];
	CHECK_EQ(syscall(SYS_getdents64, fd, buf, sizeof(buf)), 0);

	/* Rewinding lists the same entries again; a small buffer takes more
	 * calls but gives the same result. */
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	memset(seen, 0, sizeof(seen));
	CHECK_EQ(list(fd, 64, seen), n);
	for (size_t i = 0; i < NWANTED; i++)
		CHECK_EQ(seen[i], 1);

	/* A buffer too small for even one record. */
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	CHECK_ERRNO(syscall(SYS_getdents64, fd, buf, 10), EINVAL);
	CHECK_ERRNO(syscall(SYS_getdents64, fd, buf, 0), EINVAL);
	/* A bad buffer. */
	CHECK_ERRNO(syscall(SYS_getdents64, fd, (void *)1, sizeof(buf)), EFAULT);
	CHECK_OK(close(fd));

	/* Not a directory, and not a descriptor. */
	fd = CHECK_OK(open("/etc/passwd", O_RDONLY));
	CHECK_ERRNO(syscall(SYS_getdents64, fd, buf, sizeof(buf)), ENOTDIR);
	close(fd);
	CHECK_ERRNO(syscall(SYS_getdents64, fd, buf, sizeof(buf)), EBADF);
	CHECK_ERRNO(syscall(SYS_getdents64, -1, buf, sizeof(buf)), EBADF);
	/* An O_PATH descriptor of a directory cannot be read. */
	fd = CHECK_OK(open("/usr", O_PATH));
	CHECK_ERRNO(syscall(SYS_getdents64, fd, buf, sizeof(buf)), EBADF);
	close(fd);

	/* readdir(3) over the same directory agrees. */
	DIR *d = opendir("/usr");
	CHECK(d != NULL);
	int m = 0;
	while (d && readdir(d))
		m++;
	CHECK_EQ(m, n);
	if (d)
		closedir(d);

	/* getdents(2), the older layout, lists the same names, inodes and
	 * types, with the type in each record's last byte. */
	char old[4096], new64[4096];
	int fa = CHECK_OK(open("/usr", O_RDONLY | O_DIRECTORY));
	int fb = CHECK_OK(open("/usr", O_RDONLY | O_DIRECTORY));
	long na = syscall(SYS_getdents, fa, old, sizeof(old));
	long nb = syscall(SYS_getdents64, fb, new64, sizeof(new64));
	CHECK(na > 0);
	CHECK_EQ(na, nb);
	for (long a = 0, b = 0; a < na && b < nb;) {
		unsigned long ino_a;
		uint64_t ino_b;
		unsigned short len_a, len_b;
		memcpy(&ino_a, old + a, 8);
		memcpy(&ino_b, new64 + b, 8);
		memcpy(&len_a, old + a + 16, 2);
		memcpy(&len_b, new64 + b + 16, 2);
		CHECK_EQ(ino_a, ino_b);
		CHECK_EQ(len_a, len_b);
		CHECK_STREQ(old + a + 18, new64 + b + 19);
		CHECK_EQ(old[a + len_a - 1], new64[b + 18]);
		if (len_a == 0 || len_b == 0)
			break;
		a += len_a;
		b += len_b;
	}
	/* Too small for the first entry (at the end, nothing is too small). */
	CHECK_OK(lseek(fa, 0, SEEK_SET));
	CHECK_ERRNO(syscall(SYS_getdents, fa, old, 10), EINVAL);
	CHECK_ERRNO(syscall(SYS_getdents, -1, old, sizeof(old)), EBADF);
	close(fa);
	close(fb);
	return test_done();
}
