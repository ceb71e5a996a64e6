/* System V IPC: shared memory segments, semaphore sets and message queues.
 *
 * The sandbox is one IPC namespace: every process in it sees the same
 * identifiers and keys, and nothing outside it. Identifiers are made as
 * Linux makes them (a slot index plus a sequence number times 32768, slots
 * taken cyclically), limits are Linux's defaults, and every errno follows
 * ipc/shm.c, ipc/sem.c and ipc/msg.c.
 *
 * Segments live in the memory file and are mapped by the mm as shared
 * memory (mm_shmat); the mm reports each attach and detach back (struct
 * shm_backing_ops), which keeps shm_nattch and frees a removed segment with
 * its last attach. Semaphore undo lists (SEM_UNDO) belong to a task and are
 * shared by the tasks made with CLONE_SYSVSEM; the last of them to exit
 * applies the adjustments.
 *
 * Locking: everything runs under the kernel lock. Blocked semop, msgsnd and
 * msgrcv callers sleep with task_sleep and are woken by whoever changes
 * what they wait for. */
#ifndef WARD_KERNEL_IPC_H
#define WARD_KERNEL_IPC_H

#include "ward/types.h"

struct task;
struct sem_undo_list;

/* The system calls, with the guest's raw arguments. */
long ipc_shmget(struct task *t, int32_t key, uint64_t size, int flg);
long ipc_shmat(struct task *t, int id, uint64_t addr, int flg);
long ipc_shmdt(struct task *t, uint64_t addr);
long ipc_shmctl(struct task *t, int id, int cmd, gaddr_t buf);
long ipc_semget(struct task *t, int32_t key, int nsems, int flg);
long ipc_semtimedop(struct task *t, int id, gaddr_t sops, uint64_t nsops, gaddr_t timeout);
long ipc_semctl(struct task *t, int id, int semnum, int cmd, uint64_t arg);
long ipc_msgget(struct task *t, int32_t key, int flg);
long ipc_msgsnd(struct task *t, int id, gaddr_t msgp, uint64_t msgsz, int flg);
long ipc_msgrcv(struct task *t, int id, gaddr_t msgp, uint64_t msgsz, long msgtyp, int flg);
long ipc_msgctl(struct task *t, int id, int cmd, gaddr_t buf);

/* The undo list a new task gets at clone: parent's, shared, with
 * CLONE_SYSVSEM (made now if the parent had none, so both see it), else
 * none. -ENOMEM on failure. */
long ipc_undo_clone(struct task *parent, struct task *child, bool share);
/* A task lets go of its undo list (exit, or a child that never ran); the
 * last task holding it applies its adjustments (exit_sem). */
void ipc_undo_put(struct task *t);

/* /proc/sysvipc/{shm,sem,msg}: writes the table into buf (at most len
 * bytes, NUL included, as snprintf); returns the length it needs. */
size_t ipc_format_proc(const char *which, char *buf, size_t len);

#endif
