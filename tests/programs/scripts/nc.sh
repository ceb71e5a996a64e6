# busybox nc: a listener and a client on loopback, in one sandbox.
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
out=$(/bin/busybox mktemp)
/bin/busybox nc -l -p "$port" > "$out" &
pid=$!
i=0
until echo "hello over nc" | /bin/busybox nc 127.0.0.1 "$port" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 100 ] && break
	/bin/busybox usleep 50000
done
wait $pid
/bin/busybox cat "$out"
/bin/busybox rm -f "$out"
