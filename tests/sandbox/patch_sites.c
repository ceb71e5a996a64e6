/* A guest for tests/sandbox/patch-sites.sh: syscall sites of the form
 * `mov $nr,%eax; syscall`, which ward --patch-syscalls rewrites, used the
 * ways a program may use them. Every mode but "bytes" prints the same
 * natively and under ward; "bytes" prints whether the site was rewritten. */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define SITE(name, nr)                                                                                   \
	__attribute__((noinline, noclone)) static long name(long a0, long a1, long a2)                   \
	{                                                                                                \
		long r;                                                                                  \
		register long rdi __asm__("rdi") = a0, rsi __asm__("rsi") = a1, rdx __asm__("rdx") = a2; \
		__asm__ volatile(".globl " #name "_at\n" #name "_at: mov $" #nr ", %%eax\n\tsyscall"     \
				 : "=a"(r)                                                               \
				 : "r"(rdi), "r"(rsi), "r"(rdx)                                          \
				 : "rcx", "r11", "memory");                                              \
		return r;                                                                                \
	}

SITE(site_getpid, 39)
SITE(site_gettid, 186)
SITE(site_read, 0)
extern const unsigned char site_getpid_at[], site_read_at[];

static long real_getpid(void)
{
	return syscall(SYS_getpid);
}

static int check_pid(const char *what)
{
	long got = site_getpid(0, 0, 0), want = real_getpid();
	if (got != want) {
		printf("%s: getpid site says %ld, want %ld\n", what, got, want);
		return 1;
	}
	return 0;
}

static const char *state_of(const unsigned char *at)
{
	unsigned char b[7];
	memcpy(b, at, sizeof(b));
	if (b[0] == 0xb8 && b[5] == 0x0f && b[6] == 0x05)
		return "plain";
	if (b[0] == 0xff && b[1] == 0x24 && b[2] == 0x25)
		return "patched";
	return "other";
}

static const char *site_state(void)
{
	return state_of(site_getpid_at);
}

static int mode_bytes(void)
{
	int bad = check_pid("first") + check_pid("second") + check_pid("third");
	printf("site %s%s\n", site_state(), bad ? " (wrong results)" : "");
	return bad;
}

static int mode_fork(void)
{
	int bad = check_pid("before") + check_pid("before");
	for (int i = 0; i < 3; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			int b = 0;
			for (int j = 0; j < 1000; j++)
				b |= check_pid("child");
			pid_t g = fork();
			if (g == 0)
				_exit(check_pid("grandchild"));
			int st;
			waitpid(g, &st, 0);
			_exit(b || !WIFEXITED(st) || WEXITSTATUS(st));
		}
		int st;
		waitpid(pid, &st, 0);
		bad += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
		bad += check_pid("parent");
	}
	printf("fork %s\n", bad ? "bad" : "ok");
	return bad != 0;
}

/* A fork child that has not called the site yet shares its page with the
 * parent until one of them writes it: the parent's patch is the parent's. */
static int mode_fork_first(void)
{
	int go[2], back[2];
	if (pipe(go) < 0 || pipe(back) < 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		read(go[0], &c, 1);
		printf("child before its call: site %s\n", site_state());
		fflush(stdout);
		int b = check_pid("child") + check_pid("child") + check_pid("child");
		_exit(b);
	}
	int bad = check_pid("parent") + check_pid("parent") + check_pid("parent");
	write(go[1], "x", 1);
	int st;
	waitpid(pid, &st, 0);
	bad += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	bad += check_pid("parent after");
	printf("fork-first %s\n", bad ? "bad" : "ok");
	return bad != 0;
}

static sigjmp_buf jb;
static volatile sig_atomic_t segvs;

static void on_segv(int sig)
{
	(void)sig;
	segvs++;
	/* The GS base this test forged is not the stub's: back to none. */
	__asm__ volatile("wrgsbase %0" : : "r"(0UL));
	siglongjmp(jb, 1);
}

