/* Scheduling: policies, priorities and nice values (recorded per task and
 * reported back; the sentry's host threads are not re-prioritised),
 * membarrier and getcpu. sched_getaffinity/setaffinity are in sys_misc.c. */
#include "sentry/service.h"

#include "sentry/kernel/creds.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

#define SCHED_OTHER_ 0
#define SCHED_FIFO_ 1
#define SCHED_RR_ 2
#define SCHED_BATCH_ 3
#define SCHED_IDLE_ 5
#define SCHED_DEADLINE_ 6
#define SCHED_RESET_ON_FORK_ 0x40000000
#define MAX_RT_PRIO_ 100
#define RLIMIT_NICE_ 13
#define RLIMIT_RTPRIO_ 14
#define PRIO_PROCESS_ 0
#define PRIO_PGRP_ 1
#define PRIO_USER_ 2
#define MIN_NICE -20
#define MAX_NICE 19
/* SCHED_RR's time slice (RR_TIMESLICE). */
#define RR_TIMESLICE_NS 100000000L
/* What sched_rr_get_interval reports for the fair class: the base slice of
 * EEVDF (sysctl_sched_base_slice, 0.75 ms scaled by 1 + log2(ncpus), as
 * the kernel scales it, capped at 8 CPUs). */
#define BASE_SLICE_NS 750000L

static bool rt_policy(int policy);

void task_sched_fork(struct task *child, const struct task *parent)
{
	child->sched = parent->sched;
	if (!child->sched.reset_on_fork)
		return;
	/* sched_fork(): a real-time policy goes back to SCHED_OTHER, a
	 * negative nice value to 0, and the flag itself is not inherited. */
	if (rt_policy(child->sched.policy) || child->sched.policy == SCHED_DEADLINE_) {
		child->sched.policy = SCHED_OTHER_;
		child->sched.priority = 0;
		child->sched.nice = 0;
	} else if (child->sched.nice < 0) {
		child->sched.nice = 0;
	}
	child->sched.reset_on_fork = false;
	/* uclamp_fork: the clamps go back to their defaults. */
	child->sched.util_min_set = child->sched.util_max_set = false;
}

/* The task pid names for the sched_* calls: 0 is the caller. */
static struct task *sched_target(struct task *t, int32_t pid)
{
	return pid == 0 ? t : task_by_tid(pid);
}

static bool rt_policy(int policy)
{
	return policy == SCHED_FIFO_ || policy == SCHED_RR_;
}

static bool valid_policy(int policy)
{
	return policy == SCHED_OTHER_ || policy == SCHED_FIFO_ || policy == SCHED_RR_ || policy == SCHED_BATCH_ ||
	       policy == SCHED_IDLE_ || policy == SCHED_DEADLINE_;
}

/* A task may change the scheduling of one it owns (same real or effective
 * uid as the caller's euid), or any with CAP_SYS_NICE. */
static bool may_change(const struct task *t, const struct task *p)
{
	return t->creds.euid == p->creds.uid || t->creds.euid == p->creds.euid ||
	       creds_capable(&t->creds, WARD_CAP_SYS_NICE);
}

/* can_nice(): lowering the nice value needs RLIMIT_NICE room or
 * CAP_SYS_NICE. */
static bool can_nice(const struct task *t, const struct task *p, int nice)
{
	return (uint64_t)(20 - nice) <= p->rlimits[RLIMIT_NICE_].rlim_cur ||
	       creds_capable(&t->creds, WARD_CAP_SYS_NICE);
}

