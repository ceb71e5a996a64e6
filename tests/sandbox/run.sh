#!/usr/bin/env bash
# The sandbox's own promises, which have no native counterpart: the guest
# cannot see the host's /proc or /sys, cannot name a host file outside its
# root (not through "..", nor absolute or relative symlinks), writes to the
# root and /tmp never reach the host (the overlay's upper layer and the
# tmpfs are the sentry's and die with it), --volume binds are read-only
# unless :rw is asked for, and no host process is left behind when the
# sentry is killed. Output: one PASS/FAIL line per case, then
# "sandbox: N passed, N failed, N skipped" (also to $RESULT_FILE).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
WARD=${WARD:-$top/build/ward}
passed=0
failed=0
skipped=0

result() { # name ok detail
	if [ "$2" = ok ]; then
		echo "PASS sandbox/$1"
		passed=$((passed + 1))
	else
		echo "FAIL sandbox/$1"
		[ -n "${3:-}" ] && printf '    %s\n' "$3"
		failed=$((failed + 1))
	fi
}

if [ ! -x "$WARD" ]; then
	echo "NOTE: no ward binary at $WARD"
	echo "sandbox: 0 passed, 1 failed, 0 skipped"
	[ -n "${RESULT_FILE:-}" ] && echo "0 1 0" >"$RESULT_FILE"
	exit 1
fi

# expect NAME STATUS PROGRAM ARGS...: ward do exits with STATUS.
expect() {
	local name=$1 want=$2
	shift 2
	local out
	out=$(timeout 60 "$WARD" do "$@" 2>&1 </dev/null)
	local got=$?
	if [ "$got" = "$want" ]; then
		result "$name" ok
	else
		result "$name" bad "exit $got, want $want: $(printf '%s' "$out" | tail -n 3)"
	fi
}

# /proc is the sentry's: the guest's first process is PID 1 there.
out=$(timeout 60 "$WARD" do -- /bin/busybox cat /proc/self/status 2>/dev/null </dev/null)
printf '%s\n' "$out" | grep -q "^Pid:	1\$" && result host-proc-hidden ok ||
	result host-proc-hidden bad "$(printf '%s\n' "$out" | grep '^Pid:')"
expect host-sys-hidden 1 -- /bin/busybox cat /sys/kernel/hostname
# Writes succeed inside and never reach the host.
host_absent() { # name path
	if [ -e "$2" ]; then
		result "$1" bad "the guest created the host file $2"
		rm -rf "$2"
	else
		result "$1" ok
	fi
}
expect tmp-writable 0 -- /bin/busybox touch /tmp/ward-sandbox-must-not-exist
host_absent tmp-write-stays-inside /tmp/ward-sandbox-must-not-exist
expect root-writable 0 -- /bin/busybox touch /etc/ward-sandbox-must-not-exist
host_absent root-write-stays-inside /etc/ward-sandbox-must-not-exist
expect root-mkdir 0 -- /bin/busybox mkdir -p /ward-sandbox-dir/a/b
host_absent root-mkdir-stays-inside /ward-sandbox-dir
expect dev-shm-writable 0 -- /bin/busybox touch /dev/shm/ward-sandbox-must-not-exist
host_absent dev-shm-stays-inside /dev/shm/ward-sandbox-must-not-exist

# A root with symlinks that point out of it: each must resolve inside.
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/etc"
cp /bin/busybox "$root/bin/busybox"
echo inside >"$root/etc/marker"
ln -s /etc/passwd "$root/abs-link"
ln -s ../../../../../../etc/passwd "$root/rel-link"
ln -s / "$root/root-link"
expect abs-symlink-stays-inside 1 --root "$root" -- /bin/busybox cat /abs-link
expect rel-symlink-stays-inside 1 --root "$root" -- /bin/busybox cat /rel-link
expect dotdot-stays-inside 1 --root "$root" -- /bin/busybox cat /../../../../etc/passwd
expect root-link-stays-inside 0 --root "$root" -- /bin/busybox cat /root-link/etc/marker
out=$("$WARD" do --root "$root" -- /bin/busybox cat /../etc/marker 2>/dev/null)
[ "$out" = inside ] && result dotdot-at-root-is-root ok || result dotdot-at-root-is-root bad "$out"

