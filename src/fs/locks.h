/* Advisory file locks: POSIX record locks (fcntl F_SETLK, owned by an fd
 * table as Linux owns them by files_struct), open-file-description locks
 * (F_OFD_SETLK, owned by the file) and flock(2) locks (owned by the file).
 *
 * Locks belong to the file's inode, named by its (st_dev, st_ino): the
 * VFS's vnodes are made per lookup and dropped with their last holder, so
 * two opens of one file may hold different vnodes; the identity stat
 * reports is what they share.
 *
 * Locking: the kernel lock covers every table here. Blocking waits sleep on
 * the inode's wait queue, woken whenever a lock of that inode goes away or
 * shrinks. Services only. */
#ifndef WARD_FS_LOCKS_H
#define WARD_FS_LOCKS_H

#include "fs/vfs.h"

/* A record lock in the kernel's terms: [start, end] inclusive (end
 * INT64_MAX: to the end of the file, however far it grows). */
struct lock_range {
	int type; /* F_RDLCK, F_WRLCK, F_UNLCK */
	int64_t start, end;
	int32_t pid; /* F_GETLK's answer: the holder's pid, -1 for OFD locks */
};

/* F_GETLK and F_OFD_GETLK: fills *r with the first lock that conflicts
 * with it (for owner, or for the file when ofd), or sets r->type to
 * F_UNLCK. */
long locks_posix_get(struct file *f, void *owner, bool ofd, struct lock_range *r);
/* F_SETLK(W) and F_OFD_SETLK(W): places or removes (F_UNLCK) the lock for
 * owner (an fd table) with pid as the holder, or for the file itself when
 * ofd. -EAGAIN on a conflict unless wait; waiting is interruptible
 * (-WARD_ERESTARTSYS) and -EDEADLK when it would close a cycle of POSIX
 * owners. */
long locks_posix_set(struct task *t, struct file *f, void *owner, int32_t pid, bool ofd, const struct lock_range *r,
		     bool wait);
/* flock(2): op is LOCK_SH, LOCK_EX or LOCK_UN (1, 2, 8); nonblock for
 * LOCK_NB (-EWOULDBLOCK on a conflict). */
long locks_flock(struct task *t, struct file *f, int op, bool nonblock);

/* The fd table owner closed a descriptor of f: its POSIX locks on f's
 * inode go, as any close(2) of the file drops them. Cheap when no lock
 * exists anywhere. */
void locks_close_posix(struct file *f, void *owner);
/* Every POSIX lock of owner goes (its fd table is destroyed). */
void locks_remove_owner(void *owner);
/* The last reference to f is going: its OFD and flock locks go. */
void locks_release_file(struct file *f);

#endif
