#!/bin/bash
# demo.sh - kashim's mission in about a minute (`make demo`).
#
# As root: a mosquitto broker in one network namespace, two identical
# subscribers (MQTT keep-alive 600 s) in another, one under kashim and one
# without; then the link between them goes silently dead (nft drops every
# packet at the broker: no RST, link up), and we watch who notices.
# Without root: a loopback run that shows the keep-alive timers with ss.
# Everything made here is removed on exit (tests/e2e/lib.sh's trap).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/../tests/e2e/lib.sh"

IDLE=2 INTERVAL=1 COUNT=3
WAIT=30

if [ -t 1 ]; then
	B=$(printf '\033[1m') N=$(printf '\033[0m')
else
	B='' N=''
fi

# A heading and an indented line.
step()
{
	echo
	echo "${B}$*${N}"
}

say()
{
	echo "    $*"
}

# The live progress line: rewritten in place on a terminal, else printed
# every 5 s.
progress()
{
	if [ -t 1 ]; then
		printf '\r    %s\033[K' "$*"
	elif [ "$((tick % 50))" = 0 ]; then
		echo "    $*"
	fi
}

# Lines with tabs (kashim --status writes its table tab-separated when
# its output is not a terminal, as here) in aligned columns, two spaces
# apart; other lines as they are. Indented by six spaces.
align()
{
	awk -F '\t' '
		{ line[NR] = $0; n[NR] = NF
		  if (NF > 1) for (i = 1; i <= NF; i++)
			if (length($i) > w[i]) w[i] = length($i) }
		END { for (r = 1; r <= NR; r++) {
			if (n[r] < 2) { print "      " line[r]; continue }
			k = split(line[r], f, "\t"); out = "      "
			for (i = 1; i < k; i++) out = out sprintf("%-" w[i] "s  ", f[i])
			print out f[k] } }'
}

# The `kashim --status` view of process $1, or ss's view of local port
# $3 in namespace $2 when the command is not built yet.
show_status()
{
	if [ -x "$E2E_KASHIM" ]; then
		say "\$ kashim --status $1      # what the kernel holds for $(cat "/proc/$1/comm" 2>/dev/null) $1"
		"$E2E_KASHIM" --status "$1" 2>&1 | align
		echo
	else
		say "(src/kashim is not built: ss's view)"
		say "$(e2e_ss_brief "$2" "$3")"
	fi
}

