/* Processes: fork, vfork, clone, clone3, execve, execveat, exit, wait4,
 * waitid, and process groups and sessions. */
#include "sentry/service.h"

#include "fs/vfs.h"
#include "fs/vfs_internal.h"
#include "sentry/kernel/creds.h"
#include "sentry/kernel/ipc.h"
#include "sentry/kernel/pidfd.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/timer.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

#define CLONE_NS_FLAGS                                                                                               \
	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | \
	 0x80 /* CLONE_NEWTIME */)
#define CLONE_PIDFD_ 0x1000
#define CSIGNAL_ 0xff
#define CLONE_UNTRACED_ 0x00800000
#define CLONE_DETACHED_ 0x00400000
#define CLONE_CLEAR_SIGHAND_ 0x100000000ULL
#define CLONE_INTO_CGROUP_ 0x200000000ULL
/* Every flag Linux knows (the low byte is the exit signal, masked off). */
#define CLONE_KNOWN (0xffffff00ULL | CLONE_CLEAR_SIGHAND_ | CLONE_INTO_CGROUP_)

/* One report a wait can make. */
struct wait_result {
	int32_t pid;
	uint32_t uid;
	int status; /* wait4's status word */
	int code; /* waitid's si_code */
	int child_status;
	int64_t run_ns;
};

/* Undoes a child that never ran. */
static void discard_child(struct task *child)
{
	if (child->files && child->files_refs && --*child->files_refs == 0) {
		fdtable_destroy(child->files);
		free(child->files_refs);
	}
	if (child->fs && child->fs_refs && --*child->fs_refs == 0) {
		free(child->fs);
		free(child->fs_refs);
	}
	mm_put(child->mm);
	ipc_undo_put(child);
	task_delete(child);
}

/* What the child inherits or shares, per the clone flags. */
static long copy_task_state(struct task *t, struct task *child, uint64_t flags, uint64_t tls)
{
	child->regs = t->regs;
	child->regs.rax = 0;
	if (flags & CLONE_SETTLS)
		child->regs.fs_base = tls;
	child->sigmask = t->sigmask;
	/* A thread or a CLONE_VM child without vfork gets no alternate stack:
	 * it would be the parent's. */
	if (!((flags & CLONE_VM) && !(flags & CLONE_VFORK)))
		child->altstack = t->altstack;
	child->creds = t->creds;
	task_sched_fork(child, t);
	memcpy(child->rlimits, t->rlimits, sizeof(child->rlimits));
	memcpy(child->comm, t->comm, sizeof(child->comm));
	child->exe_path = t->exe_path ? strdup(t->exe_path) : NULL;
	child->no_new_privs = t->no_new_privs;
	child->not_dumpable = t->not_dumpable;
	if (flags & CLONE_FS) {
		child->fs = t->fs;
		child->fs_refs = t->fs_refs;
		(*t->fs_refs)++;
	} else {
		child->fs = malloc(sizeof(*child->fs));
		child->fs_refs = malloc(sizeof(int));
		if (!child->fs || !child->fs_refs) {
			free(child->fs);
			free(child->fs_refs);
			child->fs = NULL;
			child->fs_refs = NULL;
			return -ENOMEM;
		}
		*child->fs = *t->fs;
		*child->fs_refs = 1;
	}
	if (flags & CLONE_FILES) {
		child->files = t->files;
		child->files_refs = t->files_refs;
		(*t->files_refs)++;
	} else {
		child->files_refs = malloc(sizeof(int));
		child->files = child->files_refs ? fdtable_dup(t->files) : NULL;
		if (!child->files) {
			free(child->files_refs);
			child->files_refs = NULL;
			return -ENOMEM;
		}
		*child->files_refs = 1;
	}
	child->personality = t->personality;
	child->ioprio = t->ioprio;
	child->mempolicy = t->mempolicy;
	if (ipc_undo_clone(t, child, flags & CLONE_SYSVSEM) < 0)
		return -ENOMEM;
	if (flags & CLONE_VM) {
		child->mm = t->mm;
		mm_get(t->mm);
		return 0;
	}
	return mm_fork(t->mm, &child->mm);
}

