/* Capability sets and supplementary groups (see creds.h). */
#include "sentry/service.h"

#include "sentry/kernel/creds.h"

/* Capabilities a change of the fsuid moves (CAP_FS_MASK): CHOWN,
 * DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID, MKNOD, MAC_OVERRIDE. */
#define CAP_FS_MASK_ (0x1fULL | (1ULL << 27) | (1ULL << 32))

void creds_caps(const struct creds *c, uint64_t *effective, uint64_t *permitted, uint64_t *inheritable, uint64_t *bset,
		uint64_t *ambient)
{
	if (c->caps_set) {
		*effective = c->cap_effective;
		*permitted = c->cap_permitted;
		*inheritable = c->cap_inheritable;
		*bset = c->cap_bset;
		*ambient = c->cap_ambient;
		return;
	}
	*bset = WARD_CAP_FULL;
	*inheritable = 0;
	*ambient = 0;
	*permitted = (c->uid == 0 || c->euid == 0) ? WARD_CAP_FULL : 0;
	*effective = c->euid == 0 ? *permitted : 0;
}

void creds_caps_materialize(struct creds *c)
{
	if (c->caps_set)
		return;
	creds_caps(c, &c->cap_effective, &c->cap_permitted, &c->cap_inheritable, &c->cap_bset, &c->cap_ambient);
	c->caps_set = true;
}

bool creds_capable(const struct creds *c, int cap)
{
	uint64_t e, p, i, b, a;
	creds_caps(c, &e, &p, &i, &b, &a);
	return cap >= 0 && cap <= WARD_CAP_LAST_CAP && (e & (1ULL << cap));
}

/* new holds old's capabilities, made explicit: derived ones are derived
 * from the old uids, not the new. */
static void caps_from_old(struct creds *new, const struct creds *old)
{
	if (new->caps_set)
		return;
	creds_caps(old, &new->cap_effective, &new->cap_permitted, &new->cap_inheritable, &new->cap_bset,
		   &new->cap_ambient);
	new->caps_set = true;
}

/* cap_emulate_setxuid() of Linux's commoncap.c. */
void creds_fix_setuid(struct creds *new, const struct creds *old)
{
	caps_from_old(new, old);
	if (new->securebits & WARD_SECBIT_NO_SETUID_FIXUP)
		return;
	bool old_root = old->uid == 0 || old->euid == 0 || old->suid == 0;
	bool new_root = new->uid == 0 || new->euid == 0 || new->suid == 0;
	if (old_root && !new_root) {
		if (!(new->securebits &WARD_SECBIT_KEEP_CAPS)) {
			new->cap_permitted = 0;
			new->cap_effective = 0;
		}
		new->cap_ambient = 0;
	}
	if (old->euid == 0 && new->euid != 0)
		new->cap_effective = 0;
	if (old->euid != 0 && new->euid == 0)
		new->cap_effective = new->cap_permitted;
}

void creds_fix_setfsuid(struct creds *new, const struct creds *old)
{
	caps_from_old(new, old);
	if (new->securebits & WARD_SECBIT_NO_SETUID_FIXUP)
		return;
	if (old->fsuid == 0 && new->fsuid != 0)
		new->cap_effective &= ~CAP_FS_MASK_;
	if (old->fsuid != 0 && new->fsuid == 0)
		new->cap_effective |= new->cap_permitted &CAP_FS_MASK_;
}

void creds_exec(struct creds *c)
{
	c->securebits &= ~WARD_SECBIT_KEEP_CAPS;
	if (!c->caps_set)
		return; /* still derived from the uids: nothing to recompute */
	bool root = !(c->securebits & WARD_SECBIT_NOROOT) && (c->uid == 0 || c->euid == 0);
	if (root) {
		c->cap_permitted = c->cap_bset | c->cap_inheritable;
		c->cap_effective = c->euid == 0 ? c->cap_permitted : c->cap_ambient;
	} else {
		c->cap_permitted = c->cap_ambient;
		c->cap_effective = c->cap_ambient;
	}
}

bool creds_may_kill(const struct creds *sender, const struct creds *target)
{
	return sender->euid == target->suid || sender->euid == target->uid || sender->uid == target->suid ||
	       sender->uid == target->uid || creds_capable(sender, WARD_CAP_KILL);
}

/* Groups. */

static struct group_list *all_lists;
static int nlists;
/* Collect unused lists once this many exist. */
#define GROUPS_GC_AT 64

static void mark_process(struct process *p, void *arg)
{
	(void)arg;
	for (struct task *t = p->threads; t; t = t->next_in_proc)
		if (t->creds.groups)
			((struct group_list *)t->creds.groups)->mark = true;
}

/* Frees the lists no live task holds. Callers hold the kernel lock, so
 * no clone is half-way through copying creds. */
static void groups_gc(void)
{
	for (struct group_list *g = all_lists; g; g = g->next_all)
		g->mark = false;
	process_for_each(mark_process, NULL);
	struct task *cur = task_current();
	if (cur && cur->creds.groups)
		((struct group_list *)cur->creds.groups)->mark = true;
	for (struct group_list **pp = &all_lists; *pp;) {
		struct group_list *g = *pp;
		if (!g->mark) {
			*pp = g->next_all;
			free(g);
			nlists--;
		} else {
			pp = &g->next_all;
		}
	}
}

const struct group_list *groups_intern(const uint32_t *gids, int n, long *err)
{
	*err = 0;
	if (n == 0)
		return NULL;
	for (struct group_list *g = all_lists; g; g = g->next_all)
		if (g->n == n && memcmp(g->gid, gids, (size_t)n * sizeof(uint32_t)) == 0)
			return g;
	if (nlists >= GROUPS_GC_AT)
		groups_gc();
	struct group_list *g = malloc(sizeof(*g) + (size_t)n * sizeof(uint32_t));
	if (!g) {
		*err = -ENOMEM;
		return NULL;
	}
	g->mark = false;
	g->n = n;
	memcpy(g->gid, gids, (size_t)n * sizeof(uint32_t));
	g->next_all = all_lists;
	all_lists = g;
	nlists++;
	return g;
}

bool creds_in_groups(const struct creds *c, uint32_t gid)
{
	const struct group_list *g = c->groups;
	if (!g)
		return false;
	int lo = 0, hi = g->n - 1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		if (g->gid[mid] == gid)
			return true;
		if (g->gid[mid] < gid)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}
