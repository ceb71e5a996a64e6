#!/bin/sh
# Side-by-side benchmarks: native, ward (ptrace platform) and, where runsc
# (gVisor) is on PATH, runsc on its ptrace platform, all in one run.
#
#   bench/run.sh WARD_BINARY        (make bench runs it on ./ward)
#
# Prints a table of ns per operation and the ratios to native. Nothing is
# asserted: the numbers are for people, and the script exits 0 even when a
# sandbox cannot run a benchmark (its cell says "fail", with the reason
# below the table). Knobs (environment): BENCH_SCALE multiplies every
# iteration count (default 1), BENCH_TIMEOUT bounds each command (seconds,
# default 60), CC (default cc), RUNSC (default runsc).
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
scale=${BENCH_SCALE:-1}
tmo=${BENCH_TIMEOUT:-60}

work=$(mktemp -d "${TMPDIR:-/tmp}/ward-bench.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT INT TERM
: >"$work/notes"

# Iterations under a sandbox (ptrace costs ~10-20 us per system call, so
# this keeps the whole run well under two minutes); native runs do
# NATIVE_X times more so that their timer resolution does not matter.
NATIVE_X=50
iters_getpid=$((20000 * scale))
iters_read1=$((20000 * scale))
iters_openclose=$((5000 * scale))
iters_fork=$((50 * scale))
iters_thread=$((500 * scale))
iters_futexpp=$((2000 * scale))
iters_signal=$((2000 * scale))
startup_runs=$((10 * scale))
startup_runs_native=$((100 * scale))

# --- Build the microbenchmarks. -----------------------------------------
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

envs="native ward"
if command -v "$RUNSC" >/dev/null 2>&1; then
	envs="$envs runsc"
fi

TIMEOUT=
command -v timeout >/dev/null 2>&1 && TIMEOUT="timeout $tmo"

# run_in ENV CMD...: runs CMD natively or in a sandbox.
run_in() {
	e=$1
	shift
	case $e in
	native) $TIMEOUT "$@" ;;
	# The benchmark binaries live in a temporary directory, which may be
	# under /tmp, the sandbox's own tmpfs: bind it in at the same path.
	ward) $TIMEOUT "$WARD" "do" --platform=ptrace --volume="$work:$work:ro" -- "$@" ;;
	runsc) $TIMEOUT "$RUNSC" --rootless --network=none --platform=ptrace "do" "$@" ;;
	esac
}

# note ENV BENCH: records why a cell failed.
note() {
	printf '%s under %s: %s\n' "$2" "$1" "$(grep -v '^[[:space:]]*$' "$work/err" | head -n 2 | tr '\n' ' ')" >>"$work/notes"
}

# micro ENV VARIANT NAME ITERS: prints ns/op or "fail".
micro() {
	e=$1 v=$2 name=$3 n=$4
	[ "$e" = native ] && n=$((n * NATIVE_X))
	if out=$(run_in "$e" "$work/micro-$v" "$name" "$n" 2>"$work/err") &&
		r=$(printf '%s\n' "$out" | tail -n 1) &&
		printf '%s\n' "$r" | grep -Eq '^[0-9]+(\.[0-9]+)?$'; then
		echo "$r"
	else
		note "$e" "$name-$v"
		echo fail
	fi
}

# startup ENV RUNS: wall-clock ns per run of /bin/true, or "fail".
startup() {
	e=$1 n=$2 i=0
	t0=$(date +%s%N)
	while [ $i -lt "$n" ]; do
		if ! run_in "$e" /bin/true >/dev/null 2>"$work/err"; then
			note "$e" "start-up"
			echo fail
			return
		fi
		i=$((i + 1))
	done
	t1=$(date +%s%N)
	echo $(((t1 - t0) / n))
}

# --- Run everything, one row per benchmark. -----------------------------
: >"$work/rows"
for v in $variants; do
	for b in getpid read1 openclose fork thread futexpp signal; do
		eval "n=\$iters_$b"
		row="$b-$v"
		for e in $envs; do
			row="$row $(micro "$e" "$v" "$b" "$n")"
		done
		echo "$row" >>"$work/rows"
	done
done
row="startup-true"
for e in $envs; do
	case $e in
	native) row="$row $(startup native "$startup_runs_native")" ;;
	*) row="$row $(startup "$e" "$startup_runs")" ;;
	esac
done
echo "$row" >>"$work/rows"

# --- The table. ------------------------------------------------------------
echo "ward bench: $(uname -srm), $(date -u +%Y-%m-%dT%H:%MZ), ns per operation (start-up: ns per run)"
awk -v runsc="$(case $envs in *runsc*) echo 1 ;; *) echo 0 ;; esac)" '
	function ratio(x, base) {
		if (x == "fail" || base == "fail" || base + 0 == 0) return "-"
		return sprintf("%.1fx", x / base)
	}
	BEGIN {
		if (runsc) printf "%-20s %12s %14s %8s %14s %8s\n", "benchmark", "native ns", "ward-ptrace ns", "ratio", "runsc ns", "ratio"
		else printf "%-20s %12s %14s %8s\n", "benchmark", "native ns", "ward-ptrace ns", "ratio"
	}
	{
		if (runsc) printf "%-20s %12s %14s %8s %14s %8s\n", $1, $2, $3, ratio($3, $2), $4, ratio($4, $2)
		else printf "%-20s %12s %14s %8s\n", $1, $2, $3, ratio($3, $2)
	}' "$work/rows"
case $envs in
*runsc*) ;;
*) echo "(runsc is not on PATH: its columns are skipped; install the Debian package runsc)" ;;
esac
echo "(iterations: getpid $iters_getpid, read1 $iters_read1, openclose $iters_openclose, fork $iters_fork," \
	"thread $iters_thread, futexpp $iters_futexpp, signal $iters_signal under a sandbox," \
	"x$NATIVE_X natively; start-up: $startup_runs runs, $startup_runs_native natively)"
if [ -s "$work/notes" ]; then
	echo "notes:"
	sed 's/^/  /' "$work/notes"
fi
exit 0