/* __sched_setscheduler(): policy -1 keeps the policy (sched_setparam). */
static long set_scheduler(struct task *t, int32_t pid, int policy, gaddr_t param)
{
	int32_t prio;
	if (gaddr_is_null(param) || pid < 0)
		return -EINVAL;
	if (ward_copy_in(task_as(t), &prio, param, sizeof(prio)) < 0)
		return -EFAULT;
	struct task *p = sched_target(t, pid);
	if (!p)
		return -ESRCH;
	bool reset_on_fork;
	if (policy < 0) {
		policy = p->sched.policy;
		reset_on_fork = p->sched.reset_on_fork;
	} else {
		reset_on_fork = policy & SCHED_RESET_ON_FORK_;
		policy &= ~SCHED_RESET_ON_FORK_;
		if (!valid_policy(policy))
			return -EINVAL;
	}
	/* Priorities: 1..99 for the real-time policies, 0 for the others;
	 * SCHED_DEADLINE needs sched_setattr's parameters. */
	if ((uint32_t)prio > MAX_RT_PRIO_ - 1)
		return -EINVAL;
	if (policy == SCHED_DEADLINE_ || rt_policy(policy) != (prio != 0))
		return -EINVAL;
	if (!creds_capable(&t->creds, WARD_CAP_SYS_NICE)) {
		if (rt_policy(policy)) {
			uint64_t rlim = p->rlimits[RLIMIT_RTPRIO_].rlim_cur;
			if (policy != p->sched.policy && !rlim)
				return -EPERM;
			if (prio > p->sched.priority && (uint64_t)prio > rlim)
				return -EPERM;
		}
		if (p->sched.policy == SCHED_IDLE_ && policy != SCHED_IDLE_ && !can_nice(t, p, p->sched.nice))
			return -EPERM;
		if (!may_change(t, p))
			return -EPERM;
		if (p->sched.reset_on_fork && !reset_on_fork)
			return -EPERM;
	}
	p->sched.policy = policy;
	p->sched.priority = prio;
	p->sched.reset_on_fork = reset_on_fork;
	return 0;
}

/* sched_setscheduler(2) */
long sys_sched_setscheduler(struct task *t, const struct syscall_args *args)
{
	int policy = arg_int(args, 1);
	/* -1 is sched_setparam's "keep": here it is just an invalid policy. */
	if (policy < 0)
		return -EINVAL;
	return set_scheduler(t, arg_int(args, 0), policy, arg_addr(args, 2));
}

/* sched_setparam(2) */
long sys_sched_setparam(struct task *t, const struct syscall_args *args)
{
	return set_scheduler(t, arg_int(args, 0), -1, arg_addr(args, 1));
}

/* sched_getscheduler(2) */
long sys_sched_getscheduler(struct task *t, const struct syscall_args *args)
{
	int32_t pid = arg_int(args, 0);
	if (pid < 0)
		return -EINVAL;
	struct task *p = sched_target(t, pid);
	if (!p)
		return -ESRCH;
	return p->sched.policy | (p->sched.reset_on_fork ? SCHED_RESET_ON_FORK_ : 0);
}

/* sched_getparam(2) */
long sys_sched_getparam(struct task *t, const struct syscall_args *args)
{
	int32_t pid = arg_int(args, 0);
	if (gaddr_is_null(arg_addr(args, 1)) || pid < 0)
		return -EINVAL;
	struct task *p = sched_target(t, pid);
	if (!p)
		return -ESRCH;
	int32_t prio = rt_policy(p->sched.policy) ? p->sched.priority : 0;
	return ward_copy_out(task_as(t), arg_addr(args, 1), &prio, sizeof(prio)) < 0 ? -EFAULT : 0;
}

/* --- sched_setattr(2), sched_getattr(2) --- */

#define SCHED_FLAG_RESET_ON_FORK_ 0x01
#define SCHED_FLAG_KEEP_POLICY_ 0x08
#define SCHED_FLAG_KEEP_PARAMS_ 0x10
#define SCHED_FLAG_UTIL_CLAMP_MIN_ 0x20
#define SCHED_FLAG_UTIL_CLAMP_MAX_ 0x40
#define SCHED_FLAG_ALL_ 0x7f
#define SCHED_FLAG_SUGOV_ 0x10000000
#define SCHED_ATTR_SIZE_VER0 48
#define SCHED_ATTR_SIZE_VER1 56
#define SCHED_CAPACITY_SCALE 1024
#define DL_SCALE 10
/* sysctl_sched_dl_period_min/max, in ns. */
#define DL_PERIOD_MIN_NS (100ULL * 1000)
#define DL_PERIOD_MAX_NS ((1ULL << 22) * 1000)

struct sched_attr_abi {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
	uint32_t sched_util_min, sched_util_max;
};
_Static_assert(sizeof(struct sched_attr_abi) == SCHED_ATTR_SIZE_VER1, "sched_attr");

