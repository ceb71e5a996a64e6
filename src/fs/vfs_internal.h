/* The VFS's internal API: the objects the file systems (hostfs, tmpfs,
 * overlay, devfs) share with the core (vfs.c), and the path-based helpers
 * the syscall layer calls. Services only; src/fs/vfs.h stays the API the
 * rest of the sentry sees.
 *
 * Objects. A vnode is one object of one mounted file system, as a walk
 * found it: a reference-counted handle with the file system's operations
 * table. Vnodes are made by lookups and dropped when the last holder (a
 * walk, an open file) lets go; what persists is the file system's own
 * state (tmpfs nodes, host files). A mount is a file system's root vnode
 * placed at a guest path.
 *
 * Locking, in order: the fd table's mutex (fdtable.c) is taken only inside
 * the fd_* functions and never held while a file's operations run; the file
 * systems' lock (vfs_fs_lock) is taken by the tmpfs and overlay entry
 * points around every read or change of their trees and never held across
 * a call into another entry point. Files and vnodes are reference counted
 * with atomics; the last file_put runs the release operation. */
#ifndef WARD_FS_VFS_INTERNAL_H
#define WARD_FS_VFS_INTERNAL_H

#include "fs/vfs.h"
#include "ward/host.h"

/* x86-64 Linux forces O_LARGEFILE on every file and reports it in F_GETFL,
 * although glibc's O_LARGEFILE is 0 there: this is the kernel's value. */
#define VFS_O_LARGEFILE 0100000
/* __O_TMPFILE without the O_DIRECTORY glibc folds into it. */
#define VFS_O_TMPFILE_BIT 020000000

/* Access checks, as the kernel's MAY_* bits. */
#define VFS_MAY_EXEC 0x1
#define VFS_MAY_WRITE 0x2
#define VFS_MAY_READ 0x4

#define VFS_PATH_MAX 4096
#define VFS_NAME_MAX 255
#define VFS_MAXSYMLINKS 40

/* Magic numbers of statfs(2). */
#define VFS_TMPFS_MAGIC 0x01021994
#define VFS_OVERLAYFS_MAGIC 0x794c7630
#define VFS_PROC_MAGIC 0x9fa0
#define VFS_SYSFS_MAGIC 0x62656572
#define VFS_ST_RDONLY 0x1
#define VFS_ST_VALID 0x20

struct vmount;
struct vnode;

/* Attribute changes (chmod, chown, truncate, utimes). Times are already
 * resolved (UTIME_NOW is the caller's business); ctime is the file
 * system's. */
#define VATTR_MODE 0x1
#define VATTR_UID 0x2
#define VATTR_GID 0x4
#define VATTR_SIZE 0x8
#define VATTR_ATIME 0x10
#define VATTR_MTIME 0x20

struct vattr {
	uint32_t valid;
	uint32_t mode; /* permission bits only (07777) */
	uint32_t uid, gid;
	uint64_t size;
	struct linux_statx_timestamp atime, mtime;
};

/* Who creates: the owner of new objects. */
struct vfs_owner {
	uint32_t uid, gid;
};

/* Operations on the objects of a file system. A NULL op is refused: the
 * core answers -EPERM for creations on file systems that have none and
 * -EROFS when the mount is read-only. name is one component (no '/', not
 * "." nor ".."). */
