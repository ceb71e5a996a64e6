/* A service that defines a libc name. Linked into ward it would interpose
 * on the core's own calls to read(), so the symbol check rejects the
 * definition. (No prelude: the prelude poisons the name.) */
#include <stddef.h>
#include <sys/types.h>

ssize_t read(int fd, void *buf, size_t len);

ssize_t read(int fd, void *buf, size_t len)
{
	(void)fd;
	(void)buf;
	return (ssize_t)len;
}
