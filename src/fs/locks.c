/* Advisory file locks (fs/locks.c of Linux is the model): POSIX and OFD
 * record locks share one list per inode and conflict with each other;
 * flock locks have a list of their own and never meet the others. */
#include "sentry/service.h"

#include "fs/locks.h"
#include "fs/vfs_internal.h"
#include "sentry/kernel/task.h"

/* Linux's MAX_DEADLK_ITERATIONS. */
#define LOCKS_DEADLK_MAX 10

#define LK_SH 1
#define LK_EX 2
#define LK_UN 8

struct lk {
	int type;
	int64_t start, end;
	void *owner; /* an fd table (POSIX) or a file (OFD, flock) */
	int32_t pid;
	bool ofd;
	struct lk *next;
};

struct linode {
	uint64_t dev, ino;
	struct lk *posix;
	struct lk *flocks;
	struct waitq wq;
	int sleepers; /* keeps the entry while tasks wait on it */
	struct linode *next;
};

/* A POSIX owner asleep behind another, for deadlock detection. */
struct lk_blocked {
	void *owner, *blocker;
	struct lk_blocked *next;
};

static struct linode *inodes;
static struct lk_blocked *blocked;

/* The identity locks hang from. Files whose stat fails (none of the
 * sentry's, today) lock on their vnode or themselves. */
static void file_key(struct file *f, uint64_t *dev, uint64_t *ino)
{
	struct linux_statx stx;
	if (file_getattr(f, &stx) >= 0) {
		*dev = ((uint64_t)stx.stx_dev_major << 32) | stx.stx_dev_minor;
		*ino = stx.stx_ino;
	} else {
		*dev = UINT64_MAX;
		*ino = f->vn ? (uint64_t)(uintptr_t)f->vn : (uint64_t)(uintptr_t)f;
	}
}

static struct linode *inode_find(struct file *f, bool create)
{
	uint64_t dev, ino;
	if (!inodes && !create)
		return NULL;
	file_key(f, &dev, &ino);
	for (struct linode *li = inodes; li; li = li->next)
		if (li->dev == dev && li->ino == ino)
			return li;
	if (!create)
		return NULL;
	struct linode *li = calloc(1, sizeof(*li));
	if (!li)
		return NULL;
	li->dev = dev;
	li->ino = ino;
	li->next = inodes;
	inodes = li;
	return li;
}

/* Frees li once nothing hangs from it. */
static void inode_maybe_free(struct linode *li)
{
	if (li->posix || li->flocks || li->sleepers)
		return;
	for (struct linode **pp = &inodes; *pp; pp = &(*pp)->next) {
		if (*pp == li) {
			*pp = li->next;
			free(li);
			return;
		}
	}
}

static void free_list(struct lk **pp, bool (*match)(const struct lk *l, const void *arg), const void *arg,
		      bool *changed)
{
	while (*pp) {
		struct lk *l = *pp;
		if (match(l, arg)) {
			*pp = l->next;
			free(l);
			*changed = true;
		} else {
			pp = &l->next;
		}
	}
}

static bool overlaps(const struct lk *l, int64_t start, int64_t end)
{
	return l->start <= end && l->end >= start;
}

/* The first lock of another owner that a lock of type over [start, end]
 * would conflict with. */
static struct lk *posix_conflict(struct linode *li, void *owner, int type, int64_t start, int64_t end)
{
	for (struct lk *l = li->posix; l; l = l->next)
		if (l->owner != owner && overlaps(l, start, end) && (type == F_WRLCK || l->type == F_WRLCK))
			return l;
	return NULL;
}

long locks_posix_get(struct file *f, void *owner, bool ofd, struct lock_range *r)
{
	struct linode *li = inode_find(f, false);
	struct lk *l = li ? posix_conflict(li, ofd ? (void *)f : owner, r->type, r->start, r->end) : NULL;
	if (!l) {
		r->type = F_UNLCK;
		return 0;
	}
	r->type = l->type;
	r->start = l->start;
	r->end = l->end;
	r->pid = l->ofd ? -1 : l->pid;
	return 0;
}

/* Whether owner waiting behind blocker would close a cycle of POSIX
 * owners, each asleep behind the next (posix_locks_deadlock). */
