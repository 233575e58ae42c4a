#!/bin/bash
# status.sh - row 5 beside ss(8): the CPU time of `kashim --status --all`
# and of `ss -tnpoe` over the same sockets, at 1,000 and 10,000 loopback
# connections with 100,000 or more TIME_WAIT entries in the table, and
# the CPU time of `kashim --apply --all` over the 10,000.
#
# Runs as root, in a network and PID namespace of its own (unshare -n -p
# --mount-proc): --all and ss -p see only the processes and sockets made
# here, and nothing of the host is touched. The clients run in a PID
# namespace of their own inside it, as a container's programs would:
# --status --all and ss, run outside it, see both ends of each loopback
# connection (20,001 sockets at 10,000 connections); --apply --all is
# measured inside it, where a connection is one socket as on a host
# whose peers are elsewhere, and outside it over both ends, as
# information. Beside each, bench/bare.c reads and sets the same options
# on the same sockets with one system call each and does nothing else:
# what the work costs the kernel without io_uring, which kashim uses
# where it can (src/cmd/uring.h) and so can come in under it. kashim
# --apply without io_uring (tests/lib/deny.c refuses io_uring_setup) and
# the system calls per socket of one more run are printed beside it.
#
# Needs no make: the helpers (tests/cmd/holder.c, bench/tw.c,
# bench/bare.c, tests/lib/deny.c) are compiled into a temporary
# directory with cc; the command measured is $KASHIM (default:
# src/kashim of this tree, which must be built). CPU time is user + system of the command and its
# threads (bash's `time`), the least of 3 runs each. Targets (issue 22,
# item 3): kashim at most ss at both sizes, --apply --all over 10,000
# connections under 0.2 s. Prints one table; exits 1 when a target is
# missed, 2 when the bench could not run.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
KASHIM=${KASHIM:-$top/src/kashim}

