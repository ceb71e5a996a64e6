#!/bin/bash
# Conformance harness: builds every tests/syscalls/*.c twice (static, and
# dynamic PIE), runs each binary natively and then under ward on every
# platform, and prints one result line per run:
#
#   PASS|FAIL|SKIP|XFAIL|XPASS syscalls/<name>[static|dynamic] <native|platform>
#
# A test is proven on Linux first: the native run must pass (exit 0) or skip
# (exit 77). Under ward, tests listed in known-failures-<platform>.txt are
# expected to fail: a failure there is XFAIL (counted as skipped), a pass is
# XPASS and counts as a failure, so that the list can only shrink.
#
# Usage: tests/syscalls/run.sh [NAME...]     (default: every test)
# Environment:
#   WARD            the ward binary (default: ./ward in the repository root);
#                   if it is not executable only the native half runs
#   WARD_PLATFORMS  platforms to run under, space separated (default: ptrace);
#                   NAME+patch is NAME with --patch-syscalls
#   BUILD_DIR       where binaries go (default: tests/syscalls/bin)
#   CC, CFLAGS      compiler and extra flags (default: cc)
#   RESULT_FILE     if set, receives "passed failed skipped"
#   TEST_TIMEOUT    seconds per run (default: 60)
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
ward=${WARD:-$root/ward}
platforms=${WARD_PLATFORMS:-ptrace}
build_dir=${BUILD_DIR:-$here/bin}
mkdir -p "$build_dir"
build_abs=$(cd "$build_dir" && pwd)
cc=${CC:-cc}
cflags="-D_GNU_SOURCE -O1 -g -Wall -Wextra -Wno-unused-parameter ${CFLAGS:-}"
run_timeout=${TEST_TIMEOUT:-60}

passed=0
failed=0
skipped=0
xfailed=0

mkdir -p "$build_dir" || exit 2
build_dir=$(cd "$build_dir" && pwd)
log_dir=$build_dir/logs
mkdir -p "$log_dir" || exit 2

have_ward=0
if [ -x "$ward" ] && [ ! -d "$ward" ]; then
	have_ward=1
else
	echo "NOTE: ward binary '$ward' is not executable: running the native half only"
fi

# result STATUS LABEL WHERE [LOG]: prints the result line, the tail of the
# log for anything that needs looking at, and counts it.
result() {
	local status=$1 label=$2 where=$3 log=${4:-}
	echo "$status syscalls/$label $where"
	case $status in
	PASS) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	XFAIL) skipped=$((skipped + 1)); xfailed=$((xfailed + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
	if [ "$status" = FAIL ] && [ -n "$log" ] && [ -s "$log" ]; then
		tail -n 15 "$log" | sed 's/^/    /'
	fi
}

# is_known PLATFORM LABEL: whether LABEL is listed as a known failure.
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

# run_one LOG CMD...: runs CMD with a timeout, stdin from /dev/null and
# stdout+stderr into LOG, and no other descriptors (the tests count on
# lowest-first allocation from 3, and make passes jobserver pipes); returns
# its exit status (124 on timeout).
run_one() {
	local log=$1
	shift
	(
		for fd in "/proc/$BASHPID/fd/"*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
		done
		# Not exec: the subshell reports a death by signal into the log,
		# instead of the harness shell onto the terminal.
		timeout -k 5 "$run_timeout" "$@"
		exit $?
	) </dev/null >"$log" 2>&1
	local rc=$?
	[ $rc -eq 124 ] && echo "(timed out after ${run_timeout}s)" >>"$log"
	[ $rc -gt 128 ] && [ $rc -ne 124 ] && echo "(exit status $rc: killed by signal $((rc - 128))?)" >>"$log"
	return $rc
}

# build SRC KIND OUT: compiles one test if it is out of date.
build() {
	local src=$1 kind=$2 out=$3 flags
	if [ -x "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$here/ward_test.h" ] &&
		[ "$out" -nt "${BASH_SOURCE[0]}" ]; then
		return 0
	fi
	case $kind in
	static) flags="-static" ;;
	dynamic) flags="-fPIE -pie" ;;
	esac
	# shellcheck disable=SC2086
	"$cc" $cflags $flags -I"$here" -o "$out" "$src" >"$out.build.log" 2>&1
}

if [ $# -gt 0 ]; then
	sources=()
	for name in "$@"; do
		sources+=("$here/${name%.c}.c")
	done
else
	sources=("$here"/*.c)
fi

for src in "${sources[@]}"; do
	name=$(basename "$src" .c)
	for kind in static dynamic; do
		label="${name}[$kind]"
		bin=$build_dir/$name-$kind
		if [ ! -f "$src" ]; then
			echo "FAIL syscalls/$label build (no such test: $src)"
			failed=$((failed + 1))
			continue
		fi
		if ! build "$src" "$kind" "$bin"; then
			result FAIL "$label" build "$bin.build.log"
			continue
		fi

		log=$log_dir/$name-$kind.native.log
		run_one "$log" "$bin"
		case $? in
		0) result PASS "$label" native ;;
		77) result SKIP "$label" native ;;
		*) result FAIL "$label" native "$log" ;;
		esac

		[ $have_ward -eq 1 ] || continue
		for p in $platforms; do
			log=$log_dir/$name-$kind.$p.log
			# The binaries are bound in read-only at their own path: the
			# build directory may lie under /tmp, which is the sandbox's
			# own tmpfs.
			run_one "$log" "$ward" "do" $(platform_args "$p") --volume="$build_abs:$build_abs:ro" -- "$bin"
			rc=$?
			if is_known "$p" "$label"; then
				case $rc in
				0) result XPASS "$label" "$p" ;;
				77) result SKIP "$label" "$p" ;;
				*) result XFAIL "$label" "$p" ;;
				esac
			else
				case $rc in
				0) result PASS "$label" "$p" ;;
				77) result SKIP "$label" "$p" ;;
				*) result FAIL "$label" "$p" "$log" ;;
				esac
			fi
		done
	done
done

# Known-failure entries that name no test are stale: report them, since
# the list is meant to shrink, not rot.
if [ $have_ward -eq 1 ] && [ $# -eq 0 ]; then
	for p in $platforms; do
		list=$here/known-failures-$p.txt
		[ -f "$list" ] || continue
		while read -r entry; do
			[ -n "$entry" ] || continue
			n=${entry%%\[*}
			k=${entry#*\[}
			k=${k%\]}
			if [ ! -f "$here/$n.c" ] || { [ "$k" != static ] && [ "$k" != dynamic ]; }; then
				echo "FAIL syscalls/$entry $p (stale entry in $(basename "$list"))"
				failed=$((failed + 1))
			fi
		done < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$list")
	done
fi

[ $xfailed -gt 0 ] && echo "($xfailed known failures, counted as skipped)"
echo "syscalls: $passed passed, $failed failed, $skipped skipped"
if [ -n "${RESULT_FILE:-}" ]; then
	echo "$passed $failed $skipped" >"$RESULT_FILE"
fi
[ $failed -eq 0 ]