static bool fair_policy(int policy)
{
	return policy == SCHED_OTHER_ || policy == SCHED_BATCH_;
}

/* __checkparam_dl. */
static bool dl_params_ok(const struct sched_attr_abi *a)
{
	if (a->sched_deadline == 0 || a->sched_runtime < (1ULL << DL_SCALE))
		return false;
	if ((a->sched_deadline | a->sched_period) & (1ULL << 63))
		return false;
	uint64_t period = a->sched_period ? a->sched_period : a->sched_deadline;
	if (period < a->sched_deadline || a->sched_deadline < a->sched_runtime)
		return false;
	return period >= DL_PERIOD_MIN_NS && period <= DL_PERIOD_MAX_NS;
}

/* get_params and the clamps, as sched_getattr reports them. */
static void sched_attr_of(const struct task *p, struct sched_attr_abi *a)
{
	memset(a, 0, sizeof(*a));
	a->sched_policy = (uint32_t)p->sched.policy;
	a->sched_flags = p->sched.reset_on_fork ? SCHED_FLAG_RESET_ON_FORK_ : 0;
	if (rt_policy(p->sched.policy))
		a->sched_priority = (uint32_t)p->sched.priority;
	else
		a->sched_nice = p->sched.nice;
	a->sched_util_min = p->sched.util_min_set	 ? (uint32_t)p->sched.util_min
			    : rt_policy(p->sched.policy) ? SCHED_CAPACITY_SCALE
							 : 0;
	a->sched_util_max = p->sched.util_max_set ? (uint32_t)p->sched.util_max : SCHED_CAPACITY_SCALE;
}

/* sched_setattr(2): __sched_setscheduler with the attr's parameters.
 * SCHED_DEADLINE passes its parameter checks and then fails admission
 * control (EBUSY): the sandbox reserves no deadline bandwidth. */
