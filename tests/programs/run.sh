#!/bin/bash
# Real programs, native against ward: each case runs natively (its exit
# status must be the one the table expects) and then under ward on every
# platform, where stdout must match the native run byte for byte and the
# exit status must be the same. One result line per run:
#
#   PASS|FAIL|SKIP|XFAIL|XPASS programs/<case> <native|platform>
#
# Both sides get the same fixed environment (env -i) and start in "/", so
# that the outputs can match: ward hands its own environment to the guest.
# A case whose program is missing here (busybox-static not installed) is
# skipped. known-failures-<platform>.txt in this directory, if present,
# lists case names expected to fail under ward, as in tests/syscalls/.
#
# Usage: tests/programs/run.sh [CASE...]     (default: every case)
# Environment: WARD, WARD_PLATFORMS, BUILD_DIR, RESULT_FILE, TEST_TIMEOUT,
# as for tests/syscalls/run.sh.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
ward=${WARD:-$root/ward}
platforms=${WARD_PLATFORMS:-ptrace}
out_dir=${BUILD_DIR:-$root/tests/syscalls/bin}/programs
run_timeout=${TEST_TIMEOUT:-60}
fixed_env=(env -i A=1 B=2)

# The cases, one a line: kind, name, expected native exit status, command.
#   run  the command runs natively and as `ward do -- command`
#   cli  ward's own handling of a program it cannot start: natively
#        `env command` (whose 126/127 convention ward follows), under ward
#        `ward do -- command`
cases='
run busybox-echo      0   /bin/busybox echo hello world
run busybox-cat       0   /bin/busybox cat /etc/os-release
run busybox-ls        0   /bin/busybox ls -l /usr
run busybox-wc        0   /bin/busybox wc /etc/passwd
run busybox-head      0   /bin/busybox head -n 3 /etc/passwd
run busybox-sort      0   /bin/busybox sort /etc/passwd
run busybox-md5sum    0   /bin/busybox md5sum /etc/os-release
run busybox-uname     0   /bin/busybox uname -sm
run busybox-env       0   /bin/busybox env
run busybox-true      0   /bin/busybox true
run busybox-false     1   /bin/busybox false
run glibc-ls          0   /bin/ls /usr
run glibc-ls-long     0   /bin/ls -la /usr/share/doc/libc6
run glibc-head        0   /usr/bin/head -c 100 /usr/include/stdio.h
run glibc-sort        0   /usr/bin/sort /etc/passwd
run glibc-wc          0   /usr/bin/wc /usr/include/stdlib.h
run glibc-sha256sum   0   /usr/bin/sha256sum /bin/busybox
run glibc-stat        0   /usr/bin/stat -c %n:%s:%F:%a /etc/os-release /usr /bin
run glibc-readlink    0   /usr/bin/readlink -f /bin/sh
run glibc-date        0   /bin/date -d @0 -u
run glibc-missing     2   /bin/ls /nonexistent
run glibc-cat         0   /bin/cat /etc/os-release
run glibc-md5sum      0   /usr/bin/md5sum /etc/os-release
run glibc-true        0   /bin/true
run glibc-false       1   /bin/false
run sh-pipeline       0   /bin/busybox sh @HERE@/scripts/pipeline.sh
run bash-200-lines    0   /bin/bash @HERE@/scripts/long.sh
run dash-200-lines    0   /bin/dash @HERE@/scripts/long.sh
run python3-procs     0   /usr/bin/python3 @HERE@/scripts/procs.py
run python3-files     0   /usr/bin/python3 @HERE@/scripts/files.py
run perl-fork         0   /usr/bin/perl @HERE@/scripts/fork.pl
run make-j2           0   /bin/sh @HERE@/scripts/make.sh
run script-pty        0   /bin/sh @HERE@/scripts/script-pty.sh
run python3-pty-spawn 0   /bin/sh @HERE@/scripts/pty-spawn.sh
run python3-pty-talk  0   /usr/bin/python3 @HERE@/scripts/pty_talk.py
run python3-inotify   0   /usr/bin/python3 @HERE@/scripts/inotify_watch.py
run python3-sysv-ipc  0   /usr/bin/python3 @HERE@/scripts/sysv_ipc.py
run tar-usr-include   0   /bin/bash @HERE@/scripts/tar.sh
run git-commit-log    0   /bin/bash @HERE@/scripts/git.sh
run sqlite3-10k-rows  0   /bin/bash @HERE@/scripts/sqlite.sh
run python3-venv      0   /bin/bash @HERE@/scripts/venv.sh
run python3-pool      0   /usr/bin/python3 @HERE@/scripts/pool.py
run find-usr-share    0   /bin/sh @HERE@/scripts/find-gz.sh
run cp-mv-rm-tree     0   /bin/bash @HERE@/scripts/cptree.sh
run python3-http-server 0 /usr/bin/python3 @HERE@/scripts/http_server.py
run python3-asyncio-echo 0 /usr/bin/python3 @HERE@/scripts/asyncio_echo.py
run python3-unix-fdpass 0 /usr/bin/python3 @HERE@/scripts/unix_fdpass.py
run busybox-nc        0   /bin/busybox sh @HERE@/scripts/nc.sh
run getent-hosts      0   /usr/bin/getent hosts localhost
cli missing-program   127 /nonexistent
cli not-executable    126 /etc/os-release
'

