/* /proc: the links (self, thread-self, exe, cwd, root, fd/N), the
 * per-process files (stat, status, statm, cmdline, environ, comm, maps,
 * smaps_rollup, limits, mounts, fdinfo), other processes' and threads'
 * directories, the global files and /proc/sys, and /sys's CPU lists.
 * Only what holds on any Linux is checked: formats and this process's own
 * numbers, never the machine's. */
#include "ward_test.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#define PROC_SUPER_MAGIC 0x9fa0

/* Reads a whole file into a NUL-terminated buffer; returns its length, or
 * -1 with errno. */
static long slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap - 1)
			break;
	}
	buf[len] = '\0';
	close(fd);
	return (long)len;
}

static char *read_link(const char *path, char *buf, size_t cap)
{
	ssize_t n = readlink(path, buf, cap - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

/* Whether the directory lists name. */
static int dir_has(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int found = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, name) == 0)
			found = 1;
	closedir(d);
	return found;
}

/* Entries of a directory other than "." and "..". */
static int dir_count(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Checks the pid, comm and state fields of a stat line. */
static void check_stat_line(const char *path, int want_pid, int want_ppid)
{
	char buf[4096];
	if (CHECK_OK(slurp(path, buf, sizeof(buf))) <= 0)
		return;
	int pid = 0, ppid = -1;
	char state = 0;
	char *close_paren = strrchr(buf, ')');
	CHECK(close_paren != NULL);
	CHECK_EQ(sscanf(buf, "%d (", &pid), 1);
	CHECK_EQ(pid, want_pid);
	if (!close_paren)
		return;
	CHECK_EQ(sscanf(close_paren + 1, " %c %d", &state, &ppid), 2);
	CHECK(state && strchr("RSDTtZXIWP", state) != NULL);
	if (want_ppid >= 0)
		CHECK_EQ(ppid, want_ppid);
	/* 52 fields on 6.1: count the ones after the comm. */
	int fields = 2;
	for (char *p = close_paren + 1; *p; p++)
		if (*p == ' ' && p[1] && p[1] != ' ' && p[1] != '\n')
			fields++;
	CHECK(fields >= 44);
}

/* Child mode: checks its own cmdline and environ against what it got. */
static int cmdline_child(int argc, char **argv, char **envp)
{
	char buf[8192], want[8192];
	size_t wlen = 0;
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]) + 1;
		memcpy(want + wlen, argv[i], l);
		wlen += l;
	}
	long n = slurp("/proc/self/cmdline", buf, sizeof(buf));
	CHECK_EQ(n, (long)wlen);
	CHECK(n == (long)wlen && memcmp(buf, want, wlen) == 0);

	wlen = 0;
	for (char **e = envp; *e; e++) {
		size_t l = strlen(*e) + 1;
		memcpy(want + wlen, *e, l);
		wlen += l;
	}
	n = slurp("/proc/self/environ", buf, sizeof(buf));
	CHECK_EQ(n, (long)wlen);
	CHECK(n == (long)wlen && memcmp(buf, want, wlen) == 0);
	return test_done();
}

static void test_cmdline_exec(const char *self)
{
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		char *const av[] = { (char *)self, "cmdline-child", "two words", "", "last", NULL };
		char *const ev[] = { "A=1", "WARD_PROCFS=two words", NULL };
		/* Through the /proc/self/exe link, as re-exec'ing programs do. */
		execve("/proc/self/exe", av, ev);
		_exit(99);
	}
	int st = 0;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
}

