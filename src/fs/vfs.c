/* Path resolution and the mount table.
 *
 * The sentry resolves every guest path itself, one component at a time, in
 * the guest's view of the file system: the root is a host directory
 * (read-only), /dev is devfs and /proc and /sys are empty directories of the
 * sentry's own, which shadow whatever the host has there. Host components
 * are looked up with ward_host_lookup, which never follows symlinks nor
 * leaves the root; symlinks are read and followed here.
 *
 * A walk keeps the current directory (one node) and its canonical path. The
 * root is read-only, so a canonical path names the same object for as long
 * as the sandbox runs: ".." and descriptors used as starting points are
 * re-walked from the root along their canonical path rather than kept open
 * level by level, which bounds the host handles a walk holds to two. */
#include "sentry/service.h"

#include "fs/vfs_internal.h"
#include "sentry/kernel/task.h"

#define VFS_PATH_MAX 4096
#define VFS_NAME_MAX 255
#define VFS_MAXSYMLINKS 40

#define VFS_ST_RDONLY 0x1

enum vnode_kind {
	VN_HOST,
	VN_DEVDIR,
	VN_DEV,
	VN_EMPTYDIR,
};

/* One object of the guest's file system during a walk. */
struct vnode {
	enum vnode_kind kind;
	int index; /* VN_DEV: the device; VN_EMPTYDIR: which directory */
	ward_hostfd_t h; /* VN_HOST: an O_PATH handle */
	bool owned; /* h is ours to close (the root handle is not) */
	uint32_t type; /* S_IFMT bits, always known */
};

struct walk {
	struct task *t;
	struct vnode cur;
	char canon[VFS_PATH_MAX];
	int links;
};

/* The mounts of the sentry's own file systems, all directly under "/". */
static const struct {
	const char *name;
	enum vnode_kind kind;
	int index;
} vfs_mounts[] = {
	{ "dev", VN_DEVDIR, 0 },
	{ "proc", VN_EMPTYDIR, 0 },
	{ "sys", VN_EMPTYDIR, 1 },
};

static ward_hostfd_t vfs_root = { -1 };
static struct linux_statx_timestamp vfs_boot;

#define WALK_FOLLOW 0x1 /* follow a symlink as the last component */
#define WALK_PARENT 0x2 /* stop before the last component */

struct walk_last {
	char name[VFS_NAME_MAX + 1];
	bool trailing_slash;
};

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
	if (f->ops && f->ops->release)
		f->ops->release(f);
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
	if (!f->ops->getattr)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	return f->ops->getattr(f, out);
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
		if ((uint64_t)off >= size)
			return -ENXIO;
		f->pos = (uint64_t)off;
		return off;
	case SEEK_HOLE:
		if ((uint64_t)off >= size)
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

