/* The ptrace stub: position-independent code that the stub child copies to
 * WARD_PTRACE_STUB_BASE. It uses no stack, since the stack is among the
 * things it unmaps. */
#include "stub.h"

	.section .text
	.globl ward__ptrace_stub_code
	.globl ward__ptrace_stub_code_end
	.globl ward__ptrace_stub_syscall
	.p2align 12
ward__ptrace_stub_code:
	/* Entry: drop every mapping the child inherited from the sentry, below
	 * and above the stub page, so that the guest address space starts
	 * empty. */
	mov $11, %eax /* munmap */
	xor %edi, %edi
	movabs $WARD_PTRACE_STUB_BASE, %rsi
	syscall
	mov $11, %eax
	movabs $(WARD_PTRACE_STUB_BASE + WARD_PTRACE_STUB_SIZE), %rdi
	movabs $(WARD_PTRACE_TASK_TOP - WARD_PTRACE_STUB_BASE - WARD_PTRACE_STUB_SIZE), %rsi
	syscall
	/* Tell the tracer the stub is ready. */
	int3
	/* The injection point (WARD_PTRACE_STUB_SYSCALL): the tracer sets the
	 * registers of one host syscall, resumes here and waits for the trap. */
	.p2align 4
ward__ptrace_stub_syscall:
1:
	syscall
	int3
	jmp 1b
ward__ptrace_stub_code_end:
	.section .note.GNU-stack,"",@progbits
