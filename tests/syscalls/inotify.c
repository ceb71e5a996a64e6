/* inotify(7): instances, watches, the events of file operations in a
 * fresh directory, and the read rules. */
#include "ward_test.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

struct ev {
	int wd;
	uint32_t mask, cookie;
	char name[64];
};

static char dir[64];

/* Reads every queued event (the queue is filled synchronously). */
static int drain(int in, struct ev *out, int max)
{
	static char buf[1 << 20];
	int n = 0;
	for (;;) {
		struct pollfd p = { in, POLLIN, 0 };
		if (poll(&p, 1, 0) <= 0)
			break;
		ssize_t len = read(in, buf, sizeof(buf));
		if (len <= 0)
			break;
		for (ssize_t off = 0; off < len;) {
			struct inotify_event *e = (struct inotify_event *)(buf + off);
			if (n < max) {
				out[n].wd = e->wd;
				out[n].mask = e->mask;
				out[n].cookie = e->cookie;
				snprintf(out[n].name, sizeof(out[n].name), "%s", e->len ? e->name : "");
				/* The name is padded to a multiple of the header size. */
				CHECK_EQ(e->len % sizeof(struct inotify_event), 0);
			}
			n++;
			off += (ssize_t)sizeof(*e) + e->len;
		}
	}
	return n;
}

#define CHECK_EV(e, w, m, nm)                      \
	do {                                       \
		CHECK_EQ((e).wd, (w));             \
		CHECK_EQ((e).mask, (uint32_t)(m)); \
		CHECK_STREQ((e).name, (nm));       \
	} while (0)

static char *path(const char *name)
{
	static char bufs[4][256];
	static int i;
	char *b = bufs[i++ % 4];
	snprintf(b, 256, "%s/%s", dir, name);
	return b;
}