static int mode_gs(void)
{
	static char area[8192];
	int bad = check_pid("before") + check_pid("before");
	/* A GS base of the guest's own, set the Linux way: the site must work. */
	if (syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)area) != 0)
		return printf("arch_prctl failed\n"), 1;
	for (int i = 0; i < 100; i++)
		bad += check_pid("own gs");
	unsigned long gs = 1;
	syscall(SYS_arch_prctl, ARCH_GET_GS, &gs);
	bad += gs != (unsigned long)area;
	syscall(SYS_arch_prctl, ARCH_SET_GS, 0UL);
	bad += check_pid("gs back to 0");
	printf("gs %s\n", bad ? "bad" : "ok");
	return bad != 0;
}

/* Forges GS bases behind the sentry's back (wrgsbase) and calls the site:
 * the guest may hurt only itself. Prints the same wherever the site works
 * or the guest gets a SIGSEGV it survives. */
static int mode_gs_forge(void)
{
	static const unsigned long forged[] = {
		0x1000, /* the slot table */
		0x7fffe0100000UL, /* the first thread region: this thread's own */
		0x7fffe0100000UL + 0x10000UL * 777, /* a region no thread has */
		0x7fffe0000000UL, /* the stub's code page */
	};
	struct sigaction sa = { .sa_handler = on_segv, .sa_flags = SA_NODEFER };
	sigaction(SIGSEGV, &sa, NULL);
	check_pid("before");
	check_pid("before");
	for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		if (sigsetjmp(jb, 1) == 0) {
			__asm__ volatile("wrgsbase %0" : : "r"(forged[i]));
			site_getpid(0, 0, 0);
			__asm__ volatile("wrgsbase %0" : : "r"(0UL));
		}
	}
	int bad = check_pid("after");
	printf("alive %s\n", bad ? "bad" : "ok");
	return bad;
}

/* Jumps into the trampoline of the site's slot with a forged index: under
 * ward the guest gets a SIGSEGV, nothing else. Natively there is no slot. */
static int mode_forge_entry(void)
{
	check_pid("before");
	check_pid("before");
	const unsigned char *b = site_getpid_at;
	if (b[0] != 0xff) {
		printf("not patched\n");
		return 0;
	}
	uint32_t slot;
	memcpy(&slot, b + 3, 4);
	uint64_t tramp = *(const uint64_t *)(uintptr_t)slot;
	struct sigaction sa = { .sa_handler = on_segv, .sa_flags = SA_NODEFER };
	sigaction(SIGSEGV, &sa, NULL);
	static const uint64_t idx[] = { 0x7fffffff, 4095, 1UL << 40 };
	for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
		if (sigsetjmp(jb, 1) == 0) {
			/* The trampoline's second instruction jumps to the entry. */
			__asm__ volatile("mov %0, %%rcx\n\tjmp *%1" : : "r"(idx[i]), "r"(tramp + 5) : "rcx", "memory");
		}
	}
	int bad = check_pid("after");
	printf("forged entry: %d segvs, %s\n", (int)segvs, bad ? "bad" : "ok");
	return bad;
}

static int mode_exec(char *self, int child)
{
	int bad = check_pid("exec") + check_pid("exec");
	if (!child) {
		char *argv[] = { self, "exec-child", NULL };
		execv(self, argv);
		printf("execv failed\n");
		return 1;
	}
	printf("exec child %s, site %s\n", bad ? "bad" : "ok", site_state());
	return bad;
}

static volatile int thread_bad;

static void *thread_main(void *arg)
{
	(void)arg;
	long tid = syscall(SYS_gettid);
	for (int i = 0; i < 20000; i++) {
		if (site_gettid(0, 0, 0) != tid || site_getpid(0, 0, 0) != real_getpid()) {
			__atomic_fetch_add(&thread_bad, 1, __ATOMIC_SEQ_CST);
			break;
		}
	}
	return NULL;
}

