/* The host door: the only way services reach the host. Every path is
 * confined beneath a sandbox root the CLI handed in, one component at a
 * time; every descriptor is a ward_hostfd_t that only these functions can
 * use, since services cannot make host system calls.
 *
 * All functions return >= 0 on success and -errno on failure. */
#ifndef WARD_HOST_H
#define WARD_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "ward/abi/linux.h"

typedef struct {
	int fd;
} ward_hostfd_t;

#define WARD_HOSTFD_NONE ((ward_hostfd_t){ -1 })

static inline int ward_hostfd_valid(ward_hostfd_t f)
{
	return f.fd >= 0;
}

/* Flags for ward_host_lookup. */
#define WARD_HOST_PATH 0x1 /* an O_PATH handle: stat, lookup, readlink */
#define WARD_HOST_READ 0x2 /* open for reading (never blocks: O_NONBLOCK) */
#define WARD_HOST_DIRECTORY 0x4 /* fail with ENOTDIR unless a directory */

/* Opens a directory of the host as a sandbox root (setup code only: the
 * CLI calls this before the guest starts). */
long ward_host_open_root(const char *host_path, ward_hostfd_t *out);
/* Opens the single component name beneath the directory dir. name may not
 * contain '/' nor be "." or ".."; symlinks are never followed (the VFS
 * follows them itself, in the guest's view) and magic links and escapes are
 * refused by the host kernel (openat2 RESOLVE_BENEATH). */
long ward_host_lookup(ward_hostfd_t dir, const char *name, int flags, ward_hostfd_t *out);
/* Reopens an O_PATH handle with other flags (WARD_HOST_READ). */
long ward_host_reopen(ward_hostfd_t path, int flags, ward_hostfd_t *out);
/* Duplicates a host handle (for fds shared by dup). */
long ward_host_dup(ward_hostfd_t f, ward_hostfd_t *out);
void ward_host_close(ward_hostfd_t f);

/* statx of the handle itself, translated into the guest ABI. */
long ward_host_statx(ward_hostfd_t f, struct linux_statx *out);
long ward_host_statfs(ward_hostfd_t f, struct linux_statfs *out);
/* Reads the target of the symlink that f (an O_PATH handle) names. */
long ward_host_readlink(ward_hostfd_t f, char *buf, size_t len);
long ward_host_pread(ward_hostfd_t f, void *buf, size_t len, uint64_t off);
/* Reads at the host file's own offset (pipes and ttys the sandbox inherited). */
long ward_host_read(ward_hostfd_t f, void *buf, size_t len);
long ward_host_write(ward_hostfd_t f, const void *buf, size_t len);
long ward_host_lseek(ward_hostfd_t f, int64_t off, int whence);
/* Reads directory entries of f from the directory offset *pos: fills buf
 * with linux_dirent64 records and advances *pos. Returns bytes filled. */
long ward_host_getdents64(ward_hostfd_t f, uint64_t *pos, void *buf, size_t len);
/* Terminal queries on an inherited descriptor: TCGETS and TIOCGWINSZ. */
long ward_host_tcgets(ward_hostfd_t f, struct linux_termios *out);
long ward_host_tiocgwinsz(ward_hostfd_t f, struct linux_winsize *out);

/* poll(2) of one host descriptor without waiting: the revents. */
unsigned int ward_host_poll_now(ward_hostfd_t f, unsigned int events);

/* The stdin, stdout and stderr the sandbox inherited. */
ward_hostfd_t ward_host_stdio(int which);

/* Time and randomness. */
long ward_host_clock_gettime(int clockid, struct linux_timespec *out);
long ward_host_clock_getres(int clockid, struct linux_timespec *out);
long ward_host_getrandom(void *buf, size_t len);
/* Sleeps on the calling sentry thread. -EINTR when interrupted. */
long ward_host_nanosleep(const struct linux_timespec *req, struct linux_timespec *rem);
/* The host's uname, for the fields the sentry passes through (machine). */
long ward_host_uname(struct linux_utsname *out);
/* The host's memory in bytes, total and free (for sysinfo and meminfo). */
long ward_host_meminfo(uint64_t *total, uint64_t *free_bytes);

