/* A tiny assertion library for the conformance programs in tests/syscalls/.
 *
 * Each program is proven on Linux first, then run under ward on every
 * platform, so a check never stops the program: it prints file:line and the
 * failing expression to stderr and counts the failure, and the program keeps
 * going so that one run shows every divergence at once. main() ends with
 * `return test_done();` (exit 0 if every check held, 1 otherwise); SKIP()
 * exits 77, the automake convention for "could not run here". */
#ifndef WARD_TEST_H
#define WARD_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

static int ward_test_failures;

#define WARD_FAIL(...)                                          \
	do {                                                    \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__);                   \
		fputc('\n', stderr);                            \
		ward_test_failures++;                           \
	} while (0)

/* Asserts that cond is true. */
#define CHECK(cond)                                           \
	do {                                                  \
		if (!(cond))                                  \
			WARD_FAIL("CHECK(%s) failed", #cond); \
	} while (0)

/* Asserts a == b, both taken as integers (pointers and sizes included). */
#define CHECK_EQ(a, b)                                                                                              \
	do {                                                                                                        \
		long long _a = (long long)(a), _b = (long long)(b);                                                 \
		if (_a != _b)                                                                                       \
			WARD_FAIL("CHECK_EQ(%s, %s) failed: %lld (%#llx) != %lld (%#llx)", #a, #b, _a, _a, _b, _b); \
	} while (0)

/* Asserts two C strings are equal (and neither is NULL). */
#define CHECK_STREQ(a, b)                                                                                     \
	do {                                                                                                  \
		const char *_a = (a), *_b = (b);                                                              \
		if (!_a || !_b || strcmp(_a, _b) != 0)                                                        \
			WARD_FAIL("CHECK_STREQ(%s, %s) failed: \"%s\" != \"%s\"", #a, #b, _a ? _a : "(null)", \
				  _b ? _b : "(null)");                                                        \
	} while (0)

/* Asserts expr fails with errno == err. expr may be an integer or a pointer
 * (MAP_FAILED is -1 too); raw syscall() is -1 on error as well. */
#define CHECK_ERRNO(expr, err)                                                                                    \
	do {                                                                                                      \
		errno = 0;                                                                                        \
		long _r = (long)(expr);                                                                           \
		int _e = errno;                                                                                   \
		if (_r != -1 || _e != (err))                                                                      \
			WARD_FAIL("CHECK_ERRNO(%s, %s) failed: returned %ld, errno %d (%s)", #expr, #err, _r, _e, \
				  strerrorname_np(_e) ? strerrorname_np(_e) : "0");                               \
	} while (0)

/* Asserts expr does not return -1 and yields its value, so that
 * `int fd = CHECK_OK(open(...));` reads naturally. */
#define CHECK_OK(expr)                                                                                     \
	({                                                                                                 \
		errno = 0;                                                                                 \
		__auto_type _v = (expr);                                                                   \
		if ((long)_v == -1)                                                                        \
			WARD_FAIL("CHECK_OK(%s) failed: %s (%s)", #expr,                                   \
				  strerrorname_np(errno) ? strerrorname_np(errno) : "0", strerror(errno)); \
		_v;                                                                                        \
	})

/* Ends the program with 77: this test cannot run here. */
#define SKIP(reason)                                                                \
	do {                                                                        \
		fprintf(stderr, "%s:%d: SKIP: %s\n", __FILE__, __LINE__, (reason)); \
		exit(77);                                                           \
	} while (0)

/* Returns the path of a symbolic link to an existing file that a Debian 12
 * root is sure to have, or NULL. Its target goes to target[size] if given. */
static inline const char *test_symlink(char *target, size_t size)
{
	static const char *const candidates[] = {
		"/lib64/ld-linux-x86-64.so.2",
		"/etc/localtime",
		"/bin/sh",
	};
	char buf[4096];
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		ssize_t n = readlink(candidates[i], buf, sizeof(buf) - 1);
		if (n <= 0 || access(candidates[i], F_OK) != 0)
			continue;
		buf[n] = '\0';
		if (target)
			snprintf(target, size, "%s", buf);
		return candidates[i];
	}
	return NULL;
}

/* Returns main's exit status: 0 if every check held, 1 otherwise. */
static inline int test_done(void)
{
	if (ward_test_failures)
		fprintf(stderr, "%d check(s) failed\n", ward_test_failures);
	return ward_test_failures ? 1 : 0;
}

#endif
