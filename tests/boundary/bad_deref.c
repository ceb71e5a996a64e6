/* A service that includes the prelude, compiles cleanly and calls nothing
 * it may not, but reads guest memory by turning a guest address into a C
 * pointer. Only the int-to-pointer source check (clang-tidy) catches it. */
#include "sentry/service.h"

int boundary_bad_deref(gaddr_t a);
char boundary_bad_deref_char(gaddr_t a);

int boundary_bad_deref(gaddr_t a)
{
	return *(int *)(a.v);
}

char boundary_bad_deref_char(gaddr_t a)
{
	return *(char *)(uintptr_t)a.v;
}
