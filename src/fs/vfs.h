/* The VFS: open file descriptions with an operations table, the fd table,
 * and path resolution over a mount tree of the sentry's own file systems:
 * the root is an overlay of a read-only host directory (hostfs) and a tmpfs
 * upper layer that is discarded at exit; /dev is devfs with /dev/shm a
 * tmpfs; /tmp is a tmpfs; /proc and /sys are the sentry's own procfs and
 * sysfs (procfs.c), computed from its state; the CLI may add tmpfs mounts
 * and bind mounts of host directories (read-only unless asked), and the
 * guest its own mounts (mount(2): tmpfs, proc, binds of what it can
 * already reach), chroot(2) and pivot_root(2), all inside the sentry.
 *
 * Paths are resolved by the sentry, component by component, in the guest's
 * view: symlinks are read and followed here (40 links at most, ELOOP), ".."
 * crosses mount points and stops at the root, and every host lookup goes
 * through the core's ward_host_lookup, which confines it beneath a
 * directory handle. */
#ifndef WARD_FS_VFS_H
#define WARD_FS_VFS_H

#include "ward/abi/linux.h"
#include "ward/guest.h"
#include "ward/types.h"

struct task;
struct file;
struct waitq;
struct vnode;

/* Memory-file pages that several mappings share (sentry/mm/mm.h): the
 * data of a tmpfs file that is mapped shared is one (from file offset 0). */
struct shm_backing;

/* Operations of an open file description. Buffers are the sentry's own:
 * the syscall layer moves bytes to and from the guest. A NULL op means the
 * default: -EINVAL for read/write, -ESPIPE for seek, -ENOTDIR for getdents,
 * -ENOTTY for ioctl, -ENODEV for mmap. */
struct file_ops {
	/* Reads up to len bytes at *pos and advances it. */
	long (*read_buf)(struct file *f, void *buf, size_t len, uint64_t *pos);
	/* Writes len bytes at *pos (the end of the file for O_APPEND files,
	 * which the op handles) and advances it. */
	long (*write_buf)(struct file *f, const void *buf, size_t len, uint64_t *pos);
	/* Returns the new position, or -errno. */
	long (*seek)(struct file *f, int64_t off, int whence);
	long (*getattr)(struct file *f, struct linux_statx *out);
	/* Fills buf with linux_dirent64 records from the directory position;
	 * returns bytes filled, 0 at the end, -EINVAL if one record does not
	 * fit. */
	long (*getdents_buf)(struct file *f, void *buf, size_t len);
	long (*ioctl_cmd)(struct task *t, struct file *f, unsigned int cmd, uint64_t arg);
	/* Copies len bytes of the file at file_off into the memory file at
	 * memfile_off, zero-filling past the end of the file (private maps). */
	long (*mmap_fill)(struct file *f, uint64_t memfile_off, uint64_t file_off, size_t len);
	/* MAP_SHARED: the memory-file range that holds the file's data from
	 * offset 0, at least end bytes long (a new reference in *out), so that
	 * stores through the map are the file's own. writable: the map may
	 * write (seals may refuse it). NULL: shared maps are private copies. */
	long (*mmap_shared)(struct file *f, uint64_t end, bool writable, struct shm_backing **out);
	long (*statfs)(struct file *f, struct linux_statfs *out);
	/* Flushes the file's data (fsync; data_only for fdatasync). NULL: 0. */
	long (*sync_data)(struct file *f, bool data_only);
	void (*release)(struct file *f);
	/* Readiness (POLLIN, POLLOUT...): returns the events that hold now and
	 * sets *q to the wait queue woken when they change, or leaves it NULL
	 * when no queue will be woken (a host descriptor the core's event
	 * thread could not watch: pollers re-check those on a short period;
	 * host sockets and the inherited stdio have queues, net/hostwatch.h).
	 * A NULL op means
	 * always readable and writable, as regular files are. */
	unsigned int (*poll_events)(struct file *f, struct waitq **q);
	/* Optional, for streams that move bytes between the guest's iovecs and
	 * the host without a sentry copy (host sockets): read or write the
	 * iovecs (total bytes) as one call. NULL: read_buf/write_buf. */
	long (*rw_vec)(struct task *t, struct file *f, const struct ward_iovec *v, long cnt, uint64_t total,
		       bool is_read);
	/* A stream (pipe, socket, tty): no offset, and a read returns what is
	 * there instead of waiting for the whole count. */
	bool stream;
};

