# tar create and extract of /usr/include in a scratch directory, then diff -r.
set -e
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
tar -cf "$d/inc.tar" -C /usr include
mkdir "$d/x"
tar -xf "$d/inc.tar" -C "$d/x"
diff -r /usr/include "$d/x/include" && echo "tree: same"
echo "files: $(find "$d/x" -type f | wc -l)"
echo "links: $(find "$d/x" -type l | wc -l)"
echo "listed: $(tar -tf "$d/inc.tar" | wc -l)"