/* Whether the host maps the legacy vsyscall page into its processes (it
 * does unless booted with vsyscall=none). Then the guest has it too: the
 * host kernel emulates its calls, which reach the platform as system
 * calls, and /proc/self/maps shows it. */
int ward_host_has_vsyscall(void);
/* Number of host CPUs the sentry may use. */
int ward_host_ncpus(void);

/* Writable binds (ward do --volume HOST:GUEST:rw): the only host calls that
 * change host files. Each names one component (no '/', not "." nor "..")
 * beneath a directory handle that ward_host_lookup confined beneath the
 * volume's root, and none follows a symlink in that component, so a guest
 * can change nothing outside the directories it was given. Handles passed
 * as f are O_PATH handles from ward_host_lookup. */

/* Creates the regular file name (O_EXCL) with mode; -EEXIST if it exists. */
long ward_host_create(ward_hostfd_t dir, const char *name, uint32_t mode);
long ward_host_mkdir(ward_hostfd_t dir, const char *name, uint32_t mode);
/* A fifo's or a regular file's inode (S_IFIFO / S_IFREG in mode). */
long ward_host_mknod(ward_hostfd_t dir, const char *name, uint32_t mode);
long ward_host_symlink(ward_hostfd_t dir, const char *name, const char *target);
/* A new name for the (non-directory) object behind f. */
long ward_host_link(ward_hostfd_t f, ward_hostfd_t dir, const char *name);
/* unlinkat, with AT_REMOVEDIR when is_dir. */
long ward_host_unlink(ward_hostfd_t dir, const char *name, int is_dir);
/* renameat2 with RENAME_NOREPLACE / RENAME_EXCHANGE. */
long ward_host_rename(ward_hostfd_t odir, const char *oname, ward_hostfd_t ndir, const char *nname, unsigned int flags);
/* Attribute changes of the object behind f (not a symlink's target: a
 * symlink's own mode and times are left alone, -EOPNOTSUPP). */
long ward_host_chmod(ward_hostfd_t f, uint32_t mode);
long ward_host_chown(ward_hostfd_t f, uint32_t uid, uint32_t gid);
/* ts[0] is the access time, ts[1] the modification time; a tv_nsec of
 * UTIME_OMIT keeps one. */
long ward_host_utimens(ward_hostfd_t f, const struct linux_timespec ts[2]);
long ward_host_truncate(ward_hostfd_t f, uint64_t size);
/* Reopens the O_PATH handle f for reading and writing. */
long ward_host_reopen_write(ward_hostfd_t f, ward_hostfd_t *out);
long ward_host_pwrite(ward_hostfd_t f, const void *buf, size_t len, uint64_t off);

/* --- Host sockets and host readiness (src/sentry/core/hostnet.c) ----------
 * AF_INET/AF_INET6 stream and datagram sockets and AF_NETLINK NETLINK_ROUTE
 * sockets, opened in the sandbox's own network namespace. A ward_hostsock_t
 * is a separate type from ward_hostfd_t, and the core also records which
 * descriptors it handed out as sockets, so no handle a service makes up can
 * reach any other host descriptor through these calls. Every host socket is
 * non-blocking: services block on their own wait queues, woken by the
 * core's event thread (ward_host_watch). */

typedef struct {
	int fd;
} ward_hostsock_t;

#define WARD_HOSTSOCK_NONE ((ward_hostsock_t){ -1 })

/* What ward do --network= chose: a namespace of the sandbox's own with only
 * loopback (NONE), or the host's (HOST). Setup code: called by the CLI
 * before any sentry thread starts, since a network namespace is per
 * thread and threads inherit it. With CAP_SYS_ADMIN the namespace is made
 * only when the sandbox first needs a host socket (most programs never
 * do); without, a user namespace is needed for it, which only a
 * single-threaded process can make, so it is made now. Either way no host
 * socket is ever made outside it. */
enum ward_network { WARD_NETWORK_NONE, WARD_NETWORK_HOST };
long ward_host_net_init(enum ward_network mode, char *err, size_t errlen);

/* socket(2) of domain AF_INET or AF_INET6 with SOCK_STREAM (protocol 0 or
 * IPPROTO_TCP) or SOCK_DGRAM (0 or IPPROTO_UDP), or AF_NETLINK with
 * SOCK_RAW or SOCK_DGRAM and NETLINK_ROUTE; anything else -EPERM. */