/* fork, vfork, clone: a new process, or with CLONE_THREAD a new thread of
 * this one. CLONE_SIGHAND without CLONE_THREAD (processes sharing signal
 * handlers) and CLONE_PIDFD are not offered and are refused with EINVAL. */
static long do_clone(struct task *t, uint64_t flags, uint64_t newsp, gaddr_t ptid, gaddr_t ctid, uint64_t tls,
		     int exit_signal, gaddr_t pidfd_out)
{
	struct process *p = t->proc;

	/* copy_process's checks, in its order. */
	if (flags & ~CLONE_KNOWN)
		return -EINVAL;
	if ((flags & (CLONE_NEWNS | CLONE_FS)) == (CLONE_NEWNS | CLONE_FS) ||
	    (flags & (CLONE_NEWUSER | CLONE_FS)) == (CLONE_NEWUSER | CLONE_FS))
		return -EINVAL;
	if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
		return -EINVAL;
	if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
		return -EINVAL;
	if ((flags & CLONE_SIGHAND) && (flags & CLONE_CLEAR_SIGHAND_))
		return -EINVAL;
	if ((flags & CLONE_PIDFD_) && (flags & (CLONE_DETACHED_ | CLONE_THREAD)))
		return -EINVAL;
	if (exit_signal < 0 || exit_signal > WARD_NSIG)
		return -EINVAL;
	if (flags & CLONE_NS_FLAGS)
		return -EPERM; /* the sandbox's root holds no CAP_SYS_ADMIN over namespaces */
	if (flags & (CLONE_PTRACE | CLONE_UNTRACED_))
		return -EINVAL; /* no ptrace inside the sandbox */
	if ((flags & CLONE_PARENT) && p->pid == 1)
		return -EINVAL; /* init's parent is outside the sandbox */

	/* The sandbox's pids limit binds everyone, root included (a cgroup). */
	if (task_pids_exhausted())
		return -EAGAIN;
	/* RLIMIT_NPROC counts the tasks of the real user; root is exempt, as
	 * CAP_SYS_RESOURCE makes it on Linux. */
	if (t->creds.uid != 0 && t->rlimits[RLIMIT_NPROC].rlim_cur != RLIM_INFINITY &&
	    (uint64_t)task_count_for_uid(t->creds.uid) >= t->rlimits[RLIMIT_NPROC].rlim_cur)
		return -EAGAIN;
	struct task *child = task_new();
	if (!child)
		return -EAGAIN;
	long r = copy_task_state(t, child, flags, tls);
	if (r < 0) {
		discard_child(child);
		return r;
	}
	if (newsp)
		child->regs.rsp = newsp;
	int32_t id = task_alloc_id();
	struct process *cp = NULL;
	if (flags & CLONE_THREAD) {
		child->tid = id;
		child->tgid = p->pid;
		child->proc = p;
		child->next_in_proc = p->threads;
		p->threads = child;
		p->nthreads++;
	} else {
		cp = calloc(1, sizeof(*cp));
		if (!cp) {
			discard_child(child);
			return -EAGAIN;
		}
		if (flags & CLONE_SIGHAND) {
			cp->sighand = p->sighand;
			p->sighand->refs++;
		} else {
			cp->sighand = malloc(sizeof(*cp->sighand));
			if (!cp->sighand) {
				free(cp);
				discard_child(child);
				return -EAGAIN;
			}
			*cp->sighand = *p->sighand;
			cp->sighand->refs = 1;
			/* CLONE_CLEAR_SIGHAND: handled signals start at the default. */
			if (flags & CLONE_CLEAR_SIGHAND_)
				for (int i = 0; i < WARD_NSIG; i++)
					if (cp->sighand->actions[i].handler > 1)
						memset(&cp->sighand->actions[i], 0, sizeof(cp->sighand->actions[i]));
		}
		cp->pid = id;
		process_mark_start(cp);
		cp->pgid = p->pgid;
		cp->sid = p->sid;
		cp->exit_signal = exit_signal;
		cp->threads = child;
		cp->nthreads = 1;
		struct process *parent = (flags & CLONE_PARENT) && p->parent ? p->parent : p;
		cp->parent = parent;
		cp->sibling = parent->children;
		parent->children = cp;
		child->tid = child->tgid = id;
		child->proc = cp;
	}
	if (flags & CLONE_CHILD_SETTID)
		child->set_child_tid = ctid;
	if (flags & CLONE_CHILD_CLEARTID)
		child->clear_child_tid = ctid.v;
	if (flags & CLONE_PARENT_SETTID)
		ward_copy_out(task_as(t), ptid, &id, sizeof(id));
	if (flags & CLONE_PIDFD_) {
		/* The pidfd is the parent's before the child runs. */
		struct file *pf;
		long fd = pidfd_create(id, 0, &pf);
		if (fd == 0) {
			fd = fd_install(t, pf, FD_CLOEXEC, 0);
			file_put(pf);
		}
		int32_t fd32 = (int32_t)fd;
		if (fd < 0 || ward_copy_out(task_as(t), pidfd_out, &fd32, sizeof(fd32)) < 0) {
			if (fd >= 0)
				fd_close(t, (int)fd);
			if (cp) {
				cp->parent->children = cp->sibling;
				if (--cp->sighand->refs == 0)
					free(cp->sighand);
				free(cp);
			} else {
				p->threads = child->next_in_proc;
				p->nthreads--;
			}
			discard_child(child);
			return fd < 0 ? fd : -EFAULT;
		}
	}

	/* A clone starts with a copy of its parent's FPU state. */
	child->start_fp = aligned_alloc(64, sizeof(*child->start_fp));
	if (child->start_fp && ward_fpstate_get(t->ctx, ward_as_platform(task_as(t)), child->start_fp) < 0) {
		free(child->start_fp);
		child->start_fp = NULL;
	}
	r = task_start(child);
	if (r < 0) {
		if (cp) {
			cp->parent->children = cp->sibling;
			if (--cp->sighand->refs == 0)
				free(cp->sighand);
			free(cp);
		} else {
			p->threads = child->next_in_proc;
			p->nthreads--;
		}
		discard_child(child);
		return -EAGAIN;
	}
	if (flags & CLONE_VFORK) {
		/* Wait (killably) until the child execs or exits; look it up each
		 * time, since it may be reaped while we sleep. */
		for (;;) {
			struct process *c = process_by_pid(id);
			if (!c || c->vfork_released || t->exiting)
				break;
			struct waiter w;
			waitq_add(&c->vfork_done, &w, t);
			ward_cond_wait(&t->wake, 0);
			c = process_by_pid(id);
			if (c)
				waitq_remove(&c->vfork_done, &w);
		}
	}
	return id;
}

