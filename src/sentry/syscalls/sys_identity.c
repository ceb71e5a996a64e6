/* Process identity: ids, credentials, groups and capabilities
 * (credentials(7), capabilities(7)). The capability and group machinery
 * is kernel/creds.c's. */
#include "sentry/service.h"

#include "sentry/kernel/creds.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

/* getpid(2) */
long sys_getpid(struct task *t, const struct syscall_args *args)
{
	return t->tgid;
}

/* gettid(2) */
long sys_gettid(struct task *t, const struct syscall_args *args)
{
	return t->tid;
}

/* getuid(2) */
long sys_getuid(struct task *t, const struct syscall_args *args)
{
	return t->creds.uid;
}

/* geteuid(2) */
long sys_geteuid(struct task *t, const struct syscall_args *args)
{
	return t->creds.euid;
}

/* getgid(2) */
long sys_getgid(struct task *t, const struct syscall_args *args)
{
	return t->creds.gid;
}

/* getegid(2) */
long sys_getegid(struct task *t, const struct syscall_args *args)
{
	return t->creds.egid;
}

static long put_three(struct task *t, const struct syscall_args *args, uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t v[3] = { a, b, c };
	for (int i = 0; i < 3; i++)
		if (ward_copy_out(task_as(t), arg_addr(args, i), &v[i], sizeof(v[i])) < 0)
			return -EFAULT;
	return 0;
}

/* getresuid(2) */
long sys_getresuid(struct task *t, const struct syscall_args *args)
{
	return put_three(t, args, t->creds.uid, t->creds.euid, t->creds.suid);
}

/* getresgid(2) */
long sys_getresgid(struct task *t, const struct syscall_args *args)
{
	return put_three(t, args, t->creds.gid, t->creds.egid, t->creds.sgid);
}

/* An id argument: (uint32_t)-1 is "no id" (unchanged, or invalid). */
#define NO_ID 0xffffffffu
#define NGROUPS_MAX_ 65536

/* Installs new creds: the capability fixups for uid changes are done by
 * the callers. */
static long commit(struct task *t, const struct creds *new)
{
	t->creds = *new;
	return 0;
}

/* setuid(2) */
long sys_setuid(struct task *t, const struct syscall_args *args)
{
	uint32_t uid = arg_uint(args, 0);
	struct creds old = t->creds, new = t->creds;
	if (uid == NO_ID)
		return -EINVAL;
	if (creds_capable(&old, WARD_CAP_SETUID)) {
		new.uid = new.suid = uid;
	} else if (uid != old.uid && uid != old.suid) {
		return -EPERM;
	}
	new.euid = new.fsuid = uid;
	creds_fix_setuid(&new, &old);
	return commit(t, &new);
}

/* setgid(2) */
long sys_setgid(struct task *t, const struct syscall_args *args)
{
	uint32_t gid = arg_uint(args, 0);
	struct creds new = t->creds;
	if (gid == NO_ID)
		return -EINVAL;
	if (creds_capable(&t->creds, WARD_CAP_SETGID)) {
		new.gid = new.sgid = gid;
	} else if (gid != t->creds.gid && gid != t->creds.sgid) {
		return -EPERM;
	}
	new.egid = new.fsgid = gid;
	return commit(t, &new);
}

/* The common part of setreuid and setregid: r and e are the requested
 * ids (NO_ID: unchanged); ids points at {real, effective, saved, fs}. */
static long set_re(uint32_t *ids, uint32_t r, uint32_t e, bool privileged)
{
	uint32_t old_r = ids[0], old_e = ids[1], old_s = ids[2];
	if (r != NO_ID) {
		if (r != old_r && r != old_e && !privileged)
			return -EPERM;
		ids[0] = r;
	}
	if (e != NO_ID) {
		if (e != old_r && e != old_e && e != old_s && !privileged)
			return -EPERM;
		ids[1] = e;
	}
	if (r != NO_ID || (e != NO_ID && e != old_r))
		ids[2] = ids[1];
	ids[3] = ids[1];
	return 0;
}

/* setreuid(2) */
long sys_setreuid(struct task *t, const struct syscall_args *args)
{
	struct creds old = t->creds, new = t->creds;
	uint32_t ids[4] = { new.uid, new.euid, new.suid, new.fsuid };
	long r = set_re(ids, arg_uint(args, 0), arg_uint(args, 1), creds_capable(&old, WARD_CAP_SETUID));
	if (r < 0)
		return r;
	new.uid = ids[0], new.euid = ids[1], new.suid = ids[2], new.fsuid = ids[3];
	creds_fix_setuid(&new, &old);
	return commit(t, &new);
}

