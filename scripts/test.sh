#!/usr/bin/env bash
# Quick start, part two: the whole test suite. Builds ward with warnings as
# errors, runs the unit tests and the boundary check (make check), the unit
# tests again under AddressSanitizer and UBSan, the syscall conformance
# tests natively and under ward, and the real-program comparisons. Ends with
# one line: "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
passed=0
failed=0
skipped=0

count_automake() { # dir: add the PASS/FAIL counts of a make check run
	local log=$1/test-suite.log
	if [ ! -f "$log" ]; then
		failed=$((failed + 1))
		return
	fi
	local p f x e s
	p=$(sed -n 's/^# PASS: *//p' "$log" | head -1)
	f=$(sed -n 's/^# FAIL: *//p' "$log" | head -1)
	x=$(sed -n 's/^# XPASS: *//p' "$log" | head -1)
	e=$(sed -n 's/^# ERROR: *//p' "$log" | head -1)
	s=$(sed -n 's/^# SKIP: *//p' "$log" | head -1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0} + ${x:-0} + ${e:-0}))
	skipped=$((skipped + ${s:-0}))
}

count_result_file() { # file written by a tests/*/run.sh harness
	if [ ! -f "$1" ]; then
		failed=$((failed + 1))
		return
	fi
	local p f s
	read -r p f s <"$1"
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
}

echo "== build (warnings are errors)"
if ! scripts/build.sh "$top/build"; then
	echo "build failed"
	echo "0 passed, 1 failed"
	exit 1
fi

echo "== make check: unit tests and the core/service boundary check"
(cd build && make -j"$(nproc)" check >/dev/null 2>&1)
grep -h -E '^(PASS|FAIL|XPASS|ERROR|SKIP):' build/tests/unit/*.log build/tests/*.log 2>/dev/null | sort -u || true
count_automake build
if grep -qE '^# (FAIL|ERROR|XPASS): *[1-9]' build/test-suite.log 2>/dev/null; then
	sed -n '/^FAIL\|^ERROR/,$p' build/test-suite.log | head -80
fi

echo "== unit tests under AddressSanitizer + UBSan"
if scripts/build.sh "$top/build-asan" --enable-sanitizers; then
	(cd build-asan && ASAN_OPTIONS=detect_leaks=1 make -j"$(nproc)" check TESTS='$(check_PROGRAMS)' >/dev/null 2>&1)
	count_automake build-asan
	grep -E '^# (PASS|FAIL|ERROR)' build-asan/test-suite.log 2>/dev/null | sed 's/^/asan /'
else
	failed=$((failed + 1))
fi

export WARD="$top/build/ward"
# Every platform this host can run: conformance and programs run on each.
# seccomp+patch is seccomp with --patch-syscalls (run for conformance,
# programs and the sandbox's platform checks; ASan keeps to plain seccomp).
export WARD_PLATFORMS="ptrace"
asan_platform=ptrace
if "$WARD" do --platform=seccomp -- /bin/true 2>/dev/null; then
	WARD_PLATFORMS="ptrace seccomp"
	asan_platform=seccomp
	if "$WARD" do --platform=seccomp --patch-syscalls -- /bin/true 2>/dev/null; then
		WARD_PLATFORMS="ptrace seccomp seccomp+patch"
	fi
fi
echo "== platforms: $WARD_PLATFORMS"
echo "== syscall conformance tests (native and under ward)"
RESULT_FILE="$top/build/syscalls.result" BUILD_DIR="$top/build/syscalls" tests/syscalls/run.sh
count_result_file "$top/build/syscalls.result"

# The sentry's own memory errors (the guest's bad input is the sentry's
# problem): the same tests under a sentry built with the sanitizers, on one
# platform (seccomp where it runs). Leaks at exit are not errors here.
echo "== syscall conformance tests under a sentry built with ASan + UBSan ($asan_platform)"
if [ -x "$top/build-asan/ward" ]; then
	ASAN_OPTIONS=detect_leaks=0 WARD="$top/build-asan/ward" WARD_PLATFORMS="$asan_platform" \
		RESULT_FILE="$top/build/syscalls-asan.result" BUILD_DIR="$top/build/syscalls" tests/syscalls/run.sh |
		sed 's/^\(PASS\|FAIL\|SKIP\|XFAIL\|XPASS\) syscalls/\1 asan-syscalls/'
	count_result_file "$top/build/syscalls-asan.result"
fi

echo "== real programs (native vs under ward)"
RESULT_FILE="$top/build/programs.result" BUILD_DIR="$top/build/programs" tests/programs/run.sh
count_result_file "$top/build/programs.result"

echo "== make distcheck (the tarball builds and passes make check on its own)"
if (cd build && make distcheck >distcheck.log 2>&1); then
	echo "PASS distcheck"
	passed=$((passed + 1))
else
	echo "FAIL distcheck (see build/distcheck.log)"
	tail -n 30 build/distcheck.log
	failed=$((failed + 1))
fi

echo "== sandbox properties (ward only: the host stays out of reach)"
RESULT_FILE="$top/build/sandbox.result" tests/sandbox/run.sh
count_result_file "$top/build/sandbox.result"

echo "== signals sent to ward reach the sandbox"
RESULT_FILE="$top/build/host-signals.result" tests/sandbox/host-signals.sh
count_result_file "$top/build/host-signals.result"

echo "== a guest that fights the seccomp stub gains nothing"
RESULT_FILE="$top/build/fight-stub.result" BUILD_DIR="$top/build/sandbox" tests/sandbox/fight-stub.sh
count_result_file "$top/build/fight-stub.result"

echo "== syscall-site patching (--patch-syscalls)"
RESULT_FILE="$top/build/patch-sites.result" BUILD_DIR="$top/build/sandbox" tests/sandbox/patch-sites.sh
count_result_file "$top/build/patch-sites.result"

echo "== docs/syscalls.md is generated from table.def and current"
if command -v python3 >/dev/null && python3 tools/gen-compat-doc.py . | cmp -s - docs/syscalls.md; then
	echo "PASS docs/syscalls.md"
	passed=$((passed + 1))
else
	echo "FAIL docs/syscalls.md: run 'make compat-doc'"
	failed=$((failed + 1))
fi

echo "== clang-format (the house style, .clang-format)"
if git ls-files '*.c' '*.h' | xargs clang-format --dry-run -Werror >build/clang-format.log 2>&1; then
	echo "PASS clang-format"
	passed=$((passed + 1))
else
	echo "FAIL clang-format: run clang-format -i on these"
	grep -o '^[^:]*\.[ch]' build/clang-format.log | sort -u | head -20
	failed=$((failed + 1))
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
