#!/bin/sh
# system.sh SYSTEM_CONFIG - `kashim --enable-system`, `--disable-system`
# and `--status-system` on a real /etc/ld.so.preload, inside a private
# mount namespace: overlays over /etc and the config directory, gone
# with it. The machine's own files are never written.
#
# A foreign library line and a comment stand in the file first: they
# must come out byte for byte, and the file's mode with them. Each
# refusal (bad config, config others cannot read, a library that does
# not load, an abbreviated option, no rights) must leave the file as it
# was; the write must be a rename of a synced temporary file.
set -u
SYSCONF=${1:?usage: system.sh SYSTEM_CONFIG}
TOP=$(pwd)
. "$TOP/tests/lib/lib.sh"
kashim_env_clear
unset LD_PRELOAD

if [ "$(id -u)" != 0 ]; then
	skip "--enable-system tests need root (unshare -m, overlays)"; exit 0
fi
for tool in unshare mount strace setpriv sha256sum; do
	command -v "$tool" >/dev/null || { fail "$tool missing"; summary system; }
done
[ -d "$(dirname "$SYSCONF")" ] || {
	skip "$(dirname "$SYSCONF") does not exist here; an overlay needs it"; exit 0; }
chmod 755 "$T"
host_before=$(sha256sum /etc/ld.so.preload 2>&1)

unshare -m --propagation private sh -s "$T" "$TOP" "$SYSCONF" <<'INNER'
set -u
. "$2/tests/lib/lib.sh"
trap - EXIT
rmdir "$T"
T=$1 TOP=$2 SYSCONF=$3
KASHIM=$TOP/src/kashim LIB=$TOP/src/libkashim.so OTHER=$TOP/tests/build/cmd/libother.so
P=/etc/ld.so.preload
overlay() { # overlay DIR NAME: a writable layer over DIR, gone with the namespace
	mkdir -p "$T/ov/$2/up" "$T/ov/$2/work"
	mount -t overlay overlay -o "lowerdir=$1,upperdir=$T/ov/$2/up,workdir=$T/ov/$2/work" "$1"
}
mkdir -p "$T/ov" && mount -t tmpfs tmpfs "$T/ov" || exit 1
overlay /etc etc || { fail "cannot overlay /etc"; summary system; }
[ "$(dirname "$SYSCONF")" = /etc ] || overlay "$(dirname "$SYSCONF")" conf || exit 1
printf 'idle = 50\n' >"$SYSCONF"
chmod 644 "$SYSCONF"
rm -f "$P" 2>/dev/null # the dangling line makes rm itself complain

sum() { sha256sum "$P" 2>&1; }

run "$KASHIM" --status-system
expect "status, no preload file: exit 3" 3 "$RC"
contains "status, no preload file: says so" "not enabled" "$OUT"

printf '# kept as it is\n%s\n' "$OTHER" >"$P"
chmod 664 "$P"
before=$(cat "$P")
run "$KASHIM" --enable-system
expect "enable: exit 0" 0 "$RC"
contains "enable: says what it did" "added $LIB to $P" "$OUT"
expect "enable: the comment and the foreign line kept, kashim's added" "$before
$LIB" "$(cat "$P")"
expect "enable: the file's mode kept" "664" "$(stat -c %a "$P")"
if grep -q "$LIB" /proc/self/maps && grep -q "$OTHER" /proc/self/maps; then
	pass "enable: a new program loads kashim and the other library"
else
	fail "enable: a new program does not map both libraries"
fi
run /bin/true
expect "enable: /bin/true quiet" "0 " "$RC $ERR"
s1=$(sum)
run "$KASHIM" --enable-system
expect "enable again: exit 0" 0 "$RC"
contains "enable again: nothing changed" "already enabled: $P line 3" "$OUT"
expect "enable again: the file untouched" "$s1" "$(sum)"
run "$KASHIM" --status-system
expect "status, enabled: exit 0" 0 "$RC"
contains "status, enabled: the line" "$P line 3: $LIB (this kashim, the file exists)" "$OUT"

run "$KASHIM" --disable-system
expect "disable: exit 0" 0 "$RC"
contains "disable: says what it did" "removed $LIB from $P" "$OUT"
expect "disable: every other byte as it was" "$before" "$(cat "$P")"
expect "disable: the file's mode kept" "664" "$(stat -c %a "$P")"
s1=$(sum)
run "$KASHIM" --disable-system
expect "disable again: exit 0" 0 "$RC"
contains "disable again: nothing changed" "does not name $LIB; nothing changed" "$OUT"
expect "disable again: the file untouched" "$s1" "$(sum)"
run "$KASHIM" --status-system
expect "status, disabled: exit 3" 3 "$RC"

