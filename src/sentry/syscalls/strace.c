/* --strace: each guest system call as strace prints it, with its arguments
 * decoded by the format letters of table.def:
 *   d int, l long, u unsigned long, x hex, p pointer, s string (path),
 *   b buffer the guest passes in (length in the next argument),
 *   B buffer the call fills (length is the result), F dirfd,
 *   o open flags, a access mode, m mode (octal), P mmap prot, M mmap flags, w whence,
 *   k clock id, S signal number. */
#include "sentry/service.h"

#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

struct flag_name {
	uint64_t value;
	const char *name;
};

static const struct flag_name errno_names[] = {
	{ EPERM, "EPERM" },
	{ ENOENT, "ENOENT" },
	{ ESRCH, "ESRCH" },
	{ EINTR, "EINTR" },
	{ EIO, "EIO" },
	{ ENXIO, "ENXIO" },
	{ E2BIG, "E2BIG" },
	{ ENOEXEC, "ENOEXEC" },
	{ EBADF, "EBADF" },
	{ ECHILD, "ECHILD" },
	{ EAGAIN, "EAGAIN" },
	{ ENOMEM, "ENOMEM" },
	{ EACCES, "EACCES" },
	{ EFAULT, "EFAULT" },
	{ EBUSY, "EBUSY" },
	{ EEXIST, "EEXIST" },
	{ EXDEV, "EXDEV" },
	{ ENODEV, "ENODEV" },
	{ ENOTDIR, "ENOTDIR" },
	{ EISDIR, "EISDIR" },
	{ EINVAL, "EINVAL" },
	{ ENFILE, "ENFILE" },
	{ EMFILE, "EMFILE" },
	{ ENOTTY, "ENOTTY" },
	{ EFBIG, "EFBIG" },
	{ ENOSPC, "ENOSPC" },
	{ ESPIPE, "ESPIPE" },
	{ EROFS, "EROFS" },
	{ EMLINK, "EMLINK" },
	{ EPIPE, "EPIPE" },
	{ EDOM, "EDOM" },
	{ ERANGE, "ERANGE" },
	{ EDEADLK, "EDEADLK" },
	{ ENAMETOOLONG, "ENAMETOOLONG" },
	{ ENOSYS, "ENOSYS" },
	{ ENOTEMPTY, "ENOTEMPTY" },
	{ ELOOP, "ELOOP" },
	{ ENODATA, "ENODATA" },
	{ EOVERFLOW, "EOVERFLOW" },
	{ EOPNOTSUPP, "EOPNOTSUPP" },
	{ EAFNOSUPPORT, "EAFNOSUPPORT" },
	{ EADDRINUSE, "EADDRINUSE" },
	{ ECONNREFUSED, "ECONNREFUSED" },
	{ ETIMEDOUT, "ETIMEDOUT" },
	{ ENOTSOCK, "ENOTSOCK" },
	{ ENOTSUP, "ENOTSUP" },
};

static const char *const errno_text[] = {
	[EPERM] = "Operation not permitted",
	[ENOENT] = "No such file or directory",
	[EINTR] = "Interrupted system call",
	[EBADF] = "Bad file descriptor",
	[EAGAIN] = "Resource temporarily unavailable",
	[ENOMEM] = "Cannot allocate memory",
	[EACCES] = "Permission denied",
	[EFAULT] = "Bad address",
	[EEXIST] = "File exists",
	[ENOTDIR] = "Not a directory",
	[EISDIR] = "Is a directory",
	[EINVAL] = "Invalid argument",
	[EMFILE] = "Too many open files",
	[ENOTTY] = "Inappropriate ioctl for device",
	[ESPIPE] = "Illegal seek",
	[EROFS] = "Read-only file system",
	[ERANGE] = "Numerical result out of range",
	[ENAMETOOLONG] = "File name too long",
	[ENOSYS] = "Function not implemented",
	[ELOOP] = "Too many levels of symbolic links",
	[ENOEXEC] = "Exec format error",
	[ENODATA] = "No data available",
	[EOPNOTSUPP] = "Operation not supported",
};

static const struct flag_name open_flags[] = {
	{ O_WRONLY, "O_WRONLY" },     { O_RDWR, "O_RDWR" },	      { O_CREAT, "O_CREAT" },
	{ O_EXCL, "O_EXCL" },	      { O_NOCTTY, "O_NOCTTY" },	      { O_TRUNC, "O_TRUNC" },
	{ O_APPEND, "O_APPEND" },     { O_NONBLOCK, "O_NONBLOCK" },   { O_DSYNC, "O_DSYNC" },
	{ O_DIRECT, "O_DIRECT" },     { O_LARGEFILE, "O_LARGEFILE" }, { O_DIRECTORY, "O_DIRECTORY" },
	{ O_NOFOLLOW, "O_NOFOLLOW" }, { O_NOATIME, "O_NOATIME" },     { O_CLOEXEC, "O_CLOEXEC" },
	{ O_PATH, "O_PATH" },	      { __O_TMPFILE, "O_TMPFILE" },   { 04000000, "O_SYNC" },
};

