#!/usr/bin/env bash
# A guest that fights the seccomp platform's stub gains nothing: it
# overwrites the stub's code or its own mailbox, unmaps or remaps the stub,
# makes host calls with the stub's own syscall instruction, returns through
# the stub's rt_sigreturn with a forged frame that blocks SIGSYS or drops
# the signal stack, installs its own SIGSYS handler and blocks SIGSYS. At
# worst it kills itself: ward itself always exits by exit(), never by a
# signal, no host call the stub was not made for reaches the host, and no
# stub process outlives ward. Output as tests/sandbox/run.sh.
set -u
shopt -s extglob
top=$(cd "$(dirname "$0")/../.." && pwd)
export WARD_SANDBOX_DIR="$top/tests/sandbox"
export PYTHONDONTWRITEBYTECODE=1
WARD=${WARD:-$top/build/ward}
out_dir=${BUILD_DIR:-$top/build/sandbox}
passed=0
failed=0
skipped=0

result() { # name ok|bad|skip detail
	case $2 in
	ok) echo "PASS fight-stub/$1"; passed=$((passed + 1)) ;;
	skip) echo "SKIP fight-stub/$1"; skipped=$((skipped + 1)) ;;
	*) echo "FAIL fight-stub/$1"; [ -n "${3:-}" ] && printf '    %s\n' "$3"; failed=$((failed + 1)) ;;
	esac
}
finish() {
	echo "fight-stub: $passed passed, $failed failed, $skipped skipped"
	[ -n "${RESULT_FILE:-}" ] && echo "$passed $failed $skipped" >"$RESULT_FILE"
	[ "$failed" = 0 ]
	exit
}

mkdir -p "$out_dir"
prog=$out_dir/fight_stub
if ! cc -O1 -static -o "$prog" "$top/tests/sandbox/fight_stub.c" 2>"$out_dir/fight_stub.log"; then
	result build bad "$(head -n 3 "$out_dir/fight_stub.log")"
	finish
fi
if ! "$WARD" do --platform=seccomp -- /bin/true 2>/dev/null; then
	result all skip "no seccomp platform on this host"
	finish
fi
host_dir=$(mktemp -d "${TMPDIR:-/tmp}/ward-fight.XXXXXX")
trap 'rm -rf "$host_dir"' EXIT

# run MODE [ARGS]: prints "<how ward ended> <stdout of the guest>"; how is
# "exit N", "signal N" (ward itself was killed) or "timeout".
run() {
	python3 - "$WARD" "$prog" "$host_dir" "$@" <<'PY'
import os, subprocess, sys, time
ward, prog, vol = sys.argv[1:4]

sys.path.insert(0, os.environ["WARD_SANDBOX_DIR"])
from wardprocs import live_wards


def wards():
    return live_wards(ward)

before = wards()
cmd = [ward, "do", "--platform=seccomp",
       "--volume=%s:%s:ro" % ((prog.rsplit("/", 1)[0],) * 2),
       "--volume=%s:%s:rw" % (vol, vol), "--", prog] + sys.argv[4:]
try:
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=10)
    how = "exit %d" % p.returncode if p.returncode >= 0 else "signal %d" % -p.returncode
    out = p.stdout.decode(errors="replace").replace("\n", "|")
except subprocess.TimeoutExpired:
    how, out = "timeout", ""
time.sleep(0.3)
left = wards() - before
if left:
    for pid in left:
        try:
            os.kill(int(pid), 9)
        except OSError:
            pass
    how = "leftover " + how
print(how, out)
PY
}

check() { # name got-pattern (a shell case pattern for run's output)
	local name=$1 pattern=$2 got
	shift 2
	got=$(run "$@")
	case $got in
	leftover*)
		result "$name" bad "stub processes outlived ward ($got)"
		return
		;;
	esac
	# shellcheck disable=SC2254
	case $got in
	$pattern) result "$name" ok ;;
	*) result "$name" bad "got '$got', want '$pattern'" ;;
	esac
}

check write-code "exit 139 " write-code
check write-mailbox "exit *" write-mailbox
check unmap "exit 0 alive|" unmap
check mprotect "exit 0 alive|" mprotect
check map-over "exit 0 alive|" map-over
check stub-mkdir "exit [1-9]*" stub-mkdir "$host_dir/escaped"
if [ -e "$host_dir/escaped" ]; then
	result stub-mkdir-host bad "the stub's syscall instruction made a host directory"
else
	result stub-mkdir-host ok
fi
check stub-mmap-memfile "exit [1-9]*" stub-mmap-memfile
check stub-futex-requeue "exit [1-9]*" stub-futex-requeue
check sigreturn-block "exit [1-9]*" sigreturn-block
check sigreturn-altstack "exit [1-9]*" sigreturn-altstack
check own-sigsys "exit 0 alive|alive|" own-sigsys
finish
