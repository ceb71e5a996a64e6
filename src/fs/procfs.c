/* procfs and sysfs: the sentry's /proc and /sys, computed from its own
 * tasks, address spaces, fd tables and mount table, never from the host's
 * (which stays unreachable). The formats are Linux's (proc(5)).
 *
 * Every object is a vnode whose priv is a small node: its kind, and the
 * pid, thread and descriptor it is about. Nothing is kept between calls:
 * a lookup checks that the process (thread, descriptor) still exists, and
 * a file's text is produced when it is opened, and again whenever it is
 * read from offset 0, so rewinding gives fresh numbers as Linux's seq
 * files do.
 *
 * Symlinks are plain symlinks: their text (a pid, the cwd, a file's path,
 * "pipe:[ino]") is followed by the VFS like any other, inside the
 * sandbox's tree. There are no magic links to a file object, so
 * /proc/[pid]/fd/N and /proc/[pid]/root can never lead out.
 *
 * /proc/sys and /sys are small static trees (stree below); nothing in them
 * is writable yet, so opening any file for writing is EACCES.
 *
 * Everything runs under the kernel lock (the calling task holds it during
 * its system call), which is what keeps the tasks and processes still. */
#include "sentry/service.h"

#include "fs/pty.h"
#include "fs/vfs_internal.h"
#include "sentry/kernel/creds.h"
#include "sentry/kernel/ipc.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/uts.h"
#include "sentry/mm/mm.h"

/* USER_HZ: the unit of /proc's CPU times. */
#define PROC_HZ 100
/* What uname(2) reports (sys_misc.c): /proc/version and osrelease agree. */
#define PROC_PID_MAX 4194304
#define PROC_NR_OPEN (1U << 20)
#define PROC_PIPE_MAX_SIZE (1024 * 1024)
#define PROC_CAP_SYS_PTRACE 19
/* The most of a process's argv or environment /proc shows. */
#define PROC_ARGS_MAX (4UL << 20)

#define PROC_DT_DIR 4
#define PROC_DT_REG 8
#define PROC_DT_LNK 10

#define DIR_MODE (S_IFDIR | 0555)
#define REG_MODE (S_IFREG | 0444)
#define LNK_MODE (S_IFLNK | 0777)

enum pkind {
	PK_ROOT = 1,
	PK_SELF,
	PK_THREAD_SELF,
	PK_MOUNTS_LINK,
	PK_MEMINFO,
	PK_CPUINFO,
	PK_STAT,
	PK_UPTIME,
	PK_LOADAVG,
	PK_VERSION,
	PK_FILESYSTEMS,
	PK_STATIC, /* a node of stree: /proc/sys and /sys */
	/* /proc/[pid] and /proc/[pid]/task/[tid] */
	PK_PID,
	PK_P_CMDLINE,
	PK_P_COMM,
	PK_P_CWD,
	PK_P_ENVIRON,
	PK_P_EXE,
	PK_P_FD,
	PK_P_FDINFO,
	PK_P_LIMITS,
	PK_P_MAPS,
	PK_P_MOUNTINFO,
	PK_P_MOUNTS,
	PK_P_ROOT,
	PK_P_SMAPS_ROLLUP,
	PK_P_STAT,
	PK_P_STATM,
	PK_P_STATUS,
	PK_P_TASK,
	PK_FD_LINK,
	PK_FDINFO_FILE,
};

struct pent {
	const char *name;
	uint8_t kind;
	uint32_t mode;
};

static const struct pent root_ents[] = {
	{ "self", PK_SELF, LNK_MODE },		{ "thread-self", PK_THREAD_SELF, LNK_MODE },
	{ "cpuinfo", PK_CPUINFO, REG_MODE },	{ "filesystems", PK_FILESYSTEMS, REG_MODE },
	{ "loadavg", PK_LOADAVG, REG_MODE },	{ "meminfo", PK_MEMINFO, REG_MODE },
	{ "mounts", PK_MOUNTS_LINK, LNK_MODE }, { "stat", PK_STAT, REG_MODE },
	{ "sys", PK_STATIC, DIR_MODE },		{ "uptime", PK_UPTIME, REG_MODE },
	{ "version", PK_VERSION, REG_MODE },	{ "sysvipc", PK_STATIC, DIR_MODE },
};

/* The entries of /proc/[pid]; a thread's directory has all but "task". */
static const struct pent pid_ents[] = {
	{ "cmdline", PK_P_CMDLINE, REG_MODE },
	{ "comm", PK_P_COMM, S_IFREG | 0644 },
	{ "cwd", PK_P_CWD, LNK_MODE },
	{ "environ", PK_P_ENVIRON, S_IFREG | 0400 },
	{ "exe", PK_P_EXE, LNK_MODE },
	{ "fd", PK_P_FD, S_IFDIR | 0500 },
	{ "fdinfo", PK_P_FDINFO, S_IFDIR | 0500 },
	{ "limits", PK_P_LIMITS, REG_MODE },
	{ "maps", PK_P_MAPS, REG_MODE },
	{ "mountinfo", PK_P_MOUNTINFO, REG_MODE },
	{ "mounts", PK_P_MOUNTS, REG_MODE },
	{ "root", PK_P_ROOT, LNK_MODE },
	{ "smaps_rollup", PK_P_SMAPS_ROLLUP, REG_MODE },
	{ "stat", PK_P_STAT, REG_MODE },
	{ "statm", PK_P_STATM, REG_MODE },
	{ "status", PK_P_STATUS, REG_MODE },
	{ "task", PK_P_TASK, DIR_MODE },
};

/* The static trees: /proc/sys and the whole of /sys. */
enum stree_id {
	ST_PROC_SYS,
	ST_KERNEL,
	ST_HOSTNAME,
	ST_OSTYPE,
	ST_OSRELEASE,
	ST_PID_MAX,
	ST_NGROUPS_MAX,
	ST_CAP_LAST_CAP,
	ST_VM,
	ST_OVERCOMMIT,
	ST_FS,
	ST_PIPE_MAX_SIZE,
	ST_NR_OPEN,
	ST_SYSFS_ROOT,
	ST_DEVICES,
	ST_SYSTEM,
	ST_CPU,
	ST_CPU_ONLINE,
	ST_CPU_POSSIBLE,
	ST_SYSVIPC,
	ST_SYSVIPC_SHM,
	ST_SYSVIPC_SEM,
	ST_SYSVIPC_MSG,
	ST_COUNT,
};

static const struct stree_ent {
	const char *name;
	int parent; /* -1 for a root */
	uint32_t mode;
} stree[ST_COUNT] = {
	[ST_PROC_SYS] = { "sys", -1, DIR_MODE },
	[ST_KERNEL] = { "kernel", ST_PROC_SYS, DIR_MODE },
	[ST_HOSTNAME] = { "hostname", ST_KERNEL, S_IFREG | 0644 },
	[ST_OSTYPE] = { "ostype", ST_KERNEL, REG_MODE },
	[ST_OSRELEASE] = { "osrelease", ST_KERNEL, REG_MODE },
	[ST_PID_MAX] = { "pid_max", ST_KERNEL, S_IFREG | 0644 },
	[ST_NGROUPS_MAX] = { "ngroups_max", ST_KERNEL, REG_MODE },
	[ST_CAP_LAST_CAP] = { "cap_last_cap", ST_KERNEL, REG_MODE },
	[ST_VM] = { "vm", ST_PROC_SYS, DIR_MODE },
	[ST_OVERCOMMIT] = { "overcommit_memory", ST_VM, S_IFREG | 0644 },
	[ST_FS] = { "fs", ST_PROC_SYS, DIR_MODE },
	[ST_PIPE_MAX_SIZE] = { "pipe-max-size", ST_FS, S_IFREG | 0644 },
	[ST_NR_OPEN] = { "nr_open", ST_FS, S_IFREG | 0644 },
	[ST_SYSFS_ROOT] = { "", -1, DIR_MODE },
	[ST_DEVICES] = { "devices", ST_SYSFS_ROOT, DIR_MODE },
	[ST_SYSTEM] = { "system", ST_DEVICES, DIR_MODE },
	[ST_CPU] = { "cpu", ST_SYSTEM, DIR_MODE },
	[ST_CPU_ONLINE] = { "online", ST_CPU, REG_MODE },
	[ST_CPU_POSSIBLE] = { "possible", ST_CPU, REG_MODE },
	[ST_SYSVIPC] = { "sysvipc", -1, DIR_MODE },
	[ST_SYSVIPC_SHM] = { "shm", ST_SYSVIPC, REG_MODE },
	[ST_SYSVIPC_SEM] = { "sem", ST_SYSVIPC, REG_MODE },
	[ST_SYSVIPC_MSG] = { "msg", ST_SYSVIPC, REG_MODE },
};

