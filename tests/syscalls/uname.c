/* uname: a Linux on x86-64, with a kernel release of the form N.N..., and
 * a nodename that matches gethostname. */
#include "ward_test.h"

#include <limits.h>
#include <sys/utsname.h>

int main(void)
{
	struct utsname u;
	memset(&u, 0x55, sizeof(u));
	CHECK_OK(uname(&u));
	CHECK_STREQ(u.sysname, "Linux");
	CHECK_STREQ(u.machine, "x86_64");
	/* Every field is NUL-terminated within its 65 bytes. */
	CHECK(memchr(u.sysname, 0, sizeof(u.sysname)) != NULL);
	CHECK(memchr(u.nodename, 0, sizeof(u.nodename)) != NULL);
	CHECK(memchr(u.release, 0, sizeof(u.release)) != NULL);
	CHECK(memchr(u.version, 0, sizeof(u.version)) != NULL);
	CHECK(memchr(u.domainname, 0, sizeof(u.domainname)) != NULL);
	/* The release starts "major.minor", which glibc and others parse. */
	int major = 0, minor = 0;
	CHECK_EQ(sscanf(u.release, "%d.%d", &major, &minor), 2);
	CHECK(major >= 3);
	CHECK(u.version[0] != '\0');

	char host[HOST_NAME_MAX + 1];
	CHECK_OK(gethostname(host, sizeof(host)));
	CHECK_STREQ(host, u.nodename);

	CHECK_ERRNO(syscall(SYS_uname, (void *)1), EFAULT);
	CHECK_ERRNO(syscall(SYS_uname, NULL), EFAULT);
	return test_done();
}
