/* The vDSO every guest gets: ward's own image (src/vdso/) and the parameter
 * page ([vvar]) its clock functions read, both kept once in the memory file
 * and shared read-only by all guests. The core owns them because it writes
 * the page (a sentry thread keeps it current with the host's clocks); the
 * loader maps them at execve. */
#ifndef WARD_VDSO_H
#define WARD_VDSO_H

#include <stdint.h>

struct ward_vdso {
	uint64_t vvar_off; /* memory-file offset of the parameter page (one page) */
	uint64_t image_off; /* memory-file offset of the image, vvar_off + one page */
	uint64_t image_len; /* page-aligned */
};

/* Fills *out. The first call copies the image into the memory file,
 * initialises the parameter page and starts the thread that updates it;
 * later calls return the same pages. -errno when the memory file has no
 * room (the loader then runs the guest without a vDSO). */
long ward_vdso_get(struct ward_vdso *out);

#endif