/* fork(2) */
long sys_fork(struct task *t, const struct syscall_args *args)
{
	return do_clone(t, 0, 0, gaddr(0), gaddr(0), 0, SIGCHLD, gaddr(0));
}

/* vfork(2) */
long sys_vfork(struct task *t, const struct syscall_args *args)
{
	return do_clone(t, CLONE_VM | CLONE_VFORK, 0, gaddr(0), gaddr(0), 0, SIGCHLD, gaddr(0));
}

/* clone(2): x86-64 order is flags, stack, parent_tid, child_tid, tls. */
long sys_clone(struct task *t, const struct syscall_args *args)
{
	uint64_t flags = arg_u64(args, 0);
	/* clone's CLONE_PIDFD writes through the parent_tid slot, so the two
	 * cannot go together. */
	if ((flags & CLONE_PIDFD_) && (flags & CLONE_PARENT_SETTID))
		return -EINVAL;
	return do_clone(t, flags & ~(uint64_t)CSIGNAL_, arg_u64(args, 1), arg_addr(args, 2), arg_addr(args, 3),
			arg_u64(args, 4), (int)(flags & CSIGNAL_), arg_addr(args, 2));
}

struct linux_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size,
		cgroup;
};

/* clone3(2) */
long sys_clone3(struct task *t, const struct syscall_args *args)
{
	struct linux_clone_args ca;
	uint64_t size = arg_u64(args, 1);
	if (size > 4096)
		return -E2BIG;
	if (size < 64)
		return -EINVAL;
	memset(&ca, 0, sizeof(ca));
	if (ward_copy_in(task_as(t), &ca, arg_addr(args, 0), WARD_MIN(size, sizeof(ca))) < 0)
		return -EFAULT;
	/* Bytes past what ward knows must be zero (extensible structs). */
	for (uint64_t off = sizeof(ca); off < size; off += 8) {
		uint64_t v = 0;
		if (ward_copy_in(task_as(t), &v, gaddr_add(arg_addr(args, 0), off), WARD_MIN(8, size - off)) < 0)
			return -EFAULT;
		if (v)
			return -E2BIG;
	}
	if ((ca.flags & CSIGNAL_) || ca.exit_signal > WARD_NSIG || ca.set_tid || ca.set_tid_size || ca.cgroup ||
	    (ca.flags & CLONE_INTO_CGROUP_))
		return -EINVAL;
	if ((ca.stack == 0) != (ca.stack_size == 0))
		return -EINVAL;
	return do_clone(t, ca.flags, ca.stack ? ca.stack + ca.stack_size : 0, gaddr(ca.parent_tid), gaddr(ca.child_tid),
			ca.tls, (int)ca.exit_signal, gaddr(ca.pidfd));
}

