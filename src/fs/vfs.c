/* The VFS core: files, vnodes, the mount table and path resolution, and
 * the path-based operations of the *at(2) calls.
 *
 * The sentry resolves every guest path itself, one component at a time, in
 * the guest's view: each component is looked up by its directory's file
 * system (vnode_ops.lookup), then replaced by the root of a mount placed at
 * the resulting canonical path, if there is one. Host components are looked
 * up by hostfs and the overlay with ward_host_lookup, which never follows
 * symlinks nor leaves its directory; symlinks are read and followed here.
 *
 * A walk keeps the current vnode, the stack of the directories it came
 * through (so ".." returns to the parent it came from, crossing mount
 * points) and its canonical path. A walk that starts at a descriptor or the
 * working directory and goes above its start re-walks the canonical path
 * of the parent from the root. */
#include "sentry/service.h"

#include "fs/inotify.h"
#include "fs/locks.h"
#include "fs/pty.h"
#include "fs/vfs_internal.h"
#include "sentry/kernel/creds.h"
#include "sentry/kernel/task.h"

/* renameat2 flags (linux/fs.h). */
#define VFS_RENAME_NOREPLACE 0x1
#define VFS_RENAME_EXCHANGE 0x2
#define VFS_RENAME_WHITEOUT 0x4

static struct vmount *vfs_mounts; /* newest first */
static struct vmount *vfs_root_mount;
static struct linux_statx_timestamp vfs_boot;
static struct ward_mutex vfs_lock_m;
static uint32_t vfs_next_minor = 40;

#define WALK_FOLLOW 0x1 /* follow a symlink as the last component */
#define WALK_PARENT 0x2 /* stop before the last component */

struct walk_last {
	char name[VFS_NAME_MAX + 1];
	bool trailing_slash;
};

struct walk {
	struct task *t;
	const char *root; /* the task's root (chroot), canonical; "/" */
	struct vnode *cur;
	struct vnode **stk; /* the directories above cur, outermost first */
	size_t depth, cap;
	char canon[VFS_PATH_MAX];
	int links;
	/* openat2's RESOLVE_* flags; with BENEATH or IN_ROOT, the walk's
	 * root is the directory it started from, at stack depth
	 * scope_depth. */
	uint64_t resolve;
	size_t scope_depth;
};

#define WALK_SCOPED (VFS_RESOLVE_BENEATH | VFS_RESOLVE_IN_ROOT)

/* Locks and time. */

void vfs_fs_lock(void)
{
	ward_mutex_lock(&vfs_lock_m);
}

void vfs_fs_unlock(void)
{
	ward_mutex_unlock(&vfs_lock_m);
}

struct linux_statx_timestamp vfs_now(void)
{
	struct linux_timespec now;
	if (ward_host_clock_gettime(CLOCK_REALTIME, &now) < 0)
		return vfs_boot;
	return (struct linux_statx_timestamp){ .tv_sec = now.tv_sec, .tv_nsec = (uint32_t)now.tv_nsec };
}

uint32_t vfs_anon_minor(void)
{
	return __atomic_fetch_add(&vfs_next_minor, 1, __ATOMIC_RELAXED);
}

/* Vnodes. */

static void vmount_discard(struct vmount *m);

struct vnode *vnode_alloc(const struct vnode_ops *ops, struct vmount *mnt, uint32_t type, void *priv)
{
	struct vnode *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	/* A mount counts its live vnodes: umount2 is EBUSY while any but its
	 * root is alive, and a detached mount goes with its last one. */
	if (mnt)
		__atomic_add_fetch(&mnt->vnodes, 1, __ATOMIC_RELAXED);
	v->refcount = 1;
	v->ops = ops;
	v->mnt = mnt;
	v->type = type;
	v->priv = priv;
	return v;
}

struct vnode *vnode_get(struct vnode *v)
{
	if (v)
		__atomic_add_fetch(&v->refcount, 1, __ATOMIC_RELAXED);
	return v;
}

void vnode_put(struct vnode *v)
{
	if (!v)
		return;
	if (__atomic_sub_fetch(&v->refcount, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (v->ops->release)
		v->ops->release(v);
	struct vmount *m = v->mnt;
	free(v);
	if (m && __atomic_sub_fetch(&m->vnodes, 1, __ATOMIC_ACQ_REL) == 0 && m->detached)
		vmount_discard(m);
}

/* Files. */

struct file *file_alloc(const struct file_ops *ops, uint32_t flags, const char *path, void *priv)
{
	struct file *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->path = strdup(path ? path : "");
	if (!f->path) {
		free(f);
		return NULL;
	}
	f->ops = ops;
	f->refcount = 1;
	f->flags = flags;
	f->priv = priv;
	return f;
}

struct file *file_get(struct file *f)
{
	if (f)
		__atomic_add_fetch(&f->refcount, 1, __ATOMIC_RELAXED);
	return f;
}

void file_put(struct file *f)
{
	if (!f)
		return;
	if (__atomic_sub_fetch(&f->refcount, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (inotify_active()) {
		uint32_t acc = f->flags & O_ACCMODE;
		inotify_file_event(f, acc == O_WRONLY || acc == O_RDWR ? WARD_IN_CLOSE_WRITE : WARD_IN_CLOSE_NOWRITE);
	}
	locks_release_file(f);
	if (f->ops && f->ops->release)
		f->ops->release(f);
	vnode_put(f->vn);
	free(f->path);
	free(f);
}

long file_pread(struct file *f, void *buf, size_t len, uint64_t off)
{
	if (!f->ops->read_buf || fd_file_is_stream(f))
		return -EINVAL;
	/* The loader wants whole headers: read on until the end of file. */
	size_t got = 0;
	while (got < len) {
		uint64_t pos = off + got;
		long n = f->ops->read_buf(f, (char *)buf + got, len - got, &pos);
		if (n < 0)
			return got ? (long)got : n;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (long)got;
}

long file_getattr(struct file *f, struct linux_statx *out)
{
	memset(out, 0, sizeof(*out));
	if (f->ops->getattr)
		return f->ops->getattr(f, out);
	if (f->vn && f->vn->ops->getattr)
		return f->vn->ops->getattr(f->vn, out);
	return -EINVAL;
}

bool file_on_noexec(const struct file *f)
{
	return f->vn && f->vn->mnt && f->vn->mnt->noexec;
}

long vfs_generic_seek(struct file *f, int64_t off, int whence, uint64_t size)
{
	int64_t base;

	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = (int64_t)f->pos;
		break;
	case SEEK_END:
		base = (int64_t)size;
		break;
	case SEEK_DATA:
		if (off < 0 || (uint64_t)off >= size)
			return -ENXIO;
		f->pos = (uint64_t)off;
		return off;
	case SEEK_HOLE:
		if (off < 0 || (uint64_t)off >= size)
			return -ENXIO;
		f->pos = size;
		return (long)size;
	default:
		return -EINVAL;
	}
	int64_t pos;
	if (__builtin_add_overflow(base, off, &pos) || pos < 0)
		return -EINVAL;
	f->pos = (uint64_t)pos;
	return pos;
}

uint64_t vfs_makedev(uint32_t major, uint32_t minor)
{
	return (((uint64_t)major & 0xfffff000ULL) << 32) | (((uint64_t)major & 0xfffULL) << 8) |
	       (((uint64_t)minor & 0xffffff00ULL) << 12) | ((uint64_t)minor & 0xffULL);
}

long vfs_dirent_emit(void *buf, size_t len, size_t *used, uint64_t ino, int64_t off, uint8_t type, const char *name)
{
	size_t namelen = strlen(name);
	size_t reclen = (offsetof(struct linux_dirent64, d_name) + namelen + 1 + 7) & ~(size_t)7;
	if (*used + reclen > len)
		return -EINVAL;
	char *p = (char *)buf + *used;
	struct linux_dirent64 d = { .d_ino = ino, .d_off = off, .d_reclen = (uint16_t)reclen, .d_type = type };
	memset(p, 0, reclen);
	memcpy(p, &d, offsetof(struct linux_dirent64, d_name));
	memcpy(p + offsetof(struct linux_dirent64, d_name), name, namelen);
	*used += reclen;
	return 0;
}

uint8_t vfs_dtype(uint32_t mode)
{
	return (uint8_t)((mode & S_IFMT) >> 12);
}

long vfs_dirlist_add(struct vfs_dirlist *l, const char *name, uint64_t ino, uint8_t type)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct vfs_dirlist_ent *e = realloc(l->e, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		l->e = e;
		l->cap = cap;
	}
	char *copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	l->e[l->n++] = (struct vfs_dirlist_ent){ copy, ino, type };
	return 0;
}

bool vfs_dirlist_has(const struct vfs_dirlist *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->e[i].name, name) == 0)
			return true;
	return false;
}

void vfs_dirlist_free(struct vfs_dirlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	*l = (struct vfs_dirlist){ 0 };
}

long vfs_dirlist_getdents(struct vfs_dirlist *l, struct file *f, void *buf, size_t len)
{
	size_t used = 0;
	while (f->pos < l->n) {
		const struct vfs_dirlist_ent *e = &l->e[f->pos];
		long r = vfs_dirent_emit(buf, len, &used, e->ino, (int64_t)f->pos + 1, e->type, e->name);
		if (r < 0)
			return used ? (long)used : r;
		f->pos++;
	}
	return (long)used;
}

void vfs_synthetic_statfs(int64_t magic, struct linux_statfs *out)
{
	memset(out, 0, sizeof(*out));
	out->f_type = magic;
	out->f_bsize = 4096;
	out->f_namelen = VFS_NAME_MAX;
	out->f_frsize = 4096;
	out->f_flags = VFS_ST_VALID;
}

struct linux_statx_timestamp vfs_boot_time(void)
{
	return vfs_boot;
}

/* Canonical paths. */

long vfs_canon_push(char *canon, size_t cap, const char *name, size_t namelen)
{
	size_t len = strlen(canon);

	if (namelen == 0 || (namelen == 1 && name[0] == '.'))
		return 0;
	if (namelen == 2 && name[0] == '.' && name[1] == '.') {
		char *slash = strrchr(canon, '/');
		if (!slash || slash == canon)
			canon[1] = '\0';
		else
			*slash = '\0';
		if (!canon[0]) {
			canon[0] = '/';
			canon[1] = '\0';
		}
		return 0;
	}
	bool root = len == 1 && canon[0] == '/';
	size_t need = len + (root ? 0 : 1) + namelen + 1;
	if (need > cap)
		return -ENAMETOOLONG;
	if (!root)
		canon[len++] = '/';
	memcpy(canon + len, name, namelen);
	canon[len + namelen] = '\0';
	return 0;
}

long vfs_path_normalize(const char *base, const char *path, char *out, size_t cap)
{
	if (cap < 2)
		return -ENAMETOOLONG;
	if (path[0] == '/' || !base) {
		out[0] = '/';
		out[1] = '\0';
	} else {
		if (strlen(base) + 1 > cap)
			return -ENAMETOOLONG;
		memcpy(out, base, strlen(base) + 1);
	}
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		const char *end = p;
		while (*end && *end != '/')
			end++;
		long r = vfs_canon_push(out, cap, p, (size_t)(end - p));
		if (r < 0)
			return r;
		p = end;
	}
	return 0;
}

/* Mounts. */

static struct vmount *vmount_at(const char *canon)
{
	for (struct vmount *m = vfs_mounts; m; m = m->next)
		if (strcmp(m->path, canon) == 0)
			return m;
	return NULL;
}

/* True when a mount lies at canon or below it (such a directory may not be
 * renamed or removed: EBUSY). */
static bool vmount_within(const char *canon)
{
	size_t n = strlen(canon);
	for (struct vmount *m = vfs_mounts; m; m = m->next) {
		if (m == vfs_root_mount)
			continue;
		if (strncmp(m->path, canon, n) == 0 && (m->path[n] == '\0' || m->path[n] == '/' || n == 1))
			return true;
	}
	return false;
}

static struct vmount *vmount_new(const char *path, bool rdonly, const char *fstype, const char *source)
{
	static int next_id = 21; /* where Linux's first mount ids start, roughly */
	struct vmount *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->fstype = fstype;
	m->source = source;
	m->id = next_id++;
	m->sb_id = m->id;
	m->path = strdup(path);
	m->fs_root = strdup("/");
	m->sb = calloc(1, sizeof(*m->sb));
	if (!m->path || !m->fs_root || !m->sb) {
		free(m->path);
		free(m->fs_root);
		free(m->sb);
		free(m);
		return NULL;
	}
	m->sb->refs = 1;
	m->rdonly = rdonly;
	return m;
}

/* The sandbox's mount table holds at most this many mounts; past it mount
 * is ENOSPC, as past Linux's fs.mount-max (100000 there). */
#define VFS_MOUNT_MAX 256

/* A tmpfs's release, through a local function: the address of another
 * object's function would be loaded through the GOT, which services may
 * not use. */
static void release_tmpfs(void *fs_handle)
{
	tmpfs_release_fs(fs_handle);
}

static size_t vmount_count(void)
{
	size_t n = 0;
	for (struct vmount *m = vfs_mounts; m; m = m->next)
		n++;
	return n;
}

static void vmount_add(struct vmount *m)
{
	m->next = vfs_mounts;
	vfs_mounts = m;
}

