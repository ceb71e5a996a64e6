/* bad_deref.c with the finding silenced by a NOLINT comment: the source
 * check must refuse the comment itself. */
#include "sentry/service.h"

int boundary_bad_nolint(gaddr_t a);

int boundary_bad_nolint(gaddr_t a)
{
	return *(int *)(uintptr_t)a.v; // NOLINT
}
