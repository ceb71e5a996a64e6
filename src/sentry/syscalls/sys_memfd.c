/* memfd_create(2) and the seals of fcntl(2) (F_ADD_SEALS, F_GET_SEALS):
 * memfds are unnamed files of a tmpfs of the sentry's (src/fs/tmpfs.c). */
#include "sentry/service.h"

#include "fs/tmpfs.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

#define MFD_CLOEXEC_ 0x1U
#define MFD_ALLOW_SEALING_ 0x2U
#define MFD_HUGETLB_ 0x4U
#define MFD_NOEXEC_SEAL_ 0x8U
#define MFD_EXEC_ 0x10U
/* NAME_MAX less the "memfd:" prefix. */
#define MFD_NAME_MAX 249

/* memfd_create(2) */
long sys_memfd_create(struct task *t, const struct syscall_args *args)
{
	unsigned int flags = arg_uint(args, 1);
	/* Huge pages: as a kernel without hugetlbfs. */
	if (flags & ~(MFD_CLOEXEC_ | MFD_ALLOW_SEALING_ | MFD_NOEXEC_SEAL_ | MFD_EXEC_))
		return -EINVAL;
	if ((flags & MFD_EXEC_) && (flags & MFD_NOEXEC_SEAL_))
		return -EINVAL;
	char name[MFD_NAME_MAX + 1];
	long n = ward_copy_string_in(task_as(t), name, sizeof(name), arg_addr(args, 0));
	if (n == -ENAMETOOLONG)
		return -EINVAL;
	if (n < 0)
		return n;
	char path[sizeof(name) + 32];
	snprintf(path, sizeof(path), "/memfd:%s (deleted)", name);

	/* vm.memfd_noexec = 0: executable unless MFD_NOEXEC_SEAL says
	 * otherwise; without MFD_ALLOW_SEALING the file is sealed shut. */
	uint32_t mode = 0777, seals = TMPFS_SEAL_SEAL;
	if (flags & MFD_NOEXEC_SEAL_) {
		mode = 0666;
		seals = TMPFS_SEAL_EXEC;
	} else if (flags & MFD_ALLOW_SEALING_) {
		seals = 0;
	}
	struct vfs_owner o = { t->creds.fsuid, t->creds.fsgid };
	struct file *f;
	long r = tmpfs_memfd_create(path, mode, &o, seals, &f);
	if (r < 0)
		return r;
	r = fd_install(t, f, (flags & MFD_CLOEXEC_) ? FD_CLOEXEC : 0, 0);
	file_put(f);
	return r;
}

long fcntl_seals(struct task *t, struct file *f, unsigned int cmd, uint64_t arg)
{
	if (cmd == 1034 /* F_GET_SEALS */)
		return tmpfs_get_seals(f);
	return tmpfs_add_seals(f, (uint32_t)arg);
}