static bool posix_deadlock(void *owner, void *blocker)
{
	for (int i = 0; i < LOCKS_DEADLK_MAX; i++) {
		struct lk_blocked *b = blocked;
		while (b && b->owner != blocker)
			b = b->next;
		if (!b)
			return false;
		blocker = b->blocker;
		if (blocker == owner)
			return true;
	}
	return false;
}

static struct lk *lk_new(int type, int64_t start, int64_t end, void *owner, int32_t pid, bool ofd)
{
	struct lk *l = calloc(1, sizeof(*l));
	if (l)
		*l = (struct lk){ type, start, end, owner, pid, ofd, NULL };
	return l;
}

/* Keeps the list in the order of the ranges' starts (stable), as Linux's
 * per-owner lists are: F_GETLK reports the first conflict in that order. */
static void sort_by_start(struct lk **head)
{
	struct lk *sorted = NULL;
	while (*head) {
		struct lk *l = *head;
		*head = l->next;
		struct lk **pp = &sorted;
		while (*pp && (*pp)->start <= l->start)
			pp = &(*pp)->next;
		l->next = *pp;
		*pp = l;
	}
	*head = sorted;
}

/* Applies a lock change of owner to li's list: ranges of the same type
 * that overlap or touch the new one merge with it, others are cut around
 * it (posix_lock_inode's split and merge). Cannot fail once the two
 * spare pieces are allocated. */
static long posix_apply(struct linode *li, void *owner, int32_t pid, bool ofd, int type, int64_t start, int64_t end)
{
	struct lk *spare[3] = { lk_new(0, 0, 0, owner, pid, ofd), lk_new(0, 0, 0, owner, pid, ofd),
				lk_new(0, 0, 0, owner, pid, ofd) };
	if (!spare[0] || !spare[1] || !spare[2]) {
		for (int i = 0; i < 3; i++)
			free(spare[i]);
		return -ENOLCK;
	}
	int used = 0;
	bool changed = false;
	struct lk **pp = &li->posix;
	while (*pp) {
		struct lk *l = *pp;
		bool touches = l->start <= (end == INT64_MAX ? end : end + 1) && l->end >= (start == 0 ? 0 : start - 1);
		if (l->owner != owner || !touches) {
			pp = &l->next;
			continue;
		}
		if (type != F_UNLCK && l->type == type) {
			start = WARD_MIN(start, l->start);
			end = WARD_MAX(end, l->end);
		} else if (overlaps(l, start, end)) {
			/* The parts outside the new range stay as they were: at most
			 * one lock straddles both ends, so two pieces suffice. */
			if (l->start < start) {
				struct lk *left = spare[used++];
				*left = *l;
				left->end = start - 1;
				left->next = NULL;
				*pp = left;
				pp = &left->next;
			}
			if (l->end > end) {
				struct lk *right = spare[used++];
				*right = *l;
				right->start = end + 1;
				right->next = NULL;
				*pp = right;
				pp = &right->next;
			}
			*pp = l->next;
			free(l);
			changed = true;
			continue;
		} else {
			pp = &l->next;
			continue;
		}
		*pp = l->next;
		free(l);
		changed = true;
	}
	if (type != F_UNLCK) {
		struct lk *n = spare[used++];
		*n = (struct lk){ type, start, end, owner, pid, ofd, li->posix };
		li->posix = n;
	}
	for (int i = used; i < 3; i++)
		free(spare[i]);
	sort_by_start(&li->posix);
	if (changed)
		waitq_wake_all(&li->wq);
	return 0;
}

/* Sleeps on li until woken or a signal comes; owner, when set, is
 * recorded as blocked behind blocker meanwhile. */
static long inode_sleep(struct task *t, struct linode *li, void *owner, void *blocker)
{
	struct lk_blocked b = { owner, blocker, blocked };
	struct waiter w;
	if (owner)
		blocked = &b;
	li->sleepers++;
	waitq_add(&li->wq, &w, t);
	long r = task_sleep(t, 0);
	waitq_remove(&li->wq, &w);
	li->sleepers--;
	if (owner) {
		for (struct lk_blocked **pp = &blocked; *pp; pp = &(*pp)->next) {
			if (*pp == &b) {
				*pp = b.next;
				break;
			}
		}
	}
	if (r == -EINTR || signal_pending(t) || t->exiting)
		return -WARD_ERESTARTSYS;
	return 0;
}

