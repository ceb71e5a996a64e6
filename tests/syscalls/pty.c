/* Pseudo-terminals: /dev/ptmx and /dev/pts (pty(7)), the line discipline
 * (termios(3)), hang-ups, and the controlling terminal of a session
 * (credentials(7), tty_ioctl(4)). Linux moves bytes through the line
 * discipline a moment after a write, so every read here waits with poll. */
#include "ward_test.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER 0x5441
#endif

/* Reads from fd until want bytes came or nothing more comes for 2 s. */
static ssize_t read_some(int fd, char *buf, size_t want)
{
	size_t got = 0;
	while (got < want) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 2000) <= 0 || !(p.revents & POLLIN))
			break;
		ssize_t n = read(fd, buf + got, want - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = 0;
	return (ssize_t)got;
}

/* Polls fd once for events, waiting up to ms. */
static short poll_ev(int fd, short events, int ms)
{
	struct pollfd p = { fd, events, 0 };
	if (poll(&p, 1, ms) < 0)
		return -1;
	return p.revents;
}

static int open_pair(int *slave, char *name, size_t len)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0)
		return -1;
	CHECK_OK(grantpt(m));
	CHECK_OK(unlockpt(m));
	CHECK_OK(ptsname_r(m, name, len));
	*slave = CHECK_OK(open(name, O_RDWR | O_NOCTTY));
	return m;
}

static void test_open_and_names(void)
{
	int m = CHECK_OK(open("/dev/ptmx", O_RDWR | O_NOCTTY));
	int n = -1, locked = -1;
	CHECK_OK(ioctl(m, TIOCGPTN, &n));
	CHECK(n >= 0);
	CHECK_OK(ioctl(m, TIOCGPTLCK, &locked));
	CHECK_EQ(locked, 1);
	char name[64];
	snprintf(name, sizeof(name), "/dev/pts/%d", n);
	/* Locked until unlockpt. */
	CHECK_ERRNO(open(name, O_RDWR | O_NOCTTY), EIO);
	CHECK_ERRNO(ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY), EIO);
	CHECK_OK(grantpt(m));
	CHECK_OK(unlockpt(m));
	CHECK_OK(ioctl(m, TIOCGPTLCK, &locked));
	CHECK_EQ(locked, 0);
	CHECK_STREQ(ptsname(m), name);

	int s = CHECK_OK(open(name, O_RDWR | O_NOCTTY));
	CHECK(isatty(s));
	CHECK(isatty(m));
	CHECK_STREQ(ttyname(s), name);
	struct stat st, st2;
	CHECK_OK(fstat(s, &st));
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(major(st.st_rdev), 136 + n / 256);
	CHECK_EQ(minor(st.st_rdev), n % 256);
	CHECK_OK(stat(name, &st2));
	CHECK_EQ(st.st_ino, st2.st_ino);
	CHECK_EQ(st.st_dev, st2.st_dev);
	CHECK_OK(fstat(m, &st));
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(major(st.st_rdev), 5);
	CHECK_EQ(minor(st.st_rdev), 2);
	char link[64], buf[128];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", s);
	ssize_t len = readlink(link, buf, sizeof(buf) - 1);
	CHECK_EQ(len, (ssize_t)strlen(name));
	if (len > 0) {
		buf[len] = 0;
		CHECK_STREQ(buf, name);
	}
	/* The slave is no master. */
	CHECK_ERRNO(ioctl(s, TIOCGPTN, &n), ENOTTY);
	CHECK_ERRNO(ioctl(s, TIOCSPTLCK, &n), ENOTTY);

	/* TIOCGPTPEER opens the same slave. */
	int p = CHECK_OK(ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
	CHECK_EQ(fcntl(p, F_GETFD), FD_CLOEXEC);
	CHECK_STREQ(ttyname(p), name);
	CHECK_OK(fstat(p, &st2));
	CHECK_OK(fstat(s, &st));
	CHECK_EQ(st.st_rdev, st2.st_rdev);
	CHECK_EQ(st.st_ino, st2.st_ino);
	close(p);

	/* Regular files and pipes are no terminals. */
	int fds[2];
	CHECK_OK(pipe(fds));
	CHECK(!isatty(fds[0]));
	struct termios t;
	CHECK_ERRNO(tcgetattr(fds[0], &t), ENOTTY);
	close(fds[0]);
	close(fds[1]);

	/* The node goes with the master, even while the slave stays. */
	close(m);
	CHECK_ERRNO(open(name, O_RDWR | O_NOCTTY), ENOENT);
	CHECK_ERRNO(access(name, F_OK), ENOENT);
	close(s);
}

