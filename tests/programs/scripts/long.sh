# A 200-line POSIX shell script for bash and dash: functions, loops,
# arithmetic, case, here-documents, subshells, pipelines, traps.
set -u
fib() { a=0; b=1; i=0; while [ $i -lt $1 ]; do t=$((a + b)); a=$b; b=$t; i=$((i + 1)); done; echo $a; }
upper() { echo "$1" | tr a-z A-Z; }
count_lines() { wc -l < "$1" | tr -d " "; }
echo "fib 1: $(fib 1)"
echo "fib 2: $(fib 2)"
echo "fib 3: $(fib 3)"
echo "fib 4: $(fib 4)"
echo "fib 5: $(fib 5)"
echo "fib 6: $(fib 6)"
echo "fib 7: $(fib 7)"
echo "fib 8: $(fib 8)"
echo "fib 9: $(fib 9)"
echo "fib 10: $(fib 10)"
echo "fib 11: $(fib 11)"
echo "fib 12: $(fib 12)"
echo "fib 13: $(fib 13)"
echo "fib 14: $(fib 14)"
echo "fib 15: $(fib 15)"
echo "fib 16: $(fib 16)"
echo "fib 17: $(fib 17)"
echo "fib 18: $(fib 18)"
echo "fib 19: $(fib 19)"
echo "fib 20: $(fib 20)"
echo "fib 21: $(fib 21)"
echo "fib 22: $(fib 22)"
echo "fib 23: $(fib 23)"
echo "fib 24: $(fib 24)"
echo "fib 25: $(fib 25)"
echo "fib 26: $(fib 26)"
echo "fib 27: $(fib 27)"
echo "fib 28: $(fib 28)"
echo "fib 29: $(fib 29)"
echo "fib 30: $(fib 30)"
echo "upper: $(upper alpha)"
echo "upper: $(upper beta)"
echo "upper: $(upper gamma)"
echo "upper: $(upper delta)"
echo "upper: $(upper epsilon)"
echo "upper: $(upper zeta)"
echo "upper: $(upper eta)"
echo "upper: $(upper theta)"
echo "upper: $(upper iota)"
echo "upper: $(upper kappa)"
case 1 in
  *[02468]) echo "1 even" ;;
  *) echo "1 odd" ;;
esac
case 2 in
  *[02468]) echo "2 even" ;;
  *) echo "2 odd" ;;
esac
case 3 in
  *[02468]) echo "3 even" ;;
  *) echo "3 odd" ;;
esac
case 4 in
  *[02468]) echo "4 even" ;;
  *) echo "4 odd" ;;
esac
case 5 in
  *[02468]) echo "5 even" ;;
  *) echo "5 odd" ;;
esac
case 6 in
  *[02468]) echo "6 even" ;;
  *) echo "6 odd" ;;
esac
case 7 in
  *[02468]) echo "7 even" ;;
  *) echo "7 odd" ;;
esac
case 8 in
  *[02468]) echo "8 even" ;;
  *) echo "8 odd" ;;
esac
case 9 in
  *[02468]) echo "9 even" ;;
  *) echo "9 odd" ;;
esac
case 10 in
  *[02468]) echo "10 even" ;;
  *) echo "10 odd" ;;
esac
case 11 in
  *[02468]) echo "11 even" ;;
  *) echo "11 odd" ;;
esac
case 12 in
  *[02468]) echo "12 even" ;;
  *) echo "12 odd" ;;
esac
case 13 in
  *[02468]) echo "13 even" ;;
  *) echo "13 odd" ;;
esac
case 14 in
  *[02468]) echo "14 even" ;;
  *) echo "14 odd" ;;
esac
case 15 in
  *[02468]) echo "15 even" ;;
  *) echo "15 odd" ;;
esac
case 16 in
  *[02468]) echo "16 even" ;;
  *) echo "16 odd" ;;
esac
case 17 in
  *[02468]) echo "17 even" ;;
  *) echo "17 odd" ;;
esac
case 18 in
  *[02468]) echo "18 even" ;;
  *) echo "18 odd" ;;
esac
case 19 in
  *[02468]) echo "19 even" ;;
  *) echo "19 odd" ;;
esac
case 20 in
  *[02468]) echo "20 even" ;;
  *) echo "20 odd" ;;
