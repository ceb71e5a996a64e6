/* System V message queues: msgget, msgsnd and msgrcv by type (first, equal,
 * MSG_EXCEPT, lowest up to a bound), MSG_NOERROR and E2BIG, MSG_COPY,
 * IPC_NOWAIT (ENOMSG, EAGAIN on a full queue), the queue's byte limit set
 * with IPC_SET, blocking receive and send, EINTR, EIDRM when the queue is
 * removed under a sleeper, and IPC_STAT's counters. */
#include "ward_test.h"

#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>

struct m {
	long type;
	char text[64];
};

static void child_done(void)
{
	_exit(ward_test_failures ? 1 : 0);
}

static void reap_ok(pid_t pid)
{
	int status = -1;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
}

static int snd(int id, long type, const char *text, int flg)
{
	struct m b = { .type = type };
	strcpy(b.text, text);
	return msgsnd(id, &b, strlen(text), flg);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* Waits (up to 5 s) until pid sleeps, which for a child that was about to
 * block in msgrcv or msgsnd means it has; a fixed pause was not always
 * long enough on a loaded machine. */
static void wait_sleeping(pid_t pid)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 5000; i++) {
		FILE *f = fopen(path, "r");
		if (f) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
			buf[n] = 0;
			const char *close_paren = strrchr(buf, ')');
			if (close_paren && close_paren[1] == ' ' && close_paren[2] == 'S')
				return;
		}
		usleep(1000);
	}
}

