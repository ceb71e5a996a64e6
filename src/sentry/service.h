/* The service prelude. Every file of a checked service (src/sentry/syscalls,
 * kernel, mm, loader; src/fs; src/net) includes this header first.
 *
 * It brings in the libc headers a service may use (pure computation:
 * strings, memory, formatting into buffers) and the core's API, and then
 * poisons the names of host system-call wrappers and other ways out of the
 * sandbox, so that a service that tries to use one does not compile. The
 * build's boundary check (tools/check-boundary.sh) checks the objects too,
 * since a poison list alone can be slipped past. */
#ifndef WARD_SERVICE_H
#define WARD_SERVICE_H

#ifdef WARD_CORE
#error "the service prelude is for services; core files include their own headers"
#endif

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "ward/abi/linux.h"
#include "ward/cleanup.h"
#include "ward/core.h"
#include "ward/guest.h"
#include "ward/host.h"
#include "ward/memfile.h"
#include "ward/platform.h"
#include "ward/sched.h"
#include "ward/types.h"

/* Host system calls and their libc wrappers: only the core makes them. */
#pragma GCC poison syscall open openat openat2 creat close read write pread pwrite pread64 pwrite64
#pragma GCC poison readv writev preadv pwritev lseek lseek64 mmap mmap64 munmap mprotect mremap madvise
#pragma GCC poison brk sbrk ioctl fcntl dup dup2 dup3 pipe pipe2 fork vfork clone execve execv execvp
#pragma GCC poison execl execlp execle fexecve ptrace kill tkill tgkill raise sigaction signal sigprocmask
#pragma GCC poison pthread_sigmask socket connect bind listen accept accept4 send sendto sendmsg recv
#pragma GCC poison recvfrom recvmsg socketpair getsockopt setsockopt shutdown select poll ppoll
#pragma GCC poison epoll_create epoll_create1 epoll_ctl epoll_wait mount umount umount2 chroot pivot_root
#pragma GCC poison unlink unlinkat rmdir mkdir mkdirat rename renameat link linkat symlink symlinkat
#pragma GCC poison chmod fchmod chown fchown truncate ftruncate fallocate fsync fdatasync sync readlink
#pragma GCC poison readlinkat getdents getdents64 opendir fdopendir readdir closedir prctl seccomp setns
#pragma GCC poison unshare memfd_create process_vm_readv process_vm_writev nanosleep clock_nanosleep usleep
#pragma GCC poison sleep clock_gettime gettimeofday getpid gettid getppid getuid geteuid getgid getegid
#pragma GCC poison uname getrandom pthread_create dlopen dlsym getrlimit setrlimit prlimit
#pragma GCC poison sched_setaffinity sched_getaffinity sched_yield sched_setscheduler sched_getcpu
/* Streams and the sentry's own environment are host state too. */
#pragma GCC poison fopen fdopen freopen fclose fread fwrite fputs fputc puts putchar printf fprintf
#pragma GCC poison vprintf vfprintf dprintf vdprintf perror fflush getchar fgets scanf fscanf system
#pragma GCC poison popen pclose getenv setenv putenv exit _exit _Exit
/* Inline assembly could make a system call without naming one. */
#pragma GCC poison asm __asm__ __asm

#endif
