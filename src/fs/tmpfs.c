/* tmpfs: a file system kept in the sentry's memory. Files, directories,
 * symlinks, hard links, fifos' and sockets' inodes, sparse files.
 *
 * File data lives in pages malloc'd by the sentry, one per 4 KiB of data
 * written (holes take nothing); private maps copy them into the memory
 * file through mmap_fill. The first time a file is mapped shared its data
 * moves into one range of the memory file (the segment, sparse, reserved
 * in 16 MiB steps), which every shared map of it maps: a store through one
 * is seen by read(2) at once, and write(2) reaches the maps. Pages past the
 * segment stay in the table.
 *
 * Every operation runs under the file systems' lock (vfs_fs_lock). */
#include "sentry/service.h"

#include "fs/tmpfs.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"

#define TMPFS_LEAF 512
#define TMPFS_MAX_SIZE ((uint64_t)INT64_MAX)
#define TMPFS_SEG_STEP (16ULL << 20)

/* Nodes. */

struct tnode *tnode_new(struct tmpfs *fs, uint32_t mode, uint32_t uid, uint32_t gid)
{
	struct tnode *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->fs = fs;
	fs->nodes++;
	n->ino = fs->next_ino++;
	n->mode = mode;
	n->uid = uid;
	n->gid = gid;
	n->atime = n->mtime = n->ctime = n->btime = vfs_now();
	/* A tmpfs file that is no memfd may not be sealed. */
	n->seals = fs->sealable ? TMPFS_SEAL_SEAL : 0;
	return n;
}

static void tnode_free_pages(struct tnode *n, uint64_t from_page)
{
	for (size_t l = (size_t)(from_page / TMPFS_LEAF); l < n->nleaves; l++) {
		uint8_t **leaf = n->leaves[l];
		if (!leaf)
			continue;
		size_t first = l == from_page / TMPFS_LEAF ? (size_t)(from_page % TMPFS_LEAF) : 0;
		for (size_t i = first; i < TMPFS_LEAF; i++) {
			if (leaf[i]) {
				free(leaf[i]);
				leaf[i] = NULL;
				n->npages--;
				n->fs->pages--;
			}
		}
		if (first == 0) {
			free(leaf);
			n->leaves[l] = NULL;
		}
	}
}

void tnode_ref(struct tnode *n)
{
	n->refs++;
}

void tnode_unref(struct tnode *n)
{
	if (--n->refs > 0)
		return;
	/* Nodes to free, linked through their parent field: a loop, not a
	 * recursion, so that a deep tree (an unmounted tmpfs) cannot exhaust
	 * the sentry's stack. */
	n->parent = NULL;
	while (n) {
		struct tnode *next_free = n->parent;
		tnode_free_pages(n, 0);
		free(n->leaves);
		if (n->seg)
			mm_shm_put(n->seg);
		for (struct txattr *x = n->xattrs, *xn; x; x = xn) {
			xn = x->next;
			free(x->name);
			free(x->val);
			free(x);
		}
		free(n->target);
		/* A directory still naming children is the root of an unmounted
		 * tmpfs: its children go with it unless something holds them. */
		for (struct tdirent *d = n->ents, *next; d; d = next) {
			next = d->next;
			struct tnode *c = d->node;
			free(d->name);
			free(d);
			if (c->parent == n)
				c->parent = NULL;
			if (--c->refs == 0) {
				c->parent = next_free;
				next_free = c;
			}
		}
		struct tmpfs *fs = n->fs;
		free(n);
		if (--fs->nodes == 0 && fs->released)
			free(fs);
		n = next_free;
	}
}

struct tnode *tnode_lookup(struct tnode *dir, const char *name)
{
	for (struct tdirent *d = dir->ents; d; d = d->next)
		if (strcmp(d->name, name) == 0)
			return d->node;
	return NULL;
}

void tnode_touch(struct tnode *n, bool mtime)
{
	n->ctime = vfs_now();
	if (mtime)
		n->mtime = n->ctime;
}

long tnode_link(struct tnode *dir, const char *name, struct tnode *n)
{
	struct tdirent *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->name = strdup(name);
	if (!d->name) {
		free(d);
		return -ENOMEM;
	}
	d->node = n;
	tnode_ref(n);
	n->nlink++;
	if (S_ISDIR(n->mode)) {
		n->parent = dir;
		n->nlink++; /* its own "." */
		dir->nlink++; /* its ".." */
	}
	if (dir->ents_tail)
		dir->ents_tail->next = d;
	else
		dir->ents = d;
	dir->ents_tail = d;
	tnode_touch(dir, true);
	return 0;
}

long tnode_unlink(struct tnode *dir, const char *name)
{
	struct tdirent *prev = NULL;
	for (struct tdirent *d = dir->ents; d; prev = d, d = d->next) {
		if (strcmp(d->name, name) != 0)
			continue;
		if (prev)
			prev->next = d->next;
		else
			dir->ents = d->next;
		if (dir->ents_tail == d)
			dir->ents_tail = prev;
		struct tnode *n = d->node;
		n->nlink--;
		if (S_ISDIR(n->mode)) {
			n->nlink = 0;
			n->parent = NULL;
			dir->nlink--;
		}
		tnode_touch(n, false);
		tnode_touch(dir, true);
		free(d->name);
		free(d);
		tnode_unref(n);
		return 0;
	}
	return -ENOENT;
}

bool tnode_dir_empty(const struct tnode *dir, bool (*ignore)(const struct tnode *n))
{
	for (const struct tdirent *d = dir->ents; d; d = d->next)
		if (!ignore || !ignore(d->node))
			return false;
	return true;
}

