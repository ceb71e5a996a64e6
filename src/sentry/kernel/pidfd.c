/* pidfds: a file that names a process. It becomes readable when the process
 * exits (zombie or reaped); the pid is looked up at each use, so a reaped
 * process is simply gone (ESRCH, ECHILD). */
#include "sentry/service.h"

#include "fs/vfs.h"
#include "fs/vfs_internal.h"
#include "sentry/kernel/pidfd.h"
#include "sentry/kernel/task.h"

/* Woken at every process exit; pollers of pidfds sleep here. One queue for
 * all keeps a sleeper from pointing into a process that may be freed. */
static struct waitq exits;

struct pidfd {
	int32_t pid;
};

static bool exited(int32_t pid)
{
	struct process *p = process_by_pid(pid);
	return !p || p->zombie;
}

static unsigned int pidfd_poll(struct file *f, struct waitq **q)
{
	const struct pidfd *pf = f->priv;
	*q = &exits;
	return exited(pf->pid) ? POLLIN | POLLRDNORM : 0;
}

static long pidfd_getattr(struct file *f, struct linux_statx *out)
{
	memset(out, 0, sizeof(*out));
	out->stx_mask = LINUX_STATX_BASIC_STATS;
	out->stx_mode = 0600; /* an anonymous inode: no file type bits */
	out->stx_nlink = 1;
	out->stx_blksize = 4096;
	return 0;
}

static void pidfd_release(struct file *f)
{
	free(f->priv);
}

static const struct file_ops pidfd_ops = {
	.poll_events = pidfd_poll,
	.getattr = pidfd_getattr,
	.release = pidfd_release,
};

long pidfd_create(int32_t pid, int flags, struct file **out)
{
	struct pidfd *pf = malloc(sizeof(*pf));
	if (!pf)
		return -ENOMEM;
	pf->pid = pid;
	struct file *f = file_alloc(&pidfd_ops, (uint32_t)(O_RDWR | (flags & O_NONBLOCK)), "anon_inode:[pidfd]", pf);
	if (!f) {
		free(pf);
		return -ENOMEM;
	}
	*out = f;
	return 0;
}

int32_t pidfd_pid(const struct file *f)
{
	if (f->ops != &pidfd_ops)
		return -1;
	return ((const struct pidfd *)f->priv)->pid;
}

void pidfd_notify_exit(void)
{
	waitq_wake_all(&exits);
}
