#!/bin/bash
# dead_link.sh - the mission under kashim-bpf: a statically linked client
# (out of LD_PRELOAD's reach) whose server silently vanished. Two clients
# in the client namespace of tests/e2e/lib.sh, one in a cgroup with
# kashim-bpf attached (idle 2, interval 1, count 3), one outside it; then
# nft drops every packet on the server's side. The covered connection
# must be gone within idle + interval * count + 1.5 s; the other one must
# still be established after 20 s (the control: this test can fail).
#
# With --after-connect, both clients connect first and kashim-bpf attaches
# only then: the connection already open must be covered all the same
# (the iter/tcp pass), the control left alone.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

IDLE=2 INTERVAL=1 COUNT=3
BOUND=$(awk -v i=$IDLE -v n=$INTERVAL -v c=$COUNT 'BEGIN { print i + n * c + 1.5 }')
CONTROL=20
KB=$E2E_ROOT/src/kashim-bpf
PEER=$E2E_ROOT/tests/build/bpf/peer-static
PROBE=$E2E_ROOT/tests/build/bpf/probe
CG=

AFTER=
[ "${1:-}" = --after-connect ] && AFTER=1
e2e_init bpf-dead-link${AFTER:+-after-connect}
e2e_need_root "network namespaces, nft, BPF"
e2e_need_cmds ip nft ss awk findmnt
[ -x "$KB" ] && [ -x "$PEER" ] && [ -x "$PROBE" ] || e2e_die "build first: make check-bpf"
MNT=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
[ -n "$MNT" ] || { echo "SKIP: $E2E_NAME: cgroup v2 is not mounted"; exit 0; }

# The cgroup goes after every process in it (the lib's trap ends them).
bpf_cleanup() {
	local rc=$?
	"$KB" detach --cgroup "$CG" >/dev/null 2>&1
	for pid in "${E2E_PIDS[@]}"; do e2e_stop_pid "$pid"; done
	rmdir "$CG" 2>/dev/null
	(exit "$rc")
	e2e_cleanup
}
CG=$MNT/kashim-bpf-e2e-$$
mkdir "$CG" || e2e_die "cannot make $CG"
trap bpf_cleanup EXIT
# As in run.sh: whether the host runs BPF at all is asked without
# kashim-bpf (a raw bpf() call attaching a trivial program to this
# cgroup); once it does, a kashim-bpf that fails is a failure.
probe=$("$PROBE" "$CG" 2>&1) ||
	{ echo "SKIP: $E2E_NAME: this host does not load and attach BPF programs: $probe"; exit 0; }

# Attach kashim-bpf to the cgroup with the test's timings.
attach() {
	env -i PATH="$PATH" KASHIM_CONFIG= KASHIM_IDLE=$IDLE KASHIM_INTERVAL=$INTERVAL \
		KASHIM_COUNT=$COUNT "$KB" attach --cgroup "$CG" >"$E2E_TMP/attach" 2>&1 ||
		e2e_die "kashim-bpf attach: $(cat "$E2E_TMP/attach")"
}
[ -n "$AFTER" ] || attach
e2e_netns_up

# The server: a plain listener in the server's namespace, outside the cgroup.
e2e_spawn server ip netns exec "$E2E_NS_B" "$PEER" accept 0.0.0.0 "$E2E_PORT"
e2e_wait 5 e2e_listening "$E2E_NS_B" "$E2E_PORT" || e2e_die "no server"
e2e_spawn with sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG" \
	ip netns exec "$E2E_NS_C" "$PEER" connect "$E2E_ADDR_B" "$E2E_PORT"
pid_with=$E2E_LAST
port_with=$(e2e_wait_port "$E2E_NS_C" "$pid_with" "$E2E_PORT") ||
	e2e_die "the covered client did not connect: $(cat "$E2E_TMP/with.err")"
# One connection at a time: the server accepts one, then a second one.
e2e_spawn server2 ip netns exec "$E2E_NS_B" "$PEER" accept 0.0.0.0 $((E2E_PORT + 1))
e2e_wait 5 e2e_listening "$E2E_NS_B" $((E2E_PORT + 1)) || e2e_die "no second server"
e2e_spawn without ip netns exec "$E2E_NS_C" "$PEER" connect "$E2E_ADDR_B" $((E2E_PORT + 1))
pid_without=$E2E_LAST
port_without=$(e2e_wait_port "$E2E_NS_C" "$pid_without" $((E2E_PORT + 1))) ||
	e2e_die "the control client did not connect: $(cat "$E2E_TMP/without.err")"

if [ -n "$AFTER" ]; then
	t=$(e2e_keepalive_timer "$E2E_NS_C" "$port_with")
	[ -z "$t" ] || e2e_die "the covered client has a keep-alive timer before attach ($t s)"
	attach
	grep -q "^kashim-bpf: connections already open: 1 set" "$E2E_TMP/attach" ||
		e2e_fail "attach did not set the one connection already open: $(cat "$E2E_TMP/attach")"
	e2e_say "attached after both connected: $(grep "already open" "$E2E_TMP/attach")"
fi
e2e_say "static client in the cgroup:   $(e2e_ss_brief "$E2E_NS_C" "$port_with")"
e2e_say "static client outside it:      $(e2e_ss_brief "$E2E_NS_C" "$port_without")"
t=$(e2e_keepalive_timer "$E2E_NS_C" "$port_with")
[ -n "$t" ] && e2e_le "$t" "$IDLE" ||
	e2e_fail "the covered client has no keep-alive timer <= $IDLE s ('$t')"
t=$(e2e_keepalive_timer "$E2E_NS_C" "$port_without")
[ -z "$t" ] || e2e_fail "the control client has a keep-alive timer ($t s)"

# Let a probe or two go through the live link first.
sleep $((IDLE + 1))
e2e_established "$E2E_NS_C" "$port_with" ||
	e2e_die "the covered connection died while the link was up"

e2e_link_dead
t0=$(e2e_now)
e2e_say "link dead (nft drops everything on the server's side)"
e2e_gone_within "$port_with" "under kashim-bpf" "$port_without" \
	"outside the cgroup" "$t0" "$BOUND" "$CONTROL" ""
[ "$E2E_FAILED" = 0 ] && e2e_say "PASS"
