/* Process and credential identity: the getters agree with one another and
 * with their raw system calls. Values themselves differ run to run (and
 * under ward), so only consistency is checked. */
#include "ward_test.h"

#include <grp.h>
#include <sys/types.h>

int main(void)
{
	pid_t pid = getpid();
	CHECK(pid > 0);
	CHECK_EQ(syscall(SYS_getpid), pid);
	/* A single-threaded process: its one thread's id is the pid. */
	CHECK_EQ(gettid(), pid);
	CHECK_EQ(syscall(SYS_gettid), pid);
	/* The parent may be outside the guest's pid namespace, where Linux
	 * reports 0 (as for a container's init); so only ">= 0". The same
	 * holds for the group and session ids. */
	CHECK(getppid() >= 0);
	CHECK(getppid() != pid);
	CHECK_EQ(syscall(SYS_getppid), getppid());
	CHECK(getpgrp() >= 0);
	CHECK(getsid(0) >= 0);
	CHECK_EQ(getsid(0), getsid(pid));
	CHECK_EQ(getpgid(0), getpgrp());

	/* Real, effective and saved ids agree, no set-id bit being involved. */
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	CHECK_OK(getresuid(&ruid, &euid, &suid));
	CHECK_OK(getresgid(&rgid, &egid, &sgid));
	CHECK_EQ(getuid(), ruid);
	CHECK_EQ(geteuid(), euid);
	CHECK_EQ(getgid(), rgid);
	CHECK_EQ(getegid(), egid);
	CHECK_EQ(ruid, euid);
	CHECK_EQ(euid, suid);
	CHECK_EQ(rgid, egid);
	CHECK_EQ(egid, sgid);
	CHECK_EQ(syscall(SYS_getuid), ruid);
	CHECK_EQ(syscall(SYS_geteuid), euid);
	CHECK_EQ(syscall(SYS_getgid), rgid);
	CHECK_EQ(syscall(SYS_getegid), egid);
	CHECK_ERRNO(syscall(SYS_getresuid, (void *)1, &euid, &suid), EFAULT);

	/* Supplementary groups: the count, then the list in a buffer that
	 * fits; EINVAL for one that does not. */
	int n = CHECK_OK(getgroups(0, NULL));
	CHECK(n >= 0);
	gid_t groups[256];
	if (n <= 256)
		CHECK_EQ(getgroups(n, groups), n);
	if (n > 0)
		CHECK_ERRNO(getgroups(n - 1, groups), EINVAL);
	CHECK_ERRNO(syscall(SYS_getgroups, -1, groups), EINVAL);

	/* Other processes' ids: 0 means the caller; a pid that cannot exist. */
	CHECK_ERRNO(getpgid(0x3fffffff), ESRCH);
	CHECK_ERRNO(getsid(0x3fffffff), ESRCH);
	CHECK_ERRNO(getpgid(-1), ESRCH);
	return test_done();
}
