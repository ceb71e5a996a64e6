/* The pure helpers of path resolution: canonical paths, lexical
 * normalization, device numbers, directory records and seeks. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fs/tmpfs.h"
#include "fs/vfs_internal.h"

#include "unit.h"

static const char *norm(const char *base, const char *path)
{
	static char out[4096];
	ck_assert_int_eq(vfs_path_normalize(base, path, out, sizeof(out)), 0);
	return out;
}

START_TEST(canon_push)
{
	char c[32] = "/";
	ck_assert_int_eq(vfs_canon_push(c, sizeof(c), "usr", 3), 0);
	ck_assert_str_eq(c, "/usr");
	ck_assert_int_eq(vfs_canon_push(c, sizeof(c), "bin", 3), 0);
	ck_assert_str_eq(c, "/usr/bin");
	ck_assert_int_eq(vfs_canon_push(c, sizeof(c), ".", 1), 0);
	ck_assert_str_eq(c, "/usr/bin");
	ck_assert_int_eq(vfs_canon_push(c, sizeof(c), "..", 2), 0);
	ck_assert_str_eq(c, "/usr");
	ck_assert_int_eq(vfs_canon_push(c, sizeof(c), "..", 2), 0);
	ck_assert_str_eq(c, "/");
	/* ".." stops at the root. */
	ck_assert_int_eq(vfs_canon_push(c, sizeof(c), "..", 2), 0);
	ck_assert_str_eq(c, "/");
	/* A name that is only a prefix of the buffer. */
	ck_assert_int_eq(vfs_canon_push(c, sizeof(c), "etcetera", 3), 0);
	ck_assert_str_eq(c, "/etc");
}
END_TEST

START_TEST(canon_overflow)
{
	char c[8] = "/ab";
	ck_assert_int_eq(vfs_canon_push(c, sizeof(c), "cde", 3), 0);
	ck_assert_str_eq(c, "/ab/cde");
	ck_assert_int_eq(vfs_canon_push(c, sizeof(c), "f", 1), -ENAMETOOLONG);
	ck_assert_str_eq(c, "/ab/cde");
}
END_TEST

START_TEST(normalize)
{
	ck_assert_str_eq(norm("/", "/"), "/");
	ck_assert_str_eq(norm("/", "//usr/./include/../include//stdio.h"), "/usr/include/stdio.h");
	ck_assert_str_eq(norm("/", "/.."), "/");
	ck_assert_str_eq(norm("/usr", "include/../bin/."), "/usr/bin");
	ck_assert_str_eq(norm("/usr/include", "../../../.."), "/");
	ck_assert_str_eq(norm("/etc", "/usr/"), "/usr");
	ck_assert_str_eq(norm("/etc", ""), "/etc");
	ck_assert_str_eq(norm("/a", "..."), "/a/...");
}
END_TEST

START_TEST(makedev)
{
	/* The glibc encoding, which is the kernel's new_encode_dev. */
	ck_assert_uint_eq(vfs_makedev(1, 3), 0x103);
	ck_assert_uint_eq(vfs_makedev(8, 1), 0x801);
	ck_assert_uint_eq(vfs_makedev(0, 0x123456), 0x123400056ULL);
	ck_assert_uint_eq(vfs_makedev(0x1234, 0), (0x1000ULL << 32) | 0x23400);
}
END_TEST

START_TEST(dirent)
{
	char buf[64];
	size_t used = 0;
	ck_assert_int_eq(vfs_dirent_emit(buf, sizeof(buf), &used, 7, 1, 4, "."), 0);
	/* 19 bytes of header, the name and its NUL, rounded up to 8. */
	ck_assert_uint_eq(used, 24);
	const struct linux_dirent64 *d = (const void *)buf;
	ck_assert_uint_eq(d->d_ino, 7);
	ck_assert_int_eq(d->d_off, 1);
	ck_assert_uint_eq(d->d_reclen, 24);
	ck_assert_uint_eq(d->d_type, 4);
	ck_assert_str_eq(d->d_name, ".");
	ck_assert_int_eq(vfs_dirent_emit(buf, sizeof(buf), &used, 8, 2, 2, "urandom"), 0);
	ck_assert_uint_eq(used, 24 + 32);
	/* The next one does not fit, and nothing is written. */
	ck_assert_int_eq(vfs_dirent_emit(buf, sizeof(buf), &used, 9, 3, 2, "x"), -EINVAL);
	ck_assert_uint_eq(used, 56);
}
END_TEST

START_TEST(seek)
{
	struct file f = { 0 };
	ck_assert_int_eq(vfs_generic_seek(&f, 10, SEEK_SET, 100), 10);
	ck_assert_int_eq(vfs_generic_seek(&f, 5, SEEK_CUR, 100), 15);
	ck_assert_int_eq(vfs_generic_seek(&f, -1, SEEK_END, 100), 99);
	ck_assert_int_eq(vfs_generic_seek(&f, -200, SEEK_END, 100), -EINVAL);
	ck_assert_uint_eq(f.pos, 99);
	ck_assert_int_eq(vfs_generic_seek(&f, 0, SEEK_DATA, 100), 0);
	ck_assert_int_eq(vfs_generic_seek(&f, 0, SEEK_HOLE, 100), 100);
	ck_assert_int_eq(vfs_generic_seek(&f, 100, SEEK_DATA, 100), -ENXIO);
	ck_assert_int_eq(vfs_generic_seek(&f, 0, 42, 100), -EINVAL);
	f.pos = 1;
	ck_assert_int_eq(vfs_generic_seek(&f, INT64_MAX, SEEK_CUR, 100), -EINVAL);
}
END_TEST

