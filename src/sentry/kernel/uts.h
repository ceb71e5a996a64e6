/* What the sandbox says its kernel is: uname(2), /proc/version and
 * /proc/sys/kernel share these. The release is as recent as the interface
 * ward implements, so programs' version checks pass. */
#ifndef WARD_KERNEL_UTS_H
#define WARD_KERNEL_UTS_H

#define WARD_UTS_SYSNAME "Linux"
#define WARD_UTS_RELEASE "6.1.0-ward"
#define WARD_UTS_VERSION "#1 SMP PREEMPT_DYNAMIC ward"
#define WARD_UTS_NODENAME "ward"
#define WARD_UTS_MACHINE "x86_64"

/* The host and domain names as sethostname/setdomainname left them
 * (sys_misc.c): WARD_UTS_NODENAME and "(none)" until then. */
const char *uts_nodename(void);
const char *uts_domainname(void);

#endif