# Bad command lines: one line on stderr, non-zero exit.
for args in "" "--platform=nope -- /bin/true" "--bogus -- /bin/true" "--cwd=rel -- /bin/true" "--"; do
	# shellcheck disable=SC2086
	err=$("$WARD" do $args 2>&1 >/dev/null)
	st=$?
	lines=$(printf '%s\n' "$err" | grep -c .)
	if [ "$st" -ne 0 ] && [ "$lines" -eq 1 ]; then
		result "bad-cli[$args]" ok
	else
		result "bad-cli[$args]" bad "exit $st, $lines lines: $err"
	fi
done
# The overlay: changing, removing and renaming host files copies them up or
# whites them out; the host copy stays as it was.
unchanged() { # name
	if [ "$(cat "$root/etc/marker" 2>/dev/null)" = inside ] && [ -e "$root/etc/marker" ]; then
		result "$1" ok
	else
		result "$1" bad "the host's $root/etc/marker changed"
	fi
}
expect overlay-sed-i 0 --root "$root" -- /bin/busybox sed -i s/inside/changed/ /etc/marker
unchanged overlay-sed-i-host-untouched
expect overlay-append 0 --root "$root" -- /bin/busybox sh -c 'echo more >> /etc/marker'
unchanged overlay-append-host-untouched
expect overlay-rm 0 --root "$root" -- /bin/busybox rm /etc/marker
unchanged overlay-rm-host-untouched
expect overlay-mv 0 --root "$root" -- /bin/busybox mv /etc/marker /etc/moved
unchanged overlay-mv-host-untouched
host_absent overlay-mv-no-host-file "$root/etc/moved"
expect overlay-chmod 0 --root "$root" -- /bin/busybox chmod 600 /etc/marker
[ "$(stat -c %a "$root/etc/marker")" = 644 ] && result overlay-chmod-host-untouched ok ||
	result overlay-chmod-host-untouched bad "mode $(stat -c %a "$root/etc/marker")"
expect overlay-rmdir-refused 1 --root "$root" -- /bin/busybox rmdir /etc
out=$("$WARD" do --root "$root" -- /bin/busybox ls /etc 2>&1)
[ "$out" = marker ] && result overlay-listing ok || result overlay-listing bad "$out"

# The guest's /proc shows the guest: its argv, its binary, its own few
# processes, and links that lead nowhere outside the sandbox.
out=$(timeout 60 "$WARD" do -- /bin/busybox cat /proc/1/cmdline 2>/dev/null </dev/null | tr '\0' ' ')
[ "$out" = "/bin/busybox cat /proc/1/cmdline " ] && result proc-cmdline-is-guest ok ||
	result proc-cmdline-is-guest bad "$out"
out=$(timeout 60 "$WARD" do -- /bin/busybox readlink /proc/1/exe 2>/dev/null </dev/null)
[ "$out" = "$(readlink -f /bin/busybox)" ] && result proc-exe-is-guest ok || result proc-exe-is-guest bad "$out"
out=$(timeout 60 "$WARD" do -- /bin/busybox sh -c 'ls /proc | grep -c "^[0-9]"' 2>/dev/null </dev/null)
[ -n "$out" ] && [ "$out" -ge 1 ] && [ "$out" -le 4 ] && result proc-no-host-processes ok ||
	result proc-no-host-processes bad "$out pid directories"
out=$(timeout 60 "$WARD" do -- /bin/busybox sh -c 'ls /proc/1/task; cat /proc/1/stat' 2>/dev/null </dev/null)
[ "$(printf '%s\n' "$out" | head -n 1)" = 1 ] && printf '%s\n' "$out" | grep -q '^1 ([a-z]*) [RS] 0 ' &&
	result proc-pid1-is-guest ok || result proc-pid1-is-guest bad "$out"