# The table at the end: rows of "subscriber|result".
table()
{
	local w=44

	echo
	printf "    ${B}%-${w}s %s${N}\n" "$1" "$2"
	shift 2
	while [ $# -gt 0 ]; do
		printf "    %-${w}s %s\n" "$1" "$2"
		shift 2
	done
	echo
}

# Root: the dead link, for real.
demo_netns()
{
	local pid_with pid_without port_with port_without t0 now
	local gone='' w wo

	step "1. A broker behind a link: two network namespaces joined by a veth pair"
	e2e_netns_up
	e2e_broker broker "$E2E_PORT"
	say "broker  mosquitto at $E2E_ADDR_B:$E2E_PORT  (namespace $E2E_NS_B)"
	say "clients in namespace $E2E_NS_C ($E2E_ADDR_C)"

	step "2. The same subscriber twice, MQTT keep-alive 600 s (-k 600)"
	e2e_kashim_prefix "$IDLE" "$INTERVAL" "$COUNT" 0
	e2e_spawn with ip netns exec "$E2E_NS_C" "${E2E_PREFIX[@]}" mosquitto_sub \
		-h "$E2E_ADDR_B" -p "$E2E_PORT" -k 600 -t demo -i "with-kashim-$$"
	pid_with=$E2E_LAST
	e2e_spawn without ip netns exec "$E2E_NS_C" mosquitto_sub \
		-h "$E2E_ADDR_B" -p "$E2E_PORT" -k 600 -t demo -i "without-kashim-$$"
	pid_without=$E2E_LAST
	port_with=$(e2e_wait_port "$E2E_NS_C" "$pid_with" "$E2E_PORT") ||
		e2e_die "the subscriber under kashim did not connect"
	port_without=$(e2e_wait_port "$E2E_NS_C" "$pid_without" "$E2E_PORT") ||
		e2e_die "the plain subscriber did not connect"
	if [ -x "$E2E_KASHIM" ]; then
		say "with kashim:    kashim --idle $IDLE --interval $INTERVAL --count $COUNT -- mosquitto_sub -k 600 …"
	else
		say "with kashim:    LD_PRELOAD=src/libkashim.so KASHIM_IDLE=$IDLE KASHIM_INTERVAL=$INTERVAL KASHIM_COUNT=$COUNT mosquitto_sub -k 600 …"
	fi
	say "without kashim: mosquitto_sub -k 600 …"
	e2e_publish_seen demo "$E2E_TMP/with.out" "$E2E_TMP/without.out" ||
		e2e_die "a message over the link did not reach both subscribers"
	say "a message published over the live link reached both subscribers"
	echo
	show_status "$pid_with" "$E2E_NS_C" "$port_with"
	show_status "$pid_without" "$E2E_NS_C" "$port_without"
	sleep $((IDLE + 1))

	step "3. The link goes silently dead: nft drops every packet at the broker (no RST, link up)"
	e2e_link_dead
	t0=$(e2e_now)
	for ((tick = 0; tick < WAIT * 10 + 20; tick++)); do
		now=$(e2e_since "$t0")
		if [ -z "$gone" ] && ! e2e_established "$E2E_NS_C" "$port_with"; then
			gone=$now
		fi
		w="connected"
		[ -n "$gone" ] && w="GONE after $gone s"
		[ -n "$gone" ] && ip netns exec "$E2E_NS_C" ss -tnpH state syn-sent |
			grep -q "pid=$pid_with," && w="$w, reconnecting"
		wo="connected"
		e2e_established "$E2E_NS_C" "$port_without" || wo="gone at $now s"
		progress "dead for $(printf '%5.1f' "$now") s | with kashim: $w | without kashim: $wo"
		e2e_le "$WAIT" "$now" && break
		sleep 0.1
	done
	[ -t 1 ] && echo
	if e2e_established "$E2E_NS_C" "$port_without"; then
		wo="still \"connected\" after $now s"
	else
		wo="gone after about $now s"
	fi
	if [ -n "$gone" ]; then
		w="detected after $gone s (bound $((IDLE + INTERVAL * COUNT)) s)"
	else
		w="not detected in $now s"
	fi
	step "4. Who noticed"
	table "subscriber (MQTT keep-alive 600 s)" "after the link died" \
		"with kashim (idle $IDLE, interval $INTERVAL, count $COUNT)" "$w" \
		"without kashim" "$wo"
	say "Without kashim the subscriber learns it only from MQTT's own keep-alive:"
	say "a PINGREQ after 600 s of silence, then up to 600 s more for the answer."
}

# Not root: the timers on a loopback connection.
demo_loopback()
{
	local port='' p i pid_with pid_without port_with port_without

	step "Not root: no network namespaces, so no dead link. A loopback run instead"
	say "(run \`sudo make demo\` to see a broker's link die)"
	for ((i = 0; i < 20; i++)); do
		p=$((20000 + (RANDOM % 20000)))
		ss -tlnH "sport = :$p" | grep -q . || { port=$p; break; }
	done
	[ -n "$port" ] || e2e_die "no free port"
	cat >"$E2E_TMP/broker.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence false
log_dest none
EOF
	e2e_spawn broker mosquitto -c "$E2E_TMP/broker.conf"
	e2e_wait 5 ss -tlnH "sport = :$port" ||
		e2e_die "the broker does not listen: $(cat "$E2E_TMP/broker.err")"
	e2e_kashim_prefix 20 5 3 0
	e2e_spawn with "${E2E_PREFIX[@]}" mosquitto_sub -h 127.0.0.1 -p "$port" \
		-k 600 -t demo
	pid_with=$E2E_LAST
	e2e_spawn without mosquitto_sub -h 127.0.0.1 -p "$port" -k 600 -t demo
	pid_without=$E2E_LAST
	port_with=$(e2e_wait_port "" "$pid_with" "$port") || e2e_die "no connection"
	port_without=$(e2e_wait_port "" "$pid_without" "$port") || e2e_die "no connection"
	say "broker on 127.0.0.1:$port; two mosquitto_sub -k 600, one under kashim (idle 20, interval 5, count 3)"
	echo
	say "\$ ss -tno state established '( dport = :$port )'"
	say "with kashim:    $(e2e_ss_brief "" "$port_with")"
	say "without kashim: $(e2e_ss_brief "" "$port_without")"
	echo
	show_status "$pid_with" "" "$port_with"
	show_status "$pid_without" "" "$port_without"
	table "subscriber (MQTT keep-alive 600 s)" "keep-alive timer in the kernel" \
		"with kashim" "$(e2e_keepalive_timer "" "$port_with") s to the next probe" \
		"without kashim" "none"
}

e2e_init demo
e2e_need_cmds mosquitto mosquitto_sub mosquitto_pub ss awk
[ -f "$E2E_LIB" ] || e2e_die "build first: make"
echo "${B}kashim: TCP keep-alive for programs that never asked for it${N}"
if [ "$(id -u)" = 0 ]; then
	e2e_need_cmds ip nft
	demo_netns
else
	demo_loopback
fi
