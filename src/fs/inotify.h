/* inotify(7): instances, watches and the events the VFS reports to them.
 * A watch names an object by its device and inode number, as the VFS's
 * getattr gives them, since vnodes are transient handles. Locking: the
 * kernel lock. */
#ifndef WARD_FS_INOTIFY_H
#define WARD_FS_INOTIFY_H

#include <stdbool.h>
#include <stdint.h>

struct file;
struct task;
struct vnode;

/* Event bits (linux/inotify.h). */
#define WARD_IN_ACCESS 0x00000001
#define WARD_IN_MODIFY 0x00000002
#define WARD_IN_ATTRIB 0x00000004
#define WARD_IN_CLOSE_WRITE 0x00000008
#define WARD_IN_CLOSE_NOWRITE 0x00000010
#define WARD_IN_OPEN 0x00000020
#define WARD_IN_MOVED_FROM 0x00000040
#define WARD_IN_MOVED_TO 0x00000080
#define WARD_IN_CREATE 0x00000100
#define WARD_IN_DELETE 0x00000200
#define WARD_IN_DELETE_SELF 0x00000400
#define WARD_IN_MOVE_SELF 0x00000800
#define WARD_IN_ISDIR 0x40000000

/* An object as watches name it; valid is false when getattr failed. */
struct inotify_key {
	uint64_t dev, ino;
	uint32_t mode, nlink;
	bool valid;
};

/* Whether any watch exists: the hooks cost nothing otherwise. */
bool inotify_active(void);
struct inotify_key inotify_key_of(struct vnode *v);
/* Reports event mask to the watches of dir (with the child's name), then
 * to those of obj itself. Either may be NULL (or invalid). IN_ISDIR is
 * added when obj is a directory. */
void inotify_notify(const struct inotify_key *dir, const char *name, const struct inotify_key *obj, uint32_t mask,
		    uint32_t cookie);
/* obj is gone (its last link removed): IN_DELETE_SELF, then its watches
 * go (IN_IGNORED). */
void inotify_gone(const struct inotify_key *obj);
/* A fresh cookie that ties IN_MOVED_FROM to its IN_MOVED_TO. */
uint32_t inotify_next_cookie(void);

/* Reports mask on an open file (a read, a write, its close) to its parent
 * directory and itself (vfs.c). Files without a path in the tree (pipes,
 * sockets) have none. */
void inotify_file_event(struct file *f, uint32_t mask);

/* The system calls' side. */
long inotify_create(int flags, struct file **out);
long inotify_add(struct task *t, struct file *f, const char *path, uint32_t mask);
long inotify_rm(struct file *f, int32_t wd);
bool inotify_is(const struct file *f);

#endif