expect proc-root-stays-inside 1 --root "$root" -- /bin/busybox cat /proc/self/root/etc/passwd
expect proc-root-dotdot-stays-inside 1 --root "$root" -- /bin/busybox cat /proc/self/root/../../etc/passwd
out=$("$WARD" do --root "$root" -- /bin/busybox cat /proc/1/root/etc/marker 2>/dev/null </dev/null)
[ "$out" = inside ] && result proc-root-is-sandbox-root ok || result proc-root-is-sandbox-root bad "$out"
# An inherited host descriptor: its fd link is text, not a way to the host
# file behind it.
out=$("$WARD" do --root "$root" -- /bin/busybox cat /proc/self/fd/0 </etc/passwd 2>/dev/null)
case $out in
*root:*) result proc-fd-link-stays-inside bad "the guest read the host's /etc/passwd" ;;
*) result proc-fd-link-stays-inside ok ;;
esac
out=$("$WARD" do --root "$root" -- /bin/busybox ls /proc/self/root/ 2>/dev/null </dev/null | tr '\n' ' ')
case $out in *" usr "* | "usr "* | *" home "*) false ;; *" etc "*) true ;; *) false ;; esac &&
	result proc-root-lists-sandbox ok ||
	result proc-root-lists-sandbox bad "$out"

# --tmpfs and --volume.
expect tmpfs-option 0 --tmpfs /mnt/ward-scratch -- /bin/busybox touch /mnt/ward-scratch/x
host_absent tmpfs-option-stays-inside /mnt/ward-scratch
vol=$(mktemp -d)
trap 'rm -rf "$root" "$vol"' EXIT
echo volume-data >"$vol/data"
out=$("$WARD" do --volume "$vol:/vol" -- /bin/busybox cat /vol/data 2>/dev/null)
[ "$out" = volume-data ] && result volume-ro-readable ok || result volume-ro-readable bad "$out"
expect volume-ro-refuses-writes 1 --volume "$vol:/vol" -- /bin/busybox touch /vol/new
expect volume-ro-refuses-rm 1 --volume "$vol:/vol:ro" -- /bin/busybox rm /vol/data
host_absent volume-ro-no-host-file "$vol/new"
[ -e "$vol/data" ] && result volume-ro-host-untouched ok || result volume-ro-host-untouched bad "data gone"
expect volume-rw-create 0 --volume "$vol:/vol:rw" -- /bin/busybox cp /vol/data /vol/copy
[ "$(cat "$vol/copy" 2>/dev/null)" = volume-data ] && result volume-rw-reaches-host ok ||
	result volume-rw-reaches-host bad "no $vol/copy on the host"
expect volume-rw-mkdir 0 --volume "$vol:/vol:rw" -- /bin/busybox mkdir /vol/sub
[ -d "$vol/sub" ] && result volume-rw-mkdir-reaches-host ok || result volume-rw-mkdir-reaches-host bad "no dir"
expect volume-rw-rm 0 --volume "$vol:/vol:rw" -- /bin/busybox rm /vol/copy
[ ! -e "$vol/copy" ] && result volume-rw-rm-reaches-host ok || result volume-rw-rm-reaches-host bad "still there"
ln -s /etc/passwd "$vol/escape"
expect volume-symlink-stays-inside 0 --volume "$vol:/vol:rw" -- /bin/busybox sh -c 'echo x >> /vol/escape'
if grep -q '^x$' /etc/passwd; then
	result volume-symlink-host-untouched bad "the guest wrote the host's /etc/passwd"
else
	result volume-symlink-host-untouched ok
fi
for args in "--volume=novolume -- /bin/true" "--volume=/tmp:rel -- /bin/true" "--volume=/tmp:/x:rx -- /bin/true" \
	"--tmpfs=rel -- /bin/true"; do
	# shellcheck disable=SC2086
	err=$("$WARD" do $args 2>&1 >/dev/null)
	st=$?
	lines=$(printf '%s\n' "$err" | grep -c .)
	if [ "$st" -ne 0 ] && [ "$lines" -eq 1 ]; then
		result "bad-cli[$args]" ok
	else
		result "bad-cli[$args]" bad "exit $st, $lines lines: $err"
	fi
done

expect malformed-elf 126 --root "$root" -- /etc/marker
printf '\177ELF\002\001\001\000garbage' >"$root/bin/bad"
chmod +x "$root/bin/bad" "$root/etc/marker"
expect truncated-elf 126 --root "$root" -- /bin/bad

