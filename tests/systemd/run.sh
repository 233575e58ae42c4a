#!/bin/bash
# run.sh ROOTFS - kashim-bpf enable --unit and kashim --enable-unit under
# a real systemd: a minbase Debian 12 booted with systemd-nspawn.
#
# The container's root is an overlay of the cached rootfs (never
# written) and a directory of the run, so that a second boot (the reboot
# test, with a new bpffs: no pins) finds what the first one enabled. It
# runs from a cgroup of this test's own in both the cgroup v2 mount and
# the v1 name=systemd hierarchy, with a bpffs of its own bound on
# /sys/fs/bpf. This tree's build is installed (make install DESTDIR=) in
# a staging directory bound over the container's /usr/local, with the
# test's config in /usr/local/etc/kashim.conf. Every value is read
# inside the container, by the container's `kashim --status --json`.
# The EXIT trap stops the container, removes its cgroups (payload/ and
# supervisor/ that nspawn leaves) and unmounts the bpffs.
set -u
ROOTFS=$(realpath "$1")
TOP=$(cd "$(dirname "$0")/../.." && pwd)
NAME=kashim-sd-$$
T=$TOP/tests/build/systemd/run.$$
PORT=$((20000 + $$ % 20000))
pass=0
fail=0
LEADER=
NSPAWN=

ok() { pass=$((pass + 1)); }
bad() {
	fail=$((fail + 1))
	echo "  FAIL: $*"
}
skip() {
	echo "SKIP: check-systemd: $*"
	exit 0
}

# The cgroup v2 mount, and the v1 name=systemd one when it is there.
CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
CG1=$(awk '$3 == "cgroup" && $4 ~ /name=systemd/ { print $2; exit }' /proc/mounts)

# Remove cgroup directory $1 and everything under it, deepest first.
rm_cgroup() {
	[ -d "$1" ] || return 0
	find "$1" -depth -type d -exec rmdir {} + 2>/dev/null
}

# Power the container off (10 s at most, then SIGKILL), remove its cgroups.
halt() {
	if [ -n "$NSPAWN" ] && kill -0 "$NSPAWN" 2>/dev/null; then
		[ -n "$LEADER" ] && kill -RTMIN+4 "$LEADER" 2>/dev/null # poweroff
		for _ in $(seq 100); do
			kill -0 "$NSPAWN" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$NSPAWN" 2>/dev/null
	fi
	[ -n "$NSPAWN" ] && wait "$NSPAWN" 2>/dev/null
	NSPAWN= LEADER=
	rm_cgroup "$CG2/$NAME"
	[ -n "$CG1" ] && rm_cgroup "$CG1/$NAME"
}

cleanup() {
	halt
	umount "$T/bpffs" "$T/root" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || skip "needs root (systemd-nspawn, cgroups, bpffs)"
[ -n "$CG2" ] || skip "cgroup v2 is not mounted on this host"
command -v systemd-nspawn >/dev/null || skip "systemd-nspawn is missing"

mkdir -p "$T/bpffs" "$T/stage"
mount -t bpf bpf "$T/bpffs" || skip "cannot mount a bpffs: the kernel refuses"
make -C "$TOP" --no-print-directory -s install DESTDIR="$T/stage" \
	PREFIX=/usr/local >"$T/install.log" 2>&1 || {
	cat "$T/install.log"
	echo "FAIL: make install DESTDIR=$T/stage"
	exit 1
}
S=$T/stage/usr/local
install -m 0755 "$TOP/tests/build/bpf/peer" "$S/bin/kt-peer"
install -m 0755 "$TOP/tests/build/bpf/peer-static" "$S/bin/kt-peer-static"
install -m 0755 "$TOP/tests/build/systemd/kt-listen" "$S/bin/kt-listen"
cat >"$S/etc/kashim.conf" <<EOF
idle = 33
interval = 7
count = 3
user_timeout = 4000
EOF
WANT="1 33 7 3 4000"

mkdir -p "$T/upper" "$T/work" "$T/root"
mount -t overlay overlay -o "lowerdir=$ROOTFS,upperdir=$T/upper,workdir=$T/work" \
	"$T/root" || skip "cannot mount an overlay of the rootfs"

in_ct() { nsenter -t "$LEADER" -a "$@"; }

# Boot, from a cgroup of our own in both hierarchies; wait until systemd
# runs (SKIP when it does not come up on this host).
boot() {
	mkdir -p "$CG2/$NAME" || skip "cannot make a cgroup in $CG2"
	[ -n "$CG1" ] && mkdir -p "$CG1/$NAME"
	(
		echo $BASHPID >"$CG2/$NAME/cgroup.procs"
		[ -n "$CG1" ] && echo $BASHPID >"$CG1/$NAME/cgroup.procs"
		exec env SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn -q \
			-D "$T/root" -b -M "$NAME" --register=no \
			--keep-unit --private-network --console=passive \
			--bind="$T/bpffs:/sys/fs/bpf" --bind="$T/stage/usr/local:/usr/local" \
			--system-call-filter=bpf --capability=CAP_BPF,CAP_PERFMON
	) >"$T/nspawn.log" 2>&1 &
	NSPAWN=$!
	# The container's PID 1, once it runs systemd (before, it may still
	# be nspawn's child, in the host's root): in init.scope, NSpid 1.
	for _ in $(seq 100); do
		for p in $(cat "$CG2/$NAME"/payload/init.scope/cgroup.procs 2>/dev/null); do
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] &&
				grep -Eq '^NSpid:.*[[:space:]]1$' "/proc/$p/status" &&
				LEADER=$p && break 2
		done
		kill -0 "$NSPAWN" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$LEADER" ] || skip "systemd-nspawn did not boot: $(tail -3 "$T/nspawn.log")"
	# Until its bus answers, systemctl fails at once: asked again, 60 s.
	for _ in $(seq 120); do
		state=$(in_ct timeout 60 systemctl is-system-running --wait 2>/dev/null)
		case $state in running | degraded) break ;; esac
		sleep 0.5
	done
	case $state in
	running | degraded) echo "== systemd in the container is $state (leader $LEADER)" ;;
	*) skip "systemd in the container did not come up ($state): $(tail -5 "$T/nspawn.log")" ;;
	esac
}
boot
in_ct /usr/local/sbin/kashim-bpf status >/dev/null 2>&1 ||
	skip "kashim-bpf refuses in the container: $(in_ct /usr/local/sbin/kashim-bpf status 2>&1 | tail -1)"

