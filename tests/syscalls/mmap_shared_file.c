/* MAP_SHARED writable maps of files on tmpfs (/dev/shm) and on the root
 * file system (the overlay's upper layer under ward): a store through the
 * map is seen at once by read(2) in another process, survives munmap and
 * msync, and write(2) reaches the map; two processes' maps are one memory;
 * mremap moves a shared map without copying it; msync's argument errors. */
#include "ward_test.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

static void exercise(const char *dir)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/ward-mapshared-%d", dir, (int)getpid());
	int fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
	CHECK_EQ(pwrite(fd, "before", 6, 0), 6);
	CHECK_OK(ftruncate(fd, 2 * 4096));
	char *m = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	if (m == MAP_FAILED) {
		close(fd);
		unlink(path);
		return;
	}
	/* What was written before shows in the map. */
	CHECK(memcmp(m, "before", 6) == 0);
	memcpy(m + 4096, "stored", 6);

	/* Another process reads it with read(2) on its own descriptor. */
	int ready[2], done[2];
	CHECK_OK(pipe(ready));
	CHECK_OK(pipe(done));
	pid_t pid = fork();
	if (pid == 0) {
		int cfd = open(path, O_RDWR);
		char buf[8] = { 0 };
		int bad = cfd < 0 || pread(cfd, buf, 6, 4096) != 6 || memcmp(buf, "stored", 6) != 0;
		/* And writes with write(2), which the parent's map shows. */
		bad |= pwrite(cfd, "by-child", 8, 200) != 8;
		char c = 'r';
		bad |= write(ready[1], &c, 1) != 1;
		/* Waits for the parent's next store, made through the map. */
		bad |= read(done[0], &c, 1) != 1;
		bad |= pread(cfd, buf, 5, 300) != 5 || memcmp(buf, "later", 5) != 0;
		_exit(bad);
	}
	char c;
	CHECK_EQ(read(ready[0], &c, 1), 1);
	CHECK(memcmp(m + 200, "by-child", 8) == 0);
	memcpy(m + 300, "later", 5);
	CHECK_EQ(write(done[1], "d", 1), 1);
	int st = -1;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(st, 0);
	close(ready[0]);
	close(ready[1]);
	close(done[0]);
	close(done[1]);

	/* msync, then munmap: the data stays. */
	CHECK_OK(msync(m, 2 * 4096, MS_SYNC));
	CHECK_OK(msync(m, 4096, MS_ASYNC | MS_INVALIDATE));
	CHECK_ERRNO(msync(m + 1, 4096, MS_SYNC), EINVAL);
	CHECK_ERRNO(msync(m, 4096, MS_SYNC | MS_ASYNC), EINVAL);
	CHECK_ERRNO(msync(m, 4096, 0x100), EINVAL);
	CHECK_OK(msync(m, 0, MS_SYNC));

	/* mremap moves the map; it stays the file's. */
	char *target = mmap(NULL, 2 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(target != MAP_FAILED);
	char *moved = mremap(m, 2 * 4096, 2 * 4096, MREMAP_MAYMOVE | MREMAP_FIXED, target);
	CHECK(moved != MAP_FAILED);
	if (moved != MAP_FAILED) {
		m = moved;
		memcpy(m + 400, "remapped", 8);
	}
	CHECK_OK(munmap(m, 2 * 4096));
	CHECK_ERRNO(msync(m, 4096, MS_SYNC), ENOMEM);
	close(fd);

	fd = CHECK_OK(open(path, O_RDONLY));
	char buf[16] = { 0 };
	CHECK_EQ(pread(fd, buf, 6, 4096), 6);
	CHECK(memcmp(buf, "stored", 6) == 0);
	CHECK_EQ(pread(fd, buf, 5, 300), 5);
	CHECK(memcmp(buf, "later", 5) == 0);
	CHECK_EQ(pread(fd, buf, 8, 400), 8);
	CHECK(memcmp(buf, "remapped", 8) == 0);
	struct stat sb;
	CHECK_OK(fstat(fd, &sb));
	CHECK_EQ(sb.st_size, 2 * 4096);
	/* A read-only shared map sees the same. */
	char *r = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 4096);
	CHECK(r != MAP_FAILED);
	if (r != MAP_FAILED) {
		CHECK(memcmp(r, "stored", 6) == 0);
		munmap(r, 4096);
	}
	/* A map past the end of the file reaches the pages the file grows
	 * into afterwards. */
	int wfd = CHECK_OK(open(path, O_RDWR));
	char *g = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, wfd, 0);
	CHECK(g != MAP_FAILED);
	CHECK_OK(ftruncate(wfd, 4 * 4096));
	if (g != MAP_FAILED) {
		memcpy(g + 3 * 4096, "grown", 5);
		CHECK_EQ(pread(fd, buf, 5, 3 * 4096), 5);
		CHECK(memcmp(buf, "grown", 5) == 0);
		munmap(g, 4 * 4096);
	}
	close(wfd);
	/* No writable shared map of a read-only descriptor. */
	CHECK_ERRNO(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
	close(fd);
	unlink(path);
}

/* mremap grows a memfd's shared map over the file's pages, and moves
 * shared anonymous memory without unsharing it. */
static void grow(void)
{
	int fd = CHECK_OK(memfd_create("grow", 0));
	CHECK_OK(ftruncate(fd, 3 * 4096));
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	if (m != MAP_FAILED) {
		m[0] = 'a';
		char *g = mremap(m, 4096, 3 * 4096, MREMAP_MAYMOVE);
		CHECK(g != MAP_FAILED);
		if (g != MAP_FAILED) {
			CHECK_EQ(g[0], 'a');
			g[2 * 4096] = 'z';
			char c = 0;
			CHECK_EQ(pread(fd, &c, 1, 2 * 4096), 1);
			CHECK_EQ(c, 'z');
			munmap(g, 3 * 4096);
		}
	}
	close(fd);
	/* Moved whole, shared anonymous memory stays shared with a child. */
	char *a = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *target = mmap(NULL, 2 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(a != MAP_FAILED && target != MAP_FAILED);
	if (a != MAP_FAILED && target != MAP_FAILED) {
		a[5] = 'k';
		pid_t pid = fork();
		if (pid == 0) {
			char *g = mremap(a, 2 * 4096, 2 * 4096, MREMAP_MAYMOVE | MREMAP_FIXED, target);
			if (g != MAP_FAILED)
				g[4096] = 'c';
			_exit(g == MAP_FAILED || g[5] != 'k');
		}
		int st = -1;
		CHECK_EQ(waitpid(pid, &st, 0), pid);
		CHECK_EQ(st, 0);
		CHECK_EQ(a[4096], 'c');
		munmap(a, 2 * 4096);
	}
}

int main(void)
{
	grow();
	exercise("/dev/shm");
	exercise("/var/tmp");
	return test_done();
}
