/* What the hardware would have said about a fault. The ptrace platform
 * reports the signal, its code and the address, but not the trap number or
 * the page-fault error code that Linux puts in the signal frame (trapno,
 * err); these are rebuilt here. Whether an access was a write is read off
 * the faulting instruction with a small decoder of the common stores. */
#include "sentry/service.h"

#include "sentry/kernel/fault.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"

#define PF_PROT 0x1
#define PF_WRITE 0x2
#define PF_USER 0x4
#define PF_INSTR 0x10

enum { TRAP_DE = 0, TRAP_DB = 1, TRAP_BP = 3, TRAP_UD = 6, TRAP_GP = 13, TRAP_PF = 14, TRAP_MF = 16 };

/* Whether the instruction at rip writes memory: MOV/STOS stores,
 * read-modify-write ALU forms, XCHG/CMPXCHG/XADD, SSE and AVX stores. */
static bool insn_is_store(struct task *t, uint64_t rip)
{
	uint8_t b[16];
	size_t n = sizeof(b);
	while (n && ward_copy_in(task_as(t), b, gaddr(rip), n) < 0)
		n--;
	size_t i = 0;
	while (i < n && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf0 || b[i] == 0xf2 || b[i] == 0xf3 || b[i] == 0x2e ||
			 b[i] == 0x36 || b[i] == 0x3e || b[i] == 0x26 || b[i] == 0x64 || b[i] == 0x65))
		i++;
	if (i < n && (b[i] & 0xf0) == 0x40)
		i++;
	if (i >= n)
		return false;
	uint8_t op = b[i];
	uint8_t reg = i + 1 < n ? (uint8_t)((b[i + 1] >> 3) & 7) : 0;
	switch (op) {
	case 0x00:
	case 0x01:
	case 0x08:
	case 0x09:
	case 0x10:
	case 0x11:
	case 0x18:
	case 0x19:
	case 0x20:
	case 0x21:
	case 0x28:
	case 0x29:
	case 0x30:
	case 0x31:
	case 0x86:
	case 0x87:
	case 0x88:
	case 0x89:
	case 0xaa:
	case 0xab:
	case 0xa4:
	case 0xa5:
	case 0xc6:
	case 0xc7:
	case 0xd0:
	case 0xd1:
	case 0xd2:
	case 0xd3:
	case 0xc0:
	case 0xc1:
		return true;
	case 0x80:
	case 0x81:
	case 0x83:
		return reg != 7; /* CMP only reads */
	case 0xf6:
	case 0xf7:
		return reg == 2 || reg == 3; /* NOT, NEG */
	case 0xfe:
	case 0xff:
		return reg == 0 || reg == 1; /* INC, DEC */
	case 0x0f: {
		if (i + 1 >= n)
			return false;
		uint8_t op2 = b[i + 1];
		return op2 == 0x11 || op2 == 0x13 || op2 == 0x17 || op2 == 0x29 || op2 == 0x2b || op2 == 0x7f ||
		       op2 == 0x7e || op2 == 0xd6 || op2 == 0xe7 || op2 == 0xb0 || op2 == 0xb1 || op2 == 0xc0 ||
		       op2 == 0xc1 || op2 == 0xab || op2 == 0xb3 || op2 == 0xbb || op2 == 0xc3;
	}
	case 0xc5: /* two-byte VEX: the opcode follows one payload byte */
		return i + 2 < n && (b[i + 2] == 0x11 || b[i + 2] == 0x29 || b[i + 2] == 0x7f || b[i + 2] == 0xe7 ||
				     b[i + 2] == 0x2b || b[i + 2] == 0xd6 || b[i + 2] == 0x7e);
	case 0xc4: /* three-byte VEX */
		return i + 3 < n && (b[i + 3] == 0x11 || b[i + 3] == 0x29 || b[i + 3] == 0x7f || b[i + 3] == 0xe7 ||
				     b[i + 3] == 0x2b || b[i + 3] == 0xd6 || b[i + 3] == 0x7e);
	default:
		return false;
	}
}

void fault_classify(struct task *t, int signo, int code, uint64_t addr, uint64_t *trapno, uint64_t *err)
{
	*err = 0;
	switch (signo) {
	case SIGSEGV:
		if (code == SEGV_MAPERR || code == SEGV_ACCERR) {
			*trapno = TRAP_PF;
			/* The kernel's half of the address space is present, just not
			 * the user's: a protection fault. */
			*err = PF_USER | (code == SEGV_ACCERR || addr >= 0x800000000000ULL ? PF_PROT : 0);
			if (addr == t->regs.rip)
				*err |= PF_INSTR;
			else if (insn_is_store(t, t->regs.rip))
				*err |= PF_WRITE;
		} else {
			*trapno = TRAP_GP;
		}
		return;
	case SIGBUS:
		*trapno = TRAP_PF;
		*err = PF_USER | (insn_is_store(t, t->regs.rip) ? PF_WRITE : 0);
		return;
	case SIGFPE:
		*trapno = code == FPE_INTDIV || code == FPE_INTOVF ? TRAP_DE : TRAP_MF;
		return;
	case SIGILL:
		*trapno = TRAP_UD;
		return;
	case SIGTRAP:
		*trapno = code == 0x80 /* SI_KERNEL: int3 */ ? TRAP_BP : TRAP_DB;
		return;
	default:
		*trapno = 0;
	}
}
