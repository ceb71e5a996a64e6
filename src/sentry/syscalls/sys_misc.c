/* The rest of the foundation: uname, arch_prctl, thread bookkeeping,
 * resource limits, randomness, scheduling and exit. */
#include "sentry/service.h"

#include "sentry/kernel/creds.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/uts.h"
#include "sentry/syscalls/syscalls.h"

/* The sandbox's own UTS names (its UTS namespace): sethostname and
 * setdomainname change them; uname and /proc/sys/kernel show them. */
static char uts_node[65] = WARD_UTS_NODENAME;
static char uts_domain[65] = "(none)";

const char *uts_nodename(void)
{
	return uts_node;
}

const char *uts_domainname(void)
{
	return uts_domain;
}

#define CAP_SYS_ADMIN_ 21

/* sethostname(2), setdomainname(2): len bytes, no NUL needed. */
static long set_uts_name(struct task *t, char *dst, gaddr_t name, int len)
{
	char tmp[64];
	if (!creds_capable(&t->creds, CAP_SYS_ADMIN_))
		return -EPERM;
	if (len < 0 || len > 64)
		return -EINVAL;
	if (ward_copy_in(task_as(t), tmp, name, (size_t)len) < 0)
		return -EFAULT;
	memset(dst, 0, 65);
	memcpy(dst, tmp, (size_t)len);
	return 0;
}

/* sethostname(2) */
long sys_sethostname(struct task *t, const struct syscall_args *args)
{
	return set_uts_name(t, uts_node, arg_addr(args, 0), arg_int(args, 1));
}

/* setdomainname(2) */
long sys_setdomainname(struct task *t, const struct syscall_args *args)
{
	return set_uts_name(t, uts_domain, arg_addr(args, 0), arg_int(args, 1));
}

/* personality(2): 0xffffffff queries; any other value is taken as it is
 * (x86-64's set_personality). The flags are recorded: ward lays out and
 * runs the guest the same way whatever they say. */
long sys_personality(struct task *t, const struct syscall_args *args)
{
	unsigned int old = t->personality, p = arg_uint(args, 0);
	if (p != 0xffffffffu)
		t->personality = p;
	return old;
}

/* uname(2) */
long sys_uname(struct task *t, const struct syscall_args *args)
{
	struct linux_utsname u;
	memset(&u, 0, sizeof(u));
	snprintf(u.sysname, sizeof(u.sysname), WARD_UTS_SYSNAME);
	snprintf(u.nodename, sizeof(u.nodename), "%s", uts_node);
	snprintf(u.release, sizeof(u.release), WARD_UTS_RELEASE);
	snprintf(u.version, sizeof(u.version), WARD_UTS_VERSION);
	snprintf(u.machine, sizeof(u.machine), WARD_UTS_MACHINE);
	snprintf(u.domainname, sizeof(u.domainname), "%s", uts_domain);
	return WARD_COPY_OUT_OBJ(task_as(t), arg_addr(args, 0), &u);
}

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004
#define ARCH_GET_CPUID 0x1011
#define ARCH_SET_CPUID 0x1012

/* arch_prctl(2) */
long sys_arch_prctl(struct task *t, const struct syscall_args *args)
{
	uint64_t v = arg_u64(args, 1);
	switch (arg_int(args, 0)) {
	case ARCH_SET_FS:
	case ARCH_SET_GS:
		/* The base must be a user address (Linux: EPERM past TASK_SIZE). */
		if (v >= 0x7ffffffff000ULL)
			return -EPERM;
		if (arg_int(args, 0) == ARCH_SET_FS)
			t->regs.fs_base = v;
		else
			t->regs.gs_base = v;
		return 0;
	case ARCH_GET_FS:
		return ward_copy_out(task_as(t), arg_addr(args, 1), &t->regs.fs_base, sizeof(uint64_t));
	case ARCH_GET_GS:
		return ward_copy_out(task_as(t), arg_addr(args, 1), &t->regs.gs_base, sizeof(uint64_t));
	case ARCH_GET_CPUID:
		return 1;
	case ARCH_SET_CPUID:
		/* CPUID faulting is not offered: as on hardware without it. */
		return -ENODEV;
	default:
		return -EINVAL;
	}
}