# Kashim's entry beside another one on a line, and in its $LIB-less
# real-path form: only kashim's entry goes.
printf '%s:%s %s\n' "$OTHER" "$LIB" "$OTHER" >"$P"
run "$KASHIM" --disable-system
expect "disable, an entry among others on a line: only it removed" "$OTHER $OTHER" "$(cat "$P")"
printf '%s\n' "$LIB" >"$P"
run "$KASHIM" --disable-system
expect "disable, kashim's line was all: the file removed" "absent" "$([ -e "$P" ] && echo present || echo absent)"

# The write: a synced temporary file beside it, renamed over it.
printf '%s\n' "$OTHER" >"$P"
strace -f -qq -e trace=rename,renameat,renameat2,fsync -o "$T/trace" "$KASHIM" --enable-system >/dev/null 2>&1
if grep -q "rename.*\"$P\.kashim-[A-Za-z0-9]*\".*\"$P\"" "$T/trace" && grep -q fsync "$T/trace"; then
	pass "enable: a synced temporary file renamed into place"
else
	fail "enable: no fsync and rename of a temporary file" "$(cat "$T/trace")"
fi
strace -f -qq -e trace=rename,renameat,renameat2,fsync -o "$T/trace" "$KASHIM" --disable-system >/dev/null 2>&1
grep -q "rename.*\"$P\.kashim-[A-Za-z0-9]*\".*\"$P\"" "$T/trace" &&
	pass "disable: a temporary file renamed into place" ||
	fail "disable: no rename of a temporary file" "$(cat "$T/trace")"
[ -z "$(ls /etc/ld.so.preload.kashim-* 2>/dev/null)" ] && pass "no temporary file left" ||
	fail "temporary files left: $(ls /etc/ld.so.preload.kashim-*)"

# Refusals: exit 1 with the reason, the file as it was.
refused() { # refused NAME STATUS WHY COMMAND...
	name=$1 status=$2 why=$3
	shift 3
	s1=$(sum)
	run "$@"
	expect "$name: exit $status" "$status" "$RC"
	contains "$name: says why" "$why" "$ERR"
	expect "$name: the file untouched" "$s1" "$(sum)"
}
printf 'idle = 0\n' >"$SYSCONF"
refused "enable, bad system config" 1 "$SYSCONF:1: idle: '0' is not a number" "$KASHIM" --enable-system
printf 'idle = 50\n' >"$SYSCONF"
chmod 600 "$SYSCONF"
refused "enable, system config others cannot read" 1 "$SYSCONF must be readable by every user" "$KASHIM" --enable-system
chmod 644 "$SYSCONF"
mkdir -p "$T/bad"
cp "$KASHIM" "$T/bad/kashim"
printf 'not a library\n' >"$T/bad/libkashim.so"
refused "enable, a library that does not load" 1 "did not run quietly" "$T/bad/kashim" --enable-system
refused "enable, abbreviated (a usage error)" 2 "write --enable-system in full" "$KASHIM" --enable
mkdir -p "$T/copy"
cp "$KASHIM" "$LIB" "$T/copy/"
chmod 755 "$T/copy"
refused "enable, not root" 1 "(run as root)" setpriv --reuid=nobody --regid=nogroup --clear-groups "$T/copy/kashim" --enable-system

# /etc/ld.so.preload as the loader reads it: each case where enabling
# would report success and nothing would load.
printf '%s\n' "$OTHER" >"$P"
chmod 600 "$P"
refused "enable, the preload file mode 0600 (only root's programs read it)" 1 "chmod 644 $P" "$KASHIM" --enable-system
expect "enable, mode 0600: the mode as it was" 600 "$(stat -c %a "$P")"
printf '%s\n' "$LIB" >"$P"
chmod 600 "$P"
run "$KASHIM" --status-system
expect "status, kashim's line in a 0600 file: exit 1" 1 "$RC"
contains "status, kashim's line in a 0600 file: says chmod 644" "programs not run by root cannot read it and do not load kashim (run chmod 644 $P)" "$OUT"
chmod 644 "$P"

printf '%s\n\000\n' "$OTHER" >"$P"
refused "enable, a NUL byte in the file" 1 "holds a NUL byte (at byte $((${#OTHER} + 1)))" "$KASHIM" --enable-system
printf '%s\n\000%s\n' "$OTHER" "$LIB" >"$P"
refused "disable, kashim's line after a NUL byte" 1 "holds a NUL byte" "$KASHIM" --disable-system
run "$KASHIM" --status-system
expect "status, kashim's line after a NUL byte: not enabled, as the loader reads it" 3 "$RC"
contains "status, a NUL byte: said" "holds a NUL byte at byte $((${#OTHER} + 1)): the loader reads nothing after it" "$OUT"

