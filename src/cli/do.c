/* ward do: run one program in a new sandbox and exit with its status. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "fs/vfs.h"
#include "sentry/kernel/task.h"
#include "ward/core.h"
#include "ward/host.h"
#include "ward/memfile.h"
#include "ward/platform.h"
#include "ward/sched.h"

/* Guest memory the memory file can hold, in all; it is sparse, so this is
 * address space, not memory. */
#define MEMFILE_SIZE (64ULL << 30)

extern char **environ;

/* A --volume: a host directory bind-mounted at a guest path. */
struct do_volume {
	char *host;
	char *guest;
	bool writable;
};

struct do_options {
	const char *platform;
	bool patch_syscalls;
	long pids_limit;
	const char *root;
	const char *cwd;
	const char *strace_log;
	bool strace;
	char **env;
	size_t nenv;
	char **argv;
	const char **tmpfs;
	size_t ntmpfs;
	struct do_volume *vols;
	size_t nvols;
	enum ward_network network;
};

struct run_state {
	struct task_spec spec;
	int exit_code;
	char err[512];
};

static void do_usage(FILE *out)
{
	fprintf(out, "Usage: ward do [OPTIONS] -- PROGRAM [ARGS...]\n"
		     "\n"
		     "Runs PROGRAM in a new sandbox and exits with its exit status (128+N when\n"
		     "it is killed by signal N; 127 when PROGRAM is not found, 126 when it cannot\n"
		     "be executed).\n"
		     "\n"
		     "Options:\n"
		     "  --platform=NAME     how guest code runs: seccomp (default where the host\n"
		     "                      allows it: system calls trap to a signal handler in a\n"
		     "                      stub process) or ptrace (every call stops in a tracer)\n"
		     "  --patch-syscalls    seccomp only: rewrite each trapped `mov $nr,%%eax; syscall'\n"
		     "                      into a jump to the stub (the guest's other threads stop\n"
		     "                      while it changes), so that later calls there enter the\n"
		     "                      sentry without a signal\n"
		     "                      (the guest sees its code changed: /proc/self/mem)\n"
		     "  --root=DIR          the host directory the sandbox's root shows (default /).\n"
		     "                      The guest may write anywhere: writes go to a copy-on-write\n"
		     "                      layer in the sandbox's memory, which is DISCARDED when the\n"
		     "                      sandbox exits; nothing written reaches the host\n"
		     "  --tmpfs=PATH        mount an empty tmpfs at PATH inside the sandbox (repeatable;\n"
		     "                      /tmp and /dev/shm always are)\n"
		     "  --volume=HOST:GUEST[:ro|:rw]\n"
		     "                      bind-mount the host directory HOST at GUEST (repeatable):\n"
		     "                      read-only unless :rw is given, and then the guest's writes\n"
		     "                      there DO reach the host\n"
		     "  --cwd=DIR           the working directory inside the sandbox (default /)\n"
		     "  --env=K=V           set an environment variable (repeatable); the guest\n"
		     "                      otherwise gets ward's own environment\n"
		     "  --network=none|host none (default): a network of the sandbox's own with only\n"
		     "                      loopback (127.0.0.1, ::1); host: the host's network\n"
		     "  --pids-limit=N      at most N tasks (processes and threads) in the sandbox;\n"
		     "                      fork beyond it fails with EAGAIN (default 1024, 0: none)\n"
		     "  --strace            print every guest system call to stderr\n"
		     "  --strace-log=FILE   print them to FILE instead\n"
		     "  -h, --help          this text\n");
}

/* Adds or replaces K=V in env. */
static int env_set(char ***env, size_t *n, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return -1;
	size_t klen = (size_t)(eq - kv);
	for (size_t i = 0; i < *n; i++) {
		if (strncmp((*env)[i], kv, klen) == 0 && (*env)[i][klen] == '=') {
			(*env)[i] = (char *)kv;
			return 0;
		}
	}
	char **e = realloc(*env, (*n + 2) * sizeof(char *));
	if (!e)
		return -1;
	e[(*n)++] = (char *)kv;
	e[*n] = NULL;
	*env = e;
	return 0;
}