/* set_tid_address(2) */
long sys_set_tid_address(struct task *t, const struct syscall_args *args)
{
	t->clear_child_tid = arg_u64(args, 0);
	return t->tid;
}

/* set_robust_list(2) */
long sys_set_robust_list(struct task *t, const struct syscall_args *args)
{
	if (arg_u64(args, 1) != sizeof(struct linux_robust_list_head))
		return -EINVAL;
	t->robust_list = arg_u64(args, 0);
	t->robust_list_len = arg_u64(args, 1);
	return 0;
}

/* get_robust_list(2) */
long sys_get_robust_list(struct task *t, const struct syscall_args *args)
{
	int pid = arg_int(args, 0);
	if (pid != 0 && pid != t->tid)
		return -ESRCH;
	uint64_t len = sizeof(struct linux_robust_list_head);
	if (ward_copy_out(task_as(t), arg_addr(args, 1), &t->robust_list, sizeof(uint64_t)) < 0 ||
	    ward_copy_out(task_as(t), arg_addr(args, 2), &len, sizeof(len)) < 0)
		return -EFAULT;
	return 0;
}

#define NR_OPEN_MAX 1048576ULL /* fs.nr_open */
#define RLIM_INF (~0ULL)

static long do_prlimit(struct task *t, int resource, gaddr_t new_addr, gaddr_t old_addr)
{
	struct linux_rlimit nl;

	if (resource < 0 || resource >= WARD_RLIM_NLIMITS)
		return -EINVAL;
	if (!gaddr_is_null(new_addr)) {
		if (WARD_COPY_IN_OBJ(task_as(t), &nl, new_addr) < 0)
			return -EFAULT;
		if (nl.rlim_cur > nl.rlim_max)
			return -EINVAL;
		/* The sandbox cannot give what its host would refuse: raising a
		 * hard limit needs CAP_SYS_RESOURCE, which ward does not pass on. */
		if (nl.rlim_max > t->rlimits[resource].rlim_max)
			return -EPERM;
		if (resource == RLIMIT_NOFILE && nl.rlim_max > NR_OPEN_MAX)
			return -EPERM;
	}
	if (!gaddr_is_null(old_addr) && WARD_COPY_OUT_OBJ(task_as(t), old_addr, &t->rlimits[resource]) < 0)
		return -EFAULT;
	if (!gaddr_is_null(new_addr))
		t->rlimits[resource] = nl;
	return 0;
}

/* prlimit64(2) */
long sys_prlimit64(struct task *t, const struct syscall_args *args)
{
	int pid = arg_int(args, 0);
	if (pid != 0 && pid != t->tgid)
		return -ESRCH;
	return do_prlimit(t, arg_int(args, 1), arg_addr(args, 2), arg_addr(args, 3));
}

/* getrlimit(2) */
long sys_getrlimit(struct task *t, const struct syscall_args *args)
{
	return do_prlimit(t, arg_int(args, 0), gaddr(0), arg_addr(args, 1));
}

/* setrlimit(2) */
long sys_setrlimit(struct task *t, const struct syscall_args *args)
{
	if (gaddr_is_null(arg_addr(args, 1)))
		return -EFAULT;
	return do_prlimit(t, arg_int(args, 0), arg_addr(args, 1), gaddr(0));
}

#define GRND_NONBLOCK_FLAG 0x1
#define GRND_RANDOM_FLAG 0x2
#define GRND_INSECURE_FLAG 0x4

/* getrandom(2) */
long sys_getrandom(struct task *t, const struct syscall_args *args)
{
	uint64_t len = WARD_MIN(arg_u64(args, 1), (uint64_t)WARD_MAX_RW_COUNT);
	unsigned int flags = arg_uint(args, 2);
	uint8_t chunk[256];
	uint64_t done = 0;

	if (flags & ~(GRND_NONBLOCK_FLAG | GRND_RANDOM_FLAG | GRND_INSECURE_FLAG))
		return -EINVAL;
	if ((flags & GRND_INSECURE_FLAG) && (flags & GRND_RANDOM_FLAG))
		return -EINVAL;
	while (done < len) {
		size_t n = (size_t)WARD_MIN(len - done, sizeof(chunk));
		long r = ward_host_getrandom(chunk, n);
		if (r < 0)
			return done ? (long)done : r;
		if (ward_copy_out(task_as(t), gaddr_add(arg_addr(args, 0), done), chunk, (size_t)r) < 0)
			return done ? (long)done : -EFAULT;
		done += (uint64_t)r;
	}
	return (long)done;
}

