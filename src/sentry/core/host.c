/* The host door. Every host path the sandbox can name goes through
 * ward_host_lookup, one component at a time, with openat2's
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS: the host
 * kernel itself refuses "..", symlinks and magic links, so a service bug in
 * path resolution can name a wrong file inside the root but never one
 * outside it. */
#include "core.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>

long ward_host_open_root(const char *host_path, ward_hostfd_t *out)
{
	int fd = open(host_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*out = (ward_hostfd_t){ fd };
	return 0;
}

static int name_ok(const char *name)
{
	return name[0] && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static long open_beneath(int dirfd, const char *name, int flags, ward_hostfd_t *out)
{
	struct open_how how = {
		.flags = (uint64_t)(O_CLOEXEC | O_NOFOLLOW),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};

	/* openat2 refuses O_PATH with any flag but O_DIRECTORY, O_NOFOLLOW and
	 * O_CLOEXEC. */
	/* O_NONBLOCK: a name opened for reading could be a fifo the host put
	 * there meanwhile, whose open would block the sentry; on regular files
	 * and directories it changes nothing. */
	if (flags & WARD_HOST_READ)
		how.flags |= O_RDONLY | O_NOCTTY | O_NONBLOCK;
	else
		how.flags |= O_PATH;
	if (flags & WARD_HOST_DIRECTORY)
		how.flags |= O_DIRECTORY;
	int fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	*out = (ward_hostfd_t){ fd };
	return 0;
}

long ward_host_lookup(ward_hostfd_t dir, const char *name, int flags, ward_hostfd_t *out)
{
	if (!name_ok(name))
		return -EINVAL;
	if (strlen(name) > 255)
		return -ENAMETOOLONG;
	return open_beneath(dir.fd, name, flags, out);
}

long ward_host_reopen(ward_hostfd_t path, int flags, ward_hostfd_t *out)
{
	char proc[64];
	/* Reopening an O_PATH handle through its /proc/self/fd entry is the
	 * kernel's own way; the handle was confined when it was looked up. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", path.fd);
	int oflags = O_CLOEXEC | O_NOCTTY | O_RDONLY;
	if (flags & WARD_HOST_DIRECTORY)
		oflags |= O_DIRECTORY;
	int fd = open(proc, oflags);
	if (fd < 0)
		return -errno;
	*out = (ward_hostfd_t){ fd };
	return 0;
}

long ward_host_dup(ward_hostfd_t f, ward_hostfd_t *out)
{
	int fd = fcntl(f.fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -errno;
	*out = (ward_hostfd_t){ fd };
	return 0;
}

void ward_host_close(ward_hostfd_t f)
{
	if (f.fd >= 0) {
		ward__sock_forget(f.fd);
		close(f.fd);
	}
}

long ward_host_statx(ward_hostfd_t f, struct linux_statx *out)
{
	_Static_assert(sizeof(struct statx) == sizeof(struct linux_statx), "statx layout");
	struct statx stx;
	if (statx(f.fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &stx) < 0)
		return -errno;
	memcpy(out, &stx, sizeof(*out));
	return 0;
}

long ward_host_statfs(ward_hostfd_t f, struct linux_statfs *out)
{
	_Static_assert(sizeof(struct statfs) == sizeof(struct linux_statfs), "statfs layout");
	struct statfs st;
	if (fstatfs(f.fd, &st) < 0)
		return -errno;
	memcpy(out, &st, sizeof(*out));
	return 0;
}

long ward_host_readlink(ward_hostfd_t f, char *buf, size_t len)
{
	ssize_t n = readlinkat(f.fd, "", buf, len);
	return n < 0 ? -errno : n;
}

long ward_host_pread(ward_hostfd_t f, void *buf, size_t len, uint64_t off)
{
	ssize_t n;
	do
		n = pread(f.fd, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

long ward_host_read(ward_hostfd_t f, void *buf, size_t len)
{
	ssize_t n = read(f.fd, buf, len);
	return n < 0 ? -errno : n;
}

long ward_host_write(ward_hostfd_t f, const void *buf, size_t len)
{
	ssize_t n = write(f.fd, buf, len);
	return n < 0 ? -errno : n;
}

long ward_host_lseek(ward_hostfd_t f, int64_t off, int whence)
{
	off_t r = lseek(f.fd, (off_t)off, whence);
	return r < 0 ? -errno : (long)r;
}

long ward_host_getdents64(ward_hostfd_t f, uint64_t *pos, void *buf, size_t len)
{
	/* The host handle's own offset is shared by every guest description
	 * that uses it, so seek to the guest's position each time. */
	if (lseek(f.fd, (off_t)*pos, SEEK_SET) < 0)
		return -errno;
	long n = syscall(SYS_getdents64, f.fd, buf, len);
	if (n < 0)
		return -errno;
	off_t now = lseek(f.fd, 0, SEEK_CUR);
	if (now >= 0)
		*pos = (uint64_t)now;
	return n;
}

long ward_host_tcgets(ward_hostfd_t f, struct linux_termios *out)
{
	if (ioctl(f.fd, TCGETS, out) < 0)
		return -errno;
	return 0;
}

long ward_host_tiocgwinsz(ward_hostfd_t f, struct linux_winsize *out)
{
	if (ioctl(f.fd, TIOCGWINSZ, out) < 0)
		return -errno;
	return 0;
}

ward_hostfd_t ward_host_stdio(int which)
{
	if (which < 0 || which > 2)
		return WARD_HOSTFD_NONE;
	return (ward_hostfd_t){ which };
}

long ward_host_clock_gettime(int clockid, struct linux_timespec *out)
{
	struct timespec ts;
	if (clock_gettime(clockid, &ts) < 0)
		return -errno;
	out->tv_sec = ts.tv_sec;
	out->tv_nsec = ts.tv_nsec;
	return 0;
}

long ward_host_clock_getres(int clockid, struct linux_timespec *out)
{
	struct timespec ts;
	if (clock_getres(clockid, &ts) < 0)
		return -errno;
	out->tv_sec = ts.tv_sec;
	out->tv_nsec = ts.tv_nsec;
	return 0;
}

long ward_host_getrandom(void *buf, size_t len)
{
	ssize_t n;
	do
		n = getrandom(buf, len, 0);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

long ward_host_nanosleep(const struct linux_timespec *req, struct linux_timespec *rem)
{
	struct timespec r = { req->tv_sec, req->tv_nsec }, left = { 0, 0 };
	if (nanosleep(&r, &left) < 0) {
		if (rem) {
			rem->tv_sec = left.tv_sec;
			rem->tv_nsec = left.tv_nsec;
		}
		return -errno;
	}
	return 0;
}

long ward_host_uname(struct linux_utsname *out)
{
	_Static_assert(sizeof(struct utsname) == sizeof(struct linux_utsname), "utsname layout");
	struct utsname u;
	if (uname(&u) < 0)
		return -errno;
	memcpy(out, &u, sizeof(*out));
	return 0;
}

/* The CPUs the sentry was started with. Asked once, before any thread
 * exists: the platforms pin task threads to one CPU at a time (ptrace.c's
 * pin_together), so the calling thread's own mask would say 1. */
static int start_ncpus = 1;

__attribute__((constructor)) static void read_start_ncpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		start_ncpus = CPU_COUNT(&set);
}

int ward_host_ncpus(void)
{
	return start_ncpus;
}

int ward_host_has_vsyscall(void)
{
	static _Atomic int cached = -1;
	int v = atomic_load(&cached);
	if (v >= 0)
		return v;
	v = 0;
	FILE *f = fopen("/proc/self/maps", "re");
	if (f) {
		char line[512];
		while (fgets(line, sizeof(line), f))
			if (strstr(line, "[vsyscall]"))
				v = 1;
		fclose(f);
	}
	atomic_store(&cached, v);
	return v;
}

long ward_host_meminfo(uint64_t *total, uint64_t *free_bytes)
{
	struct sysinfo si;
	if (sysinfo(&si) < 0)
		return -errno;
	*total = (uint64_t)si.totalram * si.mem_unit;
	*free_bytes = (uint64_t)si.freeram * si.mem_unit;
	return 0;
}

/* --- Writable binds --------------------------------------------------------
 * ward do --volume HOST:GUEST:rw. These are the only host calls that change
 * host files. Why each is safe: dir and f were opened by ward_host_lookup
 * (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) or
 * ward_host_open_root, so they lie beneath a root the CLI handed in; name is
 * checked to be one component, and every *at call below acts on that
 * component itself without following it (creations with O_EXCL or their
 * own EEXIST, unlinkat and renameat2 never follow the last component). The
 * calls on f reach it through its /proc/self/fd entry, the kernel's own way
 * to name an O_PATH handle's object, and refuse symlinks first so that no
 * symlink is ever followed. */

static long checked_name(const char *name)
{
	if (!name_ok(name))
		return -EINVAL;
	if (strlen(name) > 255)
		return -ENAMETOOLONG;
	return 0;
}

long ward_host_create(ward_hostfd_t dir, const char *name, uint32_t mode)
{
	long r = checked_name(name);
	if (r < 0)
		return r;
	struct open_how how = {
		.flags = (uint64_t)(O_CLOEXEC | O_NOFOLLOW | O_CREAT | O_EXCL | O_WRONLY | O_NOCTTY),
		.mode = mode & 07777,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dir.fd, name, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

long ward_host_mkdir(ward_hostfd_t dir, const char *name, uint32_t mode)
{
	long r = checked_name(name);
	if (r < 0)
		return r;
	return mkdirat(dir.fd, name, mode & 07777) < 0 ? -errno : 0;
}

long ward_host_mknod(ward_hostfd_t dir, const char *name, uint32_t mode)
{
	long r = checked_name(name);
	if (r < 0)
		return r;
	if (!S_ISFIFO(mode) && !S_ISREG(mode))
		return -EPERM; /* no host devices or sockets from a sandbox */
	return mknodat(dir.fd, name, mode & (S_IFMT | 07777), 0) < 0 ? -errno : 0;
}

long ward_host_symlink(ward_hostfd_t dir, const char *name, const char *target)
{
	long r = checked_name(name);
	if (r < 0)
		return r;
	return symlinkat(target, dir.fd, name) < 0 ? -errno : 0;
}

static int is_symlink_fd(int fd)
{
	struct stat st;
	return fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

long ward_host_link(ward_hostfd_t f, ward_hostfd_t dir, const char *name)
{
	long r = checked_name(name);
	if (r < 0)
		return r;
	if (is_symlink_fd(f.fd))
		return -EOPNOTSUPP;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f.fd);
	return linkat(AT_FDCWD, proc, dir.fd, name, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
}

long ward_host_unlink(ward_hostfd_t dir, const char *name, int is_dir)
{
	long r = checked_name(name);
	if (r < 0)
		return r;
	return unlinkat(dir.fd, name, is_dir ? AT_REMOVEDIR : 0) < 0 ? -errno : 0;
}

long ward_host_rename(ward_hostfd_t odir, const char *oname, ward_hostfd_t ndir, const char *nname, unsigned int flags)
{
	long r = checked_name(oname);
	if (r >= 0)
		r = checked_name(nname);
	if (r < 0)
		return r;
	if (flags & ~(unsigned int)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	return syscall(SYS_renameat2, odir.fd, oname, ndir.fd, nname, flags) < 0 ? -errno : 0;
}

long ward_host_chmod(ward_hostfd_t f, uint32_t mode)
{
	if (is_symlink_fd(f.fd))
		return -EOPNOTSUPP;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f.fd);
	return chmod(proc, mode & 07777) < 0 ? -errno : 0;
}

long ward_host_chown(ward_hostfd_t f, uint32_t uid, uint32_t gid)
{
	return fchownat(f.fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

long ward_host_utimens(ward_hostfd_t f, const struct linux_timespec ts[2])
{
	if (is_symlink_fd(f.fd))
		return -EOPNOTSUPP;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f.fd);
	struct timespec t[2] = { { ts[0].tv_sec, ts[0].tv_nsec }, { ts[1].tv_sec, ts[1].tv_nsec } };
	return utimensat(AT_FDCWD, proc, t, 0) < 0 ? -errno : 0;
}

long ward_host_truncate(ward_hostfd_t f, uint64_t size)
{
	if (is_symlink_fd(f.fd))
		return -EINVAL;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f.fd);
	return truncate(proc, (off_t)size) < 0 ? -errno : 0;
}

long ward_host_reopen_write(ward_hostfd_t f, ward_hostfd_t *out)
{
	if (is_symlink_fd(f.fd))
		return -ELOOP;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f.fd);
	int fd = open(proc, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	*out = (ward_hostfd_t){ fd };
	return 0;
}

long ward_host_pwrite(ward_hostfd_t f, const void *buf, size_t len, uint64_t off)
{
	ssize_t n;
	do
		n = pwrite(f.fd, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

unsigned int ward_host_poll_now(ward_hostfd_t f, unsigned int events)
{
	struct pollfd p = { f.fd, (short)events, 0 };
	if (poll(&p, 1, 0) < 0)
		return POLLERR;
	return (unsigned short)p.revents;
}
