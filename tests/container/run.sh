#!/bin/bash
# run.sh VERSION - deploy/kubernetes/kashim-bpf.yaml checked with
# `kubectl apply --dry-run=client --validate=false` (against
# kube-api.py, a discovery-only stand-in for an API server on loopback),
# then the image kashim:VERSION run by podman (runc) exactly as that
# DaemonSet runs it: podman-args.py turns kubectl's output into podman's
# arguments (image, command, environment, capabilities, mounts, the
# ConfigMap's kashim.conf). Two things are the test's own: KASHIM_CGROUPS
# names a cgroup the test made, and a bpffs of its own stands for the
# host's /sys/fs/bpf, which is left alone.
#
# A static client in the cgroup reads back the config's values (with
# `kashim --status` from outside); the cgroup removed and made again is
# covered again; `podman stop` detaches (SIGTERM) and removes the pins.
# The EXIT trap removes the container, the cgroup and the bpffs mount.
set -u
VERSION=$1
TOP=$(cd "$(dirname "$0")/../.." && pwd)
NAME=kashim-img-$$
T=$TOP/tests/build/container.$$
PORT=$((20000 + $$ % 20000))
KASHIM=$TOP/src/kashim
PIDS=
pass=0
fail=0
ok() {
	pass=$((pass + 1))
	echo "  ok: $*"
}
bad() {
	fail=$((fail + 1))
	echo "  FAIL: $*"
}
skip() {
	echo "SKIP: check-image: $*"
	exit 0
}
CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
CG=$CG2/$NAME

cleanup() {
	[ -n "${API:-}" ] && kill "$API" 2>/dev/null && wait "$API" 2>/dev/null
	podman rm -f -t 0 "$NAME" >/dev/null 2>&1
	podman rm -f -t 0 "$NAME-lib" >/dev/null 2>&1
	PIDS="$PIDS $(cat "$T/clients" 2>/dev/null)"
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	for _ in $(seq 50); do rmdir "$CG" 2>/dev/null && break; sleep 0.1; done
	umount "$T/bpffs" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || skip "needs root (podman with BPF capabilities, cgroups, bpffs)"
[ -n "$CG2" ] || skip "cgroup v2 is not mounted on this host"
podman image exists "kashim:$VERSION" || skip "no image kashim:$VERSION (make image)"
mkdir -p "$T/bpffs"
mount -t bpf bpf "$T/bpffs" || skip "cannot mount a bpffs"
mkdir "$CG" || skip "cannot make a cgroup in $CG2"
# The ConfigMap says `preset = kubernetes`: 840/20/5, no user timeout.
WANT="1 840 20 5 0"

echo "== kubectl apply --dry-run=client --validate=false -f deploy/kubernetes/kashim-bpf.yaml"
command -v kubectl >/dev/null || skip "kubectl is missing (apt-get install kubernetes-client)"
python3 "$TOP/tests/container/kube-api.py" "$T/api.port" &
API=$!
for _ in $(seq 50); do [ -s "$T/api.port" ] && break; sleep 0.1; done
cat >"$T/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: stub, cluster: {server: "http://127.0.0.1:$(cat "$T/api.port")"}}]
contexts: [{name: stub, context: {cluster: stub, user: stub}}]
users: [{name: stub, user: {}}]
current-context: stub
EOF
if KUBECONFIG=$T/kubeconfig kubectl apply --dry-run=client --validate=false \
	-f "$TOP/deploy/kubernetes/kashim-bpf.yaml" -o json >"$T/manifest.json" 2>"$T/kubectl.err"; then
	ok "kubectl: $(python3 -c 'import json,sys; print(", ".join(i["kind"] for i in json.load(sys.stdin)["items"]))' <"$T/manifest.json") (dry run)"
else
	bad "kubectl apply --dry-run=client: $(cat "$T/kubectl.err")"
	exit 1
fi
mapfile -t ARGS < <(python3 "$TOP/tests/container/podman-args.py" "$T" "$T/bpffs" "$CG" <"$T/manifest.json")
case "${ARGS[-1]}" in
"kashim:$VERSION") ok "the manifest's image is kashim:$VERSION" ;;
*) bad "the manifest's image is ${ARGS[-1]}, make image builds kashim:$VERSION" ;;
esac

"$TOP/tests/build/systemd/kt-listen" "$PORT" &
PIDS="$PIDS $!"

# client: a static client in the cgroup; prints its PID.
client() {
	(
		echo $BASHPID >"$CG/cgroup.procs"
		exec "$TOP/tests/build/bpf/peer-static" connect 127.0.0.1 "$PORT"
	) >/dev/null 2>&1 &
	echo $! >>"$T/clients" # run in $(...): PIDS would not see it
	echo $!
}

# values PID: "KEEPALIVE IDLE INTERVAL COUNT USER_TIMEOUT" of its connection.
values() {
	for _ in $(seq 50); do
		ls -l "/proc/$1/fd" 2>/dev/null | grep -q socket: && break
		sleep 0.1
	done
	sleep 0.2
	"$KASHIM" --status "$1" --json 2>/dev/null |
		python3 "$TOP/tests/lib/sock_values.py" "$PORT"
}

