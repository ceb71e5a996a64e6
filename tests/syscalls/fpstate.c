/* A new thread and a forked child start with a copy of their parent's FPU
 * state: the SSE rounding mode (MXCSR), the x87 control word and the vector
 * registers, as Linux copies them at clone. */
#include "ward_test.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/wait.h>

static uint32_t get_mxcsr(void)
{
	uint32_t v;
	__asm__ volatile("stmxcsr %0" : "=m"(v));
	return v;
}

static void set_mxcsr(uint32_t v)
{
	__asm__ volatile("ldmxcsr %0" : : "m"(v));
}

static uint16_t get_fcw(void)
{
	uint16_t v;
	__asm__ volatile("fnstcw %0" : "=m"(v));
	return v;
}

static void set_fcw(uint16_t v)
{
	__asm__ volatile("fldcw %0" : : "m"(v));
}

static uint64_t get_xmm15(void)
{
	uint64_t v;
	__asm__ volatile("movq %%xmm15, %0" : "=r"(v));
	return v;
}

static void set_xmm15(uint64_t v)
{
	__asm__ volatile("movq %0, %%xmm15" : : "r"(v) : "xmm15");
}

/* Round up (RC = 10b at bits 13-14), flush to zero (bit 15). */
static const uint32_t want_mxcsr = 0x1f80 | 0x4000 | 0x8000;
/* Round toward zero (RC = 11b at bits 10-11), 53-bit precision. */
static const uint16_t want_fcw = 0x027f | 0x0c00;
static const uint64_t want_xmm = 0x0123456789abcdefULL;

struct seen {
	uint32_t mxcsr;
	uint16_t fcw;
	uint64_t xmm;
};

static void *thread_main(void *arg)
{
	struct seen *s = arg;
	s->mxcsr = get_mxcsr();
	s->fcw = get_fcw();
	s->xmm = get_xmm15();
	return NULL;
}

int main(void)
{
	uint32_t old_mxcsr = get_mxcsr();
	uint16_t old_fcw = get_fcw();
	set_mxcsr(want_mxcsr);
	set_fcw(want_fcw);
	set_xmm15(want_xmm);

	/* A thread: glibc's pthread_create makes no FPU changes of its own. */
	struct seen s = { 0, 0, 0 };
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, thread_main, &s), 0);
	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(s.mxcsr, want_mxcsr);
	CHECK_EQ(s.fcw, want_fcw);

	/* A child process, by the raw fork system call so that nothing in libc
	 * touches the registers in between. */
	set_xmm15(want_xmm);
	pid_t pid = (pid_t)syscall(SYS_fork);
	if (pid == 0) {
		int ok = get_xmm15() == want_xmm && get_mxcsr() == want_mxcsr && get_fcw() == want_fcw;
		_exit(ok ? 0 : 1);
	}
	CHECK(pid > 0);
	int status = 0;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* The parent's own state is untouched by either. */
	CHECK_EQ(get_mxcsr(), want_mxcsr);
	CHECK_EQ(get_fcw(), want_fcw);
	set_mxcsr(old_mxcsr);
	set_fcw(old_fcw);
	return test_done();
}
