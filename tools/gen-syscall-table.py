#!/usr/bin/env python3
"""Generates src/sentry/syscalls/table.def from the host's asm/unistd_64.h.

Run once to create the table; after that the table is edited by hand (it is
the compatibility document). Kept for reference and for new kernels' calls.
"""
import re
import sys

IMPL = {
    # name: (handler, support, strace format, note)
    "read": ("sys_read", "FULL", "dBu", ""),
    "write": ("sys_write", "FULL", "dbu", ""),
    "open": ("sys_open", "PARTIAL", "som", "read-only root: write access gives EROFS"),
    "close": ("sys_close", "FULL", "d", ""),
    "stat": ("sys_stat", "FULL", "sp", ""),
    "fstat": ("sys_fstat", "FULL", "dp", ""),
    "lstat": ("sys_lstat", "FULL", "sp", ""),
    "lseek": ("sys_lseek", "FULL", "dlw", ""),
    "mmap": ("sys_mmap", "PARTIAL", "puPMdx", "MAP_SHARED file maps are private copies (read-only root)"),
    "mprotect": ("sys_mprotect", "FULL", "puP", ""),
    "munmap": ("sys_munmap", "FULL", "pu", ""),
    "brk": ("sys_brk", "FULL", "p", ""),
    "rt_sigaction": ("sys_rt_sigaction", "PARTIAL", "Sppu", "bookkeeping only: delivery comes with the process issue"),
    "rt_sigprocmask": ("sys_rt_sigprocmask", "PARTIAL", "dppu", "bookkeeping only"),
    "ioctl": ("sys_ioctl", "PARTIAL", "dxx", "TCGETS, TIOCGWINSZ on inherited ttys, FIOCLEX, FIONCLEX; ENOTTY otherwise"),
    "pread64": ("sys_pread64", "FULL", "dBul", ""),
    "pwrite64": ("sys_pwrite64", "FULL", "dbul", ""),
    "readv": ("sys_readv", "FULL", "dpd", ""),
    "writev": ("sys_writev", "FULL", "dpd", ""),
    "access": ("sys_access", "FULL", "so", ""),
    "sched_yield": ("sys_sched_yield", "FULL", "", ""),
    "mremap": ("sys_mremap", "FULL", "puuxp", ""),
    "madvise": ("sys_madvise", "PARTIAL", "pud", "MADV_DONTNEED zeroes; other advice is accepted and ignored as hints"),
    "dup": ("sys_dup", "FULL", "d", ""),
    "dup2": ("sys_dup2", "FULL", "dd", ""),
    "nanosleep": ("sys_nanosleep", "FULL", "pp", ""),
    "getpid": ("sys_getpid", "FULL", "", ""),
    "exit": ("sys_exit", "PARTIAL", "d", "single-threaded tasks: ends the process"),
    "uname": ("sys_uname", "FULL", "p", ""),
    "fcntl": ("sys_fcntl", "PARTIAL", "dxx", "F_DUPFD(_CLOEXEC), F_GETFD/SETFD, F_GETFL/SETFL; locks come with the VFS issue"),
    "getdents64": ("sys_getdents64", "FULL", "dpu", ""),
    "getcwd": ("sys_getcwd", "FULL", "pu", ""),
    "chdir": ("sys_chdir", "FULL", "s", ""),
    "fchdir": ("sys_fchdir", "FULL", "d", ""),
    "readlink": ("sys_readlink", "FULL", "spu", ""),
    "umask": ("sys_umask", "FULL", "o", ""),
    "gettimeofday": ("sys_gettimeofday", "FULL", "pp", ""),
    "getrlimit": ("sys_getrlimit", "FULL", "dp", ""),
    "getuid": ("sys_getuid", "FULL", "", ""),
    "getgid": ("sys_getgid", "FULL", "", ""),
    "geteuid": ("sys_geteuid", "FULL", "", ""),
    "getegid": ("sys_getegid", "FULL", "", ""),
    "getppid": ("sys_getppid", "FULL", "", ""),
    "getresuid": ("sys_getresuid", "FULL", "ppp", ""),
    "getresgid": ("sys_getresgid", "FULL", "ppp", ""),
    "sigaltstack": ("sys_sigaltstack", "PARTIAL", "pp", "bookkeeping only"),
    "statfs": ("sys_statfs", "FULL", "sp", ""),
    "fstatfs": ("sys_fstatfs", "FULL", "dp", ""),
    "arch_prctl": ("sys_arch_prctl", "PARTIAL", "xx", "ARCH_SET_FS/GET_FS/SET_GS/GET_GS; CPUID faulting is EINVAL"),
    "setrlimit": ("sys_setrlimit", "FULL", "dp", ""),
    "gettid": ("sys_gettid", "FULL", "", ""),
    "time": ("sys_time", "FULL", "p", ""),
    "sched_getaffinity": ("sys_sched_getaffinity", "FULL", "dup", ""),
    "set_tid_address": ("sys_set_tid_address", "FULL", "p", ""),
    "clock_gettime": ("sys_clock_gettime", "PARTIAL", "kp", "CPU-time clocks report the sentry's; per-task clocks come with the process issue"),
    "clock_getres": ("sys_clock_getres", "FULL", "kp", ""),
    "clock_nanosleep": ("sys_clock_nanosleep", "FULL", "kxpp", ""),
    "exit_group": ("sys_exit_group", "FULL", "d", ""),
    "openat": ("sys_openat", "PARTIAL", "Fsom", "read-only root: write access gives EROFS"),
    "newfstatat": ("sys_newfstatat", "FULL", "Fspx", ""),
    "readlinkat": ("sys_readlinkat", "FULL", "Fspu", ""),
    "faccessat": ("sys_faccessat", "FULL", "Fso", ""),
    "set_robust_list": ("sys_set_robust_list", "PARTIAL", "pu", "recorded; acted on at thread exit with the process issue"),
    "get_robust_list": ("sys_get_robust_list", "FULL", "dpp", ""),
    "dup3": ("sys_dup3", "FULL", "ddx", ""),
    "prlimit64": ("sys_prlimit64", "PARTIAL", "ddpp", "pid 0 or self only"),
    "getrandom": ("sys_getrandom", "FULL", "pux", ""),
    "statx": ("sys_statx", "FULL", "Fsxxp", ""),
    "faccessat2": ("sys_faccessat2", "FULL", "Fsox", ""),
    "preadv": ("sys_preadv", "FULL", "dpdl", ""),
    "pwritev": ("sys_pwritev", "FULL", "dpdl", ""),
    "preadv2": ("sys_preadv2", "PARTIAL", "dpdlx", "any RWF_* flag gives EOPNOTSUPP"),
    "pwritev2": ("sys_pwritev2", "PARTIAL", "dpdlx", "as preadv2"),
    "rt_sigpending": ("sys_rt_sigpending", "PARTIAL", "pu", "nothing is ever pending until signal delivery comes"),
    "sched_setaffinity": ("sys_sched_setaffinity", "PARTIAL", "dup", "checked and recorded; the sentry does not pin threads"),
    "getgroups": ("sys_getgroups", "FULL", "dp", ""),
    "getpgid": ("sys_getpgid", "PARTIAL", "d", "one process: its own group"),
    "getpgrp": ("sys_getpgrp", "FULL", "", ""),
    "getsid": ("sys_getsid", "PARTIAL", "d", "one process: its own session"),
    "rseq": ("sys_rseq", "NONE", "pudx", "ENOSYS, on purpose and silently: glibc runs without it"),
    "futex": ("sys_futex", "PARTIAL", "pdupxx", "one thread per process: WAIT and WAKE (with BITSET); the rest ENOSYS until the process issue"),
    "prctl": ("sys_prctl", "PARTIAL", "dxxxx", "PR_SET/GET_NAME, PR_SET/GET_PDEATHSIG, PR_SET/GET_DUMPABLE, PR_SET/GET_NO_NEW_PRIVS, PR_GET_SECCOMP; others EINVAL"),
}

def main():
    hdr = open("/usr/include/x86_64-linux-gnu/asm/unistd_64.h").read()
    rows = re.findall(r"#define __NR_(\w+) (\d+)", hdr)
    out = ["/* The x86-64 system-call table: the dispatch table, strace's names and",
           " * argument formats, and the compatibility document, all in one place.",
           " *",
           " * SYSCALL(number, name, handler, support, format, note)",
           " *   handler: sys_ni_syscall for calls not implemented (ENOSYS, reported once).",
           " *   support: FULL (as Linux), PARTIAL (note says what is missing; what is",
           " *            missing returns an error, never silence), NONE (ENOSYS).",
           " *   format: one letter per argument for --strace (see strace.c).",
           " */"]
    for name, nr in rows:
        h, sup, fmt, note = IMPL.get(name, (None, "NONE", "xxxxxx", "ENOSYS: not implemented yet"))
        out.append('SYSCALL(%s, "%s", %s, %s, "%s", "%s")' % (nr, name, h or "sys_ni_syscall", sup, fmt, note))
    sys.stdout.write("\n".join(out) + "\n")

main()
