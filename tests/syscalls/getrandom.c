/* getrandom: fills the buffer, accepts its documented flags, and rejects
 * unknown flags and bad buffers. Randomness itself is only checked
 * crudely: two 64-byte draws are not all zero and not equal. */
#include "ward_test.h"

#include <sys/random.h>

#ifndef GRND_INSECURE
#define GRND_INSECURE 0x0004
#endif

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int main(void)
{
	unsigned char a[64] = { 0 }, b[64] = { 0 }, big[4096] = { 0 };

	CHECK_EQ(getrandom(a, sizeof(a), 0), sizeof(a));
	CHECK_EQ(getrandom(b, sizeof(b), 0), sizeof(b));
	CHECK(!all_zero(a, sizeof(a)));
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	/* Requests up to 256 bytes are never short; bigger ones may be cut
	 * short by a signal only, so this one is whole too. */
	CHECK_EQ(getrandom(big, sizeof(big), 0), sizeof(big));
	CHECK(!all_zero(big + 4000, 96));
	CHECK_EQ(getrandom(a, 0, 0), 0);
	CHECK_EQ(getrandom(NULL, 0, 0), 0);

	CHECK_EQ(getrandom(a, sizeof(a), GRND_NONBLOCK), sizeof(a));
	CHECK_EQ(getrandom(a, sizeof(a), GRND_RANDOM | GRND_NONBLOCK), sizeof(a));
	CHECK_EQ(getrandom(a, sizeof(a), GRND_INSECURE), sizeof(a));

	CHECK_ERRNO(getrandom(a, sizeof(a), 0x100), EINVAL);
	CHECK_ERRNO(getrandom(a, sizeof(a), GRND_INSECURE | GRND_RANDOM), EINVAL);
	CHECK_ERRNO(syscall(SYS_getrandom, (void *)1, 16, 0), EFAULT);
	return test_done();
}
