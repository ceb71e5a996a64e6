/* Process file descriptors (pidfd_open). */
#ifndef WARD_KERNEL_PIDFD_H
#define WARD_KERNEL_PIDFD_H

#include <stdint.h>

struct file;
struct process;

/* A new pidfd file for the process with this pid (one reference). */
long pidfd_create(int32_t pid, int flags, struct file **out);
/* The pid a pidfd refers to, or -1 when f is no pidfd. */
int32_t pidfd_pid(const struct file *f);
/* Tells pidfd pollers that a process exited. */
void pidfd_notify_exit(void);

#endif
