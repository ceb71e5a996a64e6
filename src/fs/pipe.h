/* Anonymous pipes. */
#ifndef WARD_FS_PIPE_H
#define WARD_FS_PIPE_H

#include <stdbool.h>
#include <stdint.h>

struct file;

/* The default capacity of a pipe, and the size up to which a write is
 * atomic (PIPE_BUF). */
#define PIPE_CAPACITY 65536
#define PIPE_ATOMIC 4096

/* Makes a pipe: two file descriptions, read end and write end, each with one
 * reference. flags may hold O_NONBLOCK. */
long pipe_create(int flags, struct file **read_end, struct file **write_end);

/* F_GETPIPE_SZ (set false) and F_SETPIPE_SZ: the capacity, or -EBADF when
 * f is no pipe. */
long pipe_fcntl_size(struct file *f, bool set, uint64_t arg);

#endif
