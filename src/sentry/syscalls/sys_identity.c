/* Process identity: ids and credentials. */
#include "sentry/service.h"

#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

/* getpid(2) */
long sys_getpid(struct task *t, const struct syscall_args *args)
{
	return t->tgid;
}

/* gettid(2) */
long sys_gettid(struct task *t, const struct syscall_args *args)
{
	return t->tid;
}

/* getuid(2) */
long sys_getuid(struct task *t, const struct syscall_args *args)
{
	return t->creds.uid;
}

/* geteuid(2) */
long sys_geteuid(struct task *t, const struct syscall_args *args)
{
	return t->creds.euid;
}

/* getgid(2) */
long sys_getgid(struct task *t, const struct syscall_args *args)
{
	return t->creds.gid;
}

/* getegid(2) */
long sys_getegid(struct task *t, const struct syscall_args *args)
{
	return t->creds.egid;
}

static long put_three(struct task *t, const struct syscall_args *args, uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t v[3] = { a, b, c };
	for (int i = 0; i < 3; i++)
		if (ward_copy_out(task_as(t), arg_addr(args, i), &v[i], sizeof(v[i])) < 0)
			return -EFAULT;
	return 0;
}

/* getresuid(2) */
long sys_getresuid(struct task *t, const struct syscall_args *args)
{
	return put_three(t, args, t->creds.uid, t->creds.euid, t->creds.suid);
}

/* getresgid(2) */
long sys_getresgid(struct task *t, const struct syscall_args *args)
{
	return put_three(t, args, t->creds.gid, t->creds.egid, t->creds.sgid);
}

/* getgroups(2): the sandbox's first process has no supplementary groups
 * (setgroups comes with the process issue). */
long sys_getgroups(struct task *t, const struct syscall_args *args)
{
	if (arg_int(args, 0) < 0)
		return -EINVAL;
	return 0;
}
