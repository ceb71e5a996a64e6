/* System V IPC (see ipc.h): identifiers, permissions, and the three kinds of
 * object, each following its file of Linux's ipc/ call by call. */
#include "sentry/service.h"

#include "sentry/kernel/creds.h"
#include "sentry/kernel/ipc.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"

/* <sys/ipc.h>, <sys/shm.h>, <sys/sem.h>, <sys/msg.h>: spelled out here,
 * since those headers declare the host's wrappers. */
#define IPC_PRIVATE_ 0
#define IPC_CREAT_ 01000
#define IPC_EXCL_ 02000
#define IPC_NOWAIT_ 04000
#define IPC_RMID_ 0
#define IPC_SET_ 1
#define IPC_STAT_ 2
#define IPC_INFO_ 3
#define SHM_RDONLY_ 010000
#define SHM_RND_ 020000
#define SHM_REMAP_ 040000
#define SHM_EXEC_ 0100000
#define SHM_LOCK_ 11
#define SHM_UNLOCK_ 12
#define SHM_STAT_ 13
#define SHM_INFO_ 14
#define SHM_STAT_ANY_ 15
#define SHM_DEST_ 01000
#define SHM_LOCKED_ 02000
#define GETPID_ 11
#define GETVAL_ 12
#define GETALL_ 13
#define GETNCNT_ 14
#define GETZCNT_ 15
#define SETVAL_ 16
#define SETALL_ 17
#define SEM_STAT_ 18
#define SEM_INFO_ 19
#define SEM_STAT_ANY_ 20
#define SEM_UNDO_ 0x1000
#define MSG_STAT_ 11
#define MSG_INFO_ 12
#define MSG_STAT_ANY_ 13
#define MSG_NOERROR_ 010000
#define MSG_EXCEPT_ 020000
#define MSG_COPY_ 040000

/* Linux's default limits (include/uapi/linux/{shm,sem,msg}.h). */
#define IPCMNI 32768
#define IPCID_SEQ_MAX (INT_MAX >> 15)
#define SHMMIN 1UL
#define SHMMAX (ULONG_MAX - (1UL << 24))
#define SHMALL (ULONG_MAX - (1UL << 24))
#define SHMMNI 4096
#define SEMMSL 32000
#define SEMMNI 32000
#define SEMMNS (SEMMNI * SEMMSL)
#define SEMOPM 500
#define SEMVMX 32767
#define SEMAEM SEMVMX
#define SEMUME SEMOPM
#define SEMMNU SEMMNS
#define SEMMAP SEMMNS
#define SEMUSZ 20
#define MSGMNI 32000
#define MSGMAX 8192
#define MSGMNB 16384
#define MSGPOOL (MSGMNI * MSGMNB / 1024)
#define MSGTQL MSGMNB
#define MSGMAP MSGMNB
#define MSGSSZ 16
#define MSGSEG 0xffff

#define CAP_IPC_LOCK_ 14
#define CAP_IPC_OWNER_ 15
#define CAP_SYS_ADMIN_ 21
#define CAP_SYS_RESOURCE_ 24

/* --- The ABI (x86-64). --- */

struct ipc64_perm_abi {
	int32_t key;
	uint32_t uid, gid, cuid, cgid;
	uint32_t mode;
	uint16_t seq;
	uint16_t pad2;
	uint64_t unused1, unused2;
};
_Static_assert(sizeof(struct ipc64_perm_abi) == 48, "ipc64_perm");

struct shmid64_ds_abi {
	struct ipc64_perm_abi perm;
	uint64_t segsz;
	int64_t atime, dtime, ctime;
	int32_t cpid, lpid;
	uint64_t nattch;
	uint64_t unused4, unused5;
};
_Static_assert(sizeof(struct shmid64_ds_abi) == 112, "shmid64_ds");

struct shminfo64_abi {
	uint64_t shmmax, shmmin, shmmni, shmseg, shmall;
	uint64_t unused[4];
};

struct shm_info_abi {
	int32_t used_ids;
	int32_t pad;
	uint64_t shm_tot, shm_rss, shm_swp, swap_attempts, swap_successes;
};
_Static_assert(sizeof(struct shm_info_abi) == 48, "shm_info");

struct semid64_ds_abi {
	struct ipc64_perm_abi perm;
	int64_t otime;
	uint64_t unused1;
	int64_t ctime;
	uint64_t unused2;
	uint64_t nsems;
	uint64_t unused3, unused4;
};
_Static_assert(sizeof(struct semid64_ds_abi) == 104, "semid64_ds");

struct seminfo_abi {
	int32_t semmap, semmni, semmns, semmnu, semmsl, semopm, semume, semusz, semvmx, semaem;
};

struct sembuf_abi {
	uint16_t sem_num;
	int16_t sem_op;
	int16_t sem_flg;
};
_Static_assert(sizeof(struct sembuf_abi) == 6, "sembuf");

struct msqid64_ds_abi {
	struct ipc64_perm_abi perm;
	int64_t stime, rtime, ctime;
	uint64_t cbytes, qnum, qbytes;
	int32_t lspid, lrpid;
	uint64_t unused4, unused5;
};
_Static_assert(sizeof(struct msqid64_ds_abi) == 120, "msqid64_ds");

struct msginfo_abi {
	int32_t msgpool, msgmap, msgmax, msgmnb, msgmni, msgssz, msgtql;
	uint16_t msgseg;
};
_Static_assert(sizeof(struct msginfo_abi) == 32, "msginfo");

/* --- Identifiers and permissions (ipc/util.c). --- */

struct kperm {
	int32_t key;
	uint32_t uid, gid, cuid, cgid;
	uint32_t mode;
	int seq;
	int id;
};

struct ids {
	struct kperm **slot; /* IPCMNI entries, made at first use */
	int in_use;
	int last_idx;
	int seq;
};

static struct ids shm_ids = { .last_idx = -1 };
static struct ids sem_ids = { .last_idx = -1 };
static struct ids msg_ids = { .last_idx = -1 };

