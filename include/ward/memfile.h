/* The memory file: one memfd that holds all guest anonymous memory and
 * private copies of file pages. The sentry maps it whole into itself, so a
 * guest copy is a bounds-checked memcpy; platforms map ranges of it into
 * guest address spaces.
 *
 * Offsets are allocated page-granular. Freed ranges are punched out of the
 * file, so their memory goes back to the host at once. All functions are
 * thread-safe. */
#ifndef WARD_MEMFILE_H
#define WARD_MEMFILE_H

#include <stddef.h>
#include <stdint.h>

#include "ward/host.h"

/* Creates the memory file, capable of size bytes of guest memory in all. */
long ward_memfile_init(uint64_t size);
/* Allocates len bytes (page-aligned), zero-filled; *off is set. -ENOMEM when
 * the file is full. */
long ward_memfile_alloc(uint64_t len, uint64_t *off);
/* Allocates exactly [off, off+len) if it is free (to grow a mapping in
 * place); -ENOMEM otherwise. */
long ward_memfile_alloc_at(uint64_t off, uint64_t len);
/* Returns [off, off+len) to the allocator and its memory to the host. */
void ward_memfile_free(uint64_t off, uint64_t len);
/* Bounds-checked access to allocated ranges; -EFAULT outside them. */
long ward_memfile_write(uint64_t off, const void *buf, size_t len);
long ward_memfile_read(uint64_t off, void *buf, size_t len);
long ward_memfile_zero(uint64_t off, size_t len);
long ward_memfile_copy(uint64_t dst, uint64_t src, size_t len);
/* Copies [src, src+len) to [dst, dst+len), which must read as zeros (a
 * fresh allocation), touching only the parts of src that hold data (for
 * fork). */
long ward_memfile_copy_sparse(uint64_t dst, uint64_t src, size_t len);
/* Reads up to len bytes of a host file at file_off straight into the memory
 * file. Returns bytes read (short at end of file) or -errno. */
long ward_memfile_fill_from_host(uint64_t off, ward_hostfd_t file, uint64_t file_off, size_t len);
/* Bytes of the memory file in use, for accounting. */
uint64_t ward_memfile_used(void);

#endif