void vfs_synthetic_statfs(int64_t magic, struct linux_statfs *out)
{
	memset(out, 0, sizeof(*out));
	out->f_type = magic;
	out->f_bsize = 4096;
	out->f_namelen = VFS_NAME_MAX;
	out->f_frsize = 4096;
	out->f_flags = 0x20; /* ST_VALID */
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

/* Nodes. */

static void node_release(struct vnode *n)
{
	if (n->kind == VN_HOST && n->owned)
		ward_host_close(n->h);
	n->owned = false;
	n->h = WARD_HOSTFD_NONE;
}

static struct vnode node_root(void)
{
	return (struct vnode){ .kind = VN_HOST, .h = vfs_root, .owned = false, .type = S_IFDIR };
}

static long node_stat(const struct vnode *n, struct linux_statx *out)
{
	memset(out, 0, sizeof(*out));
	switch (n->kind) {
	case VN_HOST: {
		long r = ward_host_statx(n->h, out);
		if (r < 0)
			return r;
		/* The guest learns nothing of the host's mounts. */
		out->stx_mask &= LINUX_STATX_BASIC_STATS | LINUX_STATX_BTIME;
		out->stx_mnt_id = 0;
		return 0;
	}
	case VN_DEVDIR:
		return devfs_getattr_dir(out);
	case VN_DEV:
		return devfs_getattr_dev(n->index, out);
	case VN_EMPTYDIR:
		return vfs_emptydir_getattr(n->index, out);
	}
	return -EINVAL;
}

/* True for the objects of the read-only host root that Linux refuses to
 * write on a read-only mount (devices and fifos stay writable). */
static bool node_readonly(const struct vnode *n)
{
	return n->kind == VN_HOST && (S_ISREG(n->type) || S_ISDIR(n->type) || S_ISLNK(n->type));
}

/* Walks. */

static void walk_init(struct walk *w, struct task *t)
{
	w->t = t;
	w->cur = node_root();
	w->canon[0] = '/';
	w->canon[1] = '\0';
	w->links = 0;
}

static void walk_fini(struct walk *w)
{
	node_release(&w->cur);
}

static void walk_set(struct walk *w, struct vnode n)
{
	node_release(&w->cur);
	w->cur = n;
}

/* Looks name up in the current directory. trusted: name is a component of
 * a canonical path, so a directory and never a symlink. */
static long walk_lookup(struct walk *w, const char *name, bool trusted, struct vnode *out)
{
	switch (w->cur.kind) {
	case VN_HOST:
		break;
	case VN_DEVDIR: {
		long idx = devfs_lookup(name);
		if (idx < 0)
			return idx;
		*out = (struct vnode){ .kind = VN_DEV, .index = (int)idx, .h = WARD_HOSTFD_NONE, .type = S_IFCHR };
		return 0;
	}
	case VN_EMPTYDIR:
		return -ENOENT;
	case VN_DEV:
		return -ENOTDIR;
	}
	if (w->canon[0] == '/' && w->canon[1] == '\0') {
		for (size_t i = 0; i < WARD_ARRAY_SIZE(vfs_mounts); i++) {
			if (strcmp(name, vfs_mounts[i].name) != 0)
				continue;
			*out = (struct vnode){ .kind = vfs_mounts[i].kind,
					       .index = vfs_mounts[i].index,
					       .h = WARD_HOSTFD_NONE,
					       .type = S_IFDIR };
			return 0;
		}
	}
	ward_hostfd_t h;
	long r = ward_host_lookup(w->cur.h, name, trusted ? WARD_HOST_DIRECTORY : 0, &h);
	if (r < 0)
		return r;
	*out = (struct vnode){ .kind = VN_HOST, .h = h, .owned = true, .type = S_IFDIR };
	if (trusted)
		return 0;
	struct linux_statx stx;
	r = ward_host_statx(h, &stx);
	if (r < 0) {
		ward_host_close(h);
		return r;
	}
	out->type = stx.stx_mode & S_IFMT;
	return 0;
}

/* Moves the walk to the canonical path canon, component by component from
 * the root. */
static long walk_canonical(struct walk *w, const char *canon)
{
	/* Heap, not stack: walks recurse once per symlink followed. */
	cleanup_free char *copy = strdup(canon);
	if (!copy)
		return -ENOMEM;
	walk_set(w, node_root());
	w->canon[0] = '/';
	w->canon[1] = '\0';
	char *save = NULL;
	for (char *name = strtok_r(copy, "/", &save); name; name = strtok_r(NULL, "/", &save)) {
		struct vnode n;
		long r = walk_lookup(w, name, true, &n);
		if (r < 0)
			return r;
		walk_set(w, n);
		r = vfs_canon_push(w->canon, sizeof(w->canon), name, strlen(name));
		if (r < 0)
			return r;
	}
	return 0;
}

/* Search permission on the current directory, for tasks that are not
 * root: root searches any directory. */
static long walk_may_search(struct walk *w)
{
	if (!w->t || w->t->creds.fsuid == 0)
		return 0;
	struct linux_statx stx;
	long r = node_stat(&w->cur, &stx);
	if (r < 0)
		return r;
	return vfs_permission(w->t, &stx, VFS_MAY_EXEC, false);
}

static long walk_path(struct walk *w, const char *path, int flags, struct walk_last *last_out);

/* Follows the symlink n (a child of the current directory, which it
 * consumes): the walk continues along its target from the current
 * directory. */
static long walk_follow(struct walk *w, struct vnode *n)
{
	if (++w->links > VFS_MAXSYMLINKS) {
		node_release(n);
		return -ELOOP;
	}
	cleanup_free char *target = malloc(VFS_PATH_MAX);
	if (!target) {
		node_release(n);
		return -ENOMEM;
	}
	long len = ward_host_readlink(n->h, target, VFS_PATH_MAX - 1);
	node_release(n);
	if (len < 0)
		return len;
	if (len == 0)
		return -ENOENT;
	target[len] = '\0';
	return walk_path(w, target, WALK_FOLLOW, NULL);
}

/* Walks path from the current directory (or the root if it is absolute).
 * With WALK_PARENT it stops at the last component's directory and names
 * the component in last_out ("" for a path of slashes alone). */
static long walk_path(struct walk *w, const char *path, int flags, struct walk_last *last_out)
{
	const char *p = path;
	long r;

	if (*p == '/') {
		walk_set(w, node_root());
		w->canon[0] = '/';
		w->canon[1] = '\0';
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
		if (!S_ISDIR(w->cur.type))
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
			if (w->canon[1] == '\0')
				continue;
			vfs_canon_push(w->canon, sizeof(w->canon), "..", 2);
			r = walk_canonical(w, w->canon);
			if (r < 0)
				return r;
			continue;
		}
		struct vnode n;
		r = walk_lookup(w, name, false, &n);
		if (r < 0)
			return r;
		if (S_ISLNK(n.type) && (!last || trailing || (flags & WALK_FOLLOW))) {
			r = walk_follow(w, &n);
			if (r < 0)
				return r;
		} else {
			r = vfs_canon_push(w->canon, sizeof(w->canon), name, len);
			if (r < 0) {
				node_release(&n);
				return r;
			}
			walk_set(w, n);
		}
		if (trailing && !S_ISDIR(w->cur.type))
			return -ENOTDIR;
	}
}

