/* overlay: the sandbox's root. A read-only host directory (the lower
 * layer, reached only through ward_host_lookup) under a tmpfs tree of the
 * sentry's (the upper layer), as Linux's overlayfs does it:
 *
 * - a lookup finds the upper entry if there is one, else the lower one; a
 *   directory present in both is merged, unless the upper one is opaque;
 * - changing an object (a write open, O_TRUNC, chmod, chown, utimes, a new
 *   link) first copies it up, with its parent directories;
 * - removing or renaming away a name that the lower layer has leaves a
 *   whiteout (a 0/0 character device in the upper tree) that hides it; a
 *   directory created where a whiteout was is opaque;
 * - renaming a directory that has a lower part is EXDEV (overlayfs without
 *   redirect_dir), which mv(1) and friends handle by copying.
 *
 * The upper layer lives only in the sentry: it is discarded when the
 * sandbox exits, and nothing written reaches the host. A file opened
 * read-only before it was copied up keeps reading the lower file, as
 * overlayfs did before Linux 4.19. */
#include "sentry/service.h"

#include "fs/tmpfs.h"
#include "sentry/kernel/task.h"

/* The lower root's inode numbers are the host's: upper-only objects count
 * from here so that they do not collide. */
#define OVL_UPPER_INO_BASE (1ULL << 40)

/* The lower layer's cache. Linux's overlayfs leaves changes to a lower
 * layer while it is mounted undefined, and the guest cannot change it (its
 * writes go to the upper layer), so what a lookup learned of the lower tree
 * stays true for the sandbox's lifetime: an lnode records one lower name
 * (present with its attributes and, for a symlink, its target; or absent),
 * and a path walk over names seen before makes no host call. This is the
 * root overlay's alone: hostfs volumes are shared with the host and ask it
 * every time.
 *
 * Bounds: at most LC_MAX_ENTRIES names are findable (the table is cleared
 * when full; lnodes that vnodes still hold live on, unfindable), and at
 * most LC_MAX_HANDLES host handles are open (least recently used first
 * closed; a handle is reopened from its parent's when needed again).
 * Everything here runs under the file systems' lock. */
#define LC_MAX_ENTRIES 8192
#define LC_MAX_HANDLES 128
#define LC_BUCKETS 4096

struct lnode {
	int refs;
	struct lnode *parent; /* a reference; NULL for the root */
	char *name;
	bool negative; /* the lower layer has no such name */
	/* The guest opened it (its reads move atime): attributes come from
	 * the host each time, as they did before the cache. */
	bool live_attr;
	/* Read once more from the host (a directory was listed). */
	bool stale_attr;
	struct linux_statx stx; /* as hostfs_stat_handle gives it */
	char *target; /* a symlink's, once read */
	ward_hostfd_t h; /* O_PATH, or none */
	struct lnode *hprev, *hnext; /* the handle LRU, while h is open */
	struct lnode *hash_next;
};

static struct lnode *lc_table[LC_BUCKETS];
static size_t lc_entries;
static struct lnode *lc_root;
static struct lnode *lc_lru_head, *lc_lru_tail; /* most recent first */
static size_t lc_handles;

struct ovl_node {
	struct tnode *upper; /* a reference, or NULL */
	struct lnode *lower; /* a reference, or NULL */
	char *path; /* the path from the overlay's root, "/" for it */
};

static struct tmpfs ovl_fs;
static struct tnode *ovl_uroot;
static ward_hostfd_t ovl_lroot = { -1 };
static struct linux_statx ovl_root_stx;

static struct lnode *lnode_ref(struct lnode *ln)
{
	if (ln)
		ln->refs++;
	return ln;
}

static void lru_unlink(struct lnode *ln)
{
	if (ln->hprev)
		ln->hprev->hnext = ln->hnext;
	else
		lc_lru_head = ln->hnext;
	if (ln->hnext)
		ln->hnext->hprev = ln->hprev;
	else
		lc_lru_tail = ln->hprev;
	ln->hprev = ln->hnext = NULL;
}

static void lru_push(struct lnode *ln)
{
	ln->hnext = lc_lru_head;
	if (lc_lru_head)
		lc_lru_head->hprev = ln;
	lc_lru_head = ln;
	if (!lc_lru_tail)
		lc_lru_tail = ln;
}

static void lnode_close(struct lnode *ln)
{
	if (!ward_hostfd_valid(ln->h) || ln == lc_root)
		return;
	lru_unlink(ln);
	ward_host_close(ln->h);
	ln->h = WARD_HOSTFD_NONE;
	lc_handles--;
}

static void lnode_unref(struct lnode *ln)
{
	while (ln && --ln->refs == 0) {
		struct lnode *p = ln->parent;
		lnode_close(ln);
		free(ln->name);
		free(ln->target);
		free(ln);
		ln = p;
	}
}

/* Takes the host handle h into ln, closing the least recently used one
 * when there are too many. */
static void lnode_keep(struct lnode *ln, ward_hostfd_t h)
{
	ln->h = h;
	lru_push(ln);
	if (++lc_handles > LC_MAX_HANDLES)
		lnode_close(lc_lru_tail);
}

