/* The working directory and open directories follow renames: getcwd,
 * "..", /proc/self/cwd and /proc/self/fd name the object where it is now,
 * after rename and renameat2(RENAME_EXCHANGE) of a directory above it. */
#include "ward_test.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

static char base[64];

static const char *at(const char *rel)
{
	static char bufs[8][PATH_MAX];
	static int next;
	char *b = bufs[next++ % 8];
	snprintf(b, PATH_MAX, "%s/%s", base, rel);
	return b;
}

int main(void)
{
	char buf[PATH_MAX], link[PATH_MAX];
	struct stat st, st2;

	snprintf(base, sizeof(base), "/tmp/ward-cwdren.XXXXXX");
	CHECK(mkdtemp(base) != NULL);
	CHECK_OK(mkdir(at("a"), 0755));
	CHECK_OK(mkdir(at("a/b"), 0755));
	CHECK_OK(mkdir(at("x"), 0755));
	CHECK_OK(chdir(at("a/b")));
	int dfd = CHECK_OK(open(at("a/b"), O_RDONLY | O_DIRECTORY));

	CHECK_OK(rename(at("a"), at("c")));
	CHECK_STREQ(getcwd(buf, sizeof(buf)), at("c/b"));
	ssize_t n = readlink("/proc/self/cwd", link, sizeof(link) - 1);
	CHECK(n > 0);
	link[n > 0 ? n : 0] = '\0';
	CHECK_STREQ(link, at("c/b"));
	snprintf(buf, sizeof(buf), "/proc/self/fd/%d", dfd);
	n = readlink(buf, link, sizeof(link) - 1);
	CHECK(n > 0);
	link[n > 0 ? n : 0] = '\0';
	CHECK_STREQ(link, at("c/b"));
	/* ".." from the cwd and from the descriptor is the renamed parent. */
	CHECK_OK(stat("..", &st));
	CHECK_OK(stat(at("c"), &st2));
	CHECK_EQ(st.st_ino, st2.st_ino);
	int up = CHECK_OK(openat(dfd, "..", O_RDONLY | O_DIRECTORY));
	CHECK_OK(fstat(up, &st));
	CHECK_EQ(st.st_ino, st2.st_ino);
	close(up);
	CHECK_OK(mkdir("../made-from-cwd", 0755));
	CHECK_OK(access(at("c/made-from-cwd"), F_OK));

	/* An exchange swaps the names of both trees. */
	CHECK_OK(syscall(SYS_renameat2, AT_FDCWD, at("c"), AT_FDCWD, at("x"), 2 /* RENAME_EXCHANGE */));
	CHECK_STREQ(getcwd(buf, sizeof(buf)), at("x/b"));
	CHECK_OK(access("../made-from-cwd", F_OK));

	/* Leave and clean up. */
	CHECK_OK(chdir("/"));
	close(dfd);
	CHECK_OK(rmdir(at("x/made-from-cwd")));
	CHECK_OK(rmdir(at("x/b")));
	CHECK_OK(rmdir(at("x")));
	CHECK_OK(rmdir(at("c")));
	CHECK_OK(rmdir(base));
	return test_done();
}
