/* A service that calls a core-internal function (ward__*): only ward_*
 * names without the double underscore are the core's API. The symbol check
 * must reject it. */
#include "sentry/service.h"

void *ward__raw_pointer(uint64_t v);
int boundary_bad_internal(gaddr_t a);

int boundary_bad_internal(gaddr_t a)
{
	return *(int *)ward__raw_pointer(a.v);
}
