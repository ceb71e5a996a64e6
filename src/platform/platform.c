/* Platform selection and the core's entry points into the active platform. */
#include "../sentry/core/core.h"

#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

static const struct ward_platform *const platforms[] = {
	&ward__seccomp_platform,
	&ward__ptrace_platform,
};

static const struct ward_platform *active;

long ward_platform_select(const char *name)
{
	for (size_t i = 0; i < WARD_ARRAY_SIZE(platforms); i++) {
		if (strcmp(platforms[i]->name, name) != 0)
			continue;
		long r = platforms[i]->init();
		if (r < 0)
			return r;
		active = platforms[i];
		return 0;
	}
	return -ENOENT;
}

const struct ward_platform *ward_platform(void)
{
	return active;
}

/* Each sentry thread keeps the first context it made for the next task it
 * runs (threads are pooled, see sched.c): the platform's stubs for that
 * context stay, and a task in an address space the thread ran before
 * starts without making one. */
static __thread struct ward_platform_ctx *thread_ctx;
static __thread bool thread_ctx_busy;

long ward_ctx_create(struct ward_platform_ctx **out)
{
	if (thread_ctx && !thread_ctx_busy) {
		thread_ctx_busy = true;
		*out = thread_ctx;
		return 0;
	}
	long r = active->ctx_create(out);
	if (r == 0 && !thread_ctx) {
		thread_ctx = *out;
		thread_ctx_busy = true;
	}
	return r;
}

void ward_ctx_destroy(struct ward_platform_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx == thread_ctx) {
		thread_ctx_busy = false;
		return;
	}
	active->ctx_destroy(ctx);
}

void ward__ctx_thread_exit(void)
{
	if (thread_ctx)
		active->ctx_destroy(thread_ctx);
	thread_ctx = NULL;
	thread_ctx_busy = false;
}

long ward_ctx_run(struct ward_platform_ctx *ctx, struct ward_platform_as *as, struct ward_regs *regs,
		  struct ward_fpstate *fp, struct ward_stop *stop)
{
	return active->ctx_run(ctx, as, regs, fp, stop);
}

void ward_ctx_interrupt(struct ward_platform_ctx *ctx)
{
	active->ctx_interrupt(ctx);
}

long ward_platform_shutdown(void)
{
	if (!active || !active->shutdown)
		return -ENOSYS;
	active->shutdown();
	return 0;
}

void ward_fpstate_init(struct ward_fpstate *fp)
{
	active->fpstate_init(fp);
}

long ward_fpstate_get(struct ward_platform_ctx *ctx, struct ward_platform_as *as, struct ward_fpstate *fp)
{
	return active->fpstate_get(ctx, as, fp);
}

long ward_fpstate_set(struct ward_platform_ctx *ctx, struct ward_platform_as *as, const struct ward_fpstate *fp)
{
	return active->fpstate_set(ctx, as, fp);
}

static bool patch_on;
/* Set once, before the first address space, like patch_on. */
static uint64_t as_min_addr = WARD_AS_MIN_ADDR;

long ward_patch_enable(void)
{
	if (!active->patch_enable)
		return -EOPNOTSUPP;
	uint64_t min_addr = WARD_AS_MIN_ADDR;
	long r = active->patch_enable(&min_addr);
	if (r == 0) {
		patch_on = true;
		as_min_addr = min_addr;
	}
	return r;
}

uint64_t ward_as_min_addr(void)
{
	return as_min_addr;
}

bool ward_patch_enabled(void)
{
	return patch_on;
}

long ward_patch_site(uint64_t ret, uint32_t nr, uint64_t *slot)
{
	return patch_on ? active->patch_site(ret, nr, slot) : -EOPNOTSUPP;
}

void ward__fpstate_clean(struct ward_fpstate *fp, uint32_t size)
{
	memset(fp, 0, sizeof(*fp));
	/* The legacy area's FCW and MXCSR as after FNINIT / reset. */
	fp->bytes[0] = 0x7f;
	fp->bytes[1] = 0x03;
	fp->bytes[24] = 0x80;
	fp->bytes[25] = 0x1f;
	/* An all-zero XSAVE header: every other component in its init state. */
	fp->size = size;
}

int ward__host_prot(int prot)
{
	return (prot & WARD_PROT_READ ? PROT_READ : 0) | (prot & WARD_PROT_WRITE ? PROT_WRITE : 0) |
	       (prot & WARD_PROT_EXEC ? PROT_EXEC : 0);
}
