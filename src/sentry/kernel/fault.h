/* Rebuilding the trap number and error code of a guest fault. */
#ifndef WARD_KERNEL_FAULT_H
#define WARD_KERNEL_FAULT_H

#include <stdint.h>

struct task;

/* The x86 trap number and (for page faults) error code Linux would put in
 * the signal frame for a fault reported as signo/code at addr, with t's
 * registers at the faulting instruction. */
void fault_classify(struct task *t, int signo, int code, uint64_t addr, uint64_t *trapno, uint64_t *err);

#endif