static void test_termios_defaults(void)
{
	char name[64];
	int s, m = open_pair(&s, name, sizeof(name));
	struct termios t;
	CHECK_OK(tcgetattr(s, &t));
	CHECK_EQ(t.c_iflag, ICRNL | IXON);
	CHECK_EQ(t.c_oflag, OPOST | ONLCR);
	CHECK_EQ(t.c_cflag, B38400 | CS8 | CREAD);
	CHECK_EQ(t.c_lflag, ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN);
	CHECK_EQ(t.c_cc[VINTR], 3);
	CHECK_EQ(t.c_cc[VERASE], 0177);
	CHECK_EQ(t.c_cc[VKILL], 025);
	CHECK_EQ(t.c_cc[VEOF], 4);
	CHECK_EQ(t.c_cc[VMIN], 1);
	CHECK_EQ(t.c_cc[VTIME], 0);
	/* The master's termios requests act on the slave. */
	struct termios tm;
	CHECK_OK(tcgetattr(m, &tm));
	CHECK_EQ(tm.c_lflag, t.c_lflag);
	t.c_lflag &= ~ECHO;
	CHECK_OK(tcsetattr(s, TCSANOW, &t));
	CHECK_OK(tcgetattr(m, &tm));
	CHECK_EQ(tm.c_lflag & ECHO, 0);
	/* A pty is always 8 bits without parity. */
	t.c_cflag = (t.c_cflag & ~CSIZE) | CS7 | PARENB;
	CHECK_OK(ioctl(s, TCSETS, &t));
	CHECK_OK(tcgetattr(s, &t));
	CHECK_EQ(t.c_cflag & (CSIZE | PARENB), CS8);

	struct winsize ws = { 0 };
	CHECK_OK(ioctl(s, TIOCGWINSZ, &ws));
	CHECK_EQ(ws.ws_row, 0);
	CHECK_EQ(ws.ws_col, 0);
	ws.ws_row = 24;
	ws.ws_col = 80;
	CHECK_OK(ioctl(m, TIOCSWINSZ, &ws));
	struct winsize ws2 = { 0 };
	CHECK_OK(ioctl(s, TIOCGWINSZ, &ws2));
	CHECK_EQ(ws2.ws_row, 24);
	CHECK_EQ(ws2.ws_col, 80);
	CHECK_ERRNO(ioctl(s, TIOCGWINSZ, (void *)8), EFAULT);
	close(s);
	close(m);
}