passed=0
failed=0
skipped=0
xfailed=0

mkdir -p "$out_dir" || exit 2

have_ward=0
if [ -x "$ward" ] && [ ! -d "$ward" ]; then
	have_ward=1
else
	echo "NOTE: ward binary '$ward' is not executable: running the native half only"
fi

result() {
	local status=$1 name=$2 where=$3
	echo "$status programs/$name $where"
	case $status in
	PASS) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	XFAIL) skipped=$((skipped + 1)); xfailed=$((xfailed + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
}

# detail LINE...: indented explanation under a FAIL line.
detail() {
	printf '%s\n' "$@" | sed 's/^/    /'
}

# The ward options of a WARD_PLATFORMS entry: a platform name, or NAME+patch
# for that platform with --patch-syscalls.
platform_args() {
	case $1 in
	*+patch) echo "--platform=${1%+patch} --patch-syscalls" ;;
	*) echo "--platform=$1" ;;
	esac
}

is_known() {
	local list=$here/known-failures-$1.txt
	[ -f "$list" ] || return 1
	sed -e 's/#.*//' -e 's/[[:space:]]//g' "$list" | grep -qxF -- "$2"
}

# run_one OUT ERR CMD...: runs CMD in "/" with the fixed environment, no
# stdin and no inherited descriptors, stdout to OUT and stderr to ERR;
# returns its exit status (124 on timeout).
run_one() {
	local out=$1 err=$2
	shift 2
	(
		for fd in "/proc/$BASHPID/fd/"*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
		done
		cd / || exit 2
		timeout -k 5 "$run_timeout" "${fixed_env[@]}" "$@"
		exit $?
	) </dev/null >"$out" 2>"$err"
}

# same FILE FILE: byte-for-byte equality with coreutils alone.
same() {
	[ "$(cksum <"$1")" = "$(cksum <"$2")" ]
}

# show_diff NATIVE WARD: what differs, as briefly as the tools allow.
show_diff() {
	if command -v diff >/dev/null 2>&1; then
		diff -u --label native --label ward "$1" "$2" | head -n 20 | sed 's/^/    /'
	else
		detail "native stdout:" && head -n 5 "$1" | sed 's/^/      /'
		detail "ward stdout:" && head -n 5 "$2" | sed 's/^/      /'
	fi
}

while read -r kind name expect prog args; do
	[ -n "$kind" ] || continue
	if [ $# -gt 0 ]; then
		wanted=0
		for w in "$@"; do [ "$w" = "$name" ] && wanted=1; done
		[ $wanted -eq 1 ] || continue
	fi
	# @HERE@ names this directory (the scripts), bound into the sandbox.
	args=${args//@HERE@/$here}
	# shellcheck disable=SC2206
	argv=($prog $args)
	base=$out_dir/$name

	if [ "$kind" = run ] && [ ! -x "$prog" ]; then
		result SKIP "$name" native
		echo "    ($prog is not installed)"
		if [ $have_ward -eq 1 ]; then
			for p in $platforms; do result SKIP "$name" "$p"; done
		fi
		continue
	fi

	if [ "$kind" = cli ]; then
		native_cmd=(env "${argv[@]}")
	else
		native_cmd=("${argv[@]}")
	fi
	run_one "$base.native.out" "$base.native.err" "${native_cmd[@]}"
	native_rc=$?
	if [ "$native_rc" -ne "$expect" ]; then
		result FAIL "$name" native
		detail "exit status $native_rc, expected $expect"
		tail -n 5 "$base.native.err" | sed 's/^/    /'
		continue
	fi
	result PASS "$name" native

	[ $have_ward -eq 1 ] || continue
	for p in $platforms; do
		# This directory is bound in at its own path: the repository may
		# lie under /tmp, which is the sandbox's own tmpfs.
		run_one "$base.$p.out" "$base.$p.err" "$ward" "do" $(platform_args "$p") --volume="$here:$here:ro" -- "${argv[@]}"
		rc=$?
		why=()
		[ "$rc" -eq "$native_rc" ] || why+=("exit status $rc, native $native_rc")
		[ "$rc" -eq 124 ] && why+=("(timed out after ${run_timeout}s)")
		same "$base.native.out" "$base.$p.out" || why+=("stdout differs")
		if is_known "$p" "$name"; then
			if [ ${#why[@]} -eq 0 ]; then
				result XPASS "$name" "$p"
			else
				result XFAIL "$name" "$p"
			fi
		elif [ ${#why[@]} -eq 0 ]; then
			result PASS "$name" "$p"
		else
			result FAIL "$name" "$p"
			detail "${why[@]}"
			same "$base.native.out" "$base.$p.out" || show_diff "$base.native.out" "$base.$p.out"
			if [ -s "$base.$p.err" ]; then
				detail "stderr:"
				tail -n 10 "$base.$p.err" | sed 's/^/      /'
			fi
		fi
	done
done <<<"$cases"

[ $xfailed -gt 0 ] && echo "($xfailed known failures, counted as skipped)"
echo "programs: $passed passed, $failed failed, $skipped skipped"
if [ -n "${RESULT_FILE:-}" ]; then
	echo "$passed $failed $skipped" >"$RESULT_FILE"
fi
[ $failed -eq 0 ]