/* The O_PATH handle of ln (borrowed: valid until the next lc_* call). */
static long lnode_handle(struct lnode *ln, ward_hostfd_t *out)
{
	if (ward_hostfd_valid(ln->h)) {
		if (ln != lc_root && ln != lc_lru_head) {
			lru_unlink(ln);
			lru_push(ln);
		}
		*out = ln->h;
		return 0;
	}
	if (ln->negative || !ln->parent)
		return -ENOENT;
	ward_hostfd_t ph, h;
	long r = lnode_handle(ln->parent, &ph);
	if (r >= 0)
		r = ward_host_lookup(ph, ln->name, 0, &h);
	if (r < 0)
		return r;
	lnode_keep(ln, h);
	*out = h;
	return 0;
}

static size_t lc_bucket(const struct lnode *parent, const char *name)
{
	uint64_t x = 1469598103934665603ULL ^ (uint64_t)(uintptr_t)parent;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		x = (x ^ *c) * 1099511628211ULL;
	return (size_t)(x ^ (x >> 29)) % LC_BUCKETS;
}

/* Forgets every name (the lnodes vnodes hold stay theirs). */
static void lc_clear(void)
{
	for (size_t b = 0; b < LC_BUCKETS; b++) {
		struct lnode *ln = lc_table[b];
		lc_table[b] = NULL;
		while (ln) {
			struct lnode *next = ln->hash_next;
			ln->hash_next = NULL;
			lnode_unref(ln);
			ln = next;
		}
	}
	lc_entries = 0;
}

/* The lower object name in the directory dir: a new reference in *out, or
 * -ENOENT (remembered too). */
static long lc_child(struct lnode *dir, const char *name, struct lnode **out)
{
	size_t b = lc_bucket(dir, name);
	for (struct lnode *ln = lc_table[b]; ln; ln = ln->hash_next) {
		if (ln->parent == dir && strcmp(ln->name, name) == 0) {
			if (ln->negative)
				return -ENOENT;
			*out = lnode_ref(ln);
			return 0;
		}
	}
	ward_hostfd_t dh, h = WARD_HOSTFD_NONE;
	long r = lnode_handle(dir, &dh);
	if (r < 0)
		return r;
	r = ward_host_lookup(dh, name, 0, &h);
	if (r < 0 && r != -ENOENT)
		return r;
	struct lnode *ln = calloc(1, sizeof(*ln));
	char *nm = strdup(name);
	if (!ln || !nm) {
		free(ln);
		free(nm);
		ward_host_close(h);
		return -ENOMEM;
	}
	ln->refs = 1;
	ln->name = nm;
	ln->h = WARD_HOSTFD_NONE;
	ln->parent = lnode_ref(dir);
	ln->negative = r == -ENOENT;
	if (!ln->negative) {
		r = hostfs_stat_handle(h, &ln->stx);
		if (r < 0) {
			ward_host_close(h);
			lnode_unref(ln);
			return r;
		}
		lnode_keep(ln, h);
	}
	if (lc_entries >= LC_MAX_ENTRIES)
		lc_clear();
	b = lc_bucket(dir, name);
	ln->hash_next = lc_table[b];
	lc_table[b] = lnode_ref(ln);
	lc_entries++;
	if (ln->negative) {
		lnode_unref(ln);
		return -ENOENT;
	}
	*out = ln;
	return 0;
}

static long lnode_getattr(struct lnode *ln, struct linux_statx *out)
{
	if (ln->live_attr || ln->stale_attr) {
		ward_hostfd_t h;
		long r = lnode_handle(ln, &h);
		if (r >= 0)
			r = hostfs_stat_handle(h, &ln->stx);
		if (r < 0)
			return r;
		ln->stale_attr = false;
	}
	*out = ln->stx;
	return 0;
}

static long lnode_readlink(struct lnode *ln, char *buf, size_t len)
{
	if (!ln->target) {
		cleanup_free char *t = malloc(VFS_PATH_MAX);
		ward_hostfd_t h;
		long r = t ? lnode_handle(ln, &h) : -ENOMEM;
		if (r >= 0)
			r = ward_host_readlink(h, t, VFS_PATH_MAX - 1);
		if (r < 0)
			return r;
		t[r] = '\0';
		ln->target = strdup(t);
		if (!ln->target)
			return -ENOMEM;
	}
	size_t n = WARD_MIN(strlen(ln->target), len);
	memcpy(buf, ln->target, n);
	return (long)n;
}

static bool is_whiteout(const struct tnode *n)
{
	return S_ISCHR(n->mode) && n->rdev == 0;
}

static struct ovl_node *on_of(struct vnode *v)
{
	return v->priv;
}

static const struct vnode_ops ovl_ops;

/* Under the lock. lower (a reference, may be NULL) is consumed. */
static long ovl_vnode(struct vmount *mnt, struct tnode *upper, struct lnode *lower, const char *path, uint32_t type,
		      struct vnode **out)
{
	struct ovl_node *on = calloc(1, sizeof(*on));
	char *p = strdup(path);
	struct vnode *v = on && p ? vnode_alloc(&ovl_ops, mnt, type, on) : NULL;
	if (!v) {
		free(on);
		free(p);
		lnode_unref(lower);
		return -ENOMEM;
	}
	on->upper = upper;
	if (upper)
		tnode_ref(upper);
	on->lower = lower;
	on->path = p;
	*out = v;
	return 0;
}

