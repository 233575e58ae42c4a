#!/bin/sh
# secure.sh SYSTEM_CONFIG - a setuid-root copy of a test program, run as
# nobody with kashim in /etc/ld.so.preload inside a private mount
# namespace: every KASHIM_* variable is ignored and only the system file
# counts, read literally (no ${VARIABLE} expanded). A plain copy run the
# same way shows the variables would work.
# The machine's real /etc is never touched: an overlay covers it in the
# namespace only.
set -u
SYSCONF=${1:?usage: secure.sh SYSTEM_CONFIG}
LIB=$PWD/src/libkashim.so
PROG=$PWD/tests/build/tcp_kinds

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: the setuid test needs root (unshare -m, chown, setpriv)"; exit 0
fi
for tool in unshare setpriv mount; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool missing"; exit 1; }
done
confdir=$(dirname "$SYSCONF")
if [ ! -d "$confdir" ]; then
	echo "SKIP: $confdir does not exist here; an overlay needs it"; exit 0
fi

# A directory nobody can reach, on a file system that honours setuid.
for base in /tmp /var/tmp "$PWD/tests/build"; do
	T=$(mktemp -d "$base/kashim-secure.XXXXXX")
	case ",$(findmnt -no OPTIONS -T "$T")," in *,nosuid,*) rm -rf "$T"; T= ;; *) break ;; esac
done
[ -n "$T" ] || { echo "SKIP: no file system without nosuid"; exit 0; }
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
mkdir -m 1777 "$T/w"
cp "$PROG" "$T/setuid-prog"
cp "$PROG" "$T/plain-prog"
chown root:root "$T/setuid-prog" "$T/plain-prog"
chmod 4755 "$T/setuid-prog"
chmod 755 "$T/plain-prog"
printf 'idle = 44\n' >"$T/user.conf"
chmod 644 "$T/user.conf"

# In the namespace: overlays over /etc and the config directory, the
# library in ld.so.preload, the system file with idle = 33.
unshare -m --propagation private sh -s "$T" "$LIB" "$SYSCONF" <<'INNER'
T=$1 LIB=$2 SYSCONF=$3
set -u
overlay() { # overlay DIR NAME: a writable layer over DIR, gone with the namespace
	mkdir -p "$T/ov/$2/up" "$T/ov/$2/work"
	mount -t overlay overlay -o "lowerdir=$1,upperdir=$T/ov/$2/up,workdir=$T/ov/$2/work" "$1"
}
mount -t tmpfs tmpfs "$T/w" || exit 1
chmod 1777 "$T/w"
mkdir -p "$T/ov" && mount -t tmpfs tmpfs "$T/ov" || exit 1
overlay /etc etc || { echo "FAIL: cannot overlay /etc"; exit 1; }
[ "$(dirname "$SYSCONF")" = /etc ] || overlay "$(dirname "$SYSCONF")" conf || exit 1
echo "$LIB" >/etc/ld.so.preload
printf 'idle = 33\n' >"$SYSCONF"
chmod 644 "$SYSCONF"
fail=0
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups env \
		KASHIM_IDLE=20 KASHIM_CONFIG="$T/user.conf" KASHIM_LOG=debug \
		KASHIM_LOG_TARGET="$T/w/user.log" "$@"
}
if as_nobody "$T/setuid-prog" 33,15,4,0 && [ ! -e "$T/w/user.log" ]; then
	echo "ok: setuid program: KASHIM_* ignored, system file applied, no log file opened"
else
	echo "FAIL: setuid program did not ignore KASHIM_* or opened the log file"; fail=1
fi
if as_nobody "$T/plain-prog" 20,15,4,0 && [ -s "$T/w/user.log" ]; then
	echo "ok: the same program without setuid follows KASHIM_* (the control)"
else
	echo "FAIL: control: a plain program should follow KASHIM_*"; fail=1
fi
# The system file is read literally: a ${HOME} in it is an error, never
# the HOME of the user running a setuid program.
mkdir -m 777 "$T/w/home"
printf 'log_level = debug\nlog_target = "${HOME}/kashim.log"\n' >"$SYSCONF"
# Refused, the file leaves every socket alone (none: the kernel's values).
if setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$T/w/home" \
	"$T/setuid-prog" none >/dev/null 2>"$T/w/expand.err" &&
	[ ! -e "$T/w/home/kashim.log" ]; then
	echo "ok: setuid program: \${HOME} in the system file is an error, not the user's HOME"
else
	echo "FAIL: setuid program: \${HOME} in the system file was expanded"; fail=1
	sed 's/^/    /' "$T/w/expand.err" | head -5
fi
exit $fail
INNER
rc=$?
[ -e /etc/ld.so.preload ] && grep -q "$LIB" /etc/ld.so.preload && {
	echo "FAIL: the real /etc/ld.so.preload was changed"; rc=1; }
exit $rc