void tnode_getattr(const struct tnode *n, struct linux_statx *out)
{
	memset(out, 0, sizeof(*out));
	out->stx_mask = LINUX_STATX_BASIC_STATS | LINUX_STATX_BTIME;
	out->stx_blksize = 4096;
	out->stx_nlink = n->nlink;
	out->stx_uid = n->uid;
	out->stx_gid = n->gid;
	out->stx_mode = (uint16_t)n->mode;
	out->stx_ino = n->ino;
	out->stx_atime = n->atime;
	out->stx_mtime = n->mtime;
	out->stx_ctime = n->ctime;
	out->stx_btime = n->btime;
	out->stx_dev_major = 0;
	out->stx_dev_minor = n->fs->minor;
	if (S_ISCHR(n->mode) || S_ISBLK(n->mode)) {
		out->stx_rdev_major = (uint32_t)((n->rdev >> 8) & 0xfff) | (uint32_t)((n->rdev >> 32) & ~0xfffULL);
		out->stx_rdev_minor = (uint32_t)(n->rdev & 0xff) | (uint32_t)((n->rdev >> 12) & ~0xffULL);
	}
	if (S_ISREG(n->mode)) {
		out->stx_size = n->size;
		out->stx_blocks = n->npages * (WARD_PAGE_SIZE / 512);
		/* The segment is sparse: count what the size covers. */
		if (n->seg)
			out->stx_blocks += WARD_PAGE_ALIGN_UP(WARD_MIN(n->size, n->seg->len)) / 512;
	} else if (S_ISLNK(n->mode)) {
		out->stx_size = strlen(n->target);
	} else if (S_ISDIR(n->mode)) {
		/* What tmpfs reports: 20 bytes an entry and 40 more. */
		uint64_t count = 0;
		for (const struct tdirent *d = n->ents; d; d = d->next)
			count++;
		out->stx_size = 40 + 20 * count;
	}
}

long tnode_setattr(struct tnode *n, const struct vattr *a)
{
	if (a->valid & VATTR_SIZE) {
		long r = tnode_truncate(n, a->size);
		if (r < 0)
			return r;
	}
	if ((a->valid & VATTR_MODE) && (n->seals & TMPFS_SEAL_EXEC) && ((n->mode ^ a->mode) & 0111))
		return -EPERM;
	if (a->valid & VATTR_MODE)
		n->mode = (n->mode & S_IFMT) | (a->mode & 07777);
	if (a->valid & VATTR_UID)
		n->uid = a->uid;
	if (a->valid & VATTR_GID)
		n->gid = a->gid;
	if (a->valid & VATTR_ATIME)
		n->atime = a->atime;
	if (a->valid & VATTR_MTIME)
		n->mtime = a->mtime;
	n->ctime = vfs_now();
	return 0;
}

static uint8_t *page_at(struct tnode *n, uint64_t idx, bool create)
{
	size_t l = (size_t)(idx / TMPFS_LEAF), i = (size_t)(idx % TMPFS_LEAF);
	if (l >= n->nleaves) {
		if (!create)
			return NULL;
		size_t cap = n->nleaves ? n->nleaves : 1;
		while (cap <= l)
			cap *= 2;
		uint8_t ***leaves = realloc(n->leaves, cap * sizeof(*leaves));
		if (!leaves)
			return NULL;
		memset(leaves + n->nleaves, 0, (cap - n->nleaves) * sizeof(*leaves));
		n->leaves = leaves;
		n->nleaves = cap;
	}
	if (!n->leaves[l]) {
		if (!create)
			return NULL;
		n->leaves[l] = calloc(TMPFS_LEAF, sizeof(uint8_t *));
		if (!n->leaves[l])
			return NULL;
	}
	if (!n->leaves[l][i] && create) {
		/* size=: a full tmpfs takes no more pages (ENOSPC). */
		if (n->fs->max_pages && n->fs->pages >= n->fs->max_pages)
			return NULL;
		n->leaves[l][i] = calloc(1, WARD_PAGE_SIZE);
		if (n->leaves[l][i]) {
			n->npages++;
			n->fs->pages++;
		}
	}
	return n->leaves[l][i];
}

long tnode_read(struct tnode *n, void *buf, size_t len, uint64_t off)
{
	if (off >= n->size)
		return 0;
	len = (size_t)WARD_MIN((uint64_t)len, n->size - off);
	size_t done = 0;
	while (done < len) {
		uint64_t p = off + done;
		size_t in = (size_t)(p % WARD_PAGE_SIZE);
		size_t chunk = WARD_MIN(len - done, WARD_PAGE_SIZE - in);
		if (n->seg && p < n->seg->len) {
			long r = ward_memfile_read(n->seg->off + p, (char *)buf + done, chunk);
			if (r < 0)
				return done ? (long)done : r;
			done += chunk;
			continue;
		}
		const uint8_t *page = page_at(n, p / WARD_PAGE_SIZE, false);
		if (page)
			memcpy((char *)buf + done, page + in, chunk);
		else
			memset((char *)buf + done, 0, chunk);
		done += chunk;
	}
	return (long)done;
}

long tnode_write(struct tnode *n, const void *buf, size_t len, uint64_t off)
{
	if (off > TMPFS_MAX_SIZE || len > TMPFS_MAX_SIZE - off)
		return -EFBIG;
	size_t done = 0;
	while (done < len) {
		uint64_t p = off + done;
		size_t in = (size_t)(p % WARD_PAGE_SIZE);
		size_t chunk = WARD_MIN(len - done, WARD_PAGE_SIZE - in);
		if (n->seg && p < n->seg->len) {
			if (ward_memfile_write(n->seg->off + p, (const char *)buf + done, chunk) < 0)
				break;
			done += chunk;
			continue;
		}
		uint8_t *page = page_at(n, p / WARD_PAGE_SIZE, true);
		if (!page)
			break;
		memcpy(page + in, (const char *)buf + done, chunk);
		done += chunk;
	}
	if (done == 0 && len)
		return -ENOSPC;
	if (off + done > n->size)
		n->size = off + done;
	if (done)
		tnode_touch(n, true);
	return (long)done;
}