struct vnode_ops {
	/* The child name of the directory dir: a new vnode, or -ENOENT. */
	long (*lookup)(struct vnode *dir, const char *name, struct vnode **out);
	long (*getattr)(struct vnode *v, struct linux_statx *out);
	long (*setattr)(struct vnode *v, const struct vattr *a);
	/* The symlink's target, truncated to len (not NUL-terminated). */
	long (*read_link)(struct vnode *v, char *buf, size_t len);
	/* Opens v as a file description with status flags flags (already
	 * checked by the core: access mode, O_TRUNC done, type fits). */
	long (*open_file)(struct vnode *v, int flags, const char *path, struct file **out);
	/* Creates name in dir: mode has the S_IFMT type (regular, directory,
	 * fifo, socket, device). -EEXIST if name exists. */
	long (*create)(struct vnode *dir, const char *name, uint32_t mode, uint64_t rdev, const struct vfs_owner *o,
		       struct vnode **out);
	long (*make_symlink)(struct vnode *dir, const char *name, const char *target, const struct vfs_owner *o);
	/* A new name for src (same mount; not a directory). */
	long (*make_link)(struct vnode *dir, const char *name, struct vnode *src);
	/* Removes name: a non-directory (rmdir false) or an empty directory. */
	long (*remove)(struct vnode *dir, const char *name, bool is_dir);
	/* rename(2) within one mount with renameat2's flags. */
	long (*move)(struct vnode *odir, const char *oname, struct vnode *ndir, const char *nname, unsigned int flags);
	long (*statfs)(struct vnode *v, struct linux_statfs *out);
	/* A new vnode for the same object, placed in the mount mnt: the root
	 * of a bind mount, whose descendants then carry the bind's flags. NULL:
	 * the object cannot be bind-mounted (-EINVAL). */
	long (*bind_root)(struct vnode *v, struct vmount *mnt, struct vnode **out);
	void (*release)(struct vnode *v);
	/* Extended attributes; the syscall layer has checked the name, the
	 * namespace and the caller's rights. get copies the value into buf
	 * (size 0: only its length; -ERANGE when it does not fit; -ENODATA
	 * when absent); list fills NUL-terminated names the same way, the
	 * trusted.* ones only when trusted; set takes XATTR_CREATE (1) and
	 * XATTR_REPLACE (2). NULL ops: the file system has none
	 * (-EOPNOTSUPP). */
	long (*xattr_get)(struct vnode *v, const char *name, void *buf, size_t size);
	long (*xattr_set)(struct vnode *v, const char *name, const void *val, size_t size, int flags);
	long (*xattr_list)(struct vnode *v, char *buf, size_t size, bool trusted);
	long (*xattr_remove)(struct vnode *v, const char *name);
	/* O_TMPFILE: a regular file of dir's file system that no name
	 * reaches (nlink 0); linkable unless O_EXCL said otherwise. */
	long (*tmpfile)(struct vnode *dir, uint32_t mode, const struct vfs_owner *o, bool linkable, struct vnode **out);
	/* Magic links (/proc/[pid]/fd/N): the open file the link stands
	 * for (a new reference). A walk goes to the file's own object
	 * instead of reading the link's text, when the file has one. */
	long (*magic_file)(struct vnode *v, struct file **out);
};

struct vnode {
	int refcount;
	const struct vnode_ops *ops;
	struct vmount *mnt;
	uint32_t type; /* S_IFMT bits, always known */
	void *priv;
};

/* Propagation types of mount(2)'s MS_SHARED/MS_PRIVATE/MS_SLAVE/
 * MS_UNBINDABLE. The sandbox has one mount namespace, so nothing ever
 * propagates: the type is recorded and shown, and pivot_root and binds
 * check it as Linux does. */
enum vmount_prop { VMOUNT_PRIVATE, VMOUNT_SHARED, VMOUNT_SLAVE, VMOUNT_UNBINDABLE };

/* What the mounts of one file system share (Linux's superblock): a
 * remount without MS_BIND makes the file system itself read-only, for
 * every bind of it. */
struct vsuper {
	int refs;
	bool rdonly;
	/* Called with priv when the last mount of the file system goes. */
	void (*release)(void *priv);
	void *priv;
};

struct vmount {
	char *path; /* the canonical path of the mount point, from the sandbox's root */
	struct vnode *root;
	bool rdonly; /* the mount's own flag; see vmount_rdonly */
	struct vsuper *sb;
	/* The CLI's read-only volumes (and binds of them) may not be made
	 * writable: MS_REMOUNT without MS_RDONLY is EPERM, as Linux says for
	 * MNT_LOCK_READONLY. */
	bool lock_ro;
	bool nosuid, nodev, noexec;
	enum vmount_prop prop;
	bool expire_mark; /* umount2(MNT_EXPIRE) marked it once */
	bool detached; /* unmounted: freed when its last vnode goes */
	int vnodes; /* vnodes of this mount alive (atomic) */
	struct vmount *next;
	/* For /proc/[pid]/mounts and mountinfo: the file system's type and
	 * source as mount(8) shows them, its options beyond the flags (tmpfs's
	 * size= and mode=, owned, may be NULL), the path of the mount's root
	 * within its file system ("/" but for binds), and a mount id. */
	const char *fstype;
	const char *source;
	char *fs_opts;
	char *fs_root;
	char *owned_source; /* source, when it is the guest's string */
	int id;
	int sb_id; /* mounts of one file system share it (binds) */
};

