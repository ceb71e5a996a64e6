/* A forked child sees every mapping of its parent, with its contents and
 * protection, however many there are: 150 separate mappings (alternately
 * read-only and writable, so none merge), some partly unmapped or
 * re-protected before the fork. Under ward's seccomp platform a new address
 * space's mapping requests are sent to its stub in batches; this checks
 * that batches fill, flush and keep their order. */
#include "ward_test.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define NMAPS 150
#define PAGE 4096

static char *maps[NMAPS];
static sigjmp_buf jump;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(jump, 1);
}

/* Whether a write to p (of the byte it holds) faults. */
static int write_faults(char *p)
{
	if (sigsetjmp(jump, 1))
		return 1;
	volatile char *v = p;
	*v = *v;
	return 0;
}

static int prot_of(int i)
{
	return i % 2 ? PROT_READ : PROT_READ | PROT_WRITE;
}

/* The child's checks; returns how many failed. */
static int check_child(void)
{
	int bad = 0;
	for (int i = 0; i < NMAPS; i++) {
		if (maps[i][0] != (char)i || maps[i][PAGE] != (char)(i + 1))
			bad++;
		/* Every third mapping lost its third page before the fork. */
		if (i % 3 == 0 && !write_faults(maps[i] + 2 * PAGE))
			bad++;
	}
	/* Read-only stays read-only, writable stays writable; the first
	 * mapping was made read-only, then writable again. */
	for (int i = 0; i < NMAPS; i += 7)
		if (write_faults(maps[i] + PAGE) != (prot_of(i) == PROT_READ))
			bad++;
	return bad;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_segv };
	sigemptyset(&sa.sa_mask);
	CHECK_OK(sigaction(SIGSEGV, &sa, NULL));

	for (int i = 0; i < NMAPS; i++) {
		maps[i] = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(maps[i] != MAP_FAILED);
		if (maps[i] == MAP_FAILED)
			return test_done();
		maps[i][0] = (char)i;
		maps[i][PAGE] = (char)(i + 1);
		CHECK_OK(mprotect(maps[i], 3 * PAGE, prot_of(i)));
		if (i % 3 == 0)
			CHECK_OK(munmap(maps[i] + 2 * PAGE, PAGE));
	}
	CHECK_OK(mprotect(maps[0], 2 * PAGE, PROT_READ));
	CHECK_OK(mprotect(maps[0], 2 * PAGE, PROT_READ | PROT_WRITE));
	CHECK_EQ(check_child(), 0);

	pid_t pid = fork();
	if (pid == 0)
		_exit(check_child() ? 1 : 0);
	CHECK(pid > 0);
	int status = -1;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	return test_done();
}
