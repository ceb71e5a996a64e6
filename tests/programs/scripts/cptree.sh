# cp -a, mv and rm -rf of a 2,000-file tree in a scratch directory.
set -e
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
cd "$d"
for i in $(seq 1 20); do
	mkdir -p "a/d$i/sub"
	for j in $(seq 1 50); do
		echo "$i $j" >"a/d$i/f$j"
		echo "$j" >"a/d$i/sub/g$j"
	done
	ln -s "f1" "a/d$i/link"
	chmod 600 "a/d$i/f2"
done
echo "made: $(find a -type f | wc -l) files"
cp -a a b
diff -r a b && echo "cp: same"
echo "modes: $(stat -c %a b/d1/f2) $(stat -c %a b/d1/f3) $(readlink b/d1/link)"
mv b c
[ ! -e b ] && echo "mv: gone"
mv c/d1 c/d1-renamed
diff -r a/d1 c/d1-renamed && echo "mv dir: same"
rm -rf a c
ls -A | wc -l
