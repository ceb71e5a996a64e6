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

/* The hand-off, after the thread's stop is published: wake the sentry
 * if it sleeps (Dekker: the locked exchange that published the stop orders
 * it before the load), spin for TH_SPIN TSC cycles if fewer than
 * CTL_MAXSPIN threads spin, then sleep on TH_STATE until it is no longer
 * \stopped. rbx = the mailbox. Leaves the new state in edx. */
.macro HANDOFF stopped
	cmpl $0, TH_SENTRY_SLEEPS(%rbx)
	je 2f
	mov $SYS_futex, %eax
	lea TH_STATE(%rbx), %rdi
	mov $FUTEX_WAKE, %esi
	mov $1, %edx
	syscall
2:
	mov TH_SPIN(%rbx), %rcx
	test %rcx, %rcx
	jz 5f
	movabs $WARD_SECCOMP_SHARED, %r13
	movabs $WARD_SECCOMP_CONTROL, %r12
	mov $1, %eax
	lock xadd %eax, SH_SPINNERS(%r13)
	cmp CTL_MAXSPIN(%r12), %eax
	jae 4f
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	lea (%rax,%rcx), %r14
3:
	cmpl $\stopped, TH_STATE(%rbx)
	jne 4f
	pause
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	cmp %r14, %rax
	jb 3b
4:
	lock decl SH_SPINNERS(%r13)
5:
	/* Say we sleep, then look again before sleeping. */
	movl $1, TH_STUB_SLEEPS(%rbx)
	mfence
	mov TH_STATE(%rbx), %edx
	cmp $\stopped, %edx
	jne 6f
	mov $SYS_futex, %eax
	lea TH_STATE(%rbx), %rdi
	xor %esi, %esi /* FUTEX_WAIT */
	xor %r10d, %r10d
	syscall
	jmp 5b
6:
	movl $0, TH_STUB_SLEEPS(%rbx)
.endm

	.section .text
	.globl ward__seccomp_stub_code
	.globl ward__seccomp_stub_code_end
	.globl ward__seccomp_stub_handler
	.globl ward__seccomp_stub_restorer
	.globl ward__seccomp_stub_fast
	.globl ward__seccomp_stub_fast_end
	.p2align 12
ward__seccomp_stub_code:
	/* Entry: drop every mapping the child inherited from the sentry, so the
	 * guest address space starts empty; keep the stub area, and the slot
	 * table and trampolines (the child set up or emptied both). */
	mov $SYS_munmap, %eax
	mov $WARD_SECCOMP_GUEST_SLOTS_END, %edi
	movabs $(WARD_SECCOMP_STUB_BASE - WARD_SECCOMP_GUEST_SLOTS_END), %rsi
	syscall
	mov $SYS_munmap, %eax
	movabs $(WARD_SECCOMP_STATUS + 0x1000), %rdi
	mov $(WARD_SECCOMP_TRAMP - WARD_SECCOMP_STATUS - 0x1000), %esi
	syscall
	mov $SYS_munmap, %eax
	movabs $(WARD_SECCOMP_TRAMP + WARD_SECCOMP_TRAMP_SIZE), %rdi
	movabs $(WARD_SECCOMP_TASK_TOP - WARD_SECCOMP_TRAMP - WARD_SECCOMP_TRAMP_SIZE), %rsi
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
	/* Publish the stop, and the state it replaced: a signal that comes
	 * in the patched-site entry stops the thread there, and the sentry
	 * puts that state back. */
	/* A signal may come in the patched-site entry between its "I sleep"
	 * and its futex wait: the flag is the entry's again when this returns. */
	mov TH_STUB_SLEEPS(%rbx), %eax
	push %rax
	mov $TH_STOPPED, %eax
	xchg %eax, TH_STATE(%rbx)
	mov %eax, TH_PREV(%rbx)
.Lhandoff:
	HANDOFF TH_STOPPED
	cmp $TH_RUN, %edx
	je .Lresume
	/* The sentry put back the state of the patched-site entry this
	 * signal interrupted (see seccomp.c, resume_entry): return to it. */
	cmp $TH_FAST, %edx
	je .Lresume
	cmp $TH_CONVERT, %edx
	je .Lresume
	cmp $TH_EXIT, %edx
	je .Lthread_exit
	/* Anything else is not the sentry's: wait for it to change. */
	mov $SYS_futex, %eax
	lea TH_STATE(%rbx), %rdi
	xor %esi, %esi /* FUTEX_WAIT */
	xor %r10d, %r10d
	syscall
	jmp .Lhandoff
.Lresume:
	pop %rax
	mov %eax, TH_STUB_SLEEPS(%rbx)
	cmpl $0, TH_SETBASES(%rbx)
	je 1f
	mov TH_FS(%rbx), %rax
	wrfsbase %rax
	mov TH_GS(%rbx), %rax
	wrgsbase %rax
