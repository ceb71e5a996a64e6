/* Every thread and process of a program shares one network: a TCP and a UDP
 * socket made by a second thread (before the main thread has made any) are
 * reached over loopback from the main thread, from a forked child and from
 * a thread of that child, and each of them sees lo up (SIOCGIFFLAGS). Under
 * ward the sandbox's network namespace is made on the first socket, by
 * whichever sentry thread needs it first; a thread left outside it would get
 * ECONNREFUSED here. */
#include "ward_test.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

static int tcp_listener = -1, udp_server = -1;
static uint16_t tcp_port, udp_port;

static struct sockaddr_in lo4(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return 0;
	return ntohs(a.sin_port);
}

/* Whether lo is up, asked through a socket of the calling thread. */
static int lo_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		return -1;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	int r = ioctl(s, SIOCGIFFLAGS, &ifr);
	close(s);
	if (r < 0)
		return -1;
	return (ifr.ifr_flags & IFF_UP) != 0;
}

static void *make_servers(void *arg)
{
	(void)arg;
	tcp_listener = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = lo4(0);
	if (tcp_listener < 0 || bind(tcp_listener, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(tcp_listener, 8) < 0)
		return (void *)1;
	udp_server = socket(AF_INET, SOCK_DGRAM, 0);
	if (udp_server < 0 || bind(udp_server, (struct sockaddr *)&a, sizeof(a)) < 0)
		return (void *)1;
	/* A peer left outside the network fails at once; the waits here
	 * then end too (accept obeys SO_RCVTIMEO). */
	struct timeval tv = { .tv_sec = 10 };
	if (setsockopt(tcp_listener, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(udp_server, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return (void *)1;
	tcp_port = bound_port(tcp_listener);
	udp_port = bound_port(udp_server);
	return NULL;
}

/* Connects to the listener and sends tag, then sends tag by UDP too.
 * Returns 0 when both went out. */
static int reach(char tag)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = lo4(tcp_port);
	if (c < 0)
		return -1;
	if (connect(c, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "connect from '%c': %s\n", tag, strerror(errno));
		close(c);
		return -1;
	}
	int r = write(c, &tag, 1) == 1 ? 0 : -1;
	close(c);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	a = lo4(udp_port);
	if (u < 0 || sendto(u, &tag, 1, 0, (struct sockaddr *)&a, sizeof(a)) != 1)
		r = -1;
	if (u >= 0)
		close(u);
	return r;
}

static void *reach_thread(void *arg)
{
	return (void *)(long)reach(*(char *)arg);
}

/* Accepts one connection and reads its tag; reads one datagram's tag. */
static void expect_tag(char tag)
{
	int s = accept(tcp_listener, NULL, NULL);
	CHECK(s >= 0);
	char got = 0;
	if (s >= 0) {
		CHECK_EQ(read(s, &got, 1), 1);
		close(s);
	}
	CHECK_EQ(got, tag);
	got = 0;
	CHECK_EQ(recv(udp_server, &got, 1, 0), 1);
	CHECK_EQ(got, tag);
}

int main(void)
{
	pthread_t th;
	void *ret = NULL;

	/* The program's first sockets, made by a second thread. */
	CHECK_EQ(pthread_create(&th, NULL, make_servers, NULL), 0);
	pthread_join(th, &ret);
	CHECK(ret == NULL);
	if (ret != NULL)
		return test_done();

	CHECK_EQ(lo_up(), 1);
	if (reach('m') == 0)
		expect_tag('m');
	else
		WARD_FAIL("the main thread cannot reach the second thread's sockets");

	char tag = 't';
	CHECK_EQ(pthread_create(&th, NULL, reach_thread, &tag), 0);
	pthread_join(th, &ret);
	if (ret == NULL)
		expect_tag('t');
	else
		WARD_FAIL("a third thread cannot reach the second thread's sockets");

	/* A child, then a thread of the child, each making its first socket. */
	pid_t pid = fork();
	if (pid == 0) {
		if (lo_up() != 1 || reach('c') < 0)
			_exit(1);
		char ctag = 'd';
		pthread_t cth;
		void *cret = (void *)1;
		if (pthread_create(&cth, NULL, reach_thread, &ctag) != 0)
			_exit(2);
		pthread_join(cth, &cret);
		_exit(cret == NULL ? 0 : 3);
	}
	CHECK(pid > 0);
	expect_tag('c');
	expect_tag('d');
	int status = -1;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return test_done();
}