static void test_init_and_errors(void)
{
	CHECK_ERRNO(inotify_init1(0x1234), EINVAL);
	int in = CHECK_OK(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
	CHECK_EQ(fcntl(in, F_GETFD), FD_CLOEXEC);
	CHECK(fcntl(in, F_GETFL) & O_NONBLOCK);
	char buf[256];
	CHECK_ERRNO(read(in, buf, sizeof(buf)), EAGAIN);
	int old = CHECK_OK(inotify_init());
	CHECK_EQ(fcntl(old, F_GETFD), 0);
	close(old);

	CHECK_ERRNO(inotify_add_watch(in, dir, 0), EINVAL);
	CHECK_ERRNO(inotify_add_watch(in, dir, IN_MASK_ADD | IN_MASK_CREATE | IN_CREATE), EINVAL);
	CHECK_ERRNO(inotify_add_watch(-1, dir, IN_CREATE), EBADF);
	CHECK_ERRNO(inotify_add_watch(99, dir, IN_CREATE), EBADF);
	int fds[2];
	CHECK_OK(pipe(fds));
	CHECK_ERRNO(inotify_add_watch(fds[0], dir, IN_CREATE), EINVAL);
	CHECK_ERRNO(inotify_rm_watch(fds[0], 1), EINVAL);
	close(fds[0]);
	close(fds[1]);
	CHECK_ERRNO(inotify_add_watch(in, path("missing"), IN_CREATE), ENOENT);
	CHECK_ERRNO(inotify_add_watch(in, "", IN_CREATE), ENOENT);
	CHECK_ERRNO(inotify_add_watch(in, (char *)8, IN_CREATE), EFAULT);
	close(CHECK_OK(open(path("file"), O_CREAT | O_WRONLY, 0644)));
	CHECK_ERRNO(inotify_add_watch(in, path("file"), IN_CREATE | IN_ONLYDIR), ENOTDIR);
	CHECK_ERRNO(inotify_add_watch(in, path("file/x"), IN_CREATE), ENOTDIR);

	/* One watch per object: adding again returns its descriptor. */
	int wd = CHECK_OK(inotify_add_watch(in, dir, IN_CREATE));
	CHECK(wd >= 1);
	CHECK_EQ(inotify_add_watch(in, dir, IN_DELETE), wd);
	CHECK_ERRNO(inotify_add_watch(in, dir, IN_DELETE | IN_MASK_CREATE), EEXIST);
	int wd2 = CHECK_OK(inotify_add_watch(in, path("file"), IN_MODIFY));
	CHECK(wd2 != wd);
	CHECK_ERRNO(inotify_rm_watch(in, 12345), EINVAL);
	CHECK_ERRNO(inotify_rm_watch(-1, wd), EBADF);
	/* Removing a watch queues IN_IGNORED. */
	CHECK_OK(inotify_rm_watch(in, wd2));
	CHECK_ERRNO(inotify_rm_watch(in, wd2), EINVAL);
	struct ev e[8];
	CHECK_EQ(drain(in, e, 8), 1);
	CHECK_EV(e[0], wd2, IN_IGNORED, "");
	/* A new watch takes a new number. */
	int wd3 = CHECK_OK(inotify_add_watch(in, path("file"), IN_MODIFY));
	CHECK(wd3 > wd2);
	/* The mask replaces, or with IN_MASK_ADD adds: IN_DELETE (set
	 * last) replaced IN_CREATE. */
	close(CHECK_OK(open(path("new"), O_CREAT | O_WRONLY, 0644)));
	CHECK_EQ(drain(in, e, 8), 0);
	CHECK_EQ(inotify_add_watch(in, dir, IN_CREATE | IN_MASK_ADD), wd);
	CHECK_OK(unlink(path("new")));
	CHECK_EQ(drain(in, e, 8), 1);
	CHECK_EV(e[0], wd, IN_DELETE, "new");
	CHECK_OK(unlink(path("file")));
	close(in);
}

static void test_dir_events(void)
{
	int in = CHECK_OK(inotify_init1(IN_NONBLOCK));
	int wd = CHECK_OK(inotify_add_watch(in, dir, IN_ALL_EVENTS));
	struct ev e[32];

	int fd = CHECK_OK(open(path("a"), O_CREAT | O_WRONLY, 0644));
	CHECK_EQ(write(fd, "x", 1), 1);
	CHECK_EQ(write(fd, "y", 1), 1); /* merged with the first */
	close(fd);
	int n = drain(in, e, 32);
	CHECK_EQ(n, 4);
	if (n == 4) {
		CHECK_EV(e[0], wd, IN_CREATE, "a");
		CHECK_EV(e[1], wd, IN_OPEN, "a");
		CHECK_EV(e[2], wd, IN_MODIFY, "a");
		CHECK_EV(e[3], wd, IN_CLOSE_WRITE, "a");
	}

	char buf[8];
	fd = CHECK_OK(open(path("a"), O_RDONLY));
	CHECK_EQ(read(fd, buf, sizeof(buf)), 2);
	CHECK_EQ(read(fd, buf, sizeof(buf)), 0); /* nothing read: no event */
	close(fd);
	n = drain(in, e, 32);
	CHECK_EQ(n, 3);
	if (n == 3) {
		CHECK_EV(e[0], wd, IN_OPEN, "a");
		CHECK_EV(e[1], wd, IN_ACCESS, "a");
		CHECK_EV(e[2], wd, IN_CLOSE_NOWRITE, "a");
	}

	CHECK_OK(chmod(path("a"), 0600));
	CHECK_OK(truncate(path("a"), 0));
	CHECK_OK(mkdir(path("d"), 0755));
	CHECK_OK(symlink("a", path("s")));
	CHECK_OK(link(path("a"), path("h")));
	n = drain(in, e, 32);
	CHECK_EQ(n, 5);
	if (n == 5) {
		CHECK_EV(e[0], wd, IN_ATTRIB, "a");
		CHECK_EV(e[1], wd, IN_MODIFY, "a");
		CHECK_EV(e[2], wd, IN_CREATE | IN_ISDIR, "d");
		CHECK_EV(e[3], wd, IN_CREATE, "s");
		CHECK_EV(e[4], wd, IN_CREATE, "h");
	}

	/* A directory opened and listed. */
	fd = CHECK_OK(open(path("d"), O_RDONLY | O_DIRECTORY));
	char dents[1024];
	CHECK(syscall(SYS_getdents64, fd, dents, sizeof(dents)) > 0);
	CHECK_EQ(syscall(SYS_getdents64, fd, dents, sizeof(dents)), 0);
	close(fd);
	n = drain(in, e, 32);
	CHECK_EQ(n, 3);
	if (n == 3) {
		CHECK_EV(e[0], wd, IN_OPEN | IN_ISDIR, "d");
		CHECK_EV(e[1], wd, IN_ACCESS | IN_ISDIR, "d");
		CHECK_EV(e[2], wd, IN_CLOSE_NOWRITE | IN_ISDIR, "d");
	}

	/* A rename is a pair tied by a cookie. */
	CHECK_OK(rename(path("a"), path("b")));
	CHECK_OK(rename(path("d"), path("e")));
	n = drain(in, e, 32);
	CHECK_EQ(n, 4);
	if (n == 4) {
		CHECK_EV(e[0], wd, IN_MOVED_FROM, "a");
		CHECK_EV(e[1], wd, IN_MOVED_TO, "b");
		CHECK(e[0].cookie != 0);
		CHECK_EQ(e[0].cookie, e[1].cookie);
		CHECK_EV(e[2], wd, IN_MOVED_FROM | IN_ISDIR, "d");
		CHECK_EV(e[3], wd, IN_MOVED_TO | IN_ISDIR, "e");
		CHECK(e[2].cookie != e[0].cookie);
	}

	CHECK_OK(unlink(path("b")));
	CHECK_OK(unlink(path("h")));
	CHECK_OK(unlink(path("s")));
	CHECK_OK(rmdir(path("e")));
	n = drain(in, e, 32);
	CHECK_EQ(n, 4);
	if (n == 4) {
		CHECK_EV(e[0], wd, IN_DELETE, "b");
		CHECK_EV(e[1], wd, IN_DELETE, "h");
		CHECK_EV(e[2], wd, IN_DELETE, "s");
		CHECK_EV(e[3], wd, IN_DELETE | IN_ISDIR, "e");
	}
	close(in);
}

static void test_self_events(void)
{
	int in = CHECK_OK(inotify_init1(IN_NONBLOCK));
	struct ev e[32];
	close(CHECK_OK(open(path("f"), O_CREAT | O_WRONLY, 0644)));
	int wd = CHECK_OK(inotify_add_watch(in, path("f"), IN_ALL_EVENTS));
	int fd = CHECK_OK(open(path("f"), O_WRONLY | O_TRUNC));
	CHECK_EQ(write(fd, "abc", 3), 3);
	CHECK_OK(ftruncate(fd, 1));
	CHECK_OK(fchmod(fd, 0640));
	close(fd);
	int n = drain(in, e, 32);
	CHECK_EQ(n, 4);
	if (n == 4) {
		CHECK_EV(e[0], wd, IN_OPEN, "");
		/* O_TRUNC, the write and ftruncate: merged */
		CHECK_EV(e[1], wd, IN_MODIFY, "");
		CHECK_EV(e[2], wd, IN_ATTRIB, "");
		CHECK_EV(e[3], wd, IN_CLOSE_WRITE, "");
	}
	CHECK_OK(rename(path("f"), path("g")));
	CHECK_OK(unlink(path("g")));
	n = drain(in, e, 32);
	CHECK_EQ(n, 4);
	if (n == 4) {
		CHECK_EV(e[0], wd, IN_MOVE_SELF, "");
		CHECK_EV(e[1], wd, IN_ATTRIB, "");
		CHECK_EV(e[2], wd, IN_DELETE_SELF, "");
		CHECK_EV(e[3], wd, IN_IGNORED, "");
	}
	CHECK_ERRNO(inotify_rm_watch(in, wd), EINVAL);

	/* A directory's own events say IN_ISDIR, but for its move and its
	 * end, seen from it and from its parent. */
	CHECK_OK(mkdir(path("sub"), 0755));
	int wdp = CHECK_OK(inotify_add_watch(in, dir, IN_DELETE));
	int wds = CHECK_OK(inotify_add_watch(in, path("sub"), IN_ALL_EVENTS));
	close(CHECK_OK(open(path("sub"), O_RDONLY)));
	CHECK_OK(chmod(path("sub"), 0700));
	CHECK_OK(rename(path("sub"), path("sub2")));
	CHECK_OK(rmdir(path("sub2")));
	n = drain(in, e, 32);
	CHECK_EQ(n, 7);
	if (n == 7) {
		CHECK_EV(e[0], wds, IN_OPEN | IN_ISDIR, "");
		CHECK_EV(e[1], wds, IN_CLOSE_NOWRITE | IN_ISDIR, "");
		CHECK_EV(e[2], wds, IN_ATTRIB | IN_ISDIR, "");
		CHECK_EV(e[3], wds, IN_MOVE_SELF, "");
		CHECK_EV(e[4], wds, IN_DELETE_SELF, "");
		CHECK_EV(e[5], wds, IN_IGNORED, "");
		CHECK_EV(e[6], wdp, IN_DELETE | IN_ISDIR, "sub2");
	}
	CHECK_OK(inotify_rm_watch(in, wdp));
	drain(in, e, 32);

	/* Both the parent and the file watched: the parent hears first. */
	close(CHECK_OK(open(path("both"), O_CREAT | O_WRONLY, 0644)));
	wdp = CHECK_OK(inotify_add_watch(in, dir, IN_MODIFY));
	int wdf = CHECK_OK(inotify_add_watch(in, path("both"), IN_MODIFY));
	fd = CHECK_OK(open(path("both"), O_WRONLY));
	CHECK_EQ(write(fd, "z", 1), 1);
	close(fd);
	n = drain(in, e, 32);
	CHECK_EQ(n, 2);
	if (n == 2) {
		CHECK_EV(e[0], wdp, IN_MODIFY, "both");
		CHECK_EV(e[1], wdf, IN_MODIFY, "");
	}
	CHECK_OK(unlink(path("both")));
	close(in);
}

static void test_oneshot_and_symlinks(void)
{
	int in = CHECK_OK(inotify_init1(IN_NONBLOCK));
	struct ev e[32];
	close(CHECK_OK(open(path("t"), O_CREAT | O_WRONLY, 0644)));
	CHECK_OK(symlink("t", path("l")));
	int wd = CHECK_OK(inotify_add_watch(in, path("t"), IN_OPEN | IN_ONESHOT));
	close(CHECK_OK(open(path("t"), O_RDONLY)));
	close(CHECK_OK(open(path("t"), O_RDONLY)));
	int n = drain(in, e, 32);
	CHECK_EQ(n, 2);
	if (n == 2) {
		CHECK_EV(e[0], wd, IN_OPEN, "");
		CHECK_EV(e[1], wd, IN_IGNORED, "");
	}
	/* Through a symlink, the target; with IN_DONT_FOLLOW, the link. */
	int wt = CHECK_OK(inotify_add_watch(in, path("t"), IN_ATTRIB));
	CHECK_EQ(inotify_add_watch(in, path("l"), IN_ATTRIB), wt);
	int wl = CHECK_OK(inotify_add_watch(in, path("l"), IN_ATTRIB | IN_DONT_FOLLOW));
	CHECK(wl != wt);
	CHECK_OK(chmod(path("l"), 0600));
	n = drain(in, e, 32);
	CHECK_EQ(n, 1);
	if (n == 1)
		CHECK_EV(e[0], wt, IN_ATTRIB, "");
	CHECK_OK(unlink(path("l")));
	CHECK_OK(unlink(path("t")));
	close(in);
}

/* After an unlink, an open file's events still reach its old directory,
 * but for watches that asked IN_EXCL_UNLINK. */
static void test_excl_unlink(void)
{
	int in = CHECK_OK(inotify_init1(IN_NONBLOCK));
	int in2 = CHECK_OK(inotify_init1(IN_NONBLOCK));
	struct ev e[8];
	int fd = CHECK_OK(open(path("gone"), O_CREAT | O_RDWR, 0644));
	int wd = CHECK_OK(inotify_add_watch(in, dir, IN_MODIFY));
	CHECK_OK(inotify_add_watch(in2, dir, IN_MODIFY | IN_EXCL_UNLINK));
	CHECK_OK(unlink(path("gone")));
	CHECK_EQ(write(fd, "x", 1), 1);
	int n = drain(in, e, 8);
	CHECK_EQ(n, 1);
	if (n == 1)
		CHECK_EV(e[0], wd, IN_MODIFY, "gone");
	CHECK_EQ(drain(in2, e, 8), 0);
	close(fd);
	close(in);
	close(in2);
}

static void test_read_rules(void)
{
	int in = CHECK_OK(inotify_init());
	int wd = CHECK_OK(inotify_add_watch(in, dir, IN_CREATE));
	/* Readiness follows the queue. */
	struct pollfd p = { in, POLLIN, 0 };
	CHECK_EQ(poll(&p, 1, 0), 0);
	int ep = CHECK_OK(epoll_create1(0));
	struct epoll_event ee = { .events = EPOLLIN, .data.u32 = 7 };
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, in, &ee));
	CHECK_EQ(epoll_wait(ep, &ee, 1, 0), 0);
	close(CHECK_OK(open(path("name-of-twenty-chars"), O_CREAT | O_WRONLY, 0644)));
	close(CHECK_OK(open(path("x"), O_CREAT | O_WRONLY, 0644)));
	CHECK_EQ(poll(&p, 1, 0), 1);
	CHECK_EQ(p.revents, POLLIN);
	CHECK_EQ(epoll_wait(ep, &ee, 1, 0), 1);
	CHECK_EQ(ee.data.u32, 7);
	int avail = -1;
	CHECK_OK(ioctl(in, FIONREAD, &avail));
	/* 16 + 32 ("name-of-twenty-chars" and its NUL, padded) + 16 + 16. */
	CHECK_EQ(avail, 80);
	char buf[256];
	/* Too small for the first event. */
	CHECK_ERRNO(read(in, buf, 16), EINVAL);
	CHECK_ERRNO(read(in, buf, 47), EINVAL);
	/* Only whole events. */
	CHECK_EQ(read(in, buf, 70), 48);
	struct inotify_event *e = (struct inotify_event *)buf;
	CHECK_EQ(e->wd, wd);
	CHECK_EQ(e->mask, IN_CREATE);
	CHECK_EQ(e->len, 32);
	CHECK_STREQ(e->name, "name-of-twenty-chars");
	CHECK_EQ(read(in, buf, sizeof(buf)), 32);
	CHECK_EQ(e->len, 16);
	CHECK_STREQ(e->name, "x");
	CHECK_OK(ioctl(in, FIONREAD, &avail));
	CHECK_EQ(avail, 0);
	CHECK_OK(unlink(path("name-of-twenty-chars")));
	CHECK_OK(unlink(path("x")));
	close(ep);
	close(in);
}