long sys_sched_setattr(struct task *t, const struct syscall_args *args)
{
	int32_t pid = arg_int(args, 0);
	gaddr_t uattr = arg_addr(args, 1);
	struct ward_as *as = task_as(t);
	if (gaddr_is_null(uattr) || pid < 0 || arg_uint(args, 2))
		return -EINVAL;
	/* sched_copy_attr. */
	struct sched_attr_abi a;
	memset(&a, 0, sizeof(a));
	uint32_t size;
	if (ward_copy_in(as, &size, uattr, sizeof(size)) < 0)
		return -EFAULT;
	if (!size)
		size = SCHED_ATTR_SIZE_VER0;
	bool too_big = size < SCHED_ATTR_SIZE_VER0 || size > WARD_PAGE_SIZE;
	if (!too_big) {
		if (ward_copy_in(as, &a, uattr, WARD_MIN(size, sizeof(a))) < 0)
			return -EFAULT;
		/* copy_struct_from_user: what this kernel does not know must
		 * be zero. */
		for (uint32_t off = sizeof(a); off < size && !too_big; off += 8) {
			uint64_t v = 0;
			if (ward_copy_in(as, &v, gaddr(uattr.v + off), WARD_MIN(8, size - off)) < 0)
				return -EFAULT;
			too_big = v != 0;
		}
	}
	if (too_big) {
		uint32_t ksize = sizeof(a);
		ward_copy_out(as, uattr, &ksize, sizeof(ksize));
		return -E2BIG;
	}
	if ((a.sched_flags & (SCHED_FLAG_UTIL_CLAMP_MIN_ | SCHED_FLAG_UTIL_CLAMP_MAX_)) && size < SCHED_ATTR_SIZE_VER1)
		return -EINVAL;
	a.sched_nice = a.sched_nice < MIN_NICE ? MIN_NICE : a.sched_nice > MAX_NICE ? MAX_NICE : a.sched_nice;
	if ((int32_t)a.sched_policy < 0)
		return -EINVAL;
	struct task *p = sched_target(t, pid);
	if (!p)
		return -ESRCH;
	bool keep_policy = a.sched_flags & SCHED_FLAG_KEEP_POLICY_;
	if (a.sched_flags & SCHED_FLAG_KEEP_PARAMS_) {
		a.sched_priority = rt_policy(p->sched.policy) ? (uint32_t)p->sched.priority : 0;
		a.sched_nice = rt_policy(p->sched.policy) ? 0 : p->sched.nice;
	}
	/* __sched_setscheduler. */
	int policy = (int)a.sched_policy;
	bool reset_on_fork;
	if (keep_policy) {
		policy = p->sched.policy;
		reset_on_fork = p->sched.reset_on_fork;
	} else {
		reset_on_fork = a.sched_flags & SCHED_FLAG_RESET_ON_FORK_;
		if (!valid_policy(policy))
			return -EINVAL;
	}
	if (a.sched_flags & ~(uint64_t)(SCHED_FLAG_ALL_ | SCHED_FLAG_SUGOV_))
		return -EINVAL;
	if (a.sched_priority > MAX_RT_PRIO_ - 1)
		return -EINVAL;
	if ((policy == SCHED_DEADLINE_ && !(a.sched_flags & SCHED_FLAG_SUGOV_) && !dl_params_ok(&a)) ||
	    rt_policy(policy) != (a.sched_priority != 0))
		return -EINVAL;
	/* user_check_sched_setscheduler. */
	bool priv = false;
	if (fair_policy(policy) && a.sched_nice < p->sched.nice && !can_nice(t, p, a.sched_nice))
		priv = true;
	if (rt_policy(policy)) {
		uint64_t rlim = p->rlimits[RLIMIT_RTPRIO_].rlim_cur;
		if (policy != p->sched.policy && !rlim)
			priv = true;
		if (a.sched_priority > (uint32_t)p->sched.priority && a.sched_priority > rlim)
			priv = true;
	}
	if (policy == SCHED_DEADLINE_)
		priv = true;
	if (p->sched.policy == SCHED_IDLE_ && policy != SCHED_IDLE_ && !can_nice(t, p, p->sched.nice))
		priv = true;
	if (!(t->creds.euid == p->creds.uid || t->creds.euid == p->creds.euid))
		priv = true;
	if (p->sched.reset_on_fork && !reset_on_fork)
		priv = true;
	if (priv && !creds_capable(&t->creds, WARD_CAP_SYS_NICE))
		return -EPERM;
	if (a.sched_flags & SCHED_FLAG_SUGOV_)
		return -EINVAL;
	/* uclamp_validate: -1 resets a clamp to its default. */
	int umin = p->sched.util_min_set ? p->sched.util_min : -1;
	int umax = p->sched.util_max_set ? p->sched.util_max : -1;
	if (a.sched_flags & SCHED_FLAG_UTIL_CLAMP_MIN_) {
		umin = (int)a.sched_util_min;
		if ((uint32_t)umin + 1 > SCHED_CAPACITY_SCALE + 1)
			return -EINVAL;
	}
	if (a.sched_flags & SCHED_FLAG_UTIL_CLAMP_MAX_) {
		umax = (int)a.sched_util_max;
		if ((uint32_t)umax + 1 > SCHED_CAPACITY_SCALE + 1)
			return -EINVAL;
	}
	if (umin != -1 && umax != -1 && umin > umax)
		return -EINVAL;
	if (policy == SCHED_DEADLINE_)
		return -EBUSY;
	p->sched.reset_on_fork = reset_on_fork;
	/* KEEP_PARAMS leaves policy and parameters (only the clamps and
	 * RESET_ON_FORK change), as __sched_setscheduler skips
	 * __setscheduler_params. */
	if (!(a.sched_flags & SCHED_FLAG_KEEP_PARAMS_)) {
		p->sched.policy = policy;
		p->sched.priority = rt_policy(policy) ? (int)a.sched_priority : 0;
		if (fair_policy(policy))
			p->sched.nice = a.sched_nice;
	}
	if (a.sched_flags & SCHED_FLAG_UTIL_CLAMP_MIN_) {
		p->sched.util_min_set = umin != -1;
		p->sched.util_min = umin;
	}
	if (a.sched_flags & SCHED_FLAG_UTIL_CLAMP_MAX_) {
		p->sched.util_max_set = umax != -1;
		p->sched.util_max = umax;
	}
	return 0;
}