static char *child_path(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	char *p = malloc(dl + nl + 2);
	if (!p)
		return NULL;
	memcpy(p, dir, dl);
	size_t at = dl;
	if (dl != 1)
		p[at++] = '/';
	memcpy(p + at, name, nl + 1);
	return p;
}

/* Under the lock: a vnode made before its object was copied up (by way of
 * another vnode) finds its upper node by its path. */
static void sync_upper(struct ovl_node *on)
{
	if (on->upper)
		return;
	cleanup_free char *copy = strdup(on->path);
	if (!copy)
		return;
	struct tnode *cur = ovl_uroot;
	char *save = NULL;
	for (char *name = strtok_r(copy, "/", &save); name && cur; name = strtok_r(NULL, "/", &save)) {
		if (!S_ISDIR(cur->mode))
			return;
		cur = tnode_lookup(cur, name);
	}
	if (!cur || is_whiteout(cur))
		return;
	tnode_ref(cur);
	on->upper = cur;
}

/* Under the lock: the upper and lower objects of name in dir. *lower is
 * left invalid when the lower layer has nothing visible there. */
static long ovl_find(struct ovl_node *dir, const char *name, struct tnode **upper, struct lnode **lower, uint32_t *type)
{
	*upper = NULL;
	*lower = NULL;
	sync_upper(dir);
	struct tnode *u = dir->upper ? tnode_lookup(dir->upper, name) : NULL;
	if (u && is_whiteout(u))
		return -ENOENT;
	bool look_lower = dir->lower && !(dir->upper && dir->upper->opaque) && !(u && (!S_ISDIR(u->mode) || u->opaque));
	if (look_lower) {
		struct lnode *l;
		long r = lc_child(dir->lower, name, &l);
		if (r < 0 && r != -ENOENT)
			return r;
		if (r >= 0) {
			if (u && !S_ISDIR(l->stx.stx_mode)) {
				lnode_unref(l);
			} else {
				*lower = l;
				*type = l->stx.stx_mode & S_IFMT;
			}
		}
	}
	if (!u && !*lower)
		return -ENOENT;
	*upper = u;
	if (u)
		*type = u->mode & S_IFMT;
	return 0;
}

static long ovl_lookup(struct vnode *dir, const char *name, struct vnode **out)
{
	struct ovl_node *d = on_of(dir);
	cleanup_free char *path = child_path(d->path, name);
	if (!path)
		return -ENOMEM;
	struct tnode *u;
	struct lnode *l;
	uint32_t type = 0;
	vfs_fs_lock();
	long r = ovl_find(d, name, &u, &l, &type);
	if (r >= 0)
		r = ovl_vnode(dir->mnt, u, l, path, type, out);
	vfs_fs_unlock();
	return r;
}

static void lower_attr(struct lnode *l, struct linux_statx *out)
{
	if (lnode_getattr(l, out) < 0)
		memset(out, 0, sizeof(*out));
}

static void upper_attr(const struct tnode *n, struct linux_statx *out)
{
	tnode_getattr(n, out);
	out->stx_dev_major = ovl_root_stx.stx_dev_major;
	out->stx_dev_minor = ovl_root_stx.stx_dev_minor;
}

static long ovl_getattr(struct vnode *v, struct linux_statx *out)
{
	struct ovl_node *on = on_of(v);
	long r = 0;
	vfs_fs_lock();
	sync_upper(on);
	if (on->upper)
		upper_attr(on->upper, out);
	else
		r = lnode_getattr(on->lower, out);
	vfs_fs_unlock();
	return r;
}

/* Copy-up. */

/* Under the lock: a new upper node with the lower object's attributes and
 * contents. */
