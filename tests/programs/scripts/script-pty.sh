# script(1) runs a shell on a pseudo-terminal: tty, stty and a line of
# output through the line discipline (ONLCR). The pts number is the host's
# business, so it is normalised.
script -q -c 'tty; stty size; stty -a | head -n 3; test -t 0 && echo stdin-is-a-tty; echo hi' /dev/null |
	sed 's|/dev/pts/[0-9]*|/dev/pts/N|'
