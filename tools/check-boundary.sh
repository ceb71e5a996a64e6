#!/bin/sh
# The boundary check: proves from the build's outputs that the checked
# services (src/sentry/{kernel,mm,loader,syscalls}, src/fs, src/net) cannot
# reach the host or raw guest memory except through the trusted core's API.
# See "The trusted core and the checked services" in DESIGN.md.
#
#   a. symbols: every undefined symbol (nm -u) of a service object is defined
#      by a service object, is core API (a global `ward_*' symbol defined by
#      a core object; `ward__*' is core-internal), or is in
#      tools/boundary-allowlist.txt. A service may not define a libc name
#      either, since that would interpose on the core's own calls.
#   b. never: tools/boundary-never.txt lists host-reaching names. The
#      allowlist may not contain (or glob over) any of them, and no service
#      may reference one.
#   c. instructions: the disassembly (objdump -d) of a service object has no
#      syscall, sysenter or int $0x80.
#   d. sources: clang-tidy's performance-no-int-to-ptr finds no integer-to-
#      pointer cast in a service source (that is how a service would
#      dereference a guest address, a struct holding a uint64_t), no service
#      source silences clang-tidy with NOLINT, and every service .c file
#      includes the prelude "sentry/service.h" first (STYLE: trust boundary).
#
# Usage (make check passes everything through the environment):
#   tools/check-boundary.sh [--services "OBJS"] [--core "OBJS"]
#       [--sources "FILES"] [--allowlist FILE] [--never FILE]
# Environment: top_srcdir, top_builddir, SERVICE_OBJECTS, CORE_OBJECTS,
#   CPPFLAGS, CLANG_TIDY (default clang-tidy), NM, OBJDUMP.
# Object paths are relative to the current directory or to top_builddir.
# Without --sources, every .c file in the service directories of top_srcdir
# is checked. Prints one line per violation (object-or-file: what: why) and
# exits 0 when there is none, 1 when there is any, 2 on a usage error.
set -u
LC_ALL=C
export LC_ALL

me=check-boundary
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
services=${SERVICE_OBJECTS:-}
core=${CORE_OBJECTS:-}
sources=
sources_set=no
allowlist=$top_srcdir/tools/boundary-allowlist.txt
never=$top_srcdir/tools/boundary-never.txt
NM=${NM:-nm}
OBJDUMP=${OBJDUMP:-objdump}
CLANG_TIDY=${CLANG_TIDY:-clang-tidy}

usage() {
	sed -n '/^# Usage/,/^# exits/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--services) [ $# -ge 2 ] || usage; services=$2; shift 2 ;;
	--core) [ $# -ge 2 ] || usage; core=$2; shift 2 ;;
	--sources) [ $# -ge 2 ] || usage; sources=$2; sources_set=yes; shift 2 ;;
	--allowlist) [ $# -ge 2 ] || usage; allowlist=$2; shift 2 ;;
	--never) [ $# -ge 2 ] || usage; never=$2; shift 2 ;;
	-h | --help) usage ;;
	*) echo "$me: unknown argument: $1" >&2; usage ;;
	esac
done

for tool in "$NM" "$OBJDUMP"; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "$me: FAIL: $tool not found (install the Debian package binutils)"
		exit 1
	}
done
[ -n "$services" ] || { echo "$me: no service objects (set SERVICE_OBJECTS or pass --services)" >&2; exit 2; }
[ -n "$core" ] || { echo "$me: no core objects (set CORE_OBJECTS or pass --core)" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-boundary.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
: >"$tmp/violations"

# violation WHERE WHAT WHY
violation() {
	printf '%s: %s: %s\n' "$1" "$2" "$3" >>"$tmp/violations"
}

# Finds an object given relative to the build directory.
resolve() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) if [ -e "$1" ]; then printf '%s\n' "$1"; else printf '%s\n' "$top_builddir/$1"; fi ;;
	esac
}

# Reads a list file: strips comments and blank lines, one name per line.
read_list() {
	sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$1"
}

for f in "$allowlist" "$never"; do
	[ -r "$f" ] || { echo "$me: FAIL: cannot read $f"; exit 1; }
done
read_list "$allowlist" | sort -u >"$tmp/allow"
read_list "$never" | sort -u >"$tmp/never"

# Entries are C identifiers, optionally ending in a single `*' glob.
for list in allow never; do
	src=$allowlist
	[ $list = never ] && src=$never
	grep -v -E '^[A-Za-z_][A-Za-z0-9_.]*\*?$' "$tmp/$list" | while IFS= read -r bad; do
		violation "$src" "$bad" "not a symbol name or NAME* pattern"
	done