/* sched_getaffinity(2): the CPUs the sentry may use. */
long sys_sched_getaffinity(struct task *t, const struct syscall_args *args)
{
	int pid = arg_int(args, 0);
	uint64_t len = arg_u64(args, 1);
	int ncpus = ward_host_ncpus();
	uint8_t mask[128];

	if (pid != 0 && pid != t->tid)
		return -ESRCH;
	/* The kernel's cpumask size: whole longs covering the CPU ids. */
	size_t size = (size_t)((ncpus + 63) / 64) * 8;
	if (size > sizeof(mask))
		size = sizeof(mask);
	if (len * 8 < (uint64_t)ncpus || (len & 7))
		return -EINVAL;
	memset(mask, 0, sizeof(mask));
	for (int i = 0; i < ncpus && i < (int)sizeof(mask) * 8; i++)
		mask[i / 8] |= (uint8_t)(1u << (i % 8));
	if (ward_copy_out(task_as(t), arg_addr(args, 2), mask, size) < 0)
		return -EFAULT;
	return (long)size;
}

/* sched_setaffinity(2): the mask must name a CPU the sandbox has; it is
 * then accepted (the sentry does not pin its threads). */
long sys_sched_setaffinity(struct task *t, const struct syscall_args *args)
{
	int pid = arg_int(args, 0);
	uint64_t len = WARD_MIN(arg_u64(args, 1), 128);
	int ncpus = ward_host_ncpus();
	uint8_t mask[128];

	memset(mask, 0, sizeof(mask));
	if (ward_copy_in(task_as(t), mask, arg_addr(args, 2), (size_t)len) < 0)
		return -EFAULT;
	if (pid != 0 && pid != t->tid)
		return -ESRCH;
	for (int i = 0; i < ncpus && i < (int)len * 8; i++)
		if (mask[i / 8] & (1u << (i % 8)))
			return 0;
	return -EINVAL;
}

/* sysinfo(2): the sandbox's view: its own uptime clock, one process, the
 * host's memory (the memory file has no limit of its own yet). */
long sys_sysinfo(struct task *t, const struct syscall_args *args)
{
	struct linux_sysinfo si;
	struct linux_timespec up;
	uint64_t total = 0, free_bytes = 0;

	memset(&si, 0, sizeof(si));
	if (ward_host_clock_gettime(CLOCK_BOOTTIME, &up) == 0)
		si.uptime = up.tv_sec;
	ward_host_meminfo(&total, &free_bytes);
	si.totalram = total;
	si.freeram = free_bytes;
	si.procs = 1;
	si.mem_unit = 1;
	return WARD_COPY_OUT_OBJ(task_as(t), arg_addr(args, 0), &si);
}

/* sched_yield(2) */
long sys_sched_yield(struct task *t, const struct syscall_args *args)
{
	return 0;
}

/* rseq(2): not offered. glibc treats ENOSYS as "no rseq" and goes on, so
 * this is not reported as a missing call. */
long sys_rseq(struct task *t, const struct syscall_args *args)
{
	return -ENOSYS;
}

#define PR_SET_PDEATHSIG_ 1
#define PR_GET_PDEATHSIG_ 2
#define PR_GET_DUMPABLE_ 3
#define PR_SET_DUMPABLE_ 4
#define PR_SET_NAME_ 15
#define PR_GET_NAME_ 16
#define PR_GET_SECCOMP_ 21
#define PR_SET_NO_NEW_PRIVS_ 38
#define PR_GET_NO_NEW_PRIVS_ 39
#define PR_GET_KEEPCAPS_ 7
#define PR_SET_KEEPCAPS_ 8
#define PR_GET_TIMERSLACK_ 30
#define PR_SET_TIMERSLACK_ 29
#define PR_GET_TSC_ 25
#define PR_SET_TSC_ 26
#define PR_TSC_ENABLE_ 1
#define PR_CAPBSET_READ_ 23
#define PR_CAPBSET_DROP_ 24
#define PR_SET_CHILD_SUBREAPER_ 36
#define PR_GET_CHILD_SUBREAPER_ 37
/* The default timer slack of a task, in nanoseconds. */
#define DEFAULT_TIMER_SLACK_NS 50000