static int mode_threads(void)
{
	/* Patched while alone; then four threads share the patched code. */
	check_pid("main");
	check_pid("main");
	site_gettid(0, 0, 0);
	site_gettid(0, 0, 0);
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, thread_main, NULL);
	thread_main(NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	printf("threads %s\n", thread_bad ? "bad" : "ok");
	return thread_bad != 0;
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
	/* A handler that uses the vector registers the interrupted code holds. */
	__asm__ volatile("pcmpeqd %%xmm8, %%xmm8\n\tpxor %%xmm9, %%xmm9" : : : "xmm8", "xmm9");
}

/* The vector registers survive patched calls, and signals delivered on
 * their return (the sentry then needs the FPU state the entry kept). */
static int mode_fpu(void)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { { 0, 500 }, { 0, 500 } };
	setitimer(ITIMER_REAL, &it, NULL);
	long bad = 0;
	for (long i = 1; alarms < 50 && i < 50000000; i++) {
		uint64_t out8, out9;
		__asm__ volatile("movq %2, %%xmm8\n\tmovq %3, %%xmm9\n\t"
				 "sub $128, %%rsp\n\tcall site_getpid\n\tadd $128, %%rsp\n\t"
				 "movq %%xmm8, %0\n\tmovq %%xmm9, %1"
				 : "=r"(out8), "=r"(out9)
				 : "r"((uint64_t)i), "r"((uint64_t)~i)
				 : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "xmm8", "xmm9",
				   "memory");
		if (out8 != (uint64_t)i || out9 != (uint64_t)~i)
			bad++;
	}
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	printf("fpu %s%s\n", bad ? "bad" : "ok", alarms >= 50 ? "" : " (too few signals)");
	return bad != 0;
}

/* A patched read restarted after SA_RESTART handlers (its syscall
 * instruction is gone: the restart must go elsewhere). */
static int mode_restart(void)
{
	int p[2];
	char c = 0;
	if (pipe(p) < 0)
		return 1;
	write(p[1], "a", 1);
	site_read(p[0], (long)&c, 1);
	write(p[1], "b", 1);
	site_read(p[0], (long)&c, 1);
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	sigaction(SIGALRM, &sa, NULL);
	pid_t pid = fork();
	if (pid == 0) {
		usleep(300000);
		write(p[1], "c", 1);
		_exit(0);
	}
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	long r = site_read(p[0], (long)&c, 1);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	waitpid(pid, NULL, 0);
	int bad = r != 1 || c != 'c' || alarms < 2;
	printf("restart %s\n", bad ? "bad" : "ok");
	return bad;
}

/* Code the guest writes itself (a JIT): patched like any site; then made
 * non-executable, rewritten by the guest, unmapped and mapped anew. */
