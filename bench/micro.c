/* Microbenchmarks for bench/run.sh: run one benchmark for a number of
 * iterations and print its cost in nanoseconds per operation.
 *
 *   micro getpid N     syscall(SYS_getpid)
 *   micro read1 N      a 1-byte read(2) of /dev/zero
 *   micro openclose N  open(2) and close(2) of /etc/passwd
 *   micro clock_gettime N  clock_gettime(CLOCK_MONOTONIC) (the vDSO's, where there is one)
 *   micro pipepp N     a byte to a child process and back over pipes
 *   micro mmaptouch N  mmap of 1 MiB, a store to each page, munmap
 *   micro stat N       stat(2) of /usr/include/stdio.h
 *   micro read1m N     a 1 MiB sequential read of a file in /tmp (pread at 0)
 *   micro write1m N    a 1 MiB sequential write of a file in /tmp (pwrite at 0)
 *   micro tcppp N      a 1-byte ping-pong over loopback TCP (a round trip)
 *   micro tcpbulk N    1 MiB sent over loopback TCP (N = 1024: 1 GiB)
 *   micro unixpp N     a 1-byte ping-pong over an AF_UNIX socketpair
 *   micro epollwake N  a ping-pong over loopback TCP where each side
 *                      sleeps in epoll_wait until its byte arrives
 *
 * Built by bench/run.sh with cc -O2, both static and dynamic, and run the
 * same way natively and under each sandbox. Prints one number (ns/op) on
 * stdout; exits 1 with a message on stderr if an operation fails. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		perror("micro: clock_gettime");
		exit(1);
	}
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int zero_fd = -1;

/* libc's getpid: a `mov $39,%eax; syscall' site of its own, which
 * ward --patch-syscalls rewrites (syscall(3) loads rax from a register). */
static int op_getpidlibc(void)
{
	return getpid() > 0 ? 0 : -1;
}

static int op_getpid(void)
{
	return syscall(SYS_getpid) > 0 ? 0 : -1;
}

static int op_clock_gettime(void)
{
	struct timespec ts;
	return clock_gettime(CLOCK_MONOTONIC, &ts);
}

static int op_read1(void)
{
	char c = 1;

	return (read(zero_fd, &c, 1) == 1 && c == 0) ? 0 : -1;
}

/* fork + _exit + waitpid of a process with 100 MiB touched. */
static char *big;
static int op_fork(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(0);
	int st;
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? 0 : -1;
}

static void *thread_body(void *arg)
{
	return arg;
}

/* pthread_create + pthread_join. */
static int op_thread(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, thread_body, NULL) != 0)
		return -1;
	return pthread_join(t, NULL);
}

