/* System V IPC: shmget, shmat, shmdt, shmctl, semget, semop, semtimedop,
 * semctl, msgget, msgsnd, msgrcv, msgctl. The objects and their rules live
 * in kernel/ipc.c; these decode the arguments. */
#include "sentry/service.h"

#include "sentry/kernel/ipc.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

/* shmget(2) */
long sys_shmget(struct task *t, const struct syscall_args *args)
{
	return ipc_shmget(t, arg_int(args, 0), arg_u64(args, 1), arg_int(args, 2));
}

/* shmat(2) */
long sys_shmat(struct task *t, const struct syscall_args *args)
{
	return ipc_shmat(t, arg_int(args, 0), arg_u64(args, 1), arg_int(args, 2));
}

/* shmdt(2) */
long sys_shmdt(struct task *t, const struct syscall_args *args)
{
	return ipc_shmdt(t, arg_u64(args, 0));
}

/* shmctl(2) */
long sys_shmctl(struct task *t, const struct syscall_args *args)
{
	return ipc_shmctl(t, arg_int(args, 0), arg_int(args, 1), arg_addr(args, 2));
}

/* semget(2) */
long sys_semget(struct task *t, const struct syscall_args *args)
{
	return ipc_semget(t, arg_int(args, 0), arg_int(args, 1), arg_int(args, 2));
}

/* semop(2): semtimedop without a timeout. */
long sys_semop(struct task *t, const struct syscall_args *args)
{
	return ipc_semtimedop(t, arg_int(args, 0), arg_addr(args, 1), arg_uint(args, 2), gaddr(0));
}

/* semtimedop(2) */
long sys_semtimedop(struct task *t, const struct syscall_args *args)
{
	return ipc_semtimedop(t, arg_int(args, 0), arg_addr(args, 1), arg_uint(args, 2), arg_addr(args, 3));
}

/* semctl(2): the fourth argument is union semun, passed by value. */
long sys_semctl(struct task *t, const struct syscall_args *args)
{
	return ipc_semctl(t, arg_int(args, 0), arg_int(args, 1), arg_int(args, 2), arg_u64(args, 3));
}

/* msgget(2) */
long sys_msgget(struct task *t, const struct syscall_args *args)
{
	return ipc_msgget(t, arg_int(args, 0), arg_int(args, 1));
}

/* msgsnd(2) */
long sys_msgsnd(struct task *t, const struct syscall_args *args)
{
	return ipc_msgsnd(t, arg_int(args, 0), arg_addr(args, 1), arg_u64(args, 2), arg_int(args, 3));
}

/* msgrcv(2) */
long sys_msgrcv(struct task *t, const struct syscall_args *args)
{
	return ipc_msgrcv(t, arg_int(args, 0), arg_addr(args, 1), arg_u64(args, 2), arg_long(args, 3),
			  arg_int(args, 4));
}

/* msgctl(2) */
long sys_msgctl(struct task *t, const struct syscall_args *args)
{
	return ipc_msgctl(t, arg_int(args, 0), arg_int(args, 1), arg_addr(args, 2));
}
