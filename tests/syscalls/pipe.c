/* pipe and pipe2: flags (O_CLOEXEC, O_NONBLOCK, O_DIRECT packets) and their
 * errors, data in order, EAGAIN on an empty non-blocking pipe, EOF once every
 * writer is gone, EPIPE and SIGPIPE once every reader is gone, FIONREAD,
 * ESPIPE, fstat, poll readiness, the default 64 KiB capacity, PIPE_BUF
 * atomicity for non-blocking writes, F_GETPIPE_SZ/F_SETPIPE_SZ, and 1 MiB
 * through a pipe between two processes. */
#include "ward_test.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef O_DIRECT
#define O_DIRECT 040000
#endif

#define MIB (1024 * 1024)

/* The lowest free descriptor number. */
static int lowest_free(void)
{
	int fd = dup(0);
	if (fd >= 0)
		close(fd);
	return fd;
}

static void test_create(void)
{
	int p[2] = { -1, -1 };
	CHECK_OK(pipe(p));
	CHECK(p[0] >= 0 && p[1] >= 0 && p[0] != p[1]);
	/* The read end is O_RDONLY, the write end O_WRONLY, neither
	 * close-on-exec nor non-blocking. */
	CHECK_EQ(fcntl(p[0], F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDONLY);
	CHECK_EQ(fcntl(p[1], F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_WRONLY);
	CHECK_EQ(fcntl(p[0], F_GETFD), 0);
	CHECK_EQ(fcntl(p[1], F_GETFD), 0);
	/* The lowest free numbers, in order. */
	close(p[0]);
	close(p[1]);
	int low = lowest_free();
	int q[2];
	CHECK_OK(pipe(q));
	CHECK_EQ(q[0], low);
	CHECK(q[0] < q[1]);
	close(q[0]);
	close(q[1]);

	/* fstat: a FIFO, mode 0600, owned by us, both ends the same inode. */
	CHECK_OK(pipe(p));
	struct stat a, b;
	CHECK_OK(fstat(p[0], &a));
	CHECK_OK(fstat(p[1], &b));
	CHECK(S_ISFIFO(a.st_mode));
	CHECK(S_ISFIFO(b.st_mode));
	CHECK_EQ(a.st_mode & 07777, 0600);
	CHECK_EQ(a.st_ino, b.st_ino);
	CHECK_EQ(a.st_dev, b.st_dev);
	CHECK_EQ(a.st_uid, geteuid());
	CHECK_EQ(a.st_nlink, 1);
	/* Not seekable. */
	CHECK_ERRNO(lseek(p[0], 0, SEEK_CUR), ESPIPE);
	CHECK_ERRNO(lseek(p[1], 0, SEEK_SET), ESPIPE);
	char c;
	CHECK_ERRNO(pread(p[0], &c, 1, 0), ESPIPE);
	CHECK_ERRNO(pwrite(p[1], "x", 1, 0), ESPIPE);
	/* Each end only one way. */
	CHECK_ERRNO(write(p[0], "x", 1), EBADF);
	CHECK_ERRNO(read(p[1], &c, 1), EBADF);
	close(p[0]);
	close(p[1]);

	/* pipe2 flags. */
	CHECK_OK(pipe2(p, O_CLOEXEC));
	CHECK_EQ(fcntl(p[0], F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(p[1], F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
	close(p[0]);
	close(p[1]);
	CHECK_OK(pipe2(p, O_NONBLOCK));
	CHECK_EQ(fcntl(p[0], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	CHECK_EQ(fcntl(p[1], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	CHECK_EQ(fcntl(p[0], F_GETFD), 0);
	close(p[0]);
	close(p[1]);
	CHECK_OK(pipe2(p, O_CLOEXEC | O_NONBLOCK));
	CHECK_EQ(fcntl(p[1], F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(p[1], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	close(p[0]);
	close(p[1]);
	/* Anything else is EINVAL, and no descriptor is made. */
	low = lowest_free();
	CHECK_ERRNO(pipe2(p, O_RDWR), EINVAL);
	CHECK_ERRNO(pipe2(p, O_APPEND), EINVAL);
	CHECK_ERRNO(pipe2(p, O_CREAT), EINVAL);
	CHECK_ERRNO(pipe2(p, 0x80000000), EINVAL);
	/* A bad array: EFAULT, and nothing left open. */
	CHECK_ERRNO(syscall(SYS_pipe2, (void *)1, 0), EFAULT);
	CHECK_ERRNO(syscall(SYS_pipe, (void *)1), EFAULT);
	CHECK_EQ(lowest_free(), low);
}

static void test_data(void)
{
	int p[2];
	CHECK_OK(pipe(p));
	/* Written bytes come out in order, reads never return more than
	 * asked, or more than there is. */
	CHECK_EQ(write(p[1], "hello", 5), 5);
	CHECK_EQ(write(p[1], " world", 6), 6);
	int n = -1;
	CHECK_OK(ioctl(p[0], FIONREAD, &n));
	CHECK_EQ(n, 11);
	char buf[64] = { 0 };
	CHECK_EQ(read(p[0], buf, 3), 3);
	CHECK_EQ(memcmp(buf, "hel", 3), 0);
	CHECK_OK(ioctl(p[0], FIONREAD, &n));
	CHECK_EQ(n, 8);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 8);
	CHECK_STREQ(buf, "lo world");
	CHECK_OK(ioctl(p[0], FIONREAD, &n));
	CHECK_EQ(n, 0);
	/* A zero-length read or write returns 0 at once. */
	CHECK_EQ(read(p[0], buf, 0), 0);
	CHECK_EQ(write(p[1], buf, 0), 0);

	/* Empty and non-blocking: EAGAIN. */
	CHECK_OK(fcntl(p[0], F_SETFL, O_NONBLOCK));
	CHECK_ERRNO(read(p[0], buf, 1), EAGAIN);
	/* Data written before the write end closes is still read; then EOF,
	 * even non-blocking. */
	CHECK_EQ(write(p[1], "last", 4), 4);
	CHECK_OK(close(p[1]));
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 4);
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 0);
	CHECK_OK(fcntl(p[0], F_SETFL, 0));
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 0);
	close(p[0]);

	/* EOF only once every copy of the write end is closed. */
	CHECK_OK(pipe2(p, O_NONBLOCK));
	int dup_w = CHECK_OK(dup(p[1]));
	close(p[1]);
	CHECK_ERRNO(read(p[0], buf, 1), EAGAIN);
	close(dup_w);
	CHECK_EQ(read(p[0], buf, 1), 0);
	close(p[0]);
}

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	sigpipes++;
}

static void test_epipe(void)
{
	int p[2];
	/* With SIGPIPE ignored: EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	CHECK_OK(pipe(p));
	close(p[0]);
	CHECK_ERRNO(write(p[1], "x", 1), EPIPE);
	/* A zero-length write returns 0 before looking for readers. */
	CHECK_EQ(write(p[1], "x", 0), 0);
	close(p[1]);
	/* With a handler: SIGPIPE is delivered (before write returns), and
	 * write fails with EPIPE. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigpipe;
	CHECK_OK(sigaction(SIGPIPE, &sa, NULL));
	CHECK_OK(pipe(p));
	close(p[0]);
	sigpipes = 0;
	CHECK_ERRNO(write(p[1], "x", 1), EPIPE);
	CHECK_EQ(sigpipes, 1);
	/* Blocked: pending, and still EPIPE. */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	CHECK_OK(sigprocmask(SIG_BLOCK, &set, &old));
	CHECK_ERRNO(write(p[1], "x", 1), EPIPE);
	sigset_t pending;
	CHECK_OK(sigpending(&pending));
	CHECK(sigismember(&pending, SIGPIPE));
	/* Its siginfo: SI_USER, from ourselves. */
	siginfo_t si;
	struct timespec zero = { 0, 0 };
	memset(&si, 0, sizeof(si));
	CHECK_EQ(sigtimedwait(&set, &si, &zero), SIGPIPE);
	CHECK_EQ(si.si_code, SI_USER);
	CHECK_EQ(si.si_pid, getpid());
	CHECK_OK(sigprocmask(SIG_SETMASK, &old, NULL));
	close(p[1]);

	/* With the default action the writer dies of SIGPIPE. */
	CHECK_OK(pipe(p));
	close(p[0]);
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		write(p[1], "x", 1);
		_exit(99);
	}
	int status;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGPIPE);
	close(p[1]);

	/* A writer blocked on a full pipe gets EPIPE when the reader goes. */
	signal(SIGPIPE, SIG_IGN);
	CHECK_OK(pipe(p));
	pid = CHECK_OK(fork());
	if (pid == 0) {
		close(p[0]);
		static char big[256 * 1024];
		ssize_t done = 0, r;
		while ((r = write(p[1], big, sizeof(big))) > 0)
			done += r;
		/* Partial progress first (the 64 KiB that fit), then EPIPE. */
		_exit(r == -1 && errno == EPIPE && done >= 65536 ? 0 : 1);
	}
	close(p[1]);
	/* Wait for the pipe to fill, then close the read end. */
	for (int i = 0; i < 2000; i++) {
		int n = 0;
		ioctl(p[0], FIONREAD, &n);
		if (n >= 65536)
			break;
		usleep(1000);
	}
	close(p[0]);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	signal(SIGPIPE, SIG_DFL);
}

static void test_poll(void)
{
	int p[2];
	CHECK_OK(pipe(p));
	struct pollfd pf[2] = { { p[0], POLLIN | POLLOUT, 0 }, { p[1], POLLIN | POLLOUT, 0 } };
	/* Empty: the write end is writable, the read end nothing. */
	CHECK_EQ(poll(pf, 2, 0), 1);
	CHECK_EQ(pf[0].revents, 0);
	CHECK_EQ(pf[1].revents, POLLOUT);
	CHECK_EQ(write(p[1], "x", 1), 1);
	CHECK_EQ(poll(pf, 2, 0), 2);
	CHECK_EQ(pf[0].revents, POLLIN);
	/* Writer gone with data left: POLLIN|POLLHUP; then POLLHUP only. */
	close(p[1]);
	CHECK_EQ(poll(pf, 1, 0), 1);
	CHECK_EQ(pf[0].revents, POLLIN | POLLHUP);
	char c;
	CHECK_EQ(read(p[0], &c, 1), 1);
	CHECK_EQ(poll(pf, 1, 0), 1);
	CHECK_EQ(pf[0].revents, POLLHUP);
	close(p[0]);
	/* Reader gone: POLLERR (and POLLOUT) on the write end. */
	CHECK_OK(pipe(p));
	close(p[0]);
	pf[1].fd = p[1];
	CHECK_EQ(poll(&pf[1], 1, 0), 1);
	CHECK(pf[1].revents & POLLERR);
	close(p[1]);
}

static void test_capacity(void)
{
	int p[2];
	CHECK_OK(pipe2(p, O_NONBLOCK));
	/* The default capacity is 16 pages. */
	CHECK_EQ(fcntl(p[0], F_GETPIPE_SZ), 65536);
	CHECK_EQ(fcntl(p[1], F_GETPIPE_SZ), 65536);
	/* Fill it 4 KiB at a time: 16 writes, then EAGAIN. */
	char *buf = malloc(MIB);
	CHECK(buf != NULL);
	if (!buf)
		return;
	memset(buf, 'c', MIB);
	long total = 0;
	ssize_t r;
	while ((r = write(p[1], buf, 4096)) > 0)
		total += r;
	CHECK_EQ(r, -1);
	CHECK_EQ(errno, EAGAIN);
	CHECK_EQ(total, 65536);
	int n = 0;
	CHECK_OK(ioctl(p[0], FIONREAD, &n));
	CHECK_EQ(n, 65536);
	/* Full: even one byte is EAGAIN. */
	CHECK_ERRNO(write(p[1], buf, 1), EAGAIN);
	/* With 100 bytes free, a write of up to PIPE_BUF bytes is atomic: it
	 * does not fit, so nothing is written. */
	CHECK_EQ(read(p[0], buf, 100), 100);
	CHECK_ERRNO(write(p[1], buf, 200), EAGAIN);
	CHECK_OK(ioctl(p[0], FIONREAD, &n));
	CHECK_EQ(n, 65536 - 100);
	/* With a page free, a page goes in. */
	CHECK_EQ(read(p[0], buf, 4096), 4096);
	CHECK_EQ(write(p[1], buf, 4096), 4096);
	/* Drain it. */
	while ((r = read(p[0], buf, MIB)) > 0)
		;
	CHECK_ERRNO(read(p[0], buf, 1), EAGAIN);
	/* One big non-blocking write into an empty pipe is partial: exactly
	 * the capacity. */
	CHECK_EQ(write(p[1], buf, MIB), 65536);
	CHECK_ERRNO(write(p[1], buf, MIB), EAGAIN);
	while (read(p[0], buf, MIB) > 0)
		;

	/* F_SETPIPE_SZ rounds up to a power-of-two number of pages and
	 * returns the new size; the new capacity holds. */
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 100000), 131072);
	CHECK_EQ(fcntl(p[0], F_GETPIPE_SZ), 131072);
	CHECK_EQ(write(p[1], buf, MIB), 131072);
	/* It cannot shrink below what the pipe holds. */
	CHECK_ERRNO(fcntl(p[1], F_SETPIPE_SZ, 4096), EBUSY);
	while (read(p[0], buf, MIB) > 0)
		;
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 1), 4096);
	CHECK_EQ(fcntl(p[1], F_GETPIPE_SZ), 4096);
	CHECK_EQ(write(p[1], buf, MIB), 4096);
	while (read(p[0], buf, MIB) > 0)
		;
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 65536), 65536);
	/* Not on other files. */
	int fd = CHECK_OK(open("/etc/os-release", O_RDONLY));
	CHECK_ERRNO(fcntl(fd, F_GETPIPE_SZ), EBADF);
	close(fd);
	close(p[0]);
	close(p[1]);
	free(buf);
}