static long copy_node(ward_hostfd_t h, struct tnode **out)
{
	struct linux_statx stx;
	long r = ward_host_statx(h, &stx);
	if (r < 0)
		return r;
	struct tnode *n = tnode_new(&ovl_fs, stx.stx_mode, stx.stx_uid, stx.stx_gid);
	if (!n)
		return -ENOMEM;
	n->ino = stx.stx_ino;
	n->atime = stx.stx_atime;
	n->mtime = stx.stx_mtime;
	n->ctime = stx.stx_ctime;
	n->btime = stx.stx_btime;
	n->rdev = vfs_makedev(stx.stx_rdev_major, stx.stx_rdev_minor);
	n->refs = 1;
	/* tnode_link counts the new name (and a directory's "."); a
	 * directory keeps its lower subdirectories' links. */
	n->nlink = S_ISDIR(stx.stx_mode) && stx.stx_nlink >= 2 ? stx.stx_nlink - 2 : 0;
	if (S_ISLNK(stx.stx_mode)) {
		n->target = calloc(1, VFS_PATH_MAX);
		r = n->target ? ward_host_readlink(h, n->target, VFS_PATH_MAX - 1) : -ENOMEM;
	} else if (S_ISREG(stx.stx_mode)) {
		ward_hostfd_t rd;
		r = ward_host_reopen(h, WARD_HOST_READ, &rd);
		cleanup_free char *buf = r >= 0 ? malloc(64 * 1024) : NULL;
		if (r >= 0 && !buf)
			r = -ENOMEM;
		uint64_t off = 0;
		while (r >= 0) {
			long got = ward_host_pread(rd, buf, 64 * 1024, off);
			if (got <= 0) {
				r = got;
				break;
			}
			/* Runs of zero pages stay holes. */
			for (long p = 0; p < got && r >= 0; p += (long)WARD_PAGE_SIZE) {
				size_t chunk = (size_t)WARD_MIN((long)WARD_PAGE_SIZE, got - p);
				bool zero = true;
				for (size_t i = 0; i < chunk && zero; i++)
					zero = buf[p + (long)i] == 0;
				if (!zero)
					r = tnode_write(n, buf + p, chunk, off + (uint64_t)p);
			}
			off += (uint64_t)got;
		}
		if (ward_hostfd_valid(rd))
			ward_host_close(rd);
		if (r >= 0)
			r = tnode_truncate(n, stx.stx_size);
		n->mtime = stx.stx_mtime;
		n->ctime = stx.stx_ctime;
	}
	if (r < 0) {
		tnode_unref(n);
		return r;
	}
	*out = n;
	return 0;
}

/* Under the lock: makes sure the object at path (an overlay path) has an
 * upper node, copying it and its parents up; returns it in *out. */
static long copy_up_path(const char *path, struct tnode **out)
{
	cleanup_free char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	struct tnode *cur = ovl_uroot;
	ward_hostfd_t lower = WARD_HOSTFD_NONE;
	ward_hostfd_t parent_lower = ovl_lroot;
	long r = 0;
	char *save = NULL;
	for (char *name = strtok_r(copy, "/", &save); name; name = strtok_r(NULL, "/", &save)) {
		struct tnode *u = tnode_lookup(cur, name);
		ward_hostfd_t h = WARD_HOSTFD_NONE;
		if (ward_hostfd_valid(parent_lower) && (!u || S_ISDIR(u->mode))) {
			r = ward_host_lookup(parent_lower, name, 0, &h);
			if (r == -ENOENT)
				r = 0;
			if (r < 0)
				break;
		}
		if (u && is_whiteout(u)) {
			r = -ENOENT;
		} else if (!u) {
			if (!ward_hostfd_valid(h)) {
				r = -ENOENT;
			} else {
				struct tnode *n = NULL;
				r = copy_node(h, &n);
				if (r >= 0) {
					/* Keep the parent's times: a copy-up is no change. */
					struct linux_statx_timestamp m = cur->mtime, c = cur->ctime;
					r = tnode_link(cur, name, n);
					cur->mtime = m;
					cur->ctime = c;
					tnode_unref(n);
				}
				u = n;
			}
		}
		if (ward_hostfd_valid(lower))
			ward_host_close(lower);
		lower = h;
		parent_lower = h;
		if (r < 0)
			break;
		cur = u;
	}
	if (ward_hostfd_valid(lower))
		ward_host_close(lower);
	if (r < 0)
		return r;
	*out = cur;
	return 0;
}

/* Under the lock: copies the vnode's object up (once). */
static long copy_up(struct ovl_node *on)
{
	sync_upper(on);
	if (on->upper)
		return 0;
	struct tnode *n;
	long r = copy_up_path(on->path, &n);
	if (r < 0)
		return r;
	tnode_ref(n);
	on->upper = n;
	return 0;
}

static long ovl_setattr(struct vnode *v, const struct vattr *a)
{
	struct ovl_node *on = on_of(v);
	vfs_fs_lock();
	long r = copy_up(on);
	if (r >= 0)
		r = tnode_setattr(on->upper, a);
	vfs_fs_unlock();
	return r;
}

static long ovl_readlink(struct vnode *v, char *buf, size_t len)
{
	struct ovl_node *on = on_of(v);
	long r;
	vfs_fs_lock();
	sync_upper(on);
	if (on->upper) {
		const char *t = on->upper->target;
		size_t n = t ? WARD_MIN(strlen(t), len) : 0;
		if (t)
			memcpy(buf, t, n);
		r = t ? (long)n : -EINVAL;
	} else {
		r = lnode_readlink(on->lower, buf, len);
	}
	vfs_fs_unlock();
	return r;
}

/* Directories: a merged listing taken whole at the first getdents and
 * after each rewind. */

struct ovl_dir {
	struct vfs_dirlist list;
};