# A fork bomb meets the pids limit: fork fails with EAGAIN (busybox sh gives
# up with status 2) and the sentry stays responsive.
expect pids-limit-stops-fork-bomb 2 --pids-limit=5 -- /bin/busybox sh -c \
	'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 1 & done; echo unreachable'
if command -v python3 >/dev/null 2>&1; then
	out=$(timeout 60 "$WARD" do --pids-limit=5 -- /usr/bin/python3 -c '
import errno, os
kids, fails = [], 0
for i in range(20):
    try:
        p = os.fork()
        if p == 0:
            os._exit(0)
        kids.append(p)
    except OSError as e:
        fails += e.errno == errno.EAGAIN
for p in kids:
    os.waitpid(p, 0)
print(fails > 0)' 2>&1)
	[ "$out" = True ] && result pids-limit-eagain ok || result pids-limit-eagain bad "$out"
fi

# A task blocked reading the inherited stdin neither stalls the others nor
# ignores signals (the host read runs with the kernel lock dropped, and a
# signal breaks it off).
# The other task must get on while cat sits in its read for 3 s.
out=$( (sleep 3 | timeout 20 "$WARD" do -- /bin/sh -c \
	't0=$(date +%s%N); exec 3<&0; cat <&3 & sleep 0.2; echo "other $(( ($(date +%s%N) - t0) / 1000000000 ))"; wait') 2>&1)
[ "$out" = "other 0" ] && result stdin-read-does-not-stall ok || result stdin-read-does-not-stall bad "$out"
if command -v python3 >/dev/null 2>&1; then
	out=$( (sleep 3 | timeout 20 "$WARD" do -- /usr/bin/python3 -c '
import signal, sys
signal.signal(signal.SIGALRM, lambda *a: print("alarm", flush=True))
signal.alarm(1)
sys.stdin.read(1)' ) 2>&1)
	[ "$out" = alarm ] && result stdin-read-interrupted-by-signal ok ||
		result stdin-read-interrupted-by-signal bad "$out"
fi

# Killing the sentry leaves no stub behind (PTRACE_O_EXITKILL, PDEATHSIG).
"$WARD" do -- /bin/sleep 30 </dev/null >/dev/null 2>&1 &
wpid=$!
sleep 1
stubs=$(pgrep -P "$wpid" | tr '\n' ' ')
kill -9 "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null
sleep 0.5
left=""
for p in $stubs; do
	# A zombie waiting for a reaper is dead; only a live stub counts.
	state=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)
	[ -n "$state" ] && [ "$state" != Z ] && left="$left $p($state)"
done
if [ -z "$stubs" ]; then
	result no-stub-left-behind bad "found no stub under the sentry"
elif [ -n "$left" ]; then
	result no-stub-left-behind bad "stubs still alive:$left"
else
	result no-stub-left-behind ok
fi

# The vDSO answers the clocks in the guest: 10000 clock reads (after the
# sentry's first TSC calibration, a few ms) make no clock_gettime system
# call on any platform; with WARD_VDSO=syscall every one of them traps.
clock_loop='import time; time.sleep(0.05); [time.monotonic() for _ in range(10000)]'
for p in ${WARD_PLATFORMS:-ptrace}; do
	n=$(timeout 60 "$WARD" do --platform="$p" --strace -- /usr/bin/python3 -c "$clock_loop" 2>&1 </dev/null |
		grep -c '^clock_gettime(')
	[ "$n" -le 2 ] && result "vdso-no-clock-syscalls[$p]" ok ||
		result "vdso-no-clock-syscalls[$p]" bad "$n clock_gettime system calls"
	n=$(WARD_VDSO=syscall timeout 60 "$WARD" do --platform="$p" --strace -- /usr/bin/python3 -c "$clock_loop" 2>&1 \
		</dev/null | grep -c '^clock_gettime(')
	[ "$n" -ge 10000 ] && result "vdso-syscall-fallback[$p]" ok ||
		result "vdso-syscall-fallback[$p]" bad "$n clock_gettime system calls, want >= 10000"
done

echo "sandbox: $passed passed, $failed failed, $skipped skipped"
[ -n "${RESULT_FILE:-}" ] && echo "$passed $failed $skipped" >"$RESULT_FILE"
[ "$failed" -eq 0 ]
