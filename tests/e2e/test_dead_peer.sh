#!/bin/bash
# test_dead_peer.sh - the mission: a subscriber whose broker silently
# vanished. Two mosquitto_sub clients with an MQTT keep-alive of 600 s,
# one under kashim (idle 2, interval 1, count 3), one without; then nft
# drops every packet on the broker's side. The kashim client's connection
# must be gone within idle + interval * count + 2 s; the other one must
# still be "established" after 30 s (the control: this test can fail).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

IDLE=2 INTERVAL=1 COUNT=3
BOUND=$((IDLE + INTERVAL * COUNT + 2))
CONTROL=30

e2e_init dead-peer
e2e_need_root "network namespaces, nft"
e2e_need_cmds ip nft ss mosquitto mosquitto_sub mosquitto_pub awk
e2e_netns_up
e2e_broker broker "$E2E_PORT"


# Both subscribers, and the local port of each one's connection.
e2e_kashim_prefix "$IDLE" "$INTERVAL" "$COUNT" 0
e2e_spawn with ip netns exec "$E2E_NS_C" "${E2E_PREFIX[@]}" mosquitto_sub \
	-h "$E2E_ADDR_B" -p "$E2E_PORT" -k 600 -t kashim/e2e -i "with-$$"
pid_with=$E2E_LAST
e2e_spawn without ip netns exec "$E2E_NS_C" mosquitto_sub \
	-h "$E2E_ADDR_B" -p "$E2E_PORT" -k 600 -t kashim/e2e -i "without-$$"
pid_without=$E2E_LAST
port_with=$(e2e_wait_port "$E2E_NS_C" "$pid_with" "$E2E_PORT") ||
	e2e_die "subscriber with kashim did not connect: $(cat "$E2E_TMP/with.err")"
port_without=$(e2e_wait_port "$E2E_NS_C" "$pid_without" "$E2E_PORT") ||
	e2e_die "subscriber without kashim did not connect: $(cat "$E2E_TMP/without.err")"
e2e_say "kashim via $(e2e_kashim_how)"
# Both are really subscribed: a message reaches each of them.
e2e_publish_seen kashim/e2e "$E2E_TMP/with.out" "$E2E_TMP/without.out" ||
	e2e_die "a message published over the link did not reach both subscribers"

e2e_say "with kashim:    $(e2e_ss_brief "$E2E_NS_C" "$port_with")"
e2e_say "without kashim: $(e2e_ss_brief "$E2E_NS_C" "$port_without")"

# The kernel holds what kashim set, and nothing on the control.
t=$(e2e_keepalive_timer "$E2E_NS_C" "$port_with")
[ -n "$t" ] && e2e_le "$t" "$IDLE" ||
	e2e_fail "subscriber with kashim has no keep-alive timer <= $IDLE s ('$t')"
t=$(e2e_keepalive_timer "$E2E_NS_C" "$port_without")
[ -z "$t" ] || e2e_fail "subscriber without kashim has a keep-alive timer ($t s)"
grep -q "kashim\[$pid_with\]:.*TCP_KEEPIDLE=$IDLE " "$E2E_TMP/with.err" ||
	e2e_fail "kashim did not log the socket it changed: $(cat "$E2E_TMP/with.err")"

# Let a keep-alive probe or two go through the live link first.
sleep $((IDLE + 1))
e2e_established "$E2E_NS_C" "$port_with" ||
	e2e_die "the kashim connection died while the link was up"

e2e_link_dead
t0=$(e2e_now)
e2e_say "link dead (nft drops everything on the broker's side)"
e2e_gone_within "$port_with" "with kashim" "$port_without" "without kashim" \
	"$t0" "$BOUND" "$CONTROL"
# The program itself learnt it: mosquitto_sub is trying to reconnect.
if ip netns exec "$E2E_NS_C" ss -tnpH state syn-sent | grep -q "pid=$pid_with,"; then
	e2e_say "with kashim: mosquitto_sub noticed and is reconnecting (SYN-SENT)"
else
	e2e_fail "with kashim: mosquitto_sub shows no attempt to reconnect"
fi
ip netns exec "$E2E_NS_C" ss -tnpH state syn-sent | grep -q "pid=$pid_without," &&
	e2e_fail "without kashim: mosquitto_sub is reconnecting, the control failed"
[ "$E2E_FAILED" = 0 ] && e2e_say "PASS"
