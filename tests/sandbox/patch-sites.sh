#!/usr/bin/env bash
# ward --patch-syscalls on the seccomp platform: a trapped `mov $nr,%eax;
# syscall' site is rewritten (the guest sees its bytes change), and the
# rewritten site behaves as the syscall did across fork, execve, threads,
# signals with their FPU state, restarts, a GS base of the guest's own, and
# code the guest maps, protects, rewrites and unmaps itself; sites first
# called by a process that already has threads (mt, mt-storm) are patched
# too. The same again with the slot table inside the guest's range
# (WARD_PATCH_TABLE=guest, a default host's layout).
# A guest that forges its GS base or jumps into the stub's entry with a
# forged index hurts only itself: ward exits normally and leaves no stub
# behind. Without seccomp the option is refused. Output as run.sh.
set -u
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
	ok) echo "PASS patch-sites/$1"; passed=$((passed + 1)) ;;
	skip) echo "SKIP patch-sites/$1"; skipped=$((skipped + 1)) ;;
	*) echo "FAIL patch-sites/$1"; [ -n "${3:-}" ] && printf '    %s\n' "$3"; failed=$((failed + 1)) ;;
	esac
}
finish() {
	echo "patch-sites: $passed passed, $failed failed, $skipped skipped"
	[ -n "${RESULT_FILE:-}" ] && echo "$passed $failed $skipped" >"$RESULT_FILE"
	[ "$failed" = 0 ]
	exit
}

# On ptrace the option is an error: one line on stderr, a non-zero exit.
err=$("$WARD" do --platform=ptrace --patch-syscalls -- /bin/true 2>&1 >/dev/null)
rc=$?
if [ $rc -ne 0 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ]; then
	result ptrace-refused ok
else
	result ptrace-refused bad "exit $rc, stderr '$err'"
fi

mkdir -p "$out_dir"
prog=$out_dir/patch_sites
if ! cc -O1 -static -pthread -o "$prog" "$top/tests/sandbox/patch_sites.c" 2>"$out_dir/patch_sites.log"; then
	result build bad "$(head -n 3 "$out_dir/patch_sites.log")"
	finish
fi
if ! "$WARD" do --platform=seccomp --patch-syscalls -- /bin/true 2>/dev/null; then
	result all skip "no seccomp platform with syscall patching on this host"
	finish
fi

# run OPTIONS MODE: prints "<how ward ended> <stdout of the guest>"; how is
# "exit N", "signal N" (ward itself was killed), "timeout", and "leftover"
# first when stub processes outlived ward.
run() {
	/usr/bin/python3 - "$WARD" "$prog" "$@" <<'PY'
import os, subprocess, sys, time
ward, prog, opts, mode = sys.argv[1:5]

sys.path.insert(0, os.environ["WARD_SANDBOX_DIR"])
from wardprocs import live_wards


def wards():
    return live_wards(ward)

before = wards()
if opts == "native":
    cmd = [prog, mode]
else:
    cmd = [ward, "do"] + opts.split() + ["--volume=%s:%s:ro" % ((prog.rsplit("/", 1)[0],) * 2), "--", prog, mode]
try:
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=60)
    how = "exit %d" % p.returncode if p.returncode >= 0 else "signal %d" % -p.returncode
    out = p.stdout.decode(errors="replace").replace("\n", "|")
except subprocess.TimeoutExpired:
    how, out = "timeout", ""
time.sleep(0.2)
left = wards() - before if opts != "native" else set()
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

patch="--platform=seccomp --patch-syscalls"
expect() { # name options mode want
	local got
	got=$(run "$2" "$3")
	if [ "$got" = "$4" ]; then
		result "$1" ok
	else
		result "$1" bad "got '$got', want '$4'"
	fi
}

# The site's bytes: rewritten only with the option (natively never).
expect bytes-native native bytes "exit 0 site plain|"
expect bytes-seccomp --platform=seccomp bytes "exit 0 site plain|"
expect bytes-patched "$patch" bytes "exit 0 site patched|"
expect exec-patched "$patch" exec "exit 0 exec child ok, site patched|"
# What the guest sees of a patched site is what it sees natively.
for mode in fork fork-first gs gs-forge threads fpu restart jit storm; do
	want=$(run native "$mode")
	expect "$mode" "$patch" "$mode" "$want"
done
# Sites first called when the process has threads: patched all the same
# (the other threads stopped while the bytes change), and still right.
for mode in mt mt-storm mt-blocked; do
	expect "$mode-native" native "$mode" "exit 0 $mode ok, site plain|"
	expect "$mode" "$patch" "$mode" "exit 0 $mode ok, site patched|"
done
expect low "$patch" low "exit 0 low: mmap Operation not permitted, mremap Operation not permitted, munmap 0, mprotect Cannot allocate memory, site ok|"
expect forge-entry "$patch" forge-entry "exit 0 forged entry: 3 segvs, ok|"

# The slot table inside the guest's range (the layout of a host with
# vm.mmap_min_addr above 4 KiB), forced: the same behaviour, and the
# table's 32 KiB at 64 KiB are out of the guest's reach.
export WARD_PATCH_TABLE=guest
expect guest-bytes "$patch" bytes "exit 0 site patched|"
for mode in fork fork-first threads fpu restart jit storm; do
	want=$(run native "$mode")
	expect "guest-$mode" "$patch" "$mode" "$want"
done
expect guest-mt "$patch" mt "exit 0 mt ok, site patched|"
expect guest-low "$patch" low-guest "exit 0 low: mmap Operation not permitted, mremap Operation not permitted, munmap 0, mprotect Cannot allocate memory, site ok|"
expect guest-forge-entry "$patch" forge-entry "exit 0 forged entry: 3 segvs, ok|"
WARD_PATCH_TABLE=bogus expect table-bogus "$patch" bytes "exit 2 "
unset WARD_PATCH_TABLE
finish
