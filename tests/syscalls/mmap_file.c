/* mmap of a read-only file, MAP_PRIVATE: the mapping shows the file's
 * contents, copy-on-write keeps the file unchanged, the tail of the last page
 * is zero, and the access mode of the descriptor limits the protections. */
#include "ward_test.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

static const char path[] = "/usr/include/stdio.h";

/* Reads the whole file with read(2) into a malloc'ed buffer. */
static char *slurp(int fd, size_t size)
{
	char *buf = malloc(size);
	size_t got = 0;
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n <= 0)
			break;
		got += n;
	}
	CHECK_EQ(got, size);
	return buf;
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	struct stat st;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		SKIP("no /usr/include/stdio.h");
	CHECK_OK(fstat(fd, &st));
	size_t size = st.st_size;
	CHECK(size > (size_t)page); /* so that an offset mapping means something */
	char *want = slurp(fd, size);

	/* The whole file, private and read-only. */
	char *p = CHECK_OK(mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0));
	if (p == MAP_FAILED)
		return test_done();
	CHECK(memcmp(p, want, size) == 0);
	/* The rest of the last page past end of file reads as zero. */
	size_t tail = (size + page - 1) / page * page;
	for (size_t i = size; i < tail; i++)
		if (p[i] != 0) {
			CHECK_EQ(p[i], 0);
			break;
		}
	CHECK_OK(munmap(p, size));

	/* A page-aligned offset maps from that offset. */
	p = CHECK_OK(mmap(NULL, size - page, PROT_READ, MAP_PRIVATE, fd, page));
	if (p != MAP_FAILED) {
		CHECK(memcmp(p, want + page, size - page) == 0);
		munmap(p, size - page);
	}

	/* Writing to a private writable mapping does not reach the file, even
	 * though the descriptor is read-only: the write goes to a private copy. */
	p = CHECK_OK(mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
	if (p != MAP_FAILED) {
		memset(p, 'x', 100);
		CHECK_EQ(p[99], 'x');
		char again[100];
		CHECK_EQ(pread(fd, again, sizeof(again), 0), sizeof(again));
		CHECK(memcmp(again, want, sizeof(again)) == 0);
		/* A second mapping of the file still shows the original bytes. */
		char *q = CHECK_OK(mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0));
		if (q != MAP_FAILED) {
			CHECK(memcmp(q, want, size) == 0);
			munmap(q, size);
		}
		munmap(p, size);
	}

	/* The mapping outlives the descriptor. */
	p = CHECK_OK(mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0));
	CHECK_OK(close(fd));
	if (p != MAP_FAILED) {
		CHECK(memcmp(p, want, size) == 0);
		munmap(p, size);
	}

	/* MAP_SHARED with PROT_WRITE needs a descriptor open for writing. */
	fd = CHECK_OK(open(path, O_RDONLY));
	CHECK_ERRNO(mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
	/* MAP_SHARED read-only is fine and shows the same bytes. */
	p = CHECK_OK(mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0));
	if (p != MAP_FAILED) {
		CHECK(memcmp(p, want, size) == 0);
		munmap(p, size);
	}
	close(fd);

	/* A descriptor open only for writing cannot be mapped at all. */
	fd = CHECK_OK(open("/dev/null", O_WRONLY));
	CHECK_ERRNO(mmap(NULL, page, PROT_READ, MAP_PRIVATE, fd, 0), EACCES);
	close(fd);

	/* A directory cannot be mapped. */
	fd = CHECK_OK(open("/usr", O_RDONLY | O_DIRECTORY));
	CHECK_ERRNO(mmap(NULL, page, PROT_READ, MAP_PRIVATE, fd, 0), ENODEV);
	close(fd);

	free(want);
	return test_done();
}