static void test_overflow(void)
{
	FILE *q = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
	int max = 0;
	if (q) {
		if (fscanf(q, "%d", &max) != 1)
			max = 0;
		fclose(q);
	}
	if (max != 16384)
		return; /* the host's limit is not the default */
	int in = CHECK_OK(inotify_init1(IN_NONBLOCK));
	close(CHECK_OK(open(path("o"), O_CREAT | O_WRONLY, 0644)));
	int wd = CHECK_OK(inotify_add_watch(in, path("o"), IN_OPEN | IN_CLOSE));
	/* Open and close alternate, so nothing merges. */
	for (int i = 0; i < 8200; i++)
		close(open(path("o"), O_RDONLY));
	static struct ev e[16400];
	int n = drain(in, e, 16400);
	CHECK_EQ(n, max + 1);
	if (n == max + 1) {
		CHECK_EV(e[0], wd, IN_OPEN, "");
		CHECK_EV(e[max - 1], wd, IN_CLOSE_NOWRITE, "");
		CHECK_EV(e[max], -1, IN_Q_OVERFLOW, "");
	}
	CHECK_OK(unlink(path("o")));
	close(in);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/inotify-XXXXXX");
	if (!mkdtemp(dir))
		SKIP("no /tmp");
	test_init_and_errors();
	test_dir_events();
	test_self_events();
	test_oneshot_and_symlinks();
	test_excl_unlink();
	test_read_rules();
	test_overflow();
	CHECK_OK(rmdir(dir));
	return test_done();
}