/* Places the walk where a relative path starts: dirfd's directory or the
 * cwd. Absolute paths ignore dirfd, as openat(2) says. */
static long walk_start(struct walk *w, struct task *t, int dirfd, const char *path)
{
	walk_init(w, t);
	if (path[0] == '/')
		return 0;
	if (dirfd == AT_FDCWD)
		return walk_canonical(w, t->fs->cwd);
	struct file *f = fd_get(t, dirfd);
	if (!f)
		return -EBADF;
	struct linux_statx stx;
	long r = file_getattr(f, &stx);
	if (r >= 0 && !S_ISDIR(stx.stx_mode))
		r = -ENOTDIR;
	if (r >= 0 && f->path[0] != '/')
		r = -ENOTDIR;
	if (r >= 0)
		r = walk_canonical(w, f->path);
	file_put(f);
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

/* Resolves the object a descriptor names, for AT_EMPTY_PATH: the
 * canonical path of the file, without following a final symlink (an
 * O_PATH | O_NOFOLLOW descriptor names the link). Files with no path in the
 * guest's tree (inherited stdio) give -ENOENT: callers use the file itself. */
static long vfs_resolve_fd(struct task *t, int dirfd, struct walk *w)
{
	walk_init(w, t);
	if (dirfd == AT_FDCWD)
		return walk_canonical(w, t->fs->cwd);
	struct file *f = fd_get(t, dirfd);
	if (!f)
		return -EBADF;
	long r = f->path[0] == '/' ? walk_path(w, f->path, 0, NULL) : -ENOENT;
	file_put(f);
	return r;
}

/* Setup. */

long vfs_init(const char *host_root)
{
	ward_hostfd_t root;
	long r = ward_host_open_root(host_root ? host_root : "/", &root);
	if (r < 0)
		return r;
	if (ward_hostfd_valid(vfs_root))
		ward_host_close(vfs_root);
	vfs_root = root;
	struct linux_timespec now;
	if (ward_host_clock_gettime(CLOCK_REALTIME, &now) >= 0)
		vfs_boot = (struct linux_statx_timestamp){ .tv_sec = now.tv_sec, .tv_nsec = (uint32_t)now.tv_nsec };
	return 0;
}

/* Opening. */

/* The open(2) flags a file description keeps (F_GETFL shows them). */
#define VFS_KEPT_FLAGS                                                                                             \
	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_ASYNC | O_DIRECT | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | \
	 O_SYNC | O_PATH | VFS_O_LARGEFILE)

