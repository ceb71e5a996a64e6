# python3 -m venv, then the venv's python.
set -e
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
/usr/bin/python3 -m venv "$d/v"
"$d/v/bin/python" -c 'import sys; print(sys.prefix != sys.base_prefix, sys.prefix.endswith("/v"))'
"$d/v/bin/python" -m pip --version >/dev/null && echo pip ok
ls "$d/v/bin" | grep -c python
