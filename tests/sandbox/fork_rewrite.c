/* Forks N times; each time the parent and the child both rewrite the whole
 * 32 MiB region, one after the other. Prints "done" and sleeps, so that
 * the test can look at the sentry's memory file while the region is still
 * mapped. With copy-on-write fork the memory file must stay within a small
 * multiple of the region however many forks there were. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t n = 32 << 20;
	int iters = argc > 1 ? atoi(argv[1]) : 40;
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	memset(p, 1, n);
	for (int i = 0; i < iters; i++) {
		int go[2];
		if (pipe(go) < 0)
			return 1;
		pid_t c = fork();
		if (c < 0)
			return 1;
		if (c == 0) {
			char x;
			/* The parent's contents when it forked, not since. */
			int want = i == 0 ? 1 : 2 + ((i - 1) & 1);
			if (read(go[0], &x, 1) != 1 || p[n - 1] != want)
				_exit(2);
			memset(p, 9, n);
			_exit(0);
		}
		memset(p, 2 + (i & 1), n);
		if (write(go[1], "x", 1) != 1)
			return 1;
		int st;
		if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || p[0] != 2 + (i & 1)) {
			printf("fork %d: child status %#x, parent sees %d\n", i, st, p[0]);
			return 1;
		}
		close(go[0]);
		close(go[1]);
	}
	printf("done\n");
	fflush(stdout);
	sleep(30);
	return 0;
}