long ward_host_socket(int domain, int type, int protocol, ward_hostsock_t *out);
void ward_host_sock_close(ward_hostsock_t s);
/* Addresses are sockaddr images of at most 128 bytes whose family matches
 * the socket's; a netlink socket may only connect to the kernel. */
long ward_host_sock_bind(ward_hostsock_t s, const void *addr, uint32_t len);
long ward_host_sock_connect(ward_hostsock_t s, const void *addr, uint32_t len);
long ward_host_sock_listen(ward_hostsock_t s, int backlog);
/* accept4 of a pending connection (never waits); *addrlen in: the room
 * at addr, out: the full length. */
long ward_host_sock_accept(ward_hostsock_t s, ward_hostsock_t *out, void *addr, uint32_t *addrlen);
long ward_host_sock_shutdown(ward_hostsock_t s, int how);
long ward_host_sock_getname(ward_hostsock_t s, int peer, void *addr, uint32_t *addrlen);
/* getsockopt of options whose reading only reads, setsockopt of those
 * whose value is plain data and that need no privilege (the lists are in
 * hostnet.c); others -ENOPROTOOPT, and -EPERM for those Linux keeps for a
 * network capability. val holds at most 256 bytes. */
long ward_host_sock_getopt(ward_hostsock_t s, int level, int name, void *val, uint32_t *len);
long ward_host_sock_setopt(ward_hostsock_t s, int level, int name, const void *val, uint32_t len);
/* FIONREAD (SIOCINQ) and TIOCOUTQ (SIOCOUTQ). */
long ward_host_sock_queued(ward_hostsock_t s, int outq);

/* One message to or from a host socket, never waiting (MSG_DONTWAIT and
 * MSG_NOSIGNAL are always added; other flags outside a plain-data set are
 * -EINVAL). Data moves between the socket and guest memory directly (the
 * host kernel copies to or from the memory file: no copy in the sentry) when
 * as is set, else between the socket and the sentry buffer buf. For guest
 * memory, only the readable (send) or writable (recv) prefix of the iovecs
 * moves; if it is empty while some length was asked for, -EFAULT. Netlink
 * sockets only send from sentry buffers, and only get-requests (RTM_GET*),
 * which the core checks in its own copy. ctl is control data: on send only
 * IPPROTO_IP/IPPROTO_IPV6 messages; on recv what the host gave, with *ctllen
 * in: room, out: length. *msg_flags gets the host's msg_flags. */
struct ward_host_msg {
	struct ward_as *as;
	const struct ward_iovec *iov;
	int iovcnt;
	void *buf;
	size_t len;
	void *addr;
	uint32_t addrlen;
	void *ctl;
	size_t ctllen;
	int msg_flags;
};
long ward_host_sock_sendmsg(ward_hostsock_t s, struct ward_host_msg *m, int flags);
long ward_host_sock_recvmsg(ward_hostsock_t s, struct ward_host_msg *m, int flags);

/* The interface queries of ioctl(2) on any socket (SIOCGIFNAME,
 * SIOCGIFINDEX, SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFNETMASK, SIOCGIFMTU,
 * SIOCGIFHWADDR...: reads only, of the sandbox's namespace) on a 40-byte
 * struct ifreq image; other commands -ENOTTY. */
long ward_host_net_ifreq(unsigned int cmd, void *ifr);

/* Readiness without polling: the core's event thread (one epoll of its own)
 * watches host descriptors, edge-triggered, and on any change calls the
 * handler the kernel registered, with the kernel lock held and the cookie
 * given at watch time. ward_host_watch returns -EPERM for a descriptor that
 * cannot be watched (a regular file: always ready). */
void ward_host_set_ready_handler(void (*fn)(uint64_t cookie));
long ward_host_watch(ward_hostfd_t f, uint64_t cookie);
long ward_host_sock_watch(ward_hostsock_t s, uint64_t cookie);
/* poll(2) of a host socket without waiting: the revents. */
unsigned int ward_host_sock_poll_now(ward_hostsock_t s, unsigned int events);

#endif
