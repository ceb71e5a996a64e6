/* File locks: fcntl's POSIX record locks (F_GETLK/F_SETLK/F_SETLKW: per
 * process, split and merge, released by any close of the file and at exit,
 * EAGAIN, EDEADLK, EINTR), OFD locks (per open file description, shared by
 * dup, conflicting with POSIX locks) and flock(2) (per open file
 * description, shared across dup and fork, LOCK_NB, conversions), with the
 * argument errors Linux gives. */
#include "ward_test.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static char path[64];

static int lk(int fd, int cmd, int type, off_t start, off_t len)
{
	struct flock fl = { .l_type = (short)type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	return fcntl(fd, cmd, &fl);
}

/* F_GETLK (or F_OFD_GETLK) for a lock of type over [start, start+len). */
static struct flock getlk(int fd, int cmd, int type, off_t start, off_t len)
{
	struct flock fl = { .l_type = (short)type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	CHECK_OK(fcntl(fd, cmd, &fl));
	return fl;
}

static int wait_child(pid_t pid)
{
	int st = -1;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	return st;
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void test_getlk_and_errors(int fd)
{
	struct flock fl = getlk(fd, F_GETLK, F_WRLCK, 0, 0);
	CHECK_EQ(fl.l_type, F_UNLCK);
	/* Only the type changes when nothing conflicts. */
	CHECK_EQ(fl.l_start, 0);

	struct flock bad = { .l_type = F_UNLCK, .l_whence = SEEK_SET };
	CHECK_ERRNO(fcntl(fd, F_GETLK, &bad), EINVAL);
	bad.l_type = 7;
	CHECK_ERRNO(fcntl(fd, F_SETLK, &bad), EINVAL);
	bad.l_type = F_RDLCK;
	bad.l_whence = 5;
	CHECK_ERRNO(fcntl(fd, F_SETLK, &bad), EINVAL);
	bad.l_whence = SEEK_SET;
	bad.l_start = -1;
	CHECK_ERRNO(fcntl(fd, F_SETLK, &bad), EINVAL);
	bad.l_start = 2;
	bad.l_len = -3;
	CHECK_ERRNO(fcntl(fd, F_SETLK, &bad), EINVAL);
	CHECK_ERRNO(fcntl(fd, F_SETLK, (void *)1), EFAULT);
	CHECK_ERRNO(fcntl(-1, F_SETLK, &bad), EBADF);

	/* The lock type must fit the access mode. */
	int ro = CHECK_OK(open(path, O_RDONLY));
	int wo = CHECK_OK(open(path, O_WRONLY));
	CHECK_ERRNO(lk(ro, F_SETLK, F_WRLCK, 0, 1), EBADF);
	CHECK_ERRNO(lk(wo, F_SETLK, F_RDLCK, 0, 1), EBADF);
	CHECK_EQ(lk(ro, F_SETLK, F_UNLCK, 0, 1), 0);
	int op = CHECK_OK(open(path, O_PATH));
	CHECK_ERRNO(lk(op, F_SETLK, F_UNLCK, 0, 1), EBADF);
	CHECK_ERRNO(flock(op, LOCK_SH), EBADF);
	close(op);
	close(ro);
	close(wo);
}

/* The parent's locks as a child sees them. */
static void test_posix_split_merge(int fd)
{
	CHECK_EQ(lk(fd, F_SETLK, F_WRLCK, 0, 100), 0);
	CHECK_EQ(lk(fd, F_SETLK, F_UNLCK, 40, 20), 0); /* split */
	CHECK_EQ(lk(fd, F_SETLK, F_RDLCK, 200, 10), 0);
	CHECK_EQ(lk(fd, F_SETLK, F_RDLCK, 210, 10), 0); /* merges */
	/* A negative length counts back from l_start. */
	CHECK_EQ(lk(fd, F_SETLK, F_WRLCK, 310, -10), 0);
	/* Locking over one's own lock never conflicts. */
	CHECK_EQ(lk(fd, F_SETLK, F_WRLCK, 0, 10), 0);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		struct flock fl = getlk(fd, F_GETLK, F_WRLCK, 40, 20);
		CHECK_EQ(fl.l_type, F_UNLCK);
		fl = getlk(fd, F_GETLK, F_RDLCK, 10, 1000);
		CHECK_EQ(fl.l_type, F_WRLCK);
		CHECK_EQ(fl.l_whence, SEEK_SET);
		CHECK_EQ(fl.l_start, 0);
		CHECK_EQ(fl.l_len, 40);
		CHECK_EQ(fl.l_pid, parent);
		fl = getlk(fd, F_GETLK, F_RDLCK, 50, 1000);
		CHECK_EQ(fl.l_start, 60);
		CHECK_EQ(fl.l_len, 40);
		/* Reads share. */
		fl = getlk(fd, F_GETLK, F_RDLCK, 200, 20);
		CHECK_EQ(fl.l_type, F_UNLCK);
		fl = getlk(fd, F_GETLK, F_WRLCK, 150, 200);
		CHECK_EQ(fl.l_type, F_RDLCK);
		CHECK_EQ(fl.l_start, 200);
		CHECK_EQ(fl.l_len, 20);
		fl = getlk(fd, F_GETLK, F_RDLCK, 250, 0);
		CHECK_EQ(fl.l_type, F_WRLCK);
		CHECK_EQ(fl.l_start, 300);
		CHECK_EQ(fl.l_len, 10);
		CHECK_ERRNO(lk(fd, F_SETLK, F_WRLCK, 0, 1), EAGAIN);
		CHECK_ERRNO(lk(fd, F_SETLK, F_WRLCK, 205, 1), EAGAIN);
		CHECK_EQ(lk(fd, F_SETLK, F_RDLCK, 205, 1), 0);
		CHECK_EQ(lk(fd, F_SETLK, F_WRLCK, 45, 10), 0);
		/* The child's lock is not the parent's: fork does not copy. */
		_exit(test_done());
	}
	CHECK_EQ(wait_child(pid), 0);
	/* The child's locks went with it. */
	CHECK_EQ(lk(fd, F_SETLK, F_WRLCK, 40, 20), 0);
	CHECK_EQ(lk(fd, F_SETLK, F_UNLCK, 0, 0), 0);
}

/* Closing any descriptor of the file drops the process's locks. */
static void test_close_releases(int fd)
{
	CHECK_EQ(lk(fd, F_SETLK, F_WRLCK, 0, 0), 0);
	int other = CHECK_OK(open(path, O_RDONLY));
	close(other);
	pid_t pid = fork();
	if (pid == 0) {
		struct flock fl = getlk(fd, F_GETLK, F_WRLCK, 0, 0);
		CHECK_EQ(fl.l_type, F_UNLCK);
		_exit(test_done());
	}
	CHECK_EQ(wait_child(pid), 0);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* A child holds [0, 10) write-locked until told to go. */
static pid_t holder(int fd, int *go_w)
{
	int ready[2], go[2];
	CHECK_OK(pipe(ready));
	CHECK_OK(pipe(go));
	pid_t pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		CHECK_EQ(lk(fd, F_SETLK, F_WRLCK, 0, 10), 0);
		char c = 'r';
		CHECK_EQ(write(ready[1], &c, 1), 1);
		CHECK_EQ(read(go[0], &c, 1), 1);
		msleep(50);
		_exit(test_done());
	}
	close(ready[1]);
	close(go[0]);
	char c;
	CHECK_EQ(read(ready[0], &c, 1), 1);
	close(ready[0]);
	*go_w = go[1];
	return pid;
}

static void test_setlkw(int fd)
{
	int go;
	pid_t pid = holder(fd, &go);
	CHECK_ERRNO(lk(fd, F_SETLK, F_RDLCK, 5, 1), EAGAIN);

	/* Interrupted by a handler without SA_RESTART: EINTR. */
	struct sigaction sa = { .sa_handler = on_alarm };
	CHECK_OK(sigaction(SIGALRM, &sa, NULL));
	struct itimerval it = { .it_value = { 0, 100000 } };
	CHECK_OK(setitimer(ITIMER_REAL, &it, NULL));
	CHECK_ERRNO(lk(fd, F_SETLKW, F_WRLCK, 0, 1), EINTR);

	/* Waits until the holder exits. */
	CHECK_EQ(write(go, "g", 1), 1);
	CHECK_EQ(lk(fd, F_SETLKW, F_WRLCK, 0, 1), 0);
	CHECK_EQ(wait_child(pid), 0);
	close(go);
	CHECK_EQ(lk(fd, F_SETLK, F_UNLCK, 0, 0), 0);
}

/* Two processes each waiting for the other's lock: the second to wait
 * gets EDEADLK. */
static void test_deadlock(int fd)
{
	CHECK_EQ(lk(fd, F_SETLK, F_WRLCK, 0, 1), 0);
	int ready[2];
	CHECK_OK(pipe(ready));
	pid_t pid = fork();
	if (pid == 0) {
		close(ready[0]);
		CHECK_EQ(lk(fd, F_SETLK, F_WRLCK, 1, 1), 0);
		CHECK_EQ(write(ready[1], "r", 1), 1);
		/* Blocks until the parent lets go of byte 0. */
		CHECK_EQ(lk(fd, F_SETLKW, F_WRLCK, 0, 1), 0);
		_exit(test_done());
	}
	close(ready[1]);
	char c;
	CHECK_EQ(read(ready[0], &c, 1), 1);
	close(ready[0]);
	/* Give the child time to go to sleep on byte 0. */
	msleep(300);
	CHECK_ERRNO(lk(fd, F_SETLKW, F_WRLCK, 1, 1), EDEADLK);
	CHECK_EQ(lk(fd, F_SETLK, F_UNLCK, 0, 1), 0);
	CHECK_EQ(wait_child(pid), 0);
}

static void test_ofd(void)
{
	int a = CHECK_OK(open(path, O_RDWR));
	int b = CHECK_OK(open(path, O_RDWR));
	CHECK_EQ(lk(a, F_OFD_SETLK, F_WRLCK, 0, 10), 0);
	/* Another open file description conflicts, in the same process. */
	CHECK_ERRNO(lk(b, F_OFD_SETLK, F_WRLCK, 5, 1), EAGAIN);
	CHECK_ERRNO(lk(b, F_SETLK, F_RDLCK, 5, 1), EAGAIN);
	struct flock fl = getlk(b, F_OFD_GETLK, F_RDLCK, 0, 0);
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_pid, -1);
	CHECK_EQ(fl.l_len, 10);
	fl = getlk(b, F_GETLK, F_RDLCK, 0, 0);
	CHECK_EQ(fl.l_pid, -1);
	/* A dup shares the lock. */
	int d = CHECK_OK(dup(a));
	CHECK_EQ(lk(d, F_OFD_SETLK, F_WRLCK, 5, 1), 0);
	/* l_pid must be 0. */
	struct flock p = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_pid = 1 };
	CHECK_ERRNO(fcntl(a, F_OFD_SETLK, &p), EINVAL);
	CHECK_ERRNO(fcntl(a, F_OFD_GETLK, &p), EINVAL);
	/* Closing one descriptor keeps it; closing the last drops it. */
	close(a);
	CHECK_ERRNO(lk(b, F_OFD_SETLK, F_WRLCK, 0, 1), EAGAIN);
	close(d);
	CHECK_EQ(lk(b, F_OFD_SETLK, F_WRLCK, 0, 1), 0);
	/* A POSIX lock of this process conflicts with the OFD lock. */
	int c = CHECK_OK(open(path, O_RDWR));
	CHECK_ERRNO(lk(c, F_SETLK, F_WRLCK, 0, 1), EAGAIN);
	CHECK_EQ(lk(c, F_SETLK, F_WRLCK, 1, 1), 0);
	CHECK_ERRNO(lk(b, F_OFD_SETLK, F_RDLCK, 1, 1), EAGAIN);
	close(c);
	CHECK_EQ(lk(b, F_OFD_SETLK, F_RDLCK, 1, 1), 0);
	close(b);
}