static int64_t now_s(void)
{
	struct linux_timespec ts;
	ward_host_clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

static int32_t cur_tgid(void)
{
	struct task *t = task_current();
	return t ? t->tgid : 0;
}

/* ipc_addid: a slot taken cyclically below max(in_use * 3/2, 64), the
 * sequence number bumped when the search wraps. */
static long ids_add(struct ids *ids, struct kperm *p, int limit)
{
	if (ids->in_use >= limit)
		return -ENOSPC;
	if (!ids->slot) {
		ids->slot = calloc(IPCMNI, sizeof(*ids->slot));
		if (!ids->slot)
			return -ENOMEM;
	}
	int max_idx = WARD_MIN(WARD_MAX(ids->in_use * 3 / 2, 64), IPCMNI);
	int idx = -1;
	for (int i = ids->last_idx + 1; i < max_idx; i++) {
		if (!ids->slot[i]) {
			idx = i;
			break;
		}
	}
	for (int i = 0; idx < 0 && i < max_idx; i++)
		if (!ids->slot[i])
			idx = i;
	if (idx < 0)
		return -ENOSPC;
	if (idx <= ids->last_idx && ++ids->seq >= IPCID_SEQ_MAX)
		ids->seq = 0;
	ids->last_idx = idx;
	p->seq = ids->seq;
	p->id = p->seq * IPCMNI + idx;
	ids->slot[idx] = p;
	ids->in_use++;
	return p->id;
}

static void ids_remove(struct ids *ids, struct kperm *p)
{
	ids->slot[p->id % IPCMNI] = NULL;
	ids->in_use--;
}

/* ipc_obtain_object_idr: by slot alone (the *_STAT commands). */
static struct kperm *ids_by_idx(struct ids *ids, int id)
{
	if (!ids->slot || id < 0)
		return NULL;
	return ids->slot[id % IPCMNI];
}

/* ipc_obtain_object_check: the slot, and the sequence number must match. */
static struct kperm *ids_by_id(struct ids *ids, int id)
{
	struct kperm *p = ids_by_idx(ids, id);
	return p && p->id == id ? p : NULL;
}

static struct kperm *ids_by_key(struct ids *ids, int32_t key)
{
	if (!ids->slot)
		return NULL;
	for (int i = 0; i < IPCMNI; i++)
		if (ids->slot[i] && ids->slot[i]->key == key)
			return ids->slot[i];
	return NULL;
}

/* ipc_get_maxidx. */
static int ids_max_idx(const struct ids *ids)
{
	if (ids->in_use == 0)
		return 0;
	int m = 0;
	for (int i = 0; i < IPCMNI; i++)
		if (ids->slot[i])
			m = i;
	return m;
}

static void perm_init(struct task *t, struct kperm *p, int32_t key, int flg)
{
	p->key = key;
	p->mode = (uint32_t)flg & 0777;
	p->uid = p->cuid = t->creds.euid;
	p->gid = p->cgid = t->creds.egid;
}

/* ipcperms: flag is the access wanted (S_IRUGO, S_IWUGO...). */
static bool perm_ok(struct task *t, const struct kperm *p, int flag)
{
	const struct creds *c = &t->creds;
	int requested = (flag >> 6) | (flag >> 3) | flag;
	int granted = (int)p->mode;
	if (c->euid == p->cuid || c->euid == p->uid)
		granted >>= 6;
	else if (c->fsgid == p->cgid || c->fsgid == p->gid || creds_in_groups(c, p->cgid) || creds_in_groups(c, p->gid))
		granted >>= 3;
	return !(requested & ~granted & 07) || creds_capable(c, CAP_IPC_OWNER_);
}

/* ipcctl_obtain_check's rule for IPC_SET and IPC_RMID. */
static bool perm_owner(struct task *t, const struct kperm *p)
{
	return t->creds.euid == p->cuid || t->creds.euid == p->uid || creds_capable(&t->creds, CAP_SYS_ADMIN_);
}

static void perm_out(const struct kperm *p, struct ipc64_perm_abi *o)
{
	*o = (struct ipc64_perm_abi){ .key = p->key,
				      .uid = p->uid,
				      .gid = p->gid,
				      .cuid = p->cuid,
				      .cgid = p->cgid,
				      .mode = p->mode,
				      .seq = (uint16_t)p->seq };
}

/* ipc_update_perm. */
static long perm_set(struct kperm *p, const struct ipc64_perm_abi *in)
{
	if (in->uid == (uint32_t)-1 || in->gid == (uint32_t)-1)
		return -EINVAL;
	p->uid = in->uid;
	p->gid = in->gid;
	p->mode = (p->mode & ~0777u) | (in->mode & 0777);
	return 0;
}

/* ipcget: a new object for IPC_PRIVATE; otherwise the key's, made with
 * IPC_CREAT when missing. more_checks is the kind's test of an existing
 * object (size, nsems); make creates one. */
static long ipcget(struct task *t, struct ids *ids, int32_t key, int flg, long (*more_checks)(struct kperm *, long),
		   long arg, long (*make)(struct task *, int32_t, int, long))
{
	if (key == IPC_PRIVATE_)
		return make(t, key, flg, arg);
	struct kperm *p = ids_by_key(ids, key);
	if (!p)
		return (flg & IPC_CREAT_) ? make(t, key, flg, arg) : -ENOENT;
	if ((flg & IPC_CREAT_) && (flg & IPC_EXCL_))
		return -EEXIST;
	if (more_checks) {
		long r = more_checks(p, arg);
		if (r < 0)
			return r;
	}
	return perm_ok(t, p, flg) ? p->id : -EACCES;
}

/* --- Shared memory (ipc/shm.c). --- */

struct shm_seg {
	struct kperm perm; /* first */
	uint64_t segsz;
	int64_t atime, dtime, ctime;
	int32_t cpid, lpid;
	uint64_t nattch;
	struct shm_backing b;
};

static uint64_t shm_tot; /* pages of all segments */

static struct shm_seg *shm_of(struct shm_backing *b)
{
	return (struct shm_seg *)((char *)b - offsetof(struct shm_seg, b));
}

static void shm_destroy(struct shm_seg *s)
{
	ids_remove(&shm_ids, &s->perm);
	shm_tot -= s->b.len / WARD_PAGE_SIZE;
	ward_memfile_free(s->b.off, s->b.len);
	free(s);
}

static void shm_vm_open(struct shm_backing *b)
{
	struct shm_seg *s = shm_of(b);
	s->atime = now_s();
	s->lpid = cur_tgid();
	s->nattch++;
}

static void shm_vm_close(struct shm_backing *b)
{
	struct shm_seg *s = shm_of(b);
	s->lpid = cur_tgid();
	s->dtime = now_s();
	if (--s->nattch == 0 && (s->perm.mode & SHM_DEST_))
		shm_destroy(s);
}

static const struct shm_backing_ops shm_vm_ops = { shm_vm_open, shm_vm_close };

/* newseg. */
static long shm_make(struct task *t, int32_t key, int flg, long arg)
{
	uint64_t size = (uint64_t)arg;
	if (size < SHMMIN || size > SHMMAX)
		return -EINVAL;
	uint64_t len = WARD_PAGE_ALIGN_UP(size);
	if (len < size)
		return -ENOSPC;
	uint64_t pages = len / WARD_PAGE_SIZE;
	if (shm_tot + pages < shm_tot || shm_tot + pages > SHMALL)
		return -ENOSPC;
	if (shm_ids.in_use >= SHMMNI)
		return -ENOSPC;
	struct shm_seg *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	/* The memory file holds the segment from the start; it is sparse, so
	 * untouched pages cost nothing. A segment larger than the memory file
	 * can ever hold is ENOMEM here, where Linux would fail at fault time. */
	long r = ward_memfile_alloc(len, &s->b.off);
	if (r < 0) {
		free(s);
		return -ENOMEM;
	}
	perm_init(t, &s->perm, key, flg);
	s->segsz = size;
	s->ctime = now_s();
	s->cpid = t->tgid;
	s->b.len = len;
	s->b.ops = &shm_vm_ops;
	s->b.key = key;
	r = ids_add(&shm_ids, &s->perm, SHMMNI);
	if (r < 0) {
		ward_memfile_free(s->b.off, len);
		free(s);
		return r;
	}
	shm_tot += pages;
	return r;
}

static long shm_more_checks(struct kperm *p, long size)
{
	return ((struct shm_seg *)p)->segsz < (uint64_t)size ? -EINVAL : 0;
}

long ipc_shmget(struct task *t, int32_t key, uint64_t size, int flg)
{
	return ipcget(t, &shm_ids, key, flg, shm_more_checks, (long)size, shm_make);
}

long ipc_shmat(struct task *t, int id, uint64_t addr, int flg)
{
	if (id < 0)
		return -EINVAL;
	if (addr) {
		if (addr & (WARD_PAGE_SIZE - 1)) {
			if (!(flg & SHM_RND_))
				return -EINVAL;
			addr &= ~(uint64_t)(WARD_PAGE_SIZE - 1);
			if (!addr && (flg & SHM_REMAP_))
				return -EINVAL;
		}
	} else if (flg & SHM_REMAP_) {
		return -EINVAL;
	}
	int prot = PROT_READ, acc = 0444;
	if (!(flg & SHM_RDONLY_)) {
		prot |= PROT_WRITE;
		acc |= 0222;
	}
	if (flg & SHM_EXEC_) {
		prot |= PROT_EXEC;
		acc |= 0111;
	}
	struct shm_seg *s = (struct shm_seg *)ids_by_id(&shm_ids, id);
	if (!s)
		return -EINVAL;
	if (!perm_ok(t, &s->perm, acc))
		return -EACCES;
	if (addr && !(flg & SHM_REMAP_) && addr + s->segsz < addr)
		return -EINVAL;
	/* Held across the map, as do_shmat does, so that replacing an old
	 * attachment of a removed segment cannot free it under us. */
	s->nattch++;
	long r = mm_shmat(t->mm, addr, prot, flg & SHM_REMAP_, &s->b);
	if (--s->nattch == 0 && (s->perm.mode & SHM_DEST_))
		shm_destroy(s);
	return r;
}

long ipc_shmdt(struct task *t, uint64_t addr)
{
	return mm_shmdt(t->mm, addr);
}

static void shm_stat_out(const struct shm_seg *s, struct shmid64_ds_abi *o)
{
	memset(o, 0, sizeof(*o));
	perm_out(&s->perm, &o->perm);
	o->segsz = s->segsz;
	o->atime = s->atime;
	o->dtime = s->dtime;
	o->ctime = s->ctime;
	o->cpid = s->cpid;
	o->lpid = s->lpid;
	o->nattch = s->nattch;
}

long ipc_shmctl(struct task *t, int id, int cmd, gaddr_t buf)
{
	struct ward_as *as = task_as(t);
	if (cmd < 0 || id < 0)
		return -EINVAL;
	switch (cmd) {
	case IPC_INFO_: {
		struct shminfo64_abi i = {
			.shmmax = SHMMAX, .shmmin = SHMMIN, .shmmni = SHMMNI, .shmseg = SHMMNI, .shmall = SHMALL
		};
		int r = ids_max_idx(&shm_ids);
		return WARD_COPY_OUT_OBJ(as, buf, &i) < 0 ? -EFAULT : r;
	}
	case SHM_INFO_: {
		/* Every page of a segment counts as resident: the memory file
		 * does not say which were touched. */
		struct shm_info_abi i = { .used_ids = shm_ids.in_use, .shm_tot = shm_tot, .shm_rss = shm_tot };
		int r = ids_max_idx(&shm_ids);
		return WARD_COPY_OUT_OBJ(as, buf, &i) < 0 ? -EFAULT : r;
	}
	case SHM_STAT_:
	case SHM_STAT_ANY_:
	case IPC_STAT_: {
		struct shm_seg *s =
			(struct shm_seg *)(cmd == IPC_STAT_ ? ids_by_id(&shm_ids, id) : ids_by_idx(&shm_ids, id));
		if (!s)
			return -EINVAL;
		if (cmd != SHM_STAT_ANY_ && !perm_ok(t, &s->perm, 0444))
			return -EACCES;
		struct shmid64_ds_abi o;
		shm_stat_out(s, &o);
		if (WARD_COPY_OUT_OBJ(as, buf, &o) < 0)
			return -EFAULT;
		return cmd == IPC_STAT_ ? 0 : s->perm.id;
	}
	case IPC_SET_:
	case IPC_RMID_: {
		struct shmid64_ds_abi in;
		if (cmd == IPC_SET_ && WARD_COPY_IN_OBJ(as, &in, buf) < 0)
			return -EFAULT;
		struct shm_seg *s = (struct shm_seg *)ids_by_id(&shm_ids, id);
		if (!s)
			return -EINVAL;
		if (!perm_owner(t, &s->perm))
			return -EPERM;
		if (cmd == IPC_SET_) {
			long r = perm_set(&s->perm, &in.perm);
			if (r == 0)
				s->ctime = now_s();
			return r;
		}
		/* do_shm_rmid: gone now, or marked and made private until the
		 * last detach. */
		if (s->nattch) {
			s->perm.mode |= SHM_DEST_;
			s->perm.key = IPC_PRIVATE_;
			s->b.key = IPC_PRIVATE_;
		} else {
			shm_destroy(s);
		}
		return 0;
	}
	case SHM_LOCK_:
	case SHM_UNLOCK_: {
		/* Segments are never paged out by the sentry: locking is the
		 * mode bit and Linux's permission and limit rules. */
		struct shm_seg *s = (struct shm_seg *)ids_by_id(&shm_ids, id);
		if (!s)
			return -EINVAL;
		bool cap = creds_capable(&t->creds, CAP_IPC_LOCK_);
		uint64_t limit = t->rlimits[RLIMIT_MEMLOCK].rlim_cur;
		if (!cap) {
			if (t->creds.euid != s->perm.uid && t->creds.euid != s->perm.cuid)
				return -EPERM;
			if (cmd == SHM_LOCK_ && limit == 0)
				return -EPERM;
		}
		if (cmd == SHM_LOCK_) {
			if (!(s->perm.mode & SHM_LOCKED_) && !cap && limit != RLIM_INFINITY &&
			    s->b.len / WARD_PAGE_SIZE > limit / WARD_PAGE_SIZE)
				return -ENOMEM;
			s->perm.mode |= SHM_LOCKED_;
		} else {
			s->perm.mode &= ~(uint32_t)SHM_LOCKED_;
		}
		return 0;
	}
	default:
		return -EINVAL;
	}
}

/* --- Semaphores (ipc/sem.c). --- */

struct sem_undo;

struct sem_queue {
	struct task *task;
	struct sembuf_abi *sops;
	int nsops;
	struct sem_undo *un;
	int32_t pid;
	int blocking; /* the operation that blocks it */
	bool alter;
	long status; /* 1 while waiting, then the result */
	struct sem_queue *next;
};

struct sem_set {
	struct kperm perm; /* first */
	int nsems;
	int64_t otime, ctime;
	struct sem_queue *pending; /* FIFO */
	struct sem_undo *undos; /* every undo entry for this set */
	struct {
		int val;
		int32_t pid;
	} sems[];
};

struct sem_undo {
	int semid;
	struct sem_set *set;
	struct sem_undo_list *ulp;
	struct sem_undo *next_in_list;
	struct sem_undo *next_in_set;
	int16_t semadj[];
};

struct sem_undo_list {
	int refs;
	struct sem_undo *head;
};

static long used_sems;

static void undo_unlink(struct sem_undo *un)
{
	for (struct sem_undo **pp = &un->ulp->head; *pp; pp = &(*pp)->next_in_list)
		if (*pp == un) {
			*pp = un->next_in_list;
			break;
		}
	for (struct sem_undo **pp = &un->set->undos; *pp; pp = &(*pp)->next_in_set)
		if (*pp == un) {
			*pp = un->next_in_set;
			break;
		}
	free(un);
}

/* freeary: sleepers see EIDRM, undo entries go. */
static void sem_destroy(struct sem_set *s)
{
	while (s->undos)
		undo_unlink(s->undos);
	for (struct sem_queue *q = s->pending; q;) {
		struct sem_queue *next = q->next;
		q->status = -EIDRM;
		task_wake(q->task);
		q = next;
	}
	s->pending = NULL;
	ids_remove(&sem_ids, &s->perm);
	used_sems -= s->nsems;
	free(s);
}

static long sem_make(struct task *t, int32_t key, int flg, long nsems)
{
	if (nsems == 0)
		return -EINVAL;
	if (used_sems + nsems > SEMMNS)
		return -ENOSPC;
	struct sem_set *s = calloc(1, sizeof(*s) + (size_t)nsems * sizeof(s->sems[0]));
	if (!s)
		return -ENOMEM;
	perm_init(t, &s->perm, key, flg);
	s->nsems = (int)nsems;
	s->ctime = now_s();
	long r = ids_add(&sem_ids, &s->perm, SEMMNI);
	if (r < 0) {
		free(s);
		return r;
	}
	used_sems += nsems;
	return r;
}

static long sem_more_checks(struct kperm *p, long nsems)
{
	return nsems > ((struct sem_set *)p)->nsems ? -EINVAL : 0;
}

long ipc_semget(struct task *t, int32_t key, int nsems, int flg)
{
	if (nsems < 0 || nsems > SEMMSL)
		return -EINVAL;
	return ipcget(t, &sem_ids, key, flg, sem_more_checks, nsems, sem_make);
}

/* perform_atomic_semop_slow: all of the operations or none. 0 done, 1
 * would block (q->blocking says on which), -EAGAIN or -ERANGE. */
static long sem_perform(struct sem_set *s, struct sem_queue *q)
{
	long result;
	int i;
	for (i = 0; i < q->nsops; i++) {
		const struct sembuf_abi *op = &q->sops[i];
		int cur = s->sems[op->sem_num].val;
		if (op->sem_op == 0 && cur)
			goto would_block;
		int v = cur + op->sem_op;
		if (v < 0)
			goto would_block;
		if (v > SEMVMX) {
			result = -ERANGE;
			goto undo;
		}
		if (op->sem_flg & SEM_UNDO_) {
			int adj = q->un->semadj[op->sem_num] - op->sem_op;
			if (adj < -SEMAEM - 1 || adj > SEMAEM) {
				result = -ERANGE;
				goto undo;
			}
			q->un->semadj[op->sem_num] = (int16_t)adj;
		}
		s->sems[op->sem_num].val = v;
	}
	for (i = 0; i < q->nsops; i++)
		s->sems[q->sops[i].sem_num].pid = q->pid;
	return 0;
would_block:
	q->blocking = i;
	result = (q->sops[i].sem_flg & IPC_NOWAIT_) ? -EAGAIN : 1;
undo:
	while (--i >= 0) {
		const struct sembuf_abi *op = &q->sops[i];
		s->sems[op->sem_num].val -= op->sem_op;
		if (op->sem_flg & SEM_UNDO_)
			q->un->semadj[op->sem_num] = (int16_t)(q->un->semadj[op->sem_num] + op->sem_op);
	}
	return result;
}

/* update_queue: retries the sleepers in order after a change; each one
 * that completes (or fails) is woken with its result, and a completed
 * alteration starts the scan again. */
static void sem_update(struct sem_set *s)
{
again:
	for (struct sem_queue **pp = &s->pending; *pp;) {
		struct sem_queue *q = *pp;
		long r = sem_perform(s, q);
		if (r > 0) {
			pp = &q->next;
			continue;
		}
		*pp = q->next;
		q->status = r;
		task_wake(q->task);
		if (r == 0) {
			s->otime = now_s();
			if (q->alter)
				goto again;
		}
	}
}

static struct sem_undo *undo_lookup(struct sem_undo_list *ulp, int semid)
{
	for (struct sem_undo *un = ulp ? ulp->head : NULL; un; un = un->next_in_list)
		if (un->semid == semid)
			return un;
	return NULL;
}

/* find_alloc_undo. */
static long undo_find_alloc(struct task *t, int semid, struct sem_undo **out)
{
	if (!t->sysvsem) {
		t->sysvsem = calloc(1, sizeof(*t->sysvsem));
		if (!t->sysvsem)
			return -ENOMEM;
		t->sysvsem->refs = 1;
	}
	struct sem_undo *un = undo_lookup(t->sysvsem, semid);
	if (un) {
		*out = un;
		return 0;
	}
	struct sem_set *s = (struct sem_set *)ids_by_id(&sem_ids, semid);
	if (!s)
		return -EINVAL;
	un = calloc(1, sizeof(*un) + (size_t)s->nsems * sizeof(un->semadj[0]));
	if (!un)
		return -ENOMEM;
	un->semid = semid;
	un->set = s;
	un->ulp = t->sysvsem;
	un->next_in_list = t->sysvsem->head;
	t->sysvsem->head = un;
	un->next_in_set = s->undos;
	s->undos = un;
	*out = un;
	return 0;
}

static void queue_unlink(struct sem_set *s, struct sem_queue *q)
{
	for (struct sem_queue **pp = &s->pending; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			return;
		}
}

long ipc_semtimedop(struct task *t, int id, gaddr_t sops_addr, uint64_t nsops, gaddr_t timeout)
{
	struct ward_as *as = task_as(t);
	if (nsops < 1 || id < 0)
		return -EINVAL;
	if (nsops > SEMOPM)
		return -E2BIG;
	struct sembuf_abi sops[SEMOPM];
	if (ward_copy_in(as, sops, sops_addr, nsops * sizeof(sops[0])) < 0)
		return -EFAULT;
	int64_t deadline = 0;
	if (!gaddr_is_null(timeout)) {
		struct linux_timespec ts;
		if (WARD_COPY_IN_OBJ(as, &ts, timeout) < 0)
			return -EFAULT;
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L)
			return -EINVAL;
		deadline = ward_now_ns() + ts.tv_sec * 1000000000L + ts.tv_nsec;
		if (deadline <= 0)
			deadline = 1;
	}
	int max = 0;
	bool undos = false, alter = false;
	for (uint64_t i = 0; i < nsops; i++) {
		if (sops[i].sem_num >= max)
			max = sops[i].sem_num;
		if (sops[i].sem_flg & SEM_UNDO_)
			undos = true;
		if (sops[i].sem_op != 0)
			alter = true;
	}
	struct sem_undo *un = NULL;
	if (undos) {
		long r = undo_find_alloc(t, id, &un);
		if (r < 0)
			return r;
	}
	struct sem_set *s = (struct sem_set *)ids_by_id(&sem_ids, id);
	if (!s)
		return -EINVAL;
	if (max >= s->nsems)
		return -EFBIG;
	if (!perm_ok(t, &s->perm, alter ? 0222 : 0444))
		return -EACCES;
	struct sem_queue q = {
		.task = t, .sops = sops, .nsops = (int)nsops, .un = un, .pid = t->tgid, .alter = alter, .status = 1
	};
	long r = sem_perform(s, &q);
	if (r == 0) {
		s->otime = now_s();
		if (alter)
			sem_update(s);
		return 0;
	}
	if (r < 0)
		return r;
	struct sem_queue **tail = &s->pending;
	while (*tail)
		tail = &(*tail)->next;
	*tail = &q;
	for (;;) {
		long sr = task_sleep(t, deadline);
		/* Done by the waker (or removed: EIDRM, s is gone). */
		if (q.status != 1)
			return q.status;
		if (sr == -ETIMEDOUT || sr == -EINTR) {
			queue_unlink(s, &q);
			return sr == -ETIMEDOUT ? -EAGAIN : -EINTR;
		}
	}
}