esac
( cd /usr && x=$(ls | head -n 1 | tail -n 1) && echo "sub 0: $x" )
( cd /usr && x=$(ls | head -n 2 | tail -n 1) && echo "sub 1: $x" )
( cd /usr && x=$(ls | head -n 3 | tail -n 1) && echo "sub 2: $x" )
( cd /usr && x=$(ls | head -n 4 | tail -n 1) && echo "sub 3: $x" )
( cd /usr && x=$(ls | head -n 5 | tail -n 1) && echo "sub 4: $x" )
( cd /usr && x=$(ls | head -n 6 | tail -n 1) && echo "sub 5: $x" )
( cd /usr && x=$(ls | head -n 7 | tail -n 1) && echo "sub 6: $x" )
( cd /usr && x=$(ls | head -n 8 | tail -n 1) && echo "sub 7: $x" )
( cd /usr && x=$(ls | head -n 9 | tail -n 1) && echo "sub 8: $x" )
( cd /usr && x=$(ls | head -n 10 | tail -n 1) && echo "sub 9: $x" )
cat <<EOT
here-document line 1
value: $((6 * 7))
EOT
v0=$(( 0 * 0 + 0 )); echo "v0=$v0"
v1=$(( 1 * 1 + 1 )); echo "v1=$v1"
v2=$(( 2 * 2 + 2 )); echo "v2=$v2"
v3=$(( 3 * 3 + 3 )); echo "v3=$v3"
v4=$(( 4 * 4 + 4 )); echo "v4=$v4"
v5=$(( 5 * 5 + 5 )); echo "v5=$v5"
v6=$(( 6 * 6 + 6 )); echo "v6=$v6"
v7=$(( 7 * 7 + 7 )); echo "v7=$v7"
v8=$(( 8 * 8 + 8 )); echo "v8=$v8"
v9=$(( 9 * 9 + 9 )); echo "v9=$v9"
total=0
for n in $(seq 1 25); do total=$((total + n * n)); done
echo "squares: $total"
echo "passwd lines > 5: $([ $(count_lines /etc/passwd) -gt 5 ] && echo yes || echo no)"
trap 'echo "exit trap"' EXIT
printf "%s-%03d\n" item 0 | sed "s/item/thing/"
printf "%s-%03d\n" item 1 | sed "s/item/thing/"
printf "%s-%03d\n" item 2 | sed "s/item/thing/"
printf "%s-%03d\n" item 3 | sed "s/item/thing/"
printf "%s-%03d\n" item 4 | sed "s/item/thing/"
printf "%s-%03d\n" item 5 | sed "s/item/thing/"
printf "%s-%03d\n" item 6 | sed "s/item/thing/"
printf "%s-%03d\n" item 7 | sed "s/item/thing/"
printf "%s-%03d\n" item 8 | sed "s/item/thing/"
printf "%s-%03d\n" item 9 | sed "s/item/thing/"
printf "%s-%03d\n" item 10 | sed "s/item/thing/"
printf "%s-%03d\n" item 11 | sed "s/item/thing/"
s=""
for c in a b c d e f; do s="$s$c"; done
echo "concat: $s"
i=0
until [ $i -ge 5 ]; do i=$((i + 1)); [ $i -eq 3 ] && continue; echo "until $i"; done
echo one two three | while read a b c; do echo "read: $c $b $a"; done
r=$(printf "%s\n" 3 1 2 | sort -n | tr "\n" " ")
echo "sorted: $r"
if [ -d /usr/include ]; then echo "has include"; else echo "no include"; fi
false || echo "or works"
true && echo "and works"
echo "line 178: $(( 178 % 7 ))"
echo "line 179: $(( 179 % 7 ))"
echo "line 180: $(( 180 % 7 ))"
echo "line 181: $(( 181 % 7 ))"
echo "line 182: $(( 182 % 7 ))"
echo "line 183: $(( 183 % 7 ))"
echo "line 184: $(( 184 % 7 ))"
echo "line 185: $(( 185 % 7 ))"
echo "line 186: $(( 186 % 7 ))"
echo "line 187: $(( 187 % 7 ))"
echo "line 188: $(( 188 % 7 ))"
echo "line 189: $(( 189 % 7 ))"
echo "line 190: $(( 190 % 7 ))"
echo "line 191: $(( 191 % 7 ))"
echo "line 192: $(( 192 % 7 ))"
echo "line 193: $(( 193 % 7 ))"
echo "line 194: $(( 194 % 7 ))"
echo "line 195: $(( 195 % 7 ))"
echo "line 196: $(( 196 % 7 ))"
echo "line 197: $(( 197 % 7 ))"
echo "line 198: $(( 198 % 7 ))"
echo done