long tnode_truncate(struct tnode *n, uint64_t size)
{
	if (size > TMPFS_MAX_SIZE)
		return -EFBIG;
	if ((size < n->size && (n->seals & TMPFS_SEAL_SHRINK)) || (size > n->size && (n->seals & TMPFS_SEAL_GROW)))
		return -EPERM;
	if (size < n->size && n->seg && size < n->seg->len)
		/* Shared maps see the cut part read as zeros again. */
		ward_memfile_zero(n->seg->off + size, (size_t)(WARD_MIN(n->size, n->seg->len) - size));
	if (size < n->size) {
		/* Zero the tail of the last page kept, free the rest. */
		uint64_t keep = WARD_PAGE_ALIGN_UP(size) / WARD_PAGE_SIZE;
		if (size % WARD_PAGE_SIZE) {
			uint8_t *page = page_at(n, size / WARD_PAGE_SIZE, false);
			if (page)
				memset(page + size % WARD_PAGE_SIZE, 0, WARD_PAGE_SIZE - size % WARD_PAGE_SIZE);
		}
		tnode_free_pages(n, keep);
	}
	n->size = size;
	tnode_touch(n, true);
	return 0;
}

/* Extended attributes. */

static struct txattr **xattr_slot(struct tnode *n, const char *name)
{
	struct txattr **pp = &n->xattrs;
	while (*pp && strcmp((*pp)->name, name) < 0)
		pp = &(*pp)->next;
	return pp;
}

long tnode_xattr_get(struct tnode *n, const char *name, void *buf, size_t size)
{
	struct txattr *x = *xattr_slot(n, name);
	if (!x || strcmp(x->name, name) != 0)
		return -ENODATA;
	if (size == 0)
		return (long)x->size;
	if (size < x->size)
		return -ERANGE;
	memcpy(buf, x->val, x->size);
	return (long)x->size;
}

long tnode_xattr_set(struct tnode *n, const char *name, const void *val, size_t size, int flags)
{
	struct txattr **pp = xattr_slot(n, name);
	struct txattr *x = *pp && strcmp((*pp)->name, name) == 0 ? *pp : NULL;
	if (x && (flags & 1 /* XATTR_CREATE */))
		return -EEXIST;
	if (!x && (flags & 2 /* XATTR_REPLACE */))
		return -ENODATA;
	void *copy = malloc(size ? size : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, val, size);
	if (!x) {
		x = calloc(1, sizeof(*x));
		if (!x || !(x->name = strdup(name))) {
			free(x);
			free(copy);
			return -ENOMEM;
		}
		x->next = *pp;
		*pp = x;
	}
	free(x->val);
	x->val = copy;
	x->size = size;
	tnode_touch(n, false);
	return 0;
}

long tnode_xattr_list(struct tnode *n, char *buf, size_t size, bool trusted)
{
	size_t need = 0;
	for (struct txattr *x = n->xattrs; x; x = x->next) {
		if (!trusted && strncmp(x->name, "trusted.", 8) == 0)
			continue;
		size_t len = strlen(x->name) + 1;
		if (size && need + len > size)
			return -ERANGE;
		if (size)
			memcpy(buf + need, x->name, len);
		need += len;
	}
	return (long)need;
}

long tnode_xattr_remove(struct tnode *n, const char *name)
{
	struct txattr **pp = xattr_slot(n, name);
	struct txattr *x = *pp;
	if (!x || strcmp(x->name, name) != 0)
		return -ENODATA;
	*pp = x->next;
	free(x->name);
	free(x->val);
	free(x);
	tnode_touch(n, false);
	return 0;
}

/* Moves the table's pages in [from, to) (page indexes) into the
 * segment. */
static void seg_adopt(struct tnode *n, uint64_t from, uint64_t to)
{
	for (uint64_t idx = from; idx < to && idx / TMPFS_LEAF < n->nleaves; idx++) {
		uint8_t **leaf = n->leaves[idx / TMPFS_LEAF];
		if (!leaf) {
			idx |= TMPFS_LEAF - 1;
			continue;
		}
		uint8_t **slot = &leaf[idx % TMPFS_LEAF];
		if (!*slot)
			continue;
		ward_memfile_write(n->seg->off + idx * WARD_PAGE_SIZE, *slot, WARD_PAGE_SIZE);
		free(*slot);
		*slot = NULL;
		n->npages--;
		/* The segment's pages are not counted against size=. */
		n->fs->pages--;
	}
}

/* Makes the segment cover at least [0, end): it is made, or grown in
 * place (a shared map's pages cannot move). */
static long seg_ensure(struct tnode *n, uint64_t end)
{
	if (end > TMPFS_MAX_SIZE)
		return -EFBIG;
	uint64_t want = WARD_PAGE_ALIGN_UP(WARD_MAX(end, n->size));
	uint64_t have = n->seg ? n->seg->len : 0;
	if (n->seg && have >= want)
		return 0;
	uint64_t len = (want - have + TMPFS_SEG_STEP - 1) / TMPFS_SEG_STEP * TMPFS_SEG_STEP;
	if (n->seg) {
		if (ward_memfile_alloc_at(n->seg->off + have, len) < 0)
			return -ENOMEM;
		n->seg->len += len;
	} else {
		struct shm_backing *s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		long r = ward_memfile_alloc(len, &s->off);
		if (r < 0) {
			free(s);
			return r;
		}
		s->len = len;
		s->refs = 1; /* the node's */
		n->seg = s;
	}
	seg_adopt(n, have / WARD_PAGE_SIZE, n->seg->len / WARD_PAGE_SIZE);
	/* Every shared map's pages must lie inside the segment. */
	return n->seg->len >= end ? 0 : -ENOMEM;
}