/* sched_getattr(2) */
long sys_sched_getattr(struct task *t, const struct syscall_args *args)
{
	int32_t pid = arg_int(args, 0);
	gaddr_t uattr = arg_addr(args, 1);
	unsigned int usize = arg_uint(args, 2);
	if (gaddr_is_null(uattr) || pid < 0 || usize > WARD_PAGE_SIZE || usize < SCHED_ATTR_SIZE_VER0 ||
	    arg_uint(args, 3))
		return -EINVAL;
	struct task *p = sched_target(t, pid);
	if (!p)
		return -ESRCH;
	struct sched_attr_abi a;
	sched_attr_of(p, &a);
	a.size = WARD_MIN(usize, (unsigned int)sizeof(a));
	return ward_copy_out(task_as(t), uattr, &a, a.size) < 0 ? -EFAULT : 0;
}

/* sched_get_priority_max(2) */
long sys_sched_get_priority_max(struct task *t, const struct syscall_args *args)
{
	int policy = arg_int(args, 0);
	if (rt_policy(policy))
		return MAX_RT_PRIO_ - 1;
	return valid_policy(policy) ? 0 : -EINVAL;
}

/* sched_get_priority_min(2) */
long sys_sched_get_priority_min(struct task *t, const struct syscall_args *args)
{
	int policy = arg_int(args, 0);
	if (rt_policy(policy))
		return 1;
	return valid_policy(policy) ? 0 : -EINVAL;
}

/* sched_rr_get_interval(2): SCHED_RR's slice, 0 for SCHED_FIFO, the fair
 * class's base slice otherwise. */
long sys_sched_rr_get_interval(struct task *t, const struct syscall_args *args)
{
	int32_t pid = arg_int(args, 0);
	if (pid < 0)
		return -EINVAL;
	struct task *p = sched_target(t, pid);
	if (!p)
		return -ESRCH;
	int64_t ns = 0;
	if (p->sched.policy == SCHED_RR_) {
		ns = RR_TIMESLICE_NS;
	} else if (p->sched.policy != SCHED_FIFO_) {
		int ncpus = WARD_MIN(ward_host_ncpus(), 8), factor = 1;
		while ((1 << factor) <= ncpus)
			factor++;
		/* The kernel reports it in whole jiffies (HZ=250). */
		ns = BASE_SLICE_NS * factor;
		ns = (ns + 3999999) / 4000000 * 4000000;
	}
	struct linux_timespec ts = { ns / 1000000000L, ns % 1000000000L };
	return WARD_COPY_OUT_OBJ(task_as(t), arg_addr(args, 1), &ts);
}

/* getpriority/setpriority walk the tasks that which/who names. */
struct prio_walk {
	struct task *caller;
	int which;
	int32_t who; /* a pgid or a uid, resolved */
	bool set;
	int nice;
	long result; /* setpriority: 0 or -errno; getpriority: the best 20 - nice, or -ESRCH */
};

static void prio_one(struct prio_walk *w, struct task *p)
{
	if (!w->set) {
		long v = 20 - p->sched.nice;
		if (v > w->result)
			w->result = v;
		return;
	}
	if (!may_change(w->caller, p)) {
		w->result = -EPERM;
		return;
	}
	if (w->nice < p->sched.nice && !can_nice(w->caller, p, w->nice)) {
		w->result = -EACCES;
		return;
	}
	if (w->result == -ESRCH)
		w->result = 0;
	p->sched.nice = w->nice;
}

static void prio_process(struct process *p, void *arg)
{
	struct prio_walk *w = arg;
	for (struct task *t = p->threads; t; t = t->next_in_proc) {
		if (w->which == PRIO_PGRP_ && p->pgid == w->who)
			prio_one(w, t);
		else if (w->which == PRIO_USER_ && t->creds.uid == (uint32_t)w->who)
			prio_one(w, t);
	}
}

static long prio_walk(struct task *t, int which, int32_t who, bool set, int nice)
{
	struct prio_walk w = { t, which, who, set, nice, -ESRCH };
	switch (which) {
	case PRIO_PROCESS_: {
		struct task *p = who ? task_by_tid(who) : t;
		if (p)
			prio_one(&w, p);
		break;
	}
	case PRIO_PGRP_:
		if (!who)
			w.who = t->proc->pgid;
		process_for_each(prio_process, &w);
		break;
	case PRIO_USER_:
		if (!who)
			w.who = (int32_t)t->creds.uid;
		process_for_each(prio_process, &w);
		break;
	default:
		return -EINVAL;
	}
	return w.result;
}

