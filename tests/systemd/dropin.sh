#!/bin/sh
# dropin.sh kashim|kashim-bpf - the drop-in directory of `kashim
# --enable-unit` / `--disable-unit`, or of `kashim-bpf enable` /
# `disable --unit`, without systemd: disable removes NAME.d only when
# enable made it and nothing else is in it; a directory that was there
# before stays, empty or not; the drop-in is flushed to the disk before
# it is renamed into place (strace).
#
# It runs in a mount namespace of its own (an overlay over /etc, a tmpfs
# on /etc/systemd/system and /run/systemd: systemd is never told) and a
# PID namespace whose PID 1 shares it; for kashim-bpf, with a bpffs of
# its own on /sys/fs/bpf, so the programs it pins go with the namespace
# and nothing is attached anywhere.
set -u
WHICH=${1:?usage: dropin.sh kashim|kashim-bpf}
TOP=$(pwd)
. "$TOP/tests/lib/lib.sh"
kashim_env_clear
unset LD_PRELOAD

if [ "$(id -u)" != 0 ]; then
	skip "dropin.sh needs root (unshare -m -p, mounts)"; exit 0
fi
chmod 755 "$T"

unshare -m -p -f --mount-proc --propagation private sh -s "$T" "$TOP" "$WHICH" <<'INNER'
set -u
. "$2/tests/lib/lib.sh"
trap - EXIT
rmdir "$T"
T=$1 TOP=$2 WHICH=$3
KASHIM=$TOP/src/kashim BPF=$TOP/src/kashim-bpf
mkdir -p "$T/ov" && mount -t tmpfs tmpfs "$T/ov" || exit 1
mkdir -p "$T/ov/up" "$T/ov/work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$T/ov/up,workdir=$T/ov/work" /etc ||
	{ fail "cannot overlay /etc"; summary "dropin $WHICH"; }
mkdir -p /etc/systemd/system
mount -t tmpfs tmpfs /etc/systemd/system || exit 1
[ -d /run/systemd ] && { mount -t tmpfs tmpfs /run/systemd || exit 1; }
if [ "$WHICH" = kashim-bpf ]; then
	mount -t bpf bpf /sys/fs/bpf || { fail "cannot mount a bpffs"; summary "dropin $WHICH"; }
fi
S=/etc/systemd/system
U=kt-drop-$$.service
D=$S/$U.d
printf '[Service]\nExecStart=/bin/sleep 1000\n' >"$S/$U"

# enable / disable of the command under test, for unit $U.
if [ "$WHICH" = kashim ]; then
	FILE=kashim.conf
	enable() { "$KASHIM" --enable-unit "$U"; }
	disable() { "$KASHIM" --disable-unit "$U"; }
else
	FILE=kashim-bpf.conf
	enable() { "$BPF" enable --unit "$U"; }
	disable() { "$BPF" disable --unit "$U"; }
fi

# step NAME CMD: CMD must exit 0.
step() {
	name=$1
	shift
	run "$@"
	expect "$name: exit 0 ($(echo "$ERR" | head -n1))" 0 "$RC"
}

echo "# $WHICH: no directory before: enable makes it, disable removes it"
step "enable" enable
[ -f "$D/$FILE" ] && pass "enable wrote $D/$FILE" || fail "enable wrote no $D/$FILE"
step "disable" disable
[ ! -e "$D" ] && pass "disable removed $D, which enable made" ||
	fail "disable left $D, which enable made" "$(ls -A "$D")"

echo "# $WHICH: the drop-in reaches the disk before its rename, and the directory after"
if command -v strace >/dev/null; then
	if [ "$WHICH" = kashim ]; then
		set -- "$KASHIM" --enable-unit "$U"
	else
		set -- "$BPF" enable --unit "$U"
	fi
	strace -f -qq -e trace=fsync,rename,renameat,renameat2 -o "$T/sync.tr" "$@" >/dev/null 2>&1
	expect "enable under strace: the drop-in written" yes "$([ -f "$D/$FILE" ] && echo yes)"
	contains "fsync() of $FILE.new, rename(), fsync() of $D" "fsync rename fsync" \
		"$(awk -v f="$FILE.new" '/fsync\(/ && / = 0/ { printf "fsync " }
			/rename/ && index($0, f) && / = 0/ { printf "rename " }' "$T/sync.tr")"
	step "disable" disable
else
	fail "strace is missing (make deps installs it)"
fi

echo "# $WHICH: an empty directory there before stays"
mkdir "$D"
step "enable over an empty $D" enable
step "disable" disable
if [ -d "$D" ] && [ -z "$(ls -A "$D")" ]; then
	pass "the empty $D that was there before stays, empty"
else
	fail "the empty $D that was there before" "exists: $([ -d "$D" ] && echo yes || echo no)" \
		"holds: $(ls -A "$D" 2>/dev/null)"
fi
rm -rf "$D"

echo "# $WHICH: another drop-in beside kashim's stays, with its directory"
mkdir "$D"
printf '[Service]\nNice=1\n' >"$D/other.conf"
step "enable beside other.conf" enable
step "disable" disable
expect "other.conf and nothing else stays" "other.conf" "$(ls -A "$D" 2>/dev/null)"
rm -r "$D"

echo "# $WHICH: a drop-in added after enable keeps the directory kashim made"
step "enable" enable
printf '[Service]\nNice=1\n' >"$D/later.conf"
step "disable" disable
[ -f "$D/later.conf" ] && [ ! -e "$D/$FILE" ] && pass "later.conf stays, kashim's drop-in gone" ||
	fail "after disable, $D holds: $(ls -A "$D" 2>/dev/null)"
rm -r "$D"

echo "# $WHICH: enabled twice, disabled once: the directory goes"
step "enable" enable
step "enable again" enable
step "disable" disable
[ ! -e "$D" ] && pass "enable twice, disable: $D gone" || fail "enable twice, disable: $D left: $(ls -A "$D")"

echo "# $WHICH: disable of a unit never enabled: exit 1, an empty $D untouched"
mkdir "$D"
run disable
expect "disable, not enabled: exit 1" 1 "$RC"
contains "disable, not enabled: says so" "not enabled" "$ERR"
[ -d "$D" ] && pass "the empty $D untouched" || fail "disable, not enabled, removed $D"
rm -rf "$D"

if [ "$WHICH" = kashim-bpf ]; then
	echo "# both commands on one unit: the directory goes with the last drop-in"
	step "kashim --enable-unit" "$KASHIM" --enable-unit "$U"
	step "kashim-bpf enable" enable
	step "kashim --disable-unit" "$KASHIM" --disable-unit "$U"
	[ -f "$D/kashim-bpf.conf" ] && pass "kashim-bpf's drop-in stays after kashim --disable-unit" ||
		fail "after kashim --disable-unit, $D holds: $(ls -A "$D" 2>/dev/null)"
	step "kashim-bpf disable" disable
	[ ! -e "$D" ] && pass "the last disable removed $D" || fail "$D left: $(ls -A "$D")"
fi
summary "dropin $WHICH"
INNER
