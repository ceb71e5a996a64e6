/* Tasks and processes.
 *
 * A task is one guest thread, run by a sentry thread of its own; a process
 * (thread group) holds what its threads share: the pid, the parent and
 * children, signal dispositions and process-wide pending signals, job
 * control and exit state. PIDs are the sandbox's own: the first process is
 * PID 1, as in a container.
 *
 * Locking: all of this is guarded by the kernel lock (ward/sched.h), which a
 * task thread holds whenever it is not running guest code. A task sleeps on
 * its own condition (task.wake); whoever changes what it waits for wakes it
 * with task_wake. */
#ifndef WARD_KERNEL_TASK_H
#define WARD_KERNEL_TASK_H

#include "ward/abi/linux.h"
#include "ward/platform.h"
#include "ward/sched.h"
#include "ward/types.h"

struct mm;
struct fd_table;
struct fs_context;
struct process;
struct sem_undo_list;

#define WARD_NSIG 64
#define WARD_RLIM_NLIMITS 16

struct group_list;

struct creds {
	uint32_t uid, euid, suid, fsuid;
	uint32_t gid, egid, sgid, fsgid;

	/* --- Capabilities, securebits and supplementary groups
	 * (sys_identity.c). They travel with the creds (clone copies them).
	 * While caps_set is false (the CLI's creds, zero-filled) the sets are
	 * those Linux gives a process of these uids: everything for root,
	 * nothing otherwise, and a full bounding set. groups points to an
	 * immutable, shared list owned by sys_identity.c (NULL: none). --- */
	bool caps_set;
	uint32_t securebits;
	uint64_t cap_effective, cap_permitted, cap_inheritable, cap_bset, cap_ambient;
	const struct group_list *groups;
};

/* The kernel's siginfo_t: 128 bytes, with the fields ward fills. */
struct linux_siginfo {
	int32_t si_signo;
	int32_t si_errno;
	int32_t si_code;
	int32_t pad0;
	union {
		struct {
			int32_t pid;
			uint32_t uid;
			int32_t status; /* SIGCHLD */
			int32_t pad;
			int64_t utime, stime;
		} child;
		struct {
			int32_t pid;
			uint32_t uid;
			uint64_t value; /* sigqueue, timers */
		} rt;
		struct {
			int32_t tid; /* timers: the timer id */
			int32_t overrun;
			uint64_t value;
		} timer;
		struct {
			uint64_t addr; /* SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP */
		} fault;
		uint8_t bytes[112];
	} u;
};
_Static_assert(sizeof(struct linux_siginfo) == 128, "siginfo");

/* Signals waiting for delivery: a set, and the siginfo of each queued one
 * (standard signals queue once, real-time ones every time). */
struct sigqueue_entry {
	struct linux_siginfo info;
	struct sigqueue_entry *next;
};

struct sigpending {
	uint64_t set;
	struct sigqueue_entry *head;
};

/* A sleeper on a wait queue: a task to wake, or (func set) a callback,
 * which epoll uses to hear of readiness changes. */
struct waiter {
	struct task *task;
	void (*func)(struct waiter *w);
	void *arg;
	struct waiter *next;
};

/* Tasks waiting for something (a child's exit, pipe data). */
struct waitq {
	struct waiter *head;
};

struct task {
	int32_t tid;
	int32_t tgid; /* == proc->pid, kept for the many callers that want it */
	struct process *proc;
	struct task *next_in_proc;
	struct ward_regs regs;
	struct ward_platform_ctx *ctx;
	/* The FPU state the task starts with: its parent's at clone, loaded
	 * by the task's own thread before it first runs (NULL after). */
	struct ward_fpstate *start_fp;
	struct mm *mm;
	struct fd_table *files;
	struct fs_context *fs;
	/* How many tasks share files and fs (CLONE_FILES, CLONE_FS). */
	int *files_refs;
	int *fs_refs;
	struct creds creds;
	struct linux_rlimit rlimits[WARD_RLIM_NLIMITS];
	char comm[16];
	/* The guest path of the running executable (/proc/self/exe). */
	char *exe_path;

