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
	if (flags & WARD_HOST_READ)
		how.flags |= O_RDONLY | O_NOCTTY;
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
	if (f.fd >= 0)
		close(f.fd);
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

int ward_host_ncpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 1;
	int n = CPU_COUNT(&set);
	return n > 0 ? n : 1;
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

unsigned int ward_host_poll_now(ward_hostfd_t f, unsigned int events)
{
	struct pollfd p = { f.fd, (short)events, 0 };
	if (poll(&p, 1, 0) < 0)
		return POLLERR;
	return (unsigned short)p.revents;
}