/* Adds the lower directory's entries that the upper does not hide. */
static long list_lower(struct lnode *lower, struct tnode *upper, struct vfs_dirlist *l, uint64_t *dotdot)
{
	ward_hostfd_t h, rd;
	long r;
	if (lower->parent) {
		/* By name from the parent: reopening an O_PATH handle goes
		 * through /proc, a longer walk in the host kernel. */
		r = lnode_handle(lower->parent, &h);
		if (r >= 0)
			r = ward_host_lookup(h, lower->name, WARD_HOST_READ | WARD_HOST_DIRECTORY, &rd);
	} else {
		r = lnode_handle(lower, &h);
		if (r >= 0)
			r = ward_host_reopen(h, WARD_HOST_READ | WARD_HOST_DIRECTORY, &rd);
	}
	if (r < 0)
		return r;
	/* Reading a directory moves its atime, which the listing's end
	 * has done. */
	lower->stale_attr = true;
	cleanup_free char *buf = malloc(32 * 1024);
	uint64_t pos = 0;
	if (!buf)
		r = -ENOMEM;
	while (r >= 0) {
		long n = ward_host_getdents64(rd, &pos, buf, 32 * 1024);
		if (n <= 0) {
			r = n;
			break;
		}
		for (long off = 0; off < n && r >= 0;) {
			struct linux_dirent64 d;
			memcpy(&d, buf + off, offsetof(struct linux_dirent64, d_name));
			const char *name = buf + off + offsetof(struct linux_dirent64, d_name);
			off += d.d_reclen;
			if (strcmp(name, "..") == 0 && dotdot)
				*dotdot = d.d_ino;
			if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
				continue;
			if (upper && tnode_lookup(upper, name))
				continue;
			r = vfs_dirlist_add(l, name, d.d_ino, d.d_type);
		}
	}
	ward_host_close(rd);
	return r;
}

static long ovl_dir_getdents(struct file *f, void *buf, size_t len)
{
	struct ovl_dir *od = f->priv;
	struct ovl_node *on = on_of(f->vn);
	if (f->pos == 0 || !od->list.e) {
		vfs_dirlist_free(&od->list);
		vfs_fs_lock();
		sync_upper(on);
		struct linux_statx self;
		if (on->upper)
			upper_attr(on->upper, &self);
		else
			lower_attr(on->lower, &self);
		long r = vfs_dirlist_add(&od->list, ".", self.stx_ino, 4);
		uint64_t dotdot = self.stx_ino;
		if (on->upper && on->upper->parent)
			dotdot = on->upper->parent->ino;
		if (r >= 0)
			r = vfs_dirlist_add(&od->list, "..", dotdot, 4);
		if (on->upper)
			for (struct tdirent *d = on->upper->ents; d && r >= 0; d = d->next)
				if (!is_whiteout(d->node))
					r = vfs_dirlist_add(&od->list, d->name, d->node->ino, vfs_dtype(d->node->mode));
		if (r >= 0 && on->lower && !(on->upper && on->upper->opaque))
			r = list_lower(on->lower, on->upper, &od->list, &dotdot);
		if (r >= 0)
			od->list.e[1].ino = dotdot;
		vfs_fs_unlock();
		if (r < 0)
			return r;
	}
	return vfs_dirlist_getdents(&od->list, f, buf, len);
}

static long ovl_dir_read(struct file *f, void *buf, size_t len, uint64_t *pos)
{
	return -EISDIR;
}

static long ovl_dir_seek(struct file *f, int64_t off, int whence)
{
	return vfs_generic_seek(f, off, whence, INT64_MAX);
}

static long ovl_file_getattr(struct file *f, struct linux_statx *out)
{
	return ovl_getattr(f->vn, out);
}

static long ovl_file_statfs(struct file *f, struct linux_statfs *out);

static void ovl_dir_release(struct file *f)
{
	struct ovl_dir *od = f->priv;
	vfs_dirlist_free(&od->list);
	free(od);
}

static const struct file_ops ovl_dir_fops = {
	.read_buf = ovl_dir_read,
	.seek = ovl_dir_seek,
	.getattr = ovl_file_getattr,
	.getdents_buf = ovl_dir_getdents,
	.statfs = ovl_file_statfs,
	.release = ovl_dir_release,
};

static const struct file_ops ovl_path_fops = {
	.getattr = ovl_file_getattr,
	.statfs = ovl_file_statfs,
};

static long ovl_open(struct vnode *v, int flags, const char *path, struct file **out)
{
	struct ovl_node *on = on_of(v);
	int acc = flags & O_ACCMODE;
	bool want_write = !(flags & O_PATH) && (acc == O_WRONLY || acc == O_RDWR);
	long r = 0;
	struct file *f = NULL;

	if (flags & O_PATH) {
		f = file_alloc(&ovl_path_fops, (uint32_t)flags, path, NULL);
	} else if (S_ISDIR(v->type)) {
		struct ovl_dir *od = calloc(1, sizeof(*od));
		f = od ? file_alloc(&ovl_dir_fops, (uint32_t)flags, path, od) : NULL;
		if (!f)
			free(od);
	} else {
		vfs_fs_lock();
		sync_upper(on);
		if (want_write)
			r = copy_up(on);
		struct tnode *u = on->upper;
		if (u)
			tnode_ref(u);
		vfs_fs_unlock();
		if (r < 0)
			return r;
		if (u) {
			r = tmpfs_open_node(u, flags, path, out);
			vfs_fs_lock();
			tnode_unref(u);
			vfs_fs_unlock();
			return r;
		}
		/* The handle is the cache's: open under the lock, which keeps
		 * it from being closed meanwhile. */
		ward_hostfd_t h;
		struct lnode *l = on->lower;
		vfs_fs_lock();
		if (!(flags & O_PATH) && S_ISREG(l->stx.stx_mode) && l->parent) {
			/* By name from the parent: one host call, where reopening
			 * an O_PATH handle goes through /proc. */
			r = lnode_handle(l->parent, &h);
			if (r >= 0)
				r = hostfs_open_read_at(h, l->name, flags, path, out);
		} else {
			r = lnode_handle(l, &h);
			if (r >= 0)
				r = hostfs_open_handle(h, &l->stx, flags, path, out);
		}
		if (r >= 0 && !(flags & O_PATH))
			on->lower->live_attr = true;
		vfs_fs_unlock();
		return r;
	}
	if (!f)
		return -ENOMEM;
	*out = f;
	return 0;
}

