/* The vDSO: AT_SYSINFO_EHDR points at an ELF image that exports the
 * LINUX_2.6 clock functions; what they answer agrees with the system calls
 * (never behind them, at most a little ahead), is monotonic over many reads
 * and across sleeps; gettimeofday and time agree with CLOCK_REALTIME;
 * getcpu names a CPU the thread may run on. The mappings are just memory:
 * [vvar] cannot be written or made writable, a write to [vdso] after
 * mprotect stays private, fork keeps them, execve makes new ones, munmap
 * and mremap work as on Linux. Natively this is the host kernel's vDSO. */
#include "ward_test.h"

#include <elf.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static long long ns(struct timespec t)
{
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Finds a LINUX_2.6 symbol in the vDSO at base, as the kernel's
 * selftests/vDSO/parse_vdso.c does. */
static void *vdso_sym(uintptr_t base, const char *name)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
	uintptr_t load = 0;
	const Elf64_Dyn *dyn = NULL;
	bool have_load = false;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !have_load) {
			load = base + ph[i].p_offset - ph[i].p_vaddr;
			have_load = true;
		} else if (ph[i].p_type == PT_DYNAMIC) {
			dyn = (const Elf64_Dyn *)(base + ph[i].p_offset);
		}
	}
	if (!have_load || !dyn)
		return NULL;
	const Elf64_Sym *sym = NULL;
	const char *str = NULL;
	const Elf64_Word *hash = NULL;
	const Elf64_Versym *versym = NULL;
	const Elf64_Verdef *verdef = NULL;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		uintptr_t p = load + dyn->d_un.d_ptr;
		switch (dyn->d_tag) {
		case DT_SYMTAB:
			sym = (const Elf64_Sym *)p;
			break;
		case DT_STRTAB:
			str = (const char *)p;
			break;
		case DT_HASH:
			hash = (const Elf64_Word *)p;
			break;
		case DT_VERSYM:
			versym = (const Elf64_Versym *)p;
			break;
		case DT_VERDEF:
			verdef = (const Elf64_Verdef *)p;
			break;
		}
	}
	if (!sym || !str || !hash || !versym || !verdef)
		return NULL;
	for (Elf64_Word i = 0; i < hash[1]; i++) {
		if (ELF64_ST_TYPE(sym[i].st_info) != STT_FUNC || sym[i].st_shndx == SHN_UNDEF ||
		    strcmp(str + sym[i].st_name, name) != 0)
			continue;
		/* Its version must be LINUX_2.6. */
		const Elf64_Verdef *vd = verdef;
		for (;;) {
			if (!(vd->vd_flags & VER_FLG_BASE) && (vd->vd_ndx & 0x7fff) == (versym[i] & 0x7fff)) {
				const Elf64_Verdaux *aux = (const Elf64_Verdaux *)((const char *)vd + vd->vd_aux);
				if (strcmp(str + aux->vda_name, "LINUX_2.6") == 0)
					return (void *)(load + sym[i].st_value);
			}
			if (!vd->vd_next)
				break;
			vd = (const Elf64_Verdef *)((const char *)vd + vd->vd_next);
		}
	}
	return NULL;
}

/* The [name] line of /proc/self/maps: its range, or false. */
static bool find_map(const char *name, uintptr_t *start, uintptr_t *end)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	bool found = false;
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		size_t l = strlen(line), n = strlen(name);
		if (l >= n && strcmp(line + l - n, name) == 0 && sscanf(line, "%lx-%lx", start, end) == 2) {
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

typedef long (*vgettime_t)(clockid_t, struct timespec *);
typedef long (*vgetres_t)(clockid_t, struct timespec *);
typedef long (*vgettimeofday_t)(struct timeval *, struct timezone *);
typedef time_t (*vtime_t)(time_t *);
typedef long (*vgetcpu_t)(unsigned *, unsigned *, void *);

/* The child half of the execve check: a fresh image with a vDSO. */
static int exec_child(void)
{
	uintptr_t base = getauxval(AT_SYSINFO_EHDR);
	CHECK(base != 0);
	if (!base)
		return test_done();
	CHECK(memcmp((const void *)base, ELFMAG, SELFMAG) == 0);
	CHECK_EQ(((const unsigned char *)base)[EI_NIDENT - 1], 0);
	struct timespec t;
	CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &t));
	return test_done();
}