/* Is m read-only: by its own flag or its file system's? */
static inline bool vmount_rdonly(const struct vmount *m)
{
	return m->rdonly || (m->sb && m->sb->rdonly);
}

/* Allocates a vnode with one reference. NULL when memory runs out (then
 * the caller still owns priv). */
struct vnode *vnode_alloc(const struct vnode_ops *ops, struct vmount *mnt, uint32_t type, void *priv);
struct vnode *vnode_get(struct vnode *v);
void vnode_put(struct vnode *v);

/* The file systems' lock (see the top of this file). */
void vfs_fs_lock(void);
void vfs_fs_unlock(void);

/* The current time, for timestamps. */
struct linux_statx_timestamp vfs_now(void);

/* Allocates a file description with one reference. path is copied. Returns
 * NULL when memory runs out. */
struct file *file_alloc(const struct file_ops *ops, uint32_t flags, const char *path, void *priv);

/* Seeks as generic_file_llseek does for a file of the given size
 * (SEEK_SET/CUR/END/DATA/HOLE), updating f->pos. */
long vfs_generic_seek(struct file *f, int64_t off, int whence, uint64_t size);

/* Encodes a device number as the kernel's new_encode_dev does for the
 * 64-bit st_dev/st_rdev of struct stat. */
uint64_t vfs_makedev(uint32_t major, uint32_t minor);

/* Appends one path component to the canonical absolute path canon (of
 * capacity cap): "." is ignored, ".." drops the last component and stops
 * at "/". Returns 0, or -ENAMETOOLONG when it would not fit. Pure: the unit
 * tests call it. */
long vfs_canon_push(char *canon, size_t cap, const char *name, size_t namelen);

/* Lexically normalizes path (absolute, or relative to base, itself
 * canonical) into out, without looking at any file system: the unit tests'
 * model of resolution without symlinks. Returns 0 or -ENAMETOOLONG. */
long vfs_path_normalize(const char *base, const char *path, char *out, size_t cap);

/* Path-based operations, as the *at(2) calls take them. path is a sentry
 * copy of the guest's string. at_flags are AT_* values; the callers have
 * already rejected flags their call does not accept. */

/* stat: AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH (then dirfd itself). */
long vfs_statat(struct task *t, int dirfd, const char *path, int at_flags, struct linux_statx *out);
/* statfs of the file system that path lies on. */
long vfs_statfsat(struct task *t, int dirfd, const char *path, struct linux_statfs *out);
/* readlink: the target (not NUL-terminated) truncated to len; -EINVAL if
 * path is not a symlink; an empty path reads dirfd when it is an O_PATH
 * descriptor of a symlink, and is -ENOENT otherwise. */
long vfs_readlinkat(struct task *t, int dirfd, const char *path, char *buf, size_t len);
/* access: mode is R_OK|W_OK|X_OK or F_OK; at_flags AT_EACCESS,
 * AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH. */
long vfs_accessat(struct task *t, int dirfd, const char *path, int mode, int at_flags);
/* chdir and fchdir: the new directory becomes t->fs->cwd. */
long vfs_chdir(struct task *t, const char *path);
long vfs_fchdir(struct task *t, int fd);

/* The write side. mode arguments are already masked by the umask. */
long vfs_mknodat(struct task *t, int dirfd, const char *path, uint32_t mode, uint64_t rdev);
long vfs_mkdirat(struct task *t, int dirfd, const char *path, uint32_t mode);
/* Creates the directories the CLI's mounts hang from, as runc creates a
 * bind mount's target: inside the sandbox's view (the overlay's upper, a
 * tmpfs), with the first task's credentials. */
void vfs_create_mountpoints(struct task *t);
long vfs_symlinkat(struct task *t, const char *target, int dirfd, const char *path);
/* AT_SYMLINK_FOLLOW and AT_EMPTY_PATH. */
long vfs_linkat(struct task *t, int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int at_flags);
/* unlinkat: AT_REMOVEDIR for rmdir. */
long vfs_unlinkat(struct task *t, int dirfd, const char *path, int at_flags);
/* renameat2: RENAME_NOREPLACE, RENAME_EXCHANGE. */
long vfs_renameat(struct task *t, int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
		  unsigned int flags);
