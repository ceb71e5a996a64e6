/* tmpfs nodes, the in-sentry file system's objects, as tmpfs.c and the
 * overlay (whose upper layer is a tmpfs tree) share them. Services only.
 *
 * Every function here expects the file systems' lock (vfs_fs_lock) held,
 * except tmpfs_open_node and the vnode operations, which take it. */
#ifndef WARD_FS_TMPFS_H
#define WARD_FS_TMPFS_H

#include "fs/vfs_internal.h"

struct tmpfs {
	uint32_t minor; /* the anonymous device number */
	uint64_t next_ino;
	/* Pages of file data in use, and the size= limit (0: none). */
	uint64_t pages, max_pages;
	bool sized;
	uint32_t root_mode; /* as mounted, for /proc/mounts */
	uint32_t uid, gid;
	/* Nodes alive; the struct is freed with the last one once the
	 * file system is unmounted (released). */
	long nodes;
	bool released;
	/* Whether its files take memfd seals (tmpfs's do; the overlay's
	 * upper layer is no tmpfs to the guest). */
	bool sealable;
};

/* memfd seals (fcntl F_ADD_SEALS), as Linux numbers them. */
#define TMPFS_SEAL_SEAL 0x1
#define TMPFS_SEAL_SHRINK 0x2
#define TMPFS_SEAL_GROW 0x4
#define TMPFS_SEAL_WRITE 0x8
#define TMPFS_SEAL_FUTURE_WRITE 0x10
#define TMPFS_SEAL_EXEC 0x20
#define TMPFS_SEAL_ALL 0x3f

struct tdirent;

/* One extended attribute. */
struct txattr {
	char *name;
	void *val;
	size_t size;
	struct txattr *next;
};

/* One object: its attributes, and its contents by type. refs counts the
 * directory entries that name it plus the vnodes that hold it; the node is
 * freed when it drops to zero. */
struct tnode {
	int refs;
	struct tmpfs *fs;
	uint64_t ino;
	uint32_t mode, uid, gid, nlink;
	uint64_t rdev;
	struct linux_statx_timestamp atime, mtime, ctime, btime;
	uint64_t size;
	/* Regular files: pages of WARD_PAGE_SIZE bytes in a two-level table
	 * (512 pages a leaf); a missing page is a hole. */
	uint8_t ***leaves;
	size_t nleaves;
	uint64_t npages;
	/* Once the file is mapped shared: the memory-file range that holds
	 * its first seg->len bytes (a reference); the pages above stay in
	 * the table. */
	struct shm_backing *seg;
	/* memfd seals. */
	uint32_t seals;
	/* O_TMPFILE without O_EXCL: linkat may give the unnamed file a name. */
	bool linkable;
	/* Symlinks. */
	char *target;
	/* Directories: entries in creation order, and the parent (not a
	 * reference; NULL at the root and once removed). */
	struct tdirent *ents, *ents_tail;
	struct tnode *parent;
	bool opaque; /* overlay: hides the lower directory */
	/* Extended attributes, in name order (as tmpfs lists them). */
	struct txattr *xattrs;
};

struct tdirent {
	char *name;
	struct tnode *node;
	struct tdirent *next;
};

struct tnode *tnode_new(struct tmpfs *fs, uint32_t mode, uint32_t uid, uint32_t gid);
void tnode_ref(struct tnode *n);
void tnode_unref(struct tnode *n);
/* The node named name in dir, or NULL. */
struct tnode *tnode_lookup(struct tnode *dir, const char *name);
/* Adds the entry name -> n to dir (taking a reference, counting a link). */
long tnode_link(struct tnode *dir, const char *name, struct tnode *n);
/* Removes the entry name from dir (dropping its reference and link). */
long tnode_unlink(struct tnode *dir, const char *name);
bool tnode_dir_empty(const struct tnode *dir, bool (*ignore)(const struct tnode *n));
void tnode_getattr(const struct tnode *n, struct linux_statx *out);
long tnode_setattr(struct tnode *n, const struct vattr *a);
long tnode_read(struct tnode *n, void *buf, size_t len, uint64_t off);
long tnode_write(struct tnode *n, const void *buf, size_t len, uint64_t off);
long tnode_truncate(struct tnode *n, uint64_t size);
/* Marks the node's change time (and modification time when mtime). */
void tnode_touch(struct tnode *n, bool mtime);

/* Extended attributes of a node: the vnode_ops xattr_* contracts. */
long tnode_xattr_get(struct tnode *n, const char *name, void *buf, size_t size);
long tnode_xattr_set(struct tnode *n, const char *name, const void *val, size_t size, int flags);
long tnode_xattr_list(struct tnode *n, char *buf, size_t size, bool trusted);
long tnode_xattr_remove(struct tnode *n, const char *name);

/* The node behind a file of tmpfs's (or the overlay's upper layer), or
 * NULL for other files. */
struct tnode *tmpfs_file_node(struct file *f);
/* F_GET_SEALS and F_ADD_SEALS on f: -EINVAL for files that take none. */
long tmpfs_get_seals(struct file *f);
long tmpfs_add_seals(struct file *f, uint32_t seals);
/* memfd_create's file: an unnamed regular file of the sentry's memfd
 * tmpfs, opened read-write with path as its name for /proc. */
long tmpfs_memfd_create(const char *path, uint32_t mode, const struct vfs_owner *o, uint32_t seals, struct file **out);

/* Opens n as a file description (takes the lock; the file keeps a node
 * reference of its own). */
long tmpfs_open_node(struct tnode *n, int flags, const char *path, struct file **out);
/* tmpfs's statfs. */
void tmpfs_statfs_fill(struct linux_statfs *out);

#endif
