# existing.sh - kashim-bpf attach over connections made before it, sourced
# by run.sh (its cgroup $CG, its helpers, its cleanup), with nothing
# attached to $CG when it starts.
#
# Clients and a server connect first (in the cgroup, in a cgroup below
# it, in a network namespace of their own, and outside it as the
# control); then attach; every socket is read back from outside with
# kashim --status. Then attach again with override, once more with
# --no-existing over a new connection, and once with the kernel's BTF
# hidden (a private mount namespace): attach must still work and say in
# one line that the connections already open are not covered.
# shellcheck shell=bash

echo "== connections already open when kashim-bpf attaches"
DEF="1 60 15 4 0" # the defaults: idle 60, interval 15, count 4
SUB=$CG/below
mkdir "$SUB" || bad "cannot make $SUB"
SYS_IC=$(cut -d' ' -f3-4 <<<"$UNTOUCHED")
EXIST=() # "NAME|PID|PORT" of each connection made before attach

# early NAME CGROUP ADDR [ARG…]: a server outside the cgroups on ADDR
# and a fresh port, then a static client in CGROUP ("" for none) with
# ARGs, connected now, before attach.
early() {
	local name=$1 cg=$2 addr=$3
	shift 3
	next_port
	start "$name-srv" 0 "$B/peer" accept "$addr" "$PORT"
	await "$name-srv" listening || { bad "$name: no server"; return; }
	if [ -n "$cg" ]; then
		start "$name" 0 sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg" \
			"$B/peer-static" connect "$addr" "$PORT" "$@"
	else
		start "$name" 0 "$B/peer-static" connect "$addr" "$PORT" "$@"
	fi
	await "$name" ready || { bad "$name: the client did not connect"; return; }
	EXIST+=("$name|$LAST|$PORT")
}

# status_of_cg: the lines `kashim-bpf status` prints for $CG alone.
status_of_cg() {
	"$KB" status 2>&1 | awk -v cg="$CG:" '/^[^ ]/ { on = index($0, cg) == 1 } on'
}

# check_early NAME WANT: the connection NAME made before attach holds WANT.
check_early() {
	local e
	for e in "${EXIST[@]}"; do
		IFS='|' read -r n pid port <<<"$e"
		[ "$n" = "$1" ] && { expect "$1" "$(values "$pid" "$port")" "$2"; return; }
	done
	bad "$1: no such connection"
}

early "static client" "$CG" 127.0.0.1
early "client in a cgroup below" "$SUB" 127.0.0.1
early "IPv6 client" "$CG" ::1
early "own SO_KEEPALIVE and idle" "$CG" 127.0.0.1 --set keepalive=1 --set idle=5
early "own user timeout" "$CG" 127.0.0.1 --set uto=1234
early "own idle only" "$CG" 127.0.0.1 --set idle=7
early "outside the cgroup" "" 127.0.0.1
REMOTE_PORT=$((PORT + 1))
early "rule by remote port" "$CG" 127.0.0.1
OUT_PORT=$((PORT + 1))
early "incoming rule's port, outgoing connection" "$CG" 127.0.0.1
# A server in the cgroup, its client outside: the accepted socket's local
# port is listened on, so the incoming rule is its rule.
next_port
IN_PORT=$PORT
start "server in the cgroup" 1 "$B/peer" accept 127.0.0.1 "$PORT"
await "server in the cgroup" listening || bad "no server in the cgroup"
EXIST+=("server in the cgroup (accepted)|$LAST|$PORT")
start "its client, outside" 0 "$B/peer" connect 127.0.0.1 "$PORT"
EXIST+=("its client, outside|$LAST|$PORT")
await "its client, outside" ready || bad "the server's client did not connect"
# Both ends in the cgroup, in a network namespace of their own.
next_port
start "own netns" 1 unshare -n sh -c 'ip link set lo up || exit 1
	"$0/peer" accept 127.0.0.1 "$1" >"$2" &
	echo $! >"$2.pid"
	for i in $(seq 100); do grep -q listening "$2" && break; sleep 0.05; done
	exec "$0/peer-static" connect 127.0.0.1 "$1"' "$B" "$PORT" "$T/netns-srv.out"
await "own netns" ready || bad "own netns: the client did not connect"
EXIST+=("client in its own network namespace|$LAST|$PORT")
NS_SRV=$(cat "$T/netns-srv.out.pid" 2>/dev/null)
[ -n "$NS_SRV" ] && PIDS+=("$NS_SRV")
EXIST+=("its server, in the cgroup (accepted)|$NS_SRV|$PORT")

# Still connecting: its own network namespace drops the SYN (nft).
next_port
SYN_PORT=$PORT
start "connecting" 1 unshare -n sh -c 'ip link set lo up &&
	nft "add table inet t; add chain inet t o { type filter hook output priority 0; };
		add rule inet t o tcp dport $1 drop" &&
	exec "$0/peer-static" connect 127.0.0.1 "$1"' "$B" "$PORT"
SYN_PID=$LAST
for i in $(seq 100); do
	[ -n "$(values "$SYN_PID" "$SYN_PORT" SYN_SENT)" ] && break
	sleep 0.05
done
[ -n "$(values "$SYN_PID" "$SYN_PORT" SYN_SENT)" ] ||
	bad "connecting: no SYN_SENT socket: $(cat "$T/connecting.err")"

