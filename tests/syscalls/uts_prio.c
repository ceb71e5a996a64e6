/* sethostname and setdomainname (seen by uname and /proc/sys/kernel/
 * hostname; CAP_SYS_ADMIN, EINVAL, EFAULT), personality (query, set,
 * inherited), ioprio_set and ioprio_get (classes, levels, targets,
 * permissions). Natively the names are changed only inside a new UTS
 * namespace, never the host's. */
#include "ward_test.h"

#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/personality.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_WHO_PGRP 2
#define IOPRIO_WHO_USER 3
#define PRIO(class, data) (((class) << 13) | (data))

static void child_done(void)
{
	_exit(ward_test_failures ? 1 : 0);
}

static void reap_ok(pid_t pid)
{
	int status = -1;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
}

static void test_uts(void)
{
	struct utsname u;
	CHECK_OK(uname(&u));
	bool under_ward = strstr(u.release, "-ward") != NULL;
	if (unshare(CLONE_NEWUTS) != 0 && !under_ward) {
		fprintf(stderr, "no UTS namespace natively: the names are not tested\n");
		return;
	}
	CHECK_OK(sethostname("sandbox-test", 12));
	CHECK_OK(setdomainname("example.org", 11));
	CHECK_OK(uname(&u));
	CHECK_STREQ(u.nodename, "sandbox-test");
	CHECK_STREQ(u.domainname, "example.org");
	char buf[128] = { 0 };
	int fd = CHECK_OK(open("/proc/sys/kernel/hostname", O_RDONLY));
	CHECK(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	CHECK_STREQ(buf, "sandbox-test\n");
	char hn[65];
	CHECK_OK(gethostname(hn, sizeof(hn)));
	CHECK_STREQ(hn, "sandbox-test");

	/* The length is taken as it is: no NUL needed, the rest cleared. */
	CHECK_OK(sethostname("abcdef", 3));
	CHECK_OK(uname(&u));
	CHECK_STREQ(u.nodename, "abc");
	char longname[80];
	memset(longname, 'x', sizeof(longname));
	CHECK_OK(sethostname(longname, 64));
	CHECK_OK(uname(&u));
	CHECK_EQ(strlen(u.nodename), 64);
	CHECK_ERRNO(sethostname(longname, 65), EINVAL);
	CHECK_ERRNO(syscall(SYS_sethostname, longname, -1), EINVAL);
	CHECK_ERRNO(syscall(SYS_sethostname, (char *)8, 5), EFAULT);
	CHECK_ERRNO(setdomainname(longname, 65), EINVAL);
	CHECK_OK(sethostname("", 0));
	CHECK_OK(uname(&u));
	CHECK_STREQ(u.nodename, "");

	if (geteuid() == 0) {
		pid_t pid = fork();
		if (pid == 0) {
			CHECK_OK(setuid(65534));
			CHECK_ERRNO(sethostname("x", 1), EPERM);
			CHECK_ERRNO(setdomainname("x", 1), EPERM);
			child_done();
		}
		reap_ok(pid);
	}
}

static void test_personality(void)
{
	int old = personality(0xffffffff);
	CHECK(old != -1);
	CHECK_EQ(personality(old | ADDR_NO_RANDOMIZE), old);
	CHECK_EQ(personality(0xffffffff), old | ADDR_NO_RANDOMIZE);
	pid_t pid = fork();
	if (pid == 0) {
		CHECK_EQ(personality(0xffffffff), old | ADDR_NO_RANDOMIZE);
		child_done();
	}
	reap_ok(pid);
	CHECK_EQ(personality(old | READ_IMPLIES_EXEC), old | ADDR_NO_RANDOMIZE);
	/* execve of a 64-bit program drops READ_IMPLIES_EXEC, keeps the rest. */
	CHECK_EQ(personality(old | READ_IMPLIES_EXEC | ADDR_NO_RANDOMIZE), old | READ_IMPLIES_EXEC);
	pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", "uts_prio", "personality", (char *)NULL);
		_exit(99);
	}
	int st = -1;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	CHECK_EQ(personality(old), old | READ_IMPLIES_EXEC | ADDR_NO_RANDOMIZE);
	CHECK_EQ(personality(0xffffffff), old);
}

static long ioprio_set(int which, int who, int prio)
{
	return syscall(SYS_ioprio_set, which, who, prio);
}

static long ioprio_get(int which, int who)
{
	return syscall(SYS_ioprio_get, which, who);
}

static void test_ioprio(void)
{
	CHECK_EQ(ioprio_get(IOPRIO_WHO_PROCESS, 0), 0);
	CHECK_OK(ioprio_set(IOPRIO_WHO_PROCESS, 0, PRIO(2, 4)));
	CHECK_EQ(ioprio_get(IOPRIO_WHO_PROCESS, 0), PRIO(2, 4));
	CHECK_EQ(ioprio_get(IOPRIO_WHO_PROCESS, getpid()), PRIO(2, 4));
	CHECK_EQ(ioprio_get(IOPRIO_WHO_PGRP, 0), PRIO(2, 4));
	CHECK_OK(ioprio_set(IOPRIO_WHO_PROCESS, 0, PRIO(3, 0)));
	CHECK_EQ(ioprio_get(IOPRIO_WHO_PROCESS, 0), PRIO(3, 0));
	CHECK_ERRNO(ioprio_set(IOPRIO_WHO_PROCESS, 0, PRIO(7, 0)), EINVAL);
	CHECK_ERRNO(ioprio_set(IOPRIO_WHO_PROCESS, 0, PRIO(0, 1)), EINVAL);
	CHECK_ERRNO(ioprio_set(0, 0, PRIO(2, 4)), EINVAL);
	CHECK_ERRNO(ioprio_get(0, 0), EINVAL);
	CHECK_ERRNO(ioprio_get(IOPRIO_WHO_PROCESS, 999999), ESRCH);
	CHECK_ERRNO(ioprio_set(IOPRIO_WHO_PROCESS, 999999, PRIO(2, 4)), ESRCH);
	pid_t pid = fork();
	if (pid == 0) {
		CHECK_EQ(ioprio_get(IOPRIO_WHO_PROCESS, 0), PRIO(3, 0));
		if (geteuid() == 0) {
			CHECK_OK(setuid(65534));
			CHECK_ERRNO(ioprio_set(IOPRIO_WHO_PROCESS, 0, PRIO(1, 0)), EPERM);
			CHECK_ERRNO(ioprio_set(IOPRIO_WHO_PROCESS, getppid(), PRIO(2, 0)), EPERM);
			CHECK_OK(ioprio_set(IOPRIO_WHO_PROCESS, 0, PRIO(2, 7)));
			CHECK_EQ(ioprio_get(IOPRIO_WHO_USER, 65534), PRIO(2, 7));
		}
		child_done();
	}
	reap_ok(pid);
	CHECK_OK(ioprio_set(IOPRIO_WHO_PROCESS, 0, PRIO(1, 2)));
	CHECK_EQ(ioprio_get(IOPRIO_WHO_PROCESS, 0), PRIO(1, 2));
	CHECK_OK(ioprio_set(IOPRIO_WHO_PROCESS, 0, 0));
}

int main(int argc, char **argv)
{
	/* The exec'd half of test_personality: 1 when only
	 * ADDR_NO_RANDOMIZE of the two flags survived. */
	if (argc == 2 && strcmp(argv[1], "personality") == 0) {
		int p = personality(0xffffffff);
		return (p & ADDR_NO_RANDOMIZE) && !(p & READ_IMPLIES_EXEC) ? 1 : 2;
	}
	test_personality();
	test_ioprio();
	test_uts();
	return test_done();
}
