/* Tasks, processes and the task loop: switch into the guest, handle what
 * stopped it, deliver signals, switch back. */
#include "sentry/service.h"

#include "fs/pty.h"
#include "fs/vfs.h"
#include "fs/vfs_internal.h"
#include "sentry/kernel/ipc.h"
#include "sentry/kernel/pidfd.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/timer.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

/* Every live task and every process not yet reaped, for lookups by id. The
 * sandbox holds few enough that a list is the simple, adequate choice. */
struct task_node {
	struct task *task;
	struct task_node *next;
};

static struct task_node *all_tasks;
struct task *task_current(void)
{
	return ward_thread_current();
}
static struct process *init_process;
static int32_t next_id = 1;

/* Processes are found through their threads, and zombies (no threads)
 * through their parents' child lists, so a walk from init covers all. */
static struct process *find_process(struct process *p, int32_t pid)
{
	for (; p; p = p->sibling) {
		if (p->pid == pid)
			return p;
		struct process *c = find_process(p->children, pid);
		if (c)
			return c;
	}
	return NULL;
}

/* CLOCK_BOOTTIME now, for a process's start time. */
static int64_t boot_now_ns(void)
{
	struct linux_timespec ts;
	if (ward_host_clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
		return 0;
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

void process_mark_start(struct process *p)
{
	p->start_boot_ns = boot_now_ns();
}

struct process *process_init(void)
{
	return init_process;
}

static void for_each_in(struct process *p, void (*fn)(struct process *, void *), void *arg)
{
	while (p) {
		struct process *next = p->sibling;
		for_each_in(p->children, fn, arg);
		fn(p, arg);
		p = next;
	}
}

void process_for_each(void (*fn)(struct process *p, void *arg), void *arg)
{
	for_each_in(init_process, fn, arg);
}

struct process *process_by_pid(int32_t pid)
{
	if (pid <= 0 || !init_process)
		return NULL;
	return find_process(init_process, pid);
}

struct task *task_by_tid(int32_t tid)
{
	for (struct task_node *n = all_tasks; n; n = n->next)
		if (n->task->tid == tid)
			return n->task;
	return NULL;
}

static int task_total;
static int zombie_total; /* processes that hold their pid until reaped */
static int pids_limit = 1024;

void task_set_pids_limit(int limit)
{
	pids_limit = limit;
}

bool task_pids_exhausted(void)
{
	/* As a pids cgroup counts them: every task, and every zombie. */
	return pids_limit > 0 && task_total + zombie_total >= pids_limit;
}

int task_count_for_uid(uint32_t uid)
{
	int n = 0;
	for (struct task_node *x = all_tasks; x; x = x->next)
		if (x->task->creds.uid == uid)
			n++;
	return n;
}

int32_t task_alloc_id(void)
{
	/* pid_max is 4194304; ids are not reused before it wraps. */
	for (;;) {
		int32_t id = next_id++;
		if (next_id > 4194304)
			next_id = 2;
		if (!task_by_tid(id) && !process_by_pid(id))
			return id;
	}
}

static long register_task(struct task *t)
{
	struct task_node *n = malloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->task = t;
	n->next = all_tasks;
	all_tasks = n;
	task_total++;
	return 0;
}

static void unregister_task(struct task *t)
{
	for (struct task_node **pp = &all_tasks; *pp; pp = &(*pp)->next) {
		if ((*pp)->task == t) {
			struct task_node *n = *pp;
			*pp = n->next;
			free(n);
			task_total--;
			return;
		}
	}
}

struct ward_as *task_as(const struct task *t)
{
	return mm_as(t->mm);
}

/* Wait queues. */

void waitq_add(struct waitq *q, struct waiter *w, struct task *t)
{
	w->task = t;
	w->func = NULL;
	w->arg = NULL;
	w->next = q->head;
	q->head = w;
}

void waitq_add_callback(struct waitq *q, struct waiter *w, void (*func)(struct waiter *w), void *arg)
{
	w->task = NULL;
	w->func = func;
	w->arg = arg;
	w->next = q->head;
	q->head = w;
}

void waitq_remove(struct waitq *q, struct waiter *w)
{
	for (struct waiter **pp = &q->head; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			return;
		}
	}
}

void waitq_wake_all(struct waitq *q)
{
	struct waiter *next;
	/* A callback may take its own waiter off the queue: read next first. */
	for (struct waiter *w = q->head; w; w = next) {
		next = w->next;
		if (w->func)
			w->func(w);
		else
			task_wake(w->task);
	}
}

void task_wake(struct task *t)
{
	ward_cond_broadcast(&t->wake);
	if (t->in_host_call)
		ward_thread_kick(t->host_thread);
}

long task_host_call(struct task *t, long (*fn)(void *arg), void *arg)
{
	if (!t)
		return fn(arg);
	if (t->exiting || signal_pending(t))
		return -EINTR;
	t->in_host_call = true;
	ward_kernel_unlock();
	long r = fn(arg);
	ward_kernel_lock();
	t->in_host_call = false;
	return r;
}

long task_sleep(struct task *t, int64_t deadline_ns)
{
	if (t->exiting || signal_pending(t))
		return -EINTR;
	t->sleeping = true;
	long r = ward_cond_wait(&t->wake, deadline_ns);
	t->sleeping = false;
	if (t->exiting || signal_pending(t))
		return -EINTR;
	if (r == -ETIMEDOUT || (deadline_ns > 0 && ward_now_ns() >= deadline_ns))
		return -ETIMEDOUT;
	return 0;
}

/* Creation. */

static struct task *task_alloc(void)
{
	struct task *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	ward_cond_init(&t->wake);
	return t;
}

static void task_free(struct task *t)
{
	if (!t)
		return;
	sigpending_clear(&t->pending);
	ward_cond_destroy(&t->wake);
	free(t->start_fp);
	free(t->exe_path);
	free(t);
}

static const char default_path[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/* The PATH the guest would search with execvp: its own, or the default. */
static const char *guest_path_var(char *const envp[])
{
	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], "PATH=", 5) == 0)
			return envp[i] + 5;
	return default_path;
}