static void test_flock(void)
{
	int a = CHECK_OK(open(path, O_RDONLY));
	int b = CHECK_OK(open(path, O_RDONLY));
	CHECK_ERRNO(flock(a, 3), EINVAL);
	CHECK_ERRNO(flock(-1, LOCK_SH), EBADF);
	CHECK_EQ(flock(a, LOCK_SH), 0);
	CHECK_EQ(flock(b, LOCK_SH | LOCK_NB), 0);
	CHECK_ERRNO(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	/* The failed conversion dropped b's shared lock, as Linux does. */
	CHECK_EQ(flock(a, LOCK_EX | LOCK_NB), 0);
	CHECK_ERRNO(flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	/* flock and POSIX locks do not meet. */
	int w = CHECK_OK(open(path, O_RDWR));
	CHECK_EQ(lk(w, F_SETLK, F_WRLCK, 0, 0), 0);
	close(w);
	/* A dup and a forked child share the lock. */
	int d = CHECK_OK(dup(a));
	CHECK_EQ(flock(d, LOCK_EX | LOCK_NB), 0);
	pid_t pid = fork();
	if (pid == 0) {
		CHECK_EQ(flock(a, LOCK_EX | LOCK_NB), 0);
		int e = CHECK_OK(open(path, O_RDONLY));
		CHECK_ERRNO(flock(e, LOCK_SH | LOCK_NB), EWOULDBLOCK);
		_exit(test_done());
	}
	CHECK_EQ(wait_child(pid), 0);
	/* The child's close did not drop it: the description lives on. */
	CHECK_ERRNO(flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);

	/* A blocked LOCK_SH waits for LOCK_UN. */
	int ready[2];
	CHECK_OK(pipe(ready));
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		CHECK_EQ(write(ready[1], "r", 1), 1);
		int e = CHECK_OK(open(path, O_RDONLY));
		CHECK_EQ(flock(e, LOCK_SH), 0);
		_exit(test_done());
	}
	close(ready[1]);
	char c;
	CHECK_EQ(read(ready[0], &c, 1), 1);
	close(ready[0]);
	msleep(100);
	CHECK_EQ(flock(d, LOCK_UN), 0);
	CHECK_EQ(wait_child(pid), 0);
	CHECK_EQ(flock(b, LOCK_EX | LOCK_NB), 0);
	/* Closing every descriptor of the description drops its lock. */
	close(a);
	close(d);
	close(b);
	b = CHECK_OK(open(path, O_RDONLY));
	a = CHECK_OK(open(path, O_RDONLY));
	CHECK_EQ(flock(a, LOCK_EX | LOCK_NB), 0);
	close(a);
	CHECK_EQ(flock(b, LOCK_EX | LOCK_NB), 0);
	close(b);
}

/* Files of the root file system lock too, read-only ones included. */
static void test_root_file(void)
{
	int fd = open("/etc/os-release", O_RDONLY);
	if (fd < 0)
		return;
	CHECK_EQ(lk(fd, F_SETLK, F_RDLCK, 0, 1), 0);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		int c = open("/etc/os-release", O_RDONLY);
		struct flock fl = getlk(c, F_GETLK, F_WRLCK, 0, 0);
		CHECK_EQ(fl.l_type, F_RDLCK);
		CHECK_EQ(fl.l_pid, parent);
		CHECK_EQ(flock(c, LOCK_EX | LOCK_NB), 0);
		_exit(test_done());
	}
	CHECK_EQ(wait_child(pid), 0);
	close(fd);
}

int main(void)
{
	snprintf(path, sizeof(path), "/tmp/ward-locks-%d", (int)getpid());
	int fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
	CHECK_EQ(write(fd, "0123456789", 10), 10);
	test_getlk_and_errors(fd);
	test_posix_split_merge(fd);
	test_close_releases(fd);
	test_setlkw(fd);
	test_deadlock(fd);
	close(fd);
	test_ofd();
	test_flock();
	test_root_file();
	unlink(path);
	return test_done();
}