/* Runs fn in a child; returns its wait status. */
static int in_child(void (*fn)(uintptr_t), uintptr_t arg)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		fn(arg);
		_exit(test_done());
	}
	int status = -1;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	return status;
}

static void write_byte(uintptr_t addr)
{
	*(volatile unsigned char *)addr = 1;
	_exit(0);
}

/* A new image gets a vDSO of its own. */
static void exec_self(uintptr_t base)
{
	char *const av[] = { "vdso", "--exec-child", NULL };
	char *const ev[] = { NULL };
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		execve("/proc/self/exe", av, ev);
		_exit(111);
	}
	int status = -1;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void unmap_vdso(uintptr_t base)
{
	uintptr_t s, e;
	CHECK(find_map("[vdso]", &s, &e));
	CHECK_OK(munmap((void *)s, e - s));
	CHECK(!find_map("[vdso]", &s, &e));
	/* The system call still answers. */
	struct timespec t;
	CHECK_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t));
}

static void move_vdso(uintptr_t base)
{
	uintptr_t s, e;
	CHECK(find_map("[vdso]", &s, &e));
	/* Special mappings never grow (VM_DONTEXPAND). */
	CHECK_ERRNO((long)mremap((void *)s, e - s, e - s + 4096, MREMAP_MAYMOVE), EFAULT);
	void *to = mmap(NULL, e - s, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(to != MAP_FAILED);
	void *r = mremap((void *)s, e - s, e - s, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	CHECK(r == to);
	uintptr_t s2, e2;
	CHECK(find_map("[vdso]", &s2, &e2));
	CHECK_EQ(s2, (uintptr_t)to);
	CHECK(memcmp(to, ELFMAG, SELFMAG) == 0);
}

static void fork_child(uintptr_t base)
{
	CHECK_EQ(getauxval(AT_SYSINFO_EHDR), base);
	uintptr_t s, e;
	CHECK(find_map("[vdso]", &s, &e));
	CHECK(s <= base && base < e);
	struct timespec a, b;
	CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &a));
	CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &b));
	CHECK(ns(b) >= ns(a));
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--exec-child") == 0)
		return exec_child();

	uintptr_t base = getauxval(AT_SYSINFO_EHDR);
	CHECK(base != 0);
	if (!base)
		return test_done();
	CHECK(memcmp((const void *)base, ELFMAG, SELFMAG) == 0);
	uintptr_t s, e, vs, ve;
	CHECK(find_map("[vdso]", &s, &e));
	CHECK(s <= base && base < e);
	CHECK(find_map("[vvar]", &vs, &ve));

	vgettime_t vgettime = (vgettime_t)vdso_sym(base, "__vdso_clock_gettime");
	vgetres_t vgetres = (vgetres_t)vdso_sym(base, "__vdso_clock_getres");
	vgettimeofday_t vgtod = (vgettimeofday_t)vdso_sym(base, "__vdso_gettimeofday");
	vtime_t vtime = (vtime_t)vdso_sym(base, "__vdso_time");
	vgetcpu_t vgetcpu = (vgetcpu_t)vdso_sym(base, "__vdso_getcpu");
	CHECK(vgettime && vgetres && vgtod && vtime && vgetcpu);
	if (!vgettime || !vgetres || !vgtod || !vtime || !vgetcpu)
		return test_done();

	/* Each clock through the vDSO lies between two system calls: never
	 * behind the one before it, at most a little ahead of the one after
	 * (a tick for the coarse clocks). */
	static const struct {
		clockid_t id;
		long long slack;
	} clocks[] = {
		{ CLOCK_REALTIME, 200000 },	     { CLOCK_MONOTONIC, 200000 },
		{ CLOCK_BOOTTIME, 200000 },	     { CLOCK_TAI, 200000 },
		{ CLOCK_REALTIME_COARSE, 10000000 }, { CLOCK_MONOTONIC_COARSE, 10000000 },
		{ CLOCK_MONOTONIC_RAW, 200000 },
	};
	for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		struct timespec a, b, c;
		CHECK_OK(syscall(SYS_clock_gettime, clocks[i].id, &a));
		CHECK_EQ(vgettime(clocks[i].id, &b), 0);
		CHECK_OK(syscall(SYS_clock_gettime, clocks[i].id, &c));
		CHECK(b.tv_nsec >= 0 && b.tv_nsec < 1000000000);
		if (ns(b) < ns(a) || ns(b) > ns(c) + clocks[i].slack)
			WARD_FAIL("clock %d: vDSO %lld not within [%lld, %lld + %lld]", (int)clocks[i].id, ns(b), ns(a),
				  ns(c), clocks[i].slack);
	}
	/* The same for a third of a second, across several of the sentry's
	 * re-bases (every 50 ms): guest time never falls behind the system
	 * call's, nor runs away ahead of it. */
	struct timespec start, now;
	CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &start));
	for (int i = 0;; i++) {
		struct timespec a, b, c;
		CHECK_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &a));
		CHECK_EQ(vgettime(CLOCK_MONOTONIC, &b), 0);
		CHECK_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &c));
		if (ns(b) < ns(a) || ns(b) > ns(c) + 200000) {
			WARD_FAIL("read %d: vDSO %lld not within [%lld, %lld + 200000]", i, ns(b), ns(a), ns(c));
			break;
		}
		if (i % 100 == 99)
			usleep(1000);
		CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &now));
		if (ns(now) - ns(start) > 330000000)
			break;
	}
	/* CPU-time clocks and unknown ids: what the system call says. */
	struct timespec t, u;
	CHECK_EQ(vgettime(CLOCK_PROCESS_CPUTIME_ID, &t), 0);
	CHECK(ns(t) > 0);
	CHECK_EQ(vgettime(12345, &t), -EINVAL);
	CHECK_EQ(vgetres(12345, &t), -EINVAL);
	CHECK_EQ(vgetres(CLOCK_MONOTONIC, &t), 0);
	CHECK_EQ(ns(t), 1);
	CHECK_EQ(vgetres(CLOCK_MONOTONIC_COARSE, &t), 0);
	CHECK_OK(syscall(SYS_clock_getres, CLOCK_MONOTONIC_COARSE, &u));
	CHECK_EQ(ns(t), ns(u));
	CHECK_EQ(vgetres(CLOCK_REALTIME, NULL), 0);

	/* Monotonic over a million reads (glibc's clock_gettime is the vDSO's,
	 * static or dynamic). */
	struct timespec prev;
	CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &prev));
	for (int i = 0; i < 1000000; i++) {
		CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &t));
		if (ns(t) < ns(prev)) {
			WARD_FAIL("CLOCK_MONOTONIC went back from %lld to %lld at read %d", ns(prev), ns(t), i);
			break;
		}
		prev = t;
	}
	/* Across sleeps (and so across the sentry's re-basing): a sleep of N
	 * ms takes at least N ms as the guest reads time, and an absolute
	 * sleep to a time read in the guest ends after it. */
	for (int i = 0; i < 40; i++) {
		struct timespec a, b, d = { 0, 5000000 };
		CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &a));
		CHECK_OK(nanosleep(&d, NULL));
		CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &b));
		if (ns(b) - ns(a) < 5000000)
			WARD_FAIL("a 5 ms sleep took %lld ns", ns(b) - ns(a));
		CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &a));
		long long target = ns(a) + 3000000;
		struct timespec abs = { target / 1000000000, target % 1000000000 };
		CHECK_OK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL));
		CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &b));
		if (ns(b) < target)
			WARD_FAIL("an absolute sleep to %lld ended at %lld", target, ns(b));
	}

	/* gettimeofday and time are CLOCK_REALTIME. */
	for (int i = 0; i < 1000; i++) {
		struct timespec a, b;
		struct timeval tv, tv2;
		struct timezone tz;
		time_t tt = 0;
		CHECK_OK(clock_gettime(CLOCK_REALTIME, &a));
		CHECK_OK(gettimeofday(&tv, NULL));
		CHECK_EQ(vgtod(&tv2, &tz), 0);
		time_t t1 = time(NULL), t2 = vtime(&tt);
		CHECK_OK(clock_gettime(CLOCK_REALTIME, &b));
		long long us = tv.tv_sec * 1000000LL + tv.tv_usec, us2 = tv2.tv_sec * 1000000LL + tv2.tv_usec;
		if (us < ns(a) / 1000 || us2 < us || ns(b) / 1000 < us2) {
			WARD_FAIL("gettimeofday %lld, %lld not within [%lld, %lld]", us, us2, ns(a) / 1000,
				  ns(b) / 1000);
			break;
		}
		if (t1 < a.tv_sec || t2 < t1 || tt != t2 || b.tv_sec < t2) {
			WARD_FAIL("time %ld, %ld not within [%ld, %ld]", (long)t1, (long)t2, (long)a.tv_sec,
				  (long)b.tv_sec);
			break;
		}
	}

	/* getcpu: a CPU this thread may run on. */
	cpu_set_t set;
	CHECK_OK(sched_getaffinity(0, sizeof(set), &set));
	unsigned cpu = ~0u, node = ~0u;
	CHECK_OK(getcpu(&cpu, &node));
	if (!(cpu < CPU_SETSIZE && CPU_ISSET(cpu, &set)))
		WARD_FAIL("getcpu: cpu %u is not in the affinity mask (%d CPUs)", cpu, CPU_COUNT(&set));
	cpu = ~0u;
	CHECK_EQ(vgetcpu(&cpu, NULL, NULL), 0);
	if (!(cpu < CPU_SETSIZE && CPU_ISSET(cpu, &set)))
		WARD_FAIL("vDSO getcpu: cpu %u is not in the affinity mask (%d CPUs)", cpu, CPU_COUNT(&set));
	int c = sched_getcpu();
	if (!(c >= 0 && c < CPU_SETSIZE && CPU_ISSET(c, &set)))
		WARD_FAIL("sched_getcpu: cpu %d is not in the affinity mask (%d CPUs)", c, CPU_COUNT(&set));

	/* [vvar] is read-only for good. */
	CHECK_ERRNO(mprotect((void *)vs, 4096, PROT_READ | PROT_WRITE), EACCES);
	int status = in_child(write_byte, vs);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
	/* MADV_DONTNEED cannot drop it (it is VM_PFNMAP on Linux). */
	CHECK_ERRNO(madvise((void *)vs, 4096, MADV_DONTNEED), EINVAL);
	/* [vdso] cannot be written either; dropping its pages changes
	 * nothing. */
	status = in_child(write_byte, base);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
	CHECK_OK(madvise((void *)base, 4096, MADV_DONTNEED));
	CHECK(memcmp((const void *)base, ELFMAG, SELFMAG) == 0);
	CHECK(vgettime(CLOCK_MONOTONIC, &t) == 0 && ns(t) > 0);
	status = in_child(exec_self, base);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ(((const unsigned char *)base)[EI_NIDENT - 1], 0);
	status = in_child(fork_child, base);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	status = in_child(unmap_vdso, base);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	status = in_child(move_vdso, base);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The parent's own vDSO still answers. */
	CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &t));
	return test_done();
}