/* getpriority(2): the raw call returns 20 - nice (1..40), the best of the
 * tasks named. */
long sys_getpriority(struct task *t, const struct syscall_args *args)
{
	return prio_walk(t, arg_int(args, 0), arg_int(args, 1), false, 0);
}

/* setpriority(2): nice values outside -20..19 are clamped. */
long sys_setpriority(struct task *t, const struct syscall_args *args)
{
	int nice = arg_int(args, 2);
	nice = nice < MIN_NICE ? MIN_NICE : nice > MAX_NICE ? MAX_NICE : nice;
	return prio_walk(t, arg_int(args, 0), arg_int(args, 1), true, nice);
}

/* I/O priorities (block/ioprio.c): recorded per task and reported; the
 * sentry's host I/O is not re-prioritised. */
#define IOPRIO_WHO_PROCESS_ 1
#define IOPRIO_WHO_PGRP_ 2
#define IOPRIO_WHO_USER_ 3
#define IOPRIO_CLASS_NONE_ 0
#define IOPRIO_CLASS_RT_ 1
#define IOPRIO_CLASS_BE_ 2
#define IOPRIO_CLASS_IDLE_ 3
#define IOPRIO_NR_LEVELS_ 8
#define CAP_SYS_ADMIN_ 21

/* ioprio_check_cap. */
static long ioprio_check(struct task *t, int ioprio)
{
	int class = (ioprio >> 13) & 7, data = ioprio & 0x1fff;
	switch (class) {
	case IOPRIO_CLASS_RT_:
		if (!creds_capable(&t->creds, WARD_CAP_SYS_NICE) && !creds_capable(&t->creds, CAP_SYS_ADMIN_))
			return -EPERM;
		/* fall through */
	case IOPRIO_CLASS_BE_:
		return data >= IOPRIO_NR_LEVELS_ ? -EINVAL : 0;
	case IOPRIO_CLASS_IDLE_:
		return 0;
	case IOPRIO_CLASS_NONE_:
		return data ? -EINVAL : 0;
	default:
		return -EINVAL;
	}
}

struct ioprio_walk {
	struct task *t;
	int which;
	int32_t who;
	bool set;
	int ioprio;
	long result;
};

static void ioprio_one(struct ioprio_walk *w, struct task *p)
{
	if (!w->set) {
		w->result = w->result == -ESRCH ? p->ioprio : WARD_MIN(w->result, (long)p->ioprio);
		return;
	}
	/* set_task_ioprio's permission rule. */
	const struct creds *c = &w->t->creds;
	if (p->creds.uid != c->euid && p->creds.uid != c->uid && !creds_capable(c, WARD_CAP_SYS_NICE)) {
		w->result = -EPERM;
		return;
	}
	p->ioprio = w->ioprio;
	if (w->result == -ESRCH)
		w->result = 0;
}

static void ioprio_process(struct process *p, void *arg)
{
	struct ioprio_walk *w = arg;
	for (struct task *t = p->threads; t; t = t->next_in_proc)
		if ((w->which == IOPRIO_WHO_PGRP_ && p->pgid == w->who) ||
		    (w->which == IOPRIO_WHO_USER_ && t->creds.uid == (uint32_t)w->who))
			ioprio_one(w, t);
}

static long ioprio_walk(struct task *t, int which, int32_t who, bool set, int ioprio)
{
	struct ioprio_walk w = { t, which, who, set, ioprio, -ESRCH };
	switch (which) {
	case IOPRIO_WHO_PROCESS_: {
		struct task *p = who ? task_by_tid(who) : t;
		if (p)
			ioprio_one(&w, p);
		break;
	}
	case IOPRIO_WHO_PGRP_:
		w.who = who ? who : t->proc->pgid;
		process_for_each(ioprio_process, &w);
		break;
	case IOPRIO_WHO_USER_:
		w.who = who ? who : (int32_t)t->creds.uid;
		process_for_each(ioprio_process, &w);
		break;
	default:
		return -EINVAL;
	}
	return w.result;
}