/* Finds name in PATH as execvp does: the first candidate that opens for
 * execution wins; EACCES is remembered if nothing does. */
static long search_path(struct task *t, const char *name, char *const envp[], char *out, size_t outlen)
{
	const char *p = guest_path_var(envp);
	long result = -ENOENT;

	while (*p) {
		const char *colon = strchr(p, ':');
		size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
		int n = snprintf(out, outlen, "%.*s/%s", (int)dlen, dlen ? p : ".", name);
		if (n > 0 && (size_t)n < outlen) {
			struct file *f = NULL;
			long r = vfs_open_exec(t, out, &f);
			if (r == 0) {
				file_put(f);
				return 0;
			}
			if (r == -EACCES)
				result = r;
		}
		if (!colon)
			break;
		p = colon + 1;
	}
	return result;
}

static void init_user_regs(struct task *t, uint64_t rip, uint64_t rsp)
{
	memset(&t->regs, 0, sizeof(t->regs));
	t->regs.rip = rip;
	t->regs.rsp = rsp;
	t->regs.cs = 0x33;
	t->regs.ss = 0x2b;
	t->regs.eflags = 0x202;
}

long task_create_init(const struct task_spec *spec, struct task **out, char *errbuf, size_t errlen)
{
	char resolved[4096];
	const char *path = spec->path;
	struct loader_result lr;
	long r;

	struct task *t = task_alloc();
	struct process *p = calloc(1, sizeof(*p));
	if (!t || !p) {
		free(p);
		task_free(t);
		return -ENOMEM;
	}
	p->sighand = calloc(1, sizeof(*p->sighand));
	if (!p->sighand) {
		free(p);
		task_free(t);
		return -ENOMEM;
	}
	p->sighand->refs = 1;
	p->pid = p->pgid = p->sid = task_alloc_id();
	process_mark_start(p);
	p->exit_signal = SIGCHLD;
	p->threads = t;
	p->nthreads = 1;
	t->tid = t->tgid = p->pid;
	t->proc = p;
	init_process = p;
	t->creds = spec->creds;
	memcpy(t->rlimits, spec->rlimits, sizeof(t->rlimits));
	t->fs = calloc(1, sizeof(*t->fs));
	t->files = fdtable_create();
	t->files_refs = calloc(1, sizeof(int));
	t->fs_refs = calloc(1, sizeof(int));
	if (!t->fs || !t->files || !t->files_refs || !t->fs_refs || register_task(t) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	*t->files_refs = *t->fs_refs = 1;
	t->fs->umask = 022;
	snprintf(t->fs->cwd, sizeof(t->fs->cwd), "%s", spec->cwd ? spec->cwd : "/");
	r = fdtable_install_stdio(t);
	if (r < 0)
		goto fail;
	vfs_create_mountpoints(t);
	r = mm_create(&t->mm);
	if (r < 0) {
		snprintf(errbuf, errlen, "cannot create the guest address space: %s", strerror((int)-r));
		goto fail;
	}
	r = ward_ctx_create(&t->ctx);
	if (r < 0)
		goto fail;

	if (!strchr(path, '/')) {
		r = search_path(t, path, spec->envp, resolved, sizeof(resolved));
		if (r < 0) {
			snprintf(errbuf, errlen, "%s: %s", path,
				 r == -ENOENT ? "command not found" : strerror((int)-r));
			goto fail;
		}
		path = resolved;
	}
	errbuf[0] = 0;
	r = loader_load(t, path, spec->argv, spec->envp, &lr, errbuf, errlen);
	if (r < 0) {
		if (!errbuf[0])
			snprintf(errbuf, errlen, "%s: %s", path, strerror((int)-r));
		goto fail;
	}
	init_user_regs(t, lr.entry, lr.stack_pointer);
	*out = t;
	return 0;
fail:
	unregister_task(t);
	ward_ctx_destroy(t->ctx);
	mm_destroy(t->mm);
	if (t->files)
		fdtable_destroy(t->files);
	free(t->fs);
	free(t->files_refs);
	free(t->fs_refs);
	task_free(t);
	init_process = NULL;
	free(p->sighand);
	free(p);
	return r;
}

/* Exit. */

void process_exit(struct task *t, int wait_status)
{
	struct process *p = t->proc;
	if (!p->exiting) {
		p->exiting = true;
		p->exit_status = wait_status;
	}
	/* Every thread leaves its loop: those in the guest are interrupted,
	 * those asleep are woken. */
	for (struct task *o = p->threads; o; o = o->next_in_proc) {
		o->exiting = true;
		if (o != t) {
			ward_ctx_interrupt(o->ctx);
			task_wake(o);
		}
	}
	t->exiting = true;
}

void task_exit_thread(struct task *t, int exit_code)
{
	/* The last thread's exit is the process's. */
	if (t->proc->nthreads <= 1) {
		process_exit(t, (exit_code & 0xff) << 8);
		return;
	}
	t->exiting = true;
}

void task_kill_other_threads(struct task *t)
{
	struct process *p = t->proc;
	for (struct task *o = p->threads; o; o = o->next_in_proc) {
		if (o == t)
			continue;
		o->exiting = true;
		ward_ctx_interrupt(o->ctx);
		task_wake(o);
	}
	p->exec_waiter = t;
	while (p->nthreads > 1)
		ward_cond_wait(&t->wake, 0);
	p->exec_waiter = NULL;
}

#define ROBUST_LIST_LIMIT 2048
#define FUTEX_WAITERS_BIT 0x80000000U
#define FUTEX_OWNER_DIED_BIT 0x40000000U
#define FUTEX_TID_BITS 0x3fffffffU

/* A lock the exiting thread held: mark it owner-died and wake a waiter, as
 * handle_futex_death does. */
static void robust_release(struct task *t, uint64_t addr)
{
	uint32_t word;
	for (int tries = 0; tries < 16; tries++) {
		if (ward_copy_in(task_as(t), &word, gaddr(addr), sizeof(word)) < 0)
			return;
		if ((word & FUTEX_TID_BITS) != (uint32_t)t->tid)
			return;
		uint32_t nw = (word & FUTEX_WAITERS_BIT) | FUTEX_OWNER_DIED_BIT, seen;
		if (ward_guest_cmpxchg32(task_as(t), gaddr(addr), word, nw, &seen) < 0)
			return;
		if (seen == word) {
			if (word & FUTEX_WAITERS_BIT)
				futex_wake_addr(t, gaddr(addr), 1);
			return;
		}
	}
}

/* The thread's exit as glibc and the kernel agree on it: robust locks are
 * released, and the tid word is cleared and woken (pthread_join). */
static void exit_thread_memory(struct task *t)
{
	if (t->robust_list && t->robust_list_len == sizeof(struct linux_robust_list_head)) {
		struct linux_robust_list_head head;
		if (WARD_COPY_IN_OBJ(task_as(t), &head, gaddr(t->robust_list)) == 0) {
			uint64_t entry = head.list;
			for (int i = 0; entry != t->robust_list && entry && i < ROBUST_LIST_LIMIT; i++) {
				uint64_t next;
				if (ward_copy_in(task_as(t), &next, gaddr(entry), sizeof(next)) < 0)
					break;
				if (entry != head.list_op_pending)
					robust_release(t, entry + (uint64_t)head.futex_offset);
				entry = next;
			}
			if (head.list_op_pending)
				robust_release(t, head.list_op_pending + (uint64_t)head.futex_offset);
		}
	}
	if (t->clear_child_tid) {
		uint32_t zero = 0;
		if (ward_copy_out(task_as(t), gaddr(t->clear_child_tid), &zero, sizeof(zero)) == 0)
			futex_wake_addr(t, gaddr(t->clear_child_tid), 1);
	}
}

/* The nearest subreaper above p, or init. */
static struct process *new_parent_for_orphans(struct process *p)
{
	for (struct process *a = p->parent; a; a = a->parent)
		if (a->subreaper && !a->exiting)
			return a;
	return init_process;
}

static void unlink_child(struct process *parent, struct process *c)
{
	for (struct process **pp = &parent->children; *pp; pp = &(*pp)->sibling) {
		if (*pp == c) {
			*pp = c->sibling;
			c->sibling = NULL;
			return;
		}
	}
}

void process_release(struct process *p)
{
	if (p->parent)
		unlink_child(p->parent, p);
	if (p->zombie)
		zombie_total--;
	sigpending_clear(&p->pending);
	if (p->sighand && --p->sighand->refs == 0)
		free(p->sighand);
	pidfd_notify_exit();
	free(p);
}

static void reparent_children(struct process *p)
{
	struct process *to = new_parent_for_orphans(p);
	while (p->children) {
		struct process *c = p->children;
		p->children = c->sibling;
		if (!to || to == p) {
			c->parent = NULL;
			c->sibling = NULL;
			continue;
		}
		c->parent = to;
		c->sibling = to->children;
		to->children = c;
		for (struct task *ct = c->threads; ct; ct = ct->next_in_proc) {
			if (ct->pdeathsig) {
				struct linux_siginfo si = { .si_signo = ct->pdeathsig,
							    .si_code = 0x80 /* SI_KERNEL */ };
				signal_send_task(ct, &si);
			}
		}
		if (c->zombie)
			signal_notify_parent(c, 1 /* CLD_EXITED */, c->exit_status);
	}
	waitq_wake_all(&to->child_events);
}

static int init_status;
static bool init_done;
static struct ward_cond init_done_cond;
static void (*init_exit_hook)(int wait_status);

void task_set_init_exit_hook(void (*fn)(int wait_status))
{
	init_exit_hook = fn;
}

/* The last act of a task thread: release what it owned; the last thread
 * turns its process into a zombie and tells the parent. */
static void task_finish(struct task *t)
{
	struct process *p = t->proc;
	/* The last thread of PID 1: the sandbox is over, and what is left to
	 * release dies with it. */
	if (p == init_process && p->nthreads == 1 && init_exit_hook)
		init_exit_hook(p->exit_status);
	for (struct task **pp = &p->threads; *pp; pp = &(*pp)->next_in_proc) {
		if (*pp == t) {
			*pp = t->next_in_proc;
			break;
		}
	}
	p->nthreads--;
	unregister_task(t);
	if (t->mm && t->ctx)
		exit_thread_memory(t);
	ipc_undo_put(t);
	mm_put(t->mm);
	t->mm = NULL;
	ward_ctx_destroy(t->ctx);
	t->ctx = NULL;
	if (t->files && --*t->files_refs == 0) {
		fdtable_destroy(t->files);
		free(t->files_refs);
	}
	t->files = NULL;
	if (t->fs && --*t->fs_refs == 0) {
		free(t->fs);
		free(t->fs_refs);
	}
	t->fs = NULL;
	if (p->nthreads > 0) {
		if (p->exec_waiter)
			task_wake(p->exec_waiter);
		task_free(t);
		return;
	}
	timer_process_exit(p);
	memcpy(p->comm, t->comm, sizeof(p->comm));
	p->zombie = true;
	zombie_total++;
	if (p->pid == p->sid)
		pty_session_exit(p->sid);
	pidfd_notify_exit();
	p->vfork_released = true;
	waitq_wake_all(&p->vfork_done);
	reparent_children(p);
	int st = p->exit_status;
	int why = (st & 0x7f) ? ((st & 0x80) ? 3 /* CLD_DUMPED */ : 2 /* CLD_KILLED */) : 1 /* CLD_EXITED */;
	if (p == init_process) {
		init_status = st;
		init_done = true;
		ward_cond_broadcast(&init_done_cond);
	} else {
		signal_notify_parent(p, why, st);
	}
	task_free(t);
}

/* The task loop. */

static void handle_fault(struct task *t, const struct ward_stop *stop)
{
	int signo = stop->signo, code = stop->code;
	/* The host saw an unmapped page; the sentry knows why: a stack to
	 * grow, a file's end (SIGBUS), a protection (ACCERR), or nothing. */
	if (stop->signo == SIGSEGV && stop->code == SEGV_MAPERR) {
		if (mm_handle_fault(t->mm, stop->addr, false, t->rlimits[RLIMIT_STACK].rlim_cur, &signo, &code) == 0)
			return;
	}
	/* A write to a page that still reads a fork's source: copied now,
	 * and the instruction runs again. */
	if (stop->signo == SIGSEGV && stop->code == SEGV_ACCERR) {
		long r = mm_write_fault(t->mm, stop->addr);
		if (r == 0)
			return;
		if (r == 1 && (t->cow_retry_rip != t->regs.rip || t->cow_retry_addr != stop->addr)) {
			t->cow_retry_rip = t->regs.rip;
			t->cow_retry_addr = stop->addr;
			return;
		}
		t->cow_retry_rip = t->cow_retry_addr = 0;
	}
	signal_force_fault(t, signo, code, stop->addr);
}

/* --patch-syscalls: the site of a trapped syscall, `mov $nr,%eax; syscall`
 * (b8 imm32 0f 05) ending at rip, becomes a jump the platform's entry
 * takes without a trap (see the seccomp platform). Only where the rewrite
 * stays this process's (a private mapping with memory of its own, an
 * address space only its threads share) and no other thread can be
 * between the site's two instructions, or fetching them, while it is
 * rewritten: see stop_others. The calls that change the address space or
 * the registers wholesale keep their trap, so that a patched call never
 * needs more of the platform than a plain one. */
static bool patchable_call(uint64_t nr)
{
	switch (nr) {
	case 15: /* rt_sigreturn */
	case 56: /* clone */
	case 57: /* fork */
	case 58: /* vfork */
	case 59: /* execve */
	case 60: /* exit */
	case 158: /* arch_prctl */
	case 231: /* exit_group */
	case 322: /* execveat */
	case 435: /* clone3 */
		return false;
	}
	return nr <= UINT32_MAX;
}

/* Lets the threads stop_others stopped run again. */
static void release_others(struct task *t)
{
	struct process *p = t->proc;
	p->patch_stopper = NULL;
	for (struct task *o = p->threads; o; o = o->next_in_proc)
		if (o->patch_parked)
			ward_cond_broadcast(&o->wake);
}

/* Stops every other thread of t's process outside the guest: each is
 * then in the sentry, where the kernel lock (held from here until
 * release_others) keeps it, or waits in patch_park, and none runs guest
 * code until release_others. A thread in the guest is interrupted and
 * waited for; one in the sentry (a blocked call, a host call, waiting
 * for the lock) parks before it next enters the guest. So when this
 * returns true no thread can be fetching the site's bytes, and each
 * thread's registers are where it will resume. The caller's own stop is
 * the site's end. The lock is dropped while waiting: the caller must check
 * the address space again afterwards. False (nothing stopped) when
 * another thread is stopping the process, or the process is exiting. */
static bool stop_others(struct task *t)
{
	struct process *p = t->proc;
	if (p->patch_stopper)
		return false;
	p->patch_stopper = t;
	bool interrupt = true;
	for (;;) {
		bool running = false;
		for (struct task *o = p->threads; o; o = o->next_in_proc) {
			if (o == t || !o->in_guest)
				continue;
			running = true;
			if (interrupt && o->ctx)
				ward_ctx_interrupt(o->ctx);
		}
		if (!running || t->exiting || p->exiting)
			break;
		/* A thread leaving the guest wakes t; the interrupt is sent
		 * again now and then, in case one raced with the thread's own
		 * way out. */
		interrupt = ward_cond_wait(&t->wake, ward_now_ns() + 20 * 1000000L) == -ETIMEDOUT;
	}
	if (t->exiting || p->exiting) {
		release_others(t);
		return false;
	}
	return true;
}

/* Waits, before t enters the guest, while another thread patches. */
static void patch_park(struct task *t)
{
	struct process *p = t->proc;
	while (p->patch_stopper && p->patch_stopper != t && !t->exiting) {
		t->patch_parked = true;
		ward_cond_wait(&t->wake, 0);
	}
	t->patch_parked = false;
}

static void patch_site(struct task *t, uint64_t nr)
{
	uint64_t ret = t->regs.rip;
	if (!patchable_call(nr) || ret < 7 || t->regs.gs_base || !mm_patchable(t->mm, t->proc->nthreads, ret - 7, ret))
		return;
	uint8_t code[7];
	uint32_t imm;
	if (ward_copy_in(mm_as(t->mm), code, gaddr(ret - 7), sizeof(code)) < 0)
		return;
	memcpy(&imm, code + 1, 4);
	if (code[0] != 0xb8 || code[5] != 0x0f || code[6] != 0x05 || imm != nr)
		return;
	bool alone = t->proc->nthreads == 1;
	if (!alone) {
		if (!stop_others(t))
			return;
		/* The others ran sentry code while t waited: the site may have
		 * changed, and a thread stopped between its two instructions
		 * (its rip 5 bytes in) would resume in the middle of the jump. */
		bool ok = mm_patchable(t->mm, t->proc->nthreads, ret - 7, ret) &&
			  ward_copy_in(mm_as(t->mm), code, gaddr(ret - 7), sizeof(code)) == 0;
		memcpy(&imm, code + 1, 4);
		ok = ok && code[0] == 0xb8 && code[5] == 0x0f && code[6] == 0x05 && imm == nr;
		for (struct task *o = t->proc->threads; ok && o; o = o->next_in_proc)
			if (o != t && o->regs.rip > ret - 7 && o->regs.rip < ret)
				ok = false;
		if (!ok) {
			release_others(t);
			return;
		}
	}
	uint64_t slot;
	if (ward_patch_site(ret, (uint32_t)nr, &slot) == 0) {
		/* jmp *slot: ff 24 25 disp32, with a ModRM/SIB of an absolute
		 * address. */
		uint8_t jmp[7] = { 0xff, 0x24, 0x25 };
		uint32_t disp = (uint32_t)slot;
		memcpy(jmp + 3, &disp, 4);
		ward_copy_out_force(mm_as(t->mm), gaddr(ret - 7), jmp, sizeof(jmp));
	}
	if (!alone)
		release_others(t);
}

/* Runs t until its process exits. The kernel lock is held on entry and on
 * return; it is dropped while guest code runs. */
static void run_loop(struct task *t)
{
	struct ward_stop stop;
	struct syscall_args args;

	ward_thread_set_current(t);
	t->host_thread = ward_thread_self();
	/* Signals that arrived before the first run. */
	signal_deliver(t, false, 0);
	while (!t->exiting) {
		if (t->proc->patch_stopper) {
			patch_park(t);
			if (t->exiting)
				break;
		}
		t->in_guest = true;
		ward_kernel_unlock();
		int64_t t0 = ward_now_ns();
		long r = ward_ctx_run(t->ctx, ward_as_platform(task_as(t)), &t->regs, NULL, &stop);
		int64_t ran = ward_now_ns() - t0;
		t->run_ns += ran;
		ward_kernel_lock();
		t->in_guest = false;
		if (t->proc->patch_stopper)
			ward_cond_broadcast(&t->proc->patch_stopper->wake);
		timer_account_run(t, ran);
		if (r < 0) {
			ward_log(WARD_LOG_ERROR, "the platform lost the guest (%s)", strerror((int)-r));
			process_exit(t, SIGKILL);
			break;
		}
		if (t->exiting)
			break;
		bool in_syscall = false;
		long ret = 0;
		switch (stop.kind) {
		case WARD_STOP_SYSCALL:
			in_syscall = true;
			/* The guest went on since its last write fault. */
			t->cow_retry_rip = t->cow_retry_addr = 0;
			args.nr = t->regs.orig_rax;
			if (ward_patch_enabled())
				patch_site(t, args.nr);
			args.a[0] = t->regs.rdi;
			args.a[1] = t->regs.rsi;
			args.a[2] = t->regs.rdx;
			args.a[3] = t->regs.r10;
			args.a[4] = t->regs.r8;
			args.a[5] = t->regs.r9;
			ret = syscall_dispatch(t, &args);
			if (!t->exiting)
				t->regs.rax = (uint64_t)ret;
			break;
		case WARD_STOP_FAULT:
			handle_fault(t, &stop);
			break;
		case WARD_STOP_INTERRUPT:
			break;
		}
		if (!t->exiting)
			signal_deliver(t, in_syscall, ret);
	}
}

int task_run_init(struct task *t)
{
	ward_cond_init(&init_done_cond);
	run_loop(t);
	task_finish(t);
	/* Init's other threads may still be on their way out; the process is
	 * over when the last of them is. Then, as in a PID namespace,
	 * everything else dies with it (the CLI ends the sentry, and the stubs
	 * with it). */
	while (!init_done)
		ward_cond_wait(&init_done_cond, 0);
	return init_status;
}

static void *task_thread(void *arg)
{
	struct task *t = arg;
	ward_kernel_lock();
	long r = ward_ctx_create(&t->ctx);
	if (r == 0)
		r = mm_attach(t->mm);
	if (r == 0 && t->start_fp) {
		ward_fpstate_set(t->ctx, ward_as_platform(task_as(t)), t->start_fp);
		free(t->start_fp);
		t->start_fp = NULL;
	}
	if (r == 0 && !gaddr_is_null(t->set_child_tid))
		ward_copy_out(task_as(t), t->set_child_tid, &t->tid, sizeof(t->tid));
	if (r < 0) {
		ward_log(WARD_LOG_ERROR, "cannot start task %d: %s", t->tid, strerror((int)-r));
		process_exit(t, SIGKILL);
	} else {
		run_loop(t);
	}
	task_finish(t);
	ward_kernel_unlock();
	return NULL;
}

long task_start(struct task *child)
{
	long r = register_task(child);
	if (r < 0)
		return r;
	r = ward_thread_spawn(task_thread, child);
	if (r < 0)
		unregister_task(child);
	return r;
}

struct task *task_new(void)
{
	return task_alloc();
}

void task_delete(struct task *t)
{
	task_free(t);
}
