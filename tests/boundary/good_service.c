/* A well-behaved service: it includes the prelude first and moves guest
 * bytes only through the core's copy helpers. tests/boundary/run.sh expects
 * tools/check-boundary.sh to pass it. */
#include "sentry/service.h"

long boundary_good_read_u32(struct ward_as *as, gaddr_t addr, uint32_t *out);
long boundary_good_read_name(struct ward_as *as, gaddr_t addr, char *buf, size_t len);

long boundary_good_read_u32(struct ward_as *as, gaddr_t addr, uint32_t *out)
{
	uint32_t v;
	long r = ward_copy_in(as, &v, addr, sizeof(v));

	if (r < 0)
		return r;
	*out = v;
	return 0;
}

long boundary_good_read_name(struct ward_as *as, gaddr_t addr, char *buf, size_t len)
{
	char tmp[64];
	long r = ward_copy_string_in(as, tmp, sizeof(tmp), gaddr_add(addr, 0));
	void *none = NULL; /* a null pointer constant is not an int-to-pointer cast */

	if (r < 0 || none != NULL)
		return r;
	snprintf(buf, len, "name=%s", tmp);
	return (long)strlen(buf);
}