cat >"$T/existing.conf" <<EOF
rule "incoming" {
  ports = {$IN_PORT, $OUT_PORT}
  direction = incoming
  idle = 22
}
rule "remote" {
  ports = {$REMOTE_PORT}
  idle = 23
}
EOF
attach "$T/existing.conf" || bad "attach: $(cat "$T/attach.err")"
want="kashim-bpf: connections already open: 11 set, 1 left to the program's own choice, 0 matching no rule, 0 matching enable = false (3 network namespace(s))"
if grep -qxF "$want" "$T/attach.out"; then ok; echo "  ok: attach says: ${want#kashim-bpf: }"
else bad "attach said '$(cat "$T/attach.out" "$T/attach.err")', want '$want'"; fi
check_early "static client" "$DEF"
check_early "client in a cgroup below" "$DEF"
check_early "IPv6 client" "$DEF"
check_early "own SO_KEEPALIVE and idle" "1 5 $SYS_IC 0"
check_early "own user timeout" "1 60 15 4 1234"
check_early "own idle only" "1 7 15 4 0"
check_early "outside the cgroup" "$UNTOUCHED"
check_early "rule by remote port" "1 23 15 4 0"
check_early "incoming rule's port, outgoing connection" "$DEF"
check_early "server in the cgroup (accepted)" "1 22 15 4 0"
check_early "its client, outside" "$UNTOUCHED"
check_early "client in its own network namespace" "$DEF"
check_early "its server, in the cgroup (accepted)" "$DEF"
expect "still connecting (SYN_SENT)" "$(values "$SYN_PID" "$SYN_PORT" SYN_SENT)" "$DEF"
status_of_cg >"$T/status.out"
want="  connections already open at attach: 11 set, 1 left to the program's own choice, 0 matching no rule, 0 matching enable = false (3 network namespace(s))"
if grep -qxF "$want" "$T/status.out"; then ok; echo "  ok: status says:${want#  connections}"
else bad "status: $(cat "$T/status.out")"; fi

echo "== attached again with override: the program's own choice replaced"
cat >"$T/override.conf" <<EOF
override = true
user_timeout = auto
EOF
attach "$T/override.conf" || bad "attach override: $(cat "$T/attach.err")"
check_early "own SO_KEEPALIVE and idle" "1 60 15 4 120000"
check_early "own user timeout" "1 60 15 4 120000"
check_early "static client" "1 60 15 4 120000"
check_early "outside the cgroup" "$UNTOUCHED"

echo "== --no-existing"
"$KB" detach --cgroup "$CG" >/dev/null 2>&1 || bad "detach"
early "client before attach --no-existing" "$CG" 127.0.0.1
# With a settings option beside it: both go through the same parser.
kb attach --no-existing --idle 7 --cgroup "$CG" ||
	bad "attach --no-existing --idle 7: $(cat "$T/attach.err")"
check_early "client before attach --no-existing" "$UNTOUCHED"
if ! grep -q "already open" "$T/attach.out" &&
	status_of_cg | grep -qF "connections already open at attach: not covered"; then
	ok; echo "  ok: --no-existing: no pass, and status says so"
else bad "--no-existing: $(cat "$T/attach.out"; status_of_cg)"; fi
client "client after attach --no-existing --idle 7" "1 7 15 4 0" 1 127.0.0.1 static
"$KB" detach --cgroup "$CG" >/dev/null 2>&1 || bad "detach"
kb detach --cgroup "$CG" --no-existing
refused $? "detach --no-existing" "^kashim-bpf: detach takes no --no-existing" 2
kb status --no-existing; refused $? "status --no-existing" "^kashim-bpf: status takes no options" 2

echo "== a kernel without BTF (hidden in a private mount namespace): attach still works"
early "client before attach without BTF" "$CG" 127.0.0.1
# kashim-bpf takes pins in a mount namespace of its own only when its
# /sys/fs/bpf propagates (run.sh tests that refusal). The copy here is
# the same BPF filesystem as outside, so the pins do outlive it (the
# client after attach and the detach below, both from outside, show it);
# marked shared, it says so where PID 1's root cannot be read.
env -i PATH="$PATH" KASHIM_CONFIG= unshare -m sh -c \
	'mount --make-shared /sys/fs/bpf && mount -t tmpfs none /sys/kernel/btf &&
	exec "$0" attach --cgroup "$1"' "$KB" "$CG" \
	>"$T/attach.out" 2>"$T/attach.err"
rc=$?
if [ "$rc" = 0 ] && [ "$(grep -c . "$T/attach.out")" = 2 ] &&
	grep -q "^kashim-bpf: this kernel .* cannot cover the connections already open" "$T/attach.out"; then
	ok; echo "  ok: exit 0, and one line: $(tail -n 1 "$T/attach.out")"
else bad "attach without BTF: exit $rc: $(cat "$T/attach.out" "$T/attach.err")"; fi
check_early "client before attach without BTF" "$UNTOUCHED"
client "client after attach without BTF" "$DEF" 1 127.0.0.1 static
"$KB" detach --cgroup "$CG" >/dev/null 2>&1 || bad "detach"

# The processes first (run.sh's cleanup ends the rest), then the cgroup below.
stop "$SYN_PID"
for e in "${EXIST[@]}"; do
	IFS='|' read -r n pid port <<<"$e"
	stop "$pid"
done
rmdir "$SUB" || bad "cannot remove $SUB"