	/* Signals. */
	uint64_t sigmask;
	/* The mask rt_sigtimedwait set aside while it waits with the awaited
	 * signals unblocked (Linux's real_blocked). */
	uint64_t real_blocked;
	struct sigpending pending;
	struct linux_stack altstack;
	/* sigsuspend and pselect swap the mask for one wait; this is restored
	 * after the handler frame is built. */
	bool restore_sigmask;
	uint64_t saved_sigmask;

	/* The trap number and error code of the last fault, for its frame. */
	uint64_t fault_trapno;
	/* The last write fault that found its page already writable (another
	 * thread copied it from a fork's source first): a second one at the
	 * same place is the guest's own fault. */
	uint64_t cow_retry_rip, cow_retry_addr;
	uint64_t fault_err;

	/* Blocking. */
	struct ward_cond wake;
	/* The sentry thread, and whether it is in a blocking host call with
	 * the kernel lock dropped (a kick then breaks the call off). */
	uint64_t host_thread;
	bool in_host_call;
	/* In task_sleep: what /proc shows as S (else R: in the guest, or
	 * runnable in the sentry). */
	bool sleeping;
	/* Syscall-site patching's stop of the process's threads (task.c):
	 * the task's thread is in the platform's ctx_run (the kernel lock
	 * dropped), or waits for a stop to end before it runs again. */
	bool in_guest;
	bool patch_parked;

	uint64_t clear_child_tid;
	uint64_t robust_list;
	uint64_t robust_list_len;
	/* prctl state. */
	int pdeathsig;
	bool not_dumpable;
	bool no_new_privs;

	/* restart_syscall's memory of an interrupted sleep. */
	int64_t restart_deadline_ns;
	gaddr_t restart_rem;
	/* CLONE_CHILD_SETTID: written once the child has its address space. */
	gaddr_t set_child_tid;

	/* Set when the task must leave its loop (its process is exiting). */
	bool exiting;
	/* CPU time, approximately: time spent running guest code. */
	int64_t run_ns;

	/* System V semaphore undo list (kernel/ipc.c): shared by the tasks
	 * made with CLONE_SYSVSEM; NULL until the first SEM_UNDO. */
	struct sem_undo_list *sysvsem;
	/* Recorded settings that clone inherits: personality(2) (its flags
	 * change nothing in how ward runs the guest), the I/O priority
	 * (ioprio_set) and the NUMA memory policy of the one node
	 * (set_mempolicy: mode, mode flags, node mask). */
	unsigned int personality;
	int ioprio;
	struct {
		int mode;
		int flags;
		uint64_t nodes;
	} mempolicy;

	/* --- Timers and scheduling (kernel/timer.c, sys_sched.c, prctl).
	 * cpu_ns is this thread's CPU time (timer_account_run). sched is
	 * inherited at clone: copy_task_state should do child->sched =
	 * t->sched (zero is the default: SCHED_OTHER, nice 0, default timer
	 * slack). --- */
	int64_t cpu_ns;
	struct task_sched {
		int policy; /* SCHED_OTHER, SCHED_FIFO, ... */
		int priority; /* 1..99 for SCHED_FIFO/RR, else 0 */
		int nice; /* -20..19 */
		bool reset_on_fork;
		uint64_t timer_slack_ns; /* 0 = the default, 50 us */
		/* sched_setattr's utilization clamps, when the task set them
		 * (else the defaults: 0, or 1024 for real-time, and 1024). */
		bool util_min_set, util_max_set;
		int util_min, util_max;
	} sched;
};

/* What a new task (fork, clone) inherits of its parent's scheduling, with
 * SCHED_RESET_ON_FORK's resets (sys_sched.c). For copy_task_state. */
void task_sched_fork(struct task *child, const struct task *parent);

/* A table of signal dispositions; shared with CLONE_SIGHAND. */
struct sighand {
	int refs;
	struct linux_sigaction actions[WARD_NSIG];
};

enum stop_state {
	PROC_RUNNING,
	PROC_STOPPED,
};

