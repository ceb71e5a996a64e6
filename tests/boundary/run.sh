#!/bin/sh
# Tests of the boundary check (tools/check-boundary.sh) on small services
# made to break it one way each, plus one good service that must pass.
# Each case compiles its service alone, runs the check on that object with a
# stand-in core (fake_core.c), and asserts the outcome and the reason.
#
# Environment (set by make check; defaults for running by hand):
#   top_srcdir, top_builddir, CC, CPPFLAGS.
# Prints "PASS boundary/NAME" or "FAIL boundary/NAME" per case and exits 0
# when every case went as expected, 1 otherwise (automake test protocol).
set -u
LC_ALL=C
export LC_ALL

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$here/../..}
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=${top_builddir:-.}
CC=${CC:-cc}
CPPFLAGS=${CPPFLAGS:--I$top_srcdir/include -I$top_srcdir/src -D_GNU_SOURCE}
check=$top_srcdir/tools/check-boundary.sh
src=$top_srcdir/tests/boundary

work=$(mktemp -d "${TMPDIR:-/tmp}/boundary-test.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT INT TERM

passed=0
failed=0
pass() { echo "PASS boundary/$1"; passed=$((passed + 1)); }
fail() {
	echo "FAIL boundary/$1: $2"
	[ -s "$work/out" ] && sed 's/^/    | /' "$work/out"
	failed=$((failed + 1))
}

# compile NAME: compiles tests/boundary/NAME.c to $work/NAME.o, output in $work/out.
compile() {
	# shellcheck disable=SC2086
	$CC $CPPFLAGS -I"$top_srcdir/include" -I"$top_srcdir/src" -std=gnu11 -O2 \
		-c "$src/$1.c" -o "$work/$1.o" >"$work/out" 2>&1
}

if ! compile fake_core; then
	fail fake_core "the stand-in core does not compile"
	exit 1
fi
core=$work/fake_core.o

# expect NAME pass|fail REASON [check-boundary options...]
# Runs the check on $work/NAME.o; for "fail", REASON must appear in its
# output, so that each bad service is caught by the check meant for it.
expect() {
	name=$1 want=$2 reason=$3
	shift 3
	"$check" --services "$work/$name.o" --core "$core" "$@" >"$work/out" 2>&1
	rc=$?
	case $want.$rc in
	pass.0) pass "$name" ;;
	fail.1)
		if grep -q -e "$reason" "$work/out"; then
			pass "$name"
		else
			fail "$name" "the check failed, but not with \"$reason\""
		fi
		;;
	*) fail "$name" "expected the check to $want, it exited $rc" ;;
	esac
}

# 1. The poison list of the prelude stops a named host call at compile time.
if compile bad_poison; then
	: >"$work/out"
	fail bad_poison "compiled although it names the poisoned syscall"
elif grep -q 'poisoned' "$work/out"; then
	pass bad_poison
else
	fail bad_poison "the compile failed, but not because of the poison list"
fi

# 2-9. Objects through the check.
for name in good_service bad_syscall bad_asm bad_deref bad_nolint bad_internal bad_order bad_define; do
	compile "$name" || { fail "$name" "does not compile"; continue; }
done

# A good service passes every check, sources included.
expect good_service pass "" --sources "$src/good_service.c"
# Symbol checks: sources are left out (--sources "") so that the object
# checks alone must catch these.
expect bad_syscall fail "syscall: never-allowed" --sources ""
if grep -q "read: never-allowed" "$work/out"; then pass bad_syscall.read; else fail bad_syscall.read "read() not reported"; fi
expect bad_internal fail "ward__raw_pointer: core-internal" --sources ""
expect bad_define fail "read: service defines a libc name" --sources ""
# The instruction scan: bad_asm references no symbol at all.
if [ -z "$(nm -u "$work/bad_asm.o" 2>&1)" ]; then
	pass bad_asm.no_symbols
else
	: >"$work/out"
	fail bad_asm.no_symbols "bad_asm.o references symbols: only the instruction scan should catch it"
fi
expect bad_asm fail "host system-call instruction" --sources ""
# Source checks: these objects are clean, only their sources are not.
expect bad_deref fail "integer-to-pointer cast" --sources "$src/bad_deref.c"
if [ "$(grep -c 'integer-to-pointer cast' "$work/out")" -ge 2 ]; then
	pass bad_deref.both_casts
else
	fail bad_deref.both_casts "expected both casts of bad_deref.c to be reported"
fi
expect bad_nolint fail "NOLINT" --sources "$src/bad_nolint.c"
expect bad_order fail "must include \"sentry/service.h\" first" --sources "$src/bad_order.c"

# The check fails closed without clang-tidy.
cp "$work/good_service.o" "$work/no_tidy.o"
CLANG_TIDY=/nonexistent/clang-tidy expect no_tidy fail "Debian package clang-tidy" --sources "$src/good_service.c"

# The allowlist may not grow into the never list, by name or by glob.
cp "$work/good_service.o" "$work/allow_read.o"
{ cat "$top_srcdir/tools/boundary-allowlist.txt"; echo "read # not pure"; } >"$work/allow_read.txt"
expect allow_read fail "covers never-allowed read" --sources "" --allowlist "$work/allow_read.txt"
cp "$work/good_service.o" "$work/allow_glob.o"
{ cat "$top_srcdir/tools/boundary-allowlist.txt"; echo "sys*"; } >"$work/allow_glob.txt"
expect allow_glob fail "covers never-allowed syscall" --sources "" --allowlist "$work/allow_glob.txt"
# ... and a service needs every symbol it uses allowlisted.
cp "$work/good_service.o" "$work/allow_empty.o"
expect allow_empty fail "snprintf: not in tools/boundary-allowlist.txt" --sources "" --allowlist /dev/null

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