# The clients' peer, a unit of its own that no test enables, started at
# boot too.
in_ct sh -c "cat >/etc/systemd/system/kt-listen.service" <<EOF
[Service]
ExecStart=/usr/local/bin/kt-listen $PORT
[Install]
WantedBy=multi-user.target
EOF
in_ct systemctl enable -q --now kt-listen.service
sleep 0.3

# unit NAME PROGRAM [EXTRA LINE]: a client service, one connection.
unit() {
	in_ct sh -c "cat >/etc/systemd/system/$1" <<EOF
[Service]
ExecStart=/usr/local/bin/$2 connect 127.0.0.1 $PORT
${3:-}
EOF
	in_ct systemctl daemon-reload
}

# values UNIT: "KEEPALIVE IDLE INTERVAL COUNT USER_TIMEOUT" of the unit's
# connection, read by kashim --status inside the container.
values() {
	local pid
	for _ in $(seq 50); do
		pid=$(in_ct systemctl show -p MainPID --value "$1")
		[ "${pid:-0}" != 0 ] &&
			in_ct sh -c "ls -l /proc/$pid/fd | grep -q socket:" && break
		sleep 0.1
	done
	in_ct /usr/local/bin/kashim --status "$pid" --json 2>/dev/null |
		python3 "$TOP/tests/lib/sock_values.py" "$PORT"
}

# expect WHAT UNIT WANT: read the unit's connection, compare.
expect() {
	local got
	got=$(values "$2")
	if [ "$got" = "$3" ]; then
		ok
		echo "  ok: $1: $got"
	else
		bad "$1: got '$got', want '$3'"
	fi
}

# expect_off WHAT UNIT: the unit's connection has keep-alive off (the
# kernel's defaults otherwise): kashim is not on it.
expect_off() {
	local got
	got=$(values "$2")
	case $got in
	"0 "*) ok; echo "  ok: $1: $got" ;;
	*) bad "$1: '$got'" ;;
	esac
}

# cycle UNIT WANT: started, restarted twice, stopped and started.
cycle() {
	in_ct systemctl start "$1"
	expect "$1 started" "$1" "$2"
	in_ct systemctl restart "$1"
	expect "$1 after restart 1" "$1" "$2"
	in_ct systemctl restart "$1"
	expect "$1 after restart 2" "$1" "$2"
	in_ct systemctl stop "$1"
	in_ct systemctl start "$1"
	expect "$1 after stop/start" "$1" "$2"
}

