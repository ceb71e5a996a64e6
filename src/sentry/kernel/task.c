/* Tasks and the task loop: switch into the guest, handle what stopped it,
 * switch back. */
#include "sentry/service.h"

#include "fs/vfs.h"
#include "sentry/kernel/task.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

struct ward_as *task_as(const struct task *t)
{
	return mm_as(t->mm);
}

static const char default_path[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/* The PATH the guest would search with execvp: its own, or the default. */
static const char *guest_path_var(char *const envp[])
{
	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], "PATH=", 5) == 0)
			return envp[i] + 5;
	return default_path;
}

/* Finds name in PATH as execvp does: the first candidate that opens for
 * execution wins; EACCES is remembered if nothing does. */
static long search_path(struct task *t, const char *name, char *const envp[], char *out, size_t outlen)
{
	const char *p = guest_path_var(envp);
	long result = -ENOENT;

	while (*p) {
		const char *colon = strchr(p, ':');
		size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
		int n = snprintf(out, outlen, "%.*s/%s", (int)dlen, dlen ? p : ".", name);
		if (n > 0 && (size_t)n < outlen) {
			struct file *f = NULL;
			long r = vfs_open_exec(t, out, &f);
			if (r == 0) {
				file_put(f);
				return 0;
			}
			if (r == -EACCES)
				result = r;
		}
		if (!colon)
			break;
		p = colon + 1;
	}
	return result;
}

long task_create_init(const struct task_spec *spec, struct task **out, char *errbuf, size_t errlen)
{
	char resolved[4096];
	const char *path = spec->path;
	struct loader_result lr;
	long r;

	struct task *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	/* The first process is PID 1 of the sandbox, as in a container. */
	t->tid = t->tgid = 1;
	t->ppid = 0;
	t->creds = spec->creds;
	memcpy(t->rlimits, spec->rlimits, sizeof(t->rlimits));
	t->fs = calloc(1, sizeof(*t->fs));
	t->files = fdtable_create();
	if (!t->fs || !t->files) {
		r = -ENOMEM;
		goto fail;
	}
	t->fs->umask = 022;
	snprintf(t->fs->cwd, sizeof(t->fs->cwd), "%s", spec->cwd ? spec->cwd : "/");
	r = fdtable_install_stdio(t);
	if (r < 0)
		goto fail;
	r = mm_create(&t->mm);
	if (r < 0) {
		snprintf(errbuf, errlen, "cannot create the guest address space: %s", strerror((int)-r));
		goto fail;
	}
	r = ward_ctx_create(&t->ctx);
	if (r < 0)
		goto fail;

	if (!strchr(path, '/')) {
		r = search_path(t, path, spec->envp, resolved, sizeof(resolved));
		if (r < 0) {
			snprintf(errbuf, errlen, "%s: %s", path,
				 r == -ENOENT ? "command not found" : strerror((int)-r));
			goto fail;
		}
		path = resolved;
	}
	errbuf[0] = 0;
	r = loader_load(t, path, spec->argv, spec->envp, &lr, errbuf, errlen);
	if (r < 0) {
		if (!errbuf[0])
			snprintf(errbuf, errlen, "%s: %s", path, strerror((int)-r));
		goto fail;
	}
	memset(&t->regs, 0, sizeof(t->regs));
	t->regs.rip = lr.entry;
	t->regs.rsp = lr.stack_pointer;
	t->regs.cs = 0x33;
	t->regs.ss = 0x2b;
	t->regs.eflags = 0x202;
	*out = t;
	return 0;
fail:
	task_destroy(t);
	return r;
}

void task_destroy(struct task *t)
{
	if (!t)
		return;
	ward_ctx_destroy(t->ctx);
	mm_destroy(t->mm);
	if (t->files)
		fdtable_destroy(t->files);
	free(t->fs);
	free(t->exe_path);
	free(t);
}

void task_exit(struct task *t, int wait_status)
{
	if (t->exited)
		return;
	t->exited = true;
	t->wait_status = wait_status;
}

/* A synchronous fault the guest cannot handle yet (signal delivery comes
 * with the process issue): the default action of the signal, which for
 * all of these is to terminate the process. */
static void handle_fault(struct task *t, const struct ward_stop *stop)
{
	if (stop->signo == SIGSEGV && stop->code == SEGV_MAPERR) {
		int code;
		if (mm_handle_fault(t->mm, stop->addr, false, &code) == 0)
			return;
	}
	task_exit(t, stop->signo & 0x7f);
}

int task_run(struct task *t)
{
	struct ward_stop stop;
	struct syscall_args args;

	while (!t->exited) {
		long r = ward_ctx_run(t->ctx, ward_as_platform(task_as(t)), &t->regs, NULL, &stop);
		if (r < 0) {
			ward_log(WARD_LOG_ERROR, "the platform lost the guest (%s)", strerror((int)-r));
			task_exit(t, SIGKILL);
			break;
		}
		switch (stop.kind) {
		case WARD_STOP_SYSCALL:
			args.nr = t->regs.orig_rax;
			args.a[0] = t->regs.rdi;
			args.a[1] = t->regs.rsi;
			args.a[2] = t->regs.rdx;
			args.a[3] = t->regs.r10;
			args.a[4] = t->regs.r8;
			args.a[5] = t->regs.r9;
			long ret = syscall_dispatch(t, &args);
			if (!t->exited)
				t->regs.rax = (uint64_t)ret;
			break;
		case WARD_STOP_FAULT:
			handle_fault(t, &stop);
			break;
		case WARD_STOP_INTERRUPT:
			break;
		}
	}
	return t->wait_status;
}
