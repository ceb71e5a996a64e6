/* System V semaphores: semget's checks, semctl's SETVAL/GETVAL/SETALL/
 * GETALL/GETPID/GETNCNT/GETZCNT/IPC_STAT/IPC_SET/IPC_RMID, semop's all-or-
 * nothing rule, IPC_NOWAIT, ERANGE and EFBIG, blocking until another
 * process changes a value, semtimedop's timeout, EINTR on a signal, EIDRM
 * when the set goes while waiting, SEM_UNDO applied at exit, and the
 * permission rules for an unprivileged caller. */
#include "ward_test.h"

#include <signal.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <time.h>

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

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

static int op(int id, unsigned short num, short delta, short flg)
{
	struct sembuf b = { num, delta, flg };
	return semop(id, &b, 1);
}

/* Waits (up to 5 s) until cmd on semaphore num reports want. */
static int wait_count(int id, int num, int cmd, int want)
{
	int v = -1;
	for (int i = 0; i < 5000; i++) {
		v = semctl(id, num, cmd);
		if (v == want)
			break;
		usleep(1000);
	}
	return v;
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void test_get_ctl(void)
{
	CHECK_ERRNO(semget(IPC_PRIVATE, 0, 0600), EINVAL);
	CHECK_ERRNO(semget(IPC_PRIVATE, -1, 0600), EINVAL);
	CHECK_ERRNO(semget(IPC_PRIVATE, 32001, 0600), EINVAL);
	int id = CHECK_OK(semget(IPC_PRIVATE, 3, 0640));
	struct semid_ds ds;
	CHECK_OK(semctl(id, 0, IPC_STAT, (union semun){ .buf = &ds }));
	CHECK_EQ(ds.sem_nsems, 3);
	CHECK_EQ(ds.sem_perm.mode, 0640);
	CHECK_EQ(ds.sem_perm.uid, geteuid());
	CHECK_EQ(ds.sem_otime, 0);
	CHECK(ds.sem_ctime > 0);

	CHECK_EQ(semctl(id, 0, GETVAL), 0);
	CHECK_EQ(semctl(id, 0, GETPID), 0);
	CHECK_OK(semctl(id, 1, SETVAL, (union semun){ .val = 5 }));
	CHECK_EQ(semctl(id, 1, GETVAL), 5);
	CHECK_EQ(semctl(id, 1, GETPID), getpid());
	CHECK_ERRNO(semctl(id, 1, SETVAL, (union semun){ .val = 32768 }), ERANGE);
	CHECK_ERRNO(semctl(id, 1, SETVAL, (union semun){ .val = -1 }), ERANGE);
	CHECK_ERRNO(semctl(id, 3, SETVAL, (union semun){ .val = 1 }), EINVAL);
	CHECK_ERRNO(semctl(id, 3, GETVAL), EINVAL);
	CHECK_ERRNO(semctl(id, -1, GETVAL), EINVAL);
	CHECK_ERRNO(semctl(id, 0, 99), EINVAL);
	CHECK_ERRNO(semctl(-1, 0, GETVAL), EINVAL);

	unsigned short set[3] = { 1, 2, 3 }, got[3] = { 0 };
	CHECK_OK(semctl(id, 0, SETALL, (union semun){ .array = set }));
	CHECK_OK(semctl(id, 0, GETALL, (union semun){ .array = got }));
	CHECK(got[0] == 1 && got[1] == 2 && got[2] == 3);
	unsigned short bad[3] = { 1, 40000, 3 };
	CHECK_ERRNO(semctl(id, 0, SETALL, (union semun){ .array = bad }), ERANGE);
	CHECK_ERRNO(semctl(id, 0, GETALL, (union semun){ .array = (unsigned short *)8 }), EFAULT);

	/* Keys, as for shmget, and nsems no larger than the set's. */
	key_t key = 0x57c00000 | (getpid() & 0xfffff);
	int old = semget(key, 0, 0);
	if (old >= 0)
		semctl(old, 0, IPC_RMID);
	CHECK_ERRNO(semget(key, 2, 0600), ENOENT);
	int kid = CHECK_OK(semget(key, 2, 0600 | IPC_CREAT));
	CHECK_EQ(semget(key, 0, 0), kid);
	CHECK_EQ(semget(key, 2, 0), kid);
	CHECK_ERRNO(semget(key, 3, 0), EINVAL);
	CHECK_ERRNO(semget(key, 2, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	CHECK_OK(semctl(kid, 0, IPC_RMID));
	CHECK_ERRNO(semctl(kid, 0, GETVAL), EINVAL);

	/* IPC_SET changes the owner and the low nine bits of the mode. */
	CHECK_OK(semctl(id, 0, IPC_STAT, (union semun){ .buf = &ds }));
	ds.sem_perm.mode = 0604;
	CHECK_OK(semctl(id, 0, IPC_SET, (union semun){ .buf = &ds }));
	CHECK_OK(semctl(id, 0, IPC_STAT, (union semun){ .buf = &ds }));
	CHECK_EQ(ds.sem_perm.mode, 0604);
	if (geteuid() == 0) {
		pid_t pid = fork();
		if (pid == 0) {
			CHECK_OK(setgid(65534));
			CHECK_OK(setuid(65534));
			CHECK_EQ(semctl(id, 0, GETVAL), 1);
			CHECK_ERRNO(semctl(id, 0, SETVAL, (union semun){ .val = 1 }), EACCES);
			CHECK_ERRNO(op(id, 0, -1, IPC_NOWAIT), EACCES);
			CHECK_EQ(op(id, 0, 0, IPC_NOWAIT), -1); /* may read: blocks, so EAGAIN */
			CHECK_ERRNO(semctl(id, 0, IPC_RMID), EPERM);
			child_done();
		}
		reap_ok(pid);
	}
	CHECK_OK(semctl(id, 0, IPC_RMID));
}

static void test_op(void)
{
	int id = CHECK_OK(semget(IPC_PRIVATE, 3, 0600));
	unsigned short set[3] = { 1, 2, 0 };
	CHECK_OK(semctl(id, 0, SETALL, (union semun){ .array = set }));

	CHECK_OK(op(id, 0, -1, 0));
	CHECK_ERRNO(op(id, 0, -1, IPC_NOWAIT), EAGAIN);
	CHECK_OK(op(id, 2, 0, 0));
	CHECK_ERRNO(op(id, 1, 0, IPC_NOWAIT), EAGAIN);
	/* All or nothing: the first change is undone when the second blocks. */
	struct sembuf two[2] = { { 1, -1, 0 }, { 0, -1, IPC_NOWAIT } };
	CHECK_ERRNO(semop(id, two, 2), EAGAIN);
	CHECK_EQ(semctl(id, 1, GETVAL), 2);
	/* The same semaphore twice: applied in order. */
	struct sembuf dup[2] = { { 1, -2, 0 }, { 1, 1, 0 } };
	CHECK_OK(semop(id, dup, 2));
	CHECK_EQ(semctl(id, 1, GETVAL), 1);

	CHECK_ERRNO(op(id, 3, 1, 0), EFBIG);
	CHECK_ERRNO(semop(id, two, 0), EINVAL);
	struct sembuf many[501];
	memset(many, 0, sizeof(many));
	CHECK_ERRNO(semop(id, many, 501), E2BIG);
	CHECK_ERRNO(semop(-1, two, 1), EINVAL);
	CHECK_ERRNO(semop(id, (struct sembuf *)8, 1), EFAULT);
	CHECK_OK(semctl(id, 0, SETVAL, (union semun){ .val = 32767 }));
	CHECK_ERRNO(op(id, 0, 1, 0), ERANGE);
	CHECK_OK(semctl(id, 0, SETVAL, (union semun){ .val = 0 }));

	struct semid_ds ds;
	CHECK_OK(semctl(id, 0, IPC_STAT, (union semun){ .buf = &ds }));
	CHECK(ds.sem_otime > 0);

	/* Blocking: a child waits for a decrement, then for zero. */
	pid_t pid = fork();
	if (pid == 0) {
		CHECK_OK(op(id, 0, -1, 0));
		CHECK_OK(op(id, 1, 0, 0));
		child_done();
	}
	CHECK_EQ(wait_count(id, 0, GETNCNT, 1), 1);
	CHECK_EQ(semctl(id, 0, GETZCNT), 0);
	CHECK_OK(op(id, 0, 1, 0));
	CHECK_EQ(wait_count(id, 1, GETZCNT, 1), 1);
	CHECK_EQ(semctl(id, 0, GETVAL), 0);
	CHECK_EQ(semctl(id, 0, GETPID), pid); /* the sleeper's own operation */
	CHECK_OK(op(id, 1, -1, 0));
	reap_ok(pid);

	/* semtimedop times out with EAGAIN. */
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	struct sembuf dec = { 0, -1, 0 };
	CHECK_ERRNO(semtimedop(id, &dec, 1, &ts), EAGAIN);
	ts.tv_nsec = 1000000000;
	CHECK_ERRNO(semtimedop(id, &dec, 1, &ts), EINVAL);
	CHECK_ERRNO(semtimedop(id, &dec, 1, (struct timespec *)8), EFAULT);

	/* A signal ends the wait with EINTR, even with SA_RESTART. */
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	CHECK_ERRNO(op(id, 0, -1, 0), EINTR);
	CHECK_EQ(semctl(id, 0, GETNCNT), 0);

	/* Removing the set wakes its sleepers with EIDRM. */
	pid = fork();
	if (pid == 0) {
		CHECK_ERRNO(op(id, 0, -1, 0), EIDRM);
		child_done();
	}
	CHECK_EQ(wait_count(id, 0, GETNCNT, 1), 1);
	CHECK_OK(semctl(id, 0, IPC_RMID));
	reap_ok(pid);
}

static void test_undo(void)
{
	int id = CHECK_OK(semget(IPC_PRIVATE, 2, 0600));
	CHECK_OK(semctl(id, 0, SETVAL, (union semun){ .val = 3 }));
	pid_t pid = fork();
	if (pid == 0) {
		CHECK_OK(op(id, 0, -2, SEM_UNDO));
		CHECK_OK(op(id, 1, 5, SEM_UNDO));
		CHECK_OK(op(id, 1, -1, 0));
		CHECK_EQ(semctl(id, 0, GETVAL), 1);
		child_done();
	}
	reap_ok(pid);
	CHECK_EQ(semctl(id, 0, GETVAL), 3);
	CHECK_EQ(semctl(id, 1, GETVAL), 0); /* 4 - 5, kept at 0 */
	CHECK_EQ(semctl(id, 1, GETPID), pid);

	/* SETVAL clears the adjustments for that semaphore. */
	pid = fork();
	if (pid == 0) {
		CHECK_OK(op(id, 0, 1, SEM_UNDO));
		CHECK_OK(semctl(id, 0, SETVAL, (union semun){ .val = 7 }));
		child_done();
	}
	reap_ok(pid);
	CHECK_EQ(semctl(id, 0, GETVAL), 7);

	/* An undo going past the limit is ERANGE. */
	CHECK_OK(semctl(id, 0, SETVAL, (union semun){ .val = 32767 }));
	pid = fork();
	if (pid == 0) {
		CHECK_OK(op(id, 0, -32767, SEM_UNDO));
		CHECK_OK(op(id, 0, 32767, 0));
		CHECK_ERRNO(op(id, 0, -1, SEM_UNDO), ERANGE);
		child_done();
	}
	reap_ok(pid);
	CHECK_EQ(semctl(id, 0, GETVAL), 32767);
	CHECK_OK(semctl(id, 0, IPC_RMID));
}

int main(void)
{
	test_get_ctl();
	test_op();
	test_undo();
	return test_done();
}