/* Counts the sleepers blocked on semnum: for GETNCNT those that wait to
 * decrease it, for GETZCNT those that wait for zero (count_semcnt). */
static int sem_count(struct sem_set *s, int semnum, bool zero)
{
	int n = 0;
	for (struct sem_queue *q = s->pending; q; q = q->next) {
		const struct sembuf_abi *op = &q->sops[q->blocking];
		if (op->sem_num == semnum && (zero ? op->sem_op == 0 : op->sem_op < 0))
			n++;
	}
	return n;
}

static void sem_clear_undos(struct sem_set *s, int semnum)
{
	for (struct sem_undo *un = s->undos; un; un = un->next_in_set) {
		if (semnum < 0)
			memset(un->semadj, 0, (size_t)s->nsems * sizeof(un->semadj[0]));
		else
			un->semadj[semnum] = 0;
	}
}

long ipc_semctl(struct task *t, int id, int semnum, int cmd, uint64_t arg)
{
	struct ward_as *as = task_as(t);
	gaddr_t p = gaddr(arg);
	if (id < 0)
		return -EINVAL;
	switch (cmd) {
	case IPC_INFO_:
	case SEM_INFO_: {
		struct seminfo_abi i = { .semmni = SEMMNI,
					 .semmns = SEMMNS,
					 .semmsl = SEMMSL,
					 .semopm = SEMOPM,
					 .semvmx = SEMVMX,
					 .semmnu = SEMMNU,
					 .semmap = SEMMAP,
					 .semume = SEMUME,
					 .semusz = cmd == SEM_INFO_ ? sem_ids.in_use : SEMUSZ,
					 .semaem = cmd == SEM_INFO_ ? (int)used_sems : SEMAEM };
		int r = ids_max_idx(&sem_ids);
		return WARD_COPY_OUT_OBJ(as, p, &i) < 0 ? -EFAULT : r;
	}
	case IPC_STAT_:
	case SEM_STAT_:
	case SEM_STAT_ANY_: {
		struct sem_set *s =
			(struct sem_set *)(cmd == IPC_STAT_ ? ids_by_id(&sem_ids, id) : ids_by_idx(&sem_ids, id));
		if (!s)
			return -EINVAL;
		if (cmd != SEM_STAT_ANY_ && !perm_ok(t, &s->perm, 0444))
			return -EACCES;
		struct semid64_ds_abi o = { .otime = s->otime, .ctime = s->ctime, .nsems = (uint64_t)s->nsems };
		perm_out(&s->perm, &o.perm);
		if (WARD_COPY_OUT_OBJ(as, p, &o) < 0)
			return -EFAULT;
		return cmd == IPC_STAT_ ? 0 : s->perm.id;
	}
	case GETALL_:
	case GETVAL_:
	case GETPID_:
	case GETNCNT_:
	case GETZCNT_:
	case SETALL_: {
		struct sem_set *s = (struct sem_set *)ids_by_id(&sem_ids, id);
		if (!s)
			return -EINVAL;
		if (!perm_ok(t, &s->perm, cmd == SETALL_ ? 0222 : 0444))
			return -EACCES;
		if (cmd == GETALL_ || cmd == SETALL_) {
			uint16_t *vals = calloc((size_t)s->nsems, sizeof(*vals));
			if (!vals)
				return -ENOMEM;
			long r = 0;
			if (cmd == GETALL_) {
				for (int i = 0; i < s->nsems; i++)
					vals[i] = (uint16_t)s->sems[i].val;
				if (ward_copy_out(as, p, vals, (size_t)s->nsems * sizeof(*vals)) < 0)
					r = -EFAULT;
			} else if (ward_copy_in(as, vals, p, (size_t)s->nsems * sizeof(*vals)) < 0) {
				r = -EFAULT;
			} else {
				for (int i = 0; i < s->nsems && r == 0; i++)
					if (vals[i] > SEMVMX)
						r = -ERANGE;
				for (int i = 0; i < s->nsems && r == 0; i++) {
					s->sems[i].val = vals[i];
					s->sems[i].pid = t->tgid;
				}
				if (r == 0) {
					sem_clear_undos(s, -1);
					s->ctime = now_s();
					sem_update(s);
				}
			}
			free(vals);
			return r;
		}
		if (semnum < 0 || semnum >= s->nsems)
			return -EINVAL;
		switch (cmd) {
		case GETVAL_:
			return s->sems[semnum].val;
		case GETPID_:
			return s->sems[semnum].pid;
		case GETNCNT_:
			return sem_count(s, semnum, false);
		default:
			return sem_count(s, semnum, true);
		}
	}
	case SETVAL_: {
		int val = (int)(uint32_t)arg;
		if (val > SEMVMX || val < 0)
			return -ERANGE;
		struct sem_set *s = (struct sem_set *)ids_by_id(&sem_ids, id);
		if (!s)
			return -EINVAL;
		if (semnum < 0 || semnum >= s->nsems)
			return -EINVAL;
		if (!perm_ok(t, &s->perm, 0222))
			return -EACCES;
		sem_clear_undos(s, semnum);
		s->sems[semnum].val = val;
		s->sems[semnum].pid = t->tgid;
		s->ctime = now_s();
		sem_update(s);
		return 0;
	}
	case IPC_SET_:
	case IPC_RMID_: {
		struct semid64_ds_abi in;
		if (cmd == IPC_SET_ && WARD_COPY_IN_OBJ(as, &in, p) < 0)
			return -EFAULT;
		struct sem_set *s = (struct sem_set *)ids_by_id(&sem_ids, id);
		if (!s)
			return -EINVAL;
		if (!perm_owner(t, &s->perm))
			return -EPERM;
		if (cmd == IPC_RMID_) {
			sem_destroy(s);
			return 0;
		}
		long r = perm_set(&s->perm, &in.perm);
		if (r == 0)
			s->ctime = now_s();
		return r;
	}
	default:
		return -EINVAL;
	}
}