/* chmod, chown, truncate, utimes of path (an empty path with
 * AT_EMPTY_PATH, or a NULL path, means dirfd itself); at_flags may hold
 * AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH. */
long vfs_setattrat(struct task *t, int dirfd, const char *path, int at_flags, const struct vattr *a);
/* The object path names (a new reference in *out): AT_SYMLINK_NOFOLLOW,
 * and AT_EMPTY_PATH for dirfd itself; for the xattr calls. */
long vfs_resolve_vnode(struct task *t, int dirfd, const char *path, int at_flags, struct vnode **out);
/* The same on an open file (fchmod, fchown, ftruncate, futimens). */
long vfs_setattr_file(struct task *t, struct file *f, const struct vattr *a);

/* Checks mask (VFS_MAY_*) against the mode and owner in stx for t's
 * file-system credentials (or real ones when real is set, for access(2)):
 * root passes read and write and needs one execute bit on non-directories.
 * Returns 0 or -EACCES. Read-only file systems are the caller's business. */
long vfs_permission(struct task *t, const struct linux_statx *stx, int mask, bool real);

/* The fd table beyond vfs.h. */

/* Puts f (taking a new reference) at exactly fd, closing what was there,
 * for dup2/dup3. -EBADF when fd is negative or beyond RLIMIT_NOFILE. */
long fd_replace(struct task *t, int fd, struct file *f, int fd_flags);
/* The lowest open descriptor >= from in t's table, or -1 when there is
 * none (for /proc/[pid]/fd). */
long fd_next_open(struct task *t, int from);
/* The FD_CLOEXEC flag of fd, or -EBADF. */
long fd_get_flags(struct task *t, int fd);
long fd_set_flags(struct task *t, int fd, int fd_flags);
/* The task's RLIMIT_NOFILE soft limit, bounded by what the table supports. */
unsigned long fd_limit(struct task *t);
/* A copy of the table sharing every file (fork), and closing the FD_CLOEXEC
 * descriptors (execve). */
struct fd_table *fdtable_dup(struct fd_table *src);
void fdtable_close_on_exec(struct fd_table *fdt);
/* True when f is a stream that cannot be read at an offset (inherited
 * stdio): pread/pwrite give ESPIPE. */
bool fd_file_is_stream(const struct file *f);

/* hostfs: a host directory, through O_PATH handles (hostfs.c). */

/* A hostfs mount's root vnode over the directory handle root (owned). */
long hostfs_root(ward_hostfd_t root, bool writable, struct vmount *mnt, struct vnode **out);
/* Opens the host object behind the O_PATH handle h (borrowed: O_PATH opens
 * keep a duplicate, others reopen it) as a file description. stx is h's
 * statx; flags are the file's status flags after the VFS's checks. */
long hostfs_open_handle(ward_hostfd_t h, const struct linux_statx *stx, int flags, const char *path, struct file **out);
/* Opens the regular file name beneath the host directory dir for reading,
 * in one host call, as a file description with status flags flags: for a
 * lower layer whose types the caller knows and the guest cannot change. */
long hostfs_open_read_at(ward_hostfd_t dir, const char *name, int flags, const char *path, struct file **out);
/* The host's statx of h, with what the guest may not learn removed. */
long hostfs_stat_handle(ward_hostfd_t h, struct linux_statx *out);

/* tmpfs: files kept in the sentry (tmpfs.c). */
struct tmpfs;
struct tnode;
/* A new, empty tmpfs (its root directory has mode 01777 when sticky, else
 * 0755), and its root vnode for mnt. */
long tmpfs_create(bool sticky, struct vmount *mnt, struct vnode **out);
/* The options of mount(2) for a tmpfs: size= in bytes (0: no limit beyond
 * memory), mode=, uid=, gid=. */
struct tmpfs_opts {
	uint64_t max_bytes;
	uint32_t mode, uid, gid;
};
/* Parses a mount(2) data string of tmpfs options into o: -EINVAL for an
 * unknown option or a bad value, as tmpfs says. */
long tmpfs_parse_opts(const char *data, struct tmpfs_opts *o);
/* A new tmpfs with the options o, and its root vnode for mnt. */
long tmpfs_create_opts(const struct tmpfs_opts *o, struct vmount *mnt, struct vnode **out);
/* Applies o to a mounted tmpfs (MS_REMOUNT): the new size may not be below
 * what is in use (-EINVAL). */