1:
	ret


	/* The patched-site entry (--patch-syscalls). A patched site jumps
	 * through its slot to its trampoline, which sets ecx = the site's index
	 * and jumps here with every other register the guest's; rax, rcx and
	 * r11 are the guest's to lose, as across a syscall. The thread's GS
	 * base is its region (the sentry keeps it so while the guest's own is
	 * 0), which finds the mailbox without touching the guest's stack. The
	 * entry saves the general registers and flags in the mailbox and hands
	 * off as the handler does, but the guest's FPU state stays in the
	 * registers: the sentry asks for TH_CONVERT when it needs it (or needs
	 * more than this return can restore), and the thread then traps from
	 * the trap page, so that the handler's frame holds everything. The
	 * flags are kept without the stack: lahf and seto save the arithmetic
	 * ones, which the checks change, and pushf, with rsp in the mailbox,
	 * saves them all once they are back. */
	.p2align 4
ward__seccomp_stub_fast:
	lahf
	seto %al
	rdgsbase %r11
	/* A region's address: in the thread area, 64 KiB aligned. Else the
	 * guest has a GS base of its own: trap from the trampoline. */
	ror $16, %r11
	cmp $(WARD_SECCOMP_THREADS >> 16), %r11
	jb .Lfast_refuse
	cmp $(WARD_SECCOMP_TASK_TOP >> 16), %r11
	jae .Lfast_refuse
	rol $16, %r11
	mov %rsp, TH_P+P_RSP(%r11)
	lea TH_P+P_RSP(%r11), %rsp
	add $0x7f, %al /* OF = al */
	sahf
	pushfq
	mov %rbx, TH_P+P_RBX(%r11)
	mov %r11, %rbx
	mov %rcx, TH_P+P_ORIG(%rbx)
	mov %rdx, TH_P+P_RDX(%rbx)
	mov %rsi, TH_P+P_RSI(%rbx)
	mov %rdi, TH_P+P_RDI(%rbx)
	mov %rbp, TH_P+P_RBP(%rbx)
	mov %r8, TH_P+P_R8(%rbx)
	mov %r9, TH_P+P_R9(%rbx)
	mov %r10, TH_P+P_R10(%rbx)
	mov %r12, TH_P+P_R12(%rbx)
	mov %r13, TH_P+P_R13(%rbx)
	mov %r14, TH_P+P_R14(%rbx)
	mov %r15, TH_P+P_R15(%rbx)
	rdfsbase %rax
	mov %rax, TH_FS(%rbx)
	mov %rbx, TH_GS(%rbx)
	mov $TH_FAST, %eax
	xchg %eax, TH_STATE(%rbx)
.Lfast_wait:
	HANDOFF TH_FAST
	cmp $TH_RUN, %edx
	je .Lfast_resume
	cmp $TH_CONVERT, %edx
	je .Lfast_convert
	cmp $TH_EXIT, %edx
	je .Lthread_exit
	mov $SYS_futex, %eax
	lea TH_STATE(%rbx), %rdi
	xor %esi, %esi /* FUTEX_WAIT */
	xor %r10d, %r10d
	syscall
	jmp .Lfast_wait
.Lfast_convert:
	movabs $WARD_SECCOMP_TRAP_PAGE, %rax
	jmp *%rax
.Lfast_resume:
	cmpl $0, TH_SETBASES(%rbx)
	je 1f
	mov TH_FS(%rbx), %rax
	wrfsbase %rax
	mov TH_GS(%rbx), %rax
	wrgsbase %rax
1:
	mov TH_P+P_RDX(%rbx), %rdx
	mov TH_P+P_RSI(%rbx), %rsi
	mov TH_P+P_RDI(%rbx), %rdi
	mov TH_P+P_RBP(%rbx), %rbp
	mov TH_P+P_R8(%rbx), %r8
	mov TH_P+P_R9(%rbx), %r9
	mov TH_P+P_R10(%rbx), %r10
	mov TH_P+P_R12(%rbx), %r12
	mov TH_P+P_R13(%rbx), %r13
	mov TH_P+P_R14(%rbx), %r14
	mov TH_P+P_R15(%rbx), %r15
	mov TH_P+P_RAX(%rbx), %rax
	/* As sysret leaves them: rcx = rip, r11 = rflags (the sentry asks
	 * for TH_CONVERT when it wants them otherwise). */
	mov TH_P+P_RIP(%rbx), %rcx
	mov TH_P+P_EFLAGS(%rbx), %r11
	lea TH_P+P_EFLAGS(%rbx), %rsp
	popfq
	mov TH_P+P_RSP(%rbx), %rsp
	mov TH_P+P_RBX(%rbx), %rbx
	jmp *%rcx
.Lfast_refuse:
	add $0x7f, %al
	sahf
	/* The trampoline's trapping half: TRAMP + 32 * index + TR_SLOW. */
	movabs $(WARD_SECCOMP_TRAMP + TR_SLOW), %r11
	lea (%r11,%rcx,8), %r11
	lea (%r11,%rcx,8), %r11
	lea (%r11,%rcx,8), %r11
	lea (%r11,%rcx,8), %r11
	jmp *%r11
ward__seccomp_stub_fast_end:

	.p2align 4
ward__seccomp_stub_restorer:
	mov $SYS_rt_sigreturn, %eax
	syscall
	ud2

	/* The trap page: a system call from here is trapped like a guest's.
	 * The .org fails the build if the code above outgrew its page, the
	 * only one whose calls the filter lets through. */
	.org ward__seccomp_stub_code + WARD_SECCOMP_CODE_SIZE, 0xcc
	mov $SYS_getpid, %eax
	syscall
	ud2
	.p2align 12
ward__seccomp_stub_code_end:
	.section .note.GNU-stack,"",@progbits
