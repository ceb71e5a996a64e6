/* The seccomp stub: position-dependent code that the stub child copies to
 * WARD_SECCOMP_STUB_BASE (two pages: code, then the trap page).
 *
 * The control thread uses no memory but the read-only control page, and
 * guest threads use their own region only, so that a guest, which can write
 * everything else in the stub's address space, cannot steer them. */
#include "seccomp_stub.h"

#define SYS_write 1
#define SYS_munmap 11
#define SYS_rt_sigreturn 15
#define SYS_rt_sigprocmask 14
#define SYS_getpid 39
#define SYS_clone 56
#define SYS_exit 60
#define SYS_sigaltstack 131
#define SYS_futex 202
#define SYS_seccomp 317
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1

	.section .text
	.globl ward__seccomp_stub_code
	.globl ward__seccomp_stub_code_end
	.globl ward__seccomp_stub_handler
	.globl ward__seccomp_stub_restorer
	.p2align 12
ward__seccomp_stub_code:
	/* Entry: drop every mapping the child inherited from the sentry, so the
	 * guest address space starts empty; keep the stub area. */
	mov $SYS_munmap, %eax
	xor %edi, %edi
	movabs $WARD_SECCOMP_STUB_BASE, %rsi
	syscall
	mov $SYS_munmap, %eax
	movabs $(WARD_SECCOMP_STATUS + 0x1000), %rdi
	movabs $(WARD_SECCOMP_TASK_TOP - WARD_SECCOMP_STATUS - 0x1000), %rsi
	syscall
	xor %esp, %esp
	movabs $WARD_SECCOMP_CONTROL, %r12
	movabs $WARD_SECCOMP_STATUS, %r13
	xor %ebx, %ebx
	/* Tell the sentry the stub is ready, as after a request. */
	xor %eax, %eax
	jmp .Ldone

	/* The control loop: r12 = the control page, r13 = the status page,
	 * ebx = the last batch served. Each request is one system call, made
	 * in order; the batch's completion is one byte on the done pipe, which
	 * no guest thread can write: the fail byte if a request failed (the
	 * rest are not made), else the ok byte. */
.Lwait:
	/* Say we sleep, then look again before sleeping. */
	movl $1, ST_SLEEPS(%r13)
	mfence
	mov CTL_SEQ(%r12), %eax
	cmp %eax, %ebx
	jne .Lnew
	mov $SYS_futex, %eax
	mov %r12, %rdi
	mov $FUTEX_WAIT, %esi
	mov %ebx, %edx
	xor %r10d, %r10d
	syscall
	jmp .Lwait
.Lnew:
	movl $0, ST_SLEEPS(%r13)
	mov %eax, %ebx
	/* r14 = the request, r15d = how many are left. */
	lea CTL_REQS(%r12), %r14
	mov CTL_COUNT(%r12), %r15d
.Lrequest:
	mov (%r14), %rax
	mov 8(%r14), %rdi
	mov 16(%r14), %rsi
	mov 24(%r14), %rdx
	mov 32(%r14), %r10
	mov 40(%r14), %r8
	mov 48(%r14), %r9
	syscall
	/* Only a new thread returns 0 with a stack: the control thread
	 * runs with rsp 0. */
	test %rax, %rax
	jnz 1f
	test %rsp, %rsp
	jnz .Lthread_start
1:
	cmp $-4095, %rax
	jae .Ldone
	add $CTL_REQ_SIZE, %r14
	dec %r15d
	jg .Lrequest
.Ldone:
	lea CTL_OK_BYTE(%r12), %rsi
	cmp $-4095, %rax
	jb 1f
	lea CTL_FAIL_BYTE(%r12), %rsi
1:
	mov $SYS_write, %eax
	mov $WARD_SECCOMP_DONEFD, %edi
	mov $1, %edx
	syscall
	mov %ebx, ST_DONE(%r13)
	/* Requests come in bursts (an execve maps several segments): wait
	 * for the next one for CTL_SPIN cycles before sleeping. */
	mov CTL_SPIN(%r12), %rcx
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	lea (%rax,%rcx), %r14
.Lidle:
	mov CTL_SEQ(%r12), %eax
	cmp %eax, %ebx
	jne .Lnew
	pause
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	cmp %r14, %rax
	jb .Lidle
	jmp .Lwait

	/* A new guest thread: rsp is the top of its region. Install the guest
	 * region's signal stack, unblock signals, install the guest threads'
	 * filter (last: it forbids the rest) and trap, which parks the thread
	 * in the handler until the sentry runs it. */