static void test_canonical(void)
{
	char name[64], buf[256];
	int s, m = open_pair(&s, name, sizeof(name));

	/* Before a line ends nothing is readable, and the echo is there. */
	CHECK_EQ(write(m, "abc", 3), 3);
	CHECK_EQ(read_some(m, buf, 3), 3);
	CHECK_STREQ(buf, "abc");
	int n = -1;
	CHECK_OK(ioctl(s, FIONREAD, &n));
	CHECK_EQ(n, 0);
	CHECK_EQ(poll_ev(s, POLLIN, 100) & POLLIN, 0);

	/* ICRNL makes the carriage return a newline; ECHO shows it as CRLF
	 * (OPOST|ONLCR). */
	CHECK_EQ(write(m, "d\r", 2), 2);
	CHECK_EQ(read_some(m, buf, 3), 3);
	CHECK_STREQ(buf, "d\r\n");
	CHECK(poll_ev(s, POLLIN, 2000) & POLLIN);
	CHECK_OK(ioctl(s, FIONREAD, &n));
	CHECK_EQ(n, 5);
	CHECK_EQ(read(s, buf, sizeof(buf)), 5);
	CHECK(memcmp(buf, "abcd\n", 5) == 0);

	/* One line per read, and a short read leaves the rest. */
	CHECK_EQ(write(m, "one\ntwo\n", 8), 8);
	read_some(m, buf, 10);
	CHECK_STREQ(buf, "one\r\ntwo\r\n");
	CHECK(poll_ev(s, POLLIN, 2000) & POLLIN);
	CHECK_EQ(read(s, buf, 2), 2);
	CHECK(memcmp(buf, "on", 2) == 0);
	CHECK_EQ(read(s, buf, sizeof(buf)), 2);
	CHECK(memcmp(buf, "e\n", 2) == 0);
	CHECK_EQ(read(s, buf, sizeof(buf)), 4);
	CHECK(memcmp(buf, "two\n", 4) == 0);

	/* VERASE with ECHOE rubs out; VKILL with ECHOKE rubs out the line;
	 * control characters echo as ^X and take two columns. */
	CHECK_EQ(write(m, "xy\177z\n", 5), 5);
	read_some(m, buf, 8);
	CHECK_STREQ(buf, "xy\b \bz\r\n");
	CHECK(poll_ev(s, POLLIN, 2000) & POLLIN);
	CHECK_EQ(read(s, buf, sizeof(buf)), 3);
	CHECK(memcmp(buf, "xz\n", 3) == 0);
	CHECK_EQ(write(m, "ab\025q\001\n", 6), 6);
	read_some(m, buf, 13);
	CHECK_STREQ(buf, "ab\b \b\b \bq^A\r\n");
	CHECK(poll_ev(s, POLLIN, 2000) & POLLIN);
	CHECK_EQ(read(s, buf, sizeof(buf)), 3);
	CHECK(memcmp(buf, "q\001\n", 3) == 0);
	/* VWERASE takes the last word. */
	CHECK_EQ(write(m, "ls foo\027x\n", 9), 9);
	read_some(m, buf, 20);
	CHECK(poll_ev(s, POLLIN, 2000) & POLLIN);
	CHECK_EQ(read(s, buf, sizeof(buf)), 5);
	CHECK(memcmp(buf, "ls x\n", 5) == 0);

	/* VEOF ends a line without itself, and on an empty line reads 0. */
	CHECK_EQ(write(m, "ab\004", 3), 3);
	read_some(m, buf, 2);
	CHECK(poll_ev(s, POLLIN, 2000) & POLLIN);
	CHECK_EQ(read(s, buf, sizeof(buf)), 2);
	CHECK_EQ(write(m, "\004", 1), 1);
	CHECK(poll_ev(s, POLLIN, 2000) & POLLIN);
	CHECK_EQ(read(s, buf, sizeof(buf)), 0);

	/* Without ECHO nothing comes back; ECHONL still echoes newlines. */
	struct termios t;
	CHECK_OK(tcgetattr(s, &t));
	t.c_lflag &= ~ECHO;
	t.c_lflag |= ECHONL;
	CHECK_OK(tcsetattr(s, TCSANOW, &t));
	CHECK_EQ(write(m, "hid\n", 4), 4);
	CHECK_EQ(read_some(m, buf, 2), 2);
	CHECK_STREQ(buf, "\r\n");
	CHECK(poll_ev(s, POLLIN, 2000) & POLLIN);
	CHECK_EQ(read(s, buf, sizeof(buf)), 4);

	/* Output processing: ONLCR, and none without OPOST. */
	CHECK_EQ(write(s, "a\nb", 3), 3);
	CHECK_EQ(read_some(m, buf, 4), 4);
	CHECK_STREQ(buf, "a\r\nb");
	t.c_oflag &= ~OPOST;
	CHECK_OK(tcsetattr(s, TCSANOW, &t));
	CHECK_EQ(write(s, "a\nb", 3), 3);
	CHECK_EQ(read_some(m, buf, 3), 3);
	CHECK_STREQ(buf, "a\nb");
	CHECK_OK(ioctl(m, FIONREAD, &n));
	CHECK_EQ(n, 0);

	/* tcflush(TCIFLUSH) drops what the slave has not read. */
	CHECK_EQ(write(m, "gone\n", 5), 5);
	CHECK(poll_ev(s, POLLIN, 2000) & POLLIN);
	CHECK_OK(tcflush(s, TCIFLUSH));
	CHECK_OK(ioctl(s, FIONREAD, &n));
	CHECK_EQ(n, 0);
	CHECK_ERRNO(ioctl(s, TCFLSH, 7), EINVAL);
	close(s);
	close(m);
}

