# script(1) runs a shell on a pseudo-terminal: tty, stty and a line of
# output through the line discipline (ONLCR), and ps finding the terminal
# in /proc/[pid]/stat. The pts number is the host's business, so it is
# normalised.
script -q -c 'tty; stty size; stty -a | head -n 3; test -t 0 && echo stdin-is-a-tty; echo hi; if command -v ps >/dev/null; then ps -o tty= -p $$; fi' /dev/null |
	sed 's|pts/[0-9]*|pts/N|'