long ipc_undo_clone(struct task *parent, struct task *child, bool share)
{
	child->sysvsem = NULL;
	if (!share)
		return 0;
	if (!parent->sysvsem) {
		parent->sysvsem = calloc(1, sizeof(*parent->sysvsem));
		if (!parent->sysvsem)
			return -ENOMEM;
		parent->sysvsem->refs = 1;
	}
	parent->sysvsem->refs++;
	child->sysvsem = parent->sysvsem;
	return 0;
}

/* exit_sem: each adjustment is applied, the value kept within [0, SEMVMX]. */
void ipc_undo_put(struct task *t)
{
	struct sem_undo_list *ulp = t->sysvsem;
	t->sysvsem = NULL;
	if (!ulp || --ulp->refs > 0)
		return;
	while (ulp->head) {
		struct sem_undo *un = ulp->head;
		struct sem_set *s = un->set;
		for (int i = 0; i < s->nsems; i++) {
			if (!un->semadj[i])
				continue;
			int v = s->sems[i].val + un->semadj[i];
			s->sems[i].val = v < 0 ? 0 : v > SEMVMX ? SEMVMX : v;
			s->sems[i].pid = t->tgid;
		}
		undo_unlink(un);
		sem_update(s);
	}
	free(ulp);
}

/* --- Message queues (ipc/msg.c). --- */