echo "== kt-bpf.service, a static client (config: $WANT)"
unit kt-bpf.service kt-peer-static
in_ct systemctl start kt-bpf.service
expect_off "not enabled yet" kt-bpf.service
in_ct systemctl stop kt-bpf.service
echo "== kashim-bpf attach --unit covers the cgroup of now: a restart loses it"
in_ct systemctl start kt-bpf.service
in_ct /usr/local/sbin/kashim-bpf attach --unit kt-bpf.service >/dev/null
in_ct systemctl restart kt-bpf.service
expect_off "attach --unit, after restart (why enable exists)" kt-bpf.service
in_ct /usr/local/sbin/kashim-bpf detach --unit kt-bpf.service >/dev/null ||
	bad "detach --unit after the restart"
in_ct systemctl stop kt-bpf.service

echo "== kashim-bpf enable --unit kt-bpf.service"
in_ct /usr/local/sbin/kashim-bpf enable --unit kt-bpf.service
cycle kt-bpf.service "$WANT"
in_ct /usr/local/sbin/kashim-bpf status >"$T/status" 2>&1
if grep -qx "  kt-bpf.service" "$T/status"; then ok; echo "  ok: status lists kt-bpf.service"
else bad "status: $(cat "$T/status")"; fi

echo "== as after a reboot: no pins; kashim-bpf-load.service pins them first"
in_ct systemctl stop kt-bpf.service kashim-bpf-load.service
in_ct rm -rf /sys/fs/bpf/kashim/units
in_ct systemctl start kt-bpf.service
expect "kt-bpf.service, pins made again at start" kt-bpf.service "$WANT"
in_ct systemctl stop kt-bpf.service

echo "== kashim-bpf disable --unit, restart: untouched"
in_ct /usr/local/sbin/kashim-bpf disable --unit kt-bpf.service
in_ct systemctl restart kt-bpf.service
expect_off "after disable" kt-bpf.service
in_ct systemctl stop kt-bpf.service
left=$(in_ct sh -c 'ls -d /etc/systemd/system/kt-bpf.service.d \
	/etc/systemd/system/kashim-bpf-load.service /sys/fs/bpf/kashim/units 2>/dev/null')
if [ -z "$left" ]; then ok; echo "  ok: disable removed the drop-in, the load unit and the pins"
else bad "left after disable: $left"; fi

echo "== kashim-bpf enable --unit on a slice: a service in it, restarted"
in_ct sh -c "printf '[Slice]\n' >/etc/systemd/system/kt.slice"
unit kt-sliced.service kt-peer-static "Slice=kt.slice"
in_ct /usr/local/sbin/kashim-bpf enable --unit kt.slice
in_ct systemctl start kt-sliced.service
expect "kt-sliced.service in kt.slice" kt-sliced.service "$WANT"
in_ct systemctl restart kt-sliced.service
expect "kt-sliced.service after restart" kt-sliced.service "$WANT"
in_ct systemctl stop kt-sliced.service
in_ct /usr/local/sbin/kashim-bpf disable --unit kt.slice

echo "== kashim-bpf enable --unit system.slice: a service of its own, started after"
unit kt-plain.service kt-peer-static
in_ct /usr/local/sbin/kashim-bpf enable --unit system.slice
in_ct systemctl start kt-plain.service
expect "kt-plain.service in system.slice" kt-plain.service "$WANT"
in_ct systemctl restart kt-plain.service
expect "kt-plain.service after restart" kt-plain.service "$WANT"
in_ct systemctl stop kt-plain.service
in_ct /usr/local/sbin/kashim-bpf disable --unit system.slice
in_ct systemctl start kt-plain.service
expect_off "system.slice disabled, kt-plain.service started" kt-plain.service
in_ct systemctl stop kt-plain.service

echo "== kashim --enable-unit: the library, keeping the unit's own LD_PRELOAD"
OWN=$(in_ct sh -c 'ls /lib/x86_64-linux-gnu/libdl.so.2 /lib/*/libdl.so.2 2>/dev/null | head -n1')
unit kt-lib.service kt-peer "Environment=LD_PRELOAD=$OWN"
in_ct /usr/local/bin/kashim --enable-unit kt-lib.service
cycle kt-lib.service "$WANT"
pid=$(in_ct systemctl show -p MainPID --value kt-lib.service)
pre=$(in_ct sh -c "tr '\\0' '\\n' </proc/$pid/environ | sed -n 's/^LD_PRELOAD=//p'")
if [ "$pre" = "/usr/local/lib/libkashim.so:$OWN" ] &&
	in_ct grep -q libkashim.so "/proc/$pid/maps"; then
	ok; echo "  ok: LD_PRELOAD=$pre"
else bad "LD_PRELOAD of kt-lib.service: '$pre'"; fi
in_ct /usr/local/bin/kashim --disable-unit kt-lib.service
in_ct systemctl restart kt-lib.service
expect_off "after --disable-unit" kt-lib.service
in_ct systemctl stop kt-lib.service

