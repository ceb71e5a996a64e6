# A Unix-socket server in one process passes an open file to a client in
# another with SCM_RIGHTS; the client reads through the received fd.
import os
import socket
import tempfile

d = tempfile.mkdtemp()
path = os.path.join(d, "srv.sock")
data = os.path.join(d, "data.txt")
with open(data, "w") as f:
    f.write("passed through SCM_RIGHTS\n")
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
pid = os.fork()
if pid == 0:
    c, _ = srv.accept()
    fd = os.open(data, os.O_RDONLY)
    socket.send_fds(c, [b"here"], [fd])
    c.close()
    os._exit(0)
cli = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
cli.connect(path)
msg, fds, flags, addr = socket.recv_fds(cli, 16, 4)
print(msg.decode(), len(fds), os.read(fds[0], 100).decode(), end="")
os.waitpid(pid, 0)
os.unlink(path)
os.unlink(data)
os.rmdir(d)
