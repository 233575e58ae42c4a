#!/bin/bash
# test_system_wide.sh - kashim for every program on a host: the library in
# /etc/ld.so.preload and a system config file, inside a private mount and
# network namespace (unshare -m -n). The machine's own /etc and sysconfdir
# are never written: the namespace sees them through an overlay whose
# upper layer is a tmpfs that only it has mounted.
#   - a plain mosquitto_sub (no LD_PRELOAD, empty environment) gets the
#     config file's keep-alive;
#   - the same program under a name a rule excludes (enable = false) does not;
#   - ls, python3 talking HTTP to a loopback server, a UDP echo and failing
#     commands print exactly what they print without kashim.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

IDLE=41 INTERVAL=5 COUNT=3
EXCLUDED=kashim-e2e-excluded
SYSCONFDIR=${E2E_SYSCONFDIR:-/usr/local/etc}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# What a file holds on the host, or "absent".
host_state()
{
	if [ -e "$1" ]; then
		sha256sum <"$1" | awk '{ print $1 }'
	else
		echo absent
	fi
}

# Programs that must not notice kashim; output in $1.out and $1.err.
# $2 is a free TCP port for the HTTP server.
ordinary()
{
	local out=$1 port=$2 data=$E2E_TMP/data

	{
		ls -a "$data/lsdir"
		ls "$data/no-such-file"
		echo "ls missing: exit $?"
		false
		echo "false: exit $?"
		sh -c 'echo "to stderr" >&2; exit 42'
		echo "sh: exit $?"
		"$PY" -m http.server "$port" --bind 127.0.0.1 \
			--directory "$data/www" >"$out.server" 2>&1 &
		pid=$!
		echo "$pid" >>"$E2E_PIDFILE"
		E2E_PIDS+=("$pid")
		e2e_wait 10 e2e_listening_here "$port" || echo "http server did not start"
		"$PY" - "$port" <<'EOF'
import sys, urllib.request
with urllib.request.urlopen("http://127.0.0.1:%s/page.txt" % sys.argv[1], timeout=5) as r:
    print("http:", r.status, r.read().decode().strip())
try:
    urllib.request.urlopen("http://127.0.0.1:%s/missing" % sys.argv[1], timeout=5)
except urllib.error.HTTPError as e:
    print("http missing:", e.code)
EOF
		e2e_stop_pid "$pid"
		"$PY" - <<'EOF'
import socket
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind(("127.0.0.1", 0))
srv.settimeout(5)
cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
cli.settimeout(5)
cli.sendto(b"ping", srv.getsockname())
data, peer = srv.recvfrom(64)
srv.sendto(data.upper(), peer)
print("udp:", cli.recv(64).decode(),
      "keepalive", cli.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE))
EOF
		echo "python3: exit $?"
	} >"$out.out" 2>"$out.err"
}

# Is a TCP port listening in the current namespace?
e2e_listening_here()
{
	ss -tlnH "sport = :$1" | grep -q .
}