struct msg {
	int64_t type;
	uint64_t size;
	struct msg *next;
	char text[];
};

struct msg_queue {
	struct kperm perm; /* first */
	int64_t stime, rtime, ctime;
	uint64_t cbytes, qnum, qbytes;
	int32_t lspid, lrpid;
	struct msg *head;
	bool removed;
	/* Senders waiting for room and receivers waiting for a message. */
	struct waitq senders, receivers;
	int sleepers;
};

static uint64_t msg_bytes, msg_hdrs;

static long msg_make(struct task *t, int32_t key, int flg, long arg)
{
	(void)arg;
	struct msg_queue *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	perm_init(t, &q->perm, key, flg);
	q->ctime = now_s();
	q->qbytes = MSGMNB;
	long r = ids_add(&msg_ids, &q->perm, MSGMNI);
	if (r < 0)
		free(q);
	return r;
}

long ipc_msgget(struct task *t, int32_t key, int flg)
{
	return ipcget(t, &msg_ids, key, flg, NULL, 0, msg_make);
}

/* The queue goes when its last sleeper has seen it removed. */
static void msg_maybe_free(struct msg_queue *q)
{
	if (q->removed && q->sleepers == 0)
		free(q);
}

/* freeque. */
static void msg_destroy(struct msg_queue *q)
{
	while (q->head) {
		struct msg *m = q->head;
		q->head = m->next;
		msg_bytes -= m->size;
		msg_hdrs--;
		free(m);
	}
	ids_remove(&msg_ids, &q->perm);
	q->removed = true;
	waitq_wake_all(&q->senders);
	waitq_wake_all(&q->receivers);
	msg_maybe_free(q);
}