long locks_posix_set(struct task *t, struct file *f, void *owner, int32_t pid, bool ofd, const struct lock_range *r,
		     bool wait)
{
	if (ofd) {
		owner = f;
		pid = -1;
	}
	struct linode *li = inode_find(f, r->type != F_UNLCK);
	if (!li)
		return r->type == F_UNLCK ? 0 : -ENOLCK;
	long ret = 0;
	if (r->type != F_UNLCK) {
		for (;;) {
			struct lk *c = posix_conflict(li, owner, r->type, r->start, r->end);
			if (!c)
				break;
			if (!wait) {
				ret = -EAGAIN;
				break;
			}
			if (!ofd && !c->ofd && posix_deadlock(owner, c->owner)) {
				ret = -EDEADLK;
				break;
			}
			ret = inode_sleep(t, li, ofd ? NULL : owner, c->owner);
			if (ret < 0)
				break;
		}
	}
	if (ret >= 0)
		ret = posix_apply(li, owner, pid, ofd, r->type, r->start, r->end);
	inode_maybe_free(li);
	return ret;
}

static bool lk_of_owner(const struct lk *l, const void *owner)
{
	return l->owner == owner;
}

long locks_flock(struct task *t, struct file *f, int op, bool nonblock)
{
	struct linode *li = inode_find(f, op != LK_UN);
	if (!li)
		return op == LK_UN ? 0 : -ENOLCK;
	int type = op == LK_EX ? F_WRLCK : F_RDLCK;
	struct lk *own = li->flocks;
	while (own && own->owner != f)
		own = own->next;
	long ret = 0;
	if (op != LK_UN && own && own->type == type) {
		inode_maybe_free(li);
		return 0;
	}
	if (own) {
		/* A conversion drops the old lock first, as Linux does: it is
		 * not atomic, and others may get in. */
		bool changed = false;
		free_list(&li->flocks, lk_of_owner, f, &changed);
		waitq_wake_all(&li->wq);
	}
	if (op != LK_UN) {
		for (;;) {
			bool conflict = false;
			for (struct lk *l = li->flocks; l && !conflict; l = l->next)
				conflict = l->owner != f && (type == F_WRLCK || l->type == F_WRLCK);
			if (!conflict) {
				struct lk *n = lk_new(type, 0, INT64_MAX, f, t->tgid, false);
				if (!n) {
					ret = -ENOLCK;
					break;
				}
				n->next = li->flocks;
				li->flocks = n;
				break;
			}
			if (nonblock) {
				ret = -EWOULDBLOCK;
				break;
			}
			ret = inode_sleep(t, li, NULL, NULL);
			if (ret < 0)
				break;
		}
	}
	inode_maybe_free(li);
	return ret;
}

void locks_close_posix(struct file *f, void *owner)
{
	if (!inodes)
		return;
	struct linode *li = inode_find(f, false);
	if (!li)
		return;
	bool changed = false;
	struct lk **pp = &li->posix;
	while (*pp) {
		struct lk *l = *pp;
		if (l->owner == owner && !l->ofd) {
			*pp = l->next;
			free(l);
			changed = true;
		} else {
			pp = &l->next;
		}
	}
	if (changed)
		waitq_wake_all(&li->wq);
	inode_maybe_free(li);
}

static void remove_everywhere(const void *owner, bool posix_only)
{
	for (struct linode *li = inodes, *next; li; li = next) {
		next = li->next;
		bool changed = false;
		free_list(&li->posix, lk_of_owner, owner, &changed);
		if (!posix_only)
			free_list(&li->flocks, lk_of_owner, owner, &changed);
		if (changed)
			waitq_wake_all(&li->wq);
		inode_maybe_free(li);
	}
}

void locks_remove_owner(void *owner)
{
	remove_everywhere(owner, true);
}

void locks_release_file(struct file *f)
{
	/* Without stat: the file may be half torn down. Its OFD and flock
	 * locks are the ones whose owner it is. */
	remove_everywhere(f, false);
}