static int mode_jit(void)
{
	static const unsigned char getpid_code[] = { 0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3 };
	static const unsigned char gettid_code[] = { 0xb8, 186, 0, 0, 0, 0x0f, 0x05, 0xc3 };
	const int rwx = PROT_READ | PROT_WRITE | PROT_EXEC;
	unsigned char *page = mmap(NULL, 4096, rwx, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return printf("mmap failed\n"), 1;
	long (*fn)(void) = (long (*)(void))(void *)page;
	int bad = 0;
	memcpy(page, getpid_code, sizeof(getpid_code));
	for (int i = 0; i < 3; i++)
		bad += fn() != real_getpid();
	/* No longer executable: the (patched) site faults like the plain one. */
	struct sigaction sa = { .sa_handler = on_segv, .sa_flags = SA_NODEFER };
	sigaction(SIGSEGV, &sa, NULL);
	mprotect(page, 4096, PROT_READ | PROT_WRITE);
	segvs = 0;
	if (sigsetjmp(jb, 1) == 0)
		fn();
	bad += segvs != 1;
	mprotect(page, 4096, rwx);
	/* The guest writes its code again: it runs what it wrote. */
	memcpy(page, gettid_code, sizeof(gettid_code));
	for (int i = 0; i < 3; i++)
		bad += fn() != syscall(SYS_gettid);
	/* Unmapped and mapped anew at the same place, other code, then the
	 * first code again. */
	munmap(page, 4096);
	unsigned char *again = mmap(page, 4096, rwx, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (again != page)
		return printf("mmap again failed\n"), 1;
	memcpy(page, gettid_code, sizeof(gettid_code));
	for (int i = 0; i < 3; i++)
		bad += fn() != syscall(SYS_gettid);
	memcpy(page, getpid_code, sizeof(getpid_code));
	for (int i = 0; i < 3; i++)
		bad += fn() != real_getpid();
	printf("jit %s\n", bad ? "bad" : "ok");
	return bad != 0;
}

/* The guest cannot map, move or unmap anything onto the slot table below
 * 64 KiB (ward applies Linux's default vm.mmap_min_addr; this host's may
 * be lower, so this mode is for ward only). */
static int mode_low(uintptr_t table, size_t below)
{
	check_pid("before");
	check_pid("before");
	void *low = (void *)table;
	void *m = mmap(low, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	const char *mm = m == MAP_FAILED ? strerror(errno) : "mapped";
	void *src = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *r = mremap(src, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, low);
	const char *mr = r == MAP_FAILED ? strerror(errno) : "moved";
	int un = munmap(NULL, below);
	int pr = mprotect(low, 4096, PROT_READ | PROT_WRITE);
	int bad = check_pid("after");
	printf("low: mmap %s, mremap %s, munmap %d, mprotect %s, site %s\n", mm, mr, un, pr ? strerror(errno) : "ok",
	       bad ? "bad" : "ok");
	return bad;
}

static volatile int storm_stop;
static volatile long storm_bad;
static pid_t storm_tids[3];

static void *storm_thread(void *arg)
{
	storm_tids[(long)arg] = (pid_t)syscall(SYS_gettid);
	long tid = syscall(SYS_gettid), pid = real_getpid();
	for (uint64_t i = 1; !storm_stop; i++) {
		uint64_t out8;
		__asm__ volatile("movq %1, %%xmm8\n\t"
				 "sub $128, %%rsp\n\tcall site_getpid\n\tadd $128, %%rsp\n\t"
				 "movq %%xmm8, %0"
				 : "=r"(out8)
				 : "r"(i)
				 : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "xmm8", "xmm9",
				   "memory");
		if (out8 != i || site_gettid(0, 0, 0) != tid || site_getpid(0, 0, 0) != pid)
			__atomic_fetch_add(&storm_bad, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/* Signals from another thread land anywhere in threads that make patched
 * calls in a loop: in the entry too, on its way in, waiting, or out. */
static int mode_storm(void)
{
	check_pid("main");
	check_pid("main");
	site_gettid(0, 0, 0);
	site_gettid(0, 0, 0);
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	sigaction(SIGUSR1, &sa, NULL);
	pthread_t th[3];
	for (long i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, storm_thread, (void *)i);
	while (!storm_tids[0] || !storm_tids[1] || !storm_tids[2])
		sched_yield();
	for (int i = 0; i < 3000; i++)
		syscall(SYS_tgkill, real_getpid(), storm_tids[i % 3], SIGUSR1);
	storm_stop = 1;
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	printf("storm %s\n", storm_bad ? "bad" : "ok");
	return storm_bad != 0;
}

/* Threads that exist before any site is patched: each site is patched
 * while the others run (ward stops them first), and the calls stay right.
 * The libc calls are sites of libc's own. storm: with signals between. */
static volatile int mt_go;

static void *mt_thread(void *arg)
{
	(void)arg;
	while (!mt_go)
		;
	long tid = syscall(SYS_gettid), pid = real_getpid(), ppid = syscall(SYS_getppid);
	for (int i = 0; i < 20000; i++) {
		if (site_gettid(0, 0, 0) != tid || site_getpid(0, 0, 0) != pid || getpid() != pid ||
		    getppid() != ppid) {
			__atomic_fetch_add(&thread_bad, 1, __ATOMIC_SEQ_CST);
			break;
		}
	}
	return NULL;
}

static int mode_mt(void)
{
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, mt_thread, NULL);
	mt_go = 1;
	mt_thread(NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	printf("mt %s, site %s\n", thread_bad ? "bad" : "ok", site_state());
	return thread_bad != 0;
}

static int mode_mt_storm(void)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	sigaction(SIGUSR1, &sa, NULL);
	pthread_t th[3];
	for (long i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, storm_thread, (void *)i);
	while (!storm_tids[0] || !storm_tids[1] || !storm_tids[2])
		sched_yield();
	for (int i = 0; i < 3000; i++)
		syscall(SYS_tgkill, real_getpid(), storm_tids[i % 3], SIGUSR1);
	storm_stop = 1;
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	printf("mt-storm %s, site %s\n", storm_bad ? "bad" : "ok", site_state());
	return storm_bad != 0;
}

/* A thread blocked in a read at a site that another thread then patches:
 * a signal restarts its read, which resumes 5 bytes into what is now the
 * jump, and the read still reads. */
static int blk_pipe[2];
static volatile int blk_in;

static void *blk_thread(void *arg)
{
	(void)arg;
	char c[2] = { 0, 0 };
	blk_in = 1;
	long r0 = site_read(blk_pipe[0], (long)&c[0], 1);
	long r1 = site_read(blk_pipe[0], (long)&c[1], 1);
	return (void *)(long)(r0 == 1 && r1 == 1 && c[0] == 'a' && c[1] == 'b');
}

static int mode_mt_blocked(void)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	sigaction(SIGUSR1, &sa, NULL);
	int q[2];
	if (pipe(blk_pipe) < 0 || pipe(q) < 0)
		return 1;
	pthread_t th;
	pthread_create(&th, NULL, blk_thread, NULL);
	while (!blk_in)
		sched_yield();
	usleep(100000);
	/* Main's own reads at the same site: its trap patches the site while
	 * the other thread is blocked in its read there. */
	char c;
	int bad = 0;
	for (int i = 0; i < 3; i++)
		bad += write(q[1], "q", 1) != 1 || site_read(q[0], (long)&c, 1) != 1 || c != 'q';
	pthread_kill(th, SIGUSR1);
	usleep(100000);
	bad += write(blk_pipe[1], "a", 1) != 1;
	usleep(50000);
	pthread_kill(th, SIGUSR1);
	usleep(50000);
	bad += write(blk_pipe[1], "b", 1) != 1;
	void *ok;
	pthread_join(th, &ok);
	printf("mt-blocked %s, site %s\n", bad || !ok ? "bad" : "ok", state_of(site_read_at));
	return bad || !ok;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "bytes";
	if (!strcmp(mode, "bytes"))
		return mode_bytes();
	if (!strcmp(mode, "fork"))
		return mode_fork();
	if (!strcmp(mode, "fork-first"))
		return mode_fork_first();
	if (!strcmp(mode, "gs"))
		return mode_gs();
	if (!strcmp(mode, "gs-forge"))
		return mode_gs_forge();
	if (!strcmp(mode, "forge-entry"))
		return mode_forge_entry();
	if (!strcmp(mode, "exec"))
		return mode_exec(argv[0], 0);
	if (!strcmp(mode, "exec-child"))
		return mode_exec(argv[0], 1);
	if (!strcmp(mode, "threads"))
		return mode_threads();
	if (!strcmp(mode, "fpu"))
		return mode_fpu();
	if (!strcmp(mode, "restart"))
		return mode_restart();
	if (!strcmp(mode, "jit"))
		return mode_jit();
	if (!strcmp(mode, "low"))
		return mode_low(0x1000, 0x10000);
	/* WARD_PATCH_TABLE=guest: the table at 64 KiB, 32 KiB of it. */
	if (!strcmp(mode, "low-guest"))
		return mode_low(0x10000, 0x18000);
	if (!strcmp(mode, "storm"))
		return mode_storm();
	if (!strcmp(mode, "mt"))
		return mode_mt();
	if (!strcmp(mode, "mt-storm"))
		return mode_mt_storm();
	if (!strcmp(mode, "mt-blocked"))
		return mode_mt_blocked();
	fprintf(stderr, "unknown mode %s\n", mode);
	return 2;
}
