/* A service that includes the prelude and then names a host system call:
 * the prelude's #pragma GCC poison must stop it from compiling.
 * tests/boundary/run.sh expects the compile to FAIL. */
#include "sentry/service.h"

long boundary_bad_poison(long fd, void *buf, unsigned long len);

long boundary_bad_poison(long fd, void *buf, unsigned long len)
{
	return syscall(0 /* SYS_read */, fd, buf, len);
}