/* Under the lock: the upper directory of dir, copied up, and whether the
 * lower layer has name in it. */
static long prepare_dir(struct ovl_node *d, const char *name, bool *lower_has)
{
	long r = copy_up(d);
	if (r < 0)
		return r;
	*lower_has = false;
	if (d->lower && !d->upper->opaque) {
		struct lnode *l;
		r = lc_child(d->lower, name, &l);
		if (r >= 0) {
			*lower_has = true;
			lnode_unref(l);
		} else if (r != -ENOENT) {
			return r;
		}
	}
	return 0;
}

/* Under the lock: clears a whiteout at name so that a new object can take
 * its place; *was_whiteout says whether there was one. */
static long take_name(struct tnode *dir, const char *name, bool lower_has, bool *was_whiteout)
{
	struct tnode *u = tnode_lookup(dir, name);
	*was_whiteout = false;
	if (u && !is_whiteout(u))
		return -EEXIST;
	if (!u && lower_has)
		return -EEXIST;
	if (u) {
		*was_whiteout = true;
		return tnode_unlink(dir, name);
	}
	return 0;
}

static long ovl_add(struct vnode *dir, const char *name, struct tnode *n, struct vnode **out)
{
	struct ovl_node *d = on_of(dir);
	bool lower_has, wh;
	long r = prepare_dir(d, name, &lower_has);
	if (r >= 0)
		r = take_name(d->upper, name, lower_has, &wh);
	if (r >= 0 && S_ISDIR(n->mode) && wh)
		n->opaque = true;
	if (r >= 0)
		r = tnode_link(d->upper, name, n);
	if (r >= 0 && out) {
		cleanup_free char *path = child_path(d->path, name);
		r = path ? ovl_vnode(dir->mnt, n, NULL, path, n->mode & S_IFMT, out) : -ENOMEM;
	}
	return r;
}

static struct tnode *ovl_new_node(struct ovl_node *d, uint32_t mode, const struct vfs_owner *o)
{
	uint32_t gid = o->gid;
	if (d->upper && (d->upper->mode & S_ISGID)) {
		gid = d->upper->gid;
		if (S_ISDIR(mode))
			mode |= S_ISGID;
	}
	struct tnode *n = tnode_new(&ovl_fs, mode, o->uid, gid);
	if (n)
		n->refs = 1;
	return n;
}

static long ovl_create(struct vnode *dir, const char *name, uint32_t mode, uint64_t rdev, const struct vfs_owner *o,
		       struct vnode **out)
{
	vfs_fs_lock();
	long r = copy_up(on_of(dir));
	struct tnode *n = r >= 0 ? ovl_new_node(on_of(dir), mode, o) : NULL;
	if (r >= 0 && !n)
		r = -ENOMEM;
	if (r >= 0) {
		n->rdev = rdev;
		r = ovl_add(dir, name, n, out);
		tnode_unref(n);
	}
	vfs_fs_unlock();
	return r;
}

static long ovl_symlink(struct vnode *dir, const char *name, const char *target, const struct vfs_owner *o)
{
	vfs_fs_lock();
	long r = copy_up(on_of(dir));
	struct tnode *n = r >= 0 ? ovl_new_node(on_of(dir), S_IFLNK | 0777, o) : NULL;
	if (r >= 0 && (!n || !(n->target = strdup(target))))
		r = -ENOMEM;
	if (r >= 0)
		r = ovl_add(dir, name, n, NULL);
	if (n)
		tnode_unref(n);
	vfs_fs_unlock();
	return r;
}

static long ovl_link(struct vnode *dir, const char *name, struct vnode *src)
{
	vfs_fs_lock();
	long r = copy_up(on_of(src));
	if (r >= 0 && on_of(src)->upper->nlink == 0 && !on_of(src)->upper->linkable)
		r = -ENOENT;
	if (r >= 0) {
		r = ovl_add(dir, name, on_of(src)->upper, NULL);
		if (r >= 0) {
			tnode_touch(on_of(src)->upper, false);
			on_of(src)->upper->linkable = false;
		}
	}
	vfs_fs_unlock();
	return r;
}

/* O_TMPFILE: an upper node no directory names. Its path is never looked
 * up (the vnode has its upper node), so any unique one does. */
