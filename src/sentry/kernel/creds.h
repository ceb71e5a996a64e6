/* Credentials beyond the ids: capability sets, securebits and
 * supplementary groups, with Linux's rules for how uid changes move the
 * capabilities (capabilities(7), "Effect of user ID changes on
 * capabilities").
 *
 * The fields live in struct creds (task.h), so they follow the creds
 * wherever the task code copies them (clone, the first task). While
 * caps_set is false the sets are derived from the uids, as Linux gives
 * them to a process that execs as these uids: full sets for root, empty
 * ones otherwise, and a full bounding set.
 *
 * Groups: an immutable, sorted list shared by every creds that holds it.
 * Lists are interned (equal lists are one list) and the unused ones are
 * collected, from the creds of live tasks, when many have piled up.
 *
 * Everything here runs under the kernel lock. */
#ifndef WARD_KERNEL_CREDS_H
#define WARD_KERNEL_CREDS_H

#include "sentry/kernel/task.h"

/* The last capability this kernel knows (CAP_CHECKPOINT_RESTORE). */
#define WARD_CAP_LAST_CAP 40
#define WARD_CAP_FULL ((1ULL << (WARD_CAP_LAST_CAP + 1)) - 1)

#define WARD_CAP_CHOWN 0
#define WARD_CAP_KILL 5
#define WARD_CAP_SETGID 6
#define WARD_CAP_SETUID 7
#define WARD_CAP_SETPCAP 8
#define WARD_CAP_SYS_CHROOT 18
#define WARD_CAP_SYS_ADMIN 21
#define WARD_CAP_SYS_NICE 23

/* securebits(7). */
#define WARD_SECBIT_NOROOT (1u << 0)
#define WARD_SECBIT_NO_SETUID_FIXUP (1u << 2)
#define WARD_SECBIT_KEEP_CAPS (1u << 4)
#define WARD_SECBIT_KEEP_CAPS_LOCKED (1u << 5)

struct group_list {
	struct group_list *next_all; /* every interned list */
	bool mark;
	int n;
	uint32_t gid[]; /* sorted */
};

/* Makes c's capability sets explicit (computing them from the uids when
 * they were implicit), so that they can be changed. */
void creds_caps_materialize(struct creds *c);
/* c's capability sets, explicit or derived. */
void creds_caps(const struct creds *c, uint64_t *effective, uint64_t *permitted, uint64_t *inheritable, uint64_t *bset,
		uint64_t *ambient);
/* Whether c has cap in its effective set. */
bool creds_capable(const struct creds *c, int cap);
/* The capability changes that follow a change of the uids (setuid,
 * setreuid, setresuid: LSM_SETID_ID/RE/RES) or of the fsuid (setfsuid),
 * from old to new. */
void creds_fix_setuid(struct creds *new, const struct creds *old);
void creds_fix_setfsuid(struct creds *new, const struct creds *old);

/* What execve does to the capabilities (no file capabilities exist in
 * the sandbox): root (real or effective) gets the bounding set plus the
 * inheritable one as permitted, effective too when the euid is root;
 * others keep only the ambient set; SECBIT_KEEP_CAPS is cleared. A hook
 * for the exec code. */
void creds_exec(struct creds *c);

/* kill_ok_by_cred(): whether sender may signal a task with target's
 * creds (the real or effective uid of the sender is the real or saved uid
 * of the target, or the sender has CAP_KILL). The caller adds Linux's
 * other exception: SIGCONT within the same session is always allowed. */
bool creds_may_kill(const struct creds *sender, const struct creds *target);

/* The interned list of the n sorted gids (NULL for n == 0); NULL with
 * *err = -ENOMEM when out of memory. */
const struct group_list *groups_intern(const uint32_t *gids, int n, long *err);
/* Whether gid is one of c's supplementary groups. */
bool creds_in_groups(const struct creds *c, uint32_t gid);

#endif
