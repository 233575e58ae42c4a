#!/bin/bash
# test_listener_fleet.sh - a fleet reconnects to a broker under kashim:
# mosquitto with a rule for its port, 1,000 MQTT subscribers connecting
# over loopback (in batches, so connections wait in the listen queue), and
# every accepted connection read from outside with `kashim --status` of
# the broker: each holds the rule's values, and so does the listening
# socket, which is where they came from (no system call per accept).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

N=1000 BATCH=50
IDLE=41 INTERVAL=6 COUNT=3

e2e_init listener-fleet
e2e_need_root "network namespaces"
e2e_need_cmds ip mosquitto python3 prlimit awk
[ -x "$E2E_KASHIM" ] || e2e_die "src/kashim is not built (make build)"
e2e_netns_up

cat >"$E2E_TMP/kashim.conf" <<EOF
rule "broker" {
  ports = {$E2E_PORT}
  direction = incoming
  idle = $IDLE
  interval = $INTERVAL
  count = $COUNT
}
EOF
chmod 0644 "$E2E_TMP/kashim.conf"
# mosquitto started as root reads it as user mosquitto: let it through.
chmod 0711 "$E2E_TMP"
e2e_broker fleet-broker "$E2E_PORT" prlimit --nofile=4096:4096 \
	env KASHIM_LOG=debug "$E2E_KASHIM" --config "$E2E_TMP/kashim.conf" --
pid_broker=$E2E_LAST

# The fleet: one process, N MQTT 3.1.1 subscribers (CONNECT with a
# keep-alive of 600 s, SUBSCRIBE), connected BATCH at a time before any
# CONNACK is read; then it holds them until $E2E_TMP/done or 120 s.
cat >"$E2E_TMP/fleet.py" <<'EOF'
import os, resource, socket, struct, sys, time
n, batch, port, done = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))

def utf8(s):
    b = s.encode()
    return struct.pack("!H", len(b)) + b

def packet(kind, body):
    return bytes([kind, len(body)]) + body

def read(s, want):
    got = b""
    while len(got) < want:
        part = s.recv(want - len(got))
        if not part:
            sys.exit("fleet: the broker closed a connection")
        got += part
    return got

subs = []
for start in range(0, n, batch):
    group = []
    for i in range(start, min(n, start + batch)):
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        s.sendall(packet(0x10, utf8("MQTT") + bytes([4, 2]) + struct.pack("!H", 600)
                         + utf8("fleet-%d-%d" % (os.getpid(), i))))
        group.append(s)
    for s in group:
        if read(s, 4)[:2] != b"\x20\x02":
            sys.exit("fleet: no CONNACK")
        s.sendall(packet(0x82, struct.pack("!H", 1) + utf8("kashim/fleet") + b"\x00"))
        if read(s, 5)[0] != 0x90:
            sys.exit("fleet: no SUBACK")
    subs += group
print("fleet: %d subscribers connected" % len(subs), flush=True)
end = time.time() + 120
while not os.path.exists(done) and time.time() < end:
    time.sleep(0.2)
EOF
e2e_spawn fleet ip netns exec "$E2E_NS_B" python3 "$E2E_TMP/fleet.py" \
	"$N" "$BATCH" "$E2E_PORT" "$E2E_TMP/done"
fleet_ready() { grep -q "subscribers connected" "$E2E_TMP/fleet.out"; }
pid_fleet=$E2E_LAST
fleet_gone() { ! kill -0 "$pid_fleet" 2>/dev/null; }
e2e_wait 90 eval 'fleet_ready || fleet_gone'
fleet_ready || e2e_die "the fleet did not connect: $(cat "$E2E_TMP/fleet.err")"
e2e_say "$(cat "$E2E_TMP/fleet.out") to the broker under kashim (pid $pid_broker)"

"$E2E_KASHIM" --status "$pid_broker" >"$E2E_TMP/status" 2>&1 ||
	e2e_die "kashim --status $pid_broker failed: $(cat "$E2E_TMP/status")"
touch "$E2E_TMP/done"
# One verdict per socket of the broker's port: LISTEN or accepted, right
# (the rule's values) or wrong.
# Columns (tab-separated): PID NAME FD LOCAL PEER STATE KEEPALIVE IDLE
# INTERVAL COUNT ...
awk -F '\t' -v p=":$E2E_PORT" -v want="on $IDLE $INTERVAL $COUNT" '
	$4 ~ p "$" {
		kind = $6 == "LISTEN" ? "listener" : "accepted"
		got = $7 " " $8 " " $9 " " $10
		if (got == want) right[kind]++; else { wrong[kind]++; if (!shown++) print "wrong: " $0 }
	}
	END {
		printf "accepted right %d wrong %d; listener right %d wrong %d\n",
			right["accepted"], wrong["accepted"], right["listener"], wrong["listener"]
	}' "$E2E_TMP/status" >"$E2E_TMP/verdict"
e2e_say "kashim --status: $(tail -1 "$E2E_TMP/verdict")"
grep -q "^accepted right $N wrong 0;" "$E2E_TMP/verdict" ||
	e2e_fail "not all $N accepted connections hold on/$IDLE/$INTERVAL/$COUNT: $(cat "$E2E_TMP/verdict")"
grep -q "listener right [1-9][0-9]* wrong 0$" "$E2E_TMP/verdict" ||
	e2e_fail "the broker's listening socket does not hold the rule's values: kashim did not use it"
grep -q "listening socket; accepted sockets take rule \"broker\"" "$E2E_TMP/fleet-broker.err" ||
	e2e_fail "the broker's kashim did not report the listener: $(head -5 "$E2E_TMP/fleet-broker.err")"
[ "$E2E_FAILED" = 0 ] && e2e_say "PASS"
