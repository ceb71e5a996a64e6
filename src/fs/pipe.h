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

/* Whether f is an end of a pipe; whether a and b are ends of one pipe. */
bool pipe_is(const struct file *f);
bool pipe_same(const struct file *a, const struct file *b);
/* Bytes a write may put into the pipe of f now (0 when full). */
size_t pipe_space(const struct file *f);
/* splice between two pipes (consume) and tee (not): moves or copies up
 * to len bytes from in's pipe to out's, waiting for data and for room
 * unless nonblock (-EAGAIN). 0 when in has no data and no writer; -EPIPE
 * (and SIGPIPE) when out has no reader. Interruptible. */
long pipe_to_pipe(struct file *in, struct file *out, size_t len, bool nonblock, bool consume);

#endif