static const struct flag_name access_flags[] = {
	{ R_OK, "R_OK" },
	{ W_OK, "W_OK" },
	{ X_OK, "X_OK" },
};

static const struct flag_name prot_flags[] = {
	{ PROT_READ, "PROT_READ" },	      { PROT_WRITE, "PROT_WRITE" },	{ PROT_EXEC, "PROT_EXEC" },
	{ PROT_GROWSDOWN, "PROT_GROWSDOWN" }, { PROT_GROWSUP, "PROT_GROWSUP" },
};

static const struct flag_name mmap_flags[] = {
	{ MAP_SHARED, "MAP_SHARED" },
	{ MAP_PRIVATE, "MAP_PRIVATE" },
	{ MAP_FIXED, "MAP_FIXED" },
	{ MAP_ANONYMOUS, "MAP_ANONYMOUS" },
	{ MAP_32BIT, "MAP_32BIT" },
	{ MAP_GROWSDOWN, "MAP_GROWSDOWN" },
	{ MAP_DENYWRITE, "MAP_DENYWRITE" },
	{ MAP_EXECUTABLE, "MAP_EXECUTABLE" },
	{ MAP_LOCKED, "MAP_LOCKED" },
	{ MAP_NORESERVE, "MAP_NORESERVE" },
	{ MAP_POPULATE, "MAP_POPULATE" },
	{ MAP_NONBLOCK, "MAP_NONBLOCK" },
	{ MAP_STACK, "MAP_STACK" },
	{ MAP_HUGETLB, "MAP_HUGETLB" },
	{ MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE" },
};

static const struct flag_name clock_names[] = {
	{ CLOCK_REALTIME, "CLOCK_REALTIME" },
	{ CLOCK_MONOTONIC, "CLOCK_MONOTONIC" },
	{ CLOCK_PROCESS_CPUTIME_ID, "CLOCK_PROCESS_CPUTIME_ID" },
	{ CLOCK_THREAD_CPUTIME_ID, "CLOCK_THREAD_CPUTIME_ID" },
	{ CLOCK_MONOTONIC_RAW, "CLOCK_MONOTONIC_RAW" },
	{ CLOCK_REALTIME_COARSE, "CLOCK_REALTIME_COARSE" },
	{ CLOCK_MONOTONIC_COARSE, "CLOCK_MONOTONIC_COARSE" },
	{ CLOCK_BOOTTIME, "CLOCK_BOOTTIME" },
};

static const struct flag_name whence_names[] = {
	{ SEEK_SET, "SEEK_SET" },   { SEEK_CUR, "SEEK_CUR" },	{ SEEK_END, "SEEK_END" },
	{ SEEK_DATA, "SEEK_DATA" }, { SEEK_HOLE, "SEEK_HOLE" },
};

const char *strace_errno_name(int err)
{
	for (size_t i = 0; i < WARD_ARRAY_SIZE(errno_names); i++)
		if (errno_names[i].value == (uint64_t)err)
			return errno_names[i].name;
	return NULL;
}

/* An append-only cursor into the line. */
struct out {
	char *buf;
	size_t len;
	size_t at;
};

static void emit(struct out *o, const char *fmt, ...) __attribute__((format(__printf__, 2, 3)));
static void emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	if (o->at >= o->len)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(o->buf + o->at, o->len - o->at, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->at = WARD_MIN(o->at + (size_t)n, o->len - 1);
}

static void emit_flags(struct out *o, uint64_t v, const struct flag_name *names, size_t count, const char *zero)
{
	bool any = false;
	if (zero) {
		emit(o, "%s", zero);
		any = true;
	}
	for (size_t i = 0; i < count; i++) {
		if (names[i].value && (v & names[i].value) == names[i].value) {
			emit(o, "%s%s", any ? "|" : "", names[i].name);
			v &= ~names[i].value;
			any = true;
		}
	}
	if (v || !any)
		emit(o, "%s%#" PRIx64, any ? "|" : "", v);
}

static void emit_name(struct out *o, uint64_t v, const struct flag_name *names, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (names[i].value == v) {
			emit(o, "%s", names[i].name);
			return;
		}
	}
	emit(o, "%" PRId64, (int64_t)v);
}

/* Prints bytes as strace does: printable characters, C escapes for the
 * rest, at most 32 bytes then "...". */
static void emit_bytes(struct out *o, const unsigned char *b, size_t n, bool more)
{
	emit(o, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = b[i];
		if (c == '\n')
			emit(o, "\\n");
		else if (c == '\t')
			emit(o, "\\t");
		else if (c == '"' || c == '\\')
			emit(o, "\\%c", c);
		else if (isprint(c))
			emit(o, "%c", c);
		else
			emit(o, "\\%o", c);
	}
	emit(o, "\"%s", more ? "..." : "");
}

