#!/bin/bash
# test_data_in_flight.sh - a publisher writing into a dead link. Keep-alive
# probes are not sent while sent data waits for its ACK, so keep-alive
# alone does not save it; TCP_USER_TIMEOUT does. Three mosquitto_pub -l
# clients publish a line every 0.2 s, then nft kills the link:
#   keep-alive only (idle 2, interval 1, count 3): still "established"
#   after HOLD s, with data unacknowledged (the control: keep-alive alone
#   would have ended it after 2 + 1 * 3 = 5 s);
#   user_timeout 5000, and auto (idle 4, interval 1, count 3 = 7000 ms):
#   gone within the window derived from each one's user timeout UT.
#
# The window. The link dies at t0 (taken when nft returns). The first
# unacknowledged line was sent at most one publishing interval before t0
# (an ACK dropped by the new rule), so the kernel cannot end the
# connection before UT - PUB - NFT. It ends it at about UT after that
# line was sent, and that line may be sent late: the publisher, its feed
# and the kernel's timer all wait for a CPU on a loaded 2-core machine,
# which is LATE (2 s, or 30% of UT when more). The upper bound is checked
# against the last poll that still saw the connection, the lower one
# against the first poll that saw it gone: how slowly this script polls
# (ss in a namespace, under load) moves neither.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

PUB=0.2 # seconds between two lines of a publisher
NFT=0.3 # at most from nft's rule in place to t0
# window UT_MS: "MIN MAX" in seconds after t0.
window()
{
	awk -v ut="$1" -v pub="$PUB" -v nft="$NFT" 'BEGIN {
		ut /= 1000; late = ut * 0.3 < 2 ? 2 : ut * 0.3
		printf "%.2f %.2f", ut - pub - nft, ut + pub + late }'
}
UT_MS=5000
AUTO_MS=$(((4 + 1 * 3) * 1000))
read -r UT_MIN UT_MAX <<<"$(window "$UT_MS")"
read -r AUTO_MIN AUTO_MAX <<<"$(window "$AUTO_MS")"
# The control holds its connection for twice the longest window.
HOLD=$(awk -v m="$AUTO_MAX" 'BEGIN { printf "%d", m * 2 + 0.999 }')

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
publisher ut5000 2 1 3 "$UT_MS"
publisher auto 4 1 3 auto
e2e_say "kashim via $(e2e_kashim_how)"
grep -q "TCP_KEEPIDLE=2 .*SO_KEEPALIVE=1" "$E2E_TMP/keepalive.err" ||
	e2e_fail "keep-alive only publisher did not get keep-alive: $(cat "$E2E_TMP/keepalive.err")"
grep -q "TCP_USER_TIMEOUT" "$E2E_TMP/keepalive.err" &&
	e2e_fail "keep-alive only publisher got a user timeout: $(cat "$E2E_TMP/keepalive.err")"
grep -q "TCP_USER_TIMEOUT=$UT_MS" "$E2E_TMP/ut5000.err" ||
	e2e_fail "no TCP_USER_TIMEOUT=$UT_MS logged: $(cat "$E2E_TMP/ut5000.err")"
grep -q "TCP_USER_TIMEOUT=$AUTO_MS" "$E2E_TMP/auto.err" ||
	e2e_fail "no TCP_USER_TIMEOUT=$AUTO_MS (auto) logged: $(cat "$E2E_TMP/auto.err")"
sleep 1

e2e_link_dead
t0=$(e2e_now)
e2e_say "link dead while three publishers write into it"
gone_ut5000='' gone_auto='' seen_ut5000=0 seen_auto=0
for ((i = 0; i < HOLD * 10; i++)); do
	for p in ut5000 auto; do
		v=gone_$p seen=seen_$p port=port_$p
		[ -n "${!v}" ] && continue
		now=$(e2e_since "$t0")
		if e2e_established "$E2E_NS_C" "${!port}"; then
			printf -v "$seen" %s "$now"
		else
			printf -v "$v" %s "$(e2e_since "$t0")"
			e2e_say "$p: connection gone after ${!v} s (still there at ${!seen} s)"
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
# check NAME UT_MS MIN MAX GONE SEEN: gone no sooner than MIN, and last
# seen no later than MAX.
check()
{
	if [ -z "$5" ]; then
		e2e_fail "$1: still established after $held s"
	elif ! e2e_le "$3" "$5" || ! e2e_le "$6" "$4"; then
		e2e_fail "$1 ($2 ms): seen at $6 s, gone at $5 s: not within $3-$4 s"
	else
		e2e_say "$1 ($2 ms): ended between $6 and $5 s, within $3-$4 s"
	fi
}
check "user_timeout $UT_MS" "$UT_MS" "$UT_MIN" "$UT_MAX" "$gone_ut5000" "$seen_ut5000"
check "user_timeout auto" "$AUTO_MS" "$AUTO_MIN" "$AUTO_MAX" "$gone_auto" "$seen_auto"
[ "$E2E_FAILED" = 0 ] && e2e_say "PASS"
