#!/bin/bash
# test_data_in_flight.sh - a publisher writing into a dead link. Keep-alive
# probes are not sent while sent data waits for its ACK, so keep-alive
# alone does not save it; TCP_USER_TIMEOUT does. Three mosquitto_pub -l
# clients publish a line every 0.2 s, then nft kills the link:
#   keep-alive only (idle 2, interval 1, count 3): still "established" after 20 s;
#   user_timeout 5000: gone after about 5-7 s;
#   user_timeout auto (idle 4, interval 1, count 3 = 7000 ms): gone within its bound.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

HOLD=20
UT_MIN=4.5 UT_MAX=8
AUTO_MS=$(((4 + 1 * 3) * 1000))
AUTO_MIN=$(awk -v m="$AUTO_MS" 'BEGIN { print m / 1000 - 0.5 }')
AUTO_MAX=$(awk -v m="$AUTO_MS" 'BEGIN { print m / 1000 + 2 }')

e2e_init data-in-flight
e2e_need_root "network namespaces, nft"
e2e_need_cmds ip nft ss mosquitto mosquitto_pub awk mkfifo
e2e_netns_up
e2e_broker broker "$E2E_PORT"

# A line every 0.2 s into fifo $1, for at most 2 minutes.
feed()
{
	local i

	for ((i = 0; i < 600; i++)); do
		echo "reading $i from a sensor" || return
		sleep 0.2
	done >"$1"
}

# Start publisher $1 under kashim with idle $2, interval $3, count $4 and
# user timeout $5; its PID in pid_$1, its local port in port_$1.
publisher()
{
	local name=$1 fifo=$E2E_TMP/$1.fifo pid port

	mkfifo "$fifo" || e2e_die "mkfifo failed"
	feed "$fifo" &
	E2E_PIDS+=($!)
	e2e_kashim_prefix "$2" "$3" "$4" "$5"
	ip netns exec "$E2E_NS_C" "${E2E_PREFIX[@]}" mosquitto_pub \
		-h "$E2E_ADDR_B" -p "$E2E_PORT" -k 600 -t kashim/e2e/data \
		-i "$name-$$" -l <"$fifo" >"$E2E_TMP/$name.out" \
		2>"$E2E_TMP/$name.err" &
	pid=$!
	E2E_PIDS+=("$pid")
	port=$(e2e_wait_port "$E2E_NS_C" "$pid" "$E2E_PORT") ||
		e2e_die "publisher $name did not connect: $(cat "$E2E_TMP/$name.err")"
	printf -v "pid_$name" %s "$pid"
	printf -v "port_$name" %s "$port"
}

port_keepalive=''
publisher keepalive 2 1 3 0
publisher ut5000 2 1 3 5000
publisher auto 4 1 3 auto
e2e_say "kashim via $(e2e_kashim_how)"
grep -q "TCP_KEEPIDLE=2 .*SO_KEEPALIVE=1" "$E2E_TMP/keepalive.err" ||
	e2e_fail "keep-alive only publisher did not get keep-alive: $(cat "$E2E_TMP/keepalive.err")"
grep -q "TCP_USER_TIMEOUT" "$E2E_TMP/keepalive.err" &&
	e2e_fail "keep-alive only publisher got a user timeout: $(cat "$E2E_TMP/keepalive.err")"
grep -q "TCP_USER_TIMEOUT=5000" "$E2E_TMP/ut5000.err" ||
	e2e_fail "no TCP_USER_TIMEOUT=5000 logged: $(cat "$E2E_TMP/ut5000.err")"
grep -q "TCP_USER_TIMEOUT=$AUTO_MS" "$E2E_TMP/auto.err" ||
	e2e_fail "no TCP_USER_TIMEOUT=$AUTO_MS (auto) logged: $(cat "$E2E_TMP/auto.err")"
sleep 1

e2e_link_dead
t0=$(e2e_now)
e2e_say "link dead while three publishers write into it"
gone_ut5000='' gone_auto=''
for ((i = 0; i < HOLD * 10; i++)); do
	for p in ut5000 auto; do
		v=gone_$p port=port_$p
		if [ -z "${!v}" ] && ! e2e_established "$E2E_NS_C" "${!port}"; then
			printf -v "$v" %s "$(e2e_since "$t0")"
			e2e_say "$p: connection gone after ${!v} s"
		fi
	done
	e2e_le "$(e2e_since "$t0")" "$HOLD" || break
	sleep 0.1
done
held=$(e2e_since "$t0")

# Keep-alive alone: still "established", with data unacknowledged.
if e2e_established "$E2E_NS_C" "$port_keepalive"; then
	unacked=$(e2e_ss_view "$E2E_NS_C" "$port_keepalive" | awk '{ print $2 }')
	e2e_say "keep-alive only: still established after $held s, $unacked bytes unacknowledged"
	[ "${unacked:-0}" -gt 0 ] ||
		e2e_fail "keep-alive only: no data in flight, the test proves nothing"
else
	e2e_fail "keep-alive only: connection gone within $held s; expected it to hang"
fi
if [ -z "$gone_ut5000" ]; then
	e2e_fail "user_timeout 5000: still established after $held s"
elif ! e2e_le "$UT_MIN" "$gone_ut5000" || ! e2e_le "$gone_ut5000" "$UT_MAX"; then
	e2e_fail "user_timeout 5000: gone after $gone_ut5000 s, not within $UT_MIN-$UT_MAX s"
fi
if [ -z "$gone_auto" ]; then
	e2e_fail "user_timeout auto: still established after $held s"
elif ! e2e_le "$AUTO_MIN" "$gone_auto" || ! e2e_le "$gone_auto" "$AUTO_MAX"; then
	e2e_fail "user_timeout auto ($AUTO_MS ms): gone after $gone_auto s, not within $AUTO_MIN-$AUTO_MAX s"
fi
[ "$E2E_FAILED" = 0 ] && e2e_say "PASS"
