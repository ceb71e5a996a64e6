/* Changes to objects of the root overlay's lower layer stay visible through
 * the sentry's cache of lower lookups, attributes and symlink targets.
 *
 * Usage: lowercache BASE, where BASE holds the fixture tests/sandbox/run.sh
 * makes. Natively BASE is a throwaway copy of it; under ward the fixture is
 * the --root, BASE is "/", and every object starts in the lower layer. Each
 * object is looked at before it is changed, so that the cache has it. */
#include "ward_test.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char base[PATH_MAX];

static const char *P(const char *rel)
{
	static char buf[4][PATH_MAX];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", base, rel);
	return buf[i];
}

/* Whether the directory rel lists name. */
static int lists(const char *rel, const char *name)
{
	DIR *d = opendir(P(rel));
	if (!d)
		return -1;
	int found = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, name) == 0)
			found = 1;
	closedir(d);
	return found;
}

static long size_of(const char *rel)
{
	struct stat st;
	return stat(P(rel), &st) == 0 ? (long)st.st_size : -1;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	snprintf(base, sizeof(base), "%s", strcmp(argv[1], "/") == 0 ? "" : argv[1]);
	struct stat st, st2;
	char buf[256];

	/* Plain lookups, twice: the second answers from the cache. */
	for (int i = 0; i < 2; i++) {
		CHECK_OK(stat(P("d/a"), &st));
		CHECK_EQ(st.st_size, 5);
		CHECK_EQ(st.st_mode & 07777, 0644);
		CHECK(S_ISREG(st.st_mode));
		CHECK_OK(lstat(P("d/sub/x"), &st));
		CHECK_EQ(st.st_size, 3);
		CHECK_ERRNO(stat(P("d/a/x"), &st), ENOTDIR);
		CHECK_ERRNO(stat(P("d/a/"), &st), ENOTDIR);
		CHECK_ERRNO(stat(P("d/loop1"), &st), ELOOP);
		CHECK_OK(lstat(P("d/loop1"), &st));
		CHECK(S_ISLNK(st.st_mode));
	}
	char nm[257];
	memset(nm, 'n', 256);
	nm[256] = '\0';
	char longname[300];
	snprintf(longname, sizeof(longname), "d/%s", nm);
	CHECK_ERRNO(stat(P(longname), &st), ENAMETOOLONG);

	/* A negative lookup becomes positive after a create. */
	CHECK_ERRNO(stat(P("d/missing"), &st), ENOENT);
	CHECK_ERRNO(access(P("d/missing"), F_OK), ENOENT);
	CHECK_EQ(lists("d", "missing"), 0);
	int fd = CHECK_OK(open(P("d/missing"), O_CREAT | O_WRONLY | O_EXCL, 0640));
	CHECK_EQ(write(fd, "xy", 2), 2);
	close(fd);
	CHECK_OK(stat(P("d/missing"), &st));
	CHECK_EQ(st.st_size, 2);
	CHECK_EQ(st.st_mode & 07777, 0640);
	CHECK_OK(access(P("d/missing"), R_OK));
	CHECK_EQ(lists("d", "missing"), 1);

	/* Unlink: gone for stat, lstat, open, access and the listing; then a
	 * new file of that name. */
	CHECK_OK(stat(P("d/gone"), &st));
	CHECK_EQ(lists("d", "gone"), 1);
	CHECK_OK(unlink(P("d/gone")));
	CHECK_ERRNO(stat(P("d/gone"), &st), ENOENT);
	CHECK_ERRNO(lstat(P("d/gone"), &st), ENOENT);
	CHECK_ERRNO(open(P("d/gone"), O_RDONLY), ENOENT);
	CHECK_ERRNO(access(P("d/gone"), F_OK), ENOENT);
	CHECK_ERRNO(unlink(P("d/gone")), ENOENT);
	CHECK_EQ(lists("d", "gone"), 0);
	fd = CHECK_OK(open(P("d/gone"), O_CREAT | O_WRONLY | O_EXCL, 0600));
	close(fd);
	CHECK_EQ(size_of("d/gone"), 0);

	/* Rename: the old name goes, the new one is the same file. */
	CHECK_OK(stat(P("d/ren"), &st));
	CHECK_ERRNO(stat(P("d/ren2"), &st2), ENOENT);
	CHECK_OK(rename(P("d/ren"), P("d/ren2")));
	CHECK_ERRNO(stat(P("d/ren"), &st2), ENOENT);
	CHECK_OK(stat(P("d/ren2"), &st2));
	CHECK_EQ(st2.st_ino, st.st_ino);
	CHECK_EQ(st2.st_size, st.st_size);
	CHECK_EQ(lists("d", "ren"), 0);
	CHECK_EQ(lists("d", "ren2"), 1);
	/* Over an existing lower name. */
	CHECK_OK(stat(P("d/b"), &st));
	CHECK_OK(rename(P("d/ren2"), P("d/b")));
	CHECK_OK(stat(P("d/b"), &st));
	CHECK_EQ(st.st_ino, st2.st_ino);
	CHECK_EQ(st.st_size, 4);

	/* chmod, chown-free attribute changes and truncation. */
	CHECK_OK(stat(P("d/a"), &st));
	CHECK_OK(chmod(P("d/a"), 0600));
	CHECK_OK(stat(P("d/a"), &st2));
	CHECK_EQ(st2.st_mode & 07777, 0600);
	CHECK_EQ(st2.st_ino, st.st_ino);
	CHECK_EQ(st2.st_size, 5);
	fd = CHECK_OK(open(P("d/a"), O_RDONLY));
	CHECK_EQ(read(fd, buf, sizeof(buf)), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	close(fd);
	fd = CHECK_OK(open(P("d/sub/x"), O_WRONLY | O_TRUNC));
	close(fd);
	CHECK_EQ(size_of("d/sub/x"), 0);

	/* Symlinks: read, replaced, followed. */
	ssize_t n = readlink(P("d/link"), buf, sizeof(buf));
	CHECK_EQ(n, 1);
	CHECK(n == 1 && buf[0] == 'a');
	CHECK_EQ(size_of("d/link"), 5);
	CHECK_OK(unlink(P("d/link")));
	CHECK_ERRNO(readlink(P("d/link"), buf, sizeof(buf)), ENOENT);
	CHECK_OK(symlink("sub", P("d/link")));
	n = readlink(P("d/link"), buf, sizeof(buf));
	CHECK_EQ(n, 3);
	CHECK(n == 3 && memcmp(buf, "sub", 3) == 0);
	CHECK_OK(stat(P("d/link"), &st));
	CHECK(S_ISDIR(st.st_mode));
	CHECK_OK(stat(P("d/link/x"), &st));
	/* A symlink replaced by a regular file. */
	CHECK_OK(readlink(P("d/link2"), buf, sizeof(buf)));
	CHECK_OK(rename(P("d/missing"), P("d/link2")));
	CHECK_ERRNO(readlink(P("d/link2"), buf, sizeof(buf)), EINVAL);
	CHECK_EQ(size_of("d/link2"), 2);

	/* Hard links. */
	CHECK_OK(stat(P("d/hl"), &st));
	CHECK_EQ(st.st_nlink, 1);
	CHECK_OK(link(P("d/hl"), P("d/hl2")));
	CHECK_OK(stat(P("d/hl"), &st));
	CHECK_OK(stat(P("d/hl2"), &st2));
	CHECK_EQ(st.st_nlink, 2);
	CHECK_EQ(st2.st_nlink, 2);
	CHECK_EQ(st.st_ino, st2.st_ino);

	/* Directories with lower contents. */
	CHECK_ERRNO(rmdir(P("d/full")), ENOTEMPTY);
	CHECK_OK(unlink(P("d/full/f")));
	CHECK_OK(rmdir(P("d/full")));
	CHECK_ERRNO(stat(P("d/full"), &st), ENOENT);
	CHECK_ERRNO(stat(P("d/full/f"), &st), ENOENT);
	CHECK_OK(mkdir(P("d/full"), 0755));
	CHECK_EQ(lists("d/full", "f"), 0);
	CHECK_ERRNO(stat(P("d/full/f"), &st), ENOENT);
	/* A file where a directory was, and the other way round. */
	CHECK_OK(rmdir(P("d/emptydir")));
	fd = CHECK_OK(open(P("d/emptydir"), O_CREAT | O_WRONLY, 0644));
	close(fd);
	CHECK_OK(stat(P("d/emptydir"), &st));
	CHECK(S_ISREG(st.st_mode));
	CHECK_ERRNO(stat(P("d/emptydir/x"), &st), ENOTDIR);

	/* O_PATH and fstatat relative to a lower directory. */
	int dfd = CHECK_OK(open(P("d/sub"), O_PATH | O_DIRECTORY));
	CHECK_OK(fstatat(dfd, "x", &st, 0));
	CHECK_ERRNO(fstatat(dfd, "nope", &st, 0), ENOENT);
	fd = CHECK_OK(openat(dfd, "nope", O_CREAT | O_WRONLY, 0644));
	close(fd);
	CHECK_OK(fstatat(dfd, "nope", &st, 0));
	close(dfd);

	/* Search permission on every component, as an unprivileged user. */
	if (geteuid() == 0) {
		CHECK_OK(stat(P("d/private/f"), &st));
		pid_t pid = fork();
		if (pid == 0) {
			if (setgid(65534) < 0 || setuid(65534) < 0)
				_exit(3);
			if (stat(P("d/private/f"), &st) == 0 || errno != EACCES)
				_exit(4);
			if (access(P("d/private"), F_OK) < 0)
				_exit(5);
			if (access(P("d/private/f"), F_OK) == 0 || errno != EACCES)
				_exit(6);
			if (stat(P("d/a"), &st) < 0) /* 0600 now, but stat needs no read right */
				_exit(7);
			if (open(P("d/a"), O_RDONLY) >= 0 || errno != EACCES)
				_exit(8);
			_exit(0);
		}
		int status;
		CHECK_EQ(waitpid(pid, &status, 0), pid);
		CHECK(WIFEXITED(status));
		CHECK_EQ(WEXITSTATUS(status), 0);
		/* Opening it up lets the same user in. */
		CHECK_OK(chmod(P("d/private"), 0755));
		pid = fork();
		if (pid == 0) {
			if (setgid(65534) < 0 || setuid(65534) < 0)
				_exit(3);
			_exit(stat(P("d/private/f"), &st) == 0 ? 0 : 4);
		}
		CHECK_EQ(waitpid(pid, &status, 0), pid);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	return test_done();
}
