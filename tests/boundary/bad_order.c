/* A service that includes a libc header before the prelude. STYLE: the
 * prelude comes first, so that nothing is declared before the poison
 * list is in force. The source check must reject it. */
#include <string.h>

#include "sentry/service.h"

size_t boundary_bad_order(const char *s);

size_t boundary_bad_order(const char *s)
{
	return strlen(s);
}
