#!/usr/bin/env bash
# Quick start, part one: build ward and run a demo inside the sandbox.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/build.sh"
ward="$top/build/ward"
run() {
	echo "\$ ward do -- $*"
	"$ward" do -- "$@"
}
run /bin/busybox echo "hello from inside the sandbox"
run /bin/uname -a
run /bin/ls -l /