void tmpfs_statfs_fill(struct linux_statfs *out)
{
	vfs_synthetic_statfs(VFS_TMPFS_MAGIC, out);
	uint64_t total = 0, free_bytes = 0;
	if (ward_host_meminfo(&total, &free_bytes) >= 0) {
		/* tmpfs's default size: half of memory. */
		out->f_blocks = total / 2 / 4096;
		out->f_bfree = out->f_bavail = free_bytes / 2 / 4096;
		out->f_files = total / 2 / 4096;
		out->f_ffree = out->f_files;
	}
	out->f_flags = VFS_ST_VALID | 0x1000; /* ST_RELATIME */
}

/* Files. */

struct tfile {
	struct tnode *n;
	struct vfs_dirlist list;
};

static struct tnode *tf_node(struct file *f)
{
	return ((struct tfile *)f->priv)->n;
}

static long tmpfs_read(struct file *f, void *buf, size_t len, uint64_t *pos)
{
	struct tnode *n = tf_node(f);
	if (S_ISDIR(n->mode))
		return -EISDIR;
	vfs_fs_lock();
	long r = tnode_read(n, buf, len, *pos);
	if (r > 0) {
		*pos += (uint64_t)r;
		/* relatime */
		if (!(f->flags & O_NOATIME) &&
		    (n->atime.tv_sec < n->mtime.tv_sec ||
		     (n->atime.tv_sec == n->mtime.tv_sec && n->atime.tv_nsec <= n->mtime.tv_nsec) ||
		     n->atime.tv_sec < n->ctime.tv_sec || vfs_now().tv_sec - n->atime.tv_sec >= 86400))
			n->atime = vfs_now();
	}
	vfs_fs_unlock();
	return r;
}

