/* The VFS's internal API: what the file systems (hostfs, devfs) share with
 * vfs.c, and the path-based helpers the syscall layer calls. Services only;
 * src/fs/vfs.h stays the API the rest of the sentry sees.
 *
 * Locking: each fd table has one mutex (fdtable.c), taken only inside the
 * fd_* functions and never held while a file's operations run. Files are
 * reference counted; the last file_put runs the release operation. */
#ifndef WARD_FS_VFS_INTERNAL_H
#define WARD_FS_VFS_INTERNAL_H

#include "fs/vfs.h"
#include "ward/host.h"

/* x86-64 Linux forces O_LARGEFILE on every file and reports it in F_GETFL,
 * although glibc's O_LARGEFILE is 0 there: this is the kernel's value. */
#define VFS_O_LARGEFILE 0100000

/* Access checks, as the kernel's MAY_* bits. */
#define VFS_MAY_EXEC 0x1
#define VFS_MAY_WRITE 0x2
#define VFS_MAY_READ 0x4

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

/* Checks mask (VFS_MAY_*) against the mode and owner in stx for t's
 * file-system credentials (or real ones when real is set, for access(2)):
 * root passes read and write and needs one execute bit on non-directories.
 * Returns 0 or -EACCES. Read-only file systems are the caller's business. */
long vfs_permission(struct task *t, const struct linux_statx *stx, int mask, bool real);

/* The fd table beyond vfs.h. */

/* Puts f (taking a new reference) at exactly fd, closing what was there,
 * for dup2/dup3. -EBADF when fd is negative or beyond RLIMIT_NOFILE. */
long fd_replace(struct task *t, int fd, struct file *f, int fd_flags);
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

/* hostfs: files of the host root, reached through O_PATH handles. */

/* Opens the host object behind the O_PATH handle h (borrowed: O_PATH opens
 * keep a duplicate, others reopen it for reading) as a file description.
 * stx is h's statx; path is the canonical guest path; flags are the file's
 * status flags after the VFS's checks. */
long hostfs_open(ward_hostfd_t h, const struct linux_statx *stx, int flags, const char *path, struct file **out);
/* The O_PATH handle behind a hostfs O_PATH file (symlinks opened with
 * O_PATH | O_NOFOLLOW), or an invalid handle for any other file. */
ward_hostfd_t hostfs_file_handle(const struct file *f);

/* devfs: the sentry's /dev. */

/* The device named name in /dev (its index), or -ENOENT. */
long devfs_lookup(const char *name);
long devfs_getattr_dir(struct linux_statx *out);
long devfs_getattr_dev(int dev, struct linux_statx *out);
long devfs_open_dir(int flags, const char *path, struct file **out);
long devfs_open_dev(int dev, int flags, const char *path, struct file **out);
/* True for /dev/null, whose writes never look at the bytes. */
bool devfs_is_sink(const struct file *f);

/* The sentry's empty directories (/proc and /sys until their issue):
 * which is 0 for /proc, 1 for /sys. */
long vfs_emptydir_getattr(int which, struct linux_statx *out);
long vfs_emptydir_open(int which, int flags, const char *path, struct file **out);

/* Appends one linux_dirent64 record to buf (of len bytes, *used filled so
 * far). Returns 0, or -EINVAL when it does not fit. */
long vfs_dirent_emit(void *buf, size_t len, size_t *used, uint64_t ino, int64_t off, uint8_t type, const char *name);

/* Fills a synthetic statfs for the sentry's own file systems. */
void vfs_synthetic_statfs(int64_t magic, struct linux_statfs *out);

/* The time the VFS was set up: the timestamps of synthetic files. */
struct linux_statx_timestamp vfs_boot_time(void);

#endif
