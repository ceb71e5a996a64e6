/* The legacy vsyscall page: gettimeofday, time and getcpu at their fixed
 * addresses, as binaries linked against an old libc still call them. Linux
 * emulates the page (vsyscall=xonly or emulate); a host booted with
 * vsyscall=none has none, and then neither does the test. */
#include "ward_test.h"

#include <sys/time.h>
#include <time.h>

typedef long (*gettimeofday_fn)(struct timeval *, void *);
typedef long (*time_fn)(long *);
typedef long (*getcpu_fn)(unsigned *, unsigned *, void *);

static int have_vsyscall(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[256];
	int found = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[vsyscall]"))
			found = 1;
	fclose(f);
	return found;
}

int main(void)
{
	if (!have_vsyscall())
		SKIP("the host has no vsyscall page");
	struct timeval tv = { 0, 0 };
	long now = time(NULL);
	CHECK_EQ(((gettimeofday_fn)0xffffffffff600000)(&tv, NULL), 0);
	CHECK(tv.tv_sec >= now - 2 && tv.tv_sec <= now + 2);
	long t2 = 0;
	long t = ((time_fn)0xffffffffff600400)(&t2);
	CHECK(t >= now - 2 && t <= now + 2);
	CHECK_EQ(t2, t);
	unsigned cpu = 9999;
	CHECK_EQ(((getcpu_fn)0xffffffffff600800)(&cpu, NULL, NULL), 0);
	CHECK(cpu < 4096);
	return test_done();
}
