# lib.sh - shared pieces of the end-to-end tests and of the demo (bash).
#
# Two network namespaces joined by a veth pair (10.213.0.0/30, which never
# leaves them), a mosquitto broker in one, clients in the other, nft to make
# the link silently dead, bounded waits, and one EXIT trap that removes
# every process, namespace, veth and nft table this shell made, by PID or
# by its unique name (they all carry the PID of the test).
#
# Source it, then call e2e_init NAME. Nothing here touches the host's own
# network: addresses exist only inside the namespaces made here.

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E_LIB=$E2E_ROOT/src/libkashim.so
E2E_KASHIM=$E2E_ROOT/src/kashim
E2E_ID=kashim-e2e-$$
E2E_NS_B=$E2E_ID-broker
E2E_NS_C=$E2E_ID-client
E2E_VETH_B=ke$$b
E2E_VETH_C=ke$$c
E2E_TABLE=kashim_e2e_$$
E2E_ADDR_B=10.213.0.1
E2E_ADDR_C=10.213.0.2
E2E_PORT=1883
E2E_PIDS=()
E2E_MOUNTS=()
E2E_PIDFILE=
E2E_NETNS=
E2E_TMP=
E2E_NAME=e2e
E2E_FAILED=0

# Print a line of the test's own output.
e2e_say()
{
	echo "$E2E_NAME: $*"
}

# Record a failed check; the test goes on and fails at the end.
e2e_fail()
{
	echo "$E2E_NAME: FAIL: $*" >&2
	E2E_FAILED=1
}

# Stop the test here: it cannot go on.
e2e_die()
{
	echo "$E2E_NAME: FAIL: $*" >&2
	exit 1
}

# Skip (and pass) when not root, saying what needs it ($1).
e2e_need_root()
{
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: $E2E_NAME: needs root (${1:-network namespaces, nft})"
		exit 0
	fi
}

# Fail unless every named command is installed.
e2e_need_cmds()
{
	local c

	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || e2e_die "missing command: $c"
	done
}

# Seconds since boot with 1/100 s resolution, without a fork.
e2e_now()
{
	local up rest

	read -r up rest </proc/uptime
	echo "$up"
}

# Seconds from $1 (an e2e_now value) to now, two decimals.
e2e_since()
{
	awk -v a="$1" -v b="$(e2e_now)" 'BEGIN { printf "%.2f", b - a }'
}

# Is the number $1 <= $2 ? (decimals allowed)
e2e_le()
{
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'
}

