/* inotify instances (inotify(7) is the specification; fs/notify/inotify
 * the model): a queue of events per instance, watches that name objects
 * by device and inode number, and the entry points the VFS calls after
 * each operation it performs. */
#include "sentry/service.h"

#include "fs/inotify.h"
#include "fs/vfs.h"
#include "fs/vfs_internal.h"
#include "sentry/kernel/task.h"

#define IN_ALL_EVENTS_ 0x00000fff
#define IN_UNMOUNT_ 0x00002000
#define IN_Q_OVERFLOW_ 0x00004000
#define IN_IGNORED_ 0x00008000
#define IN_ONLYDIR_ 0x01000000
#define IN_DONT_FOLLOW_ 0x02000000
#define IN_EXCL_UNLINK_ 0x04000000
#define IN_MASK_CREATE_ 0x10000000
#define IN_MASK_ADD_ 0x20000000
#define IN_ONESHOT_ 0x80000000
#define ALL_INOTIFY_BITS_                                                                              \
	(IN_ALL_EVENTS_ | IN_UNMOUNT_ | IN_Q_OVERFLOW_ | IN_IGNORED_ | IN_ONLYDIR_ | IN_DONT_FOLLOW_ | \
	 IN_EXCL_UNLINK_ | IN_MASK_CREATE_ | IN_MASK_ADD_ | WARD_IN_ISDIR | IN_ONESHOT_)

/* /proc/sys/fs/inotify's defaults. */
#define INOTIFY_MAX_QUEUED 16384
#define INOTIFY_MAX_INSTANCES 128 /* per user */
#define INOTIFY_EVENT_SIZE 16 /* struct inotify_event without its name */

struct in_event {
	struct in_event *next;
	int32_t wd;
	uint32_t mask, cookie;
	uint32_t len; /* the name's length with its padding, or 0 */
	char name[]; /* len bytes, NUL-padded */
};

struct inotify;

struct in_watch {
	struct in_watch *next; /* in the instance, by wd */
	struct in_watch *gnext; /* every watch */
	struct inotify *in;
	int32_t wd;
	uint32_t mask;
	uint64_t dev, ino;
};

struct inotify {
	struct in_watch *watches;
	int32_t last_wd;
	struct in_event *head, *tail;
	size_t count; /* events queued, the overflow event included */
	size_t bytes;
	uint32_t uid;
	struct waitq wq;
};

static struct in_watch *all_watches;
static uint32_t next_cookie;

/* Instances per uid, for max_user_instances. */
struct in_user {
	uint32_t uid;
	int n;
};
static struct in_user in_users[64];

bool inotify_active(void)
{
	return all_watches != NULL;
}

uint32_t inotify_next_cookie(void)
{
	return ++next_cookie;
}

struct inotify_key inotify_key_of(struct vnode *v)
{
	struct inotify_key k = { 0 };
	struct linux_statx stx;
	if (!v || !v->ops->getattr || v->ops->getattr(v, &stx) < 0)
		return k;
	k.dev = (uint64_t)stx.stx_dev_major << 32 | stx.stx_dev_minor;
	k.ino = stx.stx_ino;
	k.mode = stx.stx_mode;
	k.nlink = stx.stx_nlink;
	k.valid = true;
	return k;
}

static size_t event_size(const struct in_event *e)
{
	return INOTIFY_EVENT_SIZE + e->len;
}

/* Queues an event, merging it with an identical last one and turning the
 * one past the limit into IN_Q_OVERFLOW (fsnotify_add_event). */
static void queue_event(struct inotify *in, int32_t wd, uint32_t mask, uint32_t cookie, const char *name)
{
	size_t nlen = name ? strlen(name) : 0;
	uint32_t len =
		name ? (uint32_t)((nlen + 1 + INOTIFY_EVENT_SIZE - 1) / INOTIFY_EVENT_SIZE * INOTIFY_EVENT_SIZE) : 0;
	struct in_event *last = in->tail;
	if (in->count >= INOTIFY_MAX_QUEUED) {
		if (last && last->mask == IN_Q_OVERFLOW_)
			return;
		wd = -1;
		mask = IN_Q_OVERFLOW_;
		cookie = 0;
		len = 0;
		name = NULL;
	} else if (last && last->wd == wd && last->mask == mask && last->cookie == cookie && last->len == len &&
		   (!len || strcmp(last->name, name) == 0)) {
		return;
	}
	struct in_event *e = calloc(1, sizeof(*e) + len);
	if (!e)
		return;
	e->wd = wd;
	e->mask = mask;
	e->cookie = cookie;
	e->len = len;
	if (len)
		memcpy(e->name, name, nlen);
	if (in->tail)
		in->tail->next = e;
	else
		in->head = e;
	in->tail = e;
	in->count++;
	in->bytes += event_size(e);
	waitq_wake_all(&in->wq);
}

