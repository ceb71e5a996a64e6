# The file family from Python: locks between processes, a shared memfd
# map, sendfile/copy_file_range/splice, xattrs and O_TMPFILE. Prints what
# it saw; the output must be the same natively and under ward.
import fcntl
import mmap
import os

base = "/dev/shm/ward-files-py-%d" % os.getpid()
os.mkdir(base)
path = os.path.join(base, "data")

with open(path, "wb") as f:
    f.write(b"0123456789" * 10)

# POSIX locks: a child sees the parent's lock and cannot take it.
fd = os.open(path, os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX, 10, 0)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)
        os.write(w, b"got")
    except OSError as e:
        os.write(w, ("busy %s" % e.errno).encode())
    os._exit(0)
os.waitpid(pid, 0)
print("lockf:", os.read(r, 100).decode())
fcntl.lockf(fd, fcntl.LOCK_UN, 10, 0)

# flock: shared by a forked child, exclusive against another open.
fcntl.flock(fd, fcntl.LOCK_EX)
other = os.open(path, os.O_RDONLY)
try:
    fcntl.flock(other, fcntl.LOCK_SH | fcntl.LOCK_NB)
    print("flock: shared taken")
except BlockingIOError:
    print("flock: would block")
fcntl.flock(fd, fcntl.LOCK_UN)
fcntl.flock(other, fcntl.LOCK_SH | fcntl.LOCK_NB)
print("flock: shared after unlock")
os.close(other)

# A memfd mapped shared by parent and child.
m = os.memfd_create("py", os.MFD_CLOEXEC)
os.ftruncate(m, 4096)
mm = mmap.mmap(m, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
pid = os.fork()
if pid == 0:
    mm[0:5] = b"child"
    os._exit(0)
os.waitpid(pid, 0)
print("memfd map:", bytes(mm[0:5]).decode(), os.pread(m, 5, 0).decode())
print("memfd link:", os.readlink("/proc/self/fd/%d" % m))
mm.close()

# Copies within the kernel.
out = os.open(os.path.join(base, "copy"), os.O_RDWR | os.O_CREAT, 0o600)
print("sendfile:", os.sendfile(out, fd, 5, 10))
print("copy_file_range:", os.copy_file_range(fd, out, 20, 50, 10))
pr, pw = os.pipe()
print("splice:", os.splice(fd, pw, 7, offset_src=90))
print("spliced:", os.read(pr, 7).decode())
print("copy:", os.pread(out, 20, 0).decode())

# Extended attributes.
os.setxattr(path, "user.colour", b"blue")
print("xattr:", os.getxattr(path, "user.colour").decode(), sorted(os.listxattr(path)))
os.removexattr(path, "user.colour")
print("xattr after remove:", os.listxattr(path))

# O_TMPFILE, then a name through /proc/self/fd.
t = os.open(base, os.O_TMPFILE | os.O_RDWR, 0o600)
os.write(t, b"anon")
print("tmpfile links:", os.fstat(t).st_nlink)
# A dir_fd makes os.link call linkat, here with AT_SYMLINK_FOLLOW.
root = os.open("/", os.O_RDONLY)
os.link("/proc/self/fd/%d" % t, os.path.join(base, "named"), src_dir_fd=root, follow_symlinks=True)
os.close(root)
print("tmpfile named:", open(os.path.join(base, "named")).read(), os.fstat(t).st_nlink)

for name in os.listdir(base):
    os.unlink(os.path.join(base, name))
os.rmdir(base)
