# inotify through ctypes, as file watchers use it: a watch on a fresh
# directory, the usual file operations, and the events decoded by name.
import ctypes, os, select, shutil, struct, tempfile

libc = ctypes.CDLL(None, use_errno=True)
NAMES = {
    0x1: "ACCESS", 0x2: "MODIFY", 0x4: "ATTRIB", 0x8: "CLOSE_WRITE", 0x10: "CLOSE_NOWRITE",
    0x20: "OPEN", 0x40: "MOVED_FROM", 0x80: "MOVED_TO", 0x100: "CREATE", 0x200: "DELETE",
    0x400: "DELETE_SELF", 0x800: "MOVE_SELF", 0x8000: "IGNORED", 0x40000000: "ISDIR",
}

d = tempfile.mkdtemp(prefix="watch-")
fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
assert fd >= 0
wd = libc.inotify_add_watch(fd, d.encode(), 0xFFF)
assert wd > 0, ctypes.get_errno()

def events():
    out = []
    while select.select([fd], [], [], 0)[0]:
        buf = os.read(fd, 65536)
        i = 0
        while i < len(buf):
            w, mask, cookie, n = struct.unpack_from("iIII", buf, i)
            name = buf[i + 16:i + 16 + n].rstrip(b"\0").decode()
            out.append((w, "|".join(v for k, v in sorted(NAMES.items()) if mask & k), bool(cookie), name))
            i += 16 + n
    return out

def step(what, fn):
    fn()
    for e in events():
        print(what + ":", *e)

p = lambda n: os.path.join(d, n)
step("write", lambda: open(p("a.txt"), "w").write("hello\n"))
step("read", lambda: open(p("a.txt")).read())
step("append", lambda: open(p("a.txt"), "a").write("more\n"))
step("chmod", lambda: os.chmod(p("a.txt"), 0o600))
step("mkdir", lambda: os.mkdir(p("sub")))
step("rename", lambda: os.rename(p("a.txt"), p("sub-a.txt")))
step("listdir", lambda: sorted(os.listdir(d)))
step("unlink", lambda: os.unlink(p("sub-a.txt")))
step("rmdir", lambda: os.rmdir(p("sub")))
step("rm-watch", lambda: libc.inotify_rm_watch(fd, wd))
shutil.rmtree(d)
print("done")