.Lthread_start:
	lea -WARD_SECCOMP_THREAD_SIZE+TH_STACK(%rsp), %rax
	push $(WARD_SECCOMP_THREAD_SIZE - TH_STACK)
	push $0
	push %rax
	mov $SYS_sigaltstack, %eax
	mov %rsp, %rdi
	xor %esi, %esi
	syscall
	test %rax, %rax
	jnz .Lthread_exit
	mov $SYS_rt_sigprocmask, %eax
	mov $2, %edi /* SIG_SETMASK */
	lea CTL_EMPTY_MASK(%r12), %rsi
	xor %edx, %edx
	mov $8, %r10d
	syscall
	mov $SYS_seccomp, %eax
	mov $1, %edi /* SECCOMP_SET_MODE_FILTER */
	xor %esi, %esi
	lea CTL_FPROG(%r12), %rdx
	syscall
	test %rax, %rax
	jnz .Lthread_exit
	movabs $WARD_SECCOMP_TRAP_PAGE, %rax
	jmp *%rax
.Lthread_exit:
	mov $SYS_exit, %eax
	xor %edi, %edi
	syscall
	ud2

	/* The handler of every signal a guest thread takes (SIGSYS for system
	 * calls, the fault signals, the interrupt signal), on the region's
	 * signal stack with all signals blocked: publish where the frame is,
	 * stop, and wait until the sentry says run (having rewritten the
	 * frame) or exit. Returning goes to the restorer, whose rt_sigreturn
	 * loads the frame. Every register is the frame's to restore. */
	.p2align 4
ward__seccomp_stub_handler:
	mov %rsp, %rbx
	and $-WARD_SECCOMP_THREAD_SIZE, %rbx
	/* Off the thread regions (a guest dropped its signal stack with a
	 * forged sigreturn) there is no mailbox: the thread leaves, and its
	 * CLEARTID tells the sentry. */
	movabs $WARD_SECCOMP_THREADS, %rax
	cmp %rax, %rbx
	jb .Lthread_exit
	mov %rdx, TH_UC(%rbx)
	mov %rsi, TH_INFO(%rbx)
	mov %edi, TH_SIGNO(%rbx)
	rdfsbase %rax
	mov %rax, TH_FS(%rbx)
	rdgsbase %rax
	mov %rax, TH_GS(%rbx)
	/* Publish the stop; wake the sentry only if it sleeps (Dekker: the
	 * locked exchange orders the store before the load). */
	mov $TH_STOPPED, %eax
	xchg %eax, TH_STATE(%rbx)
	cmpl $0, TH_SENTRY_SLEEPS(%rbx)
	je .Lspin_start
	mov $SYS_futex, %eax
	lea TH_STATE(%rbx), %rdi
	mov $FUTEX_WAKE, %esi
	mov $1, %edx
	syscall
.Lspin_start:
	/* Spin for TH_SPIN TSC cycles if fewer than CTL_MAXSPIN threads spin. */
	mov TH_SPIN(%rbx), %rcx
	test %rcx, %rcx
	jz .Lsleep_check
	movabs $WARD_SECCOMP_SHARED, %r13
	movabs $WARD_SECCOMP_CONTROL, %r12
	mov $1, %eax
	lock xadd %eax, SH_SPINNERS(%r13)
	cmp CTL_MAXSPIN(%r12), %eax
	jae .Lspin_end
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	lea (%rax,%rcx), %r14
.Lspin:
	cmpl $TH_STOPPED, TH_STATE(%rbx)
	jne .Lspin_end
	pause
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	cmp %r14, %rax
	jb .Lspin
.Lspin_end:
	lock decl SH_SPINNERS(%r13)
.Lsleep_check:
	/* Say we sleep, then look again before sleeping. */
	movl $1, TH_STUB_SLEEPS(%rbx)
	mfence
	mov TH_STATE(%rbx), %edx
	cmp $TH_STOPPED, %edx
	jne .Lwoken
	mov $SYS_futex, %eax
	lea TH_STATE(%rbx), %rdi
	xor %esi, %esi /* FUTEX_WAIT */
	xor %r10d, %r10d
	syscall
	jmp .Lsleep_check
.Lwoken:
	movl $0, TH_STUB_SLEEPS(%rbx)
	cmp $TH_RUN, %edx
	je .Lresume
	cmp $TH_EXIT, %edx
	je .Lthread_exit
	/* Anything else is not the sentry's: wait for it to change. */
	mov $SYS_futex, %eax
	lea TH_STATE(%rbx), %rdi
	xor %esi, %esi /* FUTEX_WAIT */
	xor %r10d, %r10d
	syscall
	jmp .Lsleep_check
.Lresume:
	cmpl $0, TH_SETBASES(%rbx)
	je 1f
	mov TH_FS(%rbx), %rax
	wrfsbase %rax
	mov TH_GS(%rbx), %rax
	wrgsbase %rax
1:
	ret

	.p2align 4
ward__seccomp_stub_restorer:
	mov $SYS_rt_sigreturn, %eax
	syscall
	ud2

	/* The trap page: a system call from here is trapped like a guest's. */
	.p2align 12
	mov $SYS_getpid, %eax
	syscall
	ud2
	.p2align 12
ward__seccomp_stub_code_end:
	.section .note.GNU-stack,"",@progbits