done

# --- b. The allowlist may not grow into the never list. ---------------------
# Two entries overlap when some symbol matches both: for NAME or PREFIX*
# entries that is equality, or one prefix starting the other.
awk '
	NR == FNR { never[++n] = $0; next }
	{
		a = $0; ag = sub(/\*$/, "", a)
		for (i = 1; i <= n; i++) {
			b = never[i]; bg = sub(/\*$/, "", b)
			hit = 0
			if (!ag && !bg) hit = (a == b)
			else if (ag && !bg) hit = (index(b, a) == 1)
			else if (!ag && bg) hit = (index(a, b) == 1)
			else hit = (index(a, b) == 1 || index(b, a) == 1)
			if (hit) printf "%s\t%s\n", $0, never[i]
		}
	}' "$tmp/never" "$tmp/allow" | while IFS="$(printf '\t')" read -r a n; do
	violation "$allowlist" "$a" "allowlist entry covers never-allowed $n (tools/boundary-never.txt)"
done

# --- The symbol tables. ------------------------------------------------------
# nm -P prints "NAME TYPE [VALUE SIZE]"; upper-case types other than U are
# global definitions; u/V/W/i are GNU unique, weak and indirect ones.
defined_globals() {
	"$NM" -P -g --defined-only "$1" 2>/dev/null | awk '$2 ~ /^[A-TV-Zuvwi]$/ { print $1 }'
}

: >"$tmp/service_defs"
: >"$tmp/core_defs"
for o in $core; do
	p=$(resolve "$o")
	if [ ! -r "$p" ]; then
		violation "$o" "-" "core object not found (build first)"
		continue
	fi
	defined_globals "$p" >>"$tmp/core_defs" || violation "$o" "-" "nm failed"
done
for o in $services; do
	p=$(resolve "$o")
	[ -r "$p" ] || continue
	defined_globals "$p" >>"$tmp/service_defs"
done
sort -u -o "$tmp/service_defs" "$tmp/service_defs"
sort -u -o "$tmp/core_defs" "$tmp/core_defs"
grep '^ward_' "$tmp/core_defs" | grep -v '^ward__' >"$tmp/core_api"
grep '^ward__' "$tmp/core_defs" >"$tmp/core_internal"

# classify < names: prints "NAME\tWHY" for each name that is not allowed.
# Files: never, service_defs, core_api, core_internal, allow.
classify() {
	awk -v never="$tmp/never" -v sdefs="$tmp/service_defs" -v api="$tmp/core_api" \
		-v internal="$tmp/core_internal" -v allow="$tmp/allow" '
	function load(file, arr, globs,    line, n) {
		n = 0
		while ((getline line < file) > 0) {
			if (line ~ /\*$/) { sub(/\*$/, "", line); globs[++n] = line }
			else arr[line] = 1
		}
		close(file)
		return n
	}
	function matches(name, arr, globs, n,    i) {
		if (name in arr) return 1
		for (i = 1; i <= n; i++) if (index(name, globs[i]) == 1) return 1
		return 0
	}
	BEGIN {
		nn = load(never, nv, ng); load(sdefs, sd, sg); load(api, ap, apg)
		load(internal, in_, ing); na = load(allow, al, ag)
	}
	{
		s = $1
		if (matches(s, nv, ng, nn)) print s "\tnever-allowed: reaches the host (tools/boundary-never.txt)"
		else if (s in sd || s in ap) next
		else if (s in in_) print s "\tcore-internal (ward__*): services use only the ward_* core API"
		else if (s ~ /^ward_/) print s "\tnot defined by any core or service object"
		else if (!matches(s, al, ag, na)) print s "\tnot in tools/boundary-allowlist.txt"
	}'
}

# defines_libc < names: prints "NAME\tWHY" for names a service may not define.
defines_libc() {
	awk -v never="$tmp/never" -v allow="$tmp/allow" '
	function load(file, arr, globs,    line, n) {
		n = 0
		while ((getline line < file) > 0) {
			if (line ~ /\*$/) { sub(/\*$/, "", line); globs[++n] = line }
			else arr[line] = 1
		}
		close(file)
		return n
	}
	function matches(name, arr, globs, n,    i) {
		if (name in arr) return 1
		for (i = 1; i <= n; i++) if (index(name, globs[i]) == 1) return 1
		return 0
	}
	BEGIN { nn = load(never, nv, ng); na = load(allow, al, ag) }
	{
		if (matches($1, nv, ng, nn) || matches($1, al, ag, na))
			print $1 "\tservice defines a libc name: it would interpose on the core'"'"'s calls"
	}'
}