/* prctl(2): the options the foundation's programs use; the rest are
 * EINVAL, as on a kernel without them. */
long sys_prctl(struct task *t, const struct syscall_args *args)
{
	uint64_t a2 = arg_u64(args, 1);
	switch (arg_int(args, 0)) {
	case PR_SET_PDEATHSIG_:
		if (a2 > WARD_NSIG)
			return -EINVAL;
		t->pdeathsig = (int)a2;
		return 0;
	case PR_GET_PDEATHSIG_:
		return ward_copy_out(task_as(t), arg_addr(args, 1), &t->pdeathsig, sizeof(int));
	case PR_GET_DUMPABLE_:
		return t->not_dumpable ? 0 : 1;
	case PR_SET_DUMPABLE_:
		if (a2 > 1)
			return -EINVAL;
		t->not_dumpable = a2 == 0;
		return 0;
	case PR_SET_NAME_: {
		char name[16];
		long n = ward_copy_string_in(task_as(t), name, sizeof(name), arg_addr(args, 1));
		if (n == -EFAULT)
			return -EFAULT;
		/* Longer names are cut to 15 bytes, as Linux does. */
		name[15] = 0;
		memcpy(t->comm, name, sizeof(t->comm));
		return 0;
	}
	case PR_GET_NAME_:
		return ward_copy_out(task_as(t), arg_addr(args, 1), t->comm, sizeof(t->comm));
	case PR_GET_SECCOMP_:
		return 0;
	case PR_SET_NO_NEW_PRIVS_:
		if (a2 != 1 || arg_u64(args, 2) || arg_u64(args, 3) || arg_u64(args, 4))
			return -EINVAL;
		t->no_new_privs = true;
		return 0;
	case PR_GET_NO_NEW_PRIVS_:
		if (a2 || arg_u64(args, 2) || arg_u64(args, 3) || arg_u64(args, 4))
			return -EINVAL;
		return t->no_new_privs ? 1 : 0;
	case PR_SET_CHILD_SUBREAPER_:
		t->proc->subreaper = a2 != 0;
		return 0;
	case PR_GET_CHILD_SUBREAPER_: {
		int v = t->proc->subreaper;
		return ward_copy_out(task_as(t), arg_addr(args, 1), &v, sizeof(v)) < 0 ? -EFAULT : 0;
	}
	case PR_GET_KEEPCAPS_:
		return (t->creds.securebits & WARD_SECBIT_KEEP_CAPS) ? 1 : 0;
	case PR_SET_KEEPCAPS_:
		if (a2 > 1)
			return -EINVAL;
		if (t->creds.securebits & WARD_SECBIT_KEEP_CAPS_LOCKED)
			return -EPERM;
		if (a2)
			t->creds.securebits |= WARD_SECBIT_KEEP_CAPS;
		else
			t->creds.securebits &= ~WARD_SECBIT_KEEP_CAPS;
		return 0;
	case PR_CAPBSET_READ_: {
		uint64_t e, p, i, b, amb;
		if (a2 > WARD_CAP_LAST_CAP)
			return -EINVAL;
		creds_caps(&t->creds, &e, &p, &i, &b, &amb);
		return (b >> a2) & 1;
	}
	case PR_CAPBSET_DROP_:
		if (!creds_capable(&t->creds, WARD_CAP_SETPCAP))
			return -EPERM;
		if (a2 > WARD_CAP_LAST_CAP)
			return -EINVAL;
		creds_caps_materialize(&t->creds);
		t->creds.cap_bset &= ~(1ULL << a2);
		return 0;
	case PR_GET_TIMERSLACK_:
		return t->sched.timer_slack_ns ? (long)t->sched.timer_slack_ns : DEFAULT_TIMER_SLACK_NS;
	case PR_SET_TIMERSLACK_:
		/* 0 restores the default. */
		t->sched.timer_slack_ns = a2;
		return 0;
	case PR_GET_TSC_: {
		int v = PR_TSC_ENABLE_;
		return ward_copy_out(task_as(t), arg_addr(args, 1), &v, sizeof(v)) < 0 ? -EFAULT : 0;
	}
	case PR_SET_TSC_:
		/* PR_TSC_SIGSEGV (rdtsc faulting) is not offered. */
		return a2 == PR_TSC_ENABLE_ ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}