static long open_node(struct walk *w, int flags, struct file **out)
{
	uint32_t fflags = (uint32_t)flags & VFS_KEPT_FLAGS;
	if (!(flags & O_PATH))
		fflags |= VFS_O_LARGEFILE;
	switch (w->cur.kind) {
	case VN_HOST: {
		struct linux_statx stx;
		long r = node_stat(&w->cur, &stx);
		if (r < 0)
			return r;
		return hostfs_open(w->cur.h, &stx, (int)fflags, w->canon, out);
	}
	case VN_DEVDIR:
		return devfs_open_dir((int)fflags, w->canon, out);
	case VN_DEV:
		return devfs_open_dev(w->cur.index, (int)fflags, w->canon, out);
	case VN_EMPTYDIR:
		return vfs_emptydir_open(w->cur.index, (int)fflags, w->canon, out);
	}
	return -EINVAL;
}

/* The last component of an O_CREAT open: creation is refused (the root is
 * read-only, the sentry's directories are its own), an existing object is
 * opened as without O_CREAT. */
static long open_creat(struct walk *w, const char *path, int flags)
{
	struct walk_last last;
	long r = walk_path(w, path, WALK_PARENT, &last);
	if (r < 0)
		return r;
	if (!last.name[0] || strcmp(last.name, ".") == 0 || strcmp(last.name, "..") == 0 || last.trailing_slash)
		return -EISDIR;
	struct vnode n;
	r = walk_lookup(w, last.name, false, &n);
	if (r == -ENOENT)
		return w->cur.kind == VN_HOST ? -EROFS : -EACCES;
	if (r < 0)
		return r;
	if (flags & O_EXCL) {
		node_release(&n);
		return -EEXIST;
	}
	if (S_ISLNK(n.type)) {
		if (flags & O_NOFOLLOW) {
			node_release(&n);
			return -ELOOP;
		}
		r = walk_follow(w, &n);
		if (r == -ENOENT)
			return -EROFS;
		return r;
	}
	if (S_ISDIR(n.type)) {
		node_release(&n);
		return -EISDIR;
	}
	r = vfs_canon_push(w->canon, sizeof(w->canon), last.name, strlen(last.name));
	if (r < 0) {
		node_release(&n);
		return r;
	}
	walk_set(w, n);
	return 0;
}

long vfs_openat(struct task *t, int dirfd, const char *path, int flags, uint32_t mode, struct file **out)
{
	struct walk w;
	long r;
	(void)mode; /* nothing is ever created */

	if (flags & O_PATH)
		flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int acc = flags & O_ACCMODE;
	bool want_write = acc == O_WRONLY || acc == O_RDWR || acc == O_ACCMODE;
	bool tmpfile = (flags & O_TMPFILE) == O_TMPFILE;
	if (tmpfile && !want_write)
		return -EINVAL;
	if (strlen(path) >= VFS_PATH_MAX)
		return -ENAMETOOLONG;

	r = walk_start(&w, t, dirfd, path);
	if (r >= 0 && !path[0])
		r = -ENOENT;
	if (r >= 0) {
		if ((flags & O_CREAT) && !tmpfile)
			r = open_creat(&w, path, flags);
		else
			r = walk_path(&w, path, (flags & O_NOFOLLOW) ? 0 : WALK_FOLLOW, NULL);
	}
	if (r < 0)
		goto out;

	uint32_t type = w.cur.type;
	if (S_ISLNK(type) && !(flags & O_PATH)) {
		r = -ELOOP;
		goto out;
	}
	if ((flags & O_DIRECTORY) && !S_ISDIR(type)) {
		r = -ENOTDIR;
		goto out;
	}
	if (tmpfile) {
		r = w.cur.kind == VN_HOST ? -EROFS : -EOPNOTSUPP;
		goto out;
	}
	if (!(flags & O_PATH)) {
		if (S_ISDIR(type) && want_write) {
			r = -EISDIR;
			goto out;
		}
		if (t->creds.fsuid != 0) {
			struct linux_statx stx;
			r = node_stat(&w.cur, &stx);
			if (r < 0)
				goto out;
			int mask = 0;
			if (acc == O_RDONLY || acc == O_RDWR)
				mask |= VFS_MAY_READ;
			if (want_write)
				mask |= VFS_MAY_WRITE;
			r = vfs_permission(t, &stx, mask, false);
			if (r < 0)
				goto out;
		}
		if (node_readonly(&w.cur) && (want_write || ((flags & O_TRUNC) && S_ISREG(type)))) {
			r = -EROFS;
			goto out;
		}
		if (w.cur.kind == VN_HOST && !S_ISREG(type) && !S_ISDIR(type)) {
			/* Host devices, fifos and sockets stay out of reach: a
			 * fifo would block the sentry, a device is the host's. */
			r = S_ISSOCK(type) ? -ENXIO : -EACCES;
			goto out;
		}
	}
	r = open_node(&w, flags, out);
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
		r = node_stat(&w.cur, &stx);
	if (r >= 0 && !S_ISREG(stx.stx_mode))
		r = -EACCES;
	if (r >= 0)
		r = vfs_permission(t, &stx, VFS_MAY_EXEC, false);
	if (r >= 0)
		r = open_node(&w, O_RDONLY, out);
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
	if (r >= 0)
		r = node_stat(&w.cur, out);
	walk_fini(&w);
	return r;
}

