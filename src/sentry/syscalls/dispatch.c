/* The dispatch table, built from table.def. */
#include "sentry/service.h"

#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

static const struct syscall_entry table[SYSCALL_TABLE_SIZE] = {
#define SYSCALL(nr, name, handler, support, fmt, note) [nr] = { name, handler, support, fmt, note },
#include "table.def"
#undef SYSCALL
};

/* Calls that are not implemented, or not x86-64 calls at all, are
 * reported once each so the log names what a program missed. */
static uint8_t reported[SYSCALL_TABLE_SIZE / 8];
static struct ward_mutex reported_lock;
static bool reported_lock_ready;

long sys_ni_syscall(struct task *t, const struct syscall_args *args)
{
	return -ENOSYS;
}

const struct syscall_entry *syscall_lookup(uint64_t nr)
{
	if (nr >= SYSCALL_TABLE_SIZE || !table[nr].name)
		return NULL;
	return &table[nr];
}

static void report_unimplemented(uint64_t nr, const char *name)
{
	if (!reported_lock_ready) {
		ward_mutex_init(&reported_lock);
		reported_lock_ready = true;
	}
	uint64_t slot = nr < SYSCALL_TABLE_SIZE ? nr : SYSCALL_TABLE_SIZE - 1;
	ward_mutex_lock(&reported_lock);
	bool first = !(reported[slot / 8] & (1u << (slot % 8)));
	reported[slot / 8] |= (uint8_t)(1u << (slot % 8));
	ward_mutex_unlock(&reported_lock);
	if (first)
		ward_log(WARD_LOG_WARN, "unsupported syscall %s (%" PRIu64 "): returning ENOSYS", name ? name : "?",
			 nr);
}

long syscall_dispatch(struct task *t, const struct syscall_args *args)
{
	const struct syscall_entry *e = syscall_lookup(args->nr);
	long r;

	if (!e || e->handler == sys_ni_syscall) {
		report_unimplemented(args->nr, e ? e->name : NULL);
		r = -ENOSYS;
	} else {
		/* Internal restart codes stay as they are: signal delivery, which
		 * runs next, turns them into a restart or EINTR. */
		r = e->handler(t, args);
	}
	if (ward_strace_enabled()) {
		char line[1024];
		size_t n;
		if (e) {
			n = strace_format_call(t, e, args, r, line, sizeof(line));
		} else {
			int k = snprintf(line, sizeof(line), "syscall_%#" PRIx64 "(...", args->nr);
			n = k > 0 ? (size_t)k : 0;
		}
		if (t->exiting)
			n += (size_t)snprintf(line + n, sizeof(line) - n, ") = ?\n");
		else
			n += strace_format_result(r, e && strace_result_is_address(e), line + n, sizeof(line) - n);
		ward_strace_write(line, WARD_MIN(n, sizeof(line) - 1));
		if (t->exiting) {
			int st = t->proc->exit_status;
			n = (st & 0x7f)
				    ? (size_t)snprintf(line, sizeof(line), "+++ killed by signal %d +++\n", st & 0x7f)
				    : (size_t)snprintf(line, sizeof(line), "+++ exited with %d +++\n",
						       (st >> 8) & 0xff);
			ward_strace_write(line, n);
		}
	}
	return r;
}