static void test_raw(void)
{
	char name[64], buf[256];
	int s, m = open_pair(&s, name, sizeof(name));
	struct termios t;
	CHECK_OK(tcgetattr(s, &t));
	cfmakeraw(&t);
	t.c_cc[VMIN] = 3;
	t.c_cc[VTIME] = 0;
	CHECK_OK(tcsetattr(s, TCSANOW, &t));
	/* VMIN 3: poll waits for three bytes, a read returns them. */
	CHECK_EQ(write(m, "ab", 2), 2);
	CHECK_EQ(poll_ev(s, POLLIN, 200) & POLLIN, 0);
	int n = -1;
	CHECK_OK(ioctl(s, FIONREAD, &n));
	CHECK_EQ(n, 2);
	CHECK_EQ(write(m, "\rd", 2), 2);
	CHECK(poll_ev(s, POLLIN, 2000) & POLLIN);
	/* No ICRNL, no echo in raw mode. */
	CHECK_EQ(read(s, buf, sizeof(buf)), 4);
	CHECK(memcmp(buf, "ab\rd", 4) == 0);
	CHECK_EQ(poll_ev(m, POLLIN, 100) & POLLIN, 0);

	/* VMIN 0, VTIME 0: a read returns at once. */
	t.c_cc[VMIN] = 0;
	CHECK_OK(tcsetattr(s, TCSANOW, &t));
	CHECK_EQ(read(s, buf, sizeof(buf)), 0);
	/* VMIN 0, VTIME 2: waits 0.2 s for a byte. */
	t.c_cc[VTIME] = 2;
	CHECK_OK(tcsetattr(s, TCSANOW, &t));
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK_EQ(read(s, buf, sizeof(buf)), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	CHECK(ms >= 150 && ms < 2000);
	/* Going back to canonical mode: a line again. */
	CHECK_OK(tcgetattr(s, &t));
	t.c_lflag |= ICANON;
	CHECK_OK(tcsetattr(s, TCSANOW, &t));
	CHECK_EQ(write(m, "xy\n", 3), 3);
	CHECK(poll_ev(s, POLLIN, 2000) & POLLIN);
	CHECK_EQ(read(s, buf, sizeof(buf)), 3);
	/* O_NONBLOCK with nothing there. */
	fcntl(s, F_SETFL, O_NONBLOCK);
	CHECK_ERRNO(read(s, buf, sizeof(buf)), EAGAIN);
	fcntl(m, F_SETFL, O_NONBLOCK);
	CHECK_ERRNO(read(m, buf, sizeof(buf)), EAGAIN);
	close(s);
	close(m);
}

static void test_epoll(void)
{
	char name[64], buf[64];
	int s, m = open_pair(&s, name, sizeof(name));
	int ep = CHECK_OK(epoll_create1(0));
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 1 };
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, m, &ev));
	ev.data.u32 = 2;
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
	CHECK_EQ(epoll_wait(ep, &ev, 1, 0), 0);
	/* The slave's output wakes the master; a line wakes the slave. */
	CHECK_EQ(write(s, "out", 3), 3);
	CHECK_EQ(epoll_wait(ep, &ev, 1, 2000), 1);
	CHECK_EQ(ev.data.u32, 1);
	CHECK_EQ(read_some(m, buf, 3), 3);
	struct termios t;
	CHECK_OK(tcgetattr(s, &t));
	t.c_lflag &= ~ECHO;
	CHECK_OK(tcsetattr(s, TCSANOW, &t));
	CHECK_EQ(write(m, "in\n", 3), 3);
	CHECK_EQ(epoll_wait(ep, &ev, 1, 2000), 1);
	CHECK_EQ(ev.data.u32, 2);
	CHECK_EQ(read(s, buf, sizeof(buf)), 3);
	/* The master's close reaches an epoll of the slave as EPOLLHUP. */
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_DEL, m, NULL));
	close(m);
	CHECK_EQ(epoll_wait(ep, &ev, 1, 2000), 1);
	CHECK_EQ(ev.data.u32, 2);
	CHECK(ev.events & EPOLLHUP);
	close(ep);
	close(s);
}