R=/etc/ld.so.preload.real$$
rm -f "$P"
printf '# linked\n%s\n' "$OTHER" >"$R"
chmod 644 "$R"
ln -s "$R" "$P"
run "$KASHIM" --enable-system
expect "enable, a symbolic link: exit 0" 0 "$RC"
expect "enable, a symbolic link: still the link" "link $R" "$([ -L "$P" ] && echo link) $(readlink "$P")"
expect "enable, a symbolic link: its target holds the line" "# linked
$OTHER
$LIB" "$(cat "$R")"
contains "enable, a symbolic link: says it edited the target" "a symbolic link to $R, edited there" "$OUT"
run "$KASHIM" --status-system
expect "status, through a symbolic link: enabled" 0 "$RC"
run "$KASHIM" --disable-system
expect "disable, a symbolic link: exit 0" 0 "$RC"
expect "disable, a symbolic link: still the link, the target as before" "link # linked
$OTHER" "$([ -L "$P" ] && echo link) $(cat "$R")"
printf '%s\n' "$LIB" >"$R"
run "$KASHIM" --disable-system
expect "disable, a link to a file of kashim's line only: the link stays, to an empty file" "link 0" \
	"$([ -L "$P" ] && echo link) $(stat -c %s "$R")"
[ -z "$(ls /etc/ld.so.preload*.kashim-* 2>/dev/null)" ] && pass "symbolic link: no temporary file left" ||
	fail "symbolic link: temporary files left: $(ls /etc/ld.so.preload*.kashim-*)"
rm -f "$P" "$R"

head -c 2097152 /dev/zero | tr '\0' '\n' >"$T/big" # blank lines: the loader reads nothing
mv "$T/big" "$P"
refused "enable, a 2 MiB file" 1 "is too large (2097152 bytes" "$KASHIM" --enable-system
lacks "enable, a 2 MiB file: no stale errno" "Invalid argument" "$ERR"
rm -f "$P"

mkdir -p "$T/pkg"
cp "$LIB" "$T/pkg/libkashim.so"
chmod 755 "$T/pkg" "$T/pkg/libkashim.so"
printf '# the package\n%s\n' "$T/pkg/libkashim.so" >"$P"
refused "enable, another copy of kashim named" 1 "line 2 names another copy of kashim, $T/pkg/libkashim.so" "$KASHIM" --enable-system
contains "enable, another copy: names --force" "kashim --enable-system --force" "$ERR"
run "$KASHIM" --enable-system --force
expect "enable --force: exit 0" 0 "$RC"
expect "enable --force: the other copy's line replaced by this one" "# the package
$LIB" "$(cat "$P")"
contains "enable --force: says so" "replaced $T/pkg/libkashim.so (another copy of kashim) by $LIB" "$OUT"
printf '%s\n' "$T/pkg/libkashim.so" >>"$P"
run "$KASHIM" --status-system
contains "status, another copy named too: said" "but line 3 names another copy of kashim too, $T/pkg/libkashim.so" "$OUT"
printf '# the package\n%s\n' "$LIB" >"$P"
run "$KASHIM" --disable-system --force
expect "--force without --enable-system: exit 2" 2 "$RC"

# --status-system reads the system config as the programs do, and says
# where the library's messages go.
printf '%s\n' "$LIB" >"$P"
printf 'idel = 5\n' >"$SYSCONF"
run "$KASHIM" --status-system
expect "status, a broken system config: exit 1" 1 "$RC"
contains "status, a broken system config: FILE:LINE: message" "$SYSCONF:1:" "$ERR"
contains "status, a broken system config: what it means" "programs leave every socket alone until this is fixed" "$OUT"
printf 'idle = 50\n' >"$SYSCONF"
overlay /dev dev || { fail "cannot overlay /dev"; summary system; }
rm -f /dev/log
run "$KASHIM" --status-system
expect "status, no /dev/log: exit 0" 0 "$RC"
contains "status: where the messages go" "journalctl -t kashim" "$OUT"
contains "status, no /dev/log: they are lost" "/dev/log does not exist here (a container or a chroot?): its messages are lost" "$OUT"
python3 -c 'import socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).bind("/dev/log")'
run "$KASHIM" --status-system
lacks "status, a /dev/log: not lost" "are lost" "$OUT"
printf 'idle = 50\nlog_target = "%s/kashim.log"\n' "$T" >"$SYSCONF"
run "$KASHIM" --status-system
contains "status, a log file: named" "its messages go to $T/kashim.log" "$OUT"
printf 'idle = 50\n' >"$SYSCONF"
rm -f "$P"

# A dangling kashim line: status says so.
printf '%s\n' /usr/lib/no-such-dir/libkashim.so >"$P"
run "$KASHIM" --status-system
rm -f "$P" 2>/dev/null # the dangling line makes rm itself complain
expect "status, a dangling kashim line: exit 1" 1 "$RC"
contains "status, a dangling kashim line: named" "$P line 1: /usr/lib/no-such-dir/libkashim.so (NO SUCH FILE" "$OUT"
summary system
INNER
rc=$?
[ "$host_before" = "$(sha256sum /etc/ld.so.preload 2>&1)" ] || {
	echo "FAIL: the host's /etc/ld.so.preload changed"; rc=1; }
exit $rc
