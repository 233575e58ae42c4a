#!/bin/bash
# test_apply_dead_peer.sh - the mission for a client that was connected
# before kashim came: two mosquitto_sub clients (MQTT keep-alive 600 s)
# connect with no kashim anywhere; then `kashim --apply` is run from the
# host, outside the clients' network namespace, on one of them (idle 2,
# interval 1, count 3), and nft drops every packet on the broker's side.
# That connection must be gone within idle + interval * count + 1.5 s; the
# untouched one must still be "established" after 30 s (the control).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

IDLE=2 INTERVAL=1 COUNT=3
BOUND=$(awk -v b="$((IDLE + INTERVAL * COUNT))" 'BEGIN { print b + 1.5 }')
CONTROL=30

e2e_init apply-dead-peer
e2e_need_root "network namespaces, nft, ptrace rights"
e2e_need_cmds ip nft ss mosquitto mosquitto_sub mosquitto_pub awk
[ -x "$E2E_KASHIM" ] || e2e_die "src/kashim is not built"
e2e_netns_up
e2e_broker broker "$E2E_PORT"

# Both subscribers, bare, and the local port of each one's connection.
e2e_spawn fixed ip netns exec "$E2E_NS_C" mosquitto_sub \
	-h "$E2E_ADDR_B" -p "$E2E_PORT" -k 600 -t kashim/e2e -i "fixed-$$"
pid_fixed=$E2E_LAST
e2e_spawn untouched ip netns exec "$E2E_NS_C" mosquitto_sub \
	-h "$E2E_ADDR_B" -p "$E2E_PORT" -k 600 -t kashim/e2e -i "untouched-$$"
pid_untouched=$E2E_LAST
port_fixed=$(e2e_wait_port "$E2E_NS_C" "$pid_fixed" "$E2E_PORT") ||
	e2e_die "first subscriber did not connect: $(cat "$E2E_TMP/fixed.err")"
port_untouched=$(e2e_wait_port "$E2E_NS_C" "$pid_untouched" "$E2E_PORT") ||
	e2e_die "second subscriber did not connect: $(cat "$E2E_TMP/untouched.err")"
e2e_publish_seen kashim/e2e "$E2E_TMP/fixed.out" "$E2E_TMP/untouched.out" ||
	e2e_die "a message published over the link did not reach both subscribers"
t=$(e2e_keepalive_timer "$E2E_NS_C" "$port_fixed")
[ -z "$t" ] || e2e_die "the first subscriber has keep-alive before --apply ($t s)"

# kashim --apply from the host: the client's PID as the host sees it.
env KASHIM_CONFIG= "$E2E_KASHIM" --apply --idle "$IDLE" --interval "$INTERVAL" \
	--count "$COUNT" "$pid_fixed" >"$E2E_TMP/apply.out" 2>"$E2E_TMP/apply.err"
rc=$?
e2e_say "kashim --apply (exit $rc): $(grep -v '^PID' "$E2E_TMP/apply.out" | head -n 1)"
[ "$rc" = 0 ] || e2e_fail "kashim --apply exited $rc: $(cat "$E2E_TMP/apply.err")"
grep -q ":$port_fixed	.*	set	keepalive off -> on, idle 7200 -> $IDLE," "$E2E_TMP/apply.out" ||
	e2e_fail "kashim --apply did not say it set the connection: $(cat "$E2E_TMP/apply.out")"
e2e_say "applied:   $(e2e_ss_brief "$E2E_NS_C" "$port_fixed")"
e2e_say "untouched: $(e2e_ss_brief "$E2E_NS_C" "$port_untouched")"
t=$(e2e_keepalive_timer "$E2E_NS_C" "$port_fixed")
[ -n "$t" ] && e2e_le "$t" "$IDLE" ||
	e2e_fail "after --apply, no keep-alive timer <= $IDLE s ('$t')"
t=$(e2e_keepalive_timer "$E2E_NS_C" "$port_untouched")
[ -z "$t" ] || e2e_fail "the untouched subscriber has a keep-alive timer ($t s)"

# A probe or two through the live link first.
sleep $((IDLE + 1))
e2e_established "$E2E_NS_C" "$port_fixed" ||
	e2e_die "the applied connection died while the link was up"

e2e_link_dead
t0=$(e2e_now)
e2e_say "link dead (nft drops everything on the broker's side)"
e2e_gone_within "$port_fixed" applied "$port_untouched" untouched \
	"$t0" "$BOUND" "$CONTROL"
[ "$E2E_FAILED" = 0 ] && e2e_say "PASS"
