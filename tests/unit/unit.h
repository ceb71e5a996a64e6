/* Shared set-up for the check-based unit tests. */
#ifndef WARD_UNIT_H
#define WARD_UNIT_H

#include <check.h>
#include <stdlib.h>

/* Runs one suite and exits with check's verdict. */
#define WARD_UNIT_MAIN(suite_fn)                             \
	int main(void)                                       \
	{                                                    \
		SRunner *sr = srunner_create(suite_fn());    \
		srunner_set_fork_status(sr, CK_NOFORK);      \
		srunner_run_all(sr, CK_NORMAL);              \
		int failed = srunner_ntests_failed(sr);      \
		srunner_free(sr);                            \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS; \
	}

#endif
