/* The fd table: descriptors to open file descriptions, with FD_CLOEXEC per
 * descriptor, bounded by the task's RLIMIT_NOFILE. Also the files of the
 * host stdio the sandbox inherited.
 *
 * Locking: the table's mutex covers the slots only. A file replaced or
 * closed is put after the mutex is dropped, since its release may be
 * arbitrary file-system code. */
#include "sentry/service.h"

#include "fs/locks.h"
#include "fs/vfs_internal.h"
#include "net/hostwatch.h"
#include "sentry/kernel/task.h"

/* Linux's default fs.nr_open: the most descriptors one table may hold,
 * whatever RLIMIT_NOFILE says. */
#define FD_NR_OPEN (1U << 20)

struct fd_slot {
	struct file *file;
	int flags; /* FD_CLOEXEC */
};

struct fd_table {
	struct ward_mutex lock;
	struct fd_slot *slots;
	unsigned int cap;
};

struct fd_table *fdtable_create(void)
{
	struct fd_table *fdt = calloc(1, sizeof(*fdt));
	if (!fdt)
		return NULL;
	ward_mutex_init(&fdt->lock);
	return fdt;
}

void fdtable_destroy(struct fd_table *fdt)
{
	if (!fdt)
		return;
	locks_remove_owner(fdt);
	for (unsigned int i = 0; i < fdt->cap; i++)
		file_put(fdt->slots[i].file);
	free(fdt->slots);
	free(fdt);
}

struct fd_table *fdtable_dup(struct fd_table *src)
{
	struct fd_table *fdt = fdtable_create();
	if (!fdt)
		return NULL;
	ward_mutex_lock(&src->lock);
	if (src->cap) {
		fdt->slots = calloc(src->cap, sizeof(*fdt->slots));
		if (!fdt->slots) {
			ward_mutex_unlock(&src->lock);
			free(fdt);
			return NULL;
		}
		fdt->cap = src->cap;
		for (unsigned int i = 0; i < src->cap; i++) {
			fdt->slots[i].file = file_get(src->slots[i].file);
			fdt->slots[i].flags = src->slots[i].flags;
		}
	}
	ward_mutex_unlock(&src->lock);
	return fdt;
}

void fdtable_close_on_exec(struct fd_table *fdt)
{
	for (;;) {
		struct file *victim = NULL;
		ward_mutex_lock(&fdt->lock);
		for (unsigned int i = 0; i < fdt->cap; i++) {
			if (fdt->slots[i].file && (fdt->slots[i].flags & FD_CLOEXEC)) {
				victim = fdt->slots[i].file;
				fdt->slots[i].file = NULL;
				fdt->slots[i].flags = 0;
				break;
			}
		}
		ward_mutex_unlock(&fdt->lock);
		if (!victim)
			return;
		locks_close_posix(victim, fdt);
		file_put(victim);
	}
}

unsigned long fd_limit(struct task *t)
{
	uint64_t lim = t->rlimits[RLIMIT_NOFILE].rlim_cur;
	return lim > FD_NR_OPEN ? FD_NR_OPEN : (unsigned long)lim;
}