struct process {
	int32_t pid;
	int32_t pgid;
	int32_t sid;
	struct process *parent;
	struct process *children; /* first child */
	struct process *sibling; /* next child of the same parent */
	struct task *threads;
	int nthreads;
	/* Dispositions, shared by the threads (and by processes made with
	 * CLONE_SIGHAND). */
	struct sighand *sighand;
	struct sigpending pending;
	int exit_signal; /* sent to the parent at exit: SIGCHLD usually */
	bool subreaper;
	bool has_execed;
	/* PID 1 ignores fatal signals it does not handle, but not faults. */
	bool init_killable;
	/* Exit: set once, when the first thread starts the group exit. */
	bool exiting;
	bool zombie;
	int exit_status; /* the wait status */
	/* Job control: stopped, and what the parent has yet to be told. */
	enum stop_state stop;
	int stop_signal;
	bool report_stop;
	bool report_continue;
	/* Parents wait on this for their children's events. */
	struct waitq child_events;
	/* A vfork parent waits on this until the child execs or exits. */
	struct waitq vfork_done;
	bool vfork_released;
	/* Timers. */
	int64_t alarm_deadline_ns; /* ITIMER_REAL, 0 = off */
	int64_t alarm_interval_ns;
	/* execve of a multi-threaded process waits here for the others. */
	struct task *exec_waiter;
	/* The thread that has stopped the others to patch a syscall site. */
	struct task *patch_stopper;
	/* When the process started (CLOCK_BOOTTIME ns: /proc's starttime),
	 * and its name kept past its last thread (a zombie's comm). */
	int64_t start_boot_ns;
	char comm[16];
	/* Children's CPU time, for RUSAGE_CHILDREN and times(). */
	int64_t children_run_ns;