/* An open file description, shared by dup'd descriptors. */
struct file {
	const struct file_ops *ops;
	int refcount;
	uint32_t flags; /* O_ACCMODE | O_APPEND | O_NONBLOCK | O_PATH | O_DIRECTORY... */
	uint64_t pos;
	char *path; /* the guest path it was opened by, for /proc and messages */
	void *priv; /* the file system's own data */
	struct vnode *vn; /* the object it was opened on (a reference), or NULL */
};

struct file *file_get(struct file *f);
void file_put(struct file *f);
/* pread into a sentry buffer, for the loader: -EINVAL if the file cannot be
 * read at an offset. */
long file_pread(struct file *f, void *buf, size_t len, uint64_t off);
long file_getattr(struct file *f, struct linux_statx *out);
/* True when f lies on a noexec mount: mmap and mprotect refuse PROT_EXEC
 * maps of it (EPERM, EACCES). */
bool file_on_noexec(const struct file *f);

/* The per-task fd table. */
struct fd_table;
struct fd_table *fdtable_create(void);
void fdtable_destroy(struct fd_table *t);
/* Installs f (taking a new reference) at the lowest free fd >= minfd.
 * fd_flags is FD_CLOEXEC or 0. Returns the fd, or -EMFILE past the limit. */
long fd_install(struct task *t, struct file *f, int fd_flags, int minfd);
/* Returns a new reference to the file at fd, or NULL (EBADF). */
struct file *fd_get(struct task *t, int fd);
long fd_close(struct task *t, int fd);
/* Installs the host's stdin, stdout and stderr as fds 0, 1 and 2. */
long fdtable_install_stdio(struct task *t);

/* The per-task file-system context. */
struct fs_context {
	/* Canonical, absolute, no symlinks; a rename of a directory above it
	 * renames it too (vfs.c, rekey), so getcwd follows the directory. */
	char cwd[4096];
	/* The root chroot(2) set, canonical; "" or "/" for the sandbox's. */
	char root[4096];
	uint32_t umask;
};

/* Sets up the sandbox's root: an overlay of a host directory (read-only)
 * and a tmpfs upper, with /dev, /dev/shm, /tmp, /proc and /sys. Setup
 * code. */
long vfs_init(const char *host_root);
/* Mounts a fresh tmpfs at the guest path (setup code, after vfs_init). */
long vfs_mount_tmpfs(const char *guest_path);
/* Bind-mounts the host directory host_path at the guest path, read-only
 * unless writable (then guest writes reach the host). Setup code. */
long vfs_mount_host(const char *host_path, const char *guest_path, bool writable);

/* Opens path relative to dirfd (AT_FDCWD for the cwd) as openat(2) does.
 * mode is already masked by the umask. */
long vfs_openat(struct task *t, int dirfd, const char *path, int flags, uint32_t mode, struct file **out);
/* openat2(2)'s resolve flags. */
#define VFS_RESOLVE_NO_XDEV 0x01
#define VFS_RESOLVE_NO_MAGICLINKS 0x02
#define VFS_RESOLVE_NO_SYMLINKS 0x04
#define VFS_RESOLVE_BENEATH 0x08
#define VFS_RESOLVE_IN_ROOT 0x10
#define VFS_RESOLVE_CACHED 0x20
/* openat with them (checked by the caller: no CACHED, not BENEATH and
 * IN_ROOT together). */
long vfs_openat2(struct task *t, int dirfd, const char *path, int flags, uint32_t mode, uint64_t resolve,
		 struct file **out);
/* Opens a file for execution: -ENOENT, -EACCES when not a regular file or
 * not executable, -ENOTDIR... as execve(2) reports them. */
long vfs_open_exec(struct task *t, const char *path, struct file **out);

#endif