/* Grows the slot array to hold fd. Called with the lock held. */
static long fdt_reserve(struct fd_table *fdt, unsigned int fd)
{
	if (fd < fdt->cap)
		return 0;
	unsigned int cap = fdt->cap ? fdt->cap : 64;
	while (cap <= fd)
		cap *= 2;
	struct fd_slot *slots = realloc(fdt->slots, cap * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	memset(slots + fdt->cap, 0, (cap - fdt->cap) * sizeof(*slots));
	fdt->slots = slots;
	fdt->cap = cap;
	return 0;
}

long fd_install(struct task *t, struct file *f, int fd_flags, int minfd)
{
	struct fd_table *fdt = t->files;
	unsigned long limit = fd_limit(t);
	long r = -EMFILE;

	if (minfd < 0)
		return -EINVAL;
	ward_mutex_lock(&fdt->lock);
	for (unsigned long fd = (unsigned long)minfd; fd < limit; fd++) {
		if (fd < fdt->cap && fdt->slots[fd].file)
			continue;
		r = fdt_reserve(fdt, (unsigned int)fd);
		if (r < 0)
			break;
		fdt->slots[fd].file = file_get(f);
		fdt->slots[fd].flags = fd_flags & FD_CLOEXEC;
		r = (long)fd;
		break;
	}
	ward_mutex_unlock(&fdt->lock);
	return r;
}

/* Puts f at fd, whatever the limit says, and returns it. */
static long fdt_set(struct fd_table *fdt, int fd, struct file *f, int fd_flags)
{
	ward_mutex_lock(&fdt->lock);
	long r = fdt_reserve(fdt, (unsigned int)fd);
	struct file *old = NULL;
	if (r >= 0) {
		old = fdt->slots[fd].file;
		fdt->slots[fd].file = file_get(f);
		fdt->slots[fd].flags = fd_flags & FD_CLOEXEC;
		r = fd;
	}
	ward_mutex_unlock(&fdt->lock);
	if (old)
		locks_close_posix(old, fdt);
	file_put(old);
	return r;
}

long fd_replace(struct task *t, int fd, struct file *f, int fd_flags)
{
	if (fd < 0 || (unsigned long)fd >= fd_limit(t))
		return -EBADF;
	return fdt_set(t->files, fd, f, fd_flags);
}

struct file *fd_get(struct task *t, int fd)
{
	struct fd_table *fdt = t->files;
	struct file *f = NULL;
	if (fd < 0 || !fdt)
		return NULL;
	ward_mutex_lock(&fdt->lock);
	if ((unsigned int)fd < fdt->cap)
		f = file_get(fdt->slots[fd].file);
	ward_mutex_unlock(&fdt->lock);
	return f;
}

long fd_close(struct task *t, int fd)
{
	struct fd_table *fdt = t->files;
	struct file *f = NULL;
	if (fd < 0)
		return -EBADF;
	ward_mutex_lock(&fdt->lock);
	if ((unsigned int)fd < fdt->cap) {
		f = fdt->slots[fd].file;
		fdt->slots[fd].file = NULL;
		fdt->slots[fd].flags = 0;
	}
	ward_mutex_unlock(&fdt->lock);
	if (!f)
		return -EBADF;
	/* Any close of the file drops the table's POSIX locks on it. */
	locks_close_posix(f, fdt);
	file_put(f);
	return 0;
}

long fd_next_open(struct task *t, int from)
{
	struct fd_table *fdt = t->files;
	long r = -1;
	if (from < 0 || !fdt)
		return r;
	ward_mutex_lock(&fdt->lock);
	for (unsigned int fd = (unsigned int)from; fd < fdt->cap; fd++) {
		if (fdt->slots[fd].file) {
			r = fd;
			break;
		}
	}
	ward_mutex_unlock(&fdt->lock);
	return r;
}

long fd_get_flags(struct task *t, int fd)
{
	struct fd_table *fdt = t->files;
	long r = -EBADF;
	if (fd < 0)
		return r;
	ward_mutex_lock(&fdt->lock);
	if ((unsigned int)fd < fdt->cap && fdt->slots[fd].file)
		r = fdt->slots[fd].flags;
	ward_mutex_unlock(&fdt->lock);
	return r;
}

long fd_set_flags(struct task *t, int fd, int fd_flags)
{
	struct fd_table *fdt = t->files;
	long r = -EBADF;
	if (fd < 0)
		return r;
	ward_mutex_lock(&fdt->lock);
	if ((unsigned int)fd < fdt->cap && fdt->slots[fd].file) {
		fdt->slots[fd].flags = fd_flags & FD_CLOEXEC;
		r = 0;
	}
	ward_mutex_unlock(&fdt->lock);
	return r;
}

/* Inherited stdio: the host descriptor itself, read and written at its
 * own offset. It belongs to the sentry, so release does not close it. */

static const int stdio_index[3] = { 0, 1, 2 };

static ward_hostfd_t stdio_handle(struct file *f)
{
	return ward_host_stdio(*(const int *)f->priv);
}

struct stdio_io {
	ward_hostfd_t h;
	void *buf;
	const void *cbuf;
	size_t len;
};

static long stdio_do_read(void *arg)
{
	struct stdio_io *io = arg;
	return ward_host_read(io->h, io->buf, io->len);
}

static long stdio_do_write(void *arg)
{
	struct stdio_io *io = arg;
	return ward_host_write(io->h, io->cbuf, io->len);
}

/* Inherited terminals and pipes may block: the call runs with the kernel
 * lock dropped, and a signal breaks it off as it would a Linux read. */
static long stdio_io_call(long (*fn)(void *), struct stdio_io *io)
{
	struct task *t = task_current();
	for (;;) {
		long r = task_host_call(t, fn, io);
		if (r != -EINTR)
			return r;
		if (!t || t->exiting || signal_pending(t))
			return -WARD_ERESTARTSYS;
	}
}

/* Readiness of the inherited stdio comes from the core's event thread
 * (net/hostwatch.h), which wakes these queues; a descriptor it cannot watch
 * (a regular file, /dev/null) is always ready. */
static struct waitq stdio_wq[3];
static enum { STDIO_UNWATCHED, STDIO_WATCHED, STDIO_ALWAYS, STDIO_FAILED } stdio_watch[3];

/* Watches stdio descriptor i on first use; whether its queue is woken. */
static bool stdio_watched(struct file *f)
{
	int i = *(const int *)f->priv;
	if (stdio_watch[i] == STDIO_UNWATCHED) {
		uint32_t slot;
		long r = hostwatch_fd(stdio_handle(f), &stdio_wq[i], &slot);
		stdio_watch[i] = r == 0 ? STDIO_WATCHED : r == -EPERM ? STDIO_ALWAYS : STDIO_FAILED;
	}
	return stdio_watch[i] == STDIO_WATCHED;
}

/* Sleeps until stdio descriptor f has one of ev (or an error or hang-up),
 * on its queue, so that a signal breaks the wait off as any other sleep:
 * the host call that follows then finds something and does not block
 * (unless another process took it first). -EAGAIN for a non-blocking file
 * that is not ready. */
static long stdio_wait(struct file *f, unsigned int ev)
{
	struct task *t = task_current();
	if (!t || !stdio_watched(f))
		return 0;
	int i = *(const int *)f->priv;
	ev |= POLLERR | POLLHUP | POLLNVAL;
	for (;;) {
		struct waiter w;
		waitq_add(&stdio_wq[i], &w, t);
		bool ready = ward_host_poll_now(stdio_handle(f), ev) & ev;
		long r = ready || (f->flags & O_NONBLOCK) ? 0 : task_sleep(t, 0);
		waitq_remove(&stdio_wq[i], &w);
		if (ready)
			return 0;
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if (r == -EINTR)
			return -WARD_ERESTARTSYS;
	}
}

static long stdio_read(struct file *f, void *buf, size_t len, uint64_t *pos)
{
	long r = stdio_wait(f, POLLIN);
	if (r < 0)
		return r;
	struct stdio_io io = { stdio_handle(f), buf, NULL, len };
	return stdio_io_call(stdio_do_read, &io);
}

static long stdio_write(struct file *f, const void *buf, size_t len, uint64_t *pos)
{
	struct stdio_io io = { stdio_handle(f), NULL, buf, len };
	return stdio_io_call(stdio_do_write, &io);
}

static long stdio_seek(struct file *f, int64_t off, int whence)
{
	return ward_host_lseek(stdio_handle(f), off, whence);
}

static long stdio_getattr(struct file *f, struct linux_statx *out)
{
	long r = ward_host_statx(stdio_handle(f), out);
	if (r < 0)
		return r;
	out->stx_mask &= LINUX_STATX_BASIC_STATS | LINUX_STATX_BTIME;
	out->stx_mnt_id = 0;
	return 0;
}

/* TCGETS and TIOCGWINSZ, by their x86-64 numbers. */
#define FD_TCGETS 0x5401
#define FD_TIOCGWINSZ 0x5413

static long stdio_ioctl(struct task *t, struct file *f, unsigned int cmd, uint64_t arg)
{
	long r;
	switch (cmd) {
	case FD_TCGETS: {
		struct linux_termios tio;
		r = ward_host_tcgets(stdio_handle(f), &tio);
		if (r < 0)
			return r;
		return WARD_COPY_OUT_OBJ(task_as(t), gaddr(arg), &tio);
	}
	case FD_TIOCGWINSZ: {
		struct linux_winsize ws;
		r = ward_host_tiocgwinsz(stdio_handle(f), &ws);
		if (r < 0)
			return r;
		return WARD_COPY_OUT_OBJ(task_as(t), gaddr(arg), &ws);
	}
	default:
		return -ENOTTY;
	}
}

static long stdio_statfs(struct file *f, struct linux_statfs *out)
{
	return ward_host_statfs(stdio_handle(f), out);
}

static unsigned int stdio_poll(struct file *f, struct waitq **q)
{
	int i = *(const int *)f->priv;
	stdio_watched(f);
	/* Failed: no queue, so pollers re-check on a period. */
	*q = stdio_watch[i] == STDIO_FAILED ? NULL : &stdio_wq[i];
	return ward_host_poll_now(stdio_handle(f), POLLIN | POLLOUT | POLLPRI | POLLRDHUP);
}

static const struct file_ops stdio_ops = {
	.poll_events = stdio_poll,
	.read_buf = stdio_read,
	.write_buf = stdio_write,
	.seek = stdio_seek,
	.getattr = stdio_getattr,
	.ioctl_cmd = stdio_ioctl,
	.statfs = stdio_statfs,
};

bool fd_file_is_stream(const struct file *f)
{
	return f->ops == &stdio_ops || f->ops->stream;
}

long fdtable_install_stdio(struct task *t)
{
	static const char *const names[] = { "stdio:[0]", "stdio:[1]", "stdio:[2]" };
	for (int i = 0; i < 3; i++) {
		/* The host's access mode is unknown here; the host answers
		 * EBADF itself for a direction it does not allow. */
		struct file *f = file_alloc(&stdio_ops, O_RDWR | VFS_O_LARGEFILE, names[i], (void *)&stdio_index[i]);
		if (!f)
			return -ENOMEM;
		long r = fdt_set(t->files, i, f, 0);
		file_put(f);
		if (r < 0)
			return r;
	}
	return 0;
}
