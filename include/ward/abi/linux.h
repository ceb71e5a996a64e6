/* Linux x86-64 ABI structures, as the guest sees them. Each layout is
 * pinned with compile-time asserts so that a copy of the whole struct is
 * exactly what the kernel would have written. */
#ifndef WARD_ABI_LINUX_H
#define WARD_ABI_LINUX_H

#include <stddef.h>
#include <stdint.h>

struct linux_timespec {
	int64_t tv_sec;
	int64_t tv_nsec;
};
_Static_assert(sizeof(struct linux_timespec) == 16, "timespec");

struct linux_timeval {
	int64_t tv_sec;
	int64_t tv_usec;
};
_Static_assert(sizeof(struct linux_timeval) == 16, "timeval");

struct linux_timezone {
	int32_t tz_minuteswest;
	int32_t tz_dsttime;
};

/* struct stat of x86-64 (asm/stat.h). */
struct linux_stat {
	uint64_t st_dev;
	uint64_t st_ino;
	uint64_t st_nlink;
	uint32_t st_mode;
	uint32_t st_uid;
	uint32_t st_gid;
	uint32_t pad0;
	uint64_t st_rdev;
	int64_t st_size;
	int64_t st_blksize;
	int64_t st_blocks;
	struct linux_timespec st_atim;
	struct linux_timespec st_mtim;
	struct linux_timespec st_ctim;
	int64_t unused[3];
};
_Static_assert(sizeof(struct linux_stat) == 144, "stat");
_Static_assert(offsetof(struct linux_stat, st_mode) == 24, "stat.st_mode");
_Static_assert(offsetof(struct linux_stat, st_size) == 48, "stat.st_size");
_Static_assert(offsetof(struct linux_stat, st_atim) == 72, "stat.st_atim");

struct linux_statx_timestamp {
	int64_t tv_sec;
	uint32_t tv_nsec;
	int32_t reserved;
};

struct linux_statx {
	uint32_t stx_mask;
	uint32_t stx_blksize;
	uint64_t stx_attributes;
	uint32_t stx_nlink;
	uint32_t stx_uid;
	uint32_t stx_gid;
	uint16_t stx_mode;
	uint16_t spare0;
	uint64_t stx_ino;
	uint64_t stx_size;
	uint64_t stx_blocks;
	uint64_t stx_attributes_mask;
	struct linux_statx_timestamp stx_atime;
	struct linux_statx_timestamp stx_btime;
	struct linux_statx_timestamp stx_ctime;
	struct linux_statx_timestamp stx_mtime;
	uint32_t stx_rdev_major;
	uint32_t stx_rdev_minor;
	uint32_t stx_dev_major;
	uint32_t stx_dev_minor;
	uint64_t stx_mnt_id;
	uint32_t stx_dio_mem_align;
	uint32_t stx_dio_offset_align;
	uint64_t spare3[12];
};
_Static_assert(sizeof(struct linux_statx) == 256, "statx");
_Static_assert(offsetof(struct linux_statx, stx_atime) == 64, "statx.stx_atime");
_Static_assert(offsetof(struct linux_statx, stx_rdev_major) == 128, "statx.stx_rdev_major");

#define LINUX_STATX_TYPE 0x1U
#define LINUX_STATX_MODE 0x2U
#define LINUX_STATX_NLINK 0x4U
#define LINUX_STATX_UID 0x8U
#define LINUX_STATX_GID 0x10U
#define LINUX_STATX_ATIME 0x20U
#define LINUX_STATX_MTIME 0x40U
#define LINUX_STATX_CTIME 0x80U
#define LINUX_STATX_INO 0x100U
#define LINUX_STATX_SIZE 0x200U
#define LINUX_STATX_BLOCKS 0x400U
#define LINUX_STATX_BASIC_STATS 0x7ffU
#define LINUX_STATX_BTIME 0x800U
#define LINUX_STATX_MNT_ID 0x1000U
#define LINUX_STATX__RESERVED 0x80000000U

struct linux_statfs {
	int64_t f_type;
	int64_t f_bsize;
	uint64_t f_blocks;
	uint64_t f_bfree;
	uint64_t f_bavail;
	uint64_t f_files;
	uint64_t f_ffree;
	int32_t f_fsid[2];
	int64_t f_namelen;
	int64_t f_frsize;
	int64_t f_flags;
	int64_t f_spare[4];
};
_Static_assert(sizeof(struct linux_statfs) == 120, "statfs");

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[];
};
_Static_assert(offsetof(struct linux_dirent64, d_name) == 19, "dirent64");

struct linux_utsname {
	char sysname[65];
	char nodename[65];
	char release[65];
	char version[65];
	char machine[65];
	char domainname[65];
};
_Static_assert(sizeof(struct linux_utsname) == 390, "utsname");

struct linux_iovec {
	uint64_t iov_base;
	uint64_t iov_len;
};
_Static_assert(sizeof(struct linux_iovec) == 16, "iovec");

struct linux_rlimit {
	uint64_t rlim_cur;
	uint64_t rlim_max;
};

/* The kernel's struct termios (asm-generic/termbits.h), not glibc's. */
struct linux_termios {
	uint32_t c_iflag;
	uint32_t c_oflag;
	uint32_t c_cflag;
	uint32_t c_lflag;
	uint8_t c_line;
	uint8_t c_cc[19];
};
_Static_assert(sizeof(struct linux_termios) == 36, "termios");

struct linux_winsize {
	uint16_t ws_row;
	uint16_t ws_col;
	uint16_t ws_xpixel;
	uint16_t ws_ypixel;
};

/* The kernel's struct sigaction for rt_sigaction (x86-64). */
struct linux_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};
_Static_assert(sizeof(struct linux_sigaction) == 32, "sigaction");

struct linux_stack {
	uint64_t ss_sp;
	int32_t ss_flags;
	int32_t pad;
	uint64_t ss_size;
};

struct linux_robust_list_head {
	uint64_t list;
	int64_t futex_offset;
	uint64_t list_op_pending;
};

struct linux_sysinfo {
	int64_t uptime;
	uint64_t loads[3];
	uint64_t totalram;
	uint64_t freeram;
	uint64_t sharedram;
	uint64_t bufferram;
	uint64_t totalswap;
	uint64_t freeswap;
	uint16_t procs;
	uint16_t pad;
	uint64_t totalhigh;
	uint64_t freehigh;
	uint32_t mem_unit;
	char _f[0];
};
_Static_assert(sizeof(struct linux_sysinfo) == 112, "sysinfo");

#endif
