/* Files with no path of their own: eventfd, timerfd, signalfd, epoll. */
#ifndef WARD_FS_ANONFD_H
#define WARD_FS_ANONFD_H

#include <stdint.h>

struct file;
struct task;

long eventfd_create(uint64_t initval, int flags, struct file **out);
long timerfd_file_create(int clockid, int flags, struct file **out);
/* timerfd_settime/gettime on f: -EINVAL when f is no timerfd. */
long timerfd_file_settime(struct task *t, struct file *f, int flags, const void *new_value, void *old_value);
long timerfd_file_gettime(struct file *f, void *cur_value);
/* signalfd: a new one, or (existing) a new mask for it. */
long signalfd_create(uint64_t mask, int flags, struct file **out);
long signalfd_set_mask(struct file *f, uint64_t mask);
long epoll_create_file(int flags, struct file **out);
/* kcmp's KCMP_EPOLL_TFD: the file of the toff-th item registered with
 * descriptor fd in epoll file epf (no reference taken), or NULL with *err
 * -EINVAL (not an epoll file) or -ENOENT (no such item). */
struct file *epoll_target_file(struct file *epf, int fd, unsigned int toff, long *err);
/* epoll_ctl and epoll_wait on an epoll file; -EINVAL when f is none. */
long epoll_ctl_file(struct task *t, struct file *ep, int op, int fd, struct file *target, uint32_t events,
		    uint64_t data);
/* Waits for up to maxevents ready items and writes them (struct
 * epoll_event, 12 bytes each) to events. deadline as in poll: 0 forever,
 * -1 not at all, else CLOCK_MONOTONIC ns. */
long epoll_wait_file(struct task *t, struct file *ep, uint64_t events_addr, int maxevents, int64_t deadline);

#endif