static void test_self_links(const char *argv0)
{
	char buf[PATH_MAX], want[PATH_MAX];
	snprintf(want, sizeof(want), "%d", getpid());
	CHECK_STREQ(read_link("/proc/self", buf, sizeof(buf)), want);
	snprintf(want, sizeof(want), "%d/task/%d", getpid(), gettid());
	CHECK_STREQ(read_link("/proc/thread-self", buf, sizeof(buf)), want);

	char real[PATH_MAX];
	CHECK(realpath(argv0, real) != NULL);
	CHECK_STREQ(read_link("/proc/self/exe", buf, sizeof(buf)), real);
	CHECK(getcwd(want, sizeof(want)) != NULL);
	CHECK_STREQ(read_link("/proc/self/cwd", buf, sizeof(buf)), want);
	CHECK_STREQ(read_link("/proc/self/root", buf, sizeof(buf)), "/");
	CHECK_STREQ(read_link("/proc/mounts", buf, sizeof(buf)), "self/mounts");

	struct stat st;
	CHECK_OK(lstat("/proc/self", &st));
	CHECK(S_ISLNK(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0777);
	CHECK_OK(stat("/proc/self", &st));
	CHECK(S_ISDIR(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0555);
	CHECK_EQ(st.st_uid, geteuid());
	CHECK_OK(stat("/proc/self/root/", &st));
	CHECK(S_ISDIR(st.st_mode));
	CHECK_OK(stat("/proc/self/status", &st));
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0444);
	CHECK_OK(stat("/proc/self/fd", &st));
	CHECK_EQ(st.st_mode & 07777, 0500);
	CHECK_OK(stat("/proc", &st));
	CHECK(S_ISDIR(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0555);
	CHECK_OK(stat("/proc/self/exe", &st));
	CHECK(S_ISREG(st.st_mode));

	struct statfs sf;
	CHECK_OK(statfs("/proc", &sf));
	CHECK_EQ(sf.f_type, PROC_SUPER_MAGIC);
}

static void test_self_files(const char *argv0)
{
	static char buf[1 << 16];
	char want[256];

	check_stat_line("/proc/self/stat", getpid(), getppid());

	CHECK_OK(slurp("/proc/self/status", buf, sizeof(buf)));
	snprintf(want, sizeof(want), "\nPid:\t%d\n", getpid());
	CHECK(strstr(buf, want) != NULL);
	snprintf(want, sizeof(want), "\nTgid:\t%d\n", getpid());
	CHECK(strstr(buf, want) != NULL);
	snprintf(want, sizeof(want), "\nPPid:\t%d\n", getppid());
	CHECK(strstr(buf, want) != NULL);
	CHECK(strncmp(buf, "Name:\t", 6) == 0);
	CHECK(strstr(buf, "\nState:\tR (running)\n") != NULL);
	CHECK(strstr(buf, "\nThreads:\t1\n") != NULL);
	snprintf(want, sizeof(want), "\nUid:\t%d\t%d\t", getuid(), geteuid());
	CHECK(strstr(buf, want) != NULL);
	CHECK(strstr(buf, "\nVmRSS:") != NULL);
	CHECK(strstr(buf, "\nSigBlk:\t") != NULL);
	CHECK(strstr(buf, "\nSigIgn:\t") != NULL);
	CHECK(strstr(buf, "\nSigCgt:\t") != NULL);
	CHECK(strstr(buf, "\nCapEff:\t") != NULL);

	/* A blocked and an ignored signal show in the masks. */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	CHECK_OK(sigprocmask(SIG_BLOCK, &set, &old));
	signal(SIGUSR2, SIG_IGN);
	CHECK_OK(slurp("/proc/self/status", buf, sizeof(buf)));
	unsigned long long blk = 0, ign = 0;
	char *p = strstr(buf, "\nSigBlk:\t");
	CHECK(p && sscanf(p + 9, "%llx", &blk) == 1);
	p = strstr(buf, "\nSigIgn:\t");
	CHECK(p && sscanf(p + 9, "%llx", &ign) == 1);
	CHECK(blk & (1ULL << (SIGUSR1 - 1)));
	CHECK(ign & (1ULL << (SIGUSR2 - 1)));
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGUSR2, SIG_DFL);

	unsigned long sz = 0, rss = 0;
	CHECK_OK(slurp("/proc/self/statm", buf, sizeof(buf)));
	CHECK_EQ(sscanf(buf, "%lu %lu", &sz, &rss), 2);
	CHECK(sz > 0);
	CHECK(sz >= rss);

	/* comm: the executable's name, cut to 15 bytes. */
	const char *base = strrchr(argv0, '/');
	base = base ? base + 1 : argv0;
	snprintf(want, sizeof(want), "%.15s\n", base);
	CHECK_OK(slurp("/proc/self/comm", buf, sizeof(buf)));
	CHECK_STREQ(buf, want);

	char real[PATH_MAX];
	CHECK_OK(slurp("/proc/self/maps", buf, sizeof(buf)));
	CHECK(strstr(buf, "[stack]\n") != NULL);
	if (realpath(argv0, real))
		CHECK(strstr(buf, real) != NULL);
	unsigned long lo, hi;
	char perms[5];
	CHECK_EQ(sscanf(buf, "%lx-%lx %4s", &lo, &hi, perms), 3);
	CHECK(lo < hi);

	CHECK_OK(slurp("/proc/self/smaps_rollup", buf, sizeof(buf)));
	CHECK(strstr(buf, "[rollup]\n") != NULL);
	CHECK(strstr(buf, "\nRss:") != NULL);
	CHECK(strstr(buf, "\nPss:") != NULL);

	CHECK_OK(slurp("/proc/self/limits", buf, sizeof(buf)));
	CHECK(strncmp(buf, "Limit                     Soft Limit           Hard Limit           Units", 72) == 0);
	CHECK(strstr(buf, "\nMax open files            ") != NULL);
	CHECK(strstr(buf, "\nMax stack size            ") != NULL);

	CHECK_OK(slurp("/proc/self/mounts", buf, sizeof(buf)));
	CHECK(strstr(buf, " /proc proc ") != NULL);
	CHECK_OK(slurp("/proc/mounts", buf, sizeof(buf)));
	CHECK(strstr(buf, " /proc proc ") != NULL);
	CHECK_OK(slurp("/proc/self/mountinfo", buf, sizeof(buf)));
	CHECK(strstr(buf, " /proc ") != NULL);
	CHECK(strstr(buf, " - proc ") != NULL);

	/* Read-only. */
	CHECK_ERRNO(open("/proc/sys/kernel/ostype", O_WRONLY), EACCES);
}

static void test_fds(void)
{
	char path[] = "/tmp/ward-procfs-XXXXXX";
	int fd = CHECK_OK(mkstemp(path));
	char link[64], buf[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	CHECK_STREQ(read_link(link, buf, sizeof(buf)), path);
	char name[16];
	snprintf(name, sizeof(name), "%d", fd);
	CHECK(dir_has("/proc/self/fd", "0"));
	CHECK(dir_has("/proc/self/fd", "1"));
	CHECK(dir_has("/proc/self/fd", "2"));
	CHECK(dir_has("/proc/self/fd", name));
	CHECK(dir_has("/proc/self/fdinfo", name));
	struct stat st;
	CHECK_OK(lstat(link, &st));
	CHECK(S_ISLNK(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0700); /* mkstemp opens O_RDWR */

	CHECK_EQ(write(fd, "hello", 5), 5);
	char info[256];
	snprintf(link, sizeof(link), "/proc/self/fdinfo/%d", fd);
	CHECK_OK(slurp(link, info, sizeof(info)));
	CHECK(strncmp(info, "pos:\t5\n", 7) == 0);
	CHECK(strstr(info, "\nflags:\t") != NULL);
	CHECK(strstr(info, "\nmnt_id:\t") != NULL);
	/* A closed descriptor goes (a high one: opendir would reuse a low
	 * number). */
	CHECK_EQ(dup2(fd, 100), 100);
	CHECK(dir_has("/proc/self/fd", "100"));
	CHECK_STREQ(read_link("/proc/self/fd/100", buf, sizeof(buf)), path);
	close(100);
	close(fd);
	CHECK(!dir_has("/proc/self/fd", "100"));
	CHECK_ERRNO(readlink("/proc/self/fd/100", buf, sizeof(buf)), ENOENT);
	unlink(path);

	int p[2];
	CHECK_OK(pipe(p));
	snprintf(link, sizeof(link), "/proc/self/fd/%d", p[0]);
	CHECK(read_link(link, buf, sizeof(buf)) && strncmp(buf, "pipe:[", 6) == 0);
	/* Following it does not reach the pipe's object here, nor anywhere
	 * outside: opening the link of a pipe through /proc works on Linux
	 * (a magic link) but must not escape; only its text is checked. */
	close(p[0]);
	close(p[1]);
}

static void test_global(void)
{
	static char buf[1 << 16];
	CHECK_OK(slurp("/proc/meminfo", buf, sizeof(buf)));
	CHECK(strncmp(buf, "MemTotal:", 9) == 0);
	CHECK(strstr(buf, "\nMemFree:") != NULL);
	CHECK(strstr(buf, "\nMemAvailable:") != NULL);
	CHECK(strstr(buf, "\nSwapTotal:") != NULL);
	unsigned long total = 0;
	CHECK_EQ(sscanf(buf, "MemTotal: %lu kB", &total), 1);
	CHECK(total > 0);

	CHECK_OK(slurp("/proc/cpuinfo", buf, sizeof(buf)));
	CHECK(strncmp(buf, "processor\t: 0\n", 14) == 0);
	CHECK(strstr(buf, "\nflags\t\t: ") != NULL);
	CHECK(strstr(buf, "\nmodel name\t: ") != NULL);

	CHECK_OK(slurp("/proc/stat", buf, sizeof(buf)));
	CHECK(strncmp(buf, "cpu ", 4) == 0);
	CHECK(strstr(buf, "\ncpu0 ") != NULL);
	CHECK(strstr(buf, "\nbtime ") != NULL);
	CHECK(strstr(buf, "\nprocesses ") != NULL);
	CHECK(strstr(buf, "\nprocs_running ") != NULL);

	double up = -1, idle = -1;
	CHECK_OK(slurp("/proc/uptime", buf, sizeof(buf)));
	CHECK_EQ(sscanf(buf, "%lf %lf", &up, &idle), 2);
	CHECK(up > 0);
	CHECK(idle >= 0);

	double l1, l5, l15;
	int run, all, last;
	CHECK_OK(slurp("/proc/loadavg", buf, sizeof(buf)));
	CHECK_EQ(sscanf(buf, "%lf %lf %lf %d/%d %d", &l1, &l5, &l15, &run, &all, &last), 6);
	CHECK(all >= 1);

	struct utsname u;
	CHECK_OK(uname(&u));
	char want[512];
	snprintf(want, sizeof(want), "Linux version %s ", u.release);
	CHECK_OK(slurp("/proc/version", buf, sizeof(buf)));
	CHECK(strncmp(buf, want, strlen(want)) == 0);

	CHECK_OK(slurp("/proc/filesystems", buf, sizeof(buf)));
	CHECK(strstr(buf, "nodev\tproc\n") != NULL);
	CHECK(strstr(buf, "nodev\ttmpfs\n") != NULL);

	CHECK_OK(slurp("/proc/sys/kernel/ostype", buf, sizeof(buf)));
	CHECK_STREQ(buf, "Linux\n");
	snprintf(want, sizeof(want), "%s\n", u.release);
	CHECK_OK(slurp("/proc/sys/kernel/osrelease", buf, sizeof(buf)));
	CHECK_STREQ(buf, want);
	snprintf(want, sizeof(want), "%s\n", u.nodename);
	CHECK_OK(slurp("/proc/sys/kernel/hostname", buf, sizeof(buf)));
	CHECK_STREQ(buf, want);
	CHECK_OK(slurp("/proc/sys/kernel/ngroups_max", buf, sizeof(buf)));
	CHECK_STREQ(buf, "65536\n");
	CHECK_OK(slurp("/proc/sys/kernel/pid_max", buf, sizeof(buf)));
	CHECK(atoi(buf) > 0);
	CHECK_OK(slurp("/proc/sys/vm/overcommit_memory", buf, sizeof(buf)));
	CHECK(buf[0] >= '0' && buf[0] <= '2' && buf[1] == '\n');
	CHECK_OK(slurp("/proc/sys/fs/pipe-max-size", buf, sizeof(buf)));
	CHECK(atoi(buf) >= 4096);
	CHECK_OK(slurp("/proc/sys/fs/nr_open", buf, sizeof(buf)));
	CHECK(atoi(buf) > 0);

	struct stat st;
	CHECK_OK(stat("/proc/sys/kernel/ostype", &st));
	CHECK_EQ(st.st_mode & 07777, 0444);
	CHECK_OK(stat("/proc/sys", &st));
	CHECK_EQ(st.st_mode & 07777, 0555);
	CHECK_OK(stat("/proc/meminfo", &st));
	CHECK_EQ(st.st_mode & 07777, 0444);

	CHECK_OK(slurp("/sys/devices/system/cpu/online", buf, sizeof(buf)));
	CHECK(buf[0] == '0' && buf[strlen(buf) - 1] == '\n');
	CHECK_OK(slurp("/sys/devices/system/cpu/possible", buf, sizeof(buf)));
	CHECK(buf[0] == '0');

	char pid[16];
	snprintf(pid, sizeof(pid), "%d", getpid());
	CHECK(dir_has("/proc", pid));
	CHECK(dir_has("/proc", "self"));
	CHECK(dir_has("/proc", "meminfo"));
	CHECK(dir_has("/proc/self", "status"));
	CHECK(dir_has("/proc/self", "task"));
	CHECK(!dir_has("/proc/self", "no-such-entry"));
	CHECK_ERRNO(open("/proc/self/no-such-entry", O_RDONLY), ENOENT);
	CHECK_ERRNO(open("/proc/999999999/status", O_RDONLY), ENOENT);
}

static void test_child(void)
{
	int p[2];
	CHECK_OK(pipe(p));
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		char c;
		close(p[1]);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(p[0]);
	char path[64], buf[4096], want[64], name[16];
	snprintf(name, sizeof(name), "%d", pid);
	CHECK(dir_has("/proc", name));
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	check_stat_line(path, pid, getpid());
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	CHECK_OK(slurp(path, buf, sizeof(buf)));
	snprintf(want, sizeof(want), "\nPid:\t%d\n", pid);
	CHECK(strstr(buf, want) != NULL);
	snprintf(want, sizeof(want), "\nPPid:\t%d\n", getpid());
	CHECK(strstr(buf, want) != NULL);
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	char a[PATH_MAX], b[PATH_MAX];
	CHECK_STREQ(read_link(path, a, sizeof(a)), read_link("/proc/self/exe", b, sizeof(b)));
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	char mine[4096];
	long n1 = slurp(path, buf, sizeof(buf));
	long n2 = slurp("/proc/self/cmdline", mine, sizeof(mine));
	CHECK(n1 > 0 && n1 == n2 && memcmp(buf, mine, (size_t)n1) == 0);

	close(p[1]);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	CHECK_ERRNO(open(path, O_RDONLY), ENOENT);
	CHECK(!dir_has("/proc", name));
}

static int thread_pipe[2];
static volatile pid_t thread_tid;

static void *thread_main(void *arg)
{
	thread_tid = gettid();
	char c;
	while (read(thread_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void test_threads(void)
{
	CHECK_OK(pipe(thread_pipe));
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, thread_main, NULL), 0);
	while (!thread_tid)
		usleep(1000);
	CHECK_EQ(dir_count("/proc/self/task"), 2);
	char name[16], path[128], buf[4096], want[64];
	snprintf(name, sizeof(name), "%d", getpid());
	CHECK(dir_has("/proc/self/task", name));
	snprintf(name, sizeof(name), "%d", thread_tid);
	CHECK(dir_has("/proc/self/task", name));

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", thread_tid);
	check_stat_line(path, thread_tid, getppid());
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", thread_tid);
	CHECK_OK(slurp(path, buf, sizeof(buf)));
	snprintf(want, sizeof(want), "\nPid:\t%d\n", thread_tid);
	CHECK(strstr(buf, want) != NULL);
	snprintf(want, sizeof(want), "\nTgid:\t%d\n", getpid());
	CHECK(strstr(buf, want) != NULL);
	CHECK(strstr(buf, "\nThreads:\t2\n") != NULL);
	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", thread_tid);
	char comm[64], mine[64];
	CHECK_OK(slurp(path, comm, sizeof(comm)));
	CHECK_OK(slurp("/proc/self/comm", mine, sizeof(mine)));
	CHECK_STREQ(comm, mine);
	snprintf(path, sizeof(path), "/proc/self/task/%d", thread_tid);
	CHECK(!dir_has(path, "task"));
	CHECK(dir_has(path, "stat"));

	CHECK_OK(slurp("/proc/self/status", buf, sizeof(buf)));
	CHECK(strstr(buf, "\nThreads:\t2\n") != NULL);

	CHECK_EQ(write(thread_pipe[1], "x", 1), 1);
	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(dir_count("/proc/self/task"), 1);
	close(thread_pipe[0]);
	close(thread_pipe[1]);
}

int main(int argc, char **argv, char **envp)
{
	if (argc > 1 && strcmp(argv[1], "cmdline-child") == 0)
		return cmdline_child(argc, argv, envp);
	test_self_links(argv[0]);
	test_self_files(argv[0]);
	test_fds();
	test_global();
	test_child();
	test_threads();
	test_cmdline_exec(argv[0]);
	return test_done();
}
