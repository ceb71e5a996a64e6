/* sendfile, copy_file_range, splice, tee and vmsplice between regular
 * files, pipes and sockets: data and offsets (given or the file
 * position), and the argument rules (EBADF, EINVAL, ESPIPE, EXDEV, EISDIR,
 * EAGAIN with SPLICE_F_NONBLOCK, pipes required for splice and tee). */
#include "ward_test.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

static char path_a[64], path_b[64];

static int make_file(const char *path, const char *data)
{
	int fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
	CHECK_EQ(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void test_sendfile(void)
{
	int in = make_file(path_a, "0123456789abcdef");
	int out = CHECK_OK(open(path_b, O_RDWR | O_CREAT | O_TRUNC, 0600));
	char buf[32] = { 0 };
	/* From the position, which moves. */
	CHECK_EQ(sendfile(out, in, NULL, 4), 4);
	CHECK_EQ(lseek(in, 0, SEEK_CUR), 4);
	CHECK_EQ(lseek(out, 0, SEEK_CUR), 4);
	/* From an offset, which is updated instead. */
	off_t off = 10;
	CHECK_EQ(sendfile(out, in, &off, 100), 6);
	CHECK_EQ(off, 16);
	CHECK_EQ(lseek(in, 0, SEEK_CUR), 4);
	CHECK_EQ(pread(out, buf, sizeof(buf), 0), 10);
	CHECK(memcmp(buf, "0123abcdef", 10) == 0);
	CHECK_EQ(sendfile(out, in, &off, 10), 0); /* at the end */

	/* Into a pipe and a socket. */
	int p[2];
	CHECK_OK(pipe(p));
	off = 0;
	CHECK_EQ(sendfile(p[1], in, &off, 5), 5);
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 5);
	CHECK(memcmp(buf, "01234", 5) == 0);
	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	off = 3;
	CHECK_EQ(sendfile(sv[0], in, &off, 3), 3);
	CHECK_EQ(read(sv[1], buf, sizeof(buf)), 3);
	CHECK(memcmp(buf, "345", 3) == 0);

	/* Errors. */
	CHECK_ERRNO(sendfile(out, -1, NULL, 1), EBADF);
	CHECK_ERRNO(sendfile(-1, in, NULL, 1), EBADF);
	CHECK_ERRNO(sendfile(in, p[1], NULL, 1), EBADF); /* a write end to read */
	int ro = CHECK_OK(open(path_b, O_RDONLY));
	CHECK_ERRNO(sendfile(ro, in, NULL, 1), EBADF);
	close(ro);
	off = -1;
	CHECK_ERRNO(sendfile(out, in, &off, 1), EINVAL);
	CHECK_ERRNO(sendfile(out, in, (off_t *)1, 1), EFAULT);
	CHECK_ERRNO(sendfile(out, p[0], &off, 1), ESPIPE);
	int ap = CHECK_OK(open(path_b, O_WRONLY | O_APPEND));
	CHECK_ERRNO(sendfile(ap, in, NULL, 1), EINVAL);
	close(ap);
	close(sv[0]);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
	close(in);
	close(out);
}

static void test_copy_file_range(void)
{
	int in = make_file(path_a, "hello, world");
	int out = CHECK_OK(open(path_b, O_RDWR | O_CREAT | O_TRUNC, 0600));
	char buf[32] = { 0 };
	CHECK_EQ(copy_file_range(in, NULL, out, NULL, 5, 0), 5);
	CHECK_EQ(lseek(in, 0, SEEK_CUR), 5);
	CHECK_EQ(lseek(out, 0, SEEK_CUR), 5);
	loff_t oi = 7, oo = 20;
	CHECK_EQ(copy_file_range(in, &oi, out, &oo, 100, 0), 5);
	CHECK_EQ(oi, 12);
	CHECK_EQ(oo, 25);
	CHECK_EQ(lseek(in, 0, SEEK_CUR), 5);
	CHECK_EQ(pread(out, buf, sizeof(buf), 0), 25);
	CHECK(memcmp(buf, "hello", 5) == 0);
	CHECK(memcmp(buf + 20, "world", 5) == 0);
	CHECK_EQ(buf[10], 0);
	/* Past the end of the source: nothing. */
	oi = 100;
	CHECK_EQ(copy_file_range(in, &oi, out, NULL, 5, 0), 0);
	CHECK_EQ(copy_file_range(in, NULL, out, NULL, 0, 0), 0);

	/* Within one file, apart is fine, overlapping is not. */
	oi = 0;
	oo = 100;
	CHECK_EQ(copy_file_range(in, &oi, in, &oo, 5, 0), 5);
	oi = 0;
	oo = 2;
	CHECK_ERRNO(copy_file_range(in, &oi, in, &oo, 5, 0), EINVAL);

	CHECK_ERRNO(copy_file_range(in, NULL, out, NULL, 5, 1), EINVAL);
	CHECK_ERRNO(copy_file_range(-1, NULL, out, NULL, 5, 0), EBADF);
	int ro = CHECK_OK(open(path_b, O_RDONLY));
	CHECK_ERRNO(copy_file_range(in, NULL, ro, NULL, 5, 0), EBADF);
	close(ro);
	int ap = CHECK_OK(open(path_b, O_WRONLY | O_APPEND));
	CHECK_ERRNO(copy_file_range(in, NULL, ap, NULL, 5, 0), EBADF);
	close(ap);
	oi = -1;
	CHECK_ERRNO(copy_file_range(in, &oi, out, NULL, 5, 0), EOVERFLOW);
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_ERRNO(copy_file_range(p[0], NULL, out, NULL, 5, 0), EINVAL);
	close(p[0]);
	close(p[1]);
	int dir = CHECK_OK(open("/dev/shm", O_RDONLY | O_DIRECTORY));
	CHECK_ERRNO(copy_file_range(dir, NULL, out, NULL, 5, 0), EISDIR);
	close(dir);
	/* Another file system. */
	char other[64];
	snprintf(other, sizeof(other), "/var/tmp/ward-splice-%d", (int)getpid());
	int x = CHECK_OK(open(other, O_RDWR | O_CREAT | O_TRUNC, 0600));
	CHECK_ERRNO(copy_file_range(in, NULL, x, NULL, 5, 0), EXDEV);
	close(x);
	unlink(other);
	close(in);
	close(out);
}

static void test_splice(void)
{
	int in = make_file(path_a, "splice-data");
	int out = CHECK_OK(open(path_b, O_RDWR | O_CREAT | O_TRUNC, 0600));
	int p[2], q[2];
	CHECK_OK(pipe(p));
	CHECK_OK(pipe(q));
	char buf[32] = { 0 };

	/* file -> pipe -> file, with and without offsets. */
	CHECK_EQ(splice(in, NULL, p[1], NULL, 6, 0), 6);
	CHECK_EQ(lseek(in, 0, SEEK_CUR), 6);
	loff_t off = 7;
	CHECK_EQ(splice(in, &off, p[1], NULL, 100, 0), 4);
	CHECK_EQ(off, 11);
	loff_t oo = 2;
	CHECK_EQ(splice(p[0], NULL, out, &oo, 100, 0), 10);
	CHECK_EQ(oo, 12);
	CHECK_EQ(lseek(out, 0, SEEK_CUR), 0);
	CHECK_EQ(pread(out, buf, sizeof(buf), 0), 12);
	CHECK(memcmp(buf + 2, "splicedata", 10) == 0);

	/* pipe -> pipe, and tee. */
	CHECK_EQ(write(p[1], "abcdef", 6), 6);
	CHECK_EQ(tee(p[0], q[1], 4, 0), 4);
	CHECK_EQ(read(q[0], buf, sizeof(buf)), 4);
	CHECK(memcmp(buf, "abcd", 4) == 0);
	CHECK_EQ(splice(p[0], NULL, q[1], NULL, 3, 0), 3);
	CHECK_EQ(read(q[0], buf, sizeof(buf)), 3);
	CHECK(memcmp(buf, "abc", 3) == 0);
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 3);
	CHECK(memcmp(buf, "def", 3) == 0);

	/* Empty pipes and SPLICE_F_NONBLOCK. */
	CHECK_ERRNO(splice(p[0], NULL, out, NULL, 10, SPLICE_F_NONBLOCK), EAGAIN);
	CHECK_ERRNO(splice(p[0], NULL, q[1], NULL, 10, SPLICE_F_NONBLOCK), EAGAIN);
	CHECK_ERRNO(tee(p[0], q[1], 10, SPLICE_F_NONBLOCK), EAGAIN);
	/* A full pipe. */
	int fl = fcntl(q[1], F_GETFL);
	CHECK_OK(fcntl(q[1], F_SETFL, fl | O_NONBLOCK));
	static char big[65536];
	while (write(q[1], big, sizeof(big)) > 0)
		;
	CHECK_OK(fcntl(q[1], F_SETFL, fl));
	CHECK_ERRNO(splice(in, NULL, q[1], NULL, 10, SPLICE_F_NONBLOCK), EAGAIN);

	/* Errors. */
	CHECK_EQ(splice(-1, NULL, -1, NULL, 0, 0), 0);
	CHECK_ERRNO(splice(in, NULL, out, NULL, 5, 0), EINVAL);
	CHECK_ERRNO(splice(in, NULL, p[1], NULL, 5, 0x100), EINVAL);
	CHECK_ERRNO(splice(-1, NULL, p[1], NULL, 5, 0), EBADF);
	off = 0;
	CHECK_ERRNO(splice(p[0], &off, out, NULL, 5, 0), ESPIPE);
	CHECK_ERRNO(splice(in, NULL, p[1], &off, 5, 0), ESPIPE);
	CHECK_ERRNO(splice(p[0], NULL, p[1], NULL, 5, 0), EINVAL);
	CHECK_ERRNO(splice(p[1], NULL, out, NULL, 5, 0), EBADF);
	off = -1;
	CHECK_ERRNO(splice(in, &off, p[1], NULL, 5, 0), EINVAL);
	int ap = CHECK_OK(open(path_b, O_WRONLY | O_APPEND));
	CHECK_EQ(write(p[1], "x", 1), 1);
	CHECK_ERRNO(splice(p[0], NULL, ap, NULL, 5, 0), EINVAL);
	close(ap);
	CHECK_ERRNO(tee(in, q[1], 5, 0), EINVAL);
	CHECK_ERRNO(tee(p[0], p[1], 5, 0), EINVAL);
	CHECK_ERRNO(tee(p[0], q[1], 5, 0x100), EINVAL);
	/* No writer left: end of input. */
	close(p[1]);
	CHECK_EQ(read(p[0], buf, 1), 1);
	CHECK_EQ(splice(p[0], NULL, out, NULL, 5, 0), 0);
	close(p[0]);
	close(q[0]);
	close(q[1]);
	close(in);
	close(out);
}