static long node_statfs(const struct vnode *n, struct linux_statfs *out)
{
	switch (n->kind) {
	case VN_HOST: {
		long r = ward_host_statfs(n->h, out);
		if (r < 0)
			return r;
		out->f_flags |= VFS_ST_RDONLY;
		return 0;
	}
	case VN_DEVDIR:
	case VN_DEV:
		vfs_synthetic_statfs(0x01021994, out); /* TMPFS_MAGIC, as devtmpfs */
		return 0;
	case VN_EMPTYDIR:
		vfs_synthetic_statfs(n->index == 0 ? 0x9fa0 : 0x62656572, out); /* PROC_SUPER_MAGIC, SYSFS_MAGIC */
		return 0;
	}
	return -EINVAL;
}

long vfs_statfsat(struct task *t, int dirfd, const char *path, struct linux_statfs *out)
{
	struct walk w;
	long r = vfs_resolve(t, dirfd, path, WALK_FOLLOW, &w);
	if (r >= 0)
		r = node_statfs(&w.cur, out);
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
	if (r >= 0 && (w.cur.kind != VN_HOST || !S_ISLNK(w.cur.type)))
		r = empty ? -ENOENT : -EINVAL;
	if (r >= 0)
		r = ward_host_readlink(w.cur.h, buf, len);
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
		r = node_stat(&w.cur, &stx);
	if (r >= 0)
		on_ro = node_readonly(&w.cur);
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
		r = node_stat(&w.cur, &stx);
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
	if (r >= 0 && f->path[0] != '/')
		r = -ENOTDIR;
	if (r >= 0)
		r = set_cwd(t, f->path, &stx);
	file_put(f);
	return r;
}

/* The empty directories: /proc and /sys until they have contents. */

static const char *const emptydir_names[] = { "/proc", "/sys" };
/* What a file's priv points at: which directory it is. */
static const int emptydir_index[2] = { 0, 1 };

long vfs_emptydir_getattr(int which, struct linux_statx *out)
{
	memset(out, 0, sizeof(*out));
	out->stx_mask = LINUX_STATX_BASIC_STATS | LINUX_STATX_BTIME;
	out->stx_blksize = 4096;
	out->stx_nlink = 2;
	out->stx_mode = S_IFDIR | 0555;
	out->stx_ino = 1;
	out->stx_atime = out->stx_btime = out->stx_ctime = out->stx_mtime = vfs_boot;
	out->stx_dev_major = 0;
	out->stx_dev_minor = which == 0 ? 21 : 22;
	return 0;
}

static long emptydir_getattr(struct file *f, struct linux_statx *out)
{
	return vfs_emptydir_getattr(*(const int *)f->priv, out);
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

static long emptydir_statfs(struct file *f, struct linux_statfs *out)
{
	vfs_synthetic_statfs(*(const int *)f->priv == 0 ? 0x9fa0 : 0x62656572, out);
	return 0;
}

static const struct file_ops emptydir_ops = {
	.read_buf = emptydir_read,
	.seek = emptydir_seek,
	.getattr = emptydir_getattr,
	.getdents_buf = emptydir_getdents,
	.statfs = emptydir_statfs,
};

long vfs_emptydir_open(int which, int flags, const char *path, struct file **out)
{
	if (which < 0 || which > 1)
		return -ENOENT;
	struct file *f = file_alloc(&emptydir_ops, (uint32_t)flags, path ? path : emptydir_names[which],
				    (void *)&emptydir_index[which]);
	if (!f)
		return -ENOMEM;
	*out = f;
	return 0;
}
