/* A service that skips the prelude (so no poison stops it) and calls the
 * host's syscall() and read() wrappers. It compiles; the symbol check of
 * tools/check-boundary.sh must reject the object. */
#include <sys/syscall.h>
#include <unistd.h>

long boundary_bad_syscall(int fd, void *buf, unsigned long len);

long boundary_bad_syscall(int fd, void *buf, unsigned long len)
{
	long r = syscall(SYS_getpid);

	if (r < 0)
		return r;
	return read(fd, buf, len);
}
