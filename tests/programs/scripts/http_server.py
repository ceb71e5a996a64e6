# python3 -m http.server on loopback, and a urllib client in the same
# sandbox: 1,000 requests, each on a new connection; prints the count and
# what was served.
import os
import socket
import subprocess
import sys
import time
import urllib.request

s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
here = os.path.dirname(os.path.abspath(__file__))
srv = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", here, str(port)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            break
        except ConnectionRefusedError:
            time.sleep(0.02)
    ok = 0
    size = 0
    for i in range(1000):
        with urllib.request.urlopen("http://127.0.0.1:%d/long.sh" % port) as r:
            if r.status == 200:
                ok += 1
            size += len(r.read())
    print("requests ok:", ok, "bytes:", size)
finally:
    srv.terminate()
    srv.wait()
