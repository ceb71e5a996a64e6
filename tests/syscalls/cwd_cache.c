/* Relative paths start at the cwd, also when a rename, rmdir or a new
 * directory of the same name changes what the cwd's old path names, and
 * while the cwd sits in a directory of the root file system (the overlay's
 * lower layer under ward, whose lookups the sentry caches). */
#include "ward_test.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char top[] = "/tmp/ward-cwdcache.XXXXXX";

static const char *at(const char *rel)
{
	static char buf[4][PATH_MAX];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", top, rel);
	return buf[i];
}

static void touch(const char *path)
{
	int fd = open(path, O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	struct stat st;
	char cwd[PATH_MAX];
	CHECK(mkdtemp(top) != NULL);

	/* A directory of the root file system. */
	CHECK_OK(chdir("/usr/include"));
	for (int i = 0; i < 3; i++) {
		CHECK_OK(stat("stdio.h", &st));
		CHECK_OK(access("linux/limits.h", R_OK));
		CHECK_ERRNO(stat("no-such-header.h", &st), ENOENT);
		CHECK_OK(stat("../include/stdio.h", &st));
	}

	/* Created and removed names relative to the cwd. */
	CHECK_OK(mkdir(at("a"), 0755));
	CHECK_OK(chdir(at("a")));
	CHECK_ERRNO(stat("f", &st), ENOENT);
	touch("f");
	CHECK_OK(stat("f", &st));
	CHECK_OK(unlink(at("a/f")));
	CHECK_ERRNO(stat("f", &st), ENOENT);

	/* The cwd removed: nothing can be created in it any more. */
	CHECK_OK(mkdir(at("b"), 0755));
	CHECK_OK(chdir(at("b")));
	CHECK_ERRNO(stat("f", &st), ENOENT);
	CHECK_OK(rmdir(at("b")));
	CHECK_ERRNO(open("f", O_CREAT | O_WRONLY, 0644), ENOENT);
	CHECK_ERRNO(mkdir("d", 0755), ENOENT);
	CHECK_ERRNO(stat(at("b"), &st), ENOENT);
	/* chdir to a new directory of that name: that one. */
	CHECK_OK(mkdir(at("b"), 0755));
	CHECK_OK(chdir(at("b")));
	touch("g");
	CHECK_OK(stat(at("b/g"), &st));
	CHECK_OK(unlink("g"));

	/* The cwd's parent renamed: the cwd moves with it. */
	CHECK_OK(mkdir(at("c"), 0755));
	CHECK_OK(mkdir(at("c/sub"), 0755));
	touch(at("c/sub/old"));
	CHECK_OK(chdir(at("c/sub")));
	CHECK_OK(stat("old", &st));
	CHECK_OK(rename(at("c"), at("c2")));
	CHECK_OK(stat("old", &st));
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK_STREQ(cwd, at("c2/sub"));
	/* A new directory at the old path is not the cwd. */
	CHECK_OK(mkdir(at("c"), 0755));
	CHECK_OK(mkdir(at("c/sub"), 0755));
	touch(at("c/sub/new"));
	CHECK_OK(stat("old", &st));
	CHECK_ERRNO(stat("new", &st), ENOENT);
	touch("made");
	CHECK_OK(stat(at("c2/sub/made"), &st));
	CHECK_ERRNO(stat(at("c/sub/made"), &st), ENOENT);
	CHECK_OK(chdir(at("c/sub")));
	CHECK_OK(stat("new", &st));
	CHECK_ERRNO(stat("old", &st), ENOENT);

	/* A child with the same cwd sees what the parent changes. */
	CHECK_OK(chdir(at("a")));
	CHECK_ERRNO(stat("h", &st), ENOENT);
	pid_t pid = fork();
	if (pid == 0) {
		struct stat cst;
		for (int i = 0; i < 2000; i++) {
			if (stat("h", &cst) == 0)
				_exit(0);
			usleep(1000);
		}
		_exit(1);
	}
	touch(at("a/h"));
	int status;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	CHECK_OK(chdir("/"));
	unlink(at("a/h"));
	rmdir(at("a"));
	rmdir(at("b"));
	unlink(at("c/sub/new"));
	rmdir(at("c/sub"));
	rmdir(at("c"));
	unlink(at("c2/sub/old"));
	unlink(at("c2/sub/made"));
	rmdir(at("c2/sub"));
	rmdir(at("c2"));
	CHECK_OK(rmdir(top));
	return test_done();
}