/* Copies a NULL-terminated array of guest strings. */
#define MAX_ARG_STRLEN_ (32 * 4096)
#define MAX_ARG_TOTAL (2 * 1024 * 1024)

static void free_strv(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static long copy_strv(struct task *t, gaddr_t addr, char ***out, size_t *total)
{
	size_t n = 0, cap = 16;
	char **v = calloc(cap, sizeof(char *));
	if (!v)
		return -ENOMEM;
	if (!gaddr_is_null(addr)) {
		for (;;) {
			uint64_t p;
			if (ward_copy_in(task_as(t), &p, gaddr_add(addr, n * 8), 8) < 0) {
				free_strv(v);
				return -EFAULT;
			}
			if (!p)
				break;
			char *s = malloc(MAX_ARG_STRLEN_);
			if (!s) {
				free_strv(v);
				return -ENOMEM;
			}
			long len = ward_copy_string_in(task_as(t), s, MAX_ARG_STRLEN_, gaddr(p));
			if (len < 0) {
				free(s);
				free_strv(v);
				return len == -ENAMETOOLONG ? -E2BIG : len;
			}
			*total += (size_t)len + 1 + 8;
			if (*total > MAX_ARG_TOTAL) {
				free(s);
				free_strv(v);
				return -E2BIG;
			}
			char *shrunk = realloc(s, (size_t)len + 1);
			v[n++] = shrunk ? shrunk : s;
			if (n + 1 >= cap) {
				char **nv = realloc(v, cap * 2 * sizeof(char *));
				if (!nv) {
					free_strv(v);
					return -ENOMEM;
				}
				memset(nv + cap, 0, cap * sizeof(char *));
				v = nv;
				cap *= 2;
			}
		}
	}
	v[n] = NULL;
	*out = v;
	return 0;
}

static long do_execve(struct task *t, const char *path, gaddr_t argv_addr, gaddr_t envp_addr)
{
	char **argv = NULL, **envp = NULL;
	size_t total = 0;
	char err[256];
	struct loader_result lr;

	long r = copy_strv(t, argv_addr, &argv, &total);
	if (r == 0)
		r = copy_strv(t, envp_addr, &envp, &total);
	if (r < 0) {
		free_strv(argv);
		return r;
	}
	struct mm *old = t->mm, *nmm = NULL;
	/* A new image is loaded beside the old one, so a failure leaves the
	 * caller as it was; the other threads go only once it has loaded. */
	r = mm_create(&nmm);
	if (r < 0)
		goto out;
	t->mm = nmm;
	r = loader_load(t, path, argv, envp, &lr, err, sizeof(err));
	if (r < 0) {
		t->mm = old;
		mm_destroy(nmm);
		goto out;
	}
	/* The point of no return: the other threads and the old image go. */
	task_kill_other_threads(t);
	if (t->tid != t->proc->pid)
		t->tid = t->proc->pid; /* the exec'ing thread becomes the leader */
	if (t->files_refs && *t->files_refs > 1) {
		/* A shared table is unshared first (unshare_files in exec). */
		struct fd_table *own = fdtable_dup(t->files);
		int *refs = malloc(sizeof(int));
		if (own && refs) {
			(*t->files_refs)--;
			t->files = own;
			t->files_refs = refs;
			*refs = 1;
		} else {
			free(refs);
			if (own)
				fdtable_destroy(own);
		}
	}
	mm_put(old);
	fdtable_close_on_exec(t->files);
	signal_exec_reset(t);
	timer_process_exec(t->proc);
	creds_exec(&t->creds);
	/* set_personality_64bit: a 64-bit program never reads-implies-exec. */
	t->personality &= ~0x0400000u;
	t->proc->has_execed = true;
	t->clear_child_tid = 0;
	t->robust_list = 0;
	memset(&t->regs, 0, sizeof(t->regs));
	t->regs.rip = lr.entry;
	t->regs.rsp = lr.stack_pointer;
	t->regs.cs = 0x33;
	t->regs.ss = 0x2b;
	t->regs.eflags = 0x202;
	struct ward_fpstate *fp = malloc(sizeof(*fp));
	if (fp) {
		ward_fpstate_init(fp);
		ward_fpstate_set(t->ctx, ward_as_platform(task_as(t)), fp);
		free(fp);
	}
	if (!t->proc->vfork_released) {
		t->proc->vfork_released = true;
		waitq_wake_all(&t->proc->vfork_done);
	}
	r = 0;
out:
	free_strv(argv);
	free_strv(envp);
	return r;
}

/* execve(2) */
long sys_execve(struct task *t, const struct syscall_args *args)
{
	char path[4096];
	long n = ward_copy_string_in(task_as(t), path, sizeof(path), arg_addr(args, 0));
	if (n < 0)
		return n;
	if (n == 0)
		return -ENOENT;
	return do_execve(t, path, arg_addr(args, 1), arg_addr(args, 2));
}

/* execveat(2): a relative path is taken from the directory's own path, and
 * AT_EMPTY_PATH runs the file the descriptor names. */
long sys_execveat(struct task *t, const struct syscall_args *args)
{
	char path[4096], full[4096];
	int dirfd = arg_int(args, 0), flags = arg_int(args, 4);
	if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -EINVAL;
	long n = ward_copy_string_in(task_as(t), path, sizeof(path), arg_addr(args, 1));
	if (n < 0)
		return n;
	if (path[0] == '/' || (dirfd == AT_FDCWD && n > 0))
		return do_execve(t, path, arg_addr(args, 2), arg_addr(args, 3));
	if (n == 0 && !(flags & AT_EMPTY_PATH))
		return -ENOENT;
	struct file *f = fd_get(t, dirfd);
	if (!f)
		return -EBADF;
	int k = n == 0 ? snprintf(full, sizeof(full), "%s", f->path)
		       : snprintf(full, sizeof(full), "%s/%s", f->path, path);
	file_put(f);
	if (k < 0 || (size_t)k >= sizeof(full))
		return -ENAMETOOLONG;
	return do_execve(t, full, arg_addr(args, 2), arg_addr(args, 3));
}

/* exit(2) */
long sys_exit(struct task *t, const struct syscall_args *args)
{
	task_exit_thread(t, arg_int(args, 0));
	return 0;
}

/* exit_group(2) */
long sys_exit_group(struct task *t, const struct syscall_args *args)
{
	process_exit(t, (arg_int(args, 0) & 0xff) << 8);
	return 0;
}

enum { P_ALL_ = 0, P_PID_ = 1, P_PGID_ = 2, P_PIDFD_ = 3 };
#define WNOHANG_ 1
#define WSTOPPED_ 2
#define WEXITED_ 4
#define WCONTINUED_ 8
#define WNOWAIT_ 0x01000000
#define WNOTHREAD_ 0x20000000
#define WALL_ 0x40000000
#define WCLONE_ 0x80000000

static bool wait_matches(const struct process *c, int idtype, int32_t id, int options)
{
	if (idtype == P_PID_ && c->pid != id)
		return false;
	if (idtype == P_PGID_ && c->pgid != id)
		return false;
	if (options & WALL_)
		return true;
	/* A "clone" child announces its exit with something else than SIGCHLD. */
	bool is_clone = c->exit_signal != SIGCHLD;
	return ((options & WCLONE_) != 0) == is_clone;
}

static long do_wait(struct task *t, int idtype, int32_t id, int options, struct wait_result *res)
{
	struct process *p = t->proc;
	for (;;) {
		bool any = false;
		for (struct process *c = p->children; c; c = c->sibling) {
			if (!wait_matches(c, idtype, id, options))
				continue;
			any = true;
			if (c->zombie && (options & WEXITED_)) {
				int st = c->exit_status;
				res->pid = c->pid;
				res->status = st;
				res->code = (st & 0x7f) ? ((st & 0x80) ? 3 : 2) : 1;
				res->child_status = (st & 0x7f) ? (st & 0x7f) : (st >> 8) & 0xff;
				res->run_ns = c->cpu_ns + c->children_run_ns;
				if (!(options & WNOWAIT_)) {
					p->children_run_ns += c->cpu_ns + c->children_run_ns;
					process_release(c);
				}
				return res->pid;
			}
			if (c->stop == PROC_STOPPED && c->report_stop && (options & WSTOPPED_)) {
				res->pid = c->pid;
				res->status = (c->stop_signal << 8) | 0x7f;
				res->code = 5; /* CLD_STOPPED */
				res->child_status = c->stop_signal;
				if (!(options & WNOWAIT_))
					c->report_stop = false;
				return res->pid;
			}
			if (c->report_continue && (options & WCONTINUED_)) {
				res->pid = c->pid;
				res->status = 0xffff;
				res->code = 6; /* CLD_CONTINUED */
				res->child_status = SIGCONT;
				if (!(options & WNOWAIT_))
					c->report_continue = false;
				return res->pid;
			}
		}
		if (!any)
			return -ECHILD;
		if (options & WNOHANG_)
			return 0;
		struct waiter w;
		waitq_add(&p->child_events, &w, t);
		long r = task_sleep(t, 0);
		waitq_remove(&p->child_events, &w);
		if (r == -EINTR)
			return -WARD_ERESTARTSYS;
	}
}

struct linux_rusage {
	struct linux_timeval ru_utime;
	struct linux_timeval ru_stime;
	int64_t rest[14];
};
_Static_assert(sizeof(struct linux_rusage) == 144, "rusage");

static long put_rusage(struct task *t, gaddr_t addr, int64_t run_ns)
{
	struct linux_rusage ru;
	if (gaddr_is_null(addr))
		return 0;
	memset(&ru, 0, sizeof(ru));
	ru.ru_utime.tv_sec = run_ns / 1000000000L;
	ru.ru_utime.tv_usec = (run_ns % 1000000000L) / 1000;
	return WARD_COPY_OUT_OBJ(task_as(t), addr, &ru);
}

/* wait4(2) */
long sys_wait4(struct task *t, const struct syscall_args *args)
{
	int32_t pid = arg_int(args, 0);
	int options = arg_int(args, 2);
	struct wait_result res;

	if (options & ~(WNOHANG_ | WUNTRACED | WCONTINUED_ | WNOTHREAD_ | WALL_ | (int)WCLONE_))
		return -EINVAL;
	if (pid == INT32_MIN)
		return -ESRCH;
	int idtype = P_PID_;
	int32_t id = pid;
	if (pid == -1) {
		idtype = P_ALL_;
	} else if (pid < 0) {
		idtype = P_PGID_;
		id = -pid;
	} else if (pid == 0) {
		idtype = P_PGID_;
		id = t->proc->pgid;
	}
	long r = do_wait(t, idtype, id, options | WEXITED_, &res);
	if (r <= 0)
		return r;
	if (!gaddr_is_null(arg_addr(args, 1)) &&
	    ward_copy_out(task_as(t), arg_addr(args, 1), &res.status, sizeof(int)) < 0)
		return -EFAULT;
	if (put_rusage(t, arg_addr(args, 3), res.run_ns) < 0)
		return -EFAULT;
	return r;
}

/* waitid(2) */
long sys_waitid(struct task *t, const struct syscall_args *args)
{
	int idtype = arg_int(args, 0);
	int32_t id = arg_int(args, 1);
	int options = arg_int(args, 3);
	struct wait_result res;

	if (options & ~(WNOHANG_ | WEXITED_ | WSTOPPED_ | WCONTINUED_ | WNOWAIT_ | WNOTHREAD_ | WALL_ | (int)WCLONE_))
		return -EINVAL;
	if (!(options & (WEXITED_ | WSTOPPED_ | WCONTINUED_)))
		return -EINVAL;
	switch (idtype) {
	case P_ALL_:
		break;
	case P_PID_:
		if (id <= 0)
			return -EINVAL;
		break;
	case P_PGID_:
		if (id < 0)
			return -EINVAL;
		if (id == 0)
			id = t->proc->pgid;
		break;
	case P_PIDFD_: {
		struct file *f = fd_get(t, id);
		if (!f)
			return -EBADF;
		int32_t pid = pidfd_pid(f);
		file_put(f);
		if (pid < 0)
			return -EINVAL;
		idtype = P_PID_;
		id = pid;
		break;
	}
	default:
		return -EINVAL;
	}
	memset(&res, 0, sizeof(res));
	long r = do_wait(t, idtype, id, options, &res);
	if (r < 0)
		return r;
	gaddr_t infop = arg_addr(args, 2);
	if (!gaddr_is_null(infop)) {
		struct linux_siginfo si;
		memset(&si, 0, sizeof(si));
		if (r > 0) {
			si.si_signo = SIGCHLD;
			si.si_code = res.code;
			si.u.child.pid = res.pid;
			si.u.child.uid = res.uid;
			si.u.child.status = res.child_status;
		}
		if (WARD_COPY_OUT_OBJ(task_as(t), infop, &si) < 0)
			return -EFAULT;
	}
	if (r > 0 && put_rusage(t, arg_addr(args, 4), res.run_ns) < 0)
		return -EFAULT;
	return 0;
}

/* Process groups and sessions. */

struct group_query {
	int32_t pgid;
	int32_t sid;
	bool found;
};

static void find_group(struct process *p, void *arg)
{
	struct group_query *q = arg;
	if (!p->zombie && p->pgid == q->pgid && (q->sid == 0 || p->sid == q->sid))
		q->found = true;
}

/* setpgid(2) */
long sys_setpgid(struct task *t, const struct syscall_args *args)
{
	int32_t pid = arg_int(args, 0), pgid = arg_int(args, 1);
	struct process *self = t->proc;
	if (pgid < 0)
		return -EINVAL;
	struct process *target = pid == 0 ? self : process_by_pid(pid);
	if (!target || (target != self && target->parent != self))
		return -ESRCH;
	if (target != self && target->has_execed)
		return -EACCES;
	if (target->sid != self->sid)
		return -EPERM;
	if (target->sid == target->pid)
		return -EPERM; /* a session leader keeps its group */
	if (pgid == 0)
		pgid = target->pid;
	if (pgid != target->pid) {
		struct group_query q = { pgid, self->sid, false };
		process_for_each(find_group, &q);
		if (!q.found)
			return -EPERM;
	}
	target->pgid = pgid;
	return 0;
}

/* The process a getpgid/getsid argument names: 0 for the caller. */
static struct process *process_arg(struct task *t, int32_t pid)
{
	if (pid < 0)
		return NULL;
	return pid == 0 ? t->proc : process_by_pid(pid);
}

/* getpgid(2) */
long sys_getpgid(struct task *t, const struct syscall_args *args)
{
	struct process *p = process_arg(t, arg_int(args, 0));
	return p ? p->pgid : -ESRCH;
}

/* getpgrp(2) */
long sys_getpgrp(struct task *t, const struct syscall_args *args)
{
	return t->proc->pgid;
}

/* getsid(2) */
long sys_getsid(struct task *t, const struct syscall_args *args)
{
	struct process *p = process_arg(t, arg_int(args, 0));
	return p ? p->sid : -ESRCH;
}

/* setsid(2) */
long sys_setsid(struct task *t, const struct syscall_args *args)
{
	struct process *p = t->proc;
	struct group_query q = { p->pid, 0, false };
	process_for_each(find_group, &q);
	if (p->pgid == p->pid || q.found)
		return -EPERM;
	p->sid = p->pgid = p->pid;
	return p->sid;
}

/* getppid(2): 0 for PID 1, whose parent is outside the sandbox. */
long sys_getppid(struct task *t, const struct syscall_args *args)
{
	return t->proc->parent ? t->proc->parent->pid : 0;
}

/* pidfd_open(2) */
long sys_pidfd_open(struct task *t, const struct syscall_args *args)
{
	int32_t pid = arg_int(args, 0);
	unsigned int flags = arg_uint(args, 1);
	struct file *f;
	if (flags & ~(unsigned int)O_NONBLOCK)
		return -EINVAL;
	if (pid <= 0)
		return -EINVAL;
	struct process *p = process_by_pid(pid);
	if (!p)
		return -ESRCH;
	long r = pidfd_create(pid, (int)flags, &f);
	if (r < 0)
		return r;
	r = fd_install(t, f, FD_CLOEXEC, 0);
	file_put(f);
	return r;
}

/* pidfd_send_signal(2) */
long sys_pidfd_send_signal(struct task *t, const struct syscall_args *args)
{
	int sig = arg_int(args, 1);
	gaddr_t info_addr = arg_addr(args, 2);
	if (arg_uint(args, 3))
		return -EINVAL;
	struct file *f = fd_get(t, arg_int(args, 0));
	if (!f)
		return -EBADF;
	int32_t pid = pidfd_pid(f);
	file_put(f);
	if (pid < 0)
		return -EBADF;
	if (sig < 0 || sig > WARD_NSIG)
		return -EINVAL;
	struct process *p = process_by_pid(pid);
	if (!p || p->zombie)
		return -ESRCH;
	struct linux_siginfo si;
	memset(&si, 0, sizeof(si));
	if (!gaddr_is_null(info_addr)) {
		if (WARD_COPY_IN_OBJ(task_as(t), &si, info_addr) < 0)
			return -EFAULT;
		if (si.si_signo != sig)
			return -EINVAL;
		if (p != t->proc && (si.si_code >= 0 || si.si_code == -6 /* SI_TKILL */))
			return -EPERM;
	} else {
		si.si_signo = sig;
		si.si_code = 0; /* SI_USER */
		si.u.rt.pid = t->tgid;
		si.u.rt.uid = t->creds.uid;
	}
	return sig ? signal_send_process(p, &si) : 0;
}
