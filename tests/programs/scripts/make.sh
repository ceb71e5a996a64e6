# make -j2 on a small Makefile in a scratch directory.
set -e
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
cd "$d"
cat > Makefile <<'MK'
all: c.txt
a.txt:
	echo a > a.txt
b.txt:
	echo b > b.txt
c.txt: a.txt b.txt
	cat a.txt b.txt > c.txt
MK
make -s -j2
cat c.txt
make -s -j2 && echo "up to date"
