/* Core services that are neither memory nor the host door: logging, the
 * strace stream, sentry threads and locks. */
#ifndef WARD_CORE_H
#define WARD_CORE_H

#include <stdarg.h>
#include <stddef.h>

enum ward_log_level {
	WARD_LOG_ERROR,
	WARD_LOG_WARN,
	WARD_LOG_INFO,
	WARD_LOG_DEBUG,
};

/* Writes one line, prefixed "ward: ", to the sentry's stderr. */
void ward_log(enum ward_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ward_set_log_level(enum ward_log_level level);

/* The strace stream: off unless the CLI opened it. */
int ward_strace_enabled(void);
void ward_strace_write(const char *buf, size_t len);
/* Opens the strace stream on stderr (path NULL) or on a file. */
long ward_strace_open(const char *path);

/* A sentry thread that runs fn(arg). Threads are joined by ward_thread_join. */
struct ward_thread;
long ward_thread_start(struct ward_thread **out, void *(*fn)(void *), void *arg);
void *ward_thread_join(struct ward_thread *t);

/* A mutex for services (pthread's, behind the core so services need no
 * host thread API). */
struct ward_mutex {
	unsigned char opaque[40] __attribute__((aligned(8)));
};
void ward_mutex_init(struct ward_mutex *m);
void ward_mutex_lock(struct ward_mutex *m);
void ward_mutex_unlock(struct ward_mutex *m);

/* Ends the whole sentry now with status (used when the init process exits). */
__attribute__((noreturn)) void ward_sentry_exit(int status);

#endif