if [ "${1:-}" != --inside ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "status.sh: needs root (a network and PID namespace of its own)" >&2
		exit 2
	fi
	[ -x "$KASHIM" ] || { echo "status.sh: $KASHIM: not built" >&2; exit 2; }
	command -v ss >/dev/null || { echo "status.sh: ss (iproute2) is missing" >&2; exit 2; }
	dir=$(mktemp -d "${TMPDIR:-/tmp}/kashim-bench5.XXXXXX") || exit 2
	trap 'rm -rf "$dir"' EXIT
	cc -O2 -o "$dir/holder" "$top/tests/cmd/holder.c" &&
		cc -O2 -o "$dir/tw" "$top/bench/tw.c" &&
		cc -O2 -o "$dir/bare" "$top/bench/bare.c" &&
		cc -O2 -o "$dir/deny" "$top/tests/lib/deny.c" || exit 2
	unshare -n -p -f --mount-proc "$BASH" "$0" --inside "$dir"
	exit $?
fi

# ---- inside the namespaces: this shell is PID 1 ----
dir=$2
holder=$dir/holder
pids=
inner=
cleanup() {
	# The clients' namespace ends with its first process, which takes
	# no signal from outside but SIGKILL.
	[ -n "$inner" ] && kill -KILL "$inner" 2>/dev/null
	[ -n "$pids" ] && kill $pids 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT

ip link set lo up || exit 2
# Room for 100,000 TIME_WAIT entries and 20,000 sockets: every local
# port, no reuse of a TIME_WAIT tuple, no limit below what is made.
sysctl -qw net.ipv4.ip_local_port_range="1024 65535" \
	net.ipv4.tcp_tw_reuse=0 net.ipv4.tcp_max_tw_buckets=262144 || exit 2
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# wait_ready N: wait until N clients wrote their ready file, at most 60 s.
wait_ready() {
	local i=0
	while [ "$(ls "$dir"/ready.* 2>/dev/null | wc -l)" -lt "$1" ] && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(ls "$dir"/ready.* 2>/dev/null | wc -l)" -ge "$1" ]
}

# cpu CMD...: the least user + system seconds of 3 runs of CMD.
cpu() {
	local best= t
	for _ in 1 2 3; do
		t=$( { TIMEFORMAT='%U %S'; time "$@" >/dev/null 2>&1; } 2>&1 |
			awk '{ printf "%.3f", $1 + $2 }')
		best=$(awk -v a="$best" -v b="$t" 'BEGIN { print (a == "" || b < a) ? b : a }')
	done
	echo "$best"
}

# timewait: TIME_WAIT entries in this namespace now.
timewait() {
	ss -tan state time-wait | tail -n +2 | wc -l
}

# fill_tw: at least 100,000 TIME_WAIT entries (new ones if they expired);
# each run of tw makes what its two listeners' ports allow.
fill_tw() {
	local have
	for _ in 1 2 3 4; do
		have=$(timewait)
		[ "$have" -ge 100000 ] && return 0
		"$dir/tw" $((105000 - have)) >/dev/null
	done
	[ "$(timewait)" -ge 100000 ]
}

"$holder" -s "$dir/port" -H 600 &
pids="$pids $!"
i=0
while [ ! -s "$dir/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
port=$(cat "$dir/port")

# The clients' PID namespace: its first process, a sleep, holds it; the
# clients join it with nsenter (which forks them into it).
unshare -p -f --mount-proc sleep 900 2>/dev/null &
pids="$pids $!"
for _ in $(seq 50); do
	inner=$(cat /proc/$!/task/$!/children 2>/dev/null | awk '{ print $1 }')
	[ -n "$inner" ] && break
	sleep 0.1
done
[ -n "$inner" ] || { echo "status.sh: no PID namespace for the clients" >&2; exit 2; }
# in_clients CMD...: run CMD in the clients' PID namespace (and its /proc).
in_clients() {
	nsenter -t "$inner" -p -m "$@"
}

fail=0
printf 'row 5, beside ss: CPU seconds (user + system), least of 3 runs\n'
printf '%-12s %-10s %-22s %-12s %-8s %-8s %s\n' connections time_wait "kashim --status --all" "ss -tnpoe" ratio verdict "bare system calls"
have=0
for want in 1000 10000; do
	# 100 client processes of 10 connections, then 9 of 1,000 more.
	if [ "$want" = 1000 ]; then
		in_clients "$holder" -c "$port" -n 10 -p 100 -r "$dir" -H 600 &
		pids="$pids $!"
		wait_ready 100 || { echo "status.sh: clients did not connect" >&2; exit 2; }
	else
		in_clients "$holder" -c "$port" -n 1000 -p 9 -r "$dir" -H 600 &
		pids="$pids $!"
		wait_ready 109 || { echo "status.sh: clients did not connect" >&2; exit 2; }
	fi
	sleep 1 # the server accepts the last ones
	fill_tw || { echo "status.sh: could not make TIME_WAIT entries" >&2; exit 2; }
	tw=$(timewait)
	k=$(cpu "$KASHIM" --status --all)
	s=$(cpu ss -tnpoe)
	b=$(cpu "$dir/bare" status)
	ratio=$(awk -v k="$k" -v s="$s" 'BEGIN { r = 0; if (s > 0) r = k / s; printf "%.2f", r }')
	verdict=ok
	if awk -v k="$k" -v s="$s" 'BEGIN { exit !(k > s) }'; then
		verdict=MISSED
		fail=1
	fi
	printf '%-12s %-10s %-22s %-12s %-8s %-8s %s\n' "$want" "$tw" "$k" "$s" "$ratio" "$verdict" "$b"
done

# --apply --all: every socket set anew each run (--override, another
# idle): in the clients' namespace (the target), then over both ends.
least() {
	printf '%s\n' "$@" | sort -n | head -n 1
}
# once OUT [in_clients] CMD...: CPU seconds of one run of CMD, its output
# into OUT; in the clients' namespace it is timed there, so nsenter's
# own start is not counted.
once() {
	local out=$1 t
	shift
	if [ "$1" = in_clients ]; then
		shift
		t=$(in_clients "$BASH" -c 'TIMEFORMAT="%U %S"; out=$1; shift
			{ time "$@" >"$out" 2>&1; } 2>&1' timed "$out" "$@")
	else
		t=$( { TIMEFORMAT='%U %S'; time "$@" >"$out" 2>&1; } 2>&1)
	fi
	echo "$t" | awk '{ printf "%.3f\n", $1 + $2 }'
}
sockets_seen() { # the sockets the last run's summary counts
	sed -n 's/^summary: .*, \([0-9]*\) sockets*:.*/\1/p' "$dir/apply.out"
}
a1=$(least $(for idle in 31 32 33; do
	once "$dir/apply.out" in_clients "$KASHIM" --apply --all --override --idle $idle
done))
n1=$(sockets_seen)
b1=$(least $(for idle in 34 35 36; do once /dev/null in_clients "$dir/bare" apply $idle; done))
u1=$(least $(for idle in 46 47 48; do
	once /dev/null in_clients "$dir/deny" io_uring_setup ENOSYS -- "$KASHIM" --apply --all --override --idle $idle
done))
a2=$(least $(for idle in 37 38 39; do
	once "$dir/apply.out" "$KASHIM" --apply --all --override --idle $idle
done))
n2=$(sockets_seen)
b2=$(least $(for idle in 40 41 42; do once /dev/null "$dir/bare" apply $idle; done))
# System calls per socket of one more run of each (strace -c: counted,
# the load does not change them).
per_call() { # per_call CMD...: system calls of CMD per socket it saw
	in_clients strace -f -qq -c -o "$dir/calls" "$@" >"$dir/calls.out" 2>&1
	awk -v n="$n1" '$NF == "total" { if (n > 0) printf "%.2f", $4 / n }' "$dir/calls"
}
c1=$(per_call "$KASHIM" --apply --all --override --idle 43)
cb=$(per_call "$dir/bare" apply 44)
verdict=ok
if awk -v a="$a1" 'BEGIN { exit !(a >= 0.2) }'; then
	verdict=MISSED
	fail=1
fi
per() { # per SECONDS N: microseconds per socket
	awk -v t="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / n; else print "-" }'
}
printf 'kashim --apply --all over 10,000 connections, one socket each (%s sockets): %s s CPU (target < 0.2) %s; %s us per socket, the bare system calls %s s\n' \
	"$n1" "$a1" "$verdict" "$(per "$a1" "$n1")" "$b1"
printf 'without io_uring (a seccomp filter refuses it, information): %s s CPU, %s us per socket\n' \
	"$u1" "$(per "$u1" "$n1")"
printf 'system calls per socket (counted): kashim --apply --all %s, bare %s\n' "$c1" "$cb"
printf 'kashim --apply --all over both ends (%s sockets, information): %s s CPU, %s us per socket, the bare system calls %s s\n' \
	"$n2" "$a2" "$(per "$a2" "$n2")" "$b2"
exit $fail
