/* SO_RCVTIMEO/SO_SNDTIMEO as Linux's sock_set_timeout keeps them, for every
 * socket family of the sentry: the timeval as set (getsockopt reads it
 * back) and the wait in ns (0: none; -1: do not wait at all). */
#ifndef WARD_NET_SOCK_TIMEO_H
#define WARD_NET_SOCK_TIMEO_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

static inline long sock_timeo_set(int64_t tv_store[2], int64_t *ns_store, const void *val, uint32_t len)
{
	const int64_t nsec = 1000000000LL;
	int64_t tv[2];
	if (len < sizeof(tv))
		return -EINVAL;
	memcpy(tv, val, sizeof(tv));
	if (tv[1] < 0 || tv[1] >= 1000000)
		return -EDOM;
	if (tv[0] < 0) {
		tv_store[0] = tv_store[1] = 0;
		*ns_store = -1;
		return 0;
	}
	tv_store[0] = tv[0];
	tv_store[1] = tv[1];
	*ns_store = (tv[0] == 0 && tv[1] == 0) ? 0 : tv[0] > INT64_MAX / nsec - 1 ? 0 : tv[0] * nsec + tv[1] * 1000;
	return 0;
}

#endif