/* One round trip between two threads over futexes. */
static _Atomic int pp_word;
static pthread_t pp_peer;
static long pp_rounds;
static void *pp_body(void *arg)
{
	for (long i = 0; i < pp_rounds; i++) {
		while (atomic_load(&pp_word) != 1)
			syscall(SYS_futex, &pp_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
		atomic_store(&pp_word, 0);
		syscall(SYS_futex, &pp_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	}
	return arg;
}

static int op_futexpp(void)
{
	atomic_store(&pp_word, 1);
	syscall(SYS_futex, &pp_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	while (atomic_load(&pp_word) != 0)
		syscall(SYS_futex, &pp_word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
	return 0;
}

/* A signal to oneself, its handler, and the return. */
static volatile sig_atomic_t sig_seen;
static void on_usr1(int sig)
{
	(void)sig;
	sig_seen++;
}

static int op_signal(void)
{
	return raise(SIGUSR1);
}

/* One round trip of a byte between two processes over two pipes. */
static int pp_to[2], pp_from[2];
static int op_pipepp(void)
{
	char c = 1;
	return write(pp_to[1], &c, 1) == 1 && read(pp_from[0], &c, 1) == 1 ? 0 : -1;
}

static void pipe_echo(void)
{
	char c;
	/* Only the parent keeps the write end: its exit ends the loop. */
	close(pp_to[1]);
	close(pp_from[0]);
	while (read(pp_to[0], &c, 1) == 1)
		if (write(pp_from[1], &c, 1) != 1)
			break;
	_exit(0);
}

/* mmap of 1 MiB, a store to each page, munmap. */
static int op_mmaptouch(void)
{
	char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	for (int i = 0; i < (1 << 20); i += 4096)
		p[i] = 1;
	return munmap(p, 1 << 20);
}

static int op_stat(void)
{
	struct stat st;
	return stat("/usr/include/stdio.h", &st);
}

/* 1 MiB moved in 64 KiB reads or writes, from offset 0. */
static int big_fd = -1;
static char big_buf[64 * 1024];

static int op_read1m(void)
{
	for (off_t off = 0; off < (1 << 20); off += sizeof(big_buf))
		if (pread(big_fd, big_buf, sizeof(big_buf), off) != (ssize_t)sizeof(big_buf))
			return -1;
	return 0;
}

static int op_write1m(void)
{
	for (off_t off = 0; off < (1 << 20); off += sizeof(big_buf))
		if (pwrite(big_fd, big_buf, sizeof(big_buf), off) != (ssize_t)sizeof(big_buf))
			return -1;
	return 0;
}

static int open_big(void)
{
	char path[] = "/tmp/ward-micro.XXXXXX";
	big_fd = mkstemp(path);
	if (big_fd < 0)
		return -1;
	unlink(path);
	memset(big_buf, 'x', sizeof(big_buf));
	return op_write1m();
}

static int op_openclose(void)
{
	int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	return close(fd);
}

/* Socket benchmarks: fds[0] is ours, fds[1] the peer thread's. */
static int fds[2];
static long peer_rounds;
static char *bulk;
#define BULK (1 << 20)

static int tcp_pair(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t l = sizeof(a);
	int lst = socket(AF_INET, SOCK_STREAM, 0);
	if (lst < 0 || bind(lst, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lst, 1) < 0 ||
	    getsockname(lst, (struct sockaddr *)&a, &l) < 0)
		return -1;
	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (fds[0] < 0 || connect(fds[0], (struct sockaddr *)&a, l) < 0)
		return -1;
	fds[1] = accept(lst, NULL, NULL);
	close(lst);
	int on = 1;
	setsockopt(fds[0], IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	setsockopt(fds[1], IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	return fds[1] < 0 ? -1 : 0;
}

static void *echo_body(void *arg)
{
	char c;
	for (long i = 0; i < peer_rounds; i++)
		if (read(fds[1], &c, 1) != 1 || write(fds[1], &c, 1) != 1)
			break;
	return arg;
}

static int op_pingpong(void)
{
	char c = 'x';
	return write(fds[0], &c, 1) == 1 && read(fds[0], &c, 1) == 1 ? 0 : -1;
}

static void *drain_body(void *arg)
{
	char *b = malloc(BULK);
	while (b && read(fds[1], b, BULK) > 0)
		;
	return arg;
}

static int op_tcpbulk(void)
{
	size_t done = 0;
	while (done < BULK) {
		ssize_t n = write(fds[0], bulk + done, BULK - done);
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static int ep[2];

static int wait_read(int e, int fd)
{
	struct epoll_event ev;
	char c;
	if (epoll_wait(e, &ev, 1, -1) != 1)
		return -1;
	return read(fd, &c, 1) == 1 ? 0 : -1;
}

static void *epoll_echo_body(void *arg)
{
	for (long i = 0; i < peer_rounds; i++)
		if (wait_read(ep[1], fds[1]) < 0 || write(fds[1], "y", 1) != 1)
			break;
	return arg;
}

static int op_epollwake(void)
{
	if (write(fds[0], "x", 1) != 1)
		return -1;
	return wait_read(ep[0], fds[0]);
}

static int epoll_setup(void)
{
	for (int i = 0; i < 2; i++) {
		struct epoll_event ev = { .events = EPOLLIN };
		ep[i] = epoll_create1(0);
		if (ep[i] < 0 || epoll_ctl(ep[i], EPOLL_CTL_ADD, fds[i], &ev) < 0)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int (*op)(void);
	long n, i, warm;
	double t0, t1;

	if (argc != 3 || (n = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr,
			"usage: micro "
			"getpid|getpidlibc|read1|openclose|stat|read1m|write1m|fork|thread|futexpp|signal|pipepp|"
			"mmaptouch|clock_gettime|tcppp|tcpbulk|unixpp|epollwake "
			"ITERATIONS\n");
		return 2;
	}
	if (strcmp(argv[1], "getpid") == 0) {
		op = op_getpid;
	} else if (strcmp(argv[1], "getpidlibc") == 0) {
		op = op_getpidlibc;
	} else if (strcmp(argv[1], "read1") == 0) {
		op = op_read1;
		zero_fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
		if (zero_fd < 0) {
			perror("micro: /dev/zero");
			return 1;
		}
	} else if (strcmp(argv[1], "openclose") == 0) {
		op = op_openclose;
	} else if (strcmp(argv[1], "stat") == 0) {
		op = op_stat;
	} else if (strcmp(argv[1], "read1m") == 0 || strcmp(argv[1], "write1m") == 0) {
		op = argv[1][0] == 'r' ? op_read1m : op_write1m;
		if (open_big() != 0) {
			perror("micro: /tmp file");
			return 1;
		}
	} else if (strcmp(argv[1], "fork") == 0) {
		op = op_fork;
		big = malloc(100 << 20);
		if (!big)
			return 1;
		memset(big, 1, 100 << 20);
	} else if (strcmp(argv[1], "thread") == 0) {
		op = op_thread;
	} else if (strcmp(argv[1], "futexpp") == 0) {
		op = op_futexpp;
		pp_rounds = n + n / 10 + 1;
		if (pthread_create(&pp_peer, NULL, pp_body, NULL) != 0)
			return 1;
	} else if (strcmp(argv[1], "clock_gettime") == 0) {
		op = op_clock_gettime;
	} else if (strcmp(argv[1], "pipepp") == 0) {
		op = op_pipepp;
		if (pipe(pp_to) < 0 || pipe(pp_from) < 0)
			return 1;
		pid_t echo = fork();
		if (echo < 0)
			return 1;
		if (echo == 0)
			pipe_echo();
	} else if (strcmp(argv[1], "mmaptouch") == 0) {
		op = op_mmaptouch;
	} else if (strcmp(argv[1], "signal") == 0) {
		op = op_signal;
		signal(SIGUSR1, on_usr1);
	} else if (strcmp(argv[1], "tcppp") == 0 || strcmp(argv[1], "unixpp") == 0 ||
		   strcmp(argv[1], "epollwake") == 0) {
		pthread_t t;
		bool unix_ = strcmp(argv[1], "unixpp") == 0, ew = strcmp(argv[1], "epollwake") == 0;
		op = ew ? op_epollwake : op_pingpong;
		peer_rounds = n + n / 10 + 1;
		if ((unix_ ? socketpair(AF_UNIX, SOCK_STREAM, 0, fds) : tcp_pair()) < 0 || (ew && epoll_setup() < 0) ||
		    pthread_create(&t, NULL, ew ? epoll_echo_body : echo_body, NULL) != 0) {
			perror("micro: setup");
			return 1;
		}
	} else if (strcmp(argv[1], "tcpbulk") == 0) {
		pthread_t t;
		op = op_tcpbulk;
		bulk = malloc(BULK);
		if (!bulk || tcp_pair() < 0 || pthread_create(&t, NULL, drain_body, NULL) != 0) {
			perror("micro: setup");
			return 1;
		}
		memset(bulk, 7, BULK);
	} else {
		fprintf(stderr, "micro: unknown benchmark %s\n", argv[1]);
		return 2;
	}

	warm = n / 10 + 1;
	for (i = 0; i < warm; i++)
		if (op() != 0)
			goto failed;
	t0 = now_ns();
	for (i = 0; i < n; i++)
		if (op() != 0)
			goto failed;
	t1 = now_ns();
	printf("%.1f\n", (t1 - t0) / (double)n);
	return 0;

failed:
	perror(argv[1]);
	return 1;
}
