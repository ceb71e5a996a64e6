/* Pseudo-terminals: /dev/ptmx, the devpts file system at /dev/pts, the
 * line discipline between the two ends, and the controlling terminal of a
 * session (/dev/tty). Everything lives in the sentry; no host tty is ever
 * opened. Locking: the kernel lock, like the rest of the kernel state. */
#ifndef WARD_FS_PTY_H
#define WARD_FS_PTY_H

#include <stdbool.h>
#include <stdint.h>

struct file;
struct vmount;
struct vnode;

/* Opens a new master (an open of /dev/ptmx or /dev/pts/ptmx): a new pair,
 * locked, with the lowest free index. */
long pty_open_master(int flags, const char *path, struct file **out);
/* Opens the controlling terminal of the caller's session (/dev/tty), or
 * -ENXIO when it has none. */
long pty_open_ctty(int flags, const char *path, struct file **out);
/* The root vnode of a devpts mount. */
long devpts_root(struct vmount *mnt, struct vnode **out);
/* A session leader's process has exited: its session loses its controlling
 * terminal, whose foreground group gets SIGHUP (disassociate_ctty). */
void pty_session_exit(int32_t sid);

/* The controlling terminal of session sid for /proc/[pid]/stat: its device
 * number as tty_nr encodes it, and its foreground group (-1 when none).
 * Leaves both alone and returns false when the session has none. */
bool pty_session_tty(int32_t sid, uint32_t *tty_nr, int32_t *tpgid);

#endif
