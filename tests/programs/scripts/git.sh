# git init, add, commit and log in a scratch directory, with fixed names
# and dates so that the commit ids are the same everywhere.
set -e
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
export HOME=$d GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=Ward GIT_AUTHOR_EMAIL=ward@example.org GIT_AUTHOR_DATE='2020-01-01T00:00:00Z'
export GIT_COMMITTER_NAME=Ward GIT_COMMITTER_EMAIL=ward@example.org GIT_COMMITTER_DATE='2020-01-01T00:00:00Z'
cd "$d"
git init -q -b main repo
cd repo
for i in 1 2 3 4 5 6 7 8 9 10; do
	mkdir -p "dir$i"
	echo "file $i" >"dir$i/f$i.txt"
done
git add .
git commit -q -m "first commit"
echo change >>dir1/f1.txt
git mv dir2/f2.txt dir2/moved.txt
git rm -q dir3/f3.txt
git commit -q -a -m "second commit"
git log --format=%s
git log --format='%H %T'
git status --porcelain | wc -l
git ls-files | wc -l
git gc -q
git fsck -q && echo fsck ok
git log --stat --format=%s | tail -n 3
