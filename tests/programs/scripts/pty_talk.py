# A conversation over a pty: the parent drives a child's terminal through
# the master and waits for each prompt before it types, so that the echo
# and the output interleave the same way every run.
import os, pty, signal, sys, termios, tty, struct, fcntl

pid, fd = pty.fork()
if pid == 0:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGWINCH})
    print("child tty", os.isatty(0), os.ttyname(0).startswith("/dev/pts/"), flush=True)
    print("pgrp is fg", os.tcgetpgrp(0) == os.getpgrp(), flush=True)
    print("ready1", flush=True)
    line = sys.stdin.readline()
    print("got", repr(line), flush=True)
    print("ready2", flush=True)
    sig = signal.sigwait({signal.SIGINT})
    print("signal", signal.Signals(sig).name, flush=True)
    print("ready3", flush=True)
    sig = signal.sigwait({signal.SIGWINCH})
    print("signal", signal.Signals(sig).name, os.get_terminal_size(0), flush=True)
    old = termios.tcgetattr(0)
    tty.setraw(0)
    new = termios.tcgetattr(0)
    new[6][termios.VMIN] = 3
    termios.tcsetattr(0, termios.TCSANOW, new)
    os.write(1, b"ready4\r\n")
    data = os.read(0, 100)
    termios.tcsetattr(0, termios.TCSANOW, old)
    print("raw", repr(data), flush=True)
    print("ready5", flush=True)
    print("eof", repr(os.read(0, 100)), flush=True)
    os._exit(7)

out = b""

def until(token):
    global out
    while token not in out:
        chunk = os.read(fd, 1024)
        if not chunk:
            raise SystemExit("eof before " + repr(token))
        out += chunk

until(b"ready1\r\n")
os.write(fd, b"hello wrp\x7f\x7fold\r")
until(b"ready2\r\n")
os.write(fd, b"\x03")
until(b"ready3\r\n")
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 99, 0, 0))
until(b"ready4\r\n")
os.write(fd, b"a\rc")
until(b"ready5\r\n")
os.write(fd, b"\x04")
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError as e:
        print("master read:", e.strerror)
        break
    if not chunk:
        break
    out += chunk
_, st = os.waitpid(pid, 0)
for line in out.split(b"\n"):
    print(repr(line))
print("exit", os.waitstatus_to_exitcode(st))