/* setregid(2) */
long sys_setregid(struct task *t, const struct syscall_args *args)
{
	struct creds new = t->creds;
	uint32_t ids[4] = { new.gid, new.egid, new.sgid, new.fsgid };
	long r = set_re(ids, arg_uint(args, 0), arg_uint(args, 1), creds_capable(&t->creds, WARD_CAP_SETGID));
	if (r < 0)
		return r;
	new.gid = ids[0], new.egid = ids[1], new.sgid = ids[2], new.fsgid = ids[3];
	return commit(t, &new);
}

/* The common part of setresuid and setresgid. Returns 1 for a no-op
 * (nothing changes, not even the fs id). */
static long set_res(uint32_t *ids, uint32_t r, uint32_t e, uint32_t s, bool privileged)
{
	uint32_t req[3] = { r, e, s };
	bool noop = true, news = false;
	for (int i = 0; i < 3; i++) {
		if (req[i] == NO_ID)
			continue;
		if (req[i] != ids[i])
			noop = false;
		if (req[i] != ids[0] && req[i] != ids[1] && req[i] != ids[2])
			news = true;
	}
	if (noop)
		return 1;
	if (news && !privileged)
		return -EPERM;
	for (int i = 0; i < 3; i++)
		if (req[i] != NO_ID)
			ids[i] = req[i];
	ids[3] = ids[1];
	return 0;
}

/* setresuid(2) */
long sys_setresuid(struct task *t, const struct syscall_args *args)
{
	struct creds old = t->creds, new = t->creds;
	uint32_t ids[4] = { new.uid, new.euid, new.suid, new.fsuid };
	long r = set_res(ids, arg_uint(args, 0), arg_uint(args, 1), arg_uint(args, 2),
			 creds_capable(&old, WARD_CAP_SETUID));
	if (r != 0)
		return r < 0 ? r : 0;
	new.uid = ids[0], new.euid = ids[1], new.suid = ids[2], new.fsuid = ids[3];
	creds_fix_setuid(&new, &old);
	return commit(t, &new);
}

/* setresgid(2) */
long sys_setresgid(struct task *t, const struct syscall_args *args)
{
	struct creds new = t->creds;
	uint32_t ids[4] = { new.gid, new.egid, new.sgid, new.fsgid };
	long r = set_res(ids, arg_uint(args, 0), arg_uint(args, 1), arg_uint(args, 2),
			 creds_capable(&t->creds, WARD_CAP_SETGID));
	if (r != 0)
		return r < 0 ? r : 0;
	new.gid = ids[0], new.egid = ids[1], new.sgid = ids[2], new.fsgid = ids[3];
	return commit(t, &new);
}

/* setfsuid(2): always returns the previous fsuid; a change that is not
 * allowed is silently not made. */
long sys_setfsuid(struct task *t, const struct syscall_args *args)
{
	uint32_t uid = arg_uint(args, 0);
	struct creds old = t->creds, new = t->creds;
	if (uid == NO_ID)
		return old.fsuid;
	if ((uid == old.uid || uid == old.euid || uid == old.suid || uid == old.fsuid ||
	     creds_capable(&old, WARD_CAP_SETUID)) &&
	    uid != old.fsuid) {
		new.fsuid = uid;
		creds_fix_setfsuid(&new, &old);
		commit(t, &new);
	}
	return old.fsuid;
}

/* setfsgid(2) */
long sys_setfsgid(struct task *t, const struct syscall_args *args)
{
	uint32_t gid = arg_uint(args, 0);
	uint32_t old = t->creds.fsgid;
	if (gid == NO_ID)
		return old;
	const struct creds *c = &t->creds;
	if (gid == c->gid || gid == c->egid || gid == c->sgid || gid == c->fsgid || creds_capable(c, WARD_CAP_SETGID))
		t->creds.fsgid = gid;
	return old;
}

/* getgroups(2) */
long sys_getgroups(struct task *t, const struct syscall_args *args)
{
	int size = arg_int(args, 0);
	const struct group_list *g = t->creds.groups;
	int n = g ? g->n : 0;
	if (size < 0)
		return -EINVAL;
	if (size == 0 || n == 0)
		return n;
	if (n > size)
		return -EINVAL;
	if (ward_copy_out(task_as(t), arg_addr(args, 1), g->gid, (size_t)n * sizeof(uint32_t)) < 0)
		return -EFAULT;
	return n;
}

static int cmp_gid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* setgroups(2): the list is kept sorted, as Linux keeps it. */
long sys_setgroups(struct task *t, const struct syscall_args *args)
{
	int size = arg_int(args, 0);
	if (!creds_capable(&t->creds, WARD_CAP_SETGID))
		return -EPERM;
	if ((unsigned int)size > NGROUPS_MAX_)
		return -EINVAL;
	cleanup_free uint32_t *gids = NULL;
	if (size > 0) {
		gids = malloc((size_t)size * sizeof(uint32_t));
		if (!gids)
			return -ENOMEM;
		if (ward_copy_in(task_as(t), gids, arg_addr(args, 1), (size_t)size * sizeof(uint32_t)) < 0)
			return -EFAULT;
		for (int i = 0; i < size; i++)
			if (gids[i] == NO_ID)
				return -EINVAL;
		qsort(gids, (size_t)size, sizeof(uint32_t), cmp_gid);
	}
	long err;
	const struct group_list *g = groups_intern(gids, size, &err);
	if (err < 0)
		return err;
	t->creds.groups = g;
	return 0;
}