static void test_hangup(void)
{
	char name[64], buf[64];
	int s, m = open_pair(&s, name, sizeof(name));
	/* The master writes before and after; it polls POLLHUP once every
	 * slave has gone, and reads EIO when drained. */
	CHECK_EQ(poll_ev(m, POLLIN | POLLOUT, 0), POLLOUT);
	CHECK_EQ(write(s, "bye\n", 4), 4);
	close(s);
	CHECK_EQ(poll_ev(m, POLLIN | POLLOUT, 2000), POLLIN | POLLOUT | POLLHUP);
	CHECK_EQ(read(m, buf, sizeof(buf)), 5);
	CHECK_ERRNO(read(m, buf, sizeof(buf)), EIO);
	CHECK_EQ(poll_ev(m, POLLIN | POLLOUT, 0), POLLOUT | POLLHUP);
	/* A slave opened again clears it. */
	s = CHECK_OK(open(name, O_RDWR | O_NOCTTY));
	CHECK_EQ(poll_ev(m, POLLIN | POLLOUT, 0), POLLOUT);
	/* The master's close hangs the slave up. */
	close(m);
	CHECK_EQ(poll_ev(s, POLLIN | POLLOUT, 0), POLLIN | POLLOUT | POLLERR | POLLHUP);
	CHECK_EQ(read(s, buf, sizeof(buf)), 0);
	CHECK_ERRNO(write(s, "x", 1), EIO);
	struct termios t;
	CHECK_ERRNO(tcgetattr(s, &t), EIO);
	close(s);
}

static volatile sig_atomic_t got_sig[65];

static void on_sig(int sig)
{
	got_sig[sig]++;
}

/* A child that makes the slave its controlling terminal. What it saw comes
 * back as its exit status (0: all held). */
