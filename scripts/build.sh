#!/usr/bin/env bash
# Builds ward in build/ (or $1) with warnings as errors; extra arguments go
# to configure.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build}
shift || true
"$top/scripts/deps.sh"
if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ] || [ "$top/Makefile.am" -nt "$top/Makefile.in" ]; then
	"$top/autogen.sh" >/dev/null 2>&1
fi
mkdir -p "$dir"
cd "$dir"
if [ ! -f Makefile ] || [ "$top/configure" -nt Makefile ]; then
	"$top/configure" --enable-werror "$@" >/dev/null
fi
make -j"$(nproc)" >/dev/null