/* ioprio_set(2) */
long sys_ioprio_set(struct task *t, const struct syscall_args *args)
{
	long r = ioprio_check(t, arg_int(args, 2));
	if (r < 0)
		return r;
	return ioprio_walk(t, arg_int(args, 0), arg_int(args, 1), true, arg_int(args, 2));
}

/* ioprio_get(2): the best (lowest) of the tasks named. */
long sys_ioprio_get(struct task *t, const struct syscall_args *args)
{
	return ioprio_walk(t, arg_int(args, 0), arg_int(args, 1), false, 0);
}

/* membarrier(2).
 *
 * What the commands promise: when the call returns, every other running
 * thread of the process (of every process, for the global ones) has gone
 * through a full memory barrier since the call began. Here every guest
 * thread runs in a host thread of its own, and the promise is kept because
 * of how ward runs them, not by an IPI:
 *  - a thread that is in the sentry (a system call, a fault, asleep) went
 *    through the host kernel and the kernel lock, both full barriers, and
 *    its next guest instruction comes after the caller's (the caller holds
 *    the kernel lock now);
 *  - a thread running guest code when the call begins runs on another
 *    host CPU, where x86-64 (TSO) keeps its loads and stores in order except
 *    for stores still in that CPU's store buffer. Those drain within
 *    nanoseconds, while the caller's trapped system call takes microseconds
 *    from its barrier to its return. This is a bound in practice, not the
 *    IPI-backed guarantee of Linux: a strict version would need a host
 *    membarrier(MEMBARRIER_CMD_GLOBAL) from the core, which has no such
 *    door today.
 * So the barrier commands return at once; the registrations are recorded,
 * because the private expedited commands must fail (EPERM) without them.
 * The rseq variants are not offered (rseq itself is ENOSYS). */
#define MEMBARRIER_CMD_QUERY 0
#define MEMBARRIER_CMD_GLOBAL 1
#define MEMBARRIER_CMD_GLOBAL_EXPEDITED 2
#define MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED 4
#define MEMBARRIER_CMD_PRIVATE_EXPEDITED 8
#define MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED 16
#define MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE 32
#define MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE 64
#define MEMBARRIER_CMD_GET_REGISTRATIONS 512
#define MEMBARRIER_SUPPORTED 0x7f

long sys_membarrier(struct task *t, const struct syscall_args *args)
{
	int cmd = arg_int(args, 0);
	unsigned int flags = arg_uint(args, 1);
	struct process *p = t->proc;
	if (flags)
		return -EINVAL;
	switch (cmd) {
	case MEMBARRIER_CMD_QUERY:
		return MEMBARRIER_SUPPORTED | MEMBARRIER_CMD_GET_REGISTRATIONS;
	case MEMBARRIER_CMD_GLOBAL:
	case MEMBARRIER_CMD_GLOBAL_EXPEDITED:
		return 0;
	case MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED:
	case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED:
	case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE:
		p->membarrier_registered |= (unsigned int)cmd;
		return 0;
	case MEMBARRIER_CMD_PRIVATE_EXPEDITED:
		return p->membarrier_registered & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED ? 0 : -EPERM;
	case MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE:
		return p->membarrier_registered & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE ? 0 : -EPERM;
	case MEMBARRIER_CMD_GET_REGISTRATIONS:
		return p->membarrier_registered;
	default:
		return -EINVAL;
	}
}

/* getcpu(2): a CPU of the sandbox's (the sentry does not know which host
 * CPU the guest thread last ran on); node 0. */
long sys_getcpu(struct task *t, const struct syscall_args *args)
{
	int ncpus = ward_host_ncpus();
	uint32_t cpu = (uint32_t)(t->tid % (ncpus > 0 ? ncpus : 1)), node = 0;
	if (!gaddr_is_null(arg_addr(args, 0)) && ward_copy_out(task_as(t), arg_addr(args, 0), &cpu, sizeof(cpu)) < 0)
		return -EFAULT;
	if (!gaddr_is_null(arg_addr(args, 1)) && ward_copy_out(task_as(t), arg_addr(args, 1), &node, sizeof(node)) < 0)
		return -EFAULT;
	return 0;
}