static int ctty_child(const char *name, int m, int sync_w)
{
	int bad = 0;
	if (setsid() < 0)
		return 100;
	/* Opening the slave without O_NOCTTY makes it the controlling tty. */
	int s = open(name, O_RDWR);
	if (s < 0)
		return 101;
	if (tcgetpgrp(s) != getpgrp())
		bad |= 1;
	if (tcgetsid(s) != getsid(0))
		bad |= 2;
	/* /proc/self/stat: tty_nr and tpgid. */
	struct stat sst;
	unsigned int tty_nr = 0;
	int tpgid = 0;
	FILE *pf = fopen("/proc/self/stat", "r");
	if (!pf || fscanf(pf, "%*d %*s %*c %*d %*d %*d %u %d", &tty_nr, &tpgid) != 2)
		bad |= 256;
	if (pf)
		fclose(pf);
	if (fstat(s, &sst) < 0 || tty_nr != ((minor(sst.st_rdev) & 0xff) | (major(sst.st_rdev) << 8)) ||
	    tpgid != getpgrp())
		bad |= 512;
	int t = open("/dev/tty", O_RDWR);
	if (t < 0)
		bad |= 4;
	struct stat st;
	if (t >= 0 && (fstat(t, &st) < 0 || major(st.st_rdev) != 5 || minor(st.st_rdev) != 0))
		bad |= 8;
	/* The master's control: ^C is SIGINT to the foreground group,
	 * a new window size SIGWINCH. */
	signal(SIGINT, on_sig);
	signal(SIGWINCH, on_sig);
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, &old);
	if (write(sync_w, "r", 1) != 1)
		bad |= 16;
	for (int i = 0; i < 100 && !(got_sig[SIGINT] && got_sig[SIGWINCH]); i++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		sigprocmask(SIG_SETMASK, &old, NULL);
		nanosleep(&ts, NULL);
		sigprocmask(SIG_BLOCK, &set, NULL);
	}
	if (!got_sig[SIGINT])
		bad |= 32;
	if (!got_sig[SIGWINCH])
		bad |= 64;
	/* tcsetpgrp to a group of another session fails. */
	if (tcsetpgrp(s, getppid()) == 0 || errno != EPERM)
		bad |= 128;
	(void)m;
	return bad;
}

static void test_ctty(void)
{
	char name[64], buf[64];
	int s, m = open_pair(&s, name, sizeof(name));
	close(s);
	int sync[2];
	CHECK_OK(pipe(sync));
	/* Not our controlling terminal: TIOCGPGRP on the slave is ENOTTY;
	 * the master answers anyone. */
	s = CHECK_OK(open(name, O_RDWR | O_NOCTTY));
	pid_t pg = -1;
	CHECK_ERRNO(ioctl(s, TIOCGPGRP, &pg), ENOTTY);
	CHECK_ERRNO(ioctl(s, TIOCNOTTY), ENOTTY);
	/* A process that is no session leader may not take it. */
	if (getpid() != getsid(0))
		CHECK_ERRNO(ioctl(s, TIOCSCTTY, 0), EPERM);
	close(s);
	pid_t pid = fork();
	if (pid == 0) {
		close(sync[0]);
		_exit(ctty_child(name, m, sync[1]));
	}
	close(sync[1]);
	CHECK_EQ(read(sync[0], buf, 1), 1);
	CHECK_OK(ioctl(m, TIOCGPGRP, &pg));
	CHECK_EQ(pg, pid);
	CHECK_EQ(write(m, "\003", 1), 1);
	struct winsize ws = { 30, 100, 0, 0 };
	CHECK_OK(ioctl(m, TIOCSWINSZ, &ws));
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
	/* The echo of ^C. */
	CHECK_EQ(read_some(m, buf, 2), 2);
	CHECK_STREQ(buf, "^C");
	close(sync[0]);
	close(m);
}