/* The static tree a root entry of /proc names. */
static int stree_root(const char *name)
{
	for (int i = 0; i < ST_COUNT; i++)
		if (stree[i].parent == -1 && strcmp(stree[i].name, name) == 0)
			return i;
	return ST_PROC_SYS;
}

static bool stree_in_sysfs(int id)
{
	while (stree[id].parent >= 0)
		id = stree[id].parent;
	return id == ST_SYSFS_ROOT;
}

/* A procfs object. */
struct pnode {
	uint8_t kind;
	bool thread_dir; /* under task/: a thread's directory (no task/) */
	uint32_t mode;
	int32_t pid; /* PK_PID and below: the process */
	int32_t tid; /* a thread of it, or 0 for the process as a whole */
	int32_t arg; /* the descriptor of fd/N and fdinfo/N; the stree id */
};

/* Bytes being produced. */
struct pbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static bool pb_reserve(struct pbuf *b, size_t more)
{
	if (b->oom)
		return false;
	if (b->len + more <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + more)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static void pb_printf(struct pbuf *b, const char *fmt, ...) __attribute__((__format__(__printf__, 2, 3)));
static void pb_printf(struct pbuf *b, const char *fmt, ...)
{
	for (;;) {
		if (!pb_reserve(b, 1))
			return;
		size_t room = b->cap - b->len;
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->p + b->len, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		if (!pb_reserve(b, (size_t)n + 1))
			return;
	}
}

/* Targets. */

static struct task *proc_leader(struct process *p)
{
	for (struct task *t = p->threads; t; t = t->next_in_proc)
		if (t->tid == p->pid)
			return t;
	return p->threads;
}

/* The process of a per-process node, or NULL when it is gone. */
static struct process *pn_proc(const struct pnode *n)
{
	struct process *p = process_by_pid(n->pid);
	if (!p)
		return NULL;
	if (n->tid) {
		struct task *t = task_by_tid(n->tid);
		if (!t || t->proc != p)
			return NULL;
	}
	return p;
}

/* The thread a per-process node shows: its own, or the process's leader
 * (NULL for a zombie). */
static struct task *pn_task(const struct pnode *n)
{
	struct process *p = pn_proc(n);
	if (!p)
		return NULL;
	if (n->tid)
		return task_by_tid(n->tid);
	return proc_leader(p);
}

/* Whether the caller may look inside t (its memory, files, environment),
 * as ptrace_may_access(PTRACE_MODE_READ_FSCREDS) decides, simplified: the
 * same process, CAP_SYS_PTRACE, or all of t's uids and gids equal to the
 * caller's fs ids and t dumpable. */
static bool may_inspect(const struct task *t)
{
	struct task *me = task_current();
	if (!me || me->proc == t->proc)
		return true;
	const struct creds *c = &me->creds, *tc = &t->creds;
	if (creds_capable(c, PROC_CAP_SYS_PTRACE))
		return true;
	if (t->not_dumpable)
		return false;
	return c->fsuid == tc->uid && c->fsuid == tc->euid && c->fsuid == tc->suid && c->fsgid == tc->gid &&
	       c->fsgid == tc->egid && c->fsgid == tc->sgid;
}

/* Time. */

static int64_t timespec_ns(const struct linux_timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* The time since the host booted (what sysinfo's uptime counts). */
static int64_t uptime_ns(void)
{
	struct linux_timespec ts;
	if (ward_host_clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
		return 0;
	return timespec_ns(&ts);
}

/* The boot time in seconds since the epoch. */
static int64_t boot_time_s(void)
{
	struct linux_timespec now;
	if (ward_host_clock_gettime(CLOCK_REALTIME, &now) < 0)
		return 0;
	return (timespec_ns(&now) - uptime_ns()) / 1000000000;
}

static uint64_t ns_to_ticks(int64_t ns)
{
	return ns > 0 ? (uint64_t)ns / (1000000000 / PROC_HZ) : 0;
}

static int ncpus(void)
{
	int n = ward_host_ncpus();
	return n > 0 ? n : 1;
}

/* Processes, for the listings and counts. */

struct pid_list {
	int32_t *v;
	size_t n, cap;
	size_t threads;
};

static void pid_list_add(struct process *p, void *arg)
{
	struct pid_list *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		int32_t *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = p->pid;
	l->threads += (size_t)p->nthreads;
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/* Every process not yet reaped, sorted by pid. */
static void pid_list_fill(struct pid_list *l)
{
	process_for_each(pid_list_add, l);
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_i32);
}

/* Global files. */

static void gen_meminfo(struct pbuf *b)
{
	uint64_t total = 0, free_bytes = 0;
	ward_host_meminfo(&total, &free_bytes);
	uint64_t cached = ward_memfile_used();
	if (cached > total - free_bytes)
		cached = total - free_bytes;
	const struct {
		const char *name;
		uint64_t bytes;
	} rows[] = {
		{ "MemTotal:", total },
		{ "MemFree:", free_bytes },
		{ "MemAvailable:", free_bytes },
		{ "Buffers:", 0 },
		{ "Cached:", cached },
		{ "SwapCached:", 0 },
		{ "Active:", cached },
		{ "Inactive:", 0 },
		{ "Active(anon):", cached },
		{ "Inactive(anon):", 0 },
		{ "Active(file):", 0 },
		{ "Inactive(file):", 0 },
		{ "Unevictable:", 0 },
		{ "Mlocked:", 0 },
		{ "SwapTotal:", 0 },
		{ "SwapFree:", 0 },
		{ "Zswap:", 0 },
		{ "Zswapped:", 0 },
		{ "Dirty:", 0 },
		{ "Writeback:", 0 },
		{ "AnonPages:", cached },
		{ "Mapped:", 0 },
		{ "Shmem:", 0 },
		{ "KReclaimable:", 0 },
		{ "Slab:", 0 },
		{ "SReclaimable:", 0 },
		{ "SUnreclaim:", 0 },
		{ "KernelStack:", 0 },
		{ "PageTables:", 0 },
		{ "SecPageTables:", 0 },
		{ "NFS_Unstable:", 0 },
		{ "Bounce:", 0 },
		{ "WritebackTmp:", 0 },
		{ "CommitLimit:", total / 2 },
		{ "Committed_AS:", cached },
		{ "VmallocTotal:", 34359738367ULL * 1024 },
		{ "VmallocUsed:", 0 },
		{ "VmallocChunk:", 0 },
		{ "Percpu:", 0 },
		{ "HardwareCorrupted:", 0 },
		{ "AnonHugePages:", 0 },
		{ "ShmemHugePages:", 0 },
		{ "ShmemPmdMapped:", 0 },
		{ "FileHugePages:", 0 },
		{ "FilePmdMapped:", 0 },
	};
	for (size_t i = 0; i < WARD_ARRAY_SIZE(rows); i++)
		pb_printf(b, "%-16s%8" PRIu64 " kB\n", rows[i].name, rows[i].bytes / 1024);
	pb_printf(b, "HugePages_Total:       0\nHugePages_Free:        0\nHugePages_Rsvd:        0\n"
		     "HugePages_Surp:        0\n");
	pb_printf(b, "%-16s%8u kB\n%-16s%8u kB\n", "Hugepagesize:", 2048, "Hugetlb:", 0);
	pb_printf(b, "%-16s%8" PRIu64 " kB\n", "DirectMap4k:", total / 1024);
}

/* The sentry cannot run cpuid (a service makes no such instruction), and
 * the host's /proc/cpuinfo is not to be read: every CPU is described as
 * the same generic x86-64 with the baseline features (x86-64-v2) every
 * machine ward runs on has, so that programs choosing code paths from
 * these flags never pick one the CPU lacks. */
static void gen_cpuinfo(struct pbuf *b)
{
	int n = ncpus();
	for (int i = 0; i < n; i++) {
		pb_printf(b,
			  "processor\t: %d\n"
			  "vendor_id\t: GenuineIntel\n"
			  "cpu family\t: 6\n"
			  "model\t\t: 85\n"
			  "model name\t: ward virtual x86-64 CPU\n"
			  "stepping\t: 7\n"
			  "microcode\t: 0x1\n"
			  "cpu MHz\t\t: 2000.000\n"
			  "cache size\t: 32768 KB\n"
			  "physical id\t: 0\n"
			  "siblings\t: %d\n"
			  "core id\t\t: %d\n"
			  "cpu cores\t: %d\n"
			  "apicid\t\t: %d\n"
			  "initial apicid\t: %d\n"
			  "fpu\t\t: yes\n"
			  "fpu_exception\t: yes\n"
			  "cpuid level\t: 13\n"
			  "wp\t\t: yes\n"
			  "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 "
			  "clflush mmx fxsr sse sse2 ht syscall nx lm constant_tsc rep_good nopl cpuid pni ssse3 cx16 "
			  "sse4_1 sse4_2 popcnt hypervisor lahf_lm\n"
			  "bugs\t\t:\n"
			  "bogomips\t: 4000.00\n"
			  "clflush size\t: 64\n"
			  "cache_alignment\t: 64\n"
			  "address sizes\t: 46 bits physical, 48 bits virtual\n"
			  "power management:\n\n",
			  i, n, i, n, i, i);
	}
}

struct cpu_sum {
	int64_t cpu_ns;
	int running, tasks;
	int32_t last_pid;
};

static void cpu_sum_add(struct process *p, void *arg)
{
	struct cpu_sum *s = arg;
	s->cpu_ns += p->cpu_ns;
	s->tasks += p->nthreads;
	if (!p->zombie && p->stop != PROC_STOPPED)
		s->running++;
	if (p->pid > s->last_pid)
		s->last_pid = p->pid;
}

static void gen_stat(struct pbuf *b)
{
	struct cpu_sum s = { 0 };
	process_for_each(cpu_sum_add, &s);
	int n = ncpus();
	uint64_t user = ns_to_ticks(s.cpu_ns);
	uint64_t all = ns_to_ticks(uptime_ns()) * (uint64_t)n;
	uint64_t idle = all > user ? all - user : 0;
	pb_printf(b, "cpu  %" PRIu64 " 0 0 %" PRIu64 " 0 0 0 0 0 0\n", user, idle);
	for (int i = 0; i < n; i++)
		pb_printf(b, "cpu%d %" PRIu64 " 0 0 %" PRIu64 " 0 0 0 0 0 0\n", i, user / (uint64_t)n,
			  idle / (uint64_t)n);
	pb_printf(b,
		  "intr 0\nctxt 0\nbtime %" PRId64 "\nprocesses %d\nprocs_running 1\nprocs_blocked 0\n"
		  "softirq 0 0 0 0 0 0 0 0 0 0 0\n",
		  boot_time_s(), s.last_pid);
}

static void gen_uptime(struct pbuf *b)
{
	struct cpu_sum s = { 0 };
	process_for_each(cpu_sum_add, &s);
	int64_t up = uptime_ns();
	int64_t idle = up * ncpus() - s.cpu_ns;
	if (idle < 0)
		idle = 0;
	pb_printf(b, "%" PRId64 ".%02" PRId64 " %" PRId64 ".%02" PRId64 "\n", up / 1000000000,
		  (up % 1000000000) / 10000000, idle / 1000000000, (idle % 1000000000) / 10000000);
}

static void gen_loadavg(struct pbuf *b)
{
	struct cpu_sum s = { 0 };
	process_for_each(cpu_sum_add, &s);
	pb_printf(b, "0.00 0.00 0.00 1/%d %d\n", s.tasks, s.last_pid);
}

/* Static tree files. */
static void gen_static(int id, struct pbuf *b)
{
	switch ((enum stree_id)id) {
	case ST_HOSTNAME:
		pb_printf(b, "%s\n", uts_nodename());
		break;
	case ST_OSTYPE:
		pb_printf(b, "Linux\n");
		break;
	case ST_OSRELEASE:
		pb_printf(b, "%s\n", WARD_UTS_RELEASE);
		break;
	case ST_PID_MAX:
		pb_printf(b, "%d\n", PROC_PID_MAX);
		break;
	case ST_NGROUPS_MAX:
		pb_printf(b, "65536\n");
		break;
	case ST_CAP_LAST_CAP:
		pb_printf(b, "%d\n", WARD_CAP_LAST_CAP);
		break;
	case ST_OVERCOMMIT:
		pb_printf(b, "0\n");
		break;
	case ST_PIPE_MAX_SIZE:
		pb_printf(b, "%d\n", PROC_PIPE_MAX_SIZE);
		break;
	case ST_NR_OPEN:
		pb_printf(b, "%u\n", PROC_NR_OPEN);
		break;
	case ST_CPU_ONLINE:
	case ST_CPU_POSSIBLE:
		if (ncpus() == 1)
			pb_printf(b, "0\n");
		else
			pb_printf(b, "0-%d\n", ncpus() - 1);
		break;
	case ST_SYSVIPC_SHM:
	case ST_SYSVIPC_SEM:
	case ST_SYSVIPC_MSG: {
		const char *which = id == ST_SYSVIPC_SHM ? "shm" : id == ST_SYSVIPC_SEM ? "sem" : "msg";
		size_t n = ipc_format_proc(which, NULL, 0);
		char *text = malloc(n + 1);
		if (!text) {
			b->oom = true;
			break;
		}
		ipc_format_proc(which, text, n + 1);
		pb_printf(b, "%s", text);
		free(text);
		break;
	}
	case ST_SYSVIPC:
	case ST_PROC_SYS:
	case ST_KERNEL:
	case ST_VM:
	case ST_FS:
	case ST_SYSFS_ROOT:
	case ST_DEVICES:
	case ST_SYSTEM:
	case ST_CPU:
	case ST_COUNT:
		break;
	}
}

/* Per-process files. */

static char state_letter(struct process *p, struct task *t, const char **name)
{
	if (p->zombie || !t) {
		*name = "zombie";
		return 'Z';
	}
	if (p->stop == PROC_STOPPED) {
		*name = "stopped";
		return 'T';
	}
	/* As Linux: S for a task that waits (in the sentry, or in a host call
	 * on its behalf), R for one in the guest or ready to run. */
	if ((t->sleeping || t->in_host_call) && t != task_current()) {
		*name = "sleeping";
		return 'S';
	}
	*name = "running";
	return 'R';
}

/* The signal sets of sigaction: ignored and caught. */
static void sig_dispositions(struct process *p, uint64_t *ign, uint64_t *cgt)
{
	*ign = *cgt = 0;
	if (!p->sighand)
		return;
	for (int i = 0; i < WARD_NSIG; i++) {
		uint64_t h = p->sighand->actions[i].handler;
		if (h == 1 /* SIG_IGN */)
			*ign |= 1ULL << i;
		else if (h != 0 /* SIG_DFL */)
			*cgt |= 1ULL << i;
	}
}

struct mem_stats {
	uint64_t size, rss; /* bytes */
};

static struct mem_stats mem_of(struct task *t)
{
	struct mem_stats m = { 0 };
	if (t && t->mm) {
		m.size = mm_mapped_bytes(t->mm);
		m.rss = mm_resident_bytes(t->mm);
	}
	return m;
}

static long gen_pid_stat(const struct pnode *n, struct pbuf *b)
{
	struct process *p = pn_proc(n);
	if (!p)
		return -ESRCH;
	struct task *t = pn_task(n);
	const char *sname;
	char st = state_letter(p, t, &sname);
	struct mem_stats m = mem_of(t);
	uint64_t ign, cgt;
	sig_dispositions(p, &ign, &cgt);
	int64_t cpu = n->tid ? (t ? t->cpu_ns : 0) : p->cpu_ns;
	uint64_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;
	if (t && t->mm && may_inspect(t))
		mm_get_args(t->mm, &arg_start, &arg_end, &env_start, &env_end);
	int nice = t ? t->sched.nice : 0;
	int prio = t && t->sched.policy != 0 ? -1 - t->sched.priority : 20 + nice;
	uint64_t rsslim = t ? t->rlimits[RLIMIT_RSS].rlim_cur : UINT64_MAX;
	int exit_code = p->zombie ? p->exit_status : 0;

	uint32_t tty_nr = 0;
	int32_t tpgid = -1;
	pty_session_tty(p->sid, &tty_nr, &tpgid);
	pb_printf(b, "%d (%s) %c %d %d %d %u %d %u ", n->tid ? n->tid : p->pid, t ? t->comm : p->comm, st,
		  p->parent ? p->parent->pid : 0, p->pgid, p->sid, tty_nr, tpgid,
		  0x400040u /* PF_RANDOMIZE... as ps shows */);
	/* minflt cminflt majflt cmajflt utime stime cutime cstime */
	pb_printf(b, "0 0 0 0 %" PRIu64 " 0 %" PRIu64 " 0 ", ns_to_ticks(cpu), ns_to_ticks(p->children_run_ns));
	/* priority nice num_threads itrealvalue starttime vsize rss rsslim */
	pb_printf(b, "%d %d %d 0 %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " ", prio, nice, p->nthreads,
		  ns_to_ticks(p->start_boot_ns), m.size, m.rss / WARD_PAGE_SIZE, rsslim);
	/* startcode endcode startstack kstkesp kstkeip */
	pb_printf(b, "0 0 0 0 0 ");
	/* signal blocked sigignore sigcatch wchan nswap cnswap */
	pb_printf(b, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " 0 0 0 ",
		  (t ? t->pending.set : 0) | p->pending.set, t ? t->sigmask : 0, ign, cgt);
	/* exit_signal processor rt_priority policy blkio guest_time cguest_time */
	pb_printf(b, "%d 0 %d %d 0 0 0 ", p->exit_signal, t ? t->sched.priority : 0, t ? t->sched.policy : 0);
	/* start_data end_data start_brk arg_start arg_end env_start env_end exit_code */
	pb_printf(b, "0 0 0 %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %d\n", arg_start, arg_end, env_start,
		  env_end, exit_code);
	return 0;
}

static void status_kb(struct pbuf *b, const char *name, uint64_t bytes)
{
	pb_printf(b, "%s\t%8" PRIu64 " kB\n", name, bytes / 1024);
}

static void status_mask(struct pbuf *b, const char *name, uint64_t mask)
{
	pb_printf(b, "%s\t%016" PRIx64 "\n", name, mask);
}

static long gen_pid_status(const struct pnode *n, struct pbuf *b)
{
	struct process *p = pn_proc(n);
	if (!p)
		return -ESRCH;
	struct task *t = pn_task(n);
	const char *sname;
	char st = state_letter(p, t, &sname);
	int32_t pid = n->tid ? n->tid : p->pid;

	pb_printf(b, "Name:\t%s\n", t ? t->comm : p->comm);
	if (t && t->fs)
		pb_printf(b, "Umask:\t%04o\n", t->fs->umask);
	pb_printf(b, "State:\t%c (%s)\n", st, sname);
	pb_printf(b, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", p->pid, pid,
		  p->parent ? p->parent->pid : 0);
	if (t) {
		const struct creds *c = &t->creds;
		pb_printf(b, "Uid:\t%u\t%u\t%u\t%u\n", c->uid, c->euid, c->suid, c->fsuid);
		pb_printf(b, "Gid:\t%u\t%u\t%u\t%u\n", c->gid, c->egid, c->sgid, c->fsgid);
		pb_printf(b, "FDSize:\t64\nGroups:\t");
		for (int i = 0; c->groups && i < c->groups->n; i++)
			pb_printf(b, "%u ", c->groups->gid[i]);
		pb_printf(b, "\n");
	} else {
		pb_printf(b, "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t0\nGroups:\t\n");
	}
	pb_printf(b, "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", p->pid, pid, p->pgid, p->sid);
	if (t && t->mm) {
		struct mem_stats m = mem_of(t);
		uint64_t peak = (uint64_t)(p->maxrss_kb > 0 ? p->maxrss_kb : 0) * 1024;
		if (peak < m.size)
			peak = m.size;
		status_kb(b, "VmPeak:", peak);
		status_kb(b, "VmSize:", m.size);
		status_kb(b, "VmLck:", 0);
		status_kb(b, "VmPin:", 0);
		status_kb(b, "VmHWM:", m.rss);
		status_kb(b, "VmRSS:", m.rss);
		status_kb(b, "RssAnon:", m.rss);
		status_kb(b, "RssFile:", 0);
		status_kb(b, "RssShmem:", 0);
		status_kb(b, "VmData:", m.size);
		status_kb(b, "VmStk:", 132 * 1024);
		status_kb(b, "VmExe:", 0);
		status_kb(b, "VmLib:", 0);
		status_kb(b, "VmPTE:", 0);
		status_kb(b, "VmSwap:", 0);
	}
	pb_printf(b, "Threads:\t%d\n", p->nthreads);
	uint64_t sigq_max = t ? t->rlimits[RLIMIT_SIGPENDING].rlim_cur : 0;
	pb_printf(b, "SigQ:\t0/%" PRIu64 "\n", sigq_max);
	uint64_t ign, cgt;
	sig_dispositions(p, &ign, &cgt);
	status_mask(b, "SigPnd:", t ? t->pending.set : 0);
	status_mask(b, "ShdPnd:", p->pending.set);
	status_mask(b, "SigBlk:", t ? t->sigmask : 0);
	status_mask(b, "SigIgn:", ign);
	status_mask(b, "SigCgt:", cgt);
	uint64_t eff = 0, prm = 0, inh = 0, bnd = 0, amb = 0;
	if (t)
		creds_caps(&t->creds, &eff, &prm, &inh, &bnd, &amb);
	status_mask(b, "CapInh:", inh);
	status_mask(b, "CapPrm:", prm);
	status_mask(b, "CapEff:", eff);
	status_mask(b, "CapBnd:", bnd);
	status_mask(b, "CapAmb:", amb);
	pb_printf(b, "NoNewPrivs:\t%d\nSeccomp:\t0\nSeccomp_filters:\t0\n", t && t->no_new_privs ? 1 : 0);
	pb_printf(b, "Speculation_Store_Bypass:\tthread vulnerable\nSpeculationIndirectBranch:\tconditional enabled\n");
	int cpus = ncpus();
	pb_printf(b, "Cpus_allowed:\t");
	/* Groups of 32 CPUs in hex, highest first, comma separated. */
	for (int w = (cpus - 1) / 32; w >= 0; w--) {
		int bits = cpus - w * 32 >= 32 ? 32 : cpus - w * 32;
		uint32_t mask = bits == 32 ? UINT32_MAX : (1U << bits) - 1;
		pb_printf(b, w == (cpus - 1) / 32 ? "%x" : ",%08x", mask);
	}
	if (cpus == 1)
		pb_printf(b, "\nCpus_allowed_list:\t0\n");
	else
		pb_printf(b, "\nCpus_allowed_list:\t0-%d\n", cpus - 1);
	pb_printf(b, "Mems_allowed:\t1\nMems_allowed_list:\t0\n"
		     "voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n");
	return 0;
}

static long gen_pid_statm(const struct pnode *n, struct pbuf *b)
{
	if (!pn_proc(n))
		return -ESRCH;
	struct mem_stats m = mem_of(pn_task(n));
	pb_printf(b, "%" PRIu64 " %" PRIu64 " 0 0 0 %" PRIu64 " 0\n", m.size / WARD_PAGE_SIZE, m.rss / WARD_PAGE_SIZE,
		  m.size / WARD_PAGE_SIZE);
	return 0;
}

/* Copies [start, end) of t's memory: what is readable of it. */
static void copy_guest_range(struct task *t, uint64_t start, uint64_t end, struct pbuf *b)
{
	if (!t->mm || end <= start)
		return;
	uint64_t len = end - start;
	if (len > PROC_ARGS_MAX)
		len = PROC_ARGS_MAX;
	if (!pb_reserve(b, len))
		return;
	/* Page by page, so that an unmapped page only cuts the text short. */
	uint64_t at = start;
	while (at < start + len) {
		uint64_t chunk = WARD_PAGE_SIZE - (at % WARD_PAGE_SIZE);
		if (chunk > start + len - at)
			chunk = start + len - at;
		if (mm_read(t->mm, at, b->p + b->len, chunk) < 0)
			break;
		b->len += chunk;
		at += chunk;
	}
}

static long gen_pid_cmdline(const struct pnode *n, struct pbuf *b)
{
	if (!pn_proc(n))
		return -ESRCH;
	struct task *t = pn_task(n);
	if (!t || !t->mm)
		return 0;
	uint64_t as, ae, es, ee;
	mm_get_args(t->mm, &as, &ae, &es, &ee);
	copy_guest_range(t, as, ae, b);
	/* A program that wrote over its argv's last NUL (setproctitle) shows
	 * its text up to the first NUL, which may lie in the environment. */
	if (b->len && b->p[b->len - 1] != '\0' && b->len == ae - as) {
		size_t before = b->len;
		copy_guest_range(t, es, ee, b);
		void *nul = memchr(b->p + before, '\0', b->len - before);
		b->len = nul ? (size_t)((char *)nul - b->p) : before;
		nul = memchr(b->p, '\0', b->len);
		if (nul)
			b->len = (size_t)((char *)nul - b->p);
	}
	return 0;
}

static long gen_pid_environ(const struct pnode *n, struct pbuf *b)
{
	if (!pn_proc(n))
		return -ESRCH;
	struct task *t = pn_task(n);
	if (!t || !t->mm)
		return 0;
	if (!may_inspect(t))
		return -EACCES;
	uint64_t as, ae, es, ee;
	mm_get_args(t->mm, &as, &ae, &es, &ee);
	copy_guest_range(t, es, ee, b);
	return 0;
}

static long gen_pid_maps(const struct pnode *n, struct pbuf *b)
{
	if (!pn_proc(n))
		return -ESRCH;
	struct task *t = pn_task(n);
	if (!t || !t->mm)
		return 0;
	if (!may_inspect(t))
		return -EACCES;
	for (size_t cap = 16384;; cap *= 2) {
		if (cap > (64UL << 20))
			return -ENOMEM;
		b->len = 0;
		if (!pb_reserve(b, cap))
			return -ENOMEM;
		long r = mm_format_maps(t->mm, b->p, cap);
		if (r >= 0) {
			b->len = (size_t)r;
			return 0;
		}
		if (r != -ENOSPC)
			return r;
	}
}

static long gen_pid_smaps_rollup(const struct pnode *n, struct pbuf *b)
{
	long r = gen_pid_maps(n, b);
	if (r < 0)
		return r;
	/* The range from the first map's start to the last one's end. */
	uint64_t lo = 0, hi = 0;
	if (b->len) {
		char *last = b->p + b->len - 1;
		while (last > b->p && last[-1] != '\n')
			last--;
		char *end;
		lo = strtoull(b->p, NULL, 16);
		strtoull(last, &end, 16);
		hi = *end == '-' ? strtoull(end + 1, NULL, 16) : lo;
	}
	struct mem_stats m = mem_of(pn_task(n));
	b->len = 0;
	pb_printf(b, "%08" PRIx64 "-%08" PRIx64 " ---p 00000000 00:00 0                          [rollup]\n", lo, hi);
	const struct {
		const char *name;
		uint64_t bytes;
	} rows[] = {
		{ "Rss:", m.rss },	  { "Pss:", m.rss },
		{ "Pss_Dirty:", m.rss },  { "Pss_Anon:", m.rss },
		{ "Pss_File:", 0 },	  { "Pss_Shmem:", 0 },
		{ "Shared_Clean:", 0 },	  { "Shared_Dirty:", 0 },
		{ "Private_Clean:", 0 },  { "Private_Dirty:", m.rss },
		{ "Referenced:", m.rss }, { "Anonymous:", m.rss },
		{ "LazyFree:", 0 },	  { "AnonHugePages:", 0 },
		{ "ShmemPmdMapped:", 0 }, { "FilePmdMapped:", 0 },
		{ "Shared_Hugetlb:", 0 }, { "Private_Hugetlb:", 0 },
		{ "Swap:", 0 },		  { "SwapPss:", 0 },
		{ "Locked:", 0 },
	};
	for (size_t i = 0; i < WARD_ARRAY_SIZE(rows); i++)
		pb_printf(b, "%-16s%8" PRIu64 " kB\n", rows[i].name, rows[i].bytes / 1024);
	return 0;
}

/* The mounts as a task sees them: those at or below its root. */
struct mounts_view {
	struct pbuf *b;
	struct task *t;
};

/* The per-mount flags, as show_mnt_opts prints them. */
static void mount_flags(const struct vmount *m, bool mounts_file, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s%s%s,relatime", (mounts_file ? vmount_rdonly(m) : m->rdonly) ? "ro" : "rw",
		 m->nosuid ? ",nosuid" : "", m->nodev ? ",nodev" : "", m->noexec ? ",noexec" : "");
}

static void mounts_line(const struct vmount *m, void *arg)
{
	struct mounts_view *v = arg;
	char path[4096 + 16], flags[64];
	if (!vfs_mount_visible(v->t, m, path, sizeof(path)))
		return;
	mount_flags(m, true, flags, sizeof(flags));
	pb_printf(v->b, "%s %s %s %s%s%s 0 0\n", m->source ? m->source : "none", path, m->fstype ? m->fstype : "none",
		  flags, m->fs_opts ? "," : "", m->fs_opts ? m->fs_opts : "");
}

/* The mount id of the mount that m hangs from: the one with the longest
 * path that is a proper prefix of m's. */
struct mount_parent {
	const struct vmount *m;
	size_t best_len;
	int id;
};

static void mount_parent_of(const struct vmount *c, void *arg)
{
	struct mount_parent *mp = arg;
	size_t n = strlen(c->path);
	if (c == mp->m || n > strlen(mp->m->path))
		return;
	bool prefix = strncmp(c->path, mp->m->path, n) == 0 && (n == 1 || mp->m->path[n] == '/');
	if (prefix && (mp->id == 0 || n > mp->best_len)) {
		mp->best_len = n;
		mp->id = c->id;
	}
}

static void mountinfo_line(const struct vmount *m, void *arg)
{
	struct mounts_view *v = arg;
	char path[4096 + 16], flags[64];
	if (!vfs_mount_visible(v->t, m, path, sizeof(path)))
		return;
	mount_flags(m, false, flags, sizeof(flags));
	struct mount_parent mp = { .m = m };
	vfs_mount_for_each(mount_parent_of, &mp);
	if (!mp.id)
		mp.id = m->id - 1; /* the root's parent lies outside the sandbox */
	struct linux_statx stx = { 0 };
	if (m->root->ops->getattr)
		m->root->ops->getattr(m->root, &stx);
	char shared[32] = "";
	if (m->prop == VMOUNT_SHARED)
		snprintf(shared, sizeof(shared), " shared:%d", m->sb_id);
	else if (m->prop == VMOUNT_UNBINDABLE)
		snprintf(shared, sizeof(shared), " unbindable");
	pb_printf(v->b, "%d %d %u:%u %s %s %s%s - %s %s %s%s%s\n", m->id, mp.id, stx.stx_dev_major, stx.stx_dev_minor,
		  m->fs_root ? m->fs_root : "/", path, flags, shared, m->fstype ? m->fstype : "none",
		  m->source ? m->source : "none", m->sb && m->sb->rdonly ? "ro" : "rw", m->fs_opts ? "," : "",
		  m->fs_opts ? m->fs_opts : "");
}

static long gen_pid_limits(const struct pnode *n, struct pbuf *b)
{
	static const struct {
		const char *name, *unit;
	} lim[WARD_RLIM_NLIMITS] = {
		{ "Max cpu time", "seconds" },	   { "Max file size", "bytes" },
		{ "Max data size", "bytes" },	   { "Max stack size", "bytes" },
		{ "Max core file size", "bytes" }, { "Max resident set", "bytes" },
		{ "Max processes", "processes" },  { "Max open files", "files" },
		{ "Max locked memory", "bytes" },  { "Max address space", "bytes" },
		{ "Max file locks", "locks" },	   { "Max pending signals", "signals" },
		{ "Max msgqueue size", "bytes" },  { "Max nice priority", NULL },
		{ "Max realtime priority", NULL }, { "Max realtime timeout", "us" },
	};
	if (!pn_proc(n))
		return -ESRCH;
	struct task *t = pn_task(n);
	if (!t)
		return 0;
	pb_printf(b, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units");
	for (int i = 0; i < WARD_RLIM_NLIMITS; i++) {
		pb_printf(b, "%-25s ", lim[i].name);
		uint64_t v[2] = { t->rlimits[i].rlim_cur, t->rlimits[i].rlim_max };
		for (int k = 0; k < 2; k++) {
			if (v[k] == UINT64_MAX)
				pb_printf(b, "%-20s ", "unlimited");
			else
				pb_printf(b, "%-20" PRIu64 " ", v[k]);
		}
		if (lim[i].unit)
			pb_printf(b, "%-10s\n", lim[i].unit);
		else
			pb_printf(b, "\n");
	}
	return 0;
}

static long gen_fdinfo(const struct pnode *n, struct pbuf *b)
{
	struct task *t = pn_task(n);
	if (!t || !t->files)
		return -ENOENT;
	if (!may_inspect(t))
		return -EACCES;
	struct file *f = fd_get(t, n->arg);
	if (!f)
		return -ENOENT;
	long fdfl = fd_get_flags(t, n->arg);
	struct linux_statx stx = { 0 };
	file_getattr(f, &stx);
	uint32_t flags = f->flags | ((fdfl > 0 && (fdfl & FD_CLOEXEC)) ? O_CLOEXEC : 0);
	pb_printf(b, "pos:\t%" PRIu64 "\nflags:\t0%o\nmnt_id:\t%d\nino:\t%" PRIu64 "\n", f->pos, flags,
		  f->vn && f->vn->mnt ? f->vn->mnt->id : 0, stx.stx_ino);
	file_put(f);
	return 0;
}

/* Produces the text of the file n. */
static long gen_file(const struct pnode *n, struct pbuf *b)
{
	switch ((enum pkind)n->kind) {
	case PK_MEMINFO:
		gen_meminfo(b);
		return 0;
	case PK_CPUINFO:
		gen_cpuinfo(b);
		return 0;
	case PK_STAT:
		gen_stat(b);
		return 0;
	case PK_UPTIME:
		gen_uptime(b);
		return 0;
	case PK_LOADAVG:
		gen_loadavg(b);
		return 0;
	case PK_VERSION:
		pb_printf(b, "Linux version %s (ward@%s) (ward) %s\n", WARD_UTS_RELEASE, WARD_UTS_NODENAME,
			  WARD_UTS_VERSION);
		return 0;
	case PK_FILESYSTEMS:
		pb_printf(b, "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\tpipefs\n"
			     "nodev\toverlay\n");
		return 0;
	case PK_STATIC:
		gen_static(n->arg, b);
		return 0;
	case PK_P_CMDLINE:
		return gen_pid_cmdline(n, b);
	case PK_P_COMM: {
		if (!pn_proc(n))
			return -ESRCH;
		struct task *t = pn_task(n);
		pb_printf(b, "%s\n", t ? t->comm : pn_proc(n)->comm);
		return 0;
	}
	case PK_P_ENVIRON:
		return gen_pid_environ(n, b);
	case PK_P_LIMITS:
		return gen_pid_limits(n, b);
	case PK_P_MAPS:
		return gen_pid_maps(n, b);
	case PK_P_SMAPS_ROLLUP:
		return gen_pid_smaps_rollup(n, b);
	case PK_P_MOUNTS:
		if (!pn_proc(n))
			return -ESRCH;
		vfs_mount_for_each(mounts_line, &(struct mounts_view){ b, pn_task(n) });
		return 0;
	case PK_P_MOUNTINFO:
		if (!pn_proc(n))
			return -ESRCH;
		vfs_mount_for_each(mountinfo_line, &(struct mounts_view){ b, pn_task(n) });
		return 0;
	case PK_P_STAT:
		return gen_pid_stat(n, b);
	case PK_P_STATM:
		return gen_pid_statm(n, b);
	case PK_P_STATUS:
		return gen_pid_status(n, b);
	case PK_FDINFO_FILE:
		return gen_fdinfo(n, b);
	case PK_ROOT:
	case PK_SELF:
	case PK_THREAD_SELF:
	case PK_MOUNTS_LINK:
	case PK_PID:
	case PK_P_CWD:
	case PK_P_EXE:
	case PK_P_FD:
	case PK_P_FDINFO:
	case PK_P_ROOT:
	case PK_P_TASK:
	case PK_FD_LINK:
		break;
	}
	return -EINVAL;
}

/* Vnodes. */

static const struct vnode_ops proc_vn_ops;

static long pn_new(struct vmount *mnt, const struct pnode *tmpl, struct vnode **out)
{
	struct pnode *n = malloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	*n = *tmpl;
	struct vnode *v = vnode_alloc(&proc_vn_ops, mnt, n->mode & S_IFMT, n);
	if (!v) {
		free(n);
		return -ENOMEM;
	}
	*out = v;
	return 0;
}

static bool is_per_process(const struct pnode *n)
{
	return n->kind >= PK_PID;
}

/* A decimal number with no sign, no leading zero and no junk, or -1. */
static long parse_num(const char *name)
{
	if (!name[0] || (name[0] == '0' && name[1]) || strlen(name) > 9)
		return -1;
	long v = 0;
	for (const char *p = name; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

static uint64_t pn_ino(const struct pnode *n)
{
	if (n->kind == PK_ROOT)
		return 1;
	if (n->kind == PK_STATIC)
		return 0x1000 + (uint64_t)n->arg;
	if (!is_per_process(n))
		return 0x100 + n->kind;
	return ((uint64_t)n->kind << 56) | ((uint64_t)n->thread_dir << 55) |
	       ((uint64_t)((uint32_t)(n->tid ? n->tid : n->pid) & 0x7fffff) << 32) | (uint32_t)n->arg;
}

/* The mode of an fd link: its file's access, as Linux shows it. */
static uint32_t fd_link_mode(struct task *t, int fd)
{
	struct file *f = fd_get(t, fd);
	if (!f)
		return 0;
	uint32_t mode = S_IFLNK;
	uint32_t acc = f->flags & O_ACCMODE;
	if (!(f->flags & O_PATH)) {
		if (acc == O_RDONLY || acc == O_RDWR)
			mode |= 0500;
		if (acc == O_WRONLY || acc == O_RDWR)
			mode |= 0300;
	}
	file_put(f);
	return mode;
}

static long proc_vn_getattr(struct vnode *v, struct linux_statx *out)
{
	const struct pnode *n = v->priv;
	bool sysfs = n->kind == PK_STATIC && stree_in_sysfs(n->arg);
	memset(out, 0, sizeof(*out));
	out->stx_mask = LINUX_STATX_BASIC_STATS | LINUX_STATX_BTIME;
	out->stx_blksize = sysfs ? 4096 : 1024;
	out->stx_mode = (uint16_t)n->mode;
	out->stx_nlink = S_ISDIR(n->mode) ? 2 : 1;
	out->stx_ino = pn_ino(n);
	out->stx_atime = out->stx_btime = out->stx_ctime = out->stx_mtime = vfs_boot_time();
	out->stx_dev_minor = sysfs ? VFS_SYSFS_MINOR : VFS_PROC_MINOR;
	if (sysfs && S_ISREG(n->mode))
		out->stx_size = 4096;
	if (is_per_process(n)) {
		if (!pn_proc(n))
			return -ENOENT;
		struct task *t = pn_task(n);
		if (t && !t->not_dumpable) {
			out->stx_uid = t->creds.euid;
			out->stx_gid = t->creds.egid;
		}
		if (n->kind == PK_FD_LINK) {
			if (!t)
				return -ENOENT;
			uint32_t mode = fd_link_mode(t, n->arg);
			if (!mode)
				return -ENOENT;
			out->stx_mode = (uint16_t)mode;
			out->stx_size = 64;
		}
	}
	return 0;
}

static long proc_vn_statfs(struct vnode *v, struct linux_statfs *out)
{
	const struct pnode *n = v->priv;
	bool sysfs = n->kind == PK_STATIC && stree_in_sysfs(n->arg);
	vfs_synthetic_statfs(sysfs ? VFS_SYSFS_MAGIC : VFS_PROC_MAGIC, out);
	return 0;
}

static long copy_link(const char *text, char *buf, size_t len)
{
	size_t n = strlen(text);
	if (n > len)
		n = len;
	memcpy(buf, text, n);
	return (long)n;
}

static long proc_vn_read_link(struct vnode *v, char *buf, size_t len)
{
	const struct pnode *n = v->priv;
	char tmp[64];
	switch (n->kind) {
	case PK_SELF: {
		struct task *me = task_current();
		if (!me)
			return -ENOENT;
		snprintf(tmp, sizeof(tmp), "%d", me->tgid);
		return copy_link(tmp, buf, len);
	}
	case PK_THREAD_SELF: {
		struct task *me = task_current();
		if (!me)
			return -ENOENT;
		snprintf(tmp, sizeof(tmp), "%d/task/%d", me->tgid, me->tid);
		return copy_link(tmp, buf, len);
	}
	case PK_MOUNTS_LINK:
		return copy_link("self/mounts", buf, len);
	default:
		break;
	}
	struct task *t = pn_task(n);
	if (!t)
		return -ENOENT;
	if (!may_inspect(t))
		return -EACCES;
	switch (n->kind) {
	case PK_P_EXE:
		return t->exe_path ? copy_link(t->exe_path, buf, len) : -ENOENT;
	case PK_P_CWD: {
		/* Paths as the reader sees them from its root (d_path). */
		char shown[4096 + 16];
		if (!t->fs || vfs_guest_path(task_current(), t->fs->cwd, shown, sizeof(shown)) < 0)
			return -ENOENT;
		return copy_link(shown, buf, len);
	}
	case PK_P_ROOT: {
		char shown[4096 + 16];
		if (!t->fs ||
		    vfs_guest_path(task_current(), t->fs->root[0] ? t->fs->root : "/", shown, sizeof(shown)) < 0)
			return -ENOENT;
		return copy_link(shown, buf, len);
	}
	case PK_FD_LINK: {
		struct file *f = fd_get(t, n->arg);
		if (!f)
			return -ENOENT;
		char shown[4096 + 16];
		long r;
		if (f->vn && f->path[0] == '/')
			r = vfs_guest_path(task_current(), f->path, shown, sizeof(shown)) < 0
				    ? -ENAMETOOLONG
				    : copy_link(shown, buf, len);
		else
			r = copy_link(f->path, buf, len);
		file_put(f);
		return r;
	}
	default:
		return -EINVAL;
	}
}

static long lookup_table(struct vnode *dir, const struct pent *tab, size_t count, const char *name,
			 const struct pnode *parent, struct vnode **out)
{
	for (size_t i = 0; i < count; i++) {
		if (strcmp(tab[i].name, name) != 0)
			continue;
		if (tab[i].kind == PK_P_TASK && parent->thread_dir)
			return -ENOENT;
		struct pnode c = *parent;
		c.kind = tab[i].kind;
		c.mode = tab[i].mode;
		c.arg = 0;
		if (c.kind == PK_STATIC)
			c.arg = stree_root(tab[i].name);
		return pn_new(dir->mnt, &c, out);
	}
	return -ENOENT;
}

static long proc_vn_lookup(struct vnode *dir, const char *name, struct vnode **out)
{
	const struct pnode *n = dir->priv;
	struct pnode c = { 0 };
	long num;

	switch (n->kind) {
	case PK_ROOT: {
		long r = lookup_table(dir, root_ents, WARD_ARRAY_SIZE(root_ents), name, n, out);
		if (r != -ENOENT)
			return r;
		num = parse_num(name);
		if (num <= 0)
			return -ENOENT;
		c = (struct pnode){ .kind = PK_PID, .mode = DIR_MODE, .pid = (int32_t)num };
		if (!process_by_pid(c.pid)) {
			/* A thread's id names its thread, as Linux's hidden
			 * /proc/[tid] directories do. */
			struct task *t = task_by_tid(c.pid);
			if (!t)
				return -ENOENT;
			c.pid = t->tgid;
			c.tid = t->tid;
		}
		return pn_new(dir->mnt, &c, out);
	}
	case PK_STATIC:
		for (int i = 0; i < ST_COUNT; i++) {
			if (stree[i].parent != n->arg || strcmp(stree[i].name, name) != 0)
				continue;
			c = (struct pnode){ .kind = PK_STATIC, .mode = stree[i].mode, .arg = i };
			return pn_new(dir->mnt, &c, out);
		}
		return -ENOENT;
	case PK_PID:
		if (!pn_proc(n))
			return -ENOENT;
		return lookup_table(dir, pid_ents, WARD_ARRAY_SIZE(pid_ents), name, n, out);
	case PK_P_TASK: {
		struct process *p = pn_proc(n);
		num = parse_num(name);
		struct task *t = num > 0 ? task_by_tid((int32_t)num) : NULL;
		if (!p || !t || t->proc != p)
			return -ENOENT;
		c = (struct pnode){
			.kind = PK_PID, .mode = DIR_MODE, .pid = p->pid, .tid = t->tid, .thread_dir = true
		};
		return pn_new(dir->mnt, &c, out);
	}
	case PK_P_FD:
	case PK_P_FDINFO: {
		struct task *t = pn_task(n);
		num = parse_num(name);
		if (!t || !t->files || num < 0)
			return -ENOENT;
		if (!may_inspect(t))
			return -EACCES;
		struct file *f = fd_get(t, (int)num);
		if (!f)
			return -ENOENT;
		file_put(f);
		c = *n;
		c.kind = n->kind == PK_P_FD ? PK_FD_LINK : PK_FDINFO_FILE;
		c.mode = n->kind == PK_P_FD ? LNK_MODE : REG_MODE;
		c.arg = (int32_t)num;
		return pn_new(dir->mnt, &c, out);
	}
	default:
		return -ENOTDIR;
	}
}

/* Open files: a directory's listing or a file's text. */
struct pfile {
	struct vfs_dirlist list;
	struct pbuf text;
	bool have_text;
};

static const struct pnode *pf_node(struct file *f)
{
	return f->vn->priv;
}

static long pf_regen(struct file *f)
{
	struct pfile *pf = f->priv;
	free(pf->text.p);
	pf->text = (struct pbuf){ 0 };
	long r = gen_file(pf_node(f), &pf->text);
	if (r >= 0 && pf->text.oom)
		r = -ENOMEM;
	pf->have_text = r >= 0;
	return r;
}

static long proc_read(struct file *f, void *buf, size_t len, uint64_t *pos)
{
	struct pfile *pf = f->priv;
	if (S_ISDIR(pf_node(f)->mode))
		return -EISDIR;
	if (*pos == 0 || !pf->have_text) {
		long r = pf_regen(f);
		if (r < 0)
			return r;
	}
	if (*pos >= pf->text.len)
		return 0;
	size_t n = pf->text.len - *pos;
	if (n > len)
		n = len;
	memcpy(buf, pf->text.p + *pos, n);
	*pos += n;
	return (long)n;
}

static long proc_write(struct file *f, const void *buf, size_t len, uint64_t *pos)
{
	return -EACCES;
}

static long proc_seek(struct file *f, int64_t off, int whence)
{
	struct pfile *pf = f->priv;
	if (S_ISDIR(pf_node(f)->mode))
		return vfs_generic_seek(f, off, whence, INT64_MAX);
	return vfs_generic_seek(f, off, whence, pf->text.len);
}

static long proc_getattr(struct file *f, struct linux_statx *out)
{
	return proc_vn_getattr(f->vn, out);
}

static long proc_statfs(struct file *f, struct linux_statfs *out)
{
	return proc_vn_statfs(f->vn, out);
}

struct list_fill {
	struct vfs_dirlist *l;
	long r;
};

static long list_table(struct vfs_dirlist *l, const struct pent *tab, size_t count, const struct pnode *parent)
{
	long r = 0;
	for (size_t i = 0; i < count && r >= 0; i++) {
		if (tab[i].kind == PK_P_TASK && parent->thread_dir)
			continue;
		struct pnode c = *parent;
		c.kind = tab[i].kind;
		c.arg = tab[i].kind == PK_STATIC ? stree_root(tab[i].name) : 0;
		r = vfs_dirlist_add(l, tab[i].name, pn_ino(&c), vfs_dtype(tab[i].mode));
	}
	return r;
}

static long fill_listing(const struct pnode *n, struct vfs_dirlist *l)
{
	char name[16];
	long r = vfs_dirlist_add(l, ".", pn_ino(n), PROC_DT_DIR);
	if (r >= 0)
		r = vfs_dirlist_add(l, "..", 1, PROC_DT_DIR);
	if (r < 0)
		return r;
	switch (n->kind) {
	case PK_ROOT: {
		r = list_table(l, root_ents, WARD_ARRAY_SIZE(root_ents), n);
		struct pid_list pids = { 0 };
		pid_list_fill(&pids);
		for (size_t i = 0; i < pids.n && r >= 0; i++) {
			struct pnode c = { .kind = PK_PID, .pid = pids.v[i] };
			snprintf(name, sizeof(name), "%d", pids.v[i]);
			r = vfs_dirlist_add(l, name, pn_ino(&c), PROC_DT_DIR);
		}
		free(pids.v);
		return r;
	}
	case PK_STATIC:
		for (int i = 0; i < ST_COUNT && r >= 0; i++)
			if (stree[i].parent == n->arg)
				r = vfs_dirlist_add(l, stree[i].name, 0x1000 + (uint64_t)i, vfs_dtype(stree[i].mode));
		return r;
	case PK_PID:
		if (!pn_proc(n))
			return -ENOENT;
		return list_table(l, pid_ents, WARD_ARRAY_SIZE(pid_ents), n);
	case PK_P_TASK: {
		struct process *p = pn_proc(n);
		if (!p)
			return -ENOENT;
		size_t cnt = 0;
		for (struct task *t = p->threads; t; t = t->next_in_proc)
			cnt++;
		cleanup_free int32_t *tids = calloc(cnt ? cnt : 1, sizeof(*tids));
		if (!tids)
			return -ENOMEM;
		cnt = 0;
		for (struct task *t = p->threads; t; t = t->next_in_proc)
			tids[cnt++] = t->tid;
		qsort(tids, cnt, sizeof(*tids), cmp_i32);
		for (size_t i = 0; i < cnt && r >= 0; i++) {
			struct pnode c = { .kind = PK_PID, .pid = p->pid, .tid = tids[i], .thread_dir = true };
			snprintf(name, sizeof(name), "%d", tids[i]);
			r = vfs_dirlist_add(l, name, pn_ino(&c), PROC_DT_DIR);
		}
		return r;
	}
	case PK_P_FD:
	case PK_P_FDINFO: {
		struct task *t = pn_task(n);
		if (!t)
			return -ENOENT;
		if (!may_inspect(t))
			return -EACCES;
		if (!t->files)
			return r;
		for (long fd = fd_next_open(t, 0); fd >= 0 && r >= 0; fd = fd_next_open(t, (int)fd + 1)) {
			struct pnode c = *n;
			c.kind = n->kind == PK_P_FD ? PK_FD_LINK : PK_FDINFO_FILE;
			c.arg = (int32_t)fd;
			snprintf(name, sizeof(name), "%ld", fd);
			r = vfs_dirlist_add(l, name, pn_ino(&c), n->kind == PK_P_FD ? PROC_DT_LNK : PROC_DT_REG);
		}
		return r;
	}
	default:
		return -ENOTDIR;
	}
}

static long proc_getdents(struct file *f, void *buf, size_t len)
{
	struct pfile *pf = f->priv;
	if (f->pos == 0 || !pf->list.e) {
		vfs_dirlist_free(&pf->list);
		long r = fill_listing(pf_node(f), &pf->list);
		if (r < 0) {
			vfs_dirlist_free(&pf->list);
			return r;
		}
	}
	return vfs_dirlist_getdents(&pf->list, f, buf, len);
}

static void proc_release(struct file *f)
{
	struct pfile *pf = f->priv;
	if (!pf)
		return;
	vfs_dirlist_free(&pf->list);
	free(pf->text.p);
	free(pf);
}

static const struct file_ops proc_reg_fops = {
	.read_buf = proc_read,
	.write_buf = proc_write,
	.seek = proc_seek,
	.getattr = proc_getattr,
	.statfs = proc_statfs,
	.release = proc_release,
};

static const struct file_ops proc_dir_fops = {
	.read_buf = proc_read,
	.seek = proc_seek,
	.getattr = proc_getattr,
	.getdents_buf = proc_getdents,
	.statfs = proc_statfs,
	.release = proc_release,
};

static const struct file_ops proc_path_fops = {
	.getattr = proc_getattr,
	.statfs = proc_statfs,
	.release = proc_release,
};

static long proc_vn_open(struct vnode *v, int flags, const char *path, struct file **out)
{
	const struct pnode *n = v->priv;
	const struct file_ops *ops = &proc_path_fops;
	if (!(flags & O_PATH)) {
		if ((flags & O_ACCMODE) != O_RDONLY)
			return -EACCES;
		if (is_per_process(n) && !pn_proc(n))
			return -ENOENT;
		ops = S_ISDIR(n->mode) ? &proc_dir_fops : &proc_reg_fops;
	}
	struct pfile *pf = calloc(1, sizeof(*pf));
	if (!pf)
		return -ENOMEM;
	struct file *f = file_alloc(ops, (uint32_t)flags, path, pf);
	if (!f) {
		free(pf);
		return -ENOMEM;
	}
	if (ops == &proc_reg_fops) {
		/* The text is made now, so that permission and existence
		 * errors come from open(2) as on Linux. */
		f->vn = vnode_get(v);
		long r = pf_regen(f);
		if (r < 0) {
			file_put(f);
			return r == -ESRCH ? -ENOENT : r;
		}
	}
	*out = f;
	return 0;
}

static void proc_vn_release(struct vnode *v)
{
	free(v->priv);
}

static long proc_vn_magic_file(struct vnode *v, struct file **out)
{
	const struct pnode *n = v->priv;
	/* exe, cwd and root are magic links too, with no file to go to
	 * here: walks read their text. */
	if (n->kind == PK_P_EXE || n->kind == PK_P_CWD || n->kind == PK_P_ROOT)
		return -ENOENT;
	if (n->kind != PK_FD_LINK)
		return -EINVAL;
	struct task *t = pn_task(n);
	if (!t)
		return -ENOENT;
	if (!may_inspect(t))
		return -EACCES;
	struct file *f = fd_get(t, n->arg);
	if (!f)
		return -ENOENT;
	*out = f;
	return 0;
}

static const struct vnode_ops proc_vn_ops = {
	.magic_file = proc_vn_magic_file,
	.lookup = proc_vn_lookup,
	.getattr = proc_vn_getattr,
	.read_link = proc_vn_read_link,
	.open_file = proc_vn_open,
	.statfs = proc_vn_statfs,
	.release = proc_vn_release,
};

long procfs_root(struct vmount *mnt, struct vnode **out)
{
	struct pnode n = { .kind = PK_ROOT, .mode = DIR_MODE };
	return pn_new(mnt, &n, out);
}

long sysfs_root(struct vmount *mnt, struct vnode **out)
{
	struct pnode n = { .kind = PK_STATIC, .mode = DIR_MODE, .arg = ST_SYSFS_ROOT };
	return pn_new(mnt, &n, out);
}
