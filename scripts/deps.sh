#!/usr/bin/env bash
# Installs the Debian 12 packages ward needs to build and test, if missing.
set -euo pipefail

packages=(
	build-essential autoconf automake libtool pkg-config
	libseccomp-dev libelf-dev libcap-dev liburing-dev libuv1-dev check libjansson-dev
	clang-tidy clang-format busybox-static python3
	# real programs of tests/programs
	git sqlite3 python3-venv tar
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "ward: installing ${missing[*]}" >&2
	if [ "$(id -u)" -ne 0 ]; then
		sudo=sudo
	else
		sudo=
	fi
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
