/* The physical-limit probe for bench/run.sh: what this machine can do at
 * all for an intercepted system call, doing no work, so that the table can
 * show how far each ward figure is from it.
 *
 *   probe trap N      a getpid that seccomp traps (SECCOMP_RET_TRAP) to a
 *                     SIGSYS handler in the same process, which answers it
 *   probe handoff N   the same, but the handler hands the call to another
 *                     process over shared memory and waits for its answer:
 *                     each side spins briefly, then sleeps on a futex (the
 *                     shape of ward's seccomp platform, minus everything
 *                     ward does with the call)
 *
 * Prints ns per call, like micro.c. */
#define _GNU_SOURCE
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

/* How long each side of the hand-off spins before it sleeps (ward's
 * seccomp platform spins 20 us). */
#define SPIN_NS 20000

struct mailbox {
	_Atomic uint32_t state; /* 1: request posted, 2: answered */
	_Atomic uint32_t server_sleeps;
	_Atomic uint32_t client_sleeps;
	uint64_t value;
};

static struct mailbox *box;
static int handoff;

static long futex(_Atomic uint32_t *w, int op, uint32_t v)
{
	return syscall(SYS_futex, w, op, v, NULL, NULL, 0);
}

/* Waits, spinning first, until *w is a or b; returns it. */
static uint32_t wait_for(_Atomic uint32_t *w, uint32_t a, uint32_t b, _Atomic uint32_t *sleeps)
{
	uint32_t v;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 1;; i++) {
		v = atomic_load(w);
		if (v == a || v == b)
			return v;
		__builtin_ia32_pause();
		if (i % 64 == 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) > SPIN_NS)
				break;
		}
	}
	for (;;) {
		atomic_store(sleeps, 1);
		v = atomic_load(w);
		if (v == a || v == b)
			break;
		futex(w, FUTEX_WAIT, v);
	}
	atomic_store(sleeps, 0);
	return v;
}

static void post(_Atomic uint32_t *w, uint32_t v, _Atomic uint32_t *their_sleeps)
{
	atomic_store(w, v);
	if (atomic_load(their_sleeps))
		futex(w, FUTEX_WAKE, 1);
}

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)si;
	ucontext_t *uc = ctx;
	if (handoff) {
		post(&box->state, 1, &box->server_sleeps);
		wait_for(&box->state, 2, 2, &box->client_sleeps);
		uc->uc_mcontext.gregs[REG_RAX] = (greg_t)box->value;
		atomic_store(&box->state, 0);
	} else {
		uc->uc_mcontext.gregs[REG_RAX] = 1;
	}
}

/* Answers every request with 1, doing nothing else. */
static void server(void)
{
	while (wait_for(&box->state, 1, 3, &box->server_sleeps) == 1) {
		box->value = 1;
		post(&box->state, 2, &box->client_sleeps);
	}
	_exit(0);
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n;
	if (argc != 3 || (n = strtol(argv[2], NULL, 10)) <= 0 ||
	    (strcmp(argv[1], "trap") != 0 && strcmp(argv[1], "handoff") != 0)) {
		fprintf(stderr, "usage: probe trap|handoff ITERATIONS\n");
		return 2;
	}
	handoff = strcmp(argv[1], "handoff") == 0;
	box = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (box == MAP_FAILED) {
		perror("probe: mmap");
		return 1;
	}
	pid_t pid = 0;
	if (handoff) {
		pid = fork();
		if (pid < 0) {
			perror("probe: fork");
			return 1;
		}
		if (pid == 0)
			server();
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);
	/* Trap getpid only; everything else runs. */
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
		perror("probe: seccomp");
		return 1;
	}
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		if (syscall(SYS_getpid) != 1) {
			fprintf(stderr, "probe: the trap did not answer\n");
			return 1;
		}
	}
	double t1 = now_ns();
	if (handoff) {
		post(&box->state, 3, &box->server_sleeps);
		waitpid(pid, NULL, 0);
	}
	printf("%.1f\n", (t1 - t0) / (double)n);
	return 0;
}
