/* Logging, the strace stream, sentry threads and locks. */
#include "core.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum ward_log_level log_level = WARD_LOG_WARN;
static int strace_fd = -1;

void ward_set_log_level(enum ward_log_level level)
{
	log_level = level;
}

void ward_log(enum ward_log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (level > log_level)
		return;
	int n = snprintf(line, sizeof(line), "ward: ");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write, so lines from several threads do not interleave. */
	(void)!write(2, line, (size_t)n);
}

int ward_strace_enabled(void)
{
	return strace_fd >= 0;
}

void ward_strace_write(const char *buf, size_t len)
{
	if (strace_fd >= 0)
		(void)!write(strace_fd, buf, len);
}

long ward_strace_open(const char *path)
{
	if (!path) {
		strace_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
	} else {
		strace_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	}
	return strace_fd < 0 ? -errno : 0;
}

struct ward_thread {
	pthread_t tid;
};

struct thread_start {
	void *(*fn)(void *);
	void *arg;
};

/* Runs the thread's function, then drops the platform context it kept. */
static void *thread_main(void *p)
{
	struct thread_start ts = *(struct thread_start *)p;
	free(p);
	void *ret = ts.fn(ts.arg);
	ward__ctx_thread_exit();
	return ret;
}

long ward_thread_start(struct ward_thread **out, void *(*fn)(void *), void *arg)
{
	struct ward_thread *t = calloc(1, sizeof(*t));
	struct thread_start *ts = malloc(sizeof(*ts));
	if (!t || !ts) {
		free(t);
		free(ts);
		return -ENOMEM;
	}
	*ts = (struct thread_start){ fn, arg };
	int r = pthread_create(&t->tid, NULL, thread_main, ts);
	if (r != 0) {
		free(ts);
		free(t);
		return -r;
	}
	*out = t;
	return 0;
}

void *ward_thread_join(struct ward_thread *t)
{
	void *ret = NULL;
	pthread_join(t->tid, &ret);
	free(t);
	return ret;
}

_Static_assert(sizeof(pthread_mutex_t) <= sizeof(struct ward_mutex), "ward_mutex size");

void ward_mutex_init(struct ward_mutex *m)
{
	/* SAFETY: the opaque storage is large and aligned enough (asserted). */
	pthread_mutex_init((pthread_mutex_t *)m->opaque, NULL);
}

void ward_mutex_lock(struct ward_mutex *m)
{
	pthread_mutex_lock((pthread_mutex_t *)m->opaque);
}

void ward_mutex_unlock(struct ward_mutex *m)
{
	pthread_mutex_unlock((pthread_mutex_t *)m->opaque);
}

void ward_sentry_exit(int status)
{
	/* Stubs die with the sentry (PTRACE_O_EXITKILL and PDEATHSIG). */
	_exit(status);
}
