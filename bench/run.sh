#!/bin/bash
# Side-by-side benchmarks, all in one run: native, ward on each of its
# platforms (ptrace, seccomp), and, where they are on PATH, gVisor's runsc
# on its ptrace platform and proot -R / (which runs most calls on the host
# and is no sandbox: a reference for what interception costs).
#
#   bench/run.sh WARD_BINARY        (make bench runs it on ./ward)
#
# Prints a table of ns per operation (whole programs: ms per run) and the
# ratios to native, then the physical-limit probe: what this machine can do
# at all for an intercepted call. Nothing is asserted: the numbers are for
# people, and the script exits 0 even when a sandbox cannot run a
# benchmark (its cell says "fail", with the reason below the table).
# Knobs (environment): BENCH_SCALE multiplies every iteration count
# (default 1), BENCH_TIMEOUT bounds each command (seconds, default 120),
# BENCH_ONLY limits the rows to a regular expression, CC (default cc),
# RUNSC (default runsc), PROOT (default proot).
set -u
LC_ALL=C
export LC_ALL

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 WARD_BINARY" >&2
	exit 2
fi
case $1 in
/*) WARD=$1 ;;
*) WARD=$(pwd)/$1 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-cc}
RUNSC=${RUNSC:-runsc}
PROOT=${PROOT:-proot}
scale=${BENCH_SCALE:-1}
tmo=${BENCH_TIMEOUT:-120}
only=${BENCH_ONLY:-.}

work=$(mktemp -d "${TMPDIR:-/tmp}/ward-bench.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT INT TERM
: >"$work/notes"

# Iterations under a sandbox; native runs do NATIVE_X times more so that
# their timer resolution does not matter.
NATIVE_X=20
iters_getpid=$((20000 * scale))
iters_getpidlibc=$((20000 * scale))
iters_read1=$((20000 * scale))
iters_openclose=$((5000 * scale))
iters_stat=$((5000 * scale))
iters_read1m=$((200 * scale))
iters_write1m=$((200 * scale))
iters_fork=$((30 * scale))
iters_thread=$((300 * scale))
iters_futexpp=$((2000 * scale))
iters_signal=$((2000 * scale))
iters_pipepp=$((2000 * scale))
iters_mmaptouch=$((500 * scale))
iters_clock_gettime=$((20000 * scale))
iters_tcppp=$((2000 * scale))
iters_tcpbulk=$((1024 * scale))
iters_unixpp=$((2000 * scale))
iters_epollwake=$((2000 * scale))
startup_runs=$((10 * scale))
prog_runs=$((2 * scale))

# --- Build the microbenchmarks and the probe. -------------------------------
variants=
if $CC -O2 -pthread -o "$work/micro-dynamic" "$here/micro.c" 2>"$work/cc.log"; then
	variants="dynamic"
else
	echo "bench: cannot build micro.c: $(head -n 1 "$work/cc.log")" >&2
	exit 1
fi
if $CC -O2 -static -pthread -o "$work/micro-static" "$here/micro.c" 2>"$work/cc.log"; then
	variants="static dynamic"
else
	echo "static build skipped: $(head -n 1 "$work/cc.log")" >>"$work/notes"
fi
$CC -O2 -o "$work/probe" "$here/probe.c" 2>"$work/cc.log" ||
	echo "probe not built: $(head -n 1 "$work/cc.log")" >>"$work/notes"

envs="native ptrace"
if "$WARD" do --platform=seccomp -- /bin/true 2>/dev/null; then
	envs="$envs seccomp"
	# seccomp with --patch-syscalls: libc's `mov $nr,%eax; syscall' sites
	# (getpidlibc, write1m, ...) enter the sentry without a signal.
	if "$WARD" do --platform=seccomp --patch-syscalls -- /bin/true 2>/dev/null; then
		envs="$envs seccomp+patch"
	else
		echo "ward's seccomp platform cannot patch syscall sites here: its column is skipped" >>"$work/notes"
	fi
else
	echo "ward's seccomp platform cannot run here: its column is skipped" >>"$work/notes"
fi
if command -v "$RUNSC" >/dev/null 2>&1; then
	envs="$envs runsc"
else
	echo "runsc is not on PATH: its column is skipped (Debian package runsc)" >>"$work/notes"
fi
if command -v "$PROOT" >/dev/null 2>&1; then
	envs="$envs proot"
else
	echo "proot is not on PATH: its column is skipped (Debian package proot)" >>"$work/notes"
fi

TIMEOUT=
command -v timeout >/dev/null 2>&1 && TIMEOUT="timeout $tmo"

# run_in ENV CMD...: runs CMD natively or in a sandbox. The work directory
# (benchmark binaries, trees, scratch) is bound in at the same path.
run_in() {
	e=$1
	shift
	case $e in
	native) $TIMEOUT "$@" ;;
	ptrace | seccomp) $TIMEOUT "$WARD" "do" --platform="$e" --volume="$work:$work:rw" -- "$@" ;;
	seccomp+patch) $TIMEOUT "$WARD" "do" --platform=seccomp --patch-syscalls --volume="$work:$work:rw" -- "$@" ;;
	runsc) $TIMEOUT "$RUNSC" --rootless --network=none --platform=ptrace "do" "$@" ;;
	proot) $TIMEOUT "$PROOT" -R / "$@" ;;
	esac
}

# note ENV BENCH: records why a cell failed.
note() {
	printf '%s under %s: %s\n' "$2" "$1" "$(grep -v '^[[:space:]]*$' "$work/err" | head -n 2 | tr '\n' ' ')" >>"$work/notes"
}

# micro ENV VARIANT NAME ITERS: prints ns/op or "fail".
micro() {
	e=$1 v=$2 name=$3 n=$4
	# 1 GiB of bulk TCP is long enough everywhere.
	[ "$e" = native ] && [ "$name" != tcpbulk ] && n=$((n * NATIVE_X))
	if out=$(run_in "$e" "$work/micro-$v" "$name" "$n" 2>"$work/err") &&
		r=$(printf '%s\n' "$out" | tail -n 1) &&
		printf '%s\n' "$r" | grep -Eq '^[0-9]+(\.[0-9]+)?$'; then
		echo "$r"
	else
		note "$e" "$name-$v"
		echo fail
	fi
}

# timed ENV RUNS NAME CMD...: wall-clock ns per run of CMD, or "fail".
timed() {
	e=$1 n=$2 name=$3 i=0
	shift 3
	t0=$(date +%s%N)
	while [ $i -lt "$n" ]; do
		if ! run_in "$e" "$@" >/dev/null 2>"$work/err"; then
			note "$e" "$name"
			echo fail
			return
		fi
		i=$((i + 1))
	done
	t1=$(date +%s%N)
	echo $(((t1 - t0) / n))
}

# --- Inputs of the whole programs. ------------------------------------------
# A 2,000-line C file; SQL for 10,000 rows; a git repository of 2,000 files.
awk 'BEGIN { for (i = 0; i < 400; i++) {
	printf "static int f%d(int x)\n{\n\tint y = x * %d;\n\treturn y + %d;\n}\n", i, i, i } }' >"$work/big.c"
echo 'int main(void) { return f1(1) - 2; }' >>"$work/big.c"
{
	echo "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, n INTEGER);"
	echo "BEGIN;"
	awk 'BEGIN { for (i = 0; i < 10000; i++) printf "INSERT INTO t (name, n) VALUES (\"row%d\", %d);\n", i, i * 7 }'
	echo "COMMIT;"
	echo "SELECT count(*), sum(n) FROM t;"
} >"$work/insert.sql"
if command -v git >/dev/null 2>&1; then
	mkdir -p "$work/repo"
	(
		cd "$work/repo" && git init -q . && i=0 &&
			while [ $i -lt 2000 ]; do
				d=d$((i % 40))
				mkdir -p $d && echo "file $i" >"$d/f$i" && i=$((i + 1))
			done && git add -A && git -c user.name=b -c user.email=b@b commit -qm init
	) 2>>"$work/notes" || echo "git repository not made" >>"$work/notes"
fi

# --- Run everything, one row per benchmark. ---------------------------------
: >"$work/rows"
add_row() { # NAME: runs CELL for every environment (CELL is a function)
	printf '%s\n' "$1" | grep -Eq -- "$only" || return 0
	row=$1
	for e in $envs; do
		row="$row $("$cell" "$e")"
	done
	echo "$row" >>"$work/rows"
}
for v in $variants; do
	for b in getpid getpidlibc read1 clock_gettime openclose stat read1m write1m pipepp mmaptouch fork thread futexpp signal tcppp tcpbulk unixpp epollwake; do
		eval "n=\$iters_$b"
		cell_micro() { micro "$1" "$v" "$b" "$n"; }
		cell=cell_micro
		add_row "$b-$v"
	done
done
cell_startup() {
	case $1 in
	native) timed native $((startup_runs * 10)) start-up /bin/true ;;
	*) timed "$1" "$startup_runs" start-up /bin/true ;;
	esac
}
cell=cell_startup
add_row startup-true

# Whole programs: ms per run.
cell_prog() { t=$(timed "$1" "$prog_runs" "$prog" /bin/sh -c "$cmd") && [ "$t" != fail ] && echo $((t / 1000)) || echo fail; }
cell=cell_prog
prog=python3-pass cmd="/usr/bin/python3 -c pass"
add_row prog-python3-pass
prog=tar-usr-include cmd="tar cf - /usr/include | wc -c"
add_row prog-tar-usr-include
prog=gcc-2000-lines cmd="cc -O1 -c -o /tmp/ward-bench-big.o $work/big.c"
add_row prog-gcc-2000-lines
if command -v sqlite3 >/dev/null 2>&1; then
	prog=sqlite3-insert cmd="rm -f /tmp/ward-bench.db && sqlite3 /tmp/ward-bench.db < $work/insert.sql && rm -f /tmp/ward-bench.db"
	add_row prog-sqlite3-10k-insert
fi
if [ -d "$work/repo/.git" ]; then
	prog=git-status cmd="cd $work/repo && git status --short | wc -l"
	add_row prog-git-status-2000
fi

# Sentry RSS at idle: ward running `sleep 2`, its resident set after 1 s.
rss_row="rss-idle-kib"
for e in $envs; do
	case $e in
	ptrace | seccomp | seccomp+patch)
		# shellcheck disable=SC2046
		"$WARD" do $(case $e in *+patch) echo --platform=seccomp --patch-syscalls ;; *) echo --platform="$e" ;; esac) \
			-- /bin/sleep 2 >/dev/null 2>&1 &
		pid=$!
		sleep 1
		kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
		wait $pid
		rss_row="$rss_row ${kib:-fail}"
		;;
	*) rss_row="$rss_row -" ;;
	esac
done

# --- The table. ---------------------------------------------------------------
echo "ward bench: $(uname -srm), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "ns per operation (start-up: ns per run; prog-*: ms per run); ratio = x native"
awk -v envs="$envs" '
	function ratio(x, base) {
		if (x == "fail" || x == "-" || base == "fail" || base + 0 == 0) return "-"
		return sprintf("%.1fx", x / base)
	}
	BEGIN {
		ne = split(envs, e, " ")
		printf "%-26s %12s", "benchmark", "native"
		for (i = 2; i <= ne; i++) printf " %12s %8s", e[i], "ratio"
		printf "\n"
	}
	{
		printf "%-26s %12s", $1, $2
		for (i = 3; i <= ne + 1; i++) printf " %12s %8s", $i, ratio($i, $2)
		printf "\n"
	}' "$work/rows"
printf '%-26s %12s' "$(echo "$rss_row" | cut -d' ' -f1)" "-"
for x in $(echo "$rss_row" | cut -d' ' -f3-); do printf ' %12s %8s' "$x" ""; done
printf '\n'

# --- The physical-limit probe. ---------------------------------------------
if [ -x "$work/probe" ]; then
	n=$((100000 * scale))
	trap_ns=$($TIMEOUT "$work/probe" trap "$n" 2>"$work/err" || echo fail)
	handoff_ns=$($TIMEOUT "$work/probe" handoff "$n" 2>"$work/err" || echo fail)
	echo
	echo "physical-limit probe (native, no work done): seccomp trap + in-process SIGSYS handler" \
		"$trap_ns ns; + shared-memory hand-off to another process $handoff_ns ns"
	seccomp_getpid=$(awk '$1 == "getpid-static" { print $4 }' "$work/rows")
	case $envs in *seccomp*)
		[ -n "$seccomp_getpid" ] && [ "$handoff_ns" != fail ] &&
			awk -v a="$seccomp_getpid" -v b="$handoff_ns" 'BEGIN { if (a + 0 > 0 && b + 0 > 0)
				printf "ward seccomp getpid-static / probe hand-off = %.2fx\n", a / b }'
		;;
	esac
	# The patched column's libc getpid against the probe's trap alone: below
	# 1.0x, a call costs less than the signal every trap takes.
	patched_getpid=$(awk -v envs="$envs" 'BEGIN { n = split(envs, e, " "); for (i = 1; i <= n; i++) if (e[i] == "seccomp+patch") c = i + 1 }
		$1 == "getpidlibc-static" && c { print $c }' "$work/rows")
	[ -n "$patched_getpid" ] && [ "$trap_ns" != fail ] &&
		awk -v a="$patched_getpid" -v b="$trap_ns" -v h="$handoff_ns" 'BEGIN { if (a + 0 > 0 && b + 0 > 0)
			printf "ward seccomp+patch getpidlibc-static / probe trap = %.2fx, / probe hand-off = %.2fx\n", a / b, a / (h + 0 > 0 ? h : 1) }'
fi
echo "(iterations under a sandbox: getpid $iters_getpid, read1 $iters_read1, openclose $iters_openclose," \
	"stat $iters_stat, read1m $iters_read1m, write1m $iters_write1m," \
	"fork $iters_fork, thread $iters_thread, futexpp $iters_futexpp, signal $iters_signal, pipepp $iters_pipepp," \
	"mmaptouch $iters_mmaptouch, tcppp $iters_tcppp, unixpp $iters_unixpp, epollwake $iters_epollwake;" \
	"x$NATIVE_X natively; tcpbulk $iters_tcpbulk MiB everywhere (ns per MiB); start-up $startup_runs runs;" \
	"programs $prog_runs runs)"
if [ -s "$work/notes" ]; then
	echo "notes:"
	sed 's/^/  /' "$work/notes"
fi
exit 0