static void test_packets(void)
{
	/* O_DIRECT: each write is a packet, each read takes one packet. */
	int p[2];
	CHECK_OK(pipe2(p, O_DIRECT | O_NONBLOCK));
	CHECK(fcntl(p[1], F_GETFL) & O_DIRECT);
	CHECK_EQ(write(p[1], "abc", 3), 3);
	CHECK_EQ(write(p[1], "de", 2), 2);
	char buf[16] = { 0 };
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 3);
	CHECK_EQ(memcmp(buf, "abc", 3), 0);
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 2);
	CHECK_EQ(memcmp(buf, "de", 2), 0);
	/* A short read takes part of a packet and drops the rest. */
	CHECK_EQ(write(p[1], "12345", 5), 5);
	CHECK_EQ(write(p[1], "xy", 2), 2);
	CHECK_EQ(read(p[0], buf, 2), 2);
	CHECK_EQ(memcmp(buf, "12", 2), 0);
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 2);
	CHECK_EQ(memcmp(buf, "xy", 2), 0);
	CHECK_ERRNO(read(p[0], buf, 1), EAGAIN);
	close(p[0]);
	close(p[1]);
}

static void test_transfer(void)
{
	/* 1 MiB from a child in odd-sized writes, read in other sizes,
	 * checked byte for byte by a running sum. */
	int p[2];
	CHECK_OK(pipe(p));
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		close(p[0]);
		static unsigned char out[MIB];
		for (int i = 0; i < MIB; i++)
			out[i] = (unsigned char)(i * 7 + (i >> 8));
		size_t off = 0;
		while (off < MIB) {
			size_t len = MIB - off < 4093 ? MIB - off : 4093;
			ssize_t r = write(p[1], out + off, len);
			if (r <= 0)
				_exit(1);
			off += r;
		}
		_exit(0);
	}
	close(p[1]);
	static unsigned char in[10007];
	unsigned long long sum = 0, expect = 0;
	long total = 0;
	int mismatch = 0;
	ssize_t r;
	while ((r = read(p[0], in, sizeof(in))) > 0) {
		for (ssize_t i = 0; i < r; i++) {
			long at = total + i;
			unsigned char want = (unsigned char)(at * 7 + (at >> 8));
			if (in[i] != want)
				mismatch++;
			sum = sum * 31 + in[i];
			expect = expect * 31 + want;
		}
		total += r;
	}
	CHECK_EQ(r, 0);
	CHECK_EQ(total, MIB);
	CHECK_EQ(mismatch, 0);
	CHECK_EQ(sum, expect);
	close(p[0]);
	int status;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);

	/* Writes of at most PIPE_BUF bytes from two writers never
	 * interleave. */
	CHECK_OK(pipe(p));
	pid_t w[2];
	for (int k = 0; k < 2; k++) {
		w[k] = CHECK_OK(fork());
		if (w[k] == 0) {
			char rec[PIPE_BUF];
			memset(rec, 'A' + k, sizeof(rec));
			for (int i = 0; i < 64; i++)
				if (write(p[1], rec, sizeof(rec)) != sizeof(rec))
					_exit(1);
			_exit(0);
		}
	}
	close(p[1]);
	static char rec[PIPE_BUF];
	int records = 0, torn = 0;
	for (;;) {
		size_t got = 0;
		while (got < sizeof(rec) && (r = read(p[0], rec + got, sizeof(rec) - got)) > 0)
			got += r;
		if (got == 0)
			break;
		if (got != sizeof(rec)) {
			torn++;
			break;
		}
		for (size_t i = 1; i < sizeof(rec); i++)
			if (rec[i] != rec[0]) {
				torn++;
				break;
			}
		records++;
	}
	CHECK_EQ(records, 128);
	CHECK_EQ(torn, 0);
	close(p[0]);
	for (int k = 0; k < 2; k++) {
		CHECK_EQ(waitpid(w[k], &status, 0), w[k]);
		CHECK_EQ(status, 0);
	}
}

int main(void)
{
	signal(SIGPIPE, SIG_DFL);
	test_create();
	test_data();
	test_epipe();
	test_poll();
	test_capacity();
	test_packets();
	test_transfer();
	return test_done();
}
