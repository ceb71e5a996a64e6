/* epoll, eventfd, timerfd, signalfd: readiness as Linux reports it. */
#include "ward_test.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static int wait_one(int ep, int timeout, struct epoll_event *ev)
{
	return epoll_wait(ep, ev, 1, timeout);
}

static void test_pipe_level_and_edge(void)
{
	int p[2];
	struct epoll_event ev = { 0 }, got;
	CHECK_OK(pipe(p));
	int ep = CHECK_OK(epoll_create1(EPOLL_CLOEXEC));
	CHECK_EQ(fcntl(ep, F_GETFD), FD_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.u64 = 42;
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EEXIST);
	CHECK_EQ(wait_one(ep, 0, &got), 0);
	CHECK_EQ(write(p[1], "x", 1), 1);
	/* Level-triggered: reported while readable. */
	CHECK_EQ(wait_one(ep, 0, &got), 1);
	CHECK_EQ(got.events, EPOLLIN);
	CHECK_EQ(got.data.u64, 42);
	CHECK_EQ(wait_one(ep, 0, &got), 1);
	/* Edge-triggered: once per change. */
	ev.events = EPOLLIN | EPOLLET;
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	CHECK_EQ(wait_one(ep, 0, &got), 1);
	CHECK_EQ(wait_one(ep, 0, &got), 0);
	CHECK_EQ(write(p[1], "y", 1), 1);
	CHECK_EQ(wait_one(ep, 0, &got), 1);
	CHECK_EQ(wait_one(ep, 0, &got), 0);
	/* One-shot: once, until re-armed with MOD. */
	ev.events = EPOLLIN | EPOLLONESHOT;
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	CHECK_EQ(wait_one(ep, 0, &got), 1);
	CHECK_EQ(wait_one(ep, 0, &got), 0);
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	CHECK_EQ(wait_one(ep, 0, &got), 1);
	/* The write end: writable, and HUP on the read end once it closes. */
	ev.events = EPOLLOUT;
	ev.data.u64 = 7;
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev));
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
	CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), ENOENT);
	CHECK_EQ(wait_one(ep, 0, &got), 1);
	CHECK_EQ(got.data.u64, 7);
	CHECK(got.events & EPOLLOUT);
	/* Closing the only descriptor removes the item. */
	close(p[1]);
	CHECK_EQ(wait_one(ep, 0, &got), 0);
	ev.events = EPOLLIN;
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	CHECK_EQ(wait_one(ep, 0, &got), 1);
	CHECK(got.events & EPOLLHUP);
	close(p[0]);
	close(ep);
}

static void test_errors(void)
{
	struct epoll_event ev = { EPOLLIN, { 0 } }, got[2];
	CHECK_ERRNO(epoll_create(0), EINVAL);
	CHECK_ERRNO(epoll_create1(0x1234), EINVAL);
	int ep = CHECK_OK(epoll_create(1));
	int fd = CHECK_OK(open("/etc/os-release", O_RDONLY));
	CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), EPERM);
	CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
	CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, 9999, &ev), EBADF);
	CHECK_ERRNO(epoll_wait(ep, got, 0, 0), EINVAL);
	CHECK_ERRNO(epoll_wait(fd, got, 1, 0), EINVAL);
	CHECK_ERRNO(epoll_wait(9999, got, 1, 0), EBADF);
	int e = CHECK_OK(eventfd(0, 0));
	/* The target is checked before the epoll descriptor's kind. */
	CHECK_ERRNO(epoll_ctl(fd, EPOLL_CTL_ADD, e, &ev), EINVAL);
	CHECK_ERRNO(epoll_ctl(e, EPOLL_CTL_ADD, fd, &ev), EPERM);
	CHECK_ERRNO(epoll_ctl(ep, 99, e, &ev), EINVAL);
	CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_MOD, e, &ev), ENOENT);
	/* A cycle of epolls is ELOOP. */
	int ep2 = CHECK_OK(epoll_create1(0));
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, ep2, &ev));
	CHECK_ERRNO(epoll_ctl(ep2, EPOLL_CTL_ADD, ep, &ev), ELOOP);
	/* Nested: the inner epoll becomes readable with its eventfd. */
	CHECK_OK(epoll_ctl(ep2, EPOLL_CTL_ADD, e, &ev));
	CHECK_EQ(epoll_wait(ep, got, 2, 0), 0);
	uint64_t one = 1;
	CHECK_EQ(write(e, &one, 8), 8);
	CHECK_EQ(epoll_wait(ep, got, 2, 0), 1);
	close(ep2);
	close(e);
	close(fd);
	close(ep);
}

