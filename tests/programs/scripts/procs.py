import os, signal, subprocess, sys, threading, time

lock = threading.Lock()
cond = threading.Condition(lock)
state = {"n": 0, "turn": 0}

def worker(k):
    for _ in range(500):
        with cond:
            state["n"] += 1
            cond.notify_all()

threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("threads:", state["n"])

r = subprocess.run(["/bin/sh", "-c", "echo out; echo err >&2; exit 5"], capture_output=True, text=True)
print("subprocess:", r.returncode, r.stdout.strip(), r.stderr.strip())

pid = os.fork()
if pid == 0:
    os._exit(9)
_, status = os.waitpid(pid, 0)
print("fork:", os.WEXITSTATUS(status))

fired = []
signal.signal(signal.SIGALRM, lambda s, f: fired.append(s))
signal.alarm(1)
while not fired:
    time.sleep(0.05)
print("alarm:", fired)

signal.signal(signal.SIGUSR1, lambda s, f: fired.append(s))
os.kill(os.getpid(), signal.SIGUSR1)
print("usr1:", fired[-1] == signal.SIGUSR1)
sys.stdout.flush()