/* Removes w from its instance and from the global list, queueing
 * IN_IGNORED. */
static void watch_destroy(struct in_watch *w)
{
	for (struct in_watch **pp = &all_watches; *pp; pp = &(*pp)->gnext) {
		if (*pp == w) {
			*pp = w->gnext;
			break;
		}
	}
	for (struct in_watch **pp = &w->in->watches; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	queue_event(w->in, w->wd, IN_IGNORED_, 0, NULL);
	free(w);
}

/* Sends to every watch of key whose mask wants mask's event; unlinked
 * set, not to those that asked IN_EXCL_UNLINK. */
static void send_key(const struct inotify_key *k, uint32_t mask, uint32_t cookie, const char *name, bool unlinked)
{
	if (!k || !k->valid)
		return;
	uint32_t ev = mask & IN_ALL_EVENTS_;
	/* Collect first: one-shot watches go away while we walk. */
	struct in_watch *hit[64];
	size_t n = 0;
	for (struct in_watch *w = all_watches; w && n < WARD_ARRAY_SIZE(hit); w = w->gnext)
		if (w->dev == k->dev && w->ino == k->ino && (w->mask & ev) &&
		    !(unlinked && (w->mask & IN_EXCL_UNLINK_)))
			hit[n++] = w;
	for (size_t i = 0; i < n; i++) {
		queue_event(hit[i]->in, hit[i]->wd, mask, cookie, name);
		if (hit[i]->mask & IN_ONESHOT_)
			watch_destroy(hit[i]);
	}
}

void inotify_notify(const struct inotify_key *dir, const char *name, const struct inotify_key *obj, uint32_t mask,
		    uint32_t cookie)
{
	if (!all_watches)
		return;
	/* A directory's events say so, but for its move and its end. */
	if (obj && obj->valid && S_ISDIR(obj->mode) && !(mask & (WARD_IN_MOVE_SELF | WARD_IN_DELETE_SELF)))
		mask |= WARD_IN_ISDIR;
	/* A child with no name left (unlinked, still open) is not reported
	 * to parents that asked IN_EXCL_UNLINK. */
	bool unlinked = obj && obj->valid && obj->nlink == 0;
	send_key(dir, mask, cookie, name, unlinked);
	send_key(obj, mask, cookie, NULL, false);
}

void inotify_gone(const struct inotify_key *obj)
{
	if (!all_watches || !obj || !obj->valid)
		return;
	send_key(obj, WARD_IN_DELETE_SELF, 0, NULL, false);
	for (;;) {
		struct in_watch *w = all_watches;
		while (w && !(w->dev == obj->dev && w->ino == obj->ino))
			w = w->gnext;
		if (!w)
			break;
		watch_destroy(w);
	}
}

/* The instance's file. */

static const struct file_ops inotify_ops;

bool inotify_is(const struct file *f)
{
	return f->ops == &inotify_ops;
}

static long inotify_read(struct file *f, void *buf, size_t len, uint64_t *pos)
{
	struct inotify *in = f->priv;
	struct task *t = task_current();
	for (;;) {
		if (in->head) {
			size_t used = 0;
			while (in->head && used + event_size(in->head) <= len) {
				struct in_event *e = in->head;
				uint8_t *o = (uint8_t *)buf + used;
				memcpy(o, &e->wd, 4);
				memcpy(o + 4, &e->mask, 4);
				memcpy(o + 8, &e->cookie, 4);
				memcpy(o + 12, &e->len, 4);
				memcpy(o + 16, e->name, e->len);
				used += event_size(e);
				in->head = e->next;
				if (!in->head)
					in->tail = NULL;
				in->count--;
				in->bytes -= event_size(e);
				free(e);
			}
			return used ? (long)used : -EINVAL;
		}
		if ((f->flags & O_NONBLOCK) || !t)
			return -EAGAIN;
		struct waiter w;
		waitq_add(&in->wq, &w, t);
		long r = task_sleep(t, 0);
		waitq_remove(&in->wq, &w);
		if (r == -EINTR)
			return -WARD_ERESTARTSYS;
	}
}

static long inotify_ioctl(struct task *t, struct file *f, unsigned int cmd, uint64_t arg)
{
	struct inotify *in = f->priv;
	if (cmd == 0x541B /* FIONREAD */) {
		int n = (int)WARD_MIN(in->bytes, (size_t)INT32_MAX);
		return WARD_COPY_OUT_OBJ(task_as(t), gaddr(arg), &n);
	}
	return -ENOTTY;
}

static unsigned int inotify_poll(struct file *f, struct waitq **q)
{
	struct inotify *in = f->priv;
	*q = &in->wq;
	return in->head ? POLLIN | POLLRDNORM : 0;
}

static long inotify_getattr(struct file *f, struct linux_statx *out)
{
	memset(out, 0, sizeof(*out));
	out->stx_mask = LINUX_STATX_BASIC_STATS;
	out->stx_mode = 0600; /* an anonymous inode */
	out->stx_nlink = 1;
	out->stx_blksize = 4096;
	return 0;
}

static struct in_user *user_slot(uint32_t uid, bool make)
{
	struct in_user *free_slot = NULL;
	for (size_t i = 0; i < WARD_ARRAY_SIZE(in_users); i++) {
		if (in_users[i].n && in_users[i].uid == uid)
			return &in_users[i];
		if (!in_users[i].n && !free_slot)
			free_slot = &in_users[i];
	}
	if (make && free_slot)
		free_slot->uid = uid;
	return make ? free_slot : NULL;
}

static void inotify_release(struct file *f)
{
	struct inotify *in = f->priv;
	while (in->watches) {
		struct in_watch *w = in->watches;
		for (struct in_watch **pp = &all_watches; *pp; pp = &(*pp)->gnext) {
			if (*pp == w) {
				*pp = w->gnext;
				break;
			}
		}
		in->watches = w->next;
		free(w);
	}
	while (in->head) {
		struct in_event *e = in->head;
		in->head = e->next;
		free(e);
	}
	struct in_user *u = user_slot(in->uid, false);
	if (u)
		u->n--;
	free(in);
}

static const struct file_ops inotify_ops = {
	.read_buf = inotify_read,
	.ioctl_cmd = inotify_ioctl,
	.poll_events = inotify_poll,
	.getattr = inotify_getattr,
	.release = inotify_release,
	.stream = true,
};

long inotify_create(int flags, struct file **out)
{
	if (flags & ~(O_NONBLOCK | O_CLOEXEC))
		return -EINVAL;
	struct task *t = task_current();
	uint32_t uid = t ? t->creds.uid : 0;
	struct in_user *u = user_slot(uid, true);
	if (!u || u->n >= INOTIFY_MAX_INSTANCES)
		return -EMFILE;
	struct inotify *in = calloc(1, sizeof(*in));
	if (!in)
		return -ENOMEM;
	in->uid = uid;
	struct file *f =
		file_alloc(&inotify_ops, (uint32_t)(O_RDONLY | (flags & O_NONBLOCK)), "anon_inode:inotify", in);
	if (!f) {
		free(in);
		return -ENOMEM;
	}
	u->n++;
	*out = f;
	return 0;
}

long inotify_add(struct task *t, struct file *f, const char *path, uint32_t mask)
{
	struct inotify *in = f->priv;
	struct linux_statx stx;
	long r = vfs_statat(t, AT_FDCWD, path, (mask & IN_DONT_FOLLOW_) ? AT_SYMLINK_NOFOLLOW : 0, &stx);
	if (r < 0)
		return r;
	if ((mask & IN_ONLYDIR_) && !S_ISDIR(stx.stx_mode))
		return -ENOTDIR;
	r = vfs_permission(t, &stx, VFS_MAY_READ, false);
	if (r < 0)
		return r;
	uint64_t dev = (uint64_t)stx.stx_dev_major << 32 | stx.stx_dev_minor;
	/* What a watch keeps: the events and IN_ONESHOT, IN_EXCL_UNLINK. */
	uint32_t keep = mask & (IN_ALL_EVENTS_ | IN_ONESHOT_ | IN_EXCL_UNLINK_);
	for (struct in_watch *w = in->watches; w; w = w->next) {
		if (w->dev != dev || w->ino != stx.stx_ino)
			continue;
		if (mask & IN_MASK_CREATE_)
			return -EEXIST;
		w->mask = (mask & IN_MASK_ADD_) ? (w->mask | keep) : keep;
		return w->wd;
	}
	struct in_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	/* Watch descriptors count up and are not reused (idr_alloc_cyclic). */
	w->wd = in->last_wd == INT32_MAX ? 1 : in->last_wd + 1;
	in->last_wd = w->wd;
	w->in = in;
	w->mask = keep;
	w->dev = dev;
	w->ino = stx.stx_ino;
	w->next = in->watches;
	in->watches = w;
	w->gnext = all_watches;
	all_watches = w;
	return w->wd;
}

long inotify_rm(struct file *f, int32_t wd)
{
	struct inotify *in = f->priv;
	for (struct in_watch *w = in->watches; w; w = w->next) {
		if (w->wd == wd) {
			watch_destroy(w);
			return 0;
		}
	}
	return -EINVAL;
}