void vfs_mount_for_each(void (*fn)(const struct vmount *m, void *arg), void *arg)
{
	struct vmount *order[VFS_MOUNT_MAX];
	size_t n = 0;
	for (struct vmount *m = vfs_mounts; m && n < WARD_ARRAY_SIZE(order); m = m->next)
		order[n++] = m;
	while (n-- > 0)
		fn(order[n], arg);
}

static void vmount_discard(struct vmount *m)
{
	if (!m)
		return;
	free(m->path);
	free(m->fs_opts);
	free(m->fs_root);
	free(m->owned_source);
	if (m->sb && --m->sb->refs == 0) {
		if (m->sb->release)
			m->sb->release(m->sb->priv);
		free(m->sb);
	}
	free(m);
}

/* Walks. */

static void walk_init(struct walk *w, struct task *t)
{
	memset(w, 0, sizeof(*w));
	w->t = t;
	w->root = t && t->fs && t->fs->root[0] ? t->fs->root : "/";
	w->cur = vnode_get(vfs_root_mount->root);
	w->canon[0] = '/';
	w->canon[1] = '\0';
}

static void walk_clear_stack(struct walk *w)
{
	for (size_t i = 0; i < w->depth; i++)
		vnode_put(w->stk[i]);
	w->depth = 0;
}

static void walk_fini(struct walk *w)
{
	walk_clear_stack(w);
	free(w->stk);
	w->stk = NULL;
	vnode_put(w->cur);
	w->cur = NULL;
}

/* The sandbox's root, whatever the task's chroot. */
static void walk_to_real_root(struct walk *w)
{
	walk_clear_stack(w);
	vnode_put(w->cur);
	w->cur = vnode_get(vfs_root_mount->root);
	w->canon[0] = '/';
	w->canon[1] = '\0';
}

static long walk_path(struct walk *w, const char *path, int flags, struct walk_last *last_out);

/* The task's root: where absolute paths and absolute symlinks start, and
 * above which ".." does not go. */
static long walk_to_root(struct walk *w)
{
	walk_to_real_root(w);
	if (w->root[1] == '\0')
		return 0;
	/* A canonical path from the sandbox's root, taken relative (a
	 * leading '/' would come back here). */
	long r = walk_path(w, w->root + 1, 0, NULL);
	if (r >= 0 && !S_ISDIR(w->cur->type))
		r = -ENOTDIR;
	walk_clear_stack(w);
	return r;
}

/* An absolute path or symlink target: to the root, or the scope's root
 * for RESOLVE_IN_ROOT; RESOLVE_BENEATH refuses, RESOLVE_NO_XDEV refuses a
 * jump to another mount (nd_jump_root). */
static long walk_root_jump(struct walk *w)
{
	if (w->resolve & VFS_RESOLVE_BENEATH)
		return -EXDEV;
	if (w->resolve & VFS_RESOLVE_IN_ROOT) {
		while (w->depth > w->scope_depth) {
			vnode_put(w->cur);
			w->cur = w->stk[--w->depth];
			vfs_canon_push(w->canon, sizeof(w->canon), "..", 2);
		}
		return 0;
	}
	struct vmount *from = w->cur->mnt;
	long r = walk_to_root(w);
	if (r >= 0 && (w->resolve & VFS_RESOLVE_NO_XDEV) && w->cur->mnt != from)
		return -EXDEV;
	return r;
}

/* Moves to child n (consumed) of the current directory, named name. */
static long walk_descend(struct walk *w, struct vnode *n, const char *name, size_t len)
{
	if (w->depth == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct vnode **s = realloc(w->stk, cap * sizeof(*s));
		if (!s) {
			vnode_put(n);
			return -ENOMEM;
		}
		w->stk = s;
		w->cap = cap;
	}
	long r = vfs_canon_push(w->canon, sizeof(w->canon), name, len);
	if (r < 0) {
		vnode_put(n);
		return r;
	}
	w->stk[w->depth++] = w->cur;
	w->cur = n;
	return 0;
}

/* Looks name up in the current directory: the root of a mount placed
 * there, or the directory's own child. */
static long walk_lookup(struct walk *w, const char *name, struct vnode **out)
{
	char canon[VFS_PATH_MAX];
	memcpy(canon, w->canon, strlen(w->canon) + 1);
	long r = vfs_canon_push(canon, sizeof(canon), name, strlen(name));
	if (r < 0)
		return r;
	struct vmount *m = vmount_at(canon);
	if (m) {
		if (w->resolve & VFS_RESOLVE_NO_XDEV)
			return -EXDEV;
		*out = vnode_get(m->root);
		return 0;
	}
	if (!S_ISDIR(w->cur->type))
		return -ENOTDIR;
	if (!w->cur->ops->lookup)
		return -ENOENT;
	return w->cur->ops->lookup(w->cur, name, out);
}

/* Moves the walk to the canonical path canon, component by component from
 * the sandbox's root (canonical paths are the sandbox's, not the
 * chroot's). */
static long walk_canonical(struct walk *w, const char *canon)
{
	walk_to_real_root(w);
	while (*canon == '/')
		canon++;
	return walk_path(w, canon, 0, NULL);
}

/* ".." of the current directory. */
static long walk_dotdot(struct walk *w)
{
	if ((w->resolve & WALK_SCOPED) && w->depth == w->scope_depth)
		return (w->resolve & VFS_RESOLVE_BENEATH) ? -EXDEV : 0; /* IN_ROOT: ".." of the root is itself */
	/* ".." of the root is the root: of the sandbox, and of a chroot. A
	 * walk that starts outside its chroot (a cwd left there) goes up to
	 * the sandbox's root, as on Linux. */
	if (w->canon[1] == '\0' || strcmp(w->canon, w->root) == 0)
		return 0;
	if (w->depth) {
		if ((w->resolve & VFS_RESOLVE_NO_XDEV) && w->stk[w->depth - 1]->mnt != w->cur->mnt)
			return -EXDEV;
		vnode_put(w->cur);
		w->cur = w->stk[--w->depth];
		vfs_canon_push(w->canon, sizeof(w->canon), "..", 2);
		return 0;
	}
	if (w->resolve & VFS_RESOLVE_NO_XDEV)
		return -EXDEV; /* whether the parent is another mount is not known here */
	/* Above where the walk began: from the root again. */
	cleanup_free char *up = strdup(w->canon);
	if (!up)
		return -ENOMEM;
	vfs_canon_push(up, strlen(up) + 1, "..", 2);
	return walk_canonical(w, up);
}

/* Search permission on the current directory, for tasks that are not
 * root: root searches any directory. */
static long walk_may_search(struct walk *w)
{
	if (!w->t || w->t->creds.fsuid == 0)
		return 0;
	struct linux_statx stx;
	long r = w->cur->ops->getattr(w->cur, &stx);
	if (r < 0)
		return r;
	return vfs_permission(w->t, &stx, VFS_MAY_EXEC, false);
}

/* Follows the symlink n (a child of the current directory, which it
 * consumes): the walk continues along its target from the current
 * directory. With WALK_PARENT it stops before the target's last
 * component. */
static long walk_follow(struct walk *w, struct vnode *n, int flags, struct walk_last *last_out)
{
	if (++w->links > VFS_MAXSYMLINKS || (w->resolve & VFS_RESOLVE_NO_SYMLINKS)) {
		vnode_put(n);
		return -ELOOP;
	}
	struct file *mf = NULL;
	long mr = n->ops->magic_file ? n->ops->magic_file(n, &mf) : -EINVAL;
	if (mr != -EINVAL && (w->resolve & (VFS_RESOLVE_NO_MAGICLINKS | WALK_SCOPED | VFS_RESOLVE_NO_XDEV))) {
		/* nd_jump_link: no magic links at all, none within a scope,
		 * and none to another mount. */
		bool xdev_only = !(w->resolve & (VFS_RESOLVE_NO_MAGICLINKS | WALK_SCOPED));
		long err = (w->resolve & VFS_RESOLVE_NO_MAGICLINKS) ? -ELOOP : -EXDEV;
		if (!xdev_only || (mr >= 0 && mf->vn && mf->vn->mnt != w->cur->mnt)) {
			if (mr >= 0)
				file_put(mf);
			vnode_put(n);
			return err;
		}
	}
	if (mr >= 0) {
		if (mf->vn && strlen(mf->path) < sizeof(w->canon)) {
			/* A magic link: to the open file's own object, even one
			 * no name reaches any more. */
			vnode_put(n);
			walk_clear_stack(w);
			vnode_put(w->cur);
			w->cur = vnode_get(mf->vn);
			memcpy(w->canon, mf->path, strlen(mf->path) + 1);
			if (last_out) {
				last_out->name[0] = '\0';
				last_out->trailing_slash = false;
			}
			file_put(mf);
			return 0;
		}
		file_put(mf);
	}
	cleanup_free char *target = malloc(VFS_PATH_MAX);
	if (!target) {
		vnode_put(n);
		return -ENOMEM;
	}
	long len = n->ops->read_link ? n->ops->read_link(n, target, VFS_PATH_MAX - 1) : -EINVAL;
	vnode_put(n);
	if (len < 0)
		return len;
	if (len == 0)
		return -ENOENT;
	target[len] = '\0';
	return walk_path(w, target, flags | WALK_FOLLOW, last_out);
}

/* Walks path from the current directory (or the root if it is absolute).
 * With WALK_PARENT it stops at the last component's directory and names
 * the component in last_out ("" for a path of slashes alone). */
static long walk_path(struct walk *w, const char *path, int flags, struct walk_last *last_out)
{
	const char *p = path;
	long r;

	if (*p == '/') {
		r = walk_root_jump(w);
		if (r < 0)
			return r;
	}
	if (last_out) {
		last_out->name[0] = '\0';
		last_out->trailing_slash = false;
	}
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			return 0;
		const char *end = p;
		while (*end && *end != '/')
			end++;
		size_t len = (size_t)(end - p);
		const char *q = end;
		while (*q == '/')
			q++;
		bool last = *q == '\0';
		bool trailing = last && *end == '/';

		if (len > VFS_NAME_MAX)
			return -ENAMETOOLONG;
		if (!S_ISDIR(w->cur->type))
			return -ENOTDIR;
		r = walk_may_search(w);
		if (r < 0)
			return r;
		char name[VFS_NAME_MAX + 1];
		memcpy(name, p, len);
		name[len] = '\0';
		p = end;

		if (last && (flags & WALK_PARENT)) {
			memcpy(last_out->name, name, len + 1);
			last_out->trailing_slash = trailing;
			return 0;
		}
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			r = walk_dotdot(w);
			if (r < 0)
				return r;
			continue;
		}
		struct vnode *n;
		r = walk_lookup(w, name, &n);
		if (r < 0)
			return r;
		if (S_ISLNK(n->type) && (!last || trailing || (flags & WALK_FOLLOW))) {
			r = walk_follow(w, n, 0, NULL);
			if (r < 0)
				return r;
		} else {
			r = walk_descend(w, n, name, len);
			if (r < 0)
				return r;
		}
		if (trailing && !S_ISDIR(w->cur->type))
			return -ENOTDIR;
	}
}

/* Places the walk at an open file's object. */
static long walk_at_file(struct walk *w, struct file *f)
{
	if (!f->vn || f->path[0] != '/')
		return -ENOTDIR;
	size_t len = strlen(f->path);
	if (len >= sizeof(w->canon))
		return -ENAMETOOLONG;
	walk_clear_stack(w);
	vnode_put(w->cur);
	w->cur = vnode_get(f->vn);
	memcpy(w->canon, f->path, len + 1);
	return 0;
}

/* The cwd cache: the directories that relative paths started from
 * lately, by canonical path, so that each relative lookup does not walk the
 * cwd's path again from the root (with a host lookup per hostfs component
 * of it). Linux's cwd is an object, not a path, so starting from the object
 * the path named when it was cached is what Linux does, as long as the path
 * still names it: every change that can make a path name another object or
 * none (unlink, rmdir, rename, mount, umount, pivot_root, chroot) empties
 * the cache. Only the file systems whose directories stay valid while held
 * are cached (not /proc's, which vanish with their tasks). */
#define CWD_CACHE_N 8
static struct ward_mutex cwd_cache_m;
static struct cwd_cache_ent {
	char *path;
	struct vnode *vn;
} cwd_cache[CWD_CACHE_N];
static unsigned int cwd_cache_next;
static uint64_t cwd_cache_gen;

static void cwd_cache_flush(void)
{
	struct cwd_cache_ent old[CWD_CACHE_N];
	ward_mutex_lock(&cwd_cache_m);
	memcpy(old, cwd_cache, sizeof(old));
	memset(cwd_cache, 0, sizeof(cwd_cache));
	cwd_cache_gen++;
	ward_mutex_unlock(&cwd_cache_m);
	/* Outside the lock: a release may take the file systems' lock. */
	for (int i = 0; i < CWD_CACHE_N; i++) {
		if (old[i].vn)
			vnode_put(old[i].vn);
		free(old[i].path);
	}
}

/* A new reference to the cached directory of canon, or NULL; *gen is the
 * generation to insert under after a miss. */
