/* System V shared memory: shmget with IPC_PRIVATE and keys (IPC_CREAT,
 * IPC_EXCL, sizes), shmat (SHM_RDONLY, SHM_RND, SHM_REMAP, an occupied
 * range), shmdt (with the pieces mprotect leaves), shmctl IPC_STAT/IPC_SET/
 * IPC_RMID (the segment lives on until its last detach), the attach count
 * across fork, exit and exec, and the permission rules for an unprivileged
 * caller. Checks made in a child are reported through its exit status. */
#include "ward_test.h"

#include <signal.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>

static void child_done(void)
{
	_exit(ward_test_failures ? 1 : 0);
}

static int reap(pid_t pid)
{
	int status = -1;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	return status;
}

static void reap_ok(pid_t pid)
{
	int status = reap(pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
}

static unsigned long nattch(int id)
{
	struct shmid_ds ds;
	if (shmctl(id, IPC_STAT, &ds) != 0)
		return (unsigned long)-1;
	return ds.shm_nattch;
}

/* A page-aligned range of len bytes that nothing maps. */
static char *free_range(size_t len)
{
	char *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	munmap(p, len);
	return p;
}

static void test_get(void)
{
	CHECK_ERRNO(shmget(IPC_PRIVATE, 0, 0600), EINVAL);
	CHECK_ERRNO(shmget(IPC_PRIVATE, ~0UL - (1UL << 24) + 1, 0600), EINVAL);

	int id = CHECK_OK(shmget(IPC_PRIVATE, 10000, 0640 | IPC_CREAT));
	struct shmid_ds ds;
	CHECK_OK(shmctl(id, IPC_STAT, &ds));
	CHECK_EQ(ds.shm_segsz, 10000);
	CHECK_EQ(ds.shm_nattch, 0);
	CHECK_EQ(ds.shm_perm.mode, 0640);
	CHECK_EQ(ds.shm_perm.__key, IPC_PRIVATE);
	CHECK_EQ(ds.shm_perm.uid, geteuid());
	CHECK_EQ(ds.shm_perm.cuid, geteuid());
	CHECK_EQ(ds.shm_perm.gid, getegid());
	CHECK_EQ(ds.shm_cpid, getpid());
	CHECK_EQ(ds.shm_lpid, 0);
	CHECK_EQ(ds.shm_atime, 0);
	CHECK(ds.shm_ctime > 0);
	/* Another IPC_PRIVATE call makes another segment. */
	int id2 = CHECK_OK(shmget(IPC_PRIVATE, 10000, 0600));
	CHECK(id2 != id);
	CHECK_OK(shmctl(id2, IPC_RMID, NULL));
	CHECK_OK(shmctl(id, IPC_RMID, NULL));
	CHECK_ERRNO(shmctl(id, IPC_STAT, &ds), EINVAL);

	/* A key: not there, made, found, refused with IPC_EXCL or a larger
	 * size. */
	key_t key = 0x57a00000 | (getpid() & 0xfffff);
	int old = shmget(key, 0, 0);
	if (old >= 0)
		shmctl(old, IPC_RMID, NULL);
	CHECK_ERRNO(shmget(key, 4096, 0600), ENOENT);
	id = CHECK_OK(shmget(key, 4096, 0600 | IPC_CREAT));
	CHECK_EQ(shmget(key, 4096, 0600 | IPC_CREAT), id);
	CHECK_EQ(shmget(key, 0, 0), id);
	CHECK_EQ(shmget(key, 100, 0), id);
	CHECK_ERRNO(shmget(key, 4096, 0600 | IPC_CREAT | IPC_EXCL), EEXIST);
	CHECK_ERRNO(shmget(key, 8192, 0600), EINVAL);
	CHECK_OK(shmctl(id, IPC_STAT, &ds));
	CHECK_EQ(ds.shm_perm.__key, key);
	/* /proc/sysvipc/shm lists it: key, id, perms, size, cpid. */
	FILE *f = fopen("/proc/sysvipc/shm", "r");
	CHECK(f != NULL);
	int found = 0;
	char line[512];
	while (f && fgets(line, sizeof(line), f)) {
		int k, i, cpid;
		unsigned perms;
		unsigned long size;
		if (sscanf(line, "%d %d %o %lu %d", &k, &i, &perms, &size, &cpid) == 5 && i == id) {
			found++;
			CHECK_EQ(k, key);
			CHECK_EQ(perms, 0600);
			CHECK_EQ(size, 4096);
			CHECK_EQ(cpid, getpid());
		}
	}
	if (f)
		fclose(f);
	CHECK_EQ(found, 1);
	CHECK_OK(shmctl(id, IPC_RMID, NULL));
	CHECK_ERRNO(shmget(key, 4096, 0600), ENOENT);

	CHECK_ERRNO(shmctl(-1, IPC_STAT, &ds), EINVAL);
	CHECK_ERRNO(shmctl(0x7fff0000, IPC_STAT, &ds), EINVAL);
	id = CHECK_OK(shmget(IPC_PRIVATE, 4096, 0600));
	CHECK_ERRNO(shmctl(id, 99, &ds), EINVAL);
	CHECK_ERRNO(shmctl(id, IPC_STAT, (struct shmid_ds *)8), EFAULT);
	CHECK_ERRNO(shmctl(id, IPC_SET, (struct shmid_ds *)8), EFAULT);
	struct shminfo info;
	CHECK(shmctl(0, IPC_INFO, (struct shmid_ds *)&info) >= 0);
	CHECK_EQ(info.shmmin, 1);
	CHECK_OK(shmctl(id, IPC_RMID, NULL));
}

static void test_attach(void)
{
	int id = CHECK_OK(shmget(IPC_PRIVATE, 3 * 4096, 0600));
	char *p = shmat(id, NULL, 0);
	CHECK(p != (char *)-1);
	CHECK_EQ((uintptr_t)p % 4096, 0);
	CHECK_EQ(nattch(id), 1);
	CHECK_EQ(p[0], 0);
	strcpy(p, "parent");
	struct shmid_ds ds;
	CHECK_OK(shmctl(id, IPC_STAT, &ds));
	CHECK_EQ(ds.shm_lpid, getpid());
	CHECK(ds.shm_atime > 0);

	/* A second attach sees the same memory. */
	char *q = shmat(id, NULL, SHM_RDONLY);
	CHECK(q != (char *)-1 && q != p);
	CHECK_STREQ(q, "parent");
	CHECK_EQ(nattch(id), 2);
	CHECK_OK(shmdt(q));
	CHECK_EQ(nattch(id), 1);

	/* /proc/self/maps names it. */
	char buf[65536] = { 0 };
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f != NULL);
	if (f) {
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = 0;
		fclose(f);
	}
	char want[64];
	snprintf(want, sizeof(want), "%lx-%lx rw-s 00000000", (unsigned long)p, (unsigned long)p + 3 * 4096);
	CHECK(strstr(buf, want) != NULL);
	CHECK(strstr(buf, "/SYSV00000000 (deleted)") != NULL);

	/* fork shares the attachment; the child's writes are seen. */
	pid_t pid = fork();
	if (pid == 0) {
		CHECK_EQ(nattch(id), 2);
		CHECK_STREQ(p, "parent");
		strcpy(p + 4096, "child");
		child_done();
	}
	reap_ok(pid);
	CHECK_STREQ(p + 4096, "child");
	CHECK_EQ(nattch(id), 1);

	/* A read-only attach faults on a write. */
	pid = fork();
	if (pid == 0) {
		CHECK_OK(shmdt(p));
		char *r = shmat(id, NULL, SHM_RDONLY);
		CHECK(r != (char *)-1);
		CHECK_STREQ(r, "parent");
		*(volatile char *)r = 'x';
		_exit(3);
	}
	int st = reap(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	CHECK_STREQ(p, "parent");

	/* mprotect splits the attachment in two: two attaches, and shmdt
	 * takes both pieces. */
	CHECK_OK(mprotect(p + 4096, 4096, PROT_READ));
	CHECK_EQ(nattch(id), 3);
	CHECK_ERRNO(shmdt(p + 1), EINVAL);
	CHECK_ERRNO(shmdt(p + 4096), EINVAL);
	CHECK_OK(shmdt(p));
	CHECK_EQ(nattch(id), 0);
	CHECK_ERRNO(shmdt(p), EINVAL);
	CHECK_ERRNO(shmdt(NULL), EINVAL);

	/* Addresses: SHM_RND rounds down, an unaligned one without it is
	 * EINVAL, an occupied range is EINVAL unless SHM_REMAP, which needs
	 * an address. */
	char *at = free_range(8 * 4096);
	CHECK_ERRNO(shmat(id, at + 100, 0), EINVAL);
	char *r = shmat(id, at + 100, SHM_RND);
	CHECK_EQ(r, at);
	CHECK_STREQ(r, "parent");
	CHECK_ERRNO(shmat(id, at + 4096, 0), EINVAL);
	CHECK_ERRNO(shmat(id, NULL, SHM_REMAP), EINVAL);
	char *m = mmap(at + 3 * 4096, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK_EQ(m, at + 3 * 4096);
	CHECK_ERRNO(shmat(id, at + 3 * 4096, 0), EINVAL);
	CHECK_EQ(shmat(id, at + 3 * 4096, SHM_REMAP), at + 3 * 4096);
	CHECK_STREQ(at + 3 * 4096, "parent");
	CHECK_EQ(nattch(id), 2);
	CHECK_OK(shmdt(at));
	CHECK_OK(shmdt(at + 3 * 4096));
	CHECK_EQ(nattch(id), 0);
	CHECK_ERRNO(shmat(-1, NULL, 0), EINVAL);
	CHECK_ERRNO(shmat(id + 1, NULL, 0), EINVAL);

	/* IPC_RMID while attached: marked SHM_DEST, made private, still
	 * attachable by id; gone at the last detach. */
	key_t key = 0x57b00000 | (getpid() & 0xfffff);
	int kid = shmget(key, 0, 0);
	if (kid >= 0)
		shmctl(kid, IPC_RMID, NULL);
	kid = CHECK_OK(shmget(key, 4096, 0600 | IPC_CREAT));
	p = shmat(kid, NULL, 0);
	CHECK(p != (char *)-1);
	strcpy(p, "kept");
	CHECK_OK(shmctl(kid, IPC_RMID, NULL));
	CHECK_OK(shmctl(kid, IPC_STAT, &ds));
	CHECK_EQ(ds.shm_perm.mode & 01000, 01000);
	CHECK_EQ(ds.shm_perm.__key, IPC_PRIVATE);
	CHECK_EQ(ds.shm_nattch, 1);
	CHECK_ERRNO(shmget(key, 4096, 0600), ENOENT);
	q = shmat(kid, NULL, 0);
	CHECK(q != (char *)-1);
	CHECK_STREQ(q, "kept");
	CHECK_OK(shmdt(q));
	CHECK_STREQ(p, "kept");
	CHECK_OK(shmdt(p));
	CHECK_ERRNO(shmctl(kid, IPC_STAT, &ds), EINVAL);

	/* Exit and exec detach. */
	p = shmat(id, NULL, 0);
	pid = fork();
	if (pid == 0) {
		char arg[32];
		snprintf(arg, sizeof(arg), "%d", id);
		execl("/proc/self/exe", "sysv_shm", "nattch", arg, (char *)NULL);
		_exit(99);
	}
	st = reap(pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 1); /* the exec'd image saw only ours */
	CHECK_EQ(nattch(id), 1);
	CHECK_OK(shmdt(p));
	CHECK_OK(shmctl(id, IPC_RMID, NULL));
}

static void test_set_and_perms(void)
{
	int id = CHECK_OK(shmget(IPC_PRIVATE, 4096, 0600));
	struct shmid_ds ds;
	CHECK_OK(shmctl(id, IPC_STAT, &ds));
	ds.shm_perm.mode = 0604 | 01000; /* only the low nine bits count */
	ds.shm_perm.uid = 1234;
	CHECK_OK(shmctl(id, IPC_SET, &ds));
	CHECK_OK(shmctl(id, IPC_STAT, &ds));
	CHECK_EQ(ds.shm_perm.mode, 0604);
	CHECK_EQ(ds.shm_perm.uid, 1234);
	CHECK_EQ(ds.shm_perm.cuid, geteuid());
	ds.shm_perm.uid = (uid_t)-1;
	CHECK_ERRNO(shmctl(id, IPC_SET, &ds), EINVAL);
	ds.shm_perm.uid = 0;
	CHECK_OK(shmctl(id, IPC_SET, &ds));

	if (geteuid() != 0) {
		CHECK_OK(shmctl(id, IPC_RMID, NULL));
		return;
	}
	/* An unprivileged caller: others may read (04) but not write. */
	pid_t pid = fork();
	if (pid == 0) {
		CHECK_OK(setgid(65534));
		CHECK_OK(setuid(65534));
		char *r = shmat(id, NULL, SHM_RDONLY);
		CHECK(r != (char *)-1);
		CHECK_ERRNO(shmat(id, NULL, 0), EACCES);
		CHECK_OK(shmctl(id, IPC_STAT, &ds));
		CHECK_ERRNO(shmctl(id, IPC_RMID, NULL), EPERM);
		CHECK_ERRNO(shmctl(id, IPC_SET, &ds), EPERM);
		CHECK_ERRNO(shmctl(id, SHM_LOCK, NULL), EPERM);
		int mine = CHECK_OK(shmget(IPC_PRIVATE, 4096, 0600));
		CHECK_OK(shmctl(mine, IPC_RMID, NULL));
		child_done();
	}
	reap_ok(pid);
	ds.shm_perm.mode = 0600;
	CHECK_OK(shmctl(id, IPC_SET, &ds));
	pid = fork();
	if (pid == 0) {
		CHECK_OK(setuid(65534));
		CHECK_ERRNO(shmat(id, NULL, SHM_RDONLY), EACCES);
		CHECK_ERRNO(shmctl(id, IPC_STAT, &ds), EACCES);
		child_done();
	}
	reap_ok(pid);
	CHECK_OK(shmctl(id, IPC_RMID, NULL));
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "nattch") == 0)
		return (int)nattch(atoi(argv[2]));
	test_get();
	test_attach();
	test_set_and_perms();
	return test_done();
}