/* Sleeps on wq until woken; the queue may be removed meanwhile. Returns
 * task_sleep's result. */
static long msg_wait(struct task *t, struct msg_queue *q, struct waitq *wq)
{
	struct waiter w;
	waitq_add(wq, &w, t);
	q->sleepers++;
	long r = task_sleep(t, 0);
	q->sleepers--;
	waitq_remove(wq, &w);
	return r;
}

long ipc_msgsnd(struct task *t, int id, gaddr_t msgp, uint64_t msgsz, int flg)
{
	struct ward_as *as = task_as(t);
	int64_t type;
	if (WARD_COPY_IN_OBJ(as, &type, msgp) < 0)
		return -EFAULT;
	if (msgsz > MSGMAX || (int64_t)msgsz < 0 || id < 0)
		return -EINVAL;
	if (type < 1)
		return -EINVAL;
	struct msg *m = malloc(sizeof(*m) + msgsz);
	if (!m)
		return -ENOMEM;
	m->type = type;
	m->size = msgsz;
	m->next = NULL;
	if (ward_copy_in(as, m->text, gaddr(msgp.v + sizeof(int64_t)), msgsz) < 0) {
		free(m);
		return -EFAULT;
	}
	struct msg_queue *q = (struct msg_queue *)ids_by_id(&msg_ids, id);
	if (!q) {
		free(m);
		return -EINVAL;
	}
	for (;;) {
		long r = 0;
		if (!perm_ok(t, &q->perm, 0222))
			r = -EACCES;
		else if (q->removed)
			r = -EIDRM;
		else if (msgsz + q->cbytes <= q->qbytes && 1 + q->qnum <= q->qbytes)
			break;
		else if (flg & IPC_NOWAIT_)
			r = -EAGAIN;
		else if (msg_wait(t, q, &q->senders) == -EINTR && !q->removed)
			r = -WARD_ERESTARTNOHAND;
		if (r < 0) {
			free(m);
			msg_maybe_free(q);
			return r;
		}
	}
	q->lspid = t->tgid;
	q->stime = now_s();
	struct msg **tail = &q->head;
	while (*tail)
		tail = &(*tail)->next;
	*tail = m;
	q->cbytes += msgsz;
	q->qnum++;
	msg_bytes += msgsz;
	msg_hdrs++;
	waitq_wake_all(&q->receivers);
	return 0;
}