tab=$(printf '\t')

# System headers a service may include before the prelude, because they do
# not compile after it (their macros name poisoned identifiers): libelf's
# headers include <elf.h>, whose ELF32_ST_INFO has a parameter "bind".
# They only declare functions; the symbol check still decides which of
# them a service may call (elf_begin, which takes a descriptor, never).
pre_prelude_ok="gelf.h libelf.h"
for o in $services; do
	p=$(resolve "$o")
	if [ ! -r "$p" ]; then
		violation "$o" "-" "service object not found (build first)"
		continue
	fi

	# --- a + b. Undefined and defined symbols. ---------------------------
	if ! "$NM" -P -u "$p" >"$tmp/nm" 2>"$tmp/nm.err"; then
		violation "$o" "-" "nm failed: $(head -n 1 "$tmp/nm.err")"
		continue
	fi
	awk '{ print $1 }' "$tmp/nm" | sort -u | classify | while IFS="$tab" read -r s why; do
		violation "$o" "$s" "$why"
	done
	defined_globals "$p" | sort -u | defines_libc | while IFS="$tab" read -r s why; do
		violation "$o" "$s" "$why"
	done

	# --- c. Instructions. ----------------------------------------------------
	# Slim LTO objects hold compiler IR, not code: nothing to scan, so fail.
	if ! "$OBJDUMP" -h "$p" >"$tmp/hdr" 2>"$tmp/od.err"; then
		violation "$o" "-" "objdump cannot read it (LLVM bitcode from -flto?): $(head -n 1 "$tmp/od.err")"
		continue
	fi
	if grep -q '\.gnu\.lto_' "$tmp/hdr" && ! grep -q 'CODE' "$tmp/hdr"; then
		violation "$o" "-" "slim LTO object has no machine code to scan (build with -ffat-lto-objects)"
		continue
	fi
	if ! "$OBJDUMP" -d --no-show-raw-insn -M att "$p" >"$tmp/dis" 2>"$tmp/od.err"; then
		violation "$o" "-" "objdump -d failed: $(head -n 1 "$tmp/od.err")"
		continue
	fi
	# An instruction line is "ADDR:<TAB>MNEMONIC OPERANDS"; skip prefixes
	# (rep, lock, data16, ...) and compare the mnemonic column only.
	awk -F '\t' -v obj="$o" '
		$1 ~ /^ *[0-9a-f]+:$/ && NF >= 2 {
			insn = $2; sub(/[ \t]*(#.*)?$/, "", insn)
			n = split(insn, w, /[ \t]+/)
			i = 1
			while (i < n && w[i] ~ /^(rep|repz|repnz|repe|repne|lock|data16|data32|addr32|addr16|cs|ds|es|fs|gs|ss|notrack|bnd|rex.*|\{.*\})$/) i++
			m = w[i]; op = (i < n) ? w[i + 1] : ""
			addr = $1; sub(/^ */, "", addr); sub(/:$/, "", addr)
			if (m == "syscall" || m == "sysenter" || (m == "int" && (op == "$0x80" || op == "0x80")))
				printf "%s\t%s in %s (section offset 0x%s)\n", obj, insn, sym, addr
			next
		}
		/^[0-9a-f]+ <.*>:$/ { sym = $0; sub(/^[0-9a-f]+ </, "", sym); sub(/>:$/, "", sym) }
	' "$tmp/dis" | while IFS="$tab" read -r obj what; do
		violation "$obj" "$what" "host system-call instruction: only the core traps into the host kernel"
	done
done

# --- d. Sources. ---------------------------------------------------------------
srcdir_abs=$(cd "$top_srcdir" && pwd)
if [ $sources_set = no ]; then
	sources=$(
		for d in src/sentry/kernel src/sentry/mm src/sentry/loader src/sentry/syscalls src/fs src/net; do
			for f in "$srcdir_abs/$d"/*.c; do [ -f "$f" ] && printf '%s\n' "$f"; done
		done
	)
	headers=$(
		for d in src/sentry/kernel src/sentry/mm src/sentry/loader src/sentry/syscalls src/fs src/net; do
			for f in "$srcdir_abs/$d"/*.h "$srcdir_abs/$d"/*.def; do [ -f "$f" ] && printf '%s\n' "$f"; done
		done
	)
else
	headers=
fi

if [ -n "$sources" ]; then
	for f in $sources $headers; do
		if [ ! -r "$f" ]; then
			violation "$f" "-" "service source not found"
			continue
		fi
		grep -n 'NOLINT' "$f" | while IFS=: read -r line _; do
			violation "$f:$line" "NOLINT" "a service may not silence the source check"
		done
		case $f in *.c) ;; *) continue ;; esac
		# The prelude is the first #include, except for the reviewed
		# system headers of $pre_prelude_ok, which must come before it.
		awk -v ok=" $pre_prelude_ok " -v f="$f" '
			/^[ \t]*#[ \t]*include/ {
				if ($0 ~ /"sentry\/service\.h"/) { found = 1; exit }
				h = $0; sub(/^[ \t]*#[ \t]*include[ \t]*/, "", h); sub(/[ \t]*(\/[\/*].*)?$/, "", h)
				name = h; gsub(/[<>"]/, "", name)
				if (h !~ /^</ || index(ok, " " name " ") == 0) { bad = h; exit }
			}
			END {
				if (!found && bad == "") bad = "no #include of it"
				if (bad != "") print bad
			}' "$f" | while IFS= read -r bad; do
			violation "$f" "#include $bad" 'a service must include "sentry/service.h" first (STYLE: trust boundary)'
		done
	done

	if ! command -v "$CLANG_TIDY" >/dev/null 2>&1; then
		violation "$CLANG_TIDY" "-" "not installed: the int-to-pointer check needs it (Debian package clang-tidy; the project's setup script installs it)"
	elif ! "$CLANG_TIDY" --list-checks -checks='-*,performance-no-int-to-ptr' 2>/dev/null | grep -q 'performance-no-int-to-ptr'; then
		violation "$CLANG_TIDY" "-" "has no performance-no-int-to-ptr check (needs clang-tidy >= 13)"
	else
		builddir_abs=$(cd "$top_builddir" && pwd)
		# Headers of the service directories are checked where they are
		# included; include/ward/ is the core's own API.
		hfilter="^$srcdir_abs/src/(sentry/(kernel|mm|loader|syscalls)|fs|net)/"
		TIDY_TMP=$tmp HFILTER=$hfilter
		export CLANG_TIDY TIDY_TMP HFILTER
		# shellcheck disable=SC2086
		printf '%s\n' $sources | grep '\.c$' >"$tmp/srclist"
		# One clang-tidy per file, in parallel; each writes its own log.
		# shellcheck disable=SC2016,SC2086
		<"$tmp/srclist" xargs -P "$(nproc 2>/dev/null || echo 2)" -I{} sh -c '
			f=$1; shift
			log=$(mktemp "$TIDY_TMP/log.XXXXXX")
			if "$CLANG_TIDY" --quiet -checks="-*,performance-no-int-to-ptr" \
				--warnings-as-errors="*" -header-filter="$HFILTER" "$f" -- "$@" >"$log" 2>&1; then
				rm -f "$log"
			else
				echo "$f" >"$log.file"
			fi
			exit 0' check-boundary-tidy {} \
			${CPPFLAGS:-} -I"$srcdir_abs/include" -I"$srcdir_abs/src" -I"$builddir_abs" -I"$srcdir_abs" \
			-D_GNU_SOURCE -std=gnu11
		for l in "$tmp"/log.*; do
			case $l in *.file | *'log.*') continue ;; esac
			f=$(cat "$l.file")
			# Lines "FILE:LINE:COL: warning: MESSAGE [check]".
			if grep -E ': (warning|error): ' "$l" >"$tmp/diag"; then
				while IFS= read -r d; do
					where=${d%%: warning: *}
					where=${where%%: error: *}
					case $d in
					*'[performance-no-int-to-ptr'*)
						msg="cast of an integer to a pointer (performance-no-int-to-ptr)"
						why="integer-to-pointer cast: a service reaches guest memory only through ward_copy_in/out" ;;
					*)
						msg=$(printf '%s' "${d#"$where": }" | sed -e 's/^\(warning\|error\): //' -e 's/ \[[^]]*\]$//')
						why="clang-tidy could not compile the service source" ;;
					esac
					violation "$where" "$msg" "$why"
				done <"$tmp/diag"
			else
				violation "$f" "clang-tidy" "failed: $(head -n 3 "$l" | tr '\n' ' ')"
			fi
		done
	fi
fi

if [ -s "$tmp/violations" ]; then
	sort -u "$tmp/violations"
	echo "$me: FAIL: $(sort -u "$tmp/violations" | wc -l) violation(s) of the service boundary"
	exit 1
fi
# shellcheck disable=SC2086
echo "$me: PASS: $(echo $services | wc -w) service object(s), $(printf '%s\n' $sources | grep -c . ) source(s)"
exit 0