	/* --- Timers and CPU time (kernel/timer.c). timers holds the
	 * itimers, alarm and POSIX timers (NULL until first used; freed by
	 * timer_process_exit). cpu_ns is the CPU time of all the threads,
	 * live and gone. membarrier_registered is sys_sched.c's record of
	 * MEMBARRIER_CMD_REGISTER_* commands. --- */
	struct timer_proc *timers;
	int64_t cpu_ns;
	/* Peak memory seen for getrusage's ru_maxrss (KiB): p's own, and the
	 * largest of its children's (recorded by timer_process_exit). */
	int64_t maxrss_kb;
	int64_t children_maxrss_kb;
	unsigned int membarrier_registered;
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
 * run the task, with the kernel lock held. */
long task_create_init(const struct task_spec *spec, struct task **out, char *errbuf, size_t errlen);
/* Runs the first task; returns the wait status of PID 1 when the sandbox
 * ends. Called with the kernel lock held, on the creating thread. */
int task_run_init(struct task *t);
/* fn is called with PID 1's wait status when its last thread has left the
 * guest, before anything of it is released; it may end the sentry (a
 * sandbox ends with its PID 1). */
void task_set_init_exit_hook(void (*fn)(int wait_status));

/* The task the calling sentry thread runs (NULL on other threads): for
 * file operations that must sleep, which are not handed their task. */
struct task *task_current(void);

/* Looks tasks and processes up by the sandbox's ids. */
struct task *task_by_tid(int32_t tid);
struct process *process_by_pid(int32_t pid);
/* The sandbox's limit on tasks (threads included), as a pids cgroup:
 * --pids-limit; 0 for none. */
void task_set_pids_limit(int limit);
bool task_pids_exhausted(void);
/* Live tasks whose real uid is uid (RLIMIT_NPROC). */
int task_count_for_uid(uint32_t uid);
/* Allocates a new id (pid and tid share one space). */
int32_t task_alloc_id(void);
/* A fresh task struct, and its release before it ever ran. */
struct task *task_new(void);
void task_delete(struct task *t);
/* Frees a reaped zombie and unlinks it from its parent. */
void process_release(struct process *p);
/* Records now as p's start time (fork, and the first process). */
void process_mark_start(struct process *p);
/* The first process (PID 1). */
struct process *process_init(void);
/* Calls fn for every process not yet reaped. */
void process_for_each(void (*fn)(struct process *p, void *arg), void *arg);
/* Registers and starts a new task (fork, clone) on a thread of its own.
 * child->mm has no address space yet; the new thread attaches one. */
long task_start(struct task *child);

/* Ends the whole process of t with a wait status (exit_group, fatal
 * signals); every thread leaves its loop. */
void process_exit(struct task *t, int wait_status);
/* Ends t alone (exit(2)); the last thread ends the process. */
void task_exit_thread(struct task *t, int exit_code);

/* Sleeping. Precondition: the kernel lock is held. */
void waitq_add(struct waitq *q, struct waiter *w, struct task *t);
/* Adds a waiter whose func runs (under the kernel lock) at each wake. */
void waitq_add_callback(struct waitq *q, struct waiter *w, void (*func)(struct waiter *w), void *arg);
/* Woken at every signal sent to anyone (signalfd readiness). */
extern struct waitq signal_sent_waitq;
void waitq_remove(struct waitq *q, struct waiter *w);
void waitq_wake_all(struct waitq *q);
void task_wake(struct task *t);
/* Runs a host call that may block, with the kernel lock dropped; a signal
 * for t breaks it off (it returns -EINTR). */
long task_host_call(struct task *t, long (*fn)(void *arg), void *arg);
/* Sleeps until woken, a signal that would interrupt is pending (-EINTR),
 * or the deadline passes (-ETIMEDOUT; deadline 0 = none). */
long task_sleep(struct task *t, int64_t deadline_ns);

/* Wakes up to n waiters of the futex at uaddr (sys_futex.c). */
long futex_wake_addr(struct task *t, gaddr_t uaddr, int n);
/* Ends every other thread of t's process and waits until they are gone
 * (execve). */
void task_kill_other_threads(struct task *t);

/* Signals (signal.c). */
#define SIGBIT(sig) (1ULL << ((sig)-1))
/* Queues a signal for a process (any thread may take it) or one task. */
long signal_send_process(struct process *p, const struct linux_siginfo *info);
long signal_send_task(struct task *t, const struct linux_siginfo *info);
/* A signal the sentry received from the host (ward do got SIGINT, SIGTERM,
 * ...), for the sandbox's first process. Returns true when it is taken care
 * of: queued for a process that handles or blocks it, or one that ignores
 * it. Returns false when the program would take the default action; the
 * caller then ends the sentry by that signal, as the program would have
 * ended natively. */
bool signal_forward_from_host(int sig);
/* Whether t has an unblocked signal pending (one that interrupts a wait). */
bool signal_pending(struct task *t);
/* Delivers pending signals before t returns to its guest: runs default
 * actions, builds handler frames. syscall_result is what the interrupted
 * call returned (internal restart codes included) or 0 after a fault;
 * in_syscall says whether t stopped in a system call. */
void signal_deliver(struct task *t, bool in_syscall, long syscall_result);
/* A synchronous fault: forces the signal on t (unblocked, default if
 * ignored), as the kernel's force_sig does. */
void signal_force_fault(struct task *t, int signo, int code, uint64_t addr);
/* rt_sigreturn's work: restores the frame at the guest's stack. */
long signal_return(struct task *t);
/* The temporary mask of ppoll, pselect6 and epoll_pwait: read from the
 * guest (NULL: none) and swapped in for one wait, as sigsuspend does; it is
 * put back after delivery. */
long signal_swap_mask(struct task *t, gaddr_t mask_addr, uint64_t size);
/* Resets dispositions at execve: handled signals go back to default. */
void signal_exec_reset(struct task *t);
/* Frees queued siginfo. */
void sigpending_clear(struct sigpending *p);
/* Takes the first pending signal in set & ~mask, filling info. 0 if none. */
int sigpending_dequeue(struct sigpending *p, uint64_t mask, struct linux_siginfo *info);
/* Tells the parent of p about p's exit or stop (SIGCHLD and waiters). */
void signal_notify_parent(struct process *p, int why, int status);

#endif