enum { SEARCH_ANY, SEARCH_EQUAL, SEARCH_NOTEQUAL, SEARCH_LESSEQUAL, SEARCH_NUMBER };

/* find_msg: the first message that matches; for SEARCH_LESSEQUAL the one of
 * lowest type (the first of them); for SEARCH_NUMBER the typ'th. */
static struct msg **msg_find(struct msg_queue *q, int64_t typ, int mode)
{
	struct msg **found = NULL;
	int64_t count = 0;
	for (struct msg **pp = &q->head; *pp; pp = &(*pp)->next) {
		int64_t mt = (*pp)->type;
		bool ok = mode == SEARCH_ANY || mode == SEARCH_NUMBER || (mode == SEARCH_EQUAL && mt == typ) ||
			  (mode == SEARCH_NOTEQUAL && mt != typ) || (mode == SEARCH_LESSEQUAL && mt <= typ);
		if (!ok)
			continue;
		if (mode == SEARCH_LESSEQUAL && mt != 1) {
			typ = mt - 1;
			found = pp;
		} else if (mode == SEARCH_NUMBER) {
			if (typ == count)
				return pp;
		} else {
			return pp;
		}
		count++;
	}
	return found;
}

long ipc_msgrcv(struct task *t, int id, gaddr_t msgp, uint64_t bufsz, long msgtyp, int flg)
{
	struct ward_as *as = task_as(t);
	if (id < 0 || (int64_t)bufsz < 0)
		return -EINVAL;
	if ((flg & MSG_COPY_) && ((flg & MSG_EXCEPT_) || !(flg & IPC_NOWAIT_)))
		return -EINVAL;
	int mode;
	if (flg & MSG_COPY_) {
		mode = SEARCH_NUMBER;
	} else if (msgtyp == 0) {
		mode = SEARCH_ANY;
	} else if (msgtyp < 0) {
		msgtyp = msgtyp == LONG_MIN ? LONG_MAX : -msgtyp;
		mode = SEARCH_LESSEQUAL;
	} else {
		mode = (flg & MSG_EXCEPT_) ? SEARCH_NOTEQUAL : SEARCH_EQUAL;
	}
	struct msg_queue *q = (struct msg_queue *)ids_by_id(&msg_ids, id);
	if (!q)
		return -EINVAL;
	struct msg *m = NULL;
	for (;;) {
		long r = 0;
		struct msg **pp = NULL;
		if (!perm_ok(t, &q->perm, 0444))
			r = -EACCES;
		else if (q->removed)
			r = -EIDRM;
		else if ((pp = msg_find(q, msgtyp, mode)) != NULL) {
			if (bufsz < (*pp)->size && !(flg & MSG_NOERROR_)) {
				r = -E2BIG;
			} else if (flg & MSG_COPY_) {
				m = *pp;
				break;
			} else {
				m = *pp;
				*pp = m->next;
				q->qnum--;
				q->rtime = now_s();
				q->lrpid = t->tgid;
				q->cbytes -= m->size;
				msg_bytes -= m->size;
				msg_hdrs--;
				waitq_wake_all(&q->senders);
				break;
			}
		} else if (flg & IPC_NOWAIT_) {
			r = -ENOMSG;
		} else if (msg_wait(t, q, &q->receivers) == -EINTR && !q->removed) {
			r = -WARD_ERESTARTNOHAND;
		}
		if (r < 0) {
			msg_maybe_free(q);
			return r;
		}
	}
	/* do_msg_fill: the message is taken even if the copy fails. */
	uint64_t n = WARD_MIN(bufsz, m->size);
	long r = (long)n;
	if (WARD_COPY_OUT_OBJ(as, msgp, &m->type) < 0 ||
	    ward_copy_out(as, gaddr(msgp.v + sizeof(int64_t)), m->text, n) < 0)
		r = -EFAULT;
	if (!(flg & MSG_COPY_))
		free(m);
	return r;
}