static long ovl_tmpfile(struct vnode *dir, uint32_t mode, const struct vfs_owner *o, bool linkable, struct vnode **out)
{
	vfs_fs_lock();
	long r = copy_up(on_of(dir));
	struct tnode *n = r >= 0 ? ovl_new_node(on_of(dir), mode, o) : NULL;
	if (r >= 0 && !n)
		r = -ENOMEM;
	if (r >= 0) {
		char name[40];
		snprintf(name, sizeof(name), "#%" PRIu64, n->ino);
		cleanup_free char *path = child_path(on_of(dir)->path, name);
		n->linkable = linkable;
		r = path ? ovl_vnode(dir->mnt, n, NULL, path, S_IFREG, out) : -ENOMEM;
		tnode_unref(n);
	}
	vfs_fs_unlock();
	return r;
}

/* Under the lock: is the merged directory at (upper, lower) empty? */
static long merged_empty(struct tnode *upper, struct lnode *lower)
{
	if (upper && !tnode_dir_empty(upper, is_whiteout))
		return -ENOTEMPTY;
	if (!lower || (upper && upper->opaque))
		return 0;
	struct vfs_dirlist l = { 0 };
	long r = list_lower(lower, upper, &l, NULL);
	if (r >= 0 && l.n)
		r = -ENOTEMPTY;
	vfs_dirlist_free(&l);
	return r;
}

/* Under the lock: removes name from dir's upper and leaves a whiteout when
 * the lower layer has it. */
static long remove_name(struct ovl_node *d, const char *name, bool lower_has)
{
	long r = 0;
	if (tnode_lookup(d->upper, name))
		r = tnode_unlink(d->upper, name);
	if (r >= 0 && lower_has) {
		struct tnode *w = tnode_new(&ovl_fs, S_IFCHR, 0, 0);
		if (!w)
			return -ENOMEM;
		w->refs = 1;
		r = tnode_link(d->upper, name, w);
		tnode_unref(w);
	}
	return r;
}

static long ovl_unlink(struct vnode *dir, const char *name, bool is_dir)
{
	struct ovl_node *d = on_of(dir);
	struct tnode *u;
	struct lnode *l;
	uint32_t type;
	bool lower_has;
	vfs_fs_lock();
	long r = ovl_find(d, name, &u, &l, &type);
	if (r >= 0 && is_dir)
		r = merged_empty(u, l);
	lnode_unref(l);
	if (r >= 0)
		r = prepare_dir(d, name, &lower_has);
	if (r >= 0)
		r = remove_name(d, name, lower_has);
	vfs_fs_unlock();
	return r;
}

static long ovl_rename(struct vnode *odir, const char *oname, struct vnode *ndir, const char *nname, unsigned int flags)
{
	struct ovl_node *od = on_of(odir), *nd = on_of(ndir);
	struct tnode *ou, *nu;
	struct lnode *ol, *nl;
	uint32_t otype = 0, ntype = 0;
	bool olower, nlower;
	vfs_fs_lock();
	long r = ovl_find(od, oname, &ou, &ol, &otype);
	long rn = r >= 0 ? ovl_find(nd, nname, &nu, &nl, &ntype) : -ENOENT;
	bool n_exists = rn >= 0;
	if (r >= 0 && rn < 0 && rn != -ENOENT)
		r = rn;
	if (!n_exists) {
		nu = NULL;
		nl = NULL;
	}
	if (r < 0)
		ol = NULL;
	/* Directories with a lower part stay where they are. */
	if (r >= 0 && S_ISDIR(otype) && ol)
		r = -EXDEV;
	if (r >= 0 && (flags & 0x2 /* RENAME_EXCHANGE */) && (nl || ol))
		r = -EXDEV;
	if (r >= 0 && n_exists && S_ISDIR(ntype) && !(flags & 0x2))
		r = merged_empty(nu, nl);
	lnode_unref(nl);
	lnode_unref(ol);
	if (r >= 0)
		r = prepare_dir(od, oname, &olower);
	if (r >= 0)
		r = prepare_dir(nd, nname, &nlower);
	if (r >= 0 && !ou) {
		/* A lower file: copy it up first. */
		cleanup_free char *path = child_path(od->path, oname);
		r = path ? copy_up_path(path, &ou) : -ENOMEM;
	}
	if (r >= 0 && ou == tnode_lookup(nd->upper, nname) && !(flags & 0x2)) {
		vfs_fs_unlock();
		return 0; /* two names of one file */
	}
	if (r >= 0 && (flags & 0x2)) {
		struct tnode *a = ou, *b = tnode_lookup(nd->upper, nname);
		tnode_ref(a);
		tnode_ref(b);
		r = tnode_unlink(od->upper, oname);
		if (r >= 0)
			r = tnode_unlink(nd->upper, nname);
		if (r >= 0)
			r = tnode_link(nd->upper, nname, a);
		if (r >= 0)
			r = tnode_link(od->upper, oname, b);
		tnode_unref(a);
		tnode_unref(b);
	} else if (r >= 0) {
		tnode_ref(ou);
		r = tnode_unlink(od->upper, oname);
		if (r >= 0 && olower)
			r = remove_name(od, oname, true);
		if (r >= 0 && tnode_lookup(nd->upper, nname))
			r = tnode_unlink(nd->upper, nname);
		if (r >= 0 && S_ISDIR(ou->mode) && nlower)
			ou->opaque = true;
		if (r >= 0)
			r = tnode_link(nd->upper, nname, ou);
		if (r >= 0)
			tnode_touch(ou, false);
		tnode_unref(ou);
	}
	vfs_fs_unlock();
	return r;
}

