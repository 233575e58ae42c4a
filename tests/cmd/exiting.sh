#!/bin/sh
# exiting.sh - `kashim --status PID` on a process that is killed during
# the scan (make check-cmd).
#
# A process holding 10,000 loopback connections takes a while to die:
# its fds are gone well before its pidfd says it has exited. A server
# holding 10,000 accepted connections (tests/cmd/holder.c, in a network
# namespace of the test's own, so the rounds' TIME_WAIT entries go with
# it) is killed 10 to 200 ms after `kashim --status` started on it. Each
# round must end in one of two ways: exit 0 with every socket (10,000
# connections and the listener), or exit 1 with "went away during the
# scan" (or "no process", when the kill came first). Never exit 0 with
# a part of the table. A control first: the same scan of the server left
# alone finds every socket. Run from the top of the tree, after make.
set -u

TOP=$(pwd)
KASHIM=$TOP/src/kashim
HOLDER=$TOP/tests/build/cmd/holder
. "$TOP/tests/lib/lib.sh"

kashim_env_clear
unset LD_PRELOAD
export KASHIM_CONFIG=
ROUNDS=${EXITING_ROUNDS:-8}
N=10000

if [ "$(id -u)" != 0 ]; then
	skip "a process killed during --status: a network namespace of its own needs root"
	exit 0
fi
command -v unshare >/dev/null || { fail "unshare missing"; summary exiting; }
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -le $((N + 16)) ]; then
	skip "the hard limit of open files ($(ulimit -Hn)) is below $N sockets"
	exit 0
fi

# wait_for N CMD...: until CMD succeeds, every 0.1 s, at most N tries.
wait_for() {
	n=$1
	shift
	while ! "$@" 2>/dev/null; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}
ready() { [ "$(ls "$1" | grep -c '^ready\.')" -ge 10 ]; }
accepted() { [ "$(ls "/proc/$1/fd" | wc -l)" -ge $((N + 4)) ]; }

# The delays after which the server is killed, in ms, one per round.
DELAYS="10 200 30 150 50 120 70 100 20 180 40 90 60 160 80 140"
partial=0 whole=0 gone=0 round=0
for d in $DELAYS; do
	round=$((round + 1))
	[ "$round" -le "$ROUNDS" ] || break
	R=$T/r$round
	mkdir -p "$R/c"
	# The server and 10 clients of 1,000 connections, in a namespace.
	unshare -n sh -c '
		ip link set lo up || exit 1
		"$1" -s "$2/port" -H 120 &
		echo $! >"$2/srv"
		i=0
		while [ ! -s "$2/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		"$1" -c "$(cat "$2/port")" -n 1000 -p 10 -r "$2/c" -H 120 &
		echo $! >"$2/cli"
		wait' sh "$HOLDER" "$R" >"$R/ns.out" 2>&1 &
	NS=$!
	PIDS="$PIDS $NS"
	if ! wait_for 100 test -s "$R/cli" || ! wait_for 300 ready "$R/c"; then
		fail "round $round: the connections were not made" "$(cat "$R/ns.out")"
		break
	fi
	SRV=$(cat "$R/srv")
	CLI=$(cat "$R/cli")
	PIDS="$PIDS $SRV $CLI $(ls "$R/c" | sed -n 's/^ready\.//p')"
	if ! wait_for 300 accepted "$SRV"; then
		fail "round $round: the server did not accept $N connections"
		break
	fi
	if [ "$round" = 1 ]; then
		# The control: left alone, the scan finds every socket.
		"$KASHIM" --status "$SRV" >"$R/out" 2>"$R/err"
		expect "control, the server left alone: exit 0 with the whole table" "0 $((N + 1))" \
			"$? $(awk -F '\t' '$1 ~ /^[0-9]+$/' "$R/out" | wc -l)"
	fi
	"$KASHIM" --status "$SRV" >"$R/out" 2>"$R/err" &
	K=$!
	sleep "$(printf '0.%03d' "$d")"
	kill -KILL "$SRV"
	wait "$K"
	rc=$?
	rows=$(awk -F '\t' '$1 ~ /^[0-9]+$/' "$R/out" | wc -l)
	if [ "$rc" = 0 ] && [ "$rows" = $((N + 1)) ]; then
		whole=$((whole + 1))
		echo "# round $round, kill after $d ms: exit 0, the whole table ($rows rows)"
	elif [ "$rc" = 1 ] && grep -qE "went away during the scan|no process with PID" "$R/err"; then
		gone=$((gone + 1))
		echo "# round $round, kill after $d ms: exit 1, $(cat "$R/err")"
	else
		partial=$((partial + 1))
		echo "# round $round, kill after $d ms: exit $rc with $rows of $((N + 1)) rows: $(cat "$R/err")"
	fi
	# The clients, by PID; the namespace's shell then ends.
	for p in $CLI $(ls "$R/c" | sed -n 's/^ready\.//p'); do
		kill -KILL "$p" 2>/dev/null
	done
	wait "$NS" 2>/dev/null
done
expect "a server killed during the scan: never exit 0 with a part of the table ($whole whole, $gone went away)" \
	0 "$partial"
[ $((whole + gone + partial)) -gt 0 ] || fail "no round ran"
summary exiting