/* HOST:GUEST[:ro|:rw] */
static int parse_volume(struct do_options *o, const char *arg)
{
	char *copy = strdup(arg);
	if (!copy)
		return -1;
	char *guest = strchr(copy, ':');
	bool writable = false;
	if (guest) {
		*guest++ = '\0';
		char *mode = strchr(guest, ':');
		if (mode) {
			*mode++ = '\0';
			if (strcmp(mode, "rw") == 0) {
				writable = true;
			} else if (strcmp(mode, "ro") != 0) {
				fprintf(stderr, "ward: --volume mode must be ro or rw, not '%s'\n", mode);
				free(copy);
				return -1;
			}
		}
	}
	if (!guest || !copy[0] || guest[0] != '/') {
		fprintf(stderr, "ward: --volume wants HOST:GUEST[:ro|:rw] with an absolute GUEST, not '%s'\n", arg);
		free(copy);
		return -1;
	}
	struct do_volume *v = realloc(o->vols, (o->nvols + 1) * sizeof(*v));
	if (!v) {
		free(copy);
		return -1;
	}
	v[o->nvols++] = (struct do_volume){ copy, guest, writable };
	o->vols = v;
	return 0;
}

static int parse(int argc, char **argv, struct do_options *o)
{
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, 'p' },
		{ "root", required_argument, NULL, 'r' },
		{ "cwd", required_argument, NULL, 'c' },
		{ "env", required_argument, NULL, 'e' },
		{ "pids-limit", required_argument, NULL, 'P' },
		{ "strace", no_argument, NULL, 's' },
		{ "strace-log", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "tmpfs", required_argument, NULL, 't' },
		{ "volume", required_argument, NULL, 'v' },
		{ "network", required_argument, NULL, 'n' },
		{ "patch-syscalls", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	o->platform = NULL;
	o->pids_limit = 1024;
	o->root = "/";
	o->cwd = "/";
	for (char **e = environ; *e; e++)
		if (env_set(&o->env, &o->nenv, *e) < 0)
			return -1;
	opterr = 0;
	optind = 1;
	for (;;) {
		int c = getopt_long(argc, argv, "+h", opts, NULL);
		if (c == -1)
			break;
		switch (c) {
		case 'p':
			o->platform = optarg;
			break;
		case 'S':
			o->patch_syscalls = true;
			break;
		case 'r':
			o->root = optarg;
			break;
		case 'c':
			o->cwd = optarg;
			break;
		case 'e':
			if (env_set(&o->env, &o->nenv, optarg) < 0) {
				fprintf(stderr, "ward: --env wants K=V, not '%s'\n", optarg);
				return -1;
			}
			break;
		case 'P': {
			char *end;
			errno = 0;
			long v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 0 || v > 4194304) {
				fprintf(stderr,
					"ward: --pids-limit wants a number from 0 (no limit) to 4194304, not '%s'\n",
					optarg);
				return -1;
			}
			o->pids_limit = v;
			break;
		}
		case 's':
			o->strace = true;
			break;
		case 'l':
			o->strace = true;
			o->strace_log = optarg;
			break;
		case 't': {
			if (optarg[0] != '/') {
				fprintf(stderr, "ward: --tmpfs wants an absolute path inside the sandbox, not '%s'\n",
					optarg);
				return -1;
			}
			const char **t = realloc(o->tmpfs, (o->ntmpfs + 1) * sizeof(*t));
			if (!t)
				return -1;
			t[o->ntmpfs++] = optarg;
			o->tmpfs = t;
			break;
		}
		case 'v':
			if (parse_volume(o, optarg) < 0)
				return -1;
			break;
		case 'n':
			if (strcmp(optarg, "none") == 0) {
				o->network = WARD_NETWORK_NONE;
			} else if (strcmp(optarg, "host") == 0) {
				o->network = WARD_NETWORK_HOST;
			} else {
				fprintf(stderr, "ward: --network wants none or host, not '%s'\n", optarg);
				return -1;
			}
			break;
		case 'h':
			do_usage(stdout);
			exit(0);
		default:
			fprintf(stderr, "ward: do: unknown or incomplete option '%s' (try 'ward do --help')\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "ward: do: no PROGRAM given (usage: ward do [OPTIONS] -- PROGRAM [ARGS...])\n");
		return -1;
	}
	if (o->cwd[0] != '/') {
		fprintf(stderr, "ward: --cwd must be an absolute path inside the sandbox, not '%s'\n", o->cwd);
		return -1;
	}
	o->argv = argv + optind;
	return 0;
}

static void fill_rlimits(struct linux_rlimit *out)
{
	for (int i = 0; i < WARD_RLIM_NLIMITS; i++) {
		struct rlimit rl;
		if (getrlimit(i, &rl) == 0) {
			out[i].rlim_cur = rl.rlim_cur;
			out[i].rlim_max = rl.rlim_max;
		} else {
			out[i].rlim_cur = out[i].rlim_max = RLIM_INFINITY;
		}
	}
}

/* The host signals ward hands to the sandbox's first process, as a
 * container runtime does: a program that handles SIGTERM shuts down as it
 * would natively. */
static const int forwarded_signals[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 };

static void forwarded_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(forwarded_signals) / sizeof(forwarded_signals[0]); i++)
		sigaddset(set, forwarded_signals[i]);
}