echo "== kashim --enable-unit refuses a static program"
unit kt-static.service kt-peer-static
if in_ct /usr/local/bin/kashim --enable-unit kt-static.service 2>"$T/err"; then
	bad "a static program was enabled"
elif grep -q "kashim-bpf enable --unit kt-static.service" "$T/err" &&
	! in_ct test -e /etc/systemd/system/kt-static.service.d; then
	ok; echo "  ok: $(tail -1 "$T/err")"
else bad "refusal: $(cat "$T/err")"; fi

echo "== refusals change nothing"
before=$(in_ct ls /etc/systemd/system)
for args in "enable --unit ../x.service" "enable --unit kt.timer" "enable" \
	"enable --unit kt-bpf.service --cgroup /sys/fs/cgroup" \
	"disable --unit kt-never.service"; do
	if in_ct /usr/local/sbin/kashim-bpf $args 2>"$T/err"; then
		bad "kashim-bpf $args succeeded"
	else ok; echo "  ok: kashim-bpf $args: $(head -1 "$T/err")"; fi
done
for args in "--enable-unit kt-none.service" "--enable-unit kt.slice" \
	"--disable-unit kt-never.service"; do
	if in_ct /usr/local/bin/kashim $args 2>"$T/err"; then
		bad "kashim $args succeeded"
	else ok; echo "  ok: kashim $args: $(head -1 "$T/err")"; fi
done
# A settings option is a command-line error (exit 2): enable takes the
# system config's settings, as at boot.
in_ct /usr/local/sbin/kashim-bpf enable --unit kt-bpf.service --idle 30 2>"$T/err"
rc=$?
if [ $rc = 2 ] && grep -q "take --unit NAME only" "$T/err"; then
	ok; echo "  ok: enable with --idle: exit 2, $(head -1 "$T/err")"
else bad "enable with --idle: exit $rc, $(cat "$T/err")"; fi
# Pins in a mount namespace of enable's own would go with it: refused.
in_ct unshare -m --propagation private sh -c 'umount -l /sys/fs/bpf &&
	mount -t bpf bpf /sys/fs/bpf &&
	exec /usr/local/sbin/kashim-bpf enable --unit kt-bpf.service' 2>"$T/err"
rc=$?
if [ $rc = 1 ] && grep -q "this mount namespace's own" "$T/err"; then
	ok; echo "  ok: enable in a private mount namespace: exit 1, refused"
else bad "enable in a private mount namespace: exit $rc, $(cat "$T/err")"; fi
# enable and disable wait for the lock that attach and detach take.
in_ct sh -c 'mkdir -p /sys/fs/bpf/kashim
	flock /sys/fs/bpf/kashim sleep 1.5 & sleep 0.3
	s=$(date +%s%N)
	/usr/local/sbin/kashim-bpf disable --unit kt-never.service 2>/dev/null
	echo "$? $(( ($(date +%s%N) - s) / 1000000 ))"; wait' >"$T/lock"
read -r rc ms <"$T/lock"
if [ "$rc" = 1 ] && [ "$ms" -ge 900 ]; then
	ok; echo "  ok: disable waited ${ms} ms for the lock, then refused"
else bad "disable under a held lock: exit $rc after $ms ms (wanted 1, >= 900)"; fi
after=$(in_ct ls /etc/systemd/system)
[ "$before" = "$after" ] && { ok; echo "  ok: /etc/systemd/system unchanged"; } ||
	bad "/etc/systemd/system changed: $before / $after"

echo "== reboot: a service started at boot, the pins gone with the old bpffs"
in_ct sh -c "cat >/etc/systemd/system/kt-boot.service" <<EOF
[Unit]
Wants=kt-listen.service
After=kt-listen.service
[Service]
ExecStart=/usr/local/bin/kt-peer-static connect 127.0.0.1 $PORT
[Install]
WantedBy=multi-user.target
EOF
in_ct systemctl daemon-reload
in_ct systemctl enable -q kt-boot.service
in_ct /usr/local/sbin/kashim-bpf enable --unit kt-boot.service
halt
umount "$T/bpffs"
mount -t bpf bpf "$T/bpffs"
[ ! -e "$T/bpffs/kashim" ] && { ok; echo "  ok: a new bpffs, no pins"; } || bad "bpffs: $(ls "$T/bpffs")"
boot
expect "kt-boot.service, started at boot" kt-boot.service "$WANT"
load=$(in_ct systemctl is-active kashim-bpf-load.service)
[ "$load" = active ] && { ok; echo "  ok: kashim-bpf-load.service pinned them at boot: $load"; } ||
	bad "kashim-bpf-load.service: $load"

echo "check-systemd: $pass passed, $fail failed"
[ "$fail" = 0 ]
