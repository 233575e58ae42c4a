#!/bin/sh
# multiarch.sh SYSTEM_CONFIG DIR64 PROBE64 DIR32 PROBE32 - a 64-bit and a
# 32-bit copy of kashim on one host, as Debian's multiarch lays them out:
# each under /usr/lib/<triplet>/kashim/ with its own config module, one
# line /usr/$LIB/kashim/libkashim.so in /etc/ld.so.preload, one system
# config file. The 64-bit probe (PROBE64) and the 32-bit one (PROBE32),
# started with an empty environment, must each get the file's rule,
# applied by their own copy, and print no loader error; a program of
# another name gets the file's top-level values. A control with only the
# 64-bit copy installed shows that the 32-bit program then cannot have
# kashim (the loader's error, the kernel's values).
#
# Run by tests/platforms/in-binfmt.sh, in a mount namespace of its own
# (and a user namespace where i386 programs need qemu): /usr/lib/<triplet>,
# /etc and the config directory are covered by overlays on a tmpfs there,
# and the machine's own are never written.
set -u
. tests/lib/lib.sh
kashim_env_clear
SYSCONF=$1
DIR64=$(realpath "$2") PROBE64=$(realpath "$3")
DIR32=$(realpath "$4") PROBE32=$(realpath "$5")

# A mount namespace of its own: PID 1's is another one (or, in a user
# namespace, cannot even be read).
if [ "$(readlink /proc/self/ns/mnt)" = "$(readlink /proc/1/ns/mnt 2>/dev/null)" ]; then
	fail "multiarch.sh runs only in a mount namespace of its own (in-binfmt.sh)"
	summary multiarch
fi
# The triplet of each copy, from the ELF class of its library.
triplet() {
	case $(od -An -tx1 -j4 -N1 "$1/libkashim.so" | tr -d ' ') in
	01) echo i386-linux-gnu ;;
	*) gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu ;;
	esac
}
MA64=$(triplet "$DIR64") MA32=$(triplet "$DIR32")

trap 'umount -l "$T"; lib_cleanup' EXIT
mount -t tmpfs kashim-multiarch "$T" || { fail "cannot mount a tmpfs"; summary multiarch; }

# overlay DIR: a writable layer over DIR (or its nearest existing
# parent, where DIR is created), gone with the namespace.
overlay() {
	d=$1
	while [ ! -d "$d" ]; do d=$(dirname "$d"); done
	n=$(echo "$d" | tr / _)
	mkdir -p "$T/ov/$n/up" "$T/ov/$n/work"
	mount -t overlay kashim-multiarch \
		-o "lowerdir=$d,upperdir=$T/ov/$n/up,workdir=$T/ov/$n/work" "$d" ||
		{ fail "cannot overlay $d"; summary multiarch; }
	mkdir -p "$1"
}
for d in /etc "$(dirname "$SYSCONF")" "/usr/lib/$MA64" "/usr/lib/$MA32"; do
	mountpoint -q "$d" && [ "$d" != /etc ] || overlay "$d"
done

# Both copies, each with its module, where Debian's packages put them.
install_copy() {
	install -D -m 0644 "$1/libkashim.so" "/usr/lib/$2/kashim/libkashim.so" &&
		install -D -m 0644 "$1/kashim-conf.so" "/usr/lib/$2/kashim/kashim-conf.so"
}
install_copy "$DIR64" "$MA64" && install_copy "$DIR32" "$MA32" ||
	{ fail "cannot install the copies"; summary multiarch; }
cat >"$SYSCONF" <<'CONF'
idle = 31
rule "probe" {
  programs = {"probe"}
  idle = 43
  interval = 7
  count = 5
  user_timeout = 9000
}
CONF
chmod 644 "$SYSCONF"
echo '/usr/$LIB/kashim/libkashim.so' >/etc/ld.so.preload
mkdir "$T/other" && cp "$PROBE64" "$T/other/plain64" && cp "$PROBE32" "$T/other/plain32"

# expect WHAT WANT PROGRAM: PROGRAM, run with an empty environment,
# prints WANT and nothing on stderr.
expect() {
	got=$(env -i "$3" 2>"$T/err")
	echo "  $1: $got"
	if [ "$got" != "$2" ] || [ -s "$T/err" ]; then
		fail "$1: want $2" "$(cat "$T/err")"
	else
		pass "$1"
	fi
}
k64=/usr/lib/$MA64/kashim k32=/usr/lib/$MA32/kashim
echo "== /etc/ld.so.preload: $(cat /etc/ld.so.preload); $SYSCONF: rule \"probe\" idle 43 interval 7 count 5 user_timeout 9000"
expect "64-bit probe" "bits=64 keepalive=1 idle=43 intvl=7 cnt=5 uto=9000 lib=$k64/libkashim.so module=$k64/kashim-conf.so" "$PROBE64"
expect "32-bit probe" "bits=32 keepalive=1 idle=43 intvl=7 cnt=5 uto=9000 lib=$k32/libkashim.so module=$k32/kashim-conf.so" "$PROBE32"
expect "64-bit, other name" "bits=64 keepalive=1 idle=31 intvl=15 cnt=4 uto=0 lib=$k64/libkashim.so module=$k64/kashim-conf.so" "$T/other/plain64"
expect "32-bit, other name" "bits=32 keepalive=1 idle=31 intvl=15 cnt=4 uto=0 lib=$k32/libkashim.so module=$k32/kashim-conf.so" "$T/other/plain32"

echo "== control: only the 64-bit copy installed"
rm -r "$k32"
got=$(env -i "$PROBE32" 2>"$T/err")
echo "  32-bit probe: $got"
if echo "$got" | grep -q '^bits=32 keepalive=0 .* lib=- module=-$' &&
	grep -q 'cannot be preloaded' "$T/err"; then
	echo "  its loader: $(head -n 1 "$T/err")"
	pass "control: the 32-bit program without its copy"
else
	fail "control: the 32-bit program should miss kashim and say so"
fi
summary multiarch