/* Waits for the forwarded signals (blocked in every sentry thread) and
 * gives each to the sandbox. When the program would take the default
 * action, the sentry ends by the same signal instead, so the shell sees
 * what it would have seen natively. */
static void *forward_signals(void *arg)
{
	(void)arg;
	sigset_t set;
	forwarded_set(&set);
	for (;;) {
		int sig = sigwaitinfo(&set, NULL);
		if (sig < 0)
			continue;
		ward_kernel_lock();
		bool taken = signal_forward_from_host(sig);
		ward_kernel_unlock();
		if (taken)
			continue;
		/* No core file of the sentry for a SIGQUIT. */
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		signal(sig, SIG_DFL);
		sigset_t one;
		sigemptyset(&one);
		sigaddset(&one, sig);
		pthread_sigmask(SIG_UNBLOCK, &one, NULL);
		raise(sig);
		_exit(128 + sig);
	}
	return NULL;
}

static int exit_code_of(int status)
{
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* PID 1 is gone: so is the sandbox. Where the platform can end every stub
 * at once, the sentry exits now, and its memory and descriptors go with it
 * faster than one by one; elsewhere the sandbox is taken apart first. */
static void init_exited(int status)
{
	if (ward_platform_shutdown() == 0)
		ward_sentry_exit(exit_code_of(status));
}

/* The task thread: create the first process, run it to its end. */
static void *run_sandbox(void *arg)
{
	struct run_state *st = arg;
	struct task *t = NULL;

	/* The sentry kernel runs under its lock; task_run_init drops it only
	 * while guest code runs. */
	ward_kernel_lock();
	long r = task_create_init(&st->spec, &t, st->err, sizeof(st->err));
	if (r < 0) {
		ward_kernel_unlock();
		fprintf(stderr, "ward: %s\n", st->err);
		st->exit_code = r == -ENOENT ? WARD_EXIT_NOT_FOUND : WARD_EXIT_CANNOT_EXEC;
		return NULL;
	}
	task_set_init_exit_hook(init_exited);
	int status = task_run_init(t);
	ward_kernel_unlock();
	st->exit_code = exit_code_of(status);
	return NULL;
}

static int run_do(struct do_options *o)
{
	struct run_state st = { 0 };
	struct ward_thread *thread;
	long r;

	/* First, while the sentry has one thread: a network namespace is a
	 * thread's, and every later thread inherits the main thread's (where
	 * the namespace is made on first use instead, this only says so). */
	if ((r = ward_host_net_init(o->network, st.err, sizeof(st.err))) < 0) {
		fprintf(stderr, "ward: %s\n", st.err);
		return WARD_EXIT_SETUP;
	}
	/* Blocked before any sentry thread starts, so that every one inherits
	 * it and only the forwarder takes them. */
	sigset_t forwarded;
	forwarded_set(&forwarded);
	pthread_sigmask(SIG_BLOCK, &forwarded, NULL);
	/* seccomp where the host allows it, else ptrace. */
	if (!o->platform && ward_platform_select("seccomp") < 0)
		o->platform = "ptrace";
	if (o->platform && (r = ward_platform_select(o->platform)) < 0) {
		if (r == -ENOENT) {
			fprintf(stderr, "ward: unknown platform '%s' (this build has: seccomp, ptrace)\n", o->platform);
			return WARD_EXIT_USAGE;
		}
		fprintf(stderr, "ward: platform '%s' cannot run on this host: %s\n", o->platform, strerror((int)-r));
		return WARD_EXIT_SETUP;
	}
	if (o->patch_syscalls && (r = ward_patch_enable()) < 0) {
		if (r == -EOPNOTSUPP) {
			fprintf(stderr,
				"ward: --patch-syscalls needs --platform=seccomp (platform '%s' cannot patch)\n",
				ward_platform()->name);
			return WARD_EXIT_USAGE;
		}
		if (r == -EINVAL) {
			fprintf(stderr, "ward: WARD_PATCH_TABLE must be 'low' or 'guest'\n");
			return WARD_EXIT_USAGE;
		}
		fprintf(stderr,
			"ward: --patch-syscalls with WARD_PATCH_TABLE=low cannot work here: the stub cannot map "
			"its slot table at 4 KiB (vm.mmap_min_addr above 4096 and no CAP_SYS_RAWIO): %s\n",
			strerror((int)-r));
		return WARD_EXIT_SETUP;
	}
	if ((r = ward_memfile_init(MEMFILE_SIZE)) < 0) {
		fprintf(stderr, "ward: cannot create the memory file: %s\n", strerror((int)-r));
		return WARD_EXIT_SETUP;
	}
	if ((r = vfs_init(o->root)) < 0) {
		fprintf(stderr, "ward: cannot use '%s' as the root: %s\n", o->root, strerror((int)-r));
		return WARD_EXIT_SETUP;
	}
	for (size_t i = 0; i < o->nvols; i++) {
		if ((r = vfs_mount_host(o->vols[i].host, o->vols[i].guest, o->vols[i].writable)) < 0) {
			fprintf(stderr, "ward: cannot mount the volume '%s' at '%s': %s\n", o->vols[i].host,
				o->vols[i].guest, strerror((int)-r));
			return WARD_EXIT_SETUP;
		}
	}
	for (size_t i = 0; i < o->ntmpfs; i++) {
		if ((r = vfs_mount_tmpfs(o->tmpfs[i])) < 0) {
			fprintf(stderr, "ward: cannot mount a tmpfs at '%s': %s\n", o->tmpfs[i], strerror((int)-r));
			return WARD_EXIT_SETUP;
		}
	}
	if (o->strace && (r = ward_strace_open(o->strace_log)) < 0) {
		fprintf(stderr, "ward: cannot open the strace log '%s': %s\n", o->strace_log, strerror((int)-r));
		return WARD_EXIT_SETUP;
	}
	task_set_pids_limit((int)o->pids_limit);
	st.spec.path = o->argv[0];
	st.spec.argv = o->argv;
	st.spec.envp = o->env;
	st.spec.cwd = o->cwd;
	st.spec.creds =
		(struct creds){ getuid(), geteuid(), geteuid(), geteuid(), getgid(), getegid(), getegid(), getegid() };
	fill_rlimits(st.spec.rlimits);
	/* Each task runs on a sentry thread of its own (the platform ties a
	 * stub to the thread that created it). */
	if ((r = ward_thread_start(&thread, run_sandbox, &st)) < 0) {
		fprintf(stderr, "ward: cannot start the task thread: %s\n", strerror((int)-r));
		return WARD_EXIT_SETUP;
	}
	if ((r = ward_thread_spawn(forward_signals, NULL)) < 0) {
		fprintf(stderr, "ward: cannot start the signal forwarder: %s\n", strerror((int)-r));
		return WARD_EXIT_SETUP;
	}
	ward_thread_join(thread);
	return st.exit_code;
}

static void options_free(struct do_options *o)
{
	for (size_t i = 0; i < o->nvols; i++)
		free(o->vols[i].host);
	free(o->vols);
	free(o->tmpfs);
	free(o->env);
}

int ward_cmd_do(int argc, char **argv)
{
	struct do_options o = { 0 };
	int rc = parse(argc, argv, &o) < 0 ? WARD_EXIT_USAGE : run_do(&o);
	options_free(&o);
	return rc;
}
