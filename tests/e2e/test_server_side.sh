#!/bin/bash
# test_server_side.sh - the broker itself under kashim: the connections it
# accepts get keep-alive, read from outside with `ss -tnoi` in the broker's
# namespace (and with `kashim --status` when the command is built). A
# second broker without kashim is the control; the clients are plain.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

IDLE=77 INTERVAL=7 COUNT=5
PLAIN_PORT=1884

e2e_init server-side
e2e_need_root "network namespaces"
e2e_need_cmds ip ss mosquitto mosquitto_sub awk
e2e_netns_up
e2e_kashim_prefix "$IDLE" "$INTERVAL" "$COUNT" 0
e2e_broker kashim-broker "$E2E_PORT" "${E2E_PREFIX[@]}"
pid_broker=$E2E_LAST
e2e_broker plain-broker "$PLAIN_PORT"

# A plain subscriber to each broker.
for port in "$E2E_PORT" "$PLAIN_PORT"; do
	e2e_spawn "sub-$port" ip netns exec "$E2E_NS_C" mosquitto_sub \
		-h "$E2E_ADDR_B" -p "$port" -k 600 -t kashim/e2e -i "sub-$port-$$"
	e2e_wait_port "$E2E_NS_C" "$E2E_LAST" "$port" >/dev/null ||
		e2e_die "subscriber to port $port did not connect: $(cat "$E2E_TMP/sub-$port.err")"
done
e2e_say "kashim via $(e2e_kashim_how)"

t=$(e2e_keepalive_timer "$E2E_NS_B" "$E2E_PORT")
if [ -z "$t" ] || ! e2e_le "$((IDLE - 10))" "$t" || ! e2e_le "$t" "$IDLE"; then
	e2e_fail "accepted connection of the kashim broker: keep-alive timer '$t', expected $((IDLE - 10))-$IDLE s"
fi
t=$(e2e_keepalive_timer "$E2E_NS_B" "$PLAIN_PORT")
[ -z "$t" ] || e2e_fail "broker without kashim has a keep-alive timer ($t s)"
e2e_say "broker under kashim, accepted: $(e2e_ss_brief "$E2E_NS_B" "$E2E_PORT")"
e2e_say "broker without kashim, accepted: $(e2e_ss_brief "$E2E_NS_B" "$PLAIN_PORT")"
grep -q "kashim\[$pid_broker\]:.*TCP_KEEPIDLE=$IDLE TCP_KEEPINTVL=$INTERVAL TCP_KEEPCNT=$COUNT" \
	"$E2E_TMP/kashim-broker.err" ||
	e2e_fail "the broker's kashim did not log the accepted socket: $(cat "$E2E_TMP/kashim-broker.err")"

# What the kernel holds, seen by the command, on the accepted socket.
if [ -x "$E2E_KASHIM" ]; then
	status=$("$E2E_KASHIM" --status "$pid_broker" 2>&1)
	echo "$status" | sed "s/^/$E2E_NAME: status: /"
	echo "$status" | awk -v p=":$E2E_PORT" -v i="$IDLE" -v n="$INTERVAL" -v c="$COUNT" '
		index($4, p) && $5 !~ /:0$/ && $7 == "on" && $8 == i && $9 == n && $10 == c { ok = 1 }
		END { exit !ok }' ||
		e2e_fail "kashim --status does not show on/$IDLE/$INTERVAL/$COUNT on the accepted socket"
fi
[ "$E2E_FAILED" = 0 ] && e2e_say "PASS"
