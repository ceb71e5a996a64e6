/* Tasks: one per guest thread. For now a task is a whole process (threads,
 * fork and signal delivery come with the process issue). */
#ifndef WARD_KERNEL_TASK_H
#define WARD_KERNEL_TASK_H

#include "ward/abi/linux.h"
#include "ward/platform.h"
#include "ward/types.h"

struct mm;
struct fd_table;
struct fs_context;

#define WARD_NSIG 64
#define WARD_RLIM_NLIMITS 16

struct creds {
	uint32_t uid, euid, suid, fsuid;
	uint32_t gid, egid, sgid, fsgid;
};

struct task {
	int32_t tid;
	int32_t tgid;
	int32_t ppid;
	struct ward_regs regs;
	struct ward_platform_ctx *ctx;
	struct mm *mm;
	struct fd_table *files;
	struct fs_context *fs;
	struct creds creds;
	/* Signal bookkeeping; delivery comes with the process issue. */
	struct linux_sigaction sigactions[WARD_NSIG];
	uint64_t sigmask;
	struct linux_stack altstack;
	uint64_t clear_child_tid;
	uint64_t robust_list;
	uint64_t robust_list_len;
	struct linux_rlimit rlimits[WARD_RLIM_NLIMITS];
	char comm[16];
	/* prctl state. */
	int pdeathsig;
	bool not_dumpable;
	bool no_new_privs;
	/* The guest path of the running executable (/proc/self/exe). */
	char *exe_path;
	/* Set by exit/exit_group or a fatal signal: the wait status. */
	bool exited;
	int wait_status;
};

/* The guest address space of the task, for the copy helpers. */
struct ward_as *task_as(const struct task *t);

/* What the CLI knows of the first process of a sandbox. */
struct task_spec {
	const char *path; /* a path, or a name searched in the guest's PATH */
	char *const *argv;
	char *const *envp;
	const char *cwd;
	struct creds creds;
	struct linux_rlimit rlimits[WARD_RLIM_NLIMITS];
};

/* Creates the first task of a sandbox: loads the program into a fresh
 * address space. Returns 0 or -errno (-ENOENT, -EACCES, -ENOEXEC...), with
 * one line for the user in errbuf. Must run on the sentry thread that will
 * run the task. */
long task_create_init(const struct task_spec *spec, struct task **out, char *errbuf, size_t errlen);
/* Runs the task until it exits; returns its wait status. Must run on the
 * sentry thread that created the task. */
int task_run(struct task *t);
void task_destroy(struct task *t);

/* Ends the task (exit_group) with a wait status. */
void task_exit(struct task *t, int wait_status);

#endif
