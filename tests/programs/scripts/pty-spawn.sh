# python3's pty.spawn: forkpty, login_tty and a copy loop over the master
# until the slave side hangs up; the child's exit status comes back.
/usr/bin/python3 -c '
import pty, sys
st = pty.spawn(["/bin/sh", "-c", "tty; stty size; echo hello; exit 3"])
print("status", st >> 8, flush=True)
' | sed 's|/dev/pts/[0-9]*|/dev/pts/N|'
