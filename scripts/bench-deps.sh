#!/usr/bin/env bash
# Installs what bench/run.sh compares ward against, if missing: gVisor's
# runsc and proot (both Debian packages), and the whole programs it times
# (sqlite3, git). The benchmarks run without them, leaving their rows or
# columns out; `make bench` calls this first.
set -euo pipefail
packages=(runsc proot sqlite3 git)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
echo "ward bench: installing ${missing[*]}" >&2
sudo=
[ "$(id -u)" -ne 0 ] && sudo=sudo
if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
	echo "ward bench: could not install ${missing[*]}; their columns and rows are left out" >&2
fi
exit 0