static void msq_stat_out(const struct msg_queue *q, struct msqid64_ds_abi *o)
{
	memset(o, 0, sizeof(*o));
	perm_out(&q->perm, &o->perm);
	o->stime = q->stime;
	o->rtime = q->rtime;
	o->ctime = q->ctime;
	o->cbytes = q->cbytes;
	o->qnum = q->qnum;
	o->qbytes = q->qbytes;
	o->lspid = q->lspid;
	o->lrpid = q->lrpid;
}

long ipc_msgctl(struct task *t, int id, int cmd, gaddr_t buf)
{
	struct ward_as *as = task_as(t);
	if (id < 0 || cmd < 0)
		return -EINVAL;
	switch (cmd) {
	case IPC_INFO_:
	case MSG_INFO_: {
		struct msginfo_abi i = { .msgmni = MSGMNI,
					 .msgmax = MSGMAX,
					 .msgmnb = MSGMNB,
					 .msgssz = MSGSSZ,
					 .msgseg = MSGSEG,
					 .msgmap = cmd == MSG_INFO_ ? (int)msg_hdrs : MSGMAP,
					 .msgpool = cmd == MSG_INFO_ ? msg_ids.in_use : MSGPOOL,
					 .msgtql = cmd == MSG_INFO_ ? (int)msg_bytes : MSGTQL };
		int r = ids_max_idx(&msg_ids);
		return WARD_COPY_OUT_OBJ(as, buf, &i) < 0 ? -EFAULT : r;
	}
	case MSG_STAT_:
	case MSG_STAT_ANY_:
	case IPC_STAT_: {
		struct msg_queue *q =
			(struct msg_queue *)(cmd == IPC_STAT_ ? ids_by_id(&msg_ids, id) : ids_by_idx(&msg_ids, id));
		if (!q)
			return -EINVAL;
		if (cmd != MSG_STAT_ANY_ && !perm_ok(t, &q->perm, 0444))
			return -EACCES;
		struct msqid64_ds_abi o;
		msq_stat_out(q, &o);
		if (WARD_COPY_OUT_OBJ(as, buf, &o) < 0)
			return -EFAULT;
		return cmd == IPC_STAT_ ? 0 : q->perm.id;
	}
	case IPC_SET_:
	case IPC_RMID_: {
		struct msqid64_ds_abi in;
		if (cmd == IPC_SET_ && WARD_COPY_IN_OBJ(as, &in, buf) < 0)
			return -EFAULT;
		struct msg_queue *q = (struct msg_queue *)ids_by_id(&msg_ids, id);
		if (!q)
			return -EINVAL;
		if (!perm_owner(t, &q->perm))
			return -EPERM;
		if (cmd == IPC_RMID_) {
			msg_destroy(q);
			return 0;
		}
		if (in.qbytes > MSGMNB && !creds_capable(&t->creds, CAP_SYS_RESOURCE_))
			return -EPERM;
		long r = perm_set(&q->perm, &in.perm);
		if (r < 0)
			return r;
		q->qbytes = in.qbytes;
		q->ctime = now_s();
		/* More room, or other permissions: everyone looks again. */
		waitq_wake_all(&q->senders);
		waitq_wake_all(&q->receivers);
		return 0;
	}
	default:
		return -EINVAL;
	}
}

/* --- /proc/sysvipc (ipc/{shm,sem,msg}.c's sysvipc_*_proc_show). --- */

size_t ipc_format_proc(const char *which, char *buf, size_t len)
{
	size_t at = 0;
#define EMIT(...)                                                                                    \
	do {                                                                                         \
		int n_ = snprintf(at < len ? buf + at : NULL, at < len ? len - at : 0, __VA_ARGS__); \
		if (n_ > 0)                                                                          \
			at += (size_t)n_;                                                            \
	} while (0)
	bool shm = !strcmp(which, "shm"), sem = !strcmp(which, "sem");
	struct ids *ids = shm ? &shm_ids : sem ? &sem_ids : &msg_ids;
	if (shm)
		EMIT("       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid     "
		     " atime      dtime      ctime                   rss                  swap\n");
	else if (sem)
		EMIT("       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n");
	else
		EMIT("       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      "
		     "stime      rtime      ctime\n");
	for (int i = 0; ids->slot && i < IPCMNI; i++) {
		struct kperm *p = ids->slot[i];
		if (!p)
			continue;
		if (shm) {
			struct shm_seg *s = (struct shm_seg *)p;
			EMIT("%10d %10d  %4o %21" PRIu64 " %5d %5d  %5" PRIu64 " %5u %5u %5u %5u %10" PRId64
			     " %10" PRId64 " %10" PRId64 " %21" PRIu64 " %21" PRIu64 "\n",
			     p->key, p->id, p->mode, s->segsz, s->cpid, s->lpid, s->nattch, p->uid, p->gid, p->cuid,
			     p->cgid, s->atime, s->dtime, s->ctime, s->b.len, (uint64_t)0);
		} else if (sem) {
			struct sem_set *s = (struct sem_set *)p;
			EMIT("%10d %10d  %4o %10d %5u %5u %5u %5u %10" PRId64 " %10" PRId64 "\n", p->key, p->id,
			     p->mode, s->nsems, p->uid, p->gid, p->cuid, p->cgid, s->otime, s->ctime);
		} else {
			struct msg_queue *q = (struct msg_queue *)p;
			EMIT("%10d %10d  %4o  %10" PRIu64 " %10" PRIu64 " %5d %5d %5u %5u %5u %5u %10" PRId64
			     " %10" PRId64 " %10" PRId64 "\n",
			     p->key, p->id, p->mode, q->cbytes, q->qnum, q->lspid, q->lrpid, p->uid, p->gid, p->cuid,
			     p->cgid, q->stime, q->rtime, q->ctime);
		}
	}
#undef EMIT
	return at;
}