/* The master's close sends SIGHUP to the session leader of the terminal. */
static void test_sighup(void)
{
	char name[64];
	int s, m = open_pair(&s, name, sizeof(name));
	close(s);
	int sync[2];
	CHECK_OK(pipe(sync));
	pid_t pid = fork();
	if (pid == 0) {
		close(sync[0]);
		close(m);
		setsid();
		int fd = open(name, O_RDWR);
		if (fd < 0)
			_exit(1);
		/* ioctl TIOCSCTTY on the terminal we already control is 0. */
		if (ioctl(fd, TIOCSCTTY, 0) != 0)
			_exit(2);
		if (write(sync[1], "r", 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	close(sync[1]);
	char c;
	CHECK_EQ(read(sync[0], &c, 1), 1);
	close(m);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFSIGNALED(st));
	CHECK_EQ(WTERMSIG(st), SIGHUP);
	close(sync[0]);
}

/* No controlling terminal: /dev/tty is ENXIO. */
static void test_no_ctty(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		int fd = open("/dev/tty", O_RDWR);
		_exit(fd < 0 && errno == ENXIO ? 0 : 1);
	}
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* TIOCSCTTY from a new session, then TIOCNOTTY gives it up. */
static void test_sctty(void)
{
	char name[64];
	int s, m = open_pair(&s, name, sizeof(name));
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		int bad = 0;
		pid_t pg;
		if (ioctl(s, TIOCGPGRP, &pg) == 0 || errno != ENOTTY)
			bad |= 1;
		if (ioctl(s, TIOCSCTTY, 0) != 0)
			bad |= 2;
		if (tcgetpgrp(s) != getpid())
			bad |= 4;
		signal(SIGHUP, SIG_IGN);
		if (ioctl(s, TIOCNOTTY) != 0)
			bad |= 8;
		if (ioctl(s, TIOCGPGRP, &pg) == 0 || errno != ENOTTY)
			bad |= 16;
		if (open("/dev/tty", O_RDWR) >= 0 || errno != ENXIO)
			bad |= 32;
		_exit(bad);
	}
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
	close(s);
	close(m);
}

/* Job control: a background group that reads its terminal is stopped by
 * SIGTTIN, or reads EIO when it ignores SIGTTIN; one that changes the
 * terminal while SIGTTOU is blocked may. */
static int jobs_child(const char *name)
{
	int bad = 0;
	setsid();
	int s = open(name, O_RDWR);
	if (s < 0)
		return 100;
	pid_t bg = fork();
	if (bg == 0) {
		setpgid(0, 0);
		char c;
		(void)!read(s, &c, 1); /* stops here */
		_exit(0);
	}
	setpgid(bg, bg);
	int st;
	if (waitpid(bg, &st, WUNTRACED) != bg || !WIFSTOPPED(st) || WSTOPSIG(st) != SIGTTIN)
		bad |= 1;
	kill(bg, SIGKILL);
	waitpid(bg, &st, 0);

	bg = fork();
	if (bg == 0) {
		setpgid(0, 0);
		signal(SIGTTIN, SIG_IGN);
		char c;
		if (read(s, &c, 1) != -1 || errno != EIO)
			_exit(1);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGTTOU);
		sigprocmask(SIG_BLOCK, &set, NULL);
		/* Background, SIGTTOU blocked: the change goes through. */
		struct termios t;
		if (tcgetattr(s, &t) != 0 || tcsetattr(s, TCSANOW, &t) != 0)
			_exit(2);
		if (tcsetpgrp(s, getpgrp()) != 0)
			_exit(3);
		if (tcgetpgrp(s) != getpgrp())
			_exit(4);
		_exit(0);
	}
	setpgid(bg, bg);
	if (waitpid(bg, &st, 0) != bg || !WIFEXITED(st))
		bad |= 2;
	else if (WEXITSTATUS(st))
		bad |= 4 << WEXITSTATUS(st);
	return bad;
}

static void test_jobs(void)
{
	char name[64];
	int s, m = open_pair(&s, name, sizeof(name));
	close(s);
	pid_t pid = fork();
	if (pid == 0) {
		close(m);
		_exit(jobs_child(name));
	}
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
	close(m);
}

int main(void)
{
	if (access("/dev/ptmx", F_OK) != 0)
		SKIP("no /dev/ptmx");
	test_open_and_names();
	test_termios_defaults();
	test_canonical();
	test_raw();
	test_epoll();
	test_hangup();
	test_ctty();
	test_sighup();
	test_no_ctty();
	test_sctty();
	test_jobs();
	return test_done();
}