int main(void)
{
	int id = CHECK_OK(msgget(IPC_PRIVATE, 0600));
	struct msqid_ds ds;
	CHECK_OK(msgctl(id, IPC_STAT, &ds));
	CHECK_EQ(ds.msg_qnum, 0);
	CHECK_EQ(ds.msg_perm.mode, 0600);
	CHECK(ds.msg_qbytes > 0);

	CHECK_OK(snd(id, 1, "one", 0));
	CHECK_OK(snd(id, 2, "two", 0));
	CHECK_OK(snd(id, 3, "three", 0));
	CHECK_OK(snd(id, 2, "deux", 0));
	CHECK_OK(msgctl(id, IPC_STAT, &ds));
	CHECK_EQ(ds.msg_qnum, 4);
	CHECK_EQ(ds.__msg_cbytes, 15);
	CHECK_EQ(ds.msg_lspid, getpid());
	CHECK_EQ(ds.msg_lrpid, 0);

	struct m r;
	memset(&r, 0, sizeof(r));
	CHECK_EQ(msgrcv(id, &r, sizeof(r.text), 2, 0), 3);
	CHECK_EQ(r.type, 2);
	CHECK(memcmp(r.text, "two", 3) == 0);
	memset(&r, 0, sizeof(r));
	CHECK_EQ(msgrcv(id, &r, sizeof(r.text), 1, MSG_EXCEPT), 5);
	CHECK_EQ(r.type, 3);
	memset(&r, 0, sizeof(r));
	CHECK_EQ(msgrcv(id, &r, sizeof(r.text), -3, 0), 3);
	CHECK_EQ(r.type, 1);
	/* MSG_COPY reads by position without taking. */
	memset(&r, 0, sizeof(r));
	CHECK_EQ(msgrcv(id, &r, sizeof(r.text), 0, MSG_COPY | IPC_NOWAIT), 4);
	CHECK_STREQ(r.text, "deux");
	CHECK_ERRNO(msgrcv(id, &r, sizeof(r.text), 1, MSG_COPY | IPC_NOWAIT), ENOMSG);
	CHECK_ERRNO(msgrcv(id, &r, sizeof(r.text), 0, MSG_COPY), EINVAL);
	CHECK_ERRNO(msgrcv(id, &r, sizeof(r.text), 0, MSG_COPY | MSG_EXCEPT | IPC_NOWAIT), EINVAL);
	/* Too small a buffer: E2BIG and the message stays, or cut short
	 * with MSG_NOERROR. */
	CHECK_ERRNO(msgrcv(id, &r, 2, 0, 0), E2BIG);
	memset(&r, 0, sizeof(r));
	CHECK_EQ(msgrcv(id, &r, 2, 0, MSG_NOERROR), 2);
	CHECK_STREQ(r.text, "de");
	CHECK_ERRNO(msgrcv(id, &r, sizeof(r.text), 0, IPC_NOWAIT), ENOMSG);
	CHECK_OK(msgctl(id, IPC_STAT, &ds));
	CHECK_EQ(ds.msg_qnum, 0);
	CHECK_EQ(ds.__msg_cbytes, 0);
	CHECK_EQ(ds.msg_lrpid, getpid());

	/* Bad arguments. */
	CHECK_ERRNO(snd(id, 0, "x", 0), EINVAL);
	CHECK_ERRNO(snd(id, -5, "x", 0), EINVAL);
	static struct {
		long type;
		char text[9000];
	} big = { 1, { 0 } };
	CHECK_ERRNO(msgsnd(id, &big, 8193, 0), EINVAL);
	CHECK_ERRNO(msgsnd(id, (void *)8, 1, 0), EFAULT);
	CHECK_ERRNO(msgsnd(-1, &big, 1, 0), EINVAL);
	CHECK_ERRNO(msgrcv(id, &r, (size_t)-1, 0, IPC_NOWAIT), EINVAL);
	CHECK_ERRNO(msgctl(id, 99, &ds), EINVAL);

	/* A smaller queue fills up. */
	CHECK_OK(msgctl(id, IPC_STAT, &ds));
	ds.msg_qbytes = 100;
	CHECK_OK(msgctl(id, IPC_SET, &ds));
	CHECK_OK(msgsnd(id, &big, 60, 0));
	CHECK_ERRNO(msgsnd(id, &big, 60, IPC_NOWAIT), EAGAIN);
	/* A blocked sender goes on when a receiver makes room. */
	pid_t pid = fork();
	if (pid == 0) {
		CHECK_OK(msgsnd(id, &big, 60, 0));
		child_done();
	}
	wait_sleeping(pid);
	CHECK_EQ(msgrcv(id, &r, sizeof(r.text), 0, MSG_NOERROR), 60);
	reap_ok(pid);
	CHECK_OK(msgctl(id, IPC_STAT, &ds));
	CHECK_EQ(ds.msg_qnum, 1);
	CHECK_EQ(msgrcv(id, &r, sizeof(r.text), 0, MSG_NOERROR), 60);

	/* A blocked receiver gets what is sent later. */
	pid = fork();
	if (pid == 0) {
		struct m c;
		memset(&c, 0, sizeof(c));
		CHECK_EQ(msgrcv(id, &c, sizeof(c.text), 7, 0), 5);
		CHECK_STREQ(c.text, "later");
		child_done();
	}
	wait_sleeping(pid);
	CHECK_OK(snd(id, 6, "other", 0));
	CHECK_OK(snd(id, 7, "later", 0));
	reap_ok(pid);
	CHECK_EQ(msgrcv(id, &r, sizeof(r.text), 0, IPC_NOWAIT), 5);
	CHECK_EQ(r.type, 6);

	/* A signal interrupts the wait (a handler ran: EINTR). */
	struct sigaction sa = { .sa_handler = on_alarm };
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	CHECK_ERRNO(msgrcv(id, &r, sizeof(r.text), 0, 0), EINTR);

	/* Removal wakes the sleepers with EIDRM. */
	pid = fork();
	if (pid == 0) {
		CHECK_ERRNO(msgrcv(id, &r, sizeof(r.text), 0, 0), EIDRM);
		child_done();
	}
	wait_sleeping(pid);
	CHECK_OK(msgctl(id, IPC_RMID, NULL));
	reap_ok(pid);
	CHECK_ERRNO(msgctl(id, IPC_STAT, &ds), EINVAL);
	CHECK_ERRNO(snd(id, 1, "x", 0), EINVAL);

	/* Keys and permissions. */
	key_t key = 0x57d00000 | (getpid() & 0xfffff);
	int old = msgget(key, 0);
	if (old >= 0)
		msgctl(old, IPC_RMID, NULL);
	CHECK_ERRNO(msgget(key, 0600), ENOENT);
	int kid = CHECK_OK(msgget(key, 0620 | IPC_CREAT));
	CHECK_EQ(msgget(key, 0), kid);
	CHECK_ERRNO(msgget(key, IPC_CREAT | IPC_EXCL), EEXIST);
	if (geteuid() == 0) {
		pid = fork();
		if (pid == 0) {
			CHECK_OK(setgid(0));
			CHECK_OK(setuid(65534));
			CHECK_ERRNO(msgget(key, 0400), EACCES);
			CHECK_EQ(msgget(key, 0200), kid);
			CHECK_OK(snd(kid, 1, "hi", 0));
			CHECK_ERRNO(msgrcv(kid, &r, sizeof(r.text), 0, IPC_NOWAIT), EACCES);
			CHECK_ERRNO(msgctl(kid, IPC_RMID, NULL), EPERM);
			CHECK_ERRNO(msgctl(kid, IPC_STAT, &ds), EACCES);
			child_done();
		}
		reap_ok(pid);
		/* Raising qbytes past the default takes CAP_SYS_RESOURCE. */
		pid = fork();
		if (pid == 0) {
			CHECK_OK(msgctl(kid, IPC_STAT, &ds));
			ds.msg_qbytes = ds.msg_qbytes * 2;
			CHECK_OK(setuid(65534));
			CHECK_ERRNO(msgctl(kid, IPC_SET, &ds), EPERM);
			child_done();
		}
		reap_ok(pid);
	}
	CHECK_OK(msgctl(kid, IPC_RMID, NULL));
	return test_done();
}
