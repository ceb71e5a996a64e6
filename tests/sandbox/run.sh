#!/usr/bin/env bash
# The sandbox's own promises, which have no native counterpart: the guest
# cannot see the host's /proc or /sys, cannot name a host file outside its
# root (not through "..", nor absolute or relative symlinks), cannot write
# the read-only root, and leaves no host process behind when the sentry is
# killed. Output: one PASS/FAIL line per case, then
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

expect host-proc-hidden 1 -- /bin/busybox cat /proc/self/status
expect host-sys-hidden 1 -- /bin/busybox cat /sys/kernel/hostname
expect root-readonly 1 -- /bin/busybox touch /tmp/ward-sandbox-must-not-exist
if [ -e /tmp/ward-sandbox-must-not-exist ]; then
	result root-readonly-host-untouched bad "the guest created a host file"
	rm -f /tmp/ward-sandbox-must-not-exist
else
	result root-readonly-host-untouched ok
fi

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
expect malformed-elf 126 --root "$root" -- /etc/marker
printf '\177ELF\002\001\001\000garbage' >"$root/bin/bad"
chmod +x "$root/bin/bad" "$root/etc/marker"
expect truncated-elf 126 --root "$root" -- /bin/bad

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

echo "sandbox: $passed passed, $failed failed, $skipped skipped"
[ -n "${RESULT_FILE:-}" ] && echo "$passed $failed $skipped" >"$RESULT_FILE"
[ "$failed" -eq 0 ]