static long tmpfs_write(struct file *f, const void *buf, size_t len, uint64_t *pos)
{
	struct tnode *n = tf_node(f);
	vfs_fs_lock();
	if (f->flags & O_APPEND)
		*pos = n->size;
	if (n->seals & (TMPFS_SEAL_WRITE | TMPFS_SEAL_FUTURE_WRITE)) {
		vfs_fs_unlock();
		return -EPERM;
	}
	if ((n->seals & TMPFS_SEAL_GROW) && len > n->size - WARD_MIN(*pos, n->size)) {
		/* What fits below the size is written; none past it. */
		if (*pos >= n->size) {
			vfs_fs_unlock();
			return -EPERM;
		}
		len = (size_t)(n->size - *pos);
	}
	long r = tnode_write(n, buf, len, *pos);
	if (r > 0) {
		*pos += (uint64_t)r;
		/* A write by anyone but root drops set-user-ID. */
		n->mode &= ~(uint32_t)S_ISUID;
		if ((n->mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
			n->mode &= ~(uint32_t)S_ISGID;
	}
	vfs_fs_unlock();
	return r;
}

static long tmpfs_seek(struct file *f, int64_t off, int whence)
{
	vfs_fs_lock();
	uint64_t size = tf_node(f)->size;
	vfs_fs_unlock();
	return vfs_generic_seek(f, off, whence, size);
}

static long tmpfs_getattr(struct file *f, struct linux_statx *out)
{
	vfs_fs_lock();
	tnode_getattr(tf_node(f), out);
	vfs_fs_unlock();
	return 0;
}

static long tmpfs_mmap_fill(struct file *f, uint64_t memfile_off, uint64_t file_off, size_t len)
{
	struct tnode *n = tf_node(f);
	cleanup_free uint8_t *page = malloc(WARD_PAGE_SIZE);
	if (!page)
		return -ENOMEM;
	size_t done = 0;
	long r = 0;
	vfs_fs_lock();
	while (done < len && r >= 0) {
		size_t chunk = WARD_MIN(len - done, WARD_PAGE_SIZE);
		long got = tnode_read(n, page, chunk, file_off + done);
		if (got < (long)chunk)
			memset(page + (got > 0 ? got : 0), 0, chunk - (size_t)(got > 0 ? got : 0));
		r = ward_memfile_write(memfile_off + done, page, chunk);
		done += chunk;
	}
	vfs_fs_unlock();
	return r < 0 ? r : 0;
}

static long tmpfs_mmap_shared(struct file *f, uint64_t end, bool writable, struct shm_backing **out)
{
	struct tnode *n = tf_node(f);
	long r = 0;
	vfs_fs_lock();
	if (writable && (n->seals & (TMPFS_SEAL_WRITE | TMPFS_SEAL_FUTURE_WRITE)))
		r = -EPERM;
	if (r >= 0)
		r = seg_ensure(n, end);
	if (r >= 0) {
		n->seg->refs++;
		*out = n->seg;
	}
	vfs_fs_unlock();
	return r;
}

static long tmpfs_fstatfs(struct file *f, struct linux_statfs *out)
{
	tmpfs_statfs_fill(out);
	return 0;
}

static long tmpfs_dir_read(struct file *f, void *buf, size_t len, uint64_t *pos)
{
	return -EISDIR;
}

static long tmpfs_getdents(struct file *f, void *buf, size_t len)
{
	struct tfile *tf = f->priv;
	if (f->pos == 0 || !tf->list.e) {
		vfs_dirlist_free(&tf->list);
		vfs_fs_lock();
		struct tnode *n = tf->n;
		long r = vfs_dirlist_add(&tf->list, ".", n->ino, 4);
		if (r >= 0)
			r = vfs_dirlist_add(&tf->list, "..", n->parent ? n->parent->ino : n->ino, 4);
		for (struct tdirent *d = n->ents; d && r >= 0; d = d->next)
			r = vfs_dirlist_add(&tf->list, d->name, d->node->ino, vfs_dtype(d->node->mode));
		vfs_fs_unlock();
		if (r < 0)
			return r;
	}
	return vfs_dirlist_getdents(&tf->list, f, buf, len);
}

static long tmpfs_dir_seek(struct file *f, int64_t off, int whence)
{
	return vfs_generic_seek(f, off, whence, INT64_MAX);
}

static void tmpfs_release(struct file *f)
{
	struct tfile *tf = f->priv;
	vfs_dirlist_free(&tf->list);
	vfs_fs_lock();
	tnode_unref(tf->n);
	vfs_fs_unlock();
	free(tf);
}

static const struct file_ops tmpfs_reg_fops = {
	.read_buf = tmpfs_read,
	.write_buf = tmpfs_write,
	.seek = tmpfs_seek,
	.getattr = tmpfs_getattr,
	.mmap_fill = tmpfs_mmap_fill,
	.mmap_shared = tmpfs_mmap_shared,
	.statfs = tmpfs_fstatfs,
	.release = tmpfs_release,
};

static const struct file_ops tmpfs_dir_fops = {
	.read_buf = tmpfs_dir_read,
	.seek = tmpfs_dir_seek,
	.getattr = tmpfs_getattr,
	.getdents_buf = tmpfs_getdents,
	.statfs = tmpfs_fstatfs,
	.release = tmpfs_release,
};

static const struct file_ops tmpfs_path_fops = {
	.getattr = tmpfs_getattr,
	.statfs = tmpfs_fstatfs,
	.release = tmpfs_release,
};

long tmpfs_open_node(struct tnode *n, int flags, const char *path, struct file **out)
{
	const struct file_ops *ops;
	if (flags & O_PATH)
		ops = &tmpfs_path_fops;
	else if (S_ISDIR(n->mode))
		ops = &tmpfs_dir_fops;
	else if (S_ISREG(n->mode))
		ops = &tmpfs_reg_fops;
	else if (S_ISFIFO(n->mode))
		return -ENXIO; /* fifo I/O is not supported yet */
	else if (S_ISSOCK(n->mode))
		return -ENXIO;
	else
		return -ENXIO; /* device nodes open nothing in a sandbox */
	struct tfile *tf = calloc(1, sizeof(*tf));
	if (!tf)
		return -ENOMEM;
	struct file *f = file_alloc(ops, (uint32_t)flags, path, tf);
	if (!f) {
		free(tf);
		return -ENOMEM;
	}
	vfs_fs_lock();
	tf->n = n;
	tnode_ref(n);
	vfs_fs_unlock();
	*out = f;
	return 0;
}

/* Vnodes: priv is the node, with a reference. */

static struct tnode *vn_node(struct vnode *v)
{
	return v->priv;
}

static const struct vnode_ops tmpfs_vn_ops;

static long tmpfs_vnode(struct tnode *n, struct vmount *mnt, struct vnode **out)
{
	struct vnode *v = vnode_alloc(&tmpfs_vn_ops, mnt, n->mode & S_IFMT, n);
	if (!v)
		return -ENOMEM;
	tnode_ref(n);
	*out = v;
	return 0;
}

static long tmpfs_vn_lookup(struct vnode *dir, const char *name, struct vnode **out)
{
	vfs_fs_lock();
	struct tnode *n = tnode_lookup(vn_node(dir), name);
	long r = n ? tmpfs_vnode(n, dir->mnt, out) : -ENOENT;
	vfs_fs_unlock();
	return r;
}

static long tmpfs_vn_getattr(struct vnode *v, struct linux_statx *out)
{
	vfs_fs_lock();
	tnode_getattr(vn_node(v), out);
	vfs_fs_unlock();
	return 0;
}

static long tmpfs_vn_setattr(struct vnode *v, const struct vattr *a)
{
	vfs_fs_lock();
	long r = tnode_setattr(vn_node(v), a);
	vfs_fs_unlock();
	return r;
}

static long tmpfs_vn_readlink(struct vnode *v, char *buf, size_t len)
{
	vfs_fs_lock();
	const char *target = vn_node(v)->target;
	size_t n = target ? WARD_MIN(strlen(target), len) : 0;
	if (target)
		memcpy(buf, target, n);
	vfs_fs_unlock();
	return target ? (long)n : -EINVAL;
}

static long tmpfs_vn_open(struct vnode *v, int flags, const char *path, struct file **out)
{
	return tmpfs_open_node(vn_node(v), flags, path, out);
}

/* A new node of the directory's file system; setgid directories pass
 * their group (and, to directories, the bit) on. */
static struct tnode *new_child(struct tnode *dir, uint32_t mode, const struct vfs_owner *o)
{
	uint32_t gid = o->gid;
	if (dir->mode & S_ISGID) {
		gid = dir->gid;
		if (S_ISDIR(mode))
			mode |= S_ISGID;
	}
	return tnode_new(dir->fs, mode, o->uid, gid);
}

static long tmpfs_vn_create(struct vnode *dir, const char *name, uint32_t mode, uint64_t rdev,
			    const struct vfs_owner *o, struct vnode **out)
{
	struct tnode *d = vn_node(dir);
	long r;
	vfs_fs_lock();
	if (d->nlink == 0) {
		/* A removed directory takes no new entries. */
		r = -ENOENT;
	} else if (tnode_lookup(d, name)) {
		r = -EEXIST;
	} else {
		struct tnode *n = new_child(d, mode, o);
		if (!n) {
			r = -ENOMEM;
		} else {
			n->rdev = rdev;
			tnode_ref(n);
			r = tnode_link(d, name, n);
			if (r >= 0)
				r = tmpfs_vnode(n, dir->mnt, out);
			tnode_unref(n);
		}
	}
	vfs_fs_unlock();
	return r;
}

static long tmpfs_vn_symlink(struct vnode *dir, const char *name, const char *target, const struct vfs_owner *o)
{
	struct tnode *d = vn_node(dir);
	long r;
	vfs_fs_lock();
	if (tnode_lookup(d, name)) {
		r = -EEXIST;
	} else {
		struct tnode *n = tnode_new(d->fs, S_IFLNK | 0777, o->uid, (d->mode & S_ISGID) ? d->gid : o->gid);
		if (n)
			n->target = strdup(target);
		if (!n || !n->target) {
			free(n);
			r = -ENOMEM;
		} else {
			tnode_ref(n);
			r = tnode_link(d, name, n);
			tnode_unref(n);
		}
	}
	vfs_fs_unlock();
	return r;
}

static long tmpfs_vn_link(struct vnode *dir, const char *name, struct vnode *src)
{
	struct tnode *d = vn_node(dir), *n = vn_node(src);
	long r;
	vfs_fs_lock();
	if (tnode_lookup(d, name))
		r = -EEXIST;
	else if (n->nlink == 0 && !n->linkable)
		r = -ENOENT;
	else
		r = tnode_link(d, name, n);
	if (r >= 0)
		n->linkable = false;
	if (r >= 0)
		tnode_touch(n, false);
	vfs_fs_unlock();
	return r;
}

static long tmpfs_vn_unlink(struct vnode *dir, const char *name, bool is_dir)
{
	struct tnode *d = vn_node(dir);
	long r;
	vfs_fs_lock();
	struct tnode *n = tnode_lookup(d, name);
	if (!n)
		r = -ENOENT;
	else if (is_dir && !tnode_dir_empty(n, NULL))
		r = -ENOTEMPTY;
	else
		r = tnode_unlink(d, name);
	vfs_fs_unlock();
	return r;
}

/* Moves the entry oname of od to nname of nd, replacing what is there
 * (the checks are done). Under the lock. */
static long tmpfs_move(struct tnode *od, const char *oname, struct tnode *nd, const char *nname)
{
	struct tnode *n = tnode_lookup(od, oname);
	tnode_ref(n);
	long r = 0;
	if (tnode_lookup(nd, nname))
		r = tnode_unlink(nd, nname);
	if (r >= 0)
		r = tnode_unlink(od, oname);
	if (r >= 0)
		r = tnode_link(nd, nname, n);
	if (r >= 0)
		tnode_touch(n, false);
	tnode_unref(n);
	return r;
}

static long tmpfs_vn_rename(struct vnode *odir, const char *oname, struct vnode *ndir, const char *nname,
			    unsigned int flags)
{
	struct tnode *od = vn_node(odir), *nd = vn_node(ndir);
	long r = 0;
	vfs_fs_lock();
	struct tnode *on = tnode_lookup(od, oname), *nn = tnode_lookup(nd, nname);
	if (!on) {
		r = -ENOENT;
	} else if (on == nn) {
		r = 0; /* two names of one file: nothing happens */
	} else if (flags & 0x2 /* RENAME_EXCHANGE */) {
		tnode_ref(on);
		tnode_ref(nn);
		r = tnode_unlink(od, oname);
		if (r >= 0)
			r = tnode_unlink(nd, nname);
		if (r >= 0)
			r = tnode_link(nd, nname, on);
		if (r >= 0)
			r = tnode_link(od, oname, nn);
		tnode_unref(on);
		tnode_unref(nn);
	} else {
		if (nn && S_ISDIR(nn->mode) && !tnode_dir_empty(nn, NULL))
			r = -ENOTEMPTY;
		if (r >= 0)
			r = tmpfs_move(od, oname, nd, nname);
	}
	vfs_fs_unlock();
	return r;
}

static long tmpfs_vn_tmpfile(struct vnode *dir, uint32_t mode, const struct vfs_owner *o, bool linkable,
			     struct vnode **out)
{
	vfs_fs_lock();
	struct tnode *n = new_child(vn_node(dir), mode, o);
	long r = n ? tmpfs_vnode(n, dir->mnt, out) : -ENOMEM;
	if (n && r < 0)
		free(n);
	if (r >= 0)
		n->linkable = linkable;
	vfs_fs_unlock();
	return r;
}

static long tmpfs_vn_statfs(struct vnode *v, struct linux_statfs *out)
{
	tmpfs_statfs_fill(out);
	vfs_fs_lock();
	struct tmpfs *fs = vn_node(v)->fs;
	if (fs->max_pages) {
		out->f_blocks = fs->max_pages;
		out->f_bfree = out->f_bavail = fs->max_pages - WARD_MIN(fs->pages, fs->max_pages);
	}
	vfs_fs_unlock();
	return 0;
}

static long tmpfs_vn_bind_root(struct vnode *v, struct vmount *mnt, struct vnode **out)
{
	vfs_fs_lock();
	long r = tmpfs_vnode(vn_node(v), mnt, out);
	vfs_fs_unlock();
	return r;
}

static long tmpfs_vn_xattr_get(struct vnode *v, const char *name, void *buf, size_t size)
{
	vfs_fs_lock();
	long r = tnode_xattr_get(vn_node(v), name, buf, size);
	vfs_fs_unlock();
	return r;
}

static long tmpfs_vn_xattr_set(struct vnode *v, const char *name, const void *val, size_t size, int flags)
{
	vfs_fs_lock();
	long r = tnode_xattr_set(vn_node(v), name, val, size, flags);
	vfs_fs_unlock();
	return r;
}

static long tmpfs_vn_xattr_list(struct vnode *v, char *buf, size_t size, bool trusted)
{
	vfs_fs_lock();
	long r = tnode_xattr_list(vn_node(v), buf, size, trusted);
	vfs_fs_unlock();
	return r;
}

static long tmpfs_vn_xattr_remove(struct vnode *v, const char *name)
{
	vfs_fs_lock();
	long r = tnode_xattr_remove(vn_node(v), name);
	vfs_fs_unlock();
	return r;
}

static void tmpfs_vn_release(struct vnode *v)
{
	vfs_fs_lock();
	tnode_unref(vn_node(v));
	vfs_fs_unlock();
}

static const struct vnode_ops tmpfs_vn_ops = {
	.lookup = tmpfs_vn_lookup,
	.getattr = tmpfs_vn_getattr,
	.setattr = tmpfs_vn_setattr,
	.read_link = tmpfs_vn_readlink,
	.open_file = tmpfs_vn_open,
	.create = tmpfs_vn_create,
	.make_symlink = tmpfs_vn_symlink,
	.make_link = tmpfs_vn_link,
	.remove = tmpfs_vn_unlink,
	.move = tmpfs_vn_rename,
	.statfs = tmpfs_vn_statfs,
	.bind_root = tmpfs_vn_bind_root,
	.release = tmpfs_vn_release,
	.xattr_get = tmpfs_vn_xattr_get,
	.xattr_set = tmpfs_vn_xattr_set,
	.xattr_list = tmpfs_vn_xattr_list,
	.xattr_remove = tmpfs_vn_xattr_remove,
	.tmpfile = tmpfs_vn_tmpfile,
};

long tmpfs_create(bool sticky, struct vmount *mnt, struct vnode **out)
{
	struct tmpfs *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->minor = vfs_anon_minor();
	fs->next_ino = 1;
	fs->sealable = true;
	struct tnode *root = tnode_new(fs, S_IFDIR | (sticky ? 01777 : 0755), 0, 0);
	if (!root) {
		free(fs);
		return -ENOMEM;
	}
	root->nlink = 2;
	root->refs = 1; /* the mount's */
	fs->root_mode = sticky ? 01777 : 0755;
	long r = tmpfs_vnode(root, mnt, out);
	if (r < 0) {
		free(root);
		free(fs);
	}
	return r;
}

/* memparse(): a number with an optional k, m, g, t, p or e suffix. */
static long parse_size(const char *v, struct tmpfs_opts *o)
{
	char *end;
	if (!isdigit((unsigned char)v[0]))
		return -EINVAL;
	unsigned long long n = strtoull(v, &end, 0);
	if (*end == '%') {
		/* A share of memory, as tmpfs computes it. */
		uint64_t total = 0, free_bytes = 0;
		if (end[1] || ward_host_meminfo(&total, &free_bytes) < 0)
			return -EINVAL;
		o->max_bytes = total / 100 * n;
		return o->max_bytes ? 0 : -EINVAL;
	}
	static const char units[] = "kmgtpe";
	if (*end) {
		const char *u = strchr(units, tolower((unsigned char)*end));
		if (!u || end[1])
			return -EINVAL;
		for (const char *k = units; k <= u; k++) {
			if (n > UINT64_MAX / 1024)
				return -EINVAL;
			n *= 1024;
		}
	}
	o->max_bytes = n;
	/* size=0 means no limit, as in tmpfs. */
	return 0;
}

static long parse_u32(const char *v, int base, uint32_t *out)
{
	char *end;
	if (!v[0])
		return -EINVAL;
	unsigned long long n = strtoull(v, &end, base);
	if (*end || n > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)n;
	return 0;
}

long tmpfs_parse_opts(const char *data, struct tmpfs_opts *o)
{
	if (!data)
		return 0;
	cleanup_free char *copy = strdup(data);
	if (!copy)
		return -ENOMEM;
	char *save = NULL;
	for (char *opt = strtok_r(copy, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		char *val = strchr(opt, '=');
		if (val)
			*val++ = '\0';
		long r;
		if (strcmp(opt, "size") == 0 && val)
			r = parse_size(val, o);
		else if (strcmp(opt, "mode") == 0 && val)
			r = parse_u32(val, 8, &o->mode);
		else if (strcmp(opt, "uid") == 0 && val)
			r = parse_u32(val, 0, &o->uid);
		else if (strcmp(opt, "gid") == 0 && val)
			r = parse_u32(val, 0, &o->gid);
		else
			r = -EINVAL; /* tmpfs: Unknown parameter */
		if (r < 0)
			return r;
	}
	if (o->mode != (uint32_t)-1)
		o->mode &= 07777;
	return 0;
}

static uint64_t pages_of(uint64_t bytes)
{
	return bytes / WARD_PAGE_SIZE + (bytes % WARD_PAGE_SIZE != 0);
}

long tmpfs_create_opts(const struct tmpfs_opts *o, struct vmount *mnt, struct vnode **out)
{
	long r = tmpfs_create(true, mnt, out);
	if (r < 0)
		return r;
	vfs_fs_lock();
	struct tnode *root = vn_node(*out);
	root->mode = S_IFDIR | o->mode;
	root->uid = o->uid;
	root->gid = o->gid;
	root->fs->root_mode = o->mode;
	root->fs->uid = o->uid;
	root->fs->gid = o->gid;
	root->fs->max_pages = pages_of(o->max_bytes);
	root->fs->sized = o->max_bytes != 0;
	vfs_fs_unlock();
	return 0;
}

long tmpfs_remount(struct vnode *root, const struct tmpfs_opts *o)
{
	long r = 0;
	vfs_fs_lock();
	struct tnode *n = vn_node(root);
	struct tmpfs *fs = n->fs;
	if (o->max_bytes) {
		uint64_t pages = pages_of(o->max_bytes);
		if (pages < fs->pages) {
			r = -EINVAL; /* tmpfs: Too small a size for current use */
		} else {
			fs->max_pages = pages;
			fs->sized = true;
		}
	}
	/* mode=, uid= and gid= change the root on remount too. */
	if (r >= 0 && o->mode != (uint32_t)-1) {
		n->mode = (n->mode & S_IFMT) | o->mode;
		fs->root_mode = o->mode;
	}
	if (r >= 0 && o->uid != (uint32_t)-1)
		n->uid = fs->uid = o->uid;
	if (r >= 0 && o->gid != (uint32_t)-1)
		n->gid = fs->gid = o->gid;
	vfs_fs_unlock();
	return r;
}

void *tmpfs_fs_of(struct vnode *root)
{
	return vn_node(root);
}

void tmpfs_release_fs(void *fs_handle)
{
	vfs_fs_lock();
	struct tnode *root = fs_handle;
	/* The tmpfs struct goes with its last node. */
	root->fs->released = true;
	tnode_unref(root); /* the mount's reference (tmpfs_create) */
	vfs_fs_unlock();
}

char *tmpfs_show_opts(struct vnode *root)
{
	char buf[128] = "";
	size_t used = 0;
	vfs_fs_lock();
	struct tmpfs *fs = vn_node(root)->fs;
	if (fs->sized)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, ",size=%" PRIu64 "k",
					 fs->max_pages * (WARD_PAGE_SIZE / 1024));
	if (fs->root_mode != 01777)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, ",mode=%03o", fs->root_mode);
	if (fs->uid)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, ",uid=%u", fs->uid);
	if (fs->gid)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, ",gid=%u", fs->gid);
	vfs_fs_unlock();
	return used ? strdup(buf + 1) : NULL;
}