# Make directory $1 writable in this mount namespace only: an overlay with
# a tmpfs upper layer (or, where overlayfs is missing, a tmpfs copy).
private_dir()
{
	local dir=$1 n=${#E2E_MOUNTS[@]} top=$E2E_TMP/layers

	if ! mountpoint -q "$top"; then
		mkdir -p "$top" && mount -t tmpfs -o mode=755 kashim-e2e "$top" ||
			e2e_die "cannot mount a tmpfs"
		E2E_MOUNTS+=("$top")
	fi
	mkdir -p "$top/$n/up" "$top/$n/work" "$top/$n/copy"
	if mount -t overlay kashim-e2e -o "lowerdir=$dir,upperdir=$top/$n/up,workdir=$top/$n/work" "$dir"; then
		E2E_MOUNTS+=("$dir")
	else
		cp -a "$dir/." "$top/$n/copy/" && mount --bind "$top/$n/copy" "$dir" ||
			e2e_die "cannot make $dir private"
		E2E_MOUNTS+=("$dir")
	fi
	# Write nothing unless the mount really is ours alone.
	mountpoint -q "$dir" || e2e_die "$dir is not a mount point"
	[ "$(readlink /proc/self/ns/mnt)" != "$(readlink "/proc/$OUTER/ns/mnt")" ] ||
		e2e_die "not in a private mount namespace"
}

# The part that runs in the private namespaces: $1 = outer test's PID,
# $2 = its temporary directory, $3 and $4 = host state of the preload
# file and of the system config.
inside()
{
	OUTER=$1 OUTER_TMP=$2
	local preload_state=$3 conf_state=$4 conf=$SYSCONFDIR/kashim.conf
	local pid_sub pid_ex port_sub port_ex t d

	e2e_init system-wide
	E2E_PIDFILE=$OUTER_TMP/pids
	readlink /proc/self/ns/mnt >"$OUTER_TMP/mntns"
	ip link set lo up || e2e_die "cannot bring lo up"
	mkdir -p "$E2E_TMP/data/lsdir" "$E2E_TMP/data/www"
	touch "$E2E_TMP/data/lsdir/a" "$E2E_TMP/data/lsdir/b c"
	echo "hello from the loopback server" >"$E2E_TMP/data/www/page.txt"
	ordinary "$E2E_TMP/plain" 18081

	# /etc/ld.so.preload and the system config, in this namespace only.
	private_dir /etc
	d=$SYSCONFDIR
	while [ ! -d "$d" ]; do d=$(dirname "$d"); done
	case "$d/" in
	/etc/*) ;;
	*) private_dir "$d" ;;
	esac
	mkdir -p "$SYSCONFDIR" || e2e_die "cannot make $SYSCONFDIR"
	cat >"$conf" <<EOF
# kashim end-to-end test: system-wide
idle = $IDLE
interval = $INTERVAL
count = $COUNT
rule "excluded" {
	programs = {"$EXCLUDED"}
	enable = false
}
EOF
	chmod 644 "$conf"
	echo "$E2E_LIB" >/etc/ld.so.preload
	chmod 644 /etc/ld.so.preload
	[ "$(host_state "/proc/$OUTER/root/etc/ld.so.preload")" = "$preload_state" ] &&
		[ "$(host_state "/proc/$OUTER/root$conf")" = "$conf_state" ] ||
		e2e_die "the files leaked out of the namespace"
	grep -q "$E2E_LIB" <(cat /proc/self/maps) ||
		e2e_die "a new process here does not have $E2E_LIB mapped"
	e2e_say "/etc/ld.so.preload -> $(cat /etc/ld.so.preload) (this namespace only)"

	# Ordinary programs: the same output, byte for byte.
	ordinary "$E2E_TMP/preload" 18081
	for f in out err; do
		cmp -s "$E2E_TMP/plain.$f" "$E2E_TMP/preload.$f" ||
			e2e_fail "ordinary programs' std$f differs under kashim:
$(diff "$E2E_TMP/plain.$f" "$E2E_TMP/preload.$f")"
	done
	grep -q 'kashim\[' "$E2E_TMP/preload.server" &&
		e2e_fail "kashim wrote into the HTTP server's output: $(grep 'kashim\[' "$E2E_TMP/preload.server")"
	e2e_say "ordinary programs, same output with and without kashim: $(tr '\n' ';' <"$E2E_TMP/preload.out")"

	# A plain broker and two plain subscribers, no LD_PRELOAD anywhere.
	ln -s "$(command -v mosquitto_sub)" "$E2E_TMP/$EXCLUDED"
	e2e_broker_conf "$E2E_TMP/broker.conf" "$E2E_PORT"
	e2e_spawn broker env -i PATH="$PATH" mosquitto -c "$E2E_TMP/broker.conf"
	e2e_wait 5 e2e_listening_here "$E2E_PORT" ||
		e2e_die "broker does not listen: $(cat "$E2E_TMP/broker.err")"
	e2e_spawn sub env -i PATH="$PATH" mosquitto_sub -h 127.0.0.1 \
		-p "$E2E_PORT" -k 600 -t kashim/e2e -i "sub-$$"
	pid_sub=$E2E_LAST
	e2e_spawn excluded env -i PATH="$PATH" "$E2E_TMP/$EXCLUDED" -h 127.0.0.1 \
		-p "$E2E_PORT" -k 600 -t kashim/e2e -i "excluded-$$"
	pid_ex=$E2E_LAST
	port_sub=$(e2e_wait_port "" "$pid_sub" "$E2E_PORT") ||
		e2e_die "mosquitto_sub did not connect: $(cat "$E2E_TMP/sub.err")"
	port_ex=$(e2e_wait_port "" "$pid_ex" "$E2E_PORT") ||
		e2e_die "$EXCLUDED did not connect: $(cat "$E2E_TMP/excluded.err")"
	e2e_say "plain mosquitto_sub: $(e2e_ss_brief "" "$port_sub")"
	e2e_say "$EXCLUDED (rule enable = false): $(e2e_ss_brief "" "$port_ex")"

	t=$(e2e_keepalive_timer "" "$port_sub")
	if [ -z "$t" ] || ! e2e_le "$((IDLE - 10))" "$t" || ! e2e_le "$t" "$IDLE"; then
		e2e_fail "plain mosquitto_sub: keep-alive timer '$t', expected $((IDLE - 10))-$IDLE s"
	fi
	t=$(e2e_keepalive_timer "" "$port_ex")
	[ -z "$t" ] || e2e_fail "$EXCLUDED has a keep-alive timer ($t s) despite its rule"
	e2e_say "broker's accepted: $(ss -tnoH state established "( sport = :$E2E_PORT )" | awk '{ print $3, $4, $5 }' | tr '\n' ';')"
	for f in sub excluded broker; do
		grep 'kashim\[' "$E2E_TMP/$f.err" &&
			e2e_fail "kashim wrote into $f's stderr"
	done
	# What the kernel holds, seen by the command, when it is built.
	if [ -x "$E2E_KASHIM" ]; then
		"$E2E_KASHIM" --status "$pid_sub" 2>&1 | sed "s/^/$E2E_NAME: status: /"
		"$E2E_KASHIM" --status "$pid_sub" 2>&1 | awk -v p=":$E2E_PORT" \
			-v i="$IDLE" -v n="$INTERVAL" -v c="$COUNT" '
			index($5, p) && $7 == "on" && $8 == i && $9 == n && $10 == c { ok = 1 }
			END { exit !ok }' ||
			e2e_fail "kashim --status does not show on/$IDLE/$INTERVAL/$COUNT for mosquitto_sub"
	fi
	[ "$E2E_FAILED" = 0 ] && e2e_say "inside the private namespaces: all checks passed"
}

if [ "$1" = --inside ]; then
	shift
	inside "$@"
	exit
fi

e2e_init system-wide
e2e_need_root "a private mount and network namespace"
e2e_need_cmds unshare mount umount mountpoint ip ss mosquitto mosquitto_sub \
	sha256sum awk "$PY"
preload_state=$(host_state /etc/ld.so.preload)
conf_state=$(host_state "$SYSCONFDIR/kashim.conf")
: >"$E2E_TMP/pids"
timeout -k 5 90 unshare -m -n --propagation private -- \
	bash "$0" --inside "$$" "$E2E_TMP" "$preload_state" "$conf_state"
rc=$?
[ "$rc" = 0 ] || e2e_fail "the run in the private namespaces failed (exit $rc)"

# Anything of the private namespace still alive is a leak: end it.
mntns=$(cat "$E2E_TMP/mntns" 2>/dev/null)
while read -r pid; do
	[ -n "$mntns" ] && [ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$mntns" ] || continue
	e2e_fail "process $pid outlived the private namespace"
	kill -KILL "$pid" 2>/dev/null
done <"$E2E_TMP/pids"
[ "$(host_state /etc/ld.so.preload)" = "$preload_state" ] ||
	e2e_fail "the host's /etc/ld.so.preload changed"
[ "$(host_state "$SYSCONFDIR/kashim.conf")" = "$conf_state" ] ||
	e2e_fail "the host's $SYSCONFDIR/kashim.conf changed"
grep -q "$E2E_ID" /proc/self/mountinfo &&
	e2e_fail "a test mount is visible outside the namespace"
e2e_say "host /etc/ld.so.preload: $preload_state before and after"
[ "$E2E_FAILED" = 0 ] && e2e_say "PASS"
