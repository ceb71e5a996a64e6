# busybox sh: a pipeline of 20 processes, command substitution, background
# jobs and wait, traps on TERM and CHLD. Output is deterministic.
seq 1 50 | cat | cat | cat | cat | cat | cat | cat | cat | cat | cat | cat | cat | cat | cat | cat | cat | cat | grep 7 | wc -l
n=$(echo "a b c d" | wc -w)
echo "words: $n"
echo "nested: $(echo "$(echo inner)")"
( sleep 0.1; exit 3 ) &
p1=$!
( exit 4 ) &
p2=$!
wait $p1; echo "job1: $?"
wait $p2; echo "job2: $?"
trap 'echo got TERM' TERM
kill -TERM $$
echo "after TERM"
trap 'echo got INT' INT
kill -INT $$
echo "after INT"
chld=0
trap 'chld=$((chld+1))' CHLD
true & wait
sleep 0.05 & wait
trap - CHLD
[ "$chld" -ge 1 ] && echo "CHLD trapped"
i=0; total=0
while [ $i -lt 100 ]; do total=$((total + i)); i=$((i + 1)); done
echo "sum: $total"
for f in /etc/os-release /etc/passwd; do [ -r "$f" ] && echo "readable $(basename $f)"; done
x=$(for i in 1 2 3; do echo $i; done | tr '\n' ',')
echo "list: $x"