# wait_log TEXT [N]: until the container's log holds TEXT more than N
# times (default 0), 20 s at most.
wait_log() {
	local end=$((SECONDS + 20))
	while [ $SECONDS -lt $end ]; do
		[ "$(podman logs "$NAME" 2>&1 | grep -cF "$1")" -gt "${2:-0}" ] &&
			return 0
		sleep 0.2
	done
	return 1
}

echo "== podman run ${ARGS[*]}"
podman --runtime runc run -d --name "$NAME" --ulimit nofile=20000:20000 \
	--ulimit nproc=4096:4096 \
	--network none "${ARGS[@]}" >"$T/run.out" 2>&1 ||
	skip "podman cannot run the image here: $(tail -2 "$T/run.out")"
if wait_log "attached to"; then ok "$(podman logs "$NAME" 2>&1 | grep "attached to" | tail -1)"
else bad "not attached: $(podman logs "$NAME" 2>&1 | tail -3)"; fi

pid=$(client)
got=$(values "$pid")
[ "$got" = "$WANT" ] && ok "static client in the cgroup: $got" ||
	bad "static client: got '$got', want '$WANT'"

echo "== the cgroup removed and made again: attached again"
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
for _ in $(seq 50); do rmdir "$CG" 2>/dev/null && break; sleep 0.1; done
mkdir "$CG"
n=$(podman logs "$NAME" 2>&1 | grep -c "attached to")
wait_log "attached to" "$n"
pid=$(client)
got=$(values "$pid")
[ "$got" = "$WANT" ] && ok "static client in the new cgroup: $got" ||
	bad "new cgroup: got '$got', want '$WANT'; $(podman logs "$NAME" 2>&1 | tail -2)"

echo "== podman stop: SIGTERM detaches"
podman stop -t 20 "$NAME" >/dev/null
status=$(podman inspect -f '{{.State.ExitCode}}' "$NAME")
if podman logs "$NAME" 2>&1 | grep -q "detached from" && [ "$status" = 0 ] &&
	[ -z "$(ls "$T/bpffs/kashim" 2>/dev/null)" ]; then
	ok "$(podman logs "$NAME" 2>&1 | tail -1), exit $status, no pins left"
else bad "stop: exit $status, pins: $(ls "$T/bpffs/kashim" 2>/dev/null); $(podman logs "$NAME" 2>&1 | tail -2)"; fi
pid=$(client)
got=$(values "$pid")
case $got in
"0 "*) ok "static client after stop: $got" ;;
*) bad "after stop: '$got'" ;;
esac

echo "== one container, the library bind-mounted and preloaded (README)"
podman --runtime runc run -d --name "$NAME-lib" --ulimit nofile=20000:20000 \
	--ulimit nproc=4096:4096 --network host -v "$TOP/src:/opt/kashim:ro" \
	-v "$TOP/tests/build/bpf/peer:/usr/local/bin/kt-peer:ro" \
	-e LD_PRELOAD=/opt/kashim/libkashim.so -e KASHIM_IDLE=23 \
	"kashim:$VERSION" kt-peer connect 127.0.0.1 "$PORT" >"$T/run.out" 2>&1 ||
	bad "podman run, the library: $(tail -2 "$T/run.out")"
pid=$(podman inspect -f '{{.State.Pid}}' "$NAME-lib" 2>/dev/null)
got=$(values "${pid:-0}")
[ "$got" = "1 23 15 4 0" ] && ok "LD_PRELOAD=/opt/kashim/libkashim.so KASHIM_IDLE=23: $got" ||
	bad "the library in a container: got '$got', want '1 23 15 4 0'"
podman rm -f -t 0 "$NAME-lib" >/dev/null 2>&1

echo "== kashim --enable-unit from the Debian package names its library"
podman --runtime runc run --rm --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 \
	--network none "kashim:$VERSION" sh -c '
printf "[Service]\nExecStart=/bin/sleep 1\nEnvironment=LD_PRELOAD=/lib/x86_64-linux-gnu/libdl.so.2\n" \
	>/etc/systemd/system/kt.service
kashim --enable-unit kt.service >/dev/null && cat /etc/systemd/system/kt.service.d/kashim.conf' \
	>"$T/dropin" 2>&1
lib=$(podman --runtime runc run --rm --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 \
	--network none "kashim:$VERSION" dpkg -L libkashim | grep '/libkashim.so$')
if grep -qx "Environment=\"LD_PRELOAD=$lib:/lib/x86_64-linux-gnu/libdl.so.2\"" "$T/dropin"; then
	ok "$(grep LD_PRELOAD "$T/dropin")"
else bad "drop-in of the packaged kashim (library $lib): $(cat "$T/dropin")"; fi

echo "check-image: $pass passed, $fail failed"
[ "$fail" = 0 ]