# End one process we started: TERM, up to 2 s, then KILL.
e2e_stop_pid()
{
	local pid=$1 i

	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# The EXIT trap: every process by PID, then the nft table, the namespaces
# and the veth (gone with its namespace, deleted by name if it was not
# moved yet), then the temporary directory.
e2e_cleanup()
{
	local rc=$? pid i

	trap - EXIT
	for pid in "${E2E_PIDS[@]}"; do
		e2e_stop_pid "$pid"
	done
	for ((i = ${#E2E_MOUNTS[@]} - 1; i >= 0; i--)); do
		umount "${E2E_MOUNTS[i]}" 2>/dev/null
	done
	if [ -n "$E2E_NETNS" ]; then
		ip netns exec "$E2E_NS_B" nft delete table inet "$E2E_TABLE" 2>/dev/null
		ip netns del "$E2E_NS_C" 2>/dev/null
		ip netns del "$E2E_NS_B" 2>/dev/null
		ip link del "$E2E_VETH_B" 2>/dev/null
	fi
	[ -n "$E2E_TMP" ] && rm -rf "$E2E_TMP"
	if [ "$rc" = 0 ] && [ "$E2E_FAILED" != 0 ]; then
		rc=1
	fi
	exit "$rc"
}

# Start a test named $1: the trap, a private temporary directory.
e2e_init()
{
	E2E_NAME=$1
	trap e2e_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	E2E_TMP=$(mktemp -d "/tmp/$E2E_ID.XXXXXX") || e2e_die "mktemp failed"
}

# Two namespaces, a veth pair between them, addresses, links up.
e2e_netns_up()
{
	E2E_NETNS=1
	ip netns add "$E2E_NS_B" || e2e_die "cannot add namespace $E2E_NS_B"
	ip netns add "$E2E_NS_C" || e2e_die "cannot add namespace $E2E_NS_C"
	ip link add "$E2E_VETH_B" type veth peer name "$E2E_VETH_C" ||
		e2e_die "cannot add veth $E2E_VETH_B"
	ip link set "$E2E_VETH_B" netns "$E2E_NS_B" &&
		ip link set "$E2E_VETH_C" netns "$E2E_NS_C" ||
		e2e_die "cannot move the veth pair"
	ip -n "$E2E_NS_B" addr add "$E2E_ADDR_B/30" dev "$E2E_VETH_B" &&
		ip -n "$E2E_NS_C" addr add "$E2E_ADDR_C/30" dev "$E2E_VETH_C" &&
		ip -n "$E2E_NS_B" link set lo up &&
		ip -n "$E2E_NS_C" link set lo up &&
		ip -n "$E2E_NS_B" link set "$E2E_VETH_B" up &&
		ip -n "$E2E_NS_C" link set "$E2E_VETH_C" up ||
		e2e_die "cannot set up the veth pair"
	e2e_wait 5 e2e_link_up || e2e_die "the veth pair does not come up"
}

# Are both ends of the veth pair up (carrier on)?
e2e_link_up()
{
	ip -n "$E2E_NS_B" -br link show "$E2E_VETH_B" | grep -q LOWER_UP &&
		ip -n "$E2E_NS_C" -br link show "$E2E_VETH_C" | grep -q LOWER_UP
}

# Kill the link silently: the broker's namespace drops every packet in
# and out (no RST, no ICMP, the link stays up).
e2e_link_dead()
{
	ip netns exec "$E2E_NS_B" nft -f - <<EOF || e2e_die "nft failed"
table inet $E2E_TABLE {
	chain in { type filter hook input priority -300; policy drop; }
	chain out { type filter hook output priority -300; policy drop; }
}
EOF
}

# Run "$@" every 0.1 s until it succeeds or $1 seconds passed.
e2e_wait()
{
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# Start "$@" in the background as job $1 (output in $E2E_TMP/$1.out and
# .err); its PID is kept for the trap and left in E2E_LAST.
e2e_spawn()
{
	local name=$1
	shift
	"$@" >"$E2E_TMP/$name.out" 2>"$E2E_TMP/$name.err" </dev/null &
	E2E_LAST=$!
	E2E_PIDS+=("$E2E_LAST")
	if [ -n "$E2E_PIDFILE" ]; then
		echo "$E2E_LAST" >>"$E2E_PIDFILE"
	fi
}

# Write a broker config for port $2 into file $1.
e2e_broker_conf()
{
	cat >"$1" <<EOF
listener $2 0.0.0.0
allow_anonymous true
persistence false
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
EOF
}

# Is something listening on TCP port $2 in namespace $1?
e2e_listening()
{
	ip netns exec "$1" ss -tlnH "sport = :$2" | grep -q .
}

# Start a broker as job $1 in the broker namespace on port $2, the rest
# of the arguments (if any) being a command prefix such as kashim's.
e2e_broker()
{
	local name=$1 port=$2
	shift 2
	e2e_broker_conf "$E2E_TMP/$name.conf" "$port"
	e2e_spawn "$name" ip netns exec "$E2E_NS_B" "$@" \
		mosquitto -c "$E2E_TMP/$name.conf"
	e2e_wait 5 e2e_listening "$E2E_NS_B" "$port" ||
		e2e_die "broker $name does not listen: $(cat "$E2E_TMP/$name.err")"
}

# Set the array E2E_PREFIX to a command prefix that runs a program under
# kashim with idle $1, interval $2, count $3 and user timeout $4 (ms or
# auto; 0 = none). The `kashim` command when it is built, otherwise the
# library through LD_PRELOAD and the environment. Either way no config
# file is read and each socket changed is logged (info) on stderr.
e2e_kashim_prefix()
{
	E2E_PREFIX=(env KASHIM_CONFIG= KASHIM_LOG=info)
	if [ -x "$E2E_KASHIM" ]; then
		E2E_PREFIX+=("$E2E_KASHIM" --idle "$1" --interval "$2" --count "$3")
		[ "$4" != 0 ] && E2E_PREFIX+=(--user-timeout "$4")
		E2E_PREFIX+=(--)
	else
		E2E_PREFIX+=(LD_PRELOAD="$E2E_LIB" KASHIM_IDLE="$1"
			KASHIM_INTERVAL="$2" KASHIM_COUNT="$3")
		[ "$4" != 0 ] && E2E_PREFIX+=(KASHIM_USER_TIMEOUT="$4")
	fi
}

# How kashim is being run, for the messages.
e2e_kashim_how()
{
	if [ -x "$E2E_KASHIM" ]; then
		echo "src/kashim"
	else
		echo "LD_PRELOAD=src/libkashim.so + KASHIM_*"
	fi
}

# Print the local port of the established TCP connection to port $3 that
# process $2 holds in namespace $1 ("" in $1 = the current one).
e2e_port_of()
{
	local ns=$1 pid=$2 peer=$3
	local -a run=()

	[ -n "$ns" ] && run=(ip netns exec "$ns")
	"${run[@]}" ss -tnpH state established "( dport = :$peer )" |
		awk -v pid="pid=$pid," 'index($0, pid) {
			n = split($3, a, ":"); print a[n]; exit }'
}

# Wait up to 5 s for process $2 to connect to port $3 in namespace $1;
# print its local port.
e2e_wait_port()
{
	local i port

	for ((i = 0; i < 50; i++)); do
		port=$(e2e_port_of "$1" "$2" "$3")
		[ -n "$port" ] && { echo "$port"; return 0; }
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# Is the connection from local port $2 still established in namespace $1?
e2e_established()
{
	local -a run=()

	[ -n "$1" ] && run=(ip netns exec "$1")
	"${run[@]}" ss -tnH state established "( sport = :$2 )" | grep -q .
}

# After the link died at $5 (an e2e_now value): the connection from local
# port $1 in the client namespace must be gone within $6 s, and the one
# from port $3 (the control) still established after $7 s. $2 and $4 name
# them in the lines printed; $8, when given, stands for "connection " in
# those after the first (dead_link.sh prints them without the word).
# Polled every 0.1 s, at most $7 * 10 times and $7 s.
e2e_gone_within()
{
	local port=$1 label=$2 cport=$3 clabel=$4 t0=$5 bound=$6 control=$7
	local noun=${8-connection } gone='' held i

	for ((i = 0; i < control * 10; i++)); do
		if [ -z "$gone" ] && ! e2e_established "$E2E_NS_C" "$port"; then
			gone=$(e2e_since "$t0")
			e2e_say "$label: connection gone after $gone s (bound $bound s)"
		fi
		e2e_le "$(e2e_since "$t0")" "$control" || break
		sleep 0.1
	done
	held=$(e2e_since "$t0")

	if [ -z "$gone" ]; then
		e2e_fail "$label: ${noun}still established after $held s (bound $bound s)"
	elif ! e2e_le "$gone" "$bound"; then
		e2e_fail "$label: ${noun}gone after $gone s, over the bound of $bound s"
	fi
	if e2e_established "$E2E_NS_C" "$cport"; then
		e2e_say "$clabel: ${noun}still established after $held s (control)"
	else
		e2e_fail "$clabel: ${noun}gone within $held s: the control failed"
	fi
}

# Print the ss -tnoi view (timers and TCP info) of local port $2 in
# namespace $1, on one line.
e2e_ss_view()
{
	local -a run=()

	[ -n "$1" ] && run=(ip netns exec "$1")
	"${run[@]}" ss -tnoiH state established "( sport = :$2 )" | tr -s ' \t\n' ' '
}

# Print local and peer address of local port $2 in namespace $1, and
# its timer (or "no timer").
e2e_ss_brief()
{
	e2e_ss_view "$1" "$2" | awk '{
		t = "no timer"
		if (match($0, /timer:\([^)]*\)/))
			t = substr($0, RSTART, RLENGTH)
		print $3 " -> " $4 "  " t
	}'
}

# Print the keep-alive timer of local port $2 in namespace $1: the
# seconds left before the next probe, or nothing when the socket has none.
# While sent data waits for its ACK the kernel shows the retransmission
# timer instead, so look again for up to 2 s.
e2e_keepalive_timer()
{
	local i t

	for ((i = 0; i < 20; i++)); do
		t=$(e2e_keepalive_once "$1" "$2")
		[ -n "$t" ] && break
		sleep 0.1
	done
	echo "$t"
}

# One look at the keep-alive timer; ss writes it as "1min19sec", "19sec",
# "4.123ms" (seconds) or "500ms".
e2e_keepalive_once()
{
	e2e_ss_view "$1" "$2" | awk '{
		if (!match($0, /timer:\(keepalive,[^,]*/))
			exit
		v = substr($0, RSTART + 17, RLENGTH - 17); t = 0
		if (match(v, /^[0-9]+min/)) {
			t = 60 * substr(v, 1, RLENGTH - 3); v = substr(v, RLENGTH + 1)
		}
		if (v ~ /sec$/)
			t += substr(v, 1, length(v) - 3)
		else if (v ~ /\..*ms$/)
			t += substr(v, 1, length(v) - 2)
		else if (v ~ /ms$/)
			t += substr(v, 1, length(v) - 2) / 1000
		printf "%.1f\n", t
	}'
}

# Publish to topic $1 from the client namespace until both files $2 and
# $3 (subscribers' output) hold the message: a subscriber may still be
# subscribing when the first one goes out. Up to 10 tries, 0.5 s apart.
e2e_publish_seen()
{
	local i msg="hello-$$-$RANDOM"

	for ((i = 0; i < 10; i++)); do
		ip netns exec "$E2E_NS_C" timeout 5 mosquitto_pub \
			-h "$E2E_ADDR_B" -p "$E2E_PORT" -t "$1" -m "$msg" || return 1
		sleep 0.5
		grep -q "$msg" "$2" && grep -q "$msg" "$3" && return 0
	done
	return 1
}