static void emit_guest_bytes(struct out *o, struct task *t, uint64_t addr, uint64_t len)
{
	unsigned char b[32];
	size_t n = (size_t)WARD_MIN(len, sizeof(b));
	if (ward_copy_in(task_as(t), b, gaddr(addr), n) < 0) {
		emit(o, "%#" PRIx64, addr);
		return;
	}
	emit_bytes(o, b, n, len > n);
}

static void emit_string(struct out *o, struct task *t, uint64_t addr)
{
	char s[256];
	if (!addr) {
		emit(o, "NULL");
		return;
	}
	long n = ward_copy_string_in(task_as(t), s, sizeof(s), gaddr(addr));
	if (n == -EFAULT) {
		emit(o, "%#" PRIx64, addr);
		return;
	}
	emit_bytes(o, (const unsigned char *)s, n < 0 ? sizeof(s) - 1 : (size_t)n, n < 0);
}

static void emit_arg(struct out *o, struct task *t, char f, const struct syscall_args *args, int i, long result)
{
	uint64_t v = args->a[i];
	switch (f) {
	case 'd':
		emit(o, "%d", (int)v);
		break;
	case 'l':
		emit(o, "%" PRId64, (int64_t)v);
		break;
	case 'u':
		emit(o, "%" PRIu64, v);
		break;
	case 'p':
		if (v)
			emit(o, "%#" PRIx64, v);
		else
			emit(o, "NULL");
		break;
	case 's':
		emit_string(o, t, v);
		break;
	case 'b':
		emit_guest_bytes(o, t, v, i < 5 ? args->a[i + 1] : 0);
		break;
	case 'B':
		if (result >= 0)
			emit_guest_bytes(o, t, v, (uint64_t)result);
		else
			emit(o, "%#" PRIx64, v);
		break;
	case 'F':
		if ((int)v == AT_FDCWD)
			emit(o, "AT_FDCWD");
		else
			emit(o, "%d", (int)v);
		break;
	case 'o':
		emit_flags(o, v & ~(uint64_t)O_ACCMODE, open_flags + 2, WARD_ARRAY_SIZE(open_flags) - 2,
			   (v & O_ACCMODE) == O_RDONLY	 ? "O_RDONLY"
			   : (v & O_ACCMODE) == O_WRONLY ? "O_WRONLY"
							 : "O_RDWR");
		break;
	case 'a':
		if (v == 0)
			emit(o, "F_OK");
		else
			emit_flags(o, v, access_flags, WARD_ARRAY_SIZE(access_flags), NULL);
		break;
	case 'm':
		emit(o, "%#" PRIo64, v);
		break;
	case 'P':
		if (v == 0)
			emit(o, "PROT_NONE");
		else
			emit_flags(o, v, prot_flags, WARD_ARRAY_SIZE(prot_flags), NULL);
		break;
	case 'M':
		emit_flags(o, v, mmap_flags, WARD_ARRAY_SIZE(mmap_flags), NULL);
		break;
	case 'w':
		emit_name(o, v, whence_names, WARD_ARRAY_SIZE(whence_names));
		break;
	case 'k':
		emit_name(o, v, clock_names, WARD_ARRAY_SIZE(clock_names));
		break;
	case 'S':
		emit(o, "%d", (int)v);
		break;
	case 'x':
	default:
		emit(o, "%#" PRIx64, v);
		break;
	}
}

size_t strace_format_call(struct task *t, const struct syscall_entry *e, const struct syscall_args *args, long result,
			  char *buf, size_t len)
{
	struct out o = { buf, len, 0 };
	buf[0] = 0;
	emit(&o, "%s(", e->name);
	for (int i = 0; e->format[i] && i < 6; i++) {
		if (i)
			emit(&o, ", ");
		emit_arg(&o, t, e->format[i], args, i, result);
	}
	return o.at;
}

bool strace_result_is_address(const struct syscall_entry *e)
{
	return strcmp(e->name, "mmap") == 0 || strcmp(e->name, "brk") == 0 || strcmp(e->name, "mremap") == 0;
}

size_t strace_format_result(long result, bool hex, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };
	buf[0] = 0;
	if (result <= -WARD_ERESTARTSYS && result >= -WARD_ERESTART_RESTARTBLOCK) {
		static const char *const restart[] = { "ERESTARTSYS (To be restarted if SA_RESTART is set)",
						       "ERESTARTNOINTR (To be restarted)",
						       "ERESTARTNOHAND (To be restarted if no handler)",
						       "ERESTART_RESTARTBLOCK (Interrupted by signal)" };
		emit(&o, ") = ? %s\n", restart[-result - WARD_ERESTARTSYS]);
	} else if (result < 0 && result >= -4095) {
		int err = (int)-result;
		const char *name = strace_errno_name(err);
		const char *text = (size_t)err < WARD_ARRAY_SIZE(errno_text) ? errno_text[err] : NULL;
		if (name)
			emit(&o, ") = -1 %s (%s)\n", name, text ? text : name);
		else
			emit(&o, ") = -1 errno %d\n", err);
	} else if (hex) {
		emit(&o, ") = %#lx\n", (unsigned long)result);
	} else {
		emit(&o, ") = %ld\n", result);
	}
	return o.at;
}