static long ovl_statfs(struct vnode *v, struct linux_statfs *out)
{
	long r = ward_host_statfs(ovl_lroot, out);
	if (r < 0)
		return r;
	out->f_type = VFS_OVERLAYFS_MAGIC;
	out->f_flags &= ~(int64_t)VFS_ST_RDONLY;
	return 0;
}

static long ovl_file_statfs(struct file *f, struct linux_statfs *out)
{
	return ovl_statfs(f->vn, out);
}

static void ovl_release(struct vnode *v)
{
	struct ovl_node *on = v->priv;
	vfs_fs_lock();
	if (on->upper)
		tnode_unref(on->upper);
	lnode_unref(on->lower);
	vfs_fs_unlock();
	free(on->path);
	free(on);
}

/* A bind mount's root: the same overlay object, another vnode. */
static long ovl_bind_root(struct vnode *v, struct vmount *mnt, struct vnode **out)
{
	struct ovl_node *on = v->priv;
	vfs_fs_lock();
	long r = ovl_vnode(mnt, on->upper, lnode_ref(on->lower), on->path, v->type, out);
	vfs_fs_unlock();
	return r;
}

/* Extended attributes live on upper nodes: a lower object shows none
 * (the host's are the host's business) until a change copies it up. */
static long ovl_xattr_get(struct vnode *v, const char *name, void *buf, size_t size)
{
	struct ovl_node *on = on_of(v);
	vfs_fs_lock();
	sync_upper(on);
	long r = on->upper ? tnode_xattr_get(on->upper, name, buf, size) : -ENODATA;
	vfs_fs_unlock();
	return r;
}

static long ovl_xattr_list(struct vnode *v, char *buf, size_t size, bool trusted)
{
	struct ovl_node *on = on_of(v);
	vfs_fs_lock();
	sync_upper(on);
	long r = on->upper ? tnode_xattr_list(on->upper, buf, size, trusted) : 0;
	vfs_fs_unlock();
	return r;
}

static long ovl_xattr_set(struct vnode *v, const char *name, const void *val, size_t size, int flags)
{
	struct ovl_node *on = on_of(v);
	vfs_fs_lock();
	long r = copy_up(on);
	if (r >= 0)
		r = tnode_xattr_set(on->upper, name, val, size, flags);
	vfs_fs_unlock();
	return r;
}

static long ovl_xattr_remove(struct vnode *v, const char *name)
{
	struct ovl_node *on = on_of(v);
	vfs_fs_lock();
	sync_upper(on);
	long r = on->upper ? tnode_xattr_remove(on->upper, name) : -ENODATA;
	vfs_fs_unlock();
	return r;
}

static const struct vnode_ops ovl_ops = {
	.lookup = ovl_lookup,
	.getattr = ovl_getattr,
	.setattr = ovl_setattr,
	.read_link = ovl_readlink,
	.open_file = ovl_open,
	.create = ovl_create,
	.make_symlink = ovl_symlink,
	.make_link = ovl_link,
	.remove = ovl_unlink,
	.move = ovl_rename,
	.statfs = ovl_statfs,
	.bind_root = ovl_bind_root,
	.release = ovl_release,
	.xattr_get = ovl_xattr_get,
	.xattr_set = ovl_xattr_set,
	.xattr_list = ovl_xattr_list,
	.xattr_remove = ovl_xattr_remove,
	.tmpfile = ovl_tmpfile,
};

long overlay_root(ward_hostfd_t lower_root, struct vmount *mnt, struct vnode **out)
{
	long r = ward_host_statx(lower_root, &ovl_root_stx);
	if (r < 0) {
		ward_host_close(lower_root);
		return r;
	}
	ovl_fs.minor = ovl_root_stx.stx_dev_minor;
	ovl_fs.next_ino = OVL_UPPER_INO_BASE;
	ovl_uroot = tnode_new(&ovl_fs, ovl_root_stx.stx_mode, ovl_root_stx.stx_uid, ovl_root_stx.stx_gid);
	if (!ovl_uroot) {
		ward_host_close(lower_root);
		return -ENOMEM;
	}
	ovl_uroot->ino = ovl_root_stx.stx_ino;
	ovl_uroot->atime = ovl_root_stx.stx_atime;
	ovl_uroot->mtime = ovl_root_stx.stx_mtime;
	ovl_uroot->ctime = ovl_root_stx.stx_ctime;
	ovl_uroot->nlink = ovl_root_stx.stx_nlink;
	ovl_uroot->refs = 1;
	ovl_lroot = lower_root;
	lc_root = calloc(1, sizeof(*lc_root));
	if (!lc_root)
		return -ENOMEM;
	lc_root->refs = 1;
	lc_root->h = lower_root;
	r = hostfs_stat_handle(lower_root, &lc_root->stx);
	if (r < 0)
		return r;
	return ovl_vnode(mnt, ovl_uroot, lnode_ref(lc_root), "/", S_IFDIR, out);
}
