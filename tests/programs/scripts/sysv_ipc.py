# System V IPC through ctypes, as a program using libc's wrappers would: a
# shared memory segment written by a child, semaphores that order the two
# processes, and messages sent back by type. Prints what each side saw.
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmdt.argtypes = [ctypes.c_void_p]
IPC_PRIVATE, IPC_RMID, SETVAL, GETVAL = 0, 0, 16, 12


class Sembuf(ctypes.Structure):
    _fields_ = [("num", ctypes.c_ushort), ("op", ctypes.c_short), ("flg", ctypes.c_short)]


class Msg(ctypes.Structure):
    _fields_ = [("mtype", ctypes.c_long), ("text", ctypes.c_char * 64)]


def check(r):
    if r == -1:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


def semop(sem, num, op):
    b = Sembuf(num, op, 0)
    check(libc.semop(sem, ctypes.byref(b), 1))


shm = check(libc.shmget(IPC_PRIVATE, 8192, 0o600))
sem = check(libc.semget(IPC_PRIVATE, 2, 0o600))
msq = check(libc.msgget(IPC_PRIVATE, 0o600))
addr = libc.shmat(shm, None, 0)
buf = (ctypes.c_char * 8192).from_address(addr)

pid = os.fork()
if pid == 0:
    semop(sem, 0, -1)  # wait for the parent's go
    text = bytes(buf[:5])
    buf[100:105] = b"child"
    for t, s in ((3, b"three"), (1, b"one"), (2, b"two")):
        m = Msg(t, s)
        check(libc.msgsnd(msq, ctypes.byref(m), len(s), 0))
    semop(sem, 1, 1)
    os._exit(0 if text == b"hello" else 1)

buf[0:5] = b"hello"
semop(sem, 0, 1)
semop(sem, 1, -1)
print("child wrote:", bytes(buf[100:105]).decode())
for want in (2, -3, 0):
    m = Msg()
    n = check(libc.msgrcv(msq, ctypes.byref(m), 64, want, 0))
    print("msgtyp", want, "->", m.mtype, m.text[:n].decode())
_, status = os.waitpid(pid, 0)
print("child status", os.waitstatus_to_exitcode(status))
print("semaphores", libc.semctl(sem, 0, GETVAL), libc.semctl(sem, 1, GETVAL))
check(libc.shmdt(ctypes.c_void_p(addr)))
for f, i in ((libc.shmctl, shm), (libc.msgctl, msq)):
    check(f(i, IPC_RMID, None))
check(libc.semctl(sem, 0, IPC_RMID))
print("removed")
