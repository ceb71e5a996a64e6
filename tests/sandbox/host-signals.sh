#!/usr/bin/env bash
# Signals sent to ward itself (Ctrl-C, a runtime's SIGTERM) reach the
# sandbox's first process, as a container runtime forwards them: a program
# that handles the signal shuts down its own way; one that ignores it goes
# on; one that takes the default action ends, and ward ends by the same
# signal, as the program would have natively. Output as
# tests/sandbox/run.sh.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
WARD=${WARD:-$top/build/ward}
passed=0
failed=0

result() { # name ok|bad detail
	if [ "$2" = ok ]; then
		echo "PASS host-signals/$1"
		passed=$((passed + 1))
	else
		echo "FAIL host-signals/$1"
		[ -n "${3:-}" ] && printf '    %s\n' "$3"
		failed=$((failed + 1))
	fi
}

# send SIGNAL PROGRAM...: runs ward do PROGRAM, waits for "ready" on its
# stdout, sends SIGNAL to ward, and prints "<how it ended> <stdout>".
send() {
	python3 - "$WARD" "$@" <<'PY'
import signal, subprocess, sys, time
ward, sig = sys.argv[1], getattr(signal, sys.argv[2])
p = subprocess.Popen([ward, "do", "--"] + sys.argv[3:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                     stdin=subprocess.DEVNULL)
first = p.stdout.readline().decode()
if first.strip() != "ready":
    p.kill()
    print("no-ready", first.strip())
    sys.exit(0)
p.send_signal(sig)
try:
    rest = p.communicate(timeout=20)[0].decode()
except subprocess.TimeoutExpired:
    p.kill()
    print("timeout")
    sys.exit(0)
how = "exit %d" % p.returncode if p.returncode >= 0 else "signal %d" % -p.returncode
print(how, rest.replace("\n", "|"))
PY
}

check() { # name want SIGNAL PROGRAM...
	local name=$1 want=$2 got
	shift 2
	got=$(send "$@")
	[ "$got" = "$want" ] && result "$name" ok || result "$name" bad "got '$got', want '$want'"
}

py=/usr/bin/python3
check handled-term "exit 3 term|" SIGTERM $py -c '
import signal, sys, time
def on_term(*a):
    print("term", flush=True)
    sys.exit(3)
signal.signal(signal.SIGTERM, on_term)
print("ready", flush=True)
time.sleep(30)'
check handled-int "exit 130 interrupted|" SIGINT $py -c '
import sys, time
try:
    print("ready", flush=True)
    time.sleep(30)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)'
check default-term "signal 15 " SIGTERM /bin/sh -c 'echo ready; exec sleep 30'
check ignored-int "exit 0 survived|" SIGINT /bin/sh -c 'trap "" INT; echo ready; sleep 1; echo survived'
check blocked-usr1 "exit 0 pending|" SIGUSR1 $py -c '
import signal, time
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
print("ready", flush=True)
time.sleep(1)
print("pending" if signal.SIGUSR1 in signal.sigpending() else "none", flush=True)'

echo "host-signals: $passed passed, $failed failed, 0 skipped"
[ -n "${RESULT_FILE:-}" ] && echo "$passed $failed 0" >"$RESULT_FILE"
[ "$failed" = 0 ]
