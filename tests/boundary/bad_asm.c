/* A service that skips the prelude and makes a system call with an inline
 * `syscall' instruction, naming no symbol at all: only the instruction scan
 * of tools/check-boundary.sh catches it. */
long boundary_bad_asm(long nr, long a0);

long boundary_bad_asm(long nr, long a0)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a0) : "rcx", "r11", "memory");
	return ret;
}