long tmpfs_remount(struct vnode *root, const struct tmpfs_opts *o);
/* The file system of a tmpfs root vnode, as an opaque handle, and its
 * release when the last mount of it goes: its tree is freed as the last
 * holders of its nodes let go. */
void *tmpfs_fs_of(struct vnode *root);
void tmpfs_release_fs(void *fs_handle);
/* The options /proc/mounts shows for the tmpfs of root ("size=...k,mode=..."),
 * or NULL when they are the defaults; the caller frees it. */
char *tmpfs_show_opts(struct vnode *root);

/* overlay: the root (overlay.c). */
long overlay_root(ward_hostfd_t lower_root, struct vmount *mnt, struct vnode **out);

/* devfs: the sentry's /dev (devfs.c). */
long devfs_root(struct vmount *mnt, struct vnode **out);
/* True for /dev/null, whose writes never look at the bytes. */
bool devfs_is_sink(const struct file *f);

/* The sentry's empty directories. */
long emptydir_root(int64_t magic, uint32_t minor, struct vmount *mnt, struct vnode **out);

/* procfs and sysfs: the sentry's /proc, computed from its own tasks, and
 * the few files of /sys that runtimes read (both in procfs.c). */
long procfs_root(struct vmount *mnt, struct vnode **out);
long sysfs_root(struct vmount *mnt, struct vnode **out);
/* The proc and sysfs device minors (major 0), shown by stat and
 * mountinfo. */
#define VFS_PROC_MINOR 21
#define VFS_SYSFS_MINOR 22

/* Calls fn for every mount, oldest first (the root first), for
 * /proc/[pid]/mounts. */
void vfs_mount_for_each(void (*fn)(const struct vmount *m, void *arg), void *arg);

/* mount(2), umount2(2), pivot_root(2) and chroot(2) on the sentry's mount
 * table (the callers check CAP_SYS_ADMIN and copy the strings in). source
 * and fstype may be NULL, data too. */
long vfs_mount(struct task *t, const char *source, const char *target, const char *fstype, unsigned long flags,
	       const char *data);
long vfs_umount(struct task *t, const char *target, int flags);
long vfs_pivot_root(struct task *t, const char *new_root, const char *put_old);
long vfs_chroot(struct task *t, const char *path);
/* The path the guest t sees for the canonical path canon: relative to its
 * root (set by chroot), or "(unreachable)" and canon when it lies outside
 * it, as getcwd(2) and /proc show them. Returns the length, or
 * -ENAMETOOLONG. */
long vfs_guest_path(struct task *t, const char *canon, char *out, size_t cap);
/* Is the mount m visible to t (at or below t's root)? Its path as t sees
 * it goes to out. */
bool vfs_mount_visible(struct task *t, const struct vmount *m, char *out, size_t cap);

/* Appends one linux_dirent64 record to buf (of len bytes, *used filled so
 * far). Returns 0, or -EINVAL when it does not fit. */
long vfs_dirent_emit(void *buf, size_t len, size_t *used, uint64_t ino, int64_t off, uint8_t type, const char *name);

/* A directory listing taken whole at the first getdents (and again after
 * a rewind), for the sentry's own file systems. */
struct vfs_dirlist {
	size_t n, cap;
	struct vfs_dirlist_ent {
		char *name;
		uint64_t ino;
		uint8_t type;
	} * e;
};
long vfs_dirlist_add(struct vfs_dirlist *l, const char *name, uint64_t ino, uint8_t type);
bool vfs_dirlist_has(const struct vfs_dirlist *l, const char *name);
void vfs_dirlist_free(struct vfs_dirlist *l);
/* Emits the entries from f->pos on (the index of the next one). */
long vfs_dirlist_getdents(struct vfs_dirlist *l, struct file *f, void *buf, size_t len);
/* The d_type of an S_IFMT mode. */
uint8_t vfs_dtype(uint32_t mode);

/* Fills a synthetic statfs for the sentry's own file systems. */
void vfs_synthetic_statfs(int64_t magic, struct linux_statfs *out);

/* The time the VFS was set up: the timestamps of synthetic files. */
struct linux_statx_timestamp vfs_boot_time(void);

/* A fresh anonymous device minor (major 0) for a new file system. */
uint32_t vfs_anon_minor(void);

#endif