static struct vnode *cwd_cache_get(const char *canon, uint64_t *gen)
{
	struct vnode *vn = NULL;
	ward_mutex_lock(&cwd_cache_m);
	*gen = cwd_cache_gen;
	for (int i = 0; i < CWD_CACHE_N && !vn; i++)
		if (cwd_cache[i].path && strcmp(cwd_cache[i].path, canon) == 0)
			vn = vnode_get(cwd_cache[i].vn);
	ward_mutex_unlock(&cwd_cache_m);
	return vn;
}

static void cwd_cache_put(const char *canon, struct vnode *vn, uint64_t gen)
{
	const char *fs = vn->mnt ? vn->mnt->fstype : NULL;
	if (!fs || !S_ISDIR(vn->type) ||
	    (strcmp(fs, "overlay") != 0 && strcmp(fs, "tmpfs") != 0 && strcmp(fs, "hostfs") != 0))
		return;
	char *p = strdup(canon);
	if (!p)
		return;
	struct cwd_cache_ent old = { 0 };
	ward_mutex_lock(&cwd_cache_m);
	if (gen == cwd_cache_gen) {
		struct cwd_cache_ent *e = &cwd_cache[cwd_cache_next++ % CWD_CACHE_N];
		old = *e;
		e->path = p;
		e->vn = vnode_get(vn);
		p = NULL;
	}
	ward_mutex_unlock(&cwd_cache_m);
	free(p);
	if (old.vn)
		vnode_put(old.vn);
	free(old.path);
}

/* Moves the walk to the cwd, from the cache when it may. */
static long walk_cwd(struct walk *w, const char *cwd, bool use_cache)
{
	uint64_t gen = 0;
	struct vnode *vn = use_cache ? cwd_cache_get(cwd, &gen) : NULL;
	if (vn) {
		size_t len = strlen(cwd);
		walk_clear_stack(w);
		vnode_put(w->cur);
		w->cur = vn;
		memcpy(w->canon, cwd, len + 1);
		return 0;
	}
	long r = walk_canonical(w, cwd);
	if (r >= 0 && use_cache && strcmp(w->canon, cwd) == 0)
		cwd_cache_put(cwd, w->cur, gen);
	return r;
}

/* Places the walk where a relative path starts: dirfd's directory or the
 * cwd. Absolute paths ignore dirfd, as openat(2) says. use_cache: the walk
 * may start at the cwd's cached object (not for openat2's RESOLVE_ flags,
 * which care how far up the walk's stack reaches). */
static long walk_start_cached(struct walk *w, struct task *t, int dirfd, const char *path, bool use_cache)
{
	walk_init(w, t);
	if (path[0] == '/')
		return 0;
	if (dirfd == AT_FDCWD)
		return walk_cwd(w, t->fs->cwd, use_cache);
	struct file *f = fd_get(t, dirfd);
	if (!f)
		return -EBADF;
	long r = 0;
	if (!f->vn || !S_ISDIR(f->vn->type))
		r = -ENOTDIR;
	if (r >= 0)
		r = walk_at_file(w, f);
	file_put(f);
	return r;
}

static long walk_start(struct walk *w, struct task *t, int dirfd, const char *path)
{
	return walk_start_cached(w, t, dirfd, path, true);
}

/* walk_start with openat2's resolve flags: a scoped walk starts at dirfd
 * whatever the path, which then resolves within it. The flags apply from
 * the start on, not to reaching it. */
static long walk_start_resolve(struct walk *w, struct task *t, int dirfd, const char *path, uint64_t resolve)
{
	long r = walk_start_cached(w, t, dirfd, (resolve & WALK_SCOPED) ? "." : path, resolve == 0);
	w->resolve = resolve;
	w->scope_depth = w->depth;
	return r;
}

/* Resolves path relative to dirfd; the result is w->cur. An empty path is
 * ENOENT: the callers handle AT_EMPTY_PATH themselves. */
static long vfs_resolve(struct task *t, int dirfd, const char *path, int flags, struct walk *w)
{
	long r = walk_start(w, t, dirfd, path);
	if (r < 0)
		return r;
	if (!path[0])
		return -ENOENT;
	if (strlen(path) >= VFS_PATH_MAX)
		return -ENAMETOOLONG;
	return walk_path(w, path, flags, NULL);
}

/* Resolves the object a descriptor names, for AT_EMPTY_PATH. Files with no
 * object in the guest's tree (inherited stdio) give -ENOENT: callers use
 * the file itself. */
static long vfs_resolve_fd(struct task *t, int dirfd, struct walk *w)
{
	walk_init(w, t);
	if (dirfd == AT_FDCWD)
		return walk_canonical(w, t->fs->cwd);
	struct file *f = fd_get(t, dirfd);
	if (!f)
		return -EBADF;
	long r = f->vn ? walk_at_file(w, f) : -ENOENT;
	file_put(f);
	return r;
}

/* Resolves to the parent directory of path's last component, which is
 * named in last. The last component may not be "." or ".." (the callers
 * give their own errno for those). */
static long vfs_resolve_parent(struct task *t, int dirfd, const char *path, struct walk *w, struct walk_last *last)
{
	long r = walk_start(w, t, dirfd, path);
	if (r < 0)
		return r;
	if (!path[0])
		return -ENOENT;
	if (strlen(path) >= VFS_PATH_MAX)
		return -ENAMETOOLONG;
	r = walk_path(w, path, WALK_PARENT, last);
	if (r < 0)
		return r;
	if (!S_ISDIR(w->cur->type))
		return -ENOTDIR;
	return 0;
}