struct tnode *tmpfs_file_node(struct file *f)
{
	if (f->ops != &tmpfs_reg_fops && f->ops != &tmpfs_dir_fops && f->ops != &tmpfs_path_fops)
		return NULL;
	return tf_node(f);
}

long tmpfs_get_seals(struct file *f)
{
	struct tnode *n = tmpfs_file_node(f);
	if (!n || !n->fs->sealable || !S_ISREG(n->mode))
		return -EINVAL;
	vfs_fs_lock();
	long r = n->seals;
	vfs_fs_unlock();
	return r;
}

/* memfd_add_seals, in its order of checks. */
long tmpfs_add_seals(struct file *f, uint32_t seals)
{
	int acc = (int)(f->flags & O_ACCMODE);
	if (acc != O_WRONLY && acc != O_RDWR)
		return -EPERM;
	if (seals & ~(uint32_t)TMPFS_SEAL_ALL)
		return -EINVAL;
	struct tnode *n = tmpfs_file_node(f);
	if (!n || !n->fs->sealable || !S_ISREG(n->mode))
		return -EINVAL;
	long r = 0;
	vfs_fs_lock();
	if (n->seals & TMPFS_SEAL_SEAL)
		r = -EPERM;
	/* Shared maps of the file may be writable: the node's own reference
	 * is the only one allowed. */
	else if ((seals & TMPFS_SEAL_WRITE) && !(n->seals & TMPFS_SEAL_WRITE) && n->seg && n->seg->refs > 1)
		r = -EBUSY;
	if (r >= 0) {
		/* SEAL_EXEC on an executable file implies the write seals: W^X. */
		if ((seals & TMPFS_SEAL_EXEC) && (n->mode & 0111))
			seals |= TMPFS_SEAL_SHRINK | TMPFS_SEAL_GROW | TMPFS_SEAL_WRITE | TMPFS_SEAL_FUTURE_WRITE;
		n->seals |= seals;
	}
	vfs_fs_unlock();
	return r;
}

/* memfd files: a tmpfs of their own that no path reaches. */
static struct tmpfs memfd_fs = { .sealable = true };
static struct vmount memfd_mnt = { .path = (char *)"/", .fstype = "tmpfs", .source = "tmpfs" };

long tmpfs_memfd_create(const char *path, uint32_t mode, const struct vfs_owner *o, uint32_t seals, struct file **out)
{
	vfs_fs_lock();
	if (!memfd_fs.minor) {
		memfd_fs.minor = vfs_anon_minor();
		memfd_fs.next_ino = 1;
	}
	struct tnode *n = tnode_new(&memfd_fs, S_IFREG | mode, o->uid, o->gid);
	struct vnode *v = NULL;
	long r = n ? tmpfs_vnode(n, &memfd_mnt, &v) : -ENOMEM;
	if (n && r < 0)
		free(n);
	if (r >= 0)
		n->seals = seals;
	vfs_fs_unlock();
	if (r < 0)
		return r;
	struct file *f;
	r = tmpfs_open_node(n, O_RDWR | VFS_O_LARGEFILE, path, &f);
	if (r < 0) {
		vnode_put(v);
		return r;
	}
	f->vn = v;
	*out = f;
	return 0;
}