/* Capabilities: capget(2), capset(2). */
#define CAP_V1 0x19980330u
#define CAP_V2 0x20071026u
#define CAP_V3 0x20080522u

struct cap_header {
	uint32_t version;
	int32_t pid;
};

struct cap_data {
	uint32_t effective, permitted, inheritable;
};

/* Checks the header's version: the number of 32-bit words it carries, or
 * -EINVAL after writing the version the kernel prefers back. */
static long cap_words(struct task *t, gaddr_t hdr, struct cap_header *h)
{
	if (ward_copy_in(task_as(t), &h->version, hdr, sizeof(h->version)) < 0)
		return -EFAULT;
	switch (h->version) {
	case CAP_V1:
		return 1;
	case CAP_V2:
	case CAP_V3:
		return 2;
	default: {
		uint32_t v = CAP_V3;
		if (ward_copy_out(task_as(t), hdr, &v, sizeof(v)) < 0)
			return -EFAULT;
		return -EINVAL;
	}
	}
}

/* capget(2): a NULL data pointer with a bad version only asks for the
 * preferred version (0); with a good one it is a no-op. */
long sys_capget(struct task *t, const struct syscall_args *args)
{
	struct cap_header h;
	gaddr_t data = arg_addr(args, 1);
	long words = cap_words(t, arg_addr(args, 0), &h);
	if (gaddr_is_null(data) || words < 0)
		return gaddr_is_null(data) && words == -EINVAL ? 0 : (words < 0 ? words : 0);
	if (ward_copy_in(task_as(t), &h.pid, gaddr_add(arg_addr(args, 0), 4), sizeof(h.pid)) < 0)
		return -EFAULT;
	if (h.pid < 0)
		return -EINVAL;
	struct task *target = t;
	if (h.pid != 0 && h.pid != t->tid) {
		target = task_by_tid(h.pid);
		if (!target)
			return -ESRCH;
	}
	uint64_t e, p, i, b, a;
	creds_caps(&target->creds, &e, &p, &i, &b, &a);
	struct cap_data d[2] = { { (uint32_t)e, (uint32_t)p, (uint32_t)i },
				 { (uint32_t)(e >> 32), (uint32_t)(p >> 32), (uint32_t)(i >> 32) } };
	if (ward_copy_out(task_as(t), data, d, (size_t)words * sizeof(d[0])) < 0)
		return -EFAULT;
	return 0;
}

/* capset(2): only the caller's own sets; no set may grow beyond what
 * cap_capset() of Linux allows. */
long sys_capset(struct task *t, const struct syscall_args *args)
{
	struct cap_header h;
	long words = cap_words(t, arg_addr(args, 0), &h);
	if (words < 0)
		return words;
	if (ward_copy_in(task_as(t), &h.pid, gaddr_add(arg_addr(args, 0), 4), sizeof(h.pid)) < 0)
		return -EFAULT;
	if (h.pid != 0 && h.pid != t->tid)
		return -EPERM;
	struct cap_data d[2];
	memset(d, 0, sizeof(d));
	if (ward_copy_in(task_as(t), d, arg_addr(args, 1), (size_t)words * sizeof(d[0])) < 0)
		return -EFAULT;
	uint64_t ne = (d[0].effective | (uint64_t)d[1].effective << 32) & WARD_CAP_FULL;
	uint64_t np = (d[0].permitted | (uint64_t)d[1].permitted << 32) & WARD_CAP_FULL;
	uint64_t ni = (d[0].inheritable | (uint64_t)d[1].inheritable << 32) & WARD_CAP_FULL;
	struct creds *c = &t->creds;
	uint64_t e, p, i, b, a;
	creds_caps(c, &e, &p, &i, &b, &a);
	/* Without CAP_SETPCAP, inheritable may only take from permitted. */
	if (!(e & (1ULL << WARD_CAP_SETPCAP)) && (ni & ~(i | p)))
		return -EPERM;
	if (ni & ~(i | b))
		return -EPERM;
	if (np & ~p)
		return -EPERM;
	if (ne & ~np)
		return -EPERM;
	creds_caps_materialize(c);
	c->cap_effective = ne;
	c->cap_permitted = np;
	c->cap_inheritable = ni;
	c->cap_ambient &= np & ni;
	return 0;
}