static bool name_is_dots(const char *name)
{
	return !name[0] || strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* inotify. Events are reported after each operation succeeds, only while
 * some watch exists (inotify_active). */

/* Reports mask on the object v, whose canonical path is canon, to its
 * parent directory (found by walking canon again) and to itself. */
static void notify_path(struct task *t, const char *canon, struct vnode *v, uint32_t mask)
{
	if (!inotify_active())
		return;
	struct inotify_key obj = inotify_key_of(v), dir = { 0 };
	struct walk w;
	struct walk_last last;
	last.name[0] = '\0';
	if (t && canon[0] == '/' && canon[1]) {
		if (vfs_resolve_parent(t, AT_FDCWD, canon, &w, &last) >= 0)
			dir = inotify_key_of(w.cur);
		walk_fini(&w);
	}
	inotify_notify(&dir, last.name, &obj, mask, 0);
}

void inotify_file_event(struct file *f, uint32_t mask)
{
	if (!inotify_active() || !f->vn || (f->flags & O_PATH) || !f->path || f->path[0] != '/')
		return;
	notify_path(task_current(), f->path, f->vn, mask);
}

/* A name made in dir (IN_CREATE). */
static void notify_create(struct vnode *dir, const char *name, bool is_dir)
{
	if (!inotify_active())
		return;
	struct inotify_key dk = inotify_key_of(dir);
	inotify_notify(&dk, name, NULL, WARD_IN_CREATE | (is_dir ? WARD_IN_ISDIR : 0), 0);
}

/* A name removed from a directory (or replaced by a rename): the object
 * hears of its lost link, and of its end when that was its last. */
static void notify_unlinked(const struct inotify_key *obj)
{
	if (!obj->valid)
		return;
	if (!S_ISDIR(obj->mode))
		inotify_notify(NULL, NULL, obj, WARD_IN_ATTRIB, 0);
	if (S_ISDIR(obj->mode) || obj->nlink <= 1)
		inotify_gone(obj);
}

/* Setup. */

long vfs_init(const char *host_root)
{
	ward_hostfd_t root;
	long r;

	ward_mutex_init(&vfs_lock_m);
	ward_mutex_init(&cwd_cache_m);
	struct linux_timespec now;
	if (ward_host_clock_gettime(CLOCK_REALTIME, &now) >= 0)
		vfs_boot = (struct linux_statx_timestamp){ .tv_sec = now.tv_sec, .tv_nsec = (uint32_t)now.tv_nsec };
	r = ward_host_open_root(host_root ? host_root : "/", &root);
	if (r < 0)
		return r;
	struct vmount *m = vmount_new("/", false, "overlay", "overlay");
	if (!m) {
		ward_host_close(root);
		return -ENOMEM;
	}
	r = overlay_root(root, m, &m->root);
	if (r < 0) {
		vmount_discard(m);
		return r;
	}
	vmount_add(m);
	vfs_root_mount = m;

	static const struct {
		const char *path;
		int kind; /* 0 devfs, 1 tmpfs, 2 proc, 3 sys, 4 devpts */
		const char *fstype, *source;
	} std_mounts[] = {
		{ "/dev", 0, "devtmpfs", "udev" },   { "/dev/pts", 4, "devpts", "devpts" },
		{ "/dev/shm", 1, "tmpfs", "tmpfs" }, { "/tmp", 1, "tmpfs", "tmpfs" },
		{ "/proc", 2, "proc", "proc" },	     { "/sys", 3, "sysfs", "sysfs" },
	};
	for (size_t i = 0; i < WARD_ARRAY_SIZE(std_mounts); i++) {
		m = vmount_new(std_mounts[i].path, false, std_mounts[i].fstype, std_mounts[i].source);
		if (!m)
			return -ENOMEM;
		switch (std_mounts[i].kind) {
		case 0:
			r = devfs_root(m, &m->root);
			break;
		case 1:
			r = tmpfs_create(true, m, &m->root);
			if (r >= 0) {
				m->sb->release = release_tmpfs;
				m->sb->priv = tmpfs_fs_of(m->root);
			}
			break;
		case 2:
			r = procfs_root(m, &m->root);
			break;
		case 4:
			r = devpts_root(m, &m->root);
			break;
		default:
			r = sysfs_root(m, &m->root);
			break;
		}
		if (r < 0) {
			vmount_discard(m);
			return r;
		}
		vmount_add(m);
	}
	return 0;
}

/* A guest path for a CLI mount, canonical. */
static long vmount_path(const char *guest_path, char *canon, size_t cap)
{
	if (guest_path[0] != '/')
		return -EINVAL;
	return vfs_path_normalize("/", guest_path, canon, cap);
}

static long vfs_mount_tmpfs_do(const char *guest_path)
{
	char canon[VFS_PATH_MAX];
	long r = vmount_path(guest_path, canon, sizeof(canon));
	if (r < 0)
		return r;
	struct vmount *m = vmount_new(canon, false, "tmpfs", "tmpfs");
	if (!m)
		return -ENOMEM;
	r = tmpfs_create(false, m, &m->root);
	if (r < 0) {
		vmount_discard(m);
		return r;
	}
	m->sb->release = release_tmpfs;
	m->sb->priv = tmpfs_fs_of(m->root);
	vmount_add(m);
	return 0;
}

static long vfs_mount_host_do(const char *host_path, const char *guest_path, bool writable)
{
	char canon[VFS_PATH_MAX];
	long r = vmount_path(guest_path, canon, sizeof(canon));
	if (r < 0)
		return r;
	ward_hostfd_t h;
	r = ward_host_open_root(host_path, &h);
	if (r < 0)
		return r;
	struct vmount *m = vmount_new(canon, !writable, "hostfs", "none");
	if (!m) {
		ward_host_close(h);
		return -ENOMEM;
	}
	m->lock_ro = !writable;
	r = hostfs_root(h, writable, m, &m->root);
	if (r < 0) {
		vmount_discard(m);
		return r;
	}
	vmount_add(m);
	return 0;
}

void vfs_create_mountpoints(struct task *t)
{
	/* Oldest first, so a mount's own mount point lands in the file system
	 * mounted before it (a volume under /tmp goes into /tmp's tmpfs). */
	struct vmount *order[64];
	size_t n = 0;
	for (struct vmount *m = vfs_mounts; m && n < WARD_ARRAY_SIZE(order); m = m->next)
		order[n++] = m;
	while (n-- > 0) {
		const char *path = order[n]->path;
		char prefix[VFS_PATH_MAX];
		size_t len = strlen(path);
		if (len >= sizeof(prefix) || len <= 1)
			continue;
		for (size_t i = 1; i <= len; i++) {
			if (path[i] != '/' && path[i] != '\0')
				continue;
			memcpy(prefix, path, i);
			prefix[i] = 0;
			/* Existing directories, and the mount point itself once
			 * mounted, answer EEXIST: that is fine. */
			vfs_mkdirat(t, AT_FDCWD, prefix, 0755);
		}
	}
}

/* mount(2), umount2(2), pivot_root(2), chroot(2): the guest's changes to
 * the mount table. The sandbox has one mount namespace: what one process
 * mounts, all see. No mount ever reaches the host: a tmpfs is the sentry's,
 * and a bind mount is a new place for a vnode the sandbox could already
 * reach. */

/* mount(2) flags (linux/mount.h). */
#define VFS_MS_RDONLY 0x1UL
#define VFS_MS_NOSUID 0x2UL
#define VFS_MS_NODEV 0x4UL
#define VFS_MS_NOEXEC 0x8UL
#define VFS_MS_REMOUNT 0x20UL
#define VFS_MS_BIND 0x1000UL
#define VFS_MS_MOVE 0x2000UL
#define VFS_MS_REC 0x4000UL
#define VFS_MS_SILENT 0x8000UL
#define VFS_MS_UNBINDABLE (1UL << 17)
#define VFS_MS_PRIVATE (1UL << 18)
#define VFS_MS_SLAVE (1UL << 19)
#define VFS_MS_SHARED (1UL << 20)
#define VFS_MS_NOUSER (1UL << 31)
#define VFS_MS_MGC_VAL 0xC0ED0000UL
#define VFS_MS_MGC_MSK 0xffff0000UL
#define VFS_MS_PROPAGATION (VFS_MS_SHARED | VFS_MS_PRIVATE | VFS_MS_SLAVE | VFS_MS_UNBINDABLE)

/* umount2(2) flags. */
#define VFS_MNT_FORCE 0x1
#define VFS_MNT_DETACH 0x2
#define VFS_MNT_EXPIRE 0x4
#define VFS_UMOUNT_NOFOLLOW 0x8

/* Is canon at or below dir (both canonical)? */
static bool path_within(const char *canon, const char *dir)
{
	size_t n = strlen(dir);
	if (n == 1)
		return true;
	return strncmp(canon, dir, n) == 0 && (canon[n] == '\0' || canon[n] == '/');
}

long vfs_guest_path(struct task *t, const char *canon, char *out, size_t cap)
{
	const char *root = t && t->fs && t->fs->root[0] ? t->fs->root : "/";
	const char *shown = canon;
	const char *prefix = "";
	if (root[1] != '\0') {
		if (!path_within(canon, root))
			prefix = "(unreachable)";
		else if (canon[strlen(root)] == '\0')
			shown = "/";
		else
			shown = canon + strlen(root);
	}
	int n = snprintf(out, cap, "%s%s", prefix, shown);
	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	return n;
}

bool vfs_mount_visible(struct task *t, const struct vmount *m, char *out, size_t cap)
{
	const char *root = t && t->fs && t->fs->root[0] ? t->fs->root : "/";
	if (!path_within(m->path, root))
		return false;
	return vfs_guest_path(t, m->path, out, cap) >= 0;
}

/* The flags a mount shows in /proc/[pid]/mounts, after rw/ro. */
static void vmount_set_flags(struct vmount *m, unsigned long flags)
{
	m->rdonly = flags & VFS_MS_RDONLY;
	m->nosuid = flags & VFS_MS_NOSUID;
	m->nodev = flags & VFS_MS_NODEV;
	m->noexec = flags & VFS_MS_NOEXEC;
}

/* Is the walk at the root of the topmost mount at its path? Then that
 * mount. */
static struct vmount *walk_mounted(struct walk *w)
{
	struct vmount *m = vmount_at(w->canon);
	return m && m->root == w->cur ? m : NULL;
}

/* Calls fn on every live task's fs context and fd table once. */
struct task_visit {
	void (*fn)(struct task *t, void *arg);
	void *arg;
};

static void visit_process(struct process *p, void *arg)
{
	struct task_visit *v = arg;
	for (struct task *t = p->threads; t; t = t->next_in_proc)
		v->fn(t, v->arg);
}

static void for_each_task(void (*fn)(struct task *t, void *arg), void *arg)
{
	struct task_visit v = { fn, arg };
	process_for_each(visit_process, &v);
}

struct busy_check {
	const char *path;
	bool busy;
};

static void busy_task(struct task *t, void *arg)
{
	struct busy_check *b = arg;
	if (!t->fs)
		return;
	if (path_within(t->fs->cwd, b->path) || (t->fs->root[0] && path_within(t->fs->root, b->path)))
		b->busy = true;
}

/* Is m in use: a file open on it, a task's cwd or root in it? walk_refs
 * is how many references to its root the caller holds. */
static bool vmount_busy(struct vmount *m, int walk_refs)
{
	if (__atomic_load_n(&m->vnodes, __ATOMIC_ACQUIRE) > 1 ||
	    __atomic_load_n(&m->root->refcount, __ATOMIC_ACQUIRE) > 1 + walk_refs)
		return true;
	struct busy_check b = { m->path, false };
	for_each_task(busy_task, &b);
	return b.busy;
}

/* Takes m out of the table; it goes when its last vnode does. */
static void vmount_detach(struct vmount *m)
{
	for (struct vmount **pp = &vfs_mounts; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	m->next = NULL;
	m->detached = true;
	struct vnode *root = m->root;
	m->root = NULL;
	vnode_put(root);
}

/* Is c a mount below m: under its path, or stacked on it (newer, at the
 * same path)? */
static bool vmount_below(struct vmount *c, struct vmount *m)
{
	if (c == m || !path_within(c->path, m->path))
		return false;
	if (strcmp(c->path, m->path) != 0)
		return true;
	for (struct vmount *n = vfs_mounts; n && n != m; n = n->next)
		if (n == c)
			return true;
	return false;
}

static bool vmount_has_children(struct vmount *m)
{
	for (struct vmount *c = vfs_mounts; c; c = c->next)
		if (vmount_below(c, m))
			return true;
	return false;
}

/* Paths are the sandbox's canonical names of objects: a pivot_root, or a
 * rename of a directory that holds a task's cwd or root or an open file,
 * renames them everywhere, so that getcwd, /proc and walks from a
 * descriptor follow the object as Linux's dentries do. */
struct rekey {
	/* The new path of old, or NULL when it does not move (or memory runs
	 * out: the old name then stays). */
	char *(*map)(const struct rekey *k, const char *old);
	/* pivot_root moves the tasks whose cwd or root was the old root to the
	 * new one ("/" stays "/"). */
	bool keep_root;
	const char *a, *b; /* rename: a moved to b (and b to a for an exchange) */
	bool exchange;
	const char *new_root; /* pivot_root: canonical, before */
	char put_old[VFS_PATH_MAX]; /* pivot_root: canonical, after */
	const void **seen; /* fs contexts and files already renamed */
	size_t nseen, capseen;
};

static char *path_join(const char *dir, const char *rest)
{
	char buf[VFS_PATH_MAX];
	int len = snprintf(buf, sizeof(buf), "%s%s", dir[1] || !rest[0] ? dir : "", rest);
	if (len < 0 || (size_t)len >= sizeof(buf))
		return NULL;
	return strdup(buf);
}

static char *pivot_map(const struct rekey *k, const char *old)
{
	size_t n = strlen(k->new_root);
	if (path_within(old, k->new_root))
		return strdup(old[n] ? old + n : "/");
	return path_join(k->put_old, old[1] ? old : "");
}

static char *rename_map(const struct rekey *k, const char *old)
{
	if (path_within(old, k->a))
		return path_join(k->b, old + strlen(k->a));
	if (k->exchange && path_within(old, k->b))
		return path_join(k->a, old + strlen(k->b));
	return NULL;
}

/* Marks p seen; false when it was already (or cannot be remembered). */
static bool rekey_first(struct rekey *k, const void *p)
{
	for (size_t i = 0; i < k->nseen; i++)
		if (k->seen[i] == p)
			return false;
	if (k->nseen == k->capseen) {
		size_t cap = k->capseen ? k->capseen * 2 : 64;
		const void **s = realloc(k->seen, cap * sizeof(*s));
		if (!s)
			return false;
		k->seen = s;
		k->capseen = cap;
	}
	k->seen[k->nseen++] = p;
	return true;
}

static void rekey_string(struct rekey *k, char *path, size_t cap)
{
	if (!path[0] || (k->keep_root && strcmp(path, "/") == 0))
		return;
	char *np = k->map(k, path);
	if (np && strlen(np) < cap)
		memcpy(path, np, strlen(np) + 1);
	free(np);
}

static void rekey_task(struct task *t, void *arg)
{
	struct rekey *k = arg;
	if (t->fs && rekey_first(k, t->fs)) {
		rekey_string(k, t->fs->cwd, sizeof(t->fs->cwd));
		rekey_string(k, t->fs->root, sizeof(t->fs->root));
	}
	for (long fd = fd_next_open(t, 0); fd >= 0; fd = fd_next_open(t, (int)fd + 1)) {
		struct file *f = fd_get(t, (int)fd);
		if (!f)
			continue;
		/* Only the files a rename moves are remembered: a rename that is
		 * not an exchange cannot move one twice, and most files are not
		 * under it, so the seen list stays short. */
		bool moves = f->vn && f->path[0] == '/' &&
			     (!k->a || path_within(f->path, k->a) || (k->exchange && path_within(f->path, k->b)));
		if (moves && ((!k->a || k->exchange) ? rekey_first(k, f) : true)) {
			char *np = k->map(k, f->path);
			if (np) {
				free(f->path);
				f->path = np;
			}
		}
		file_put(f);
	}
}

static void rekey_all(struct rekey *k)
{
	for_each_task(rekey_task, k);
	free(k->seen);
	k->seen = NULL;
}

static long new_tmpfs_mount(const char *canon, const char *source, unsigned long flags, const char *data,
			    struct vmount **out)
{
	struct tmpfs_opts o = { .mode = 01777 };
	long r = tmpfs_parse_opts(data, &o);
	if (r < 0)
		return r;
	struct vmount *m = vmount_new(canon, false, "tmpfs", "tmpfs");
	if (!m)
		return -ENOMEM;
	if (source) {
		m->owned_source = strdup(source);
		if (!m->owned_source) {
			vmount_discard(m);
			return -ENOMEM;
		}
		m->source = m->owned_source;
	}
	r = tmpfs_create_opts(&o, m, &m->root);
	if (r < 0) {
		vmount_discard(m);
		return r;
	}
	m->fs_opts = tmpfs_show_opts(m->root);
	m->sb->release = release_tmpfs;
	m->sb->priv = tmpfs_fs_of(m->root);
	vmount_set_flags(m, flags);
	m->sb->rdonly = m->rdonly;
	*out = m;
	return 0;
}

static long new_proc_mount(const char *canon, const char *source, unsigned long flags, struct vmount **out)
{
	struct vmount *m = vmount_new(canon, false, "proc", "proc");
	if (!m)
		return -ENOMEM;
	if (source) {
		m->owned_source = strdup(source);
		if (!m->owned_source) {
			vmount_discard(m);
			return -ENOMEM;
		}
		m->source = m->owned_source;
	}
	long r = procfs_root(m, &m->root);
	if (r < 0) {
		vmount_discard(m);
		return r;
	}
	vmount_set_flags(m, flags);
	m->sb->rdonly = m->rdonly;
	*out = m;
	return 0;
}

/* A bind of src (the root of the new mount: v, at canonical path vcanon)
 * at canon. */
static long bind_one(struct vnode *v, const char *vcanon, const char *canon, struct vmount **out)
{
	struct vmount *src = v->mnt;
	if (!v->ops->bind_root || src->detached)
		return -EINVAL;
	if (src->prop == VMOUNT_UNBINDABLE)
		return -EINVAL;
	struct vmount *m = vmount_new(canon, src->rdonly, src->fstype, src->source);
	if (!m)
		return -ENOMEM;
	if (src->owned_source) {
		m->owned_source = strdup(src->owned_source);
		m->source = m->owned_source;
	}
	/* The path of the new root within its file system, for mountinfo. */
	const char *rel = vcanon + (src->path[1] ? strlen(src->path) : 0);
	size_t base = strcmp(src->fs_root, "/") == 0 ? 0 : strlen(src->fs_root);
	size_t len = base + strlen(rel) + 2;
	char *fs_root = malloc(len);
	if (fs_root)
		snprintf(fs_root, len, "%.*s%s", (int)base, src->fs_root, rel[0] ? rel : (base ? "" : "/"));
	free(m->fs_root);
	m->fs_root = fs_root;
	m->fs_opts = src->fs_opts ? strdup(src->fs_opts) : NULL;
	if (!m->fs_root || (src->owned_source && !m->owned_source) || (src->fs_opts && !m->fs_opts)) {
		vmount_discard(m);
		return -ENOMEM;
	}
	m->lock_ro = src->lock_ro;
	m->nosuid = src->nosuid;
	m->nodev = src->nodev;
	m->noexec = src->noexec;
	m->sb_id = src->sb_id;
	if (--m->sb->refs == 0)
		free(m->sb);
	m->sb = src->sb;
	m->sb->refs++;
	long r = v->ops->bind_root(v, m, &m->root);
	if (r < 0) {
		vmount_discard(m);
		return r;
	}
	*out = m;
	return 0;
}

/* MS_BIND (and MS_REC): the object at source appears at the walk's place. */
static long do_bind(struct task *t, struct walk *target, const char *source, bool rec)
{
	if (!source || !source[0])
		return -EINVAL;
	struct walk s;
	long r = vfs_resolve(t, AT_FDCWD, source, WALK_FOLLOW, &s);
	if (r < 0)
		goto out;
	if (S_ISDIR(s.cur->type) != S_ISDIR(target->cur->type)) {
		r = -ENOTDIR;
		goto out;
	}
	struct vmount *m;
	if (vmount_count() >= VFS_MOUNT_MAX) {
		r = -ENOSPC;
		goto out;
	}
	r = bind_one(s.cur, s.canon, target->canon, &m);
	if (r < 0)
		goto out;
	/* MS_REC: the mounts below source come along, oldest first so that
	 * they stack as they did. */
	struct vmount *added[VFS_MOUNT_MAX];
	size_t nadded = 0;
	size_t room = VFS_MOUNT_MAX - WARD_MIN(vmount_count() + 1, (size_t)VFS_MOUNT_MAX);
	if (rec) {
		struct vmount *order[VFS_MOUNT_MAX];
		size_t n = 0;
		for (struct vmount *c = vfs_mounts; c && n < WARD_ARRAY_SIZE(order); c = c->next)
			order[n++] = c;
		while (n-- > 0 && r >= 0) {
			struct vmount *c = order[n];
			if (strcmp(c->path, s.canon) == 0 || !path_within(c->path, s.canon) ||
			    c->prop == VMOUNT_UNBINDABLE || !c->root->ops->bind_root)
				continue;
			char canon[VFS_PATH_MAX];
			const char *rel = c->path + (s.canon[1] ? strlen(s.canon) : 0);
			if (snprintf(canon, sizeof(canon), "%s%s", target->canon[1] ? target->canon : "", rel) >=
			    (int)sizeof(canon)) {
				r = -ENAMETOOLONG;
				break;
			}
			if (nadded == room) {
				r = -ENOSPC;
				break;
			}
			r = bind_one(c->root, c->path, canon, &added[nadded]);
			if (r >= 0)
				nadded++;
		}
	}
	if (r < 0) {
		vnode_put(m->root);
		vmount_discard(m);
		while (nadded-- > 0) {
			vnode_put(added[nadded]->root);
			vmount_discard(added[nadded]);
		}
		goto out;
	}
	vmount_add(m);
	for (size_t i = 0; i < nadded; i++)
		vmount_add(added[i]);
out:
	walk_fini(&s);
	return r;
}

/* MS_REMOUNT: the mount's flags (and a tmpfs's options unless MS_BIND). */
static long do_remount(struct walk *w, unsigned long flags, const char *data)
{
	struct vmount *m = walk_mounted(w);
	if (!m)
		return -EINVAL;
	if (m->lock_ro && !(flags & VFS_MS_RDONLY))
		return -EPERM;
	if (!(flags & VFS_MS_BIND) && strcmp(m->fstype, "tmpfs") == 0 && m->root->ops->bind_root) {
		struct tmpfs_opts o = { .mode = (uint32_t)-1, .uid = (uint32_t)-1, .gid = (uint32_t)-1 };
		long r = tmpfs_parse_opts(data, &o);
		if (r >= 0)
			r = tmpfs_remount(m->root, &o);
		if (r < 0)
			return r;
		char *opts = tmpfs_show_opts(m->root);
		free(m->fs_opts);
		m->fs_opts = opts;
	}
	/* Without MS_BIND the file system itself changes too. */
	if (!(flags & VFS_MS_BIND))
		m->sb->rdonly = flags & VFS_MS_RDONLY;
	vmount_set_flags(m, flags);
	return 0;
}

/* MS_SHARED, MS_PRIVATE, MS_SLAVE, MS_UNBINDABLE (with MS_REC: the mounts
 * below too). */
static long do_change_type(struct walk *w, unsigned long flags)
{
	struct vmount *m = walk_mounted(w);
	if (!m)
		return -EINVAL;
	unsigned long type = flags & ~(VFS_MS_REC | VFS_MS_SILENT);
	if ((type & ~VFS_MS_PROPAGATION) || !type || (type & (type - 1)))
		return -EINVAL;
	enum vmount_prop p = type == VFS_MS_SHARED	 ? VMOUNT_SHARED
			     : type == VFS_MS_SLAVE	 ? VMOUNT_SLAVE
			     : type == VFS_MS_UNBINDABLE ? VMOUNT_UNBINDABLE
							 : VMOUNT_PRIVATE;
	/* A slave of nothing is private, as Linux makes it. */
	if (p == VMOUNT_SLAVE)
		p = VMOUNT_PRIVATE;
	for (struct vmount *c = vfs_mounts; c; c = c->next)
		if (c == m || ((flags & VFS_MS_REC) && path_within(c->path, m->path)))
			c->prop = p;
	return 0;
}

/* MS_MOVE: the mount at source, with the mounts below it, moves to the
 * walk's place; tasks and files inside move with it. */
static long do_move(struct task *t, struct walk *target, const char *source)
{
	if (!source || !source[0])
		return -EINVAL;
	struct walk s;
	long r = vfs_resolve(t, AT_FDCWD, source, WALK_FOLLOW, &s);
	struct vmount *m = r >= 0 ? walk_mounted(&s) : NULL;
	if (r >= 0 && (!m || m == vfs_root_mount || strcmp(s.canon, s.root) == 0))
		r = -EINVAL;
	if (r >= 0 && S_ISDIR(s.cur->type) != S_ISDIR(target->cur->type))
		r = -EINVAL; /* not ENOTDIR, unlike a bind */
	/* Into itself: a loop. */
	if (r >= 0 && path_within(target->canon, s.canon))
		r = -ELOOP;
	if (r >= 0 && m->prop == VMOUNT_SHARED)
		r = -EINVAL;
	if (r < 0)
		goto out;
	struct rekey k = { .map = rename_map, .a = s.canon, .b = target->canon };
	/* New paths first, so that nothing changes on failure. */
	struct vmount *moved[VFS_MOUNT_MAX];
	char *paths[VFS_MOUNT_MAX];
	size_t n = 0;
	for (struct vmount *c = vfs_mounts; c; c = c->next) {
		if (c != m && !vmount_below(c, m))
			continue;
		if (n == WARD_ARRAY_SIZE(moved)) {
			r = -ENOMEM;
			break;
		}
		moved[n] = c;
		paths[n] = rename_map(&k, c->path);
		if (!paths[n++])
			r = -ENOMEM;
	}
	if (r < 0) {
		while (n-- > 0)
			free(paths[n]);
		goto out;
	}
	/* Out of the list, renamed, and back on top in the same order. */
	for (size_t i = 0; i < n; i++) {
		for (struct vmount **pp = &vfs_mounts; *pp; pp = &(*pp)->next) {
			if (*pp == moved[i]) {
				*pp = moved[i]->next;
				break;
			}
		}
		free(moved[i]->path);
		moved[i]->path = paths[i];
	}
	while (n-- > 0) {
		moved[n]->next = vfs_mounts;
		vfs_mounts = moved[n];
	}
	rekey_all(&k);
out:
	walk_fini(&s);
	return r;
}

static long vfs_mount_do(struct task *t, const char *source, const char *target, const char *fstype,
			 unsigned long flags, const char *data)
{
	struct walk w;
	long r = vfs_resolve(t, AT_FDCWD, target, WALK_FOLLOW, &w);
	if (r < 0)
		goto out;
	if ((flags & VFS_MS_MGC_MSK) == VFS_MS_MGC_VAL)
		flags &= ~VFS_MS_MGC_MSK;
	if (flags & VFS_MS_NOUSER) {
		r = -EINVAL;
		goto out;
	}
	if (!creds_capable(&t->creds, WARD_CAP_SYS_ADMIN)) {
		r = -EPERM;
		goto out;
	}
	if ((flags & (VFS_MS_REMOUNT | VFS_MS_BIND)) == (VFS_MS_REMOUNT | VFS_MS_BIND) || (flags & VFS_MS_REMOUNT)) {
		r = do_remount(&w, flags, data);
		goto out;
	}
	if (flags & VFS_MS_BIND) {
		r = do_bind(t, &w, source, flags & VFS_MS_REC);
		goto out;
	}
	if (flags & VFS_MS_PROPAGATION) {
		r = do_change_type(&w, flags);
		goto out;
	}
	if (flags & VFS_MS_MOVE) {
		r = do_move(t, &w, source);
		goto out;
	}
	if (!fstype) {
		r = -EINVAL;
		goto out;
	}
	struct vmount *m = NULL;
	bool dir = S_ISDIR(w.cur->type);
	if (vmount_count() >= VFS_MOUNT_MAX) {
		r = -ENOSPC;
		goto out;
	}
	if (strcmp(fstype, "tmpfs") == 0)
		r = dir ? new_tmpfs_mount(w.canon, source, flags, data, &m) : -ENOTDIR;
	else if (strcmp(fstype, "proc") == 0)
		r = dir ? new_proc_mount(w.canon, source, flags, &m) : -ENOTDIR;
	else
		r = -ENODEV;
	if (r >= 0)
		vmount_add(m);
out:
	walk_fini(&w);
	return r;
}

static long vfs_umount_do(struct task *t, const char *target, int flags)
{
	if (flags & ~(VFS_MNT_FORCE | VFS_MNT_DETACH | VFS_MNT_EXPIRE | VFS_UMOUNT_NOFOLLOW))
		return -EINVAL;
	struct walk w;
	long r = vfs_resolve(t, AT_FDCWD, target, (flags & VFS_UMOUNT_NOFOLLOW) ? 0 : WALK_FOLLOW, &w);
	if (r < 0)
		goto out;
	if (!creds_capable(&t->creds, WARD_CAP_SYS_ADMIN)) {
		r = -EPERM;
		goto out;
	}
	struct vmount *m = walk_mounted(&w);
	if (!m) {
		r = -EINVAL;
		goto out;
	}
	/* The sandbox's root is always busy: its programs are open on it. */
	if (m == vfs_root_mount) {
		r = -EBUSY;
		goto out;
	}
	if (flags & VFS_MNT_EXPIRE) {
		if (flags & (VFS_MNT_FORCE | VFS_MNT_DETACH) || strcmp(w.canon, w.root) == 0) {
			r = -EINVAL;
			goto out;
		}
		if (vmount_busy(m, 1)) {
			r = -EBUSY;
			goto out;
		}
		if (!m->expire_mark) {
			m->expire_mark = true;
			r = -EAGAIN;
			goto out;
		}
	}
	/* MNT_FORCE asks the file system to abort its pending requests; tmpfs
	 * has none, so it is a plain umount, busy or not. */
	if (!(flags & VFS_MNT_DETACH)) {
		if (vmount_has_children(m) || vmount_busy(m, 1)) {
			r = -EBUSY;
			goto out;
		}
		vmount_detach(m);
		goto out;
	}
	/* MNT_DETACH: the mount and everything below it go from the table now,
	 * and die when their last user does. */
	struct vmount *victims[VFS_MOUNT_MAX];
	size_t n = 0;
	for (struct vmount *c = vfs_mounts; c && n < WARD_ARRAY_SIZE(victims); c = c->next)
		if (vmount_below(c, m))
			victims[n++] = c;
	for (size_t i = 0; i < n; i++)
		vmount_detach(victims[i]);
	vmount_detach(m);
out:
	walk_fini(&w);
	return r;
}

static long vfs_chroot_do(struct task *t, const char *path)
{
	struct walk w;
	struct linux_statx stx;
	long r = vfs_resolve(t, AT_FDCWD, path, WALK_FOLLOW, &w);
	if (r >= 0 && !S_ISDIR(w.cur->type))
		r = -ENOTDIR;
	if (r >= 0)
		r = w.cur->ops->getattr(w.cur, &stx);
	if (r >= 0)
		r = vfs_permission(t, &stx, VFS_MAY_EXEC, false);
	if (r >= 0 && !creds_capable(&t->creds, WARD_CAP_SYS_CHROOT))
		r = -EPERM;
	if (r >= 0) {
		size_t len = strlen(w.canon);
		if (len >= sizeof(t->fs->root))
			r = -ENAMETOOLONG;
		else
			memcpy(t->fs->root, w.canon, len + 1);
	}
	walk_fini(&w);
	return r;
}

static long vfs_pivot_root_do(struct task *t, const char *new_root, const char *put_old)
{
	if (!creds_capable(&t->creds, WARD_CAP_SYS_ADMIN))
		return -EPERM;
	struct walk nw, ow, rw;
	long r = vfs_resolve(t, AT_FDCWD, new_root, WALK_FOLLOW, &nw);
	walk_init(&ow, t);
	walk_init(&rw, t);
	if (r >= 0 && !S_ISDIR(nw.cur->type))
		r = -ENOTDIR;
	if (r >= 0) {
		walk_fini(&ow);
		r = vfs_resolve(t, AT_FDCWD, put_old, WALK_FOLLOW, &ow);
	}
	if (r >= 0 && !S_ISDIR(ow.cur->type))
		r = -ENOTDIR;
	if (r >= 0)
		r = walk_to_root(&rw);
	if (r < 0)
		goto out;
	struct vmount *new_mnt = nw.cur->mnt, *old_mnt = ow.cur->mnt, *root_mnt = rw.cur->mnt;
	/* pivot_root(2): EINVAL when a mount involved is shared (the root's
	 * and new_root's parents lie in the sandbox's one tree: the root's own
	 * type stands for them). */
	if (old_mnt->prop == VMOUNT_SHARED || root_mnt->prop == VMOUNT_SHARED) {
		r = -EINVAL;
		goto out;
	}
	if (new_mnt == root_mnt || old_mnt == root_mnt) {
		r = -EBUSY;
		goto out;
	}
	/* The caller's root must be a mount point (a chroot into a plain
	 * directory is not), new_root too, put_old at or under new_root, and
	 * new_root under the root. */
	if (root_mnt != vfs_root_mount || rw.cur != root_mnt->root || !walk_mounted(&nw) ||
	    !path_within(ow.canon, nw.canon) || !path_within(nw.canon, rw.canon) || strcmp(nw.canon, "/") == 0) {
		r = -EINVAL;
		goto out;
	}
	struct rekey p = { .map = pivot_map, .keep_root = true, .new_root = nw.canon };
	size_t n = strlen(nw.canon);
	snprintf(p.put_old, sizeof(p.put_old), "%s", ow.canon[n] ? ow.canon + n : "/");
	/* Every mount's new path first, so that nothing changes on failure. */
	size_t count = 0;
	for (struct vmount *m = vfs_mounts; m; m = m->next)
		count++;
	char **paths = calloc(count, sizeof(*paths));
	if (!paths) {
		r = -ENOMEM;
		goto out;
	}
	size_t i = 0;
	for (struct vmount *m = vfs_mounts; m; m = m->next, i++) {
		paths[i] = m == new_mnt ? strdup("/") : m == root_mnt ? strdup(p.put_old) : pivot_map(&p, m->path);
		if (!paths[i])
			r = -ENOMEM;
	}
	if (r >= 0) {
		i = 0;
		for (struct vmount *m = vfs_mounts; m; m = m->next, i++) {
			free(m->path);
			m->path = paths[i];
			paths[i] = NULL;
		}
		/* The old root goes on top of what is at put_old. */
		for (struct vmount **pp = &vfs_mounts; *pp; pp = &(*pp)->next) {
			if (*pp == root_mnt) {
				*pp = root_mnt->next;
				break;
			}
		}
		root_mnt->next = vfs_mounts;
		vfs_mounts = root_mnt;
		vfs_root_mount = new_mnt;
		rekey_all(&p);
	}
	for (i = 0; i < count; i++)
		free(paths[i]);
	free(paths);
out:
	walk_fini(&nw);
	walk_fini(&ow);
	walk_fini(&rw);
	return r;
}

/* Opening. */

/* The open(2) flags a file description keeps (F_GETFL shows them). */
#define VFS_KEPT_FLAGS                                                                                             \
	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_ASYNC | O_DIRECT | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | \
	 O_SYNC | O_PATH | VFS_O_LARGEFILE)

static long open_vnode(struct vnode *v, int flags, const char *canon, struct file **out)
{
	uint32_t fflags = (uint32_t)flags & VFS_KEPT_FLAGS;
	if (!(flags & O_PATH))
		fflags |= VFS_O_LARGEFILE;
	if (!v->ops->open_file)
		return -ENXIO;
	struct file *f;
	/* O_NOCTTY is not kept, but a terminal's open must see it. */
	long r = v->ops->open_file(v, (int)(fflags | ((uint32_t)flags & O_NOCTTY)), canon, &f);
	if (r < 0)
		return r;
	f->flags &= ~(uint32_t)O_NOCTTY;
	if (!f->vn)
		f->vn = vnode_get(v);
	*out = f;
	return 0;
}

static struct vfs_owner owner_of(struct task *t)
{
	return (struct vfs_owner){ t->creds.fsuid, t->creds.fsgid };
}

/* May t create or remove names in the directory dir? */
static long may_change_dir(struct task *t, struct vnode *dir)
{
	if (vmount_rdonly(dir->mnt))
		return -EROFS;
	if (t->creds.fsuid == 0)
		return 0;
	struct linux_statx stx;
	long r = dir->ops->getattr(dir, &stx);
	if (r < 0)
		return r;
	return vfs_permission(t, &stx, VFS_MAY_WRITE | VFS_MAY_EXEC, false);
}

/* Sticky directories: only the owner of the directory or of the victim
 * (or CAP_FOWNER) may remove or rename a name. */
static long may_delete(struct task *t, struct vnode *dir, struct vnode *victim)
{
	if (t->creds.fsuid == 0)
		return 0;
	struct linux_statx d, v;
	long r = dir->ops->getattr(dir, &d);
	if (r >= 0)
		r = victim->ops->getattr(victim, &v);
	if (r < 0)
		return r;
	if ((d.stx_mode & S_ISVTX) && d.stx_uid != t->creds.fsuid && v.stx_uid != t->creds.fsuid)
		return -EPERM;
	return 0;
}

/* The last component of an O_CREAT open: an existing object is opened as
 * without O_CREAT (a symlink is followed, to create its target if it does
 * not exist), a missing one is created. The walk ends at the object. */
static long open_creat(struct walk *w, const char *path, int flags, uint32_t mode, bool *created)
{
	struct walk_last last;
	long r = walk_path(w, path, WALK_PARENT, &last);
	for (;;) {
		if (r < 0)
			return r;
		if (name_is_dots(last.name) || last.trailing_slash)
			return -EISDIR;
		if (!S_ISDIR(w->cur->type))
			return -ENOTDIR;
		struct vnode *n;
		r = walk_lookup(w, last.name, &n);
		if (r == -ENOENT) {
			r = may_change_dir(w->t, w->cur);
			if (r < 0)
				return r;
			if (!w->cur->ops->create)
				return -EACCES;
			struct vfs_owner o = owner_of(w->t);
			r = w->cur->ops->create(w->cur, last.name, S_IFREG | (mode & 07777), 0, &o, &n);
			if (r < 0)
				return r;
			notify_create(w->cur, last.name, false);
			*created = true;
			return walk_descend(w, n, last.name, strlen(last.name));
		}
		if (r < 0)
			return r;
		if (flags & O_EXCL) {
			vnode_put(n);
			return -EEXIST;
		}
		if (S_ISLNK(n->type)) {
			if (flags & O_NOFOLLOW) {
				vnode_put(n);
				return -ELOOP;
			}
			r = walk_follow(w, n, WALK_PARENT, &last);
			if (r >= 0 && !last.name[0])
				return 0; /* the target was "/": a directory */
			continue;
		}
		if (S_ISDIR(n->type)) {
			vnode_put(n);
			return -EISDIR;
		}
		return walk_descend(w, n, last.name, strlen(last.name));
	}
}

static long truncate_vnode(struct vnode *v, uint64_t size)
{
	if (!v->ops->setattr)
		return -EPERM;
	struct vattr a = { .valid = VATTR_SIZE, .size = size };
	return v->ops->setattr(v, &a);
}

/* O_TMPFILE in the directory the walk ended at: an unnamed file,
 * shown in /proc as "DIR/#INO (deleted)", as Linux names its dentry. */
static long open_tmpfile(struct task *t, struct walk *w, int flags, uint32_t mode, struct file **out)
{
	struct vnode *dir = w->cur;
	long r = may_change_dir(t, dir);
	if (r < 0)
		return r;
	if (!dir->ops->tmpfile)
		return -EOPNOTSUPP;
	struct vfs_owner o = owner_of(t);
	struct vnode *n;
	r = dir->ops->tmpfile(dir, S_IFREG | (mode & 07777), &o, !(flags & O_EXCL), &n);
	if (r < 0)
		return r;
	struct linux_statx stx;
	char canon[VFS_PATH_MAX];
	r = n->ops->getattr(n, &stx);
	if (r >= 0 && snprintf(canon, sizeof(canon), "%s%s#%" PRIu64 " (deleted)", w->canon, w->canon[1] ? "/" : "",
			       stx.stx_ino) >= (int)sizeof(canon))
		r = -ENAMETOOLONG;
	struct file *f = NULL;
	if (r >= 0)
		r = open_vnode(n, flags, canon, &f);
	vnode_put(n);
	if (r < 0)
		return r;
	/* F_GETFL shows it, as Linux keeps it among the file's flags. */
	f->flags |= VFS_O_TMPFILE_BIT;
	*out = f;
	return 0;
}

long vfs_openat(struct task *t, int dirfd, const char *path, int flags, uint32_t mode, struct file **out)
{
	return vfs_openat2(t, dirfd, path, flags, mode, 0, out);
}

long vfs_openat2(struct task *t, int dirfd, const char *path, int flags, uint32_t mode, uint64_t resolve,
		 struct file **out)
{
	struct walk w;
	long r;
	bool created = false, truncated = false;

	if (flags & O_PATH)
		flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int acc = flags & O_ACCMODE;
	bool want_write = acc == O_WRONLY || acc == O_RDWR || acc == O_ACCMODE;
	/* O_TMPFILE is __O_TMPFILE with O_DIRECTORY, without O_CREAT, for
	 * writing (build_open_flags). */
	bool tmpfile = flags & VFS_O_TMPFILE_BIT;
	if (tmpfile && ((flags & (O_TMPFILE | O_CREAT)) != O_TMPFILE || !want_write))
		return -EINVAL;
	if (strlen(path) >= VFS_PATH_MAX)
		return -ENAMETOOLONG;

	r = walk_start_resolve(&w, t, dirfd, path, resolve);
	if (r >= 0 && !path[0])
		r = -ENOENT;
	if (r >= 0) {
		if ((flags & O_CREAT) && !tmpfile)
			r = open_creat(&w, path, flags, mode, &created);
		else
			r = walk_path(&w, path, (flags & O_NOFOLLOW) ? 0 : WALK_FOLLOW, NULL);
	}
	if (r < 0)
		goto out;

	struct vnode *v = w.cur;
	uint32_t type = v->type;
	if (S_ISLNK(type) && !(flags & O_PATH)) {
		r = -ELOOP;
		goto out;
	}
	if ((flags & O_DIRECTORY) && !S_ISDIR(type)) {
		r = -ENOTDIR;
		goto out;
	}
	if (tmpfile) {
		r = open_tmpfile(t, &w, flags, mode, out);
		goto out;
	}
	if (!(flags & O_PATH)) {
		if (S_ISDIR(type) && want_write) {
			r = -EISDIR;
			goto out;
		}
		if ((S_ISCHR(type) || S_ISBLK(type)) && v->mnt->nodev) {
			r = -EACCES;
			goto out;
		}
		if (!created && t->creds.fsuid != 0) {
			struct linux_statx stx;
			r = v->ops->getattr(v, &stx);
			if (r < 0)
				goto out;
			int mask = 0;
			if (acc == O_RDONLY || acc == O_RDWR)
				mask |= VFS_MAY_READ;
			if (want_write || (flags & O_TRUNC))
				mask |= VFS_MAY_WRITE;
			r = vfs_permission(t, &stx, mask, false);
			if (r < 0)
				goto out;
		}
		bool fs_object = S_ISREG(type) || S_ISDIR(type) || S_ISLNK(type);
		if (vmount_rdonly(v->mnt) && fs_object && (want_write || ((flags & O_TRUNC) && S_ISREG(type)))) {
			r = -EROFS;
			goto out;
		}
		if ((flags & O_TRUNC) && S_ISREG(type) && !created) {
			r = truncate_vnode(v, 0);
			if (r < 0)
				goto out;
			truncated = true;
		}
	}
	r = open_vnode(v, flags, w.canon, out);
	/* Linux reports the open first, then the truncation. */
	if (r >= 0 && !(flags & O_PATH))
		notify_path(t, w.canon, v, WARD_IN_OPEN);
	if (r >= 0 && truncated)
		notify_path(t, w.canon, v, WARD_IN_MODIFY);
out:
	walk_fini(&w);
	return r;
}

long vfs_open_exec(struct task *t, const char *path, struct file **out)
{
	struct walk w;
	struct linux_statx stx;
	long r = vfs_resolve(t, AT_FDCWD, path, WALK_FOLLOW, &w);
	if (r >= 0)
		r = w.cur->ops->getattr(w.cur, &stx);
	if (r >= 0 && !S_ISREG(stx.stx_mode))
		r = -EACCES;
	if (r >= 0 && w.cur->mnt->noexec)
		r = -EACCES;
	if (r >= 0)
		r = vfs_permission(t, &stx, VFS_MAY_EXEC, false);
	if (r >= 0)
		r = open_vnode(w.cur, O_RDONLY, w.canon, out);
	walk_fini(&w);
	return r;
}

/* Path-based operations. */

long vfs_permission(struct task *t, const struct linux_statx *stx, int mask, bool real)
{
	uint32_t uid = real ? t->creds.uid : t->creds.fsuid;
	uint32_t gid = real ? t->creds.gid : t->creds.fsgid;
	uint32_t mode = stx->stx_mode;

	if (uid == 0) {
		if ((mask & VFS_MAY_EXEC) && !S_ISDIR(mode) && !(mode & 0111))
			return -EACCES;
		return 0;
	}
	uint32_t bits;
	if (uid == stx->stx_uid)
		bits = (mode >> 6) & 7;
	else if (gid == stx->stx_gid)
		bits = (mode >> 3) & 7;
	else
		bits = mode & 7;
	return ((uint32_t)mask & ~bits) ? -EACCES : 0;
}

long vfs_statat(struct task *t, int dirfd, const char *path, int at_flags, struct linux_statx *out)
{
	struct walk w;
	long r;

	if (!path[0]) {
		if (!(at_flags & AT_EMPTY_PATH))
			return -ENOENT;
		if (dirfd != AT_FDCWD) {
			struct file *f = fd_get(t, dirfd);
			if (!f)
				return -EBADF;
			r = file_getattr(f, out);
			file_put(f);
			return r;
		}
		r = vfs_resolve_fd(t, dirfd, &w);
	} else {
		r = vfs_resolve(t, dirfd, path, (at_flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW, &w);
	}
	if (r >= 0) {
		memset(out, 0, sizeof(*out));
		r = w.cur->ops->getattr(w.cur, out);
	}
	walk_fini(&w);
	return r;
}

long vfs_statfsat(struct task *t, int dirfd, const char *path, struct linux_statfs *out)
{
	struct walk w;
	long r = vfs_resolve(t, dirfd, path, WALK_FOLLOW, &w);
	if (r >= 0) {
		memset(out, 0, sizeof(*out));
		r = w.cur->ops->statfs ? w.cur->ops->statfs(w.cur, out) : -ENOSYS;
	}
	if (r >= 0) {
		const struct vmount *m = w.cur->mnt;
		out->f_flags |= (vmount_rdonly(m) ? VFS_ST_RDONLY : 0) | (m->nosuid ? 0x2 : 0) | (m->nodev ? 0x4 : 0) |
				(m->noexec ? 0x8 : 0);
	}
	walk_fini(&w);
	return r;
}

long vfs_readlinkat(struct task *t, int dirfd, const char *path, char *buf, size_t len)
{
	struct walk w;
	long r;
	bool empty = !path[0];

	if (empty)
		r = vfs_resolve_fd(t, dirfd, &w);
	else
		r = vfs_resolve(t, dirfd, path, 0, &w);
	if (r >= 0 && (!S_ISLNK(w.cur->type) || !w.cur->ops->read_link))
		r = empty ? -ENOENT : -EINVAL;
	if (r >= 0)
		r = w.cur->ops->read_link(w.cur, buf, len);
	walk_fini(&w);
	return r;
}

long vfs_accessat(struct task *t, int dirfd, const char *path, int mode, int at_flags)
{
	struct walk w;
	struct linux_statx stx;
	long r;
	bool on_ro = false;

	if (!path[0]) {
		if (!(at_flags & AT_EMPTY_PATH))
			return -ENOENT;
		r = vfs_resolve_fd(t, dirfd, &w);
		if (r == -ENOENT && dirfd != AT_FDCWD) {
			/* A file outside the tree (inherited stdio): its own
			 * attributes answer. */
			walk_fini(&w);
			struct file *f = fd_get(t, dirfd);
			if (!f)
				return -EBADF;
			r = file_getattr(f, &stx);
			file_put(f);
			if (r < 0)
				return r;
			return mode == F_OK ? 0 : vfs_permission(t, &stx, mode & 7, !(at_flags & AT_EACCESS));
		}
	} else {
		r = vfs_resolve(t, dirfd, path, (at_flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW, &w);
	}
	if (r >= 0)
		r = w.cur->ops->getattr(w.cur, &stx);
	if (r >= 0) {
		uint32_t type = w.cur->type;
		on_ro = vmount_rdonly(w.cur->mnt) && (S_ISREG(type) || S_ISDIR(type) || S_ISLNK(type));
	}
	walk_fini(&w);
	if (r < 0 || mode == F_OK)
		return r < 0 ? r : 0;
	if ((mode & W_OK) && on_ro)
		return -EROFS;
	/* R_OK, W_OK and X_OK are the kernel's MAY_READ, MAY_WRITE and
	 * MAY_EXEC. */
	return vfs_permission(t, &stx, mode & 7, !(at_flags & AT_EACCESS));
}

static long set_cwd(struct task *t, const char *canon, const struct linux_statx *stx)
{
	if (!S_ISDIR(stx->stx_mode))
		return -ENOTDIR;
	long r = vfs_permission(t, stx, VFS_MAY_EXEC, false);
	if (r < 0)
		return r;
	size_t len = strlen(canon);
	if (len >= sizeof(t->fs->cwd))
		return -ENAMETOOLONG;
	memcpy(t->fs->cwd, canon, len + 1);
	return 0;
}

long vfs_chdir(struct task *t, const char *path)
{
	struct walk w;
	struct linux_statx stx;
	long r = vfs_resolve(t, AT_FDCWD, path, WALK_FOLLOW, &w);
	if (r >= 0)
		r = w.cur->ops->getattr(w.cur, &stx);
	if (r >= 0)
		r = set_cwd(t, w.canon, &stx);
	walk_fini(&w);
	return r;
}

long vfs_fchdir(struct task *t, int fd)
{
	struct linux_statx stx;
	struct file *f = fd_get(t, fd);
	if (!f)
		return -EBADF;
	long r = file_getattr(f, &stx);
	if (r >= 0 && (f->path[0] != '/' || !f->vn))
		r = -ENOTDIR;
	if (r >= 0)
		r = set_cwd(t, f->path, &stx);
	file_put(f);
	return r;
}

/* The write side. */

/* Resolves the parent of a name to create: EEXIST when it exists (a
 * dangling symlink included), as mkdir(2) and friends say. */
static long create_prepare(struct task *t, int dirfd, const char *path, struct walk *w, struct walk_last *last,
			   bool dir_ok_trailing)
{
	long r = vfs_resolve_parent(t, dirfd, path, w, last);
	if (r < 0)
		return r;
	if (name_is_dots(last->name))
		return -EEXIST;
	struct vnode *n;
	r = walk_lookup(w, last->name, &n);
	if (r == 0) {
		vnode_put(n);
		return -EEXIST;
	}
	if (r != -ENOENT)
		return r;
	if (last->trailing_slash && !dir_ok_trailing)
		return -ENOENT;
	return may_change_dir(t, w->cur);
}

long vfs_mknodat(struct task *t, int dirfd, const char *path, uint32_t mode, uint64_t rdev)
{
	struct walk w;
	struct walk_last last;
	uint32_t type = mode & S_IFMT;
	if (type == 0)
		mode |= S_IFREG;
	else if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK && type != S_IFCHR && type != S_IFBLK)
		return -EINVAL;
	if ((type == S_IFCHR || type == S_IFBLK) && t->creds.euid != 0)
		return -EPERM;
	long r = create_prepare(t, dirfd, path, &w, &last, false);
	if (r >= 0 && !w.cur->ops->create)
		r = -EPERM;
	if (r >= 0) {
		struct vfs_owner o = owner_of(t);
		struct vnode *n;
		r = w.cur->ops->create(w.cur, last.name, mode, rdev, &o, &n);
		if (r >= 0) {
			vnode_put(n);
			notify_create(w.cur, last.name, false);
		}
	}
	walk_fini(&w);
	return r < 0 ? r : 0;
}

long vfs_mkdirat(struct task *t, int dirfd, const char *path, uint32_t mode)
{
	struct walk w;
	struct walk_last last;
	long r = create_prepare(t, dirfd, path, &w, &last, true);
	if (r >= 0 && !w.cur->ops->create)
		r = -EPERM;
	if (r >= 0) {
		struct vfs_owner o = owner_of(t);
		struct vnode *n;
		r = w.cur->ops->create(w.cur, last.name, S_IFDIR | (mode & 07777), 0, &o, &n);
		if (r >= 0) {
			vnode_put(n);
			notify_create(w.cur, last.name, true);
		}
	}
	walk_fini(&w);
	return r < 0 ? r : 0;
}

long vfs_symlinkat(struct task *t, const char *target, int dirfd, const char *path)
{
	struct walk w;
	struct walk_last last;
	if (!target[0])
		return -ENOENT;
	long r = create_prepare(t, dirfd, path, &w, &last, false);
	if (r >= 0 && !w.cur->ops->make_symlink)
		r = -EPERM;
	if (r >= 0) {
		struct vfs_owner o = owner_of(t);
		r = w.cur->ops->make_symlink(w.cur, last.name, target, &o);
		if (r >= 0)
			notify_create(w.cur, last.name, false);
	}
	walk_fini(&w);
	return r < 0 ? r : 0;
}

long vfs_linkat(struct task *t, int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int at_flags)
{
	struct walk src, w;
	struct walk_last last;
	long r;

	if (!oldpath[0]) {
		if (!(at_flags & AT_EMPTY_PATH))
			return -ENOENT;
		r = vfs_resolve_fd(t, olddirfd, &src);
	} else {
		r = vfs_resolve(t, olddirfd, oldpath, (at_flags & AT_SYMLINK_FOLLOW) ? WALK_FOLLOW : 0, &src);
	}
	if (r < 0) {
		walk_fini(&src);
		return r;
	}
	if (S_ISDIR(src.cur->type)) {
		walk_fini(&src);
		return -EPERM;
	}
	r = create_prepare(t, newdirfd, newpath, &w, &last, false);
	if (r >= 0 && w.cur->mnt != src.cur->mnt)
		r = -EXDEV;
	if (r >= 0 && !w.cur->ops->make_link)
		r = -EPERM;
	if (r >= 0)
		r = w.cur->ops->make_link(w.cur, last.name, src.cur);
	if (r >= 0 && inotify_active()) {
		struct inotify_key k = inotify_key_of(src.cur);
		inotify_notify(NULL, NULL, &k, WARD_IN_ATTRIB, 0);
		notify_create(w.cur, last.name, false);
	}
	walk_fini(&w);
	walk_fini(&src);
	return r < 0 ? r : 0;
}

static long vfs_unlinkat_do(struct task *t, int dirfd, const char *path, int at_flags)
{
	struct walk w;
	struct walk_last last;
	bool is_dir = at_flags & AT_REMOVEDIR;
	long r = vfs_resolve_parent(t, dirfd, path, &w, &last);
	if (r < 0)
		goto out;
	if (is_dir && strcmp(last.name, ".") == 0) {
		r = -EINVAL;
		goto out;
	}
	if (is_dir && (strcmp(last.name, "..") == 0 || !last.name[0])) {
		r = -ENOTEMPTY;
		goto out;
	}
	if (!is_dir && name_is_dots(last.name)) {
		r = -EISDIR;
		goto out;
	}
	struct vnode *n;
	r = walk_lookup(&w, last.name, &n);
	if (r < 0)
		goto out;
	char canon[VFS_PATH_MAX];
	memcpy(canon, w.canon, strlen(w.canon) + 1);
	vfs_canon_push(canon, sizeof(canon), last.name, strlen(last.name));
	if (vmount_at(canon) || n->mnt != w.cur->mnt)
		r = -EBUSY;
	else if (is_dir && !S_ISDIR(n->type))
		r = -ENOTDIR;
	else if (!is_dir && S_ISDIR(n->type))
		r = -EISDIR;
	else if (!is_dir && last.trailing_slash)
		r = S_ISLNK(n->type) ? -ENOTDIR : -ENOTDIR;
	if (r >= 0)
		r = may_change_dir(t, w.cur);
	if (r >= 0)
		r = may_delete(t, w.cur, n);
	struct inotify_key nk = { 0 };
	if (r >= 0 && inotify_active())
		nk = inotify_key_of(n);
	vnode_put(n);
	if (r >= 0)
		r = w.cur->ops->remove ? w.cur->ops->remove(w.cur, last.name, is_dir) : -EPERM;
	if (r >= 0 && inotify_active()) {
		struct inotify_key dk = inotify_key_of(w.cur);
		notify_unlinked(&nk);
		inotify_notify(&dk, last.name, NULL, WARD_IN_DELETE | (is_dir ? WARD_IN_ISDIR : 0), 0);
	}
out:
	walk_fini(&w);
	return r < 0 ? r : 0;
}

static long vfs_renameat_do(struct task *t, int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
			    unsigned int flags)
{
	struct walk ow, nw;
	struct walk_last olast, nlast;
	struct vnode *on = NULL, *nn = NULL;
	long r;

	if (flags & ~(unsigned int)(VFS_RENAME_NOREPLACE | VFS_RENAME_EXCHANGE | VFS_RENAME_WHITEOUT))
		return -EINVAL;
	if ((flags & VFS_RENAME_EXCHANGE) && (flags & (VFS_RENAME_NOREPLACE | VFS_RENAME_WHITEOUT)))
		return -EINVAL;
	if (flags & VFS_RENAME_WHITEOUT)
		return -EOPNOTSUPP; /* needs CAP_MKNOD and overlay's own use */
	r = vfs_resolve_parent(t, olddirfd, oldpath, &ow, &olast);
	long r2 = vfs_resolve_parent(t, newdirfd, newpath, &nw, &nlast);
	if (r < 0 || r2 < 0) {
		r = r < 0 ? r : r2;
		goto out;
	}
	if (name_is_dots(olast.name) || name_is_dots(nlast.name)) {
		r = -EBUSY;
		if (strcmp(olast.name, ".") == 0 || strcmp(nlast.name, ".") == 0 || !olast.name[0] || !nlast.name[0])
			r = -EBUSY;
		if ((flags & VFS_RENAME_NOREPLACE) && name_is_dots(nlast.name))
			r = -EEXIST;
		goto out;
	}
	r = walk_lookup(&ow, olast.name, &on);
	if (r < 0)
		goto out;
	r = walk_lookup(&nw, nlast.name, &nn);
	if (r == -ENOENT) {
		nn = NULL;
		r = 0;
		if (flags & VFS_RENAME_EXCHANGE) {
			r = -ENOENT;
			goto out;
		}
	}
	if (r < 0)
		goto out;
	if (nn && (flags & VFS_RENAME_NOREPLACE)) {
		r = -EEXIST;
		goto out;
	}
	/* A trailing slash names a directory. */
	if ((olast.trailing_slash && !S_ISDIR(on->type)) || (nlast.trailing_slash && !S_ISDIR(on->type))) {
		r = -ENOTDIR;
		goto out;
	}
	if (ow.cur->mnt != nw.cur->mnt || on->mnt != ow.cur->mnt || (nn && nn->mnt != nw.cur->mnt)) {
		r = -EXDEV;
		goto out;
	}
	char ocanon[VFS_PATH_MAX], ncanon[VFS_PATH_MAX];
	memcpy(ocanon, ow.canon, strlen(ow.canon) + 1);
	vfs_canon_push(ocanon, sizeof(ocanon), olast.name, strlen(olast.name));
	memcpy(ncanon, nw.canon, strlen(nw.canon) + 1);
	vfs_canon_push(ncanon, sizeof(ncanon), nlast.name, strlen(nlast.name));
	if (strcmp(ocanon, ncanon) == 0) {
		r = 0;
		goto out;
	}
	if (vmount_within(ocanon) || (nn && vmount_within(ncanon))) {
		r = -EBUSY;
		goto out;
	}
	if (!(flags & VFS_RENAME_EXCHANGE) && nn) {
		if (S_ISDIR(on->type) && !S_ISDIR(nn->type)) {
			r = -ENOTDIR;
			goto out;
		}
		if (!S_ISDIR(on->type) && S_ISDIR(nn->type)) {
			r = -EISDIR;
			goto out;
		}
	}
	/* A directory may not move below itself; nor may the target be an
	 * ancestor of the source. */
	size_t ol = strlen(ocanon), nl = strlen(ncanon);
	if (S_ISDIR(on->type) && nl > ol && strncmp(ncanon, ocanon, ol) == 0 && ncanon[ol] == '/') {
		r = -EINVAL;
		goto out;
	}
	if (nn && ol > nl && strncmp(ocanon, ncanon, nl) == 0 && ocanon[nl] == '/') {
		r = (flags & VFS_RENAME_EXCHANGE) ? -EINVAL : -ENOTEMPTY;
		goto out;
	}
	r = may_change_dir(t, ow.cur);
	if (r >= 0)
		r = may_change_dir(t, nw.cur);
	if (r >= 0)
		r = may_delete(t, ow.cur, on);
	if (r >= 0 && nn)
		r = may_delete(t, nw.cur, nn);
	struct inotify_key ok = { 0 }, nk = { 0 }, odk = { 0 }, ndk = { 0 };
	if (r >= 0 && inotify_active()) {
		ok = inotify_key_of(on);
		nk = inotify_key_of(nn);
		odk = inotify_key_of(ow.cur);
		ndk = inotify_key_of(nw.cur);
	}
	if (r >= 0)
		r = ow.cur->ops->move ? ow.cur->ops->move(ow.cur, olast.name, nw.cur, nlast.name, flags) : -EPERM;
	if (r >= 0 && inotify_active()) {
		/* fsnotify_move, once each way for an exchange. */
		uint32_t cookie = inotify_next_cookie();
		uint32_t isdir = S_ISDIR(on->type) ? WARD_IN_ISDIR : 0;
		inotify_notify(&odk, olast.name, NULL, WARD_IN_MOVED_FROM | isdir, cookie);
		inotify_notify(&ndk, nlast.name, NULL, WARD_IN_MOVED_TO | isdir, cookie);
		if (nn && !(flags & VFS_RENAME_EXCHANGE) && !S_ISDIR(nn->type))
			inotify_notify(NULL, NULL, &nk, WARD_IN_ATTRIB, 0);
		inotify_notify(NULL, NULL, &ok, WARD_IN_MOVE_SELF, 0);
		if (nn && (flags & VFS_RENAME_EXCHANGE)) {
			cookie = inotify_next_cookie();
			isdir = S_ISDIR(nn->type) ? WARD_IN_ISDIR : 0;
			inotify_notify(&ndk, nlast.name, NULL, WARD_IN_MOVED_FROM | isdir, cookie);
			inotify_notify(&odk, olast.name, NULL, WARD_IN_MOVED_TO | isdir, cookie);
			inotify_notify(NULL, NULL, &nk, WARD_IN_MOVE_SELF, 0);
		} else if (nn && nk.valid && (S_ISDIR(nk.mode) || nk.nlink <= 1)) {
			inotify_gone(&nk);
		}
	}
	if (r >= 0) {
		struct rekey k = {
			.map = rename_map, .a = ocanon, .b = ncanon, .exchange = flags & VFS_RENAME_EXCHANGE
		};
		rekey_all(&k);
	}
out:
	vnode_put(on);
	vnode_put(nn);
	walk_fini(&ow);
	walk_fini(&nw);
	return r < 0 ? r : 0;
}

/* Checks an attribute change against the owner rules of chmod(2),
 * chown(2), truncate(2) and utimensat(2), then applies it. */
static long setattr_vnode(struct task *t, struct vnode *v, const struct vattr *a)
{
	struct linux_statx stx;
	long r = v->ops->getattr(v, &stx);
	if (r < 0)
		return r;
	if (a->valid & VATTR_SIZE) {
		if (S_ISDIR(stx.stx_mode))
			return -EISDIR;
		if (!S_ISREG(stx.stx_mode))
			return -EINVAL;
	}
	if (vmount_rdonly(v->mnt))
		return -EROFS;
	uint32_t uid = t->creds.fsuid;
	if (uid != 0) {
		if ((a->valid & (VATTR_MODE | VATTR_UID | VATTR_GID)) && uid != stx.stx_uid)
			return -EPERM;
		if ((a->valid & VATTR_UID) && a->uid != stx.stx_uid)
			return -EPERM;
		if ((a->valid & VATTR_SIZE) && vfs_permission(t, &stx, VFS_MAY_WRITE, false) < 0)
			return -EACCES;
	}
	if (!v->ops->setattr)
		return -EPERM;
	struct vattr b = *a;
	/* chown clears set-user-ID and set-group-ID bits of executables. */
	if ((a->valid & (VATTR_UID | VATTR_GID)) && !(a->valid & VATTR_MODE) && S_ISREG(stx.stx_mode) &&
	    (stx.stx_mode & 06000)) {
		b.valid |= VATTR_MODE;
		b.mode = stx.stx_mode & 07777 & ~(uint32_t)S_ISUID;
		if (stx.stx_mode & S_IXGRP)
			b.mode &= ~(uint32_t)S_ISGID;
	}
	return v->ops->setattr(v, &b);
}

/* The event of an attribute change (fsnotify_change). */
static uint32_t setattr_event(const struct vattr *a)
{
	uint32_t mask = 0;
	if (a->valid & (VATTR_UID | VATTR_GID | VATTR_MODE))
		mask |= WARD_IN_ATTRIB;
	if (a->valid & VATTR_SIZE)
		mask |= WARD_IN_MODIFY;
	if ((a->valid & (VATTR_ATIME | VATTR_MTIME)) == (VATTR_ATIME | VATTR_MTIME))
		mask |= WARD_IN_ATTRIB;
	else if (a->valid & VATTR_ATIME)
		mask |= WARD_IN_ACCESS;
	else if (a->valid & VATTR_MTIME)
		mask |= WARD_IN_MODIFY;
	return mask;
}

long vfs_setattrat(struct task *t, int dirfd, const char *path, int at_flags, const struct vattr *a)
{
	struct walk w;
	long r;
	if (!path || !path[0]) {
		if (path && !(at_flags & AT_EMPTY_PATH))
			return -ENOENT;
		if (dirfd == AT_FDCWD) {
			r = vfs_resolve_fd(t, dirfd, &w);
		} else {
			struct file *f = fd_get(t, dirfd);
			if (!f)
				return -EBADF;
			r = vfs_setattr_file(t, f, a);
			file_put(f);
			return r;
		}
	} else {
		r = vfs_resolve(t, dirfd, path, (at_flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW, &w);
	}
	if (r >= 0)
		r = setattr_vnode(t, w.cur, a);
	if (r >= 0)
		notify_path(t, w.canon, w.cur, setattr_event(a));
	walk_fini(&w);
	return r;
}

long vfs_resolve_vnode(struct task *t, int dirfd, const char *path, int at_flags, struct vnode **out)
{
	struct walk w;
	long r;
	if (!path[0]) {
		if (!(at_flags & AT_EMPTY_PATH))
			return -ENOENT;
		r = vfs_resolve_fd(t, dirfd, &w);
	} else {
		r = vfs_resolve(t, dirfd, path, (at_flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW, &w);
	}
	if (r >= 0)
		*out = vnode_get(w.cur);
	walk_fini(&w);
	return r;
}

long vfs_setattr_file(struct task *t, struct file *f, const struct vattr *a)
{
	if (!f->vn)
		return (a->valid & VATTR_SIZE) ? -EINVAL : -EPERM;
	long r = setattr_vnode(t, f->vn, a);
	if (r >= 0 && f->path && f->path[0] == '/')
		notify_path(t, f->path, f->vn, setattr_event(a));
	return r;
}

/* Empty directories of the sentry's own (none is mounted by default now
 * that /proc and /sys have contents; kept for file systems to come). */

struct emptydir {
	int64_t magic;
	uint32_t minor;
};

static long emptydir_getattr(struct vnode *v, struct linux_statx *out)
{
	const struct emptydir *d = v->priv;
	memset(out, 0, sizeof(*out));
	out->stx_mask = LINUX_STATX_BASIC_STATS | LINUX_STATX_BTIME;
	out->stx_blksize = 4096;
	out->stx_nlink = 2;
	out->stx_mode = S_IFDIR | 0555;
	out->stx_ino = 1;
	out->stx_atime = out->stx_btime = out->stx_ctime = out->stx_mtime = vfs_boot;
	out->stx_dev_major = 0;
	out->stx_dev_minor = d->minor;
	return 0;
}

static long emptydir_statfs(struct vnode *v, struct linux_statfs *out)
{
	vfs_synthetic_statfs(((const struct emptydir *)v->priv)->magic, out);
	return 0;
}

static long emptydir_read(struct file *f, void *buf, size_t len, uint64_t *pos)
{
	return -EISDIR;
}

static long emptydir_getdents(struct file *f, void *buf, size_t len)
{
	static const char *const names[] = { ".", ".." };
	size_t used = 0;
	while (f->pos < WARD_ARRAY_SIZE(names)) {
		/* ".." of a mount directly under "/" is the root. */
		long r = vfs_dirent_emit(buf, len, &used, f->pos == 0 ? 1 : 2, (int64_t)f->pos + 1, 4 /* DT_DIR */,
					 names[f->pos]);
		if (r < 0)
			return used ? (long)used : r;
		f->pos++;
	}
	return (long)used;
}

static long emptydir_seek(struct file *f, int64_t off, int whence)
{
	return vfs_generic_seek(f, off, whence, 2);
}

static long emptydir_fstatfs(struct file *f, struct linux_statfs *out)
{
	return emptydir_statfs(f->vn, out);
}

static const struct file_ops emptydir_fops = {
	.read_buf = emptydir_read,
	.seek = emptydir_seek,
	.getdents_buf = emptydir_getdents,
	.statfs = emptydir_fstatfs,
};

static const struct file_ops emptydir_path_fops = {
	.statfs = emptydir_fstatfs,
};

static long emptydir_open(struct vnode *v, int flags, const char *path, struct file **out)
{
	struct file *f =
		file_alloc((flags & O_PATH) ? &emptydir_path_fops : &emptydir_fops, (uint32_t)flags, path, NULL);
	if (!f)
		return -ENOMEM;
	*out = f;
	return 0;
}

static void emptydir_release(struct vnode *v)
{
	free(v->priv);
}

static const struct vnode_ops emptydir_ops = {
	.getattr = emptydir_getattr,
	.open_file = emptydir_open,
	.statfs = emptydir_statfs,
	.release = emptydir_release,
};

long emptydir_root(int64_t magic, uint32_t minor, struct vmount *mnt, struct vnode **out)
{
	struct emptydir *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->magic = magic;
	d->minor = minor;
	struct vnode *v = vnode_alloc(&emptydir_ops, mnt, S_IFDIR, d);
	if (!v) {
		free(d);
		return -ENOMEM;
	}
	*out = v;
	return 0;
}

/* The changes that may make a path name another object, or none: each
 * empties the cwd cache when it is done. */

long vfs_mount(struct task *t, const char *source, const char *target, const char *fstype, unsigned long flags,
	       const char *data)
{
	long r = vfs_mount_do(t, source, target, fstype, flags, data);
	cwd_cache_flush();
	return r;
}

long vfs_umount(struct task *t, const char *target, int flags)
{
	long r = vfs_umount_do(t, target, flags);
	cwd_cache_flush();
	return r;
}

long vfs_chroot(struct task *t, const char *path)
{
	long r = vfs_chroot_do(t, path);
	cwd_cache_flush();
	return r;
}

long vfs_pivot_root(struct task *t, const char *new_root, const char *put_old)
{
	long r = vfs_pivot_root_do(t, new_root, put_old);
	cwd_cache_flush();
	return r;
}

long vfs_unlinkat(struct task *t, int dirfd, const char *path, int at_flags)
{
	long r = vfs_unlinkat_do(t, dirfd, path, at_flags);
	cwd_cache_flush();
	return r;
}

long vfs_renameat(struct task *t, int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
		  unsigned int flags)
{
	long r = vfs_renameat_do(t, olddirfd, oldpath, newdirfd, newpath, flags);
	cwd_cache_flush();
	return r;
}

long vfs_mount_tmpfs(const char *guest_path)
{
	long r = vfs_mount_tmpfs_do(guest_path);
	cwd_cache_flush();
	return r;
}

long vfs_mount_host(const char *host_path, const char *guest_path, bool writable)
{
	long r = vfs_mount_host_do(host_path, guest_path, writable);
	cwd_cache_flush();
	return r;
}
