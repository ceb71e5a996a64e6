/* Platform selection and the core's entry points into the active platform. */
#include "../sentry/core/core.h"

#include <string.h>

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

long ward_ctx_create(struct ward_platform_ctx **out)
{
	return active->ctx_create(out);
}

void ward_ctx_destroy(struct ward_platform_ctx *ctx)
{
	if (ctx)
		active->ctx_destroy(ctx);
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