/* Sockets on either side of a pipe. */
static void test_splice_socket(void)
{
	int sv[2], p[2];
	char buf[16] = { 0 };
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_OK(pipe(p));
	CHECK_EQ(write(sv[0], "sock", 4), 4);
	CHECK_EQ(splice(sv[1], NULL, p[1], NULL, 100, 0), 4);
	CHECK_EQ(splice(p[0], NULL, sv[1], NULL, 100, 0), 4);
	CHECK_EQ(read(sv[0], buf, sizeof(buf)), 4);
	CHECK(memcmp(buf, "sock", 4) == 0);
	loff_t off = 0;
	CHECK_ERRNO(splice(sv[1], &off, p[1], NULL, 100, 0), EINVAL);
	close(sv[0]);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}

static void test_vmsplice(void)
{
	int p[2];
	CHECK_OK(pipe(p));
	struct iovec iov[2] = { { "vm", 2 }, { "splice", 6 } };
	CHECK_EQ(vmsplice(p[1], iov, 2, 0), 8);
	char a[3] = { 0 }, b[16] = { 0 };
	struct iovec out[2] = { { a, 3 }, { b, sizeof(b) } };
	CHECK_EQ(vmsplice(p[0], out, 2, 0), 8);
	CHECK(memcmp(a, "vms", 3) == 0);
	CHECK(memcmp(b, "plice", 5) == 0);
	CHECK_ERRNO(vmsplice(p[0], out, 2, SPLICE_F_NONBLOCK), EAGAIN);
	CHECK_ERRNO(vmsplice(p[1], iov, 2, 0x100), EINVAL);
	CHECK_ERRNO(vmsplice(-1, iov, 2, 0), EBADF);
	int fd = make_file(path_a, "x");
	CHECK_ERRNO(vmsplice(fd, iov, 2, 0), EBADF);
	close(fd);
	CHECK_EQ(vmsplice(p[1], iov, 0, 0), 0);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	snprintf(path_a, sizeof(path_a), "/dev/shm/ward-splice-a-%d", (int)getpid());
	snprintf(path_b, sizeof(path_b), "/dev/shm/ward-splice-b-%d", (int)getpid());
	test_sendfile();
	test_copy_file_range();
	test_splice();
	test_splice_socket();
	test_vmsplice();
	unlink(path_a);
	unlink(path_b);
	return test_done();
}