static void test_eventfd(void)
{
	uint64_t v;
	int e = CHECK_OK(eventfd(3, EFD_NONBLOCK));
	CHECK_EQ(read(e, &v, 8), 8);
	CHECK_EQ(v, 3);
	CHECK_ERRNO(read(e, &v, 8), EAGAIN);
	CHECK_ERRNO(read(e, &v, 4), EINVAL);
	v = 0xffffffffffffffffULL;
	CHECK_ERRNO(write(e, &v, 8), EINVAL);
	close(e);
	e = CHECK_OK(eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK));
	CHECK_EQ(read(e, &v, 8), 8);
	CHECK_EQ(v, 1);
	CHECK_EQ(read(e, &v, 8), 8);
	CHECK_EQ(v, 1);
	CHECK_ERRNO(read(e, &v, 8), EAGAIN);
	close(e);
	CHECK_ERRNO(eventfd(0, 0x1000), EINVAL);
}

static void test_timerfd(void)
{
	struct itimerspec its = { { 0, 0 }, { 0, 20 * 1000 * 1000 } }, cur;
	uint64_t n;
	int tf = CHECK_OK(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
	CHECK_ERRNO(read(tf, &n, 8), EAGAIN);
	CHECK_OK(timerfd_settime(tf, 0, &its, NULL));
	CHECK_OK(timerfd_gettime(tf, &cur));
	CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0);
	int ep = CHECK_OK(epoll_create1(0));
	struct epoll_event ev = { EPOLLIN, { 0 } }, got;
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, tf, &ev));
	CHECK_EQ(epoll_wait(ep, &got, 1, 2000), 1);
	CHECK_EQ(read(tf, &n, 8), 8);
	CHECK_EQ(n, 1);
	/* Periodic: several expirations add up. */
	its.it_interval.tv_nsec = 5 * 1000 * 1000;
	its.it_value.tv_nsec = 5 * 1000 * 1000;
	CHECK_OK(timerfd_settime(tf, 0, &its, NULL));
	struct timespec sl = { 0, 60 * 1000 * 1000 };
	nanosleep(&sl, NULL);
	CHECK_EQ(read(tf, &n, 8), 8);
	CHECK(n >= 3);
	/* Absolute, already past: fires at once. */
	struct itimerspec abs = { { 0, 0 }, { 1, 0 } };
	CHECK_OK(timerfd_settime(tf, TFD_TIMER_ABSTIME, &abs, NULL));
	CHECK_EQ(epoll_wait(ep, &got, 1, 2000), 1);
	CHECK_ERRNO(timerfd_create(12345, 0), EINVAL);
	CHECK_ERRNO(timerfd_settime(tf, 0x100, &its, NULL), EINVAL);
	close(ep);
	close(tf);
}

static void test_signalfd(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	CHECK_OK(sigprocmask(SIG_BLOCK, &set, NULL));
	int sf = CHECK_OK(signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
	struct signalfd_siginfo si;
	CHECK_ERRNO(read(sf, &si, sizeof(si)), EAGAIN);
	int ep = CHECK_OK(epoll_create1(0));
	struct epoll_event ev = { EPOLLIN, { 0 } }, got;
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, sf, &ev));
	CHECK_EQ(epoll_wait(ep, &got, 1, 0), 0);
	CHECK_OK(kill(getpid(), SIGUSR1));
	CHECK_EQ(epoll_wait(ep, &got, 1, 1000), 1);
	CHECK_EQ(read(sf, &si, sizeof(si)), (long)sizeof(si));
	CHECK_EQ(si.ssi_signo, SIGUSR1);
	CHECK_EQ(si.ssi_pid, (uint32_t)getpid());
	CHECK_EQ(si.ssi_code, SI_USER);
	CHECK_ERRNO(read(sf, &si, 8), EINVAL);
	CHECK_ERRNO(signalfd(-1, &set, 0x1234), EINVAL);
	CHECK_ERRNO(syscall(SYS_signalfd4, -1, &set, 4, 0), EINVAL);
	close(ep);
	close(sf);
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &set, NULL));
}

int main(void)
{
	test_pipe_level_and_edge();
	test_errors();
	test_eventfd();
	test_timerfd();
	test_signalfd();
	return test_done();
}
