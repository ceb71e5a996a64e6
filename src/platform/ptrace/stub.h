/* Layout of the ptrace stub, shared by stub.S and ptrace.c. */
#ifndef WARD_PTRACE_STUB_H
#define WARD_PTRACE_STUB_H

/* The top of the x86-64 user address space (TASK_SIZE_MAX). */
#define WARD_PTRACE_TASK_TOP 0x7ffffffff000
/* The stub page sits just below the top; the guest gets everything under
 * it. Only the stub child maps it, and the child is forked from a sentry
 * task thread, whose stack (a pthread stack) is never this high. */
#define WARD_PTRACE_STUB_BASE 0x7fffffff0000
#define WARD_PTRACE_STUB_SIZE 0x1000

#endif