/* tmpfs nodes: sparse data, truncation, links and directory counts. */
START_TEST(tmpfs_data)
{
	struct tmpfs fs = { .minor = 99, .next_ino = 1 };
	struct tnode *n = tnode_new(&fs, S_IFREG | 0644, 0, 0);
	ck_assert_ptr_nonnull(n);
	n->refs = 1;
	char buf[8192];
	ck_assert_int_eq(tnode_write(n, "abc", 3, 1 << 20), 3);
	ck_assert_uint_eq(n->size, (1 << 20) + 3);
	/* Only the page written takes memory. */
	ck_assert_uint_eq(n->npages, 1);
	memset(buf, 1, sizeof(buf));
	ck_assert_int_eq(tnode_read(n, buf, sizeof(buf), 4096), (long)sizeof(buf));
	ck_assert_int_eq(buf[0] | buf[8191], 0);
	ck_assert_int_eq(tnode_read(n, buf, 10, (1 << 20) + 1), 2);
	ck_assert_int_eq(buf[0], 'b');
	ck_assert_int_eq(tnode_read(n, buf, 10, (1 << 20) + 3), 0);
	/* A write across a page boundary, then truncation into it. */
	ck_assert_int_eq(tnode_write(n, "0123456789", 10, 4090), 10);
	ck_assert_uint_eq(n->npages, 3);
	ck_assert_int_eq(tnode_truncate(n, 4093), 0);
	ck_assert_uint_eq(n->npages, 1);
	ck_assert_int_eq(tnode_truncate(n, 4100), 0);
	ck_assert_int_eq(tnode_read(n, buf, 10, 4090), 10);
	ck_assert_int_eq(memcmp(buf, "012\0\0\0\0\0\0\0", 10), 0);
	struct linux_statx stx;
	tnode_getattr(n, &stx);
	ck_assert_uint_eq(stx.stx_size, 4100);
	ck_assert_uint_eq(stx.stx_blocks, 8);
	ck_assert_uint_eq(stx.stx_dev_minor, 99);
	tnode_unref(n);
}
END_TEST

START_TEST(tmpfs_tree)
{
	struct tmpfs fs = { .minor = 1, .next_ino = 1 };
	struct tnode *root = tnode_new(&fs, S_IFDIR | 0755, 0, 0);
	root->refs = 1;
	root->nlink = 2;
	struct tnode *d = tnode_new(&fs, S_IFDIR | 0755, 0, 0);
	struct tnode *f = tnode_new(&fs, S_IFREG | 0644, 0, 0);
	ck_assert_int_eq(tnode_link(root, "d", d), 0);
	ck_assert_int_eq(tnode_link(d, "f", f), 0);
	ck_assert_int_eq(tnode_link(root, "hard", f), 0);
	ck_assert_uint_eq(root->nlink, 3);
	ck_assert_uint_eq(d->nlink, 2);
	ck_assert_uint_eq(f->nlink, 2);
	ck_assert_ptr_eq(tnode_lookup(root, "hard"), f);
	ck_assert_ptr_eq(d->parent, root);
	ck_assert(!tnode_dir_empty(d, NULL));
	ck_assert_int_eq(tnode_unlink(d, "f"), 0);
	ck_assert_int_eq(tnode_unlink(d, "f"), -ENOENT);
	ck_assert_uint_eq(f->nlink, 1);
	ck_assert(tnode_dir_empty(d, NULL));
	ck_assert_int_eq(tnode_unlink(root, "d"), 0);
	ck_assert_uint_eq(root->nlink, 2);
	ck_assert_ptr_null(tnode_lookup(root, "d"));
	ck_assert_int_eq(tnode_unlink(root, "hard"), 0);
	ck_assert(tnode_dir_empty(root, NULL));
	tnode_unref(root);
}
END_TEST

static Suite *vfs_suite(void)
{
	Suite *s = suite_create("vfs");
	TCase *tc = tcase_create("paths");
	tcase_add_test(tc, canon_push);
	tcase_add_test(tc, canon_overflow);
	tcase_add_test(tc, normalize);
	tcase_add_test(tc, makedev);
	tcase_add_test(tc, dirent);
	tcase_add_test(tc, seek);
	suite_add_tcase(s, tc);
	TCase *tm = tcase_create("tmpfs");
	tcase_add_test(tm, tmpfs_data);
	tcase_add_test(tm, tmpfs_tree);
	suite_add_tcase(s, tm);
	return s;
}

WARD_UNIT_MAIN(vfs_suite)
