#!/bin/sh
# check-install.sh MAKE CMD - `make install` into a temporary DESTDIR:
# every file in place with its mode, the installed library finds its
# installed config module, the installed `kashim` (CMD non-empty when the
# build has it) runs a program against the installed library, the man
# pages carry the installed paths, an existing config file is never
# overwritten, and `make uninstall` removes everything but a changed
# config file, and refuses while an /etc/ld.so.preload names the library,
# before it removes anything. Neither prints an error make ignored, and
# `make help` names every target a user may type.
MAKE=${1:-make}
CMD=$2
. tests/docs/lib.sh
src=$(pwd)
d=$(mktemp -d)
d2=$(mktemp -d)
trap 'rm -rf "$d" "$d2"' EXIT
p=$d/usr/local
mk() {
	$MAKE --no-print-directory "$@" >"$d2/make.log" 2>&1 ||
		{ fail "make $*:"; cat "$d2/make.log"; }
}

# quiet_make WHAT: the last make printed no error, ignored or not.
quiet_make() {
	if grep -q 'Error [0-9]\|(ignored)' "$d2/make.log"; then
		fail "$1: make printed errors:"; grep 'Error [0-9]\|(ignored)' "$d2/make.log"
	else ok "$1: no error lines"; fi
}

# 0. make help: every target a user may type, each one a target.
$MAKE --no-print-directory help >"$d2/help" 2>&1
$MAKE --no-print-directory -pRrq : >"$d2/db" 2>/dev/null
checks=$(sed -n 's/^ *\(check-[a-z0-9-]*\)$/\1/p' "$d2/help")
missing=
for t in all deps bpf build-musl build-i386 build-aarch64 clean install uninstall \
	install-man install-bpf uninstall-bpf install-musl uninstall-musl demo \
	bench fuzz lint check help $checks; do
	grep -q "^$t:" "$d2/db" || missing="$missing $t (no such target)"
	grep -q "make $t\b\|| $t\b\|^ *$t$\|make \[$t\]" "$d2/help" || missing="$missing $t (not in make help)"
done
[ -n "$checks" ] || missing="$missing the list of checks"
if [ -z "$missing" ]; then ok "make help names $(echo $checks | wc -w) checks and every other target"
else fail "make help:$missing"; fi

# 1. The files and their modes.
mk install DESTDIR="$d"
quiet_make "make install"
want="lib/libkashim.so:644 lib/kashim/kashim-conf.so:644
share/man/man1/kashim.1:644 share/man/man8/kashim.8:644
share/man/man5/kashim.conf.5:644 etc/kashim.conf:644"
[ -n "$CMD" ] && want="$want bin/kashim:755"
for w in $want; do
	f=$p/${w%:*}
	m=$(stat -c %a "$f" 2>/dev/null)
	[ "$m" = "${w#*:}" ] || fail "install: $f: mode '${m:-missing}', want ${w#*:}"
done
cmp -s conf/kashim.conf "$p/etc/kashim.conf" || fail "install: kashim.conf differs from conf/kashim.conf"
[ "$fails" -eq 0 ] && ok "make install DESTDIR=$d: $(echo $want | wc -w) files with their modes"

# Check the JSON of probe.py ($1) against Python expressions ($2...).
expect() {
	json=$1
	shift
	python3 - "$json" "$@" <<'PY'
import json, sys
o = json.loads(sys.argv[1])
bad = [e for e in sys.argv[2:] if not eval(e, {}, dict(o=o))]
for e in bad:
    print("  not true:", e, "in", sys.argv[1])
sys.exit(1 if bad else 0)
PY
}

# 2. The installed library, preloaded by hand, loads the installed module.
out=$(cd / && LD_PRELOAD=$p/lib/libkashim.so KASHIM_CONFIG=$p/etc/kashim.conf \
	KASHIM_IDLE=23 timeout 20 python3 "$src/tests/docs/probe.py")
if expect "$out" "o['idle'] == 23 and o['keepalive'] == 1" \
	"'$p/lib/kashim/kashim-conf.so' in o['mapped']" \
	"not [m for m in o['mapped'] if m.startswith('$src/')]"; then
	ok "installed libkashim.so sets TCP_KEEPIDLE=23 and loads $p/lib/kashim/kashim-conf.so"
else
	fail "installed library"
fi

# 3. The installed command against the installed library, from elsewhere.
if [ -n "$CMD" ]; then
	lib=$(realpath "$p/lib/libkashim.so")
	out=$(cd / && LD_PRELOAD= timeout 20 "$p/bin/kashim" --config "$p/etc/kashim.conf" \
		--idle 21 --interval 7 --count 3 --user-timeout auto \
		python3 "$src/tests/docs/probe.py")
	if expect "$out" "o['keepalive'] == 1 and o['idle'] == 21" \
		"o['interval'] == 7 and o['count'] == 3" \
		"o['user_timeout'] == (21 + 7 * 3) * 1000" \
		"o['preload'].split(':')[0] == '$lib'" \
		"'$p/lib/kashim/kashim-conf.so' in o['mapped']" \
		"not [m for m in o['mapped'] if m.startswith('$src/')]"; then
		ok "installed kashim runs python3 with the installed library: idle 21, interval 7, count 3, user timeout 42000"
	else
		fail "installed kashim"
	fi
	"$p/bin/kashim" --check "$p/etc/kashim.conf" >/dev/null ||
		fail "installed kashim --check on the installed kashim.conf"
else
	echo "SKIP: running the installed kashim: src/kashim is not built yet (mk/cmd.mk)"
fi

# 4. Installing with other paths than the last build's builds again for
# them (the objects depend on the paths): the installed library reads the
# sysconfdir it was installed with, the command finds the library in libdir.
if $MAKE --no-print-directory install DESTDIR="$d2" PREFIX=/usr sysconfdir=/etc \
	>"$d2/make.log" 2>&1 &&
	strings -a "$d2/usr/lib/libkashim.so" | grep -qxF /etc/kashim.conf &&
	{ [ -z "$CMD" ] || strings -a "$d2/usr/bin/kashim" | grep -qxF /usr/lib/libkashim.so; }; then
	ok "make install with other paths than the build's builds for them first"
else
	fail "make install with other paths:"; cat "$d2/make.log"
fi
rm -rf "${d2:?}"/*
$MAKE --no-print-directory build >/dev/null 2>&1 # back to the default paths

# 5. Man pages name the paths they were installed with.
mk install-man DESTDIR="$d2" PREFIX=/usr sysconfdir=/etc
m8=$d2/usr/share/man/man8/kashim.8
if grep -q '/usr/lib/libkashim.so' "$m8" && grep -q '/usr/lib/kashim/kashim\\-conf.so' "$m8" &&
	grep -q '/etc/kashim.conf' "$m8" && ! grep -q /usr/local "$d2"/usr/share/man/man*/* &&
	[ -z "$(groff -man -ww -z "$m8" 2>&1)" ]; then
	ok "PREFIX=/usr sysconfdir=/etc: the installed man pages name /usr/lib and /etc"
else
	fail "man pages installed with PREFIX=/usr still name other paths:"
	grep -n '/usr/local\|libkashim.so\|kashim.conf$' "$d2"/usr/share/man/man*/* | head
fi

# 6. An existing config file is never overwritten.
echo "idle = 33   # a local change" >>"$p/etc/kashim.conf"
mk install DESTDIR="$d"
if grep -q 'a local change' "$p/etc/kashim.conf" && grep -q '^kept' "$d2/make.log"; then
	ok "make install again: the changed kashim.conf is kept"
else
	fail "make install overwrote a changed kashim.conf"
fi

# 7. uninstall: a changed config stays, the rest goes; unchanged, it goes.
mk uninstall DESTDIR="$d"
left=$(cd "$d" && find . ! -type d | sort | tr '\n' ' ')
[ "$left" = "./usr/local/etc/kashim.conf " ] ||
	fail "make uninstall with a changed config left: $left"
cp conf/kashim.conf "$p/etc/kashim.conf"
mk uninstall DESTDIR="$d"
quiet_make "make uninstall, nothing of musl or kashim-bpf installed"
left=$(cd "$d" && find . ! -type d | sort | tr '\n' ' ')
[ -z "$left" ] || fail "make uninstall with the shipped config left: $left"
[ -d "$p/lib/kashim" ] && fail "make uninstall left $p/lib/kashim"
[ "$fails" -eq 0 ] && ok "make uninstall: a changed config stays, the shipped one goes with the rest"

# 8. uninstall refuses while an /etc/ld.so.preload names the library:
# first the DESTDIR tree's own file (the path inside the tree), then the
# machine's, in a private mount namespace whose /etc is an overlay, after
# the installed kashim --enable-system; a foreign line stays throughout.
other=$d2/other.so
printf 'int kashim_test_other;\n' | cc -shared -fPIC -x c -o "$other" - || fail "cannot build a foreign library"
mk install DESTDIR="$d"
mkdir -p "$d/etc"
printf '# a comment\n%s\n/usr/local/lib/libkashim.so\n' "$other" >"$d/etc/ld.so.preload"
# The musl build's files (whatever their content: uninstall removes them
# by name) and kashim-bpf's, so that every part of uninstall has something.
mkdir -p "$p/lib/musl" "$p/sbin"
for f in lib/musl/libkashim.so lib/musl/kashim-conf.so sbin/kashim-bpf; do
	[ -e "$p/$f" ] || echo "a stand-in" >"$p/$f"
done
before=$(cd "$d" && find . ! -type d | sort | tr '\n' ' ')
if $MAKE --no-print-directory uninstall DESTDIR="$d" >"$d2/make.log" 2>&1; then
	fail "make uninstall removed a library that $d/etc/ld.so.preload names"
elif [ "$(cd "$d" && find . ! -type d | sort | tr '\n' ' ')" != "$before" ]; then
	fail "make uninstall refused, but after removing files:" "before: $before" \
		"after:  $(cd "$d" && find . ! -type d | sort | tr '\n' ' ')"
	cat "$d2/make.log"
elif [ -f "$p/lib/libkashim.so" ] && grep -q "$d/etc/ld.so.preload line 3 names /usr/local/lib/libkashim.so" "$d2/make.log" &&
	grep -q "kashim --disable-system" "$d2/make.log"; then
	ok "make uninstall refuses while DESTDIR's etc/ld.so.preload names the library (line and command named), before removing any of $(echo $before | wc -w) files"
else
	fail "make uninstall refusal:"; cat "$d2/make.log"
fi
rm -f "$d/etc/ld.so.preload"
mk install DESTDIR="$d"
if [ -z "$CMD" ]; then
	echo "SKIP: the machine's /etc/ld.so.preload: src/kashim is not built yet (mk/cmd.mk)"
elif [ "$(id -u)" != 0 ]; then
	echo "SKIP: the machine's /etc/ld.so.preload in a private mount namespace needs root"
else
	host_before=$(sha256sum /etc/ld.so.preload 2>&1)
	unshare -m --propagation private sh -s "$d" "$d2" "$other" "$MAKE" <<'INNER'
d=$1 d2=$2 other=$3 MAKE=$4
P=/etc/ld.so.preload
mount -t tmpfs tmpfs "$d2/ov" 2>/dev/null || { mkdir -p "$d2/ov" && mount -t tmpfs tmpfs "$d2/ov"; } || exit 1
mkdir -p "$d2/ov/up" "$d2/ov/work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$d2/ov/up,workdir=$d2/ov/work" /etc || exit 1
printf '%s\n' "$other" >"$P"
"$d/usr/local/bin/kashim" --enable-system >"$d2/enable.log" 2>&1 || { echo "FAIL: enable: $(cat "$d2/enable.log")"; exit 1; }
if $MAKE --no-print-directory uninstall DESTDIR="$d" >"$d2/make.log" 2>&1 || [ ! -f "$d/usr/local/lib/libkashim.so" ]; then
	echo "FAIL: make uninstall removed the library /etc/ld.so.preload names"; exit 1
fi
grep -q "$P line 2 names $d/usr/local/lib/libkashim.so" "$d2/make.log" || { echo "FAIL: refusal: $(cat "$d2/make.log")"; exit 1; }
"$d/usr/local/bin/kashim" --disable-system >/dev/null || exit 1
$MAKE --no-print-directory uninstall DESTDIR="$d" >"$d2/make.log" 2>&1 || { echo "FAIL: make uninstall after disable: $(cat "$d2/make.log")"; exit 1; }
[ -z "$(/bin/true 2>&1)" ] || { echo "FAIL: /bin/true prints: $(/bin/true 2>&1)"; exit 1; }
[ "$(cat "$P")" = "$other" ] || { echo "FAIL: the foreign line is gone: $(cat "$P")"; exit 1; }
INNER
	if [ $? -eq 0 ]; then
		ok "private /etc: make uninstall refuses after kashim --enable-system; after --disable-system it goes, /bin/true quiet, the foreign line kept"
	else
		fail "make uninstall against the machine's /etc/ld.so.preload (private namespace)"
	fi
	[ "$host_before" = "$(sha256sum /etc/ld.so.preload 2>&1)" ] || fail "the host's /etc/ld.so.preload changed"
fi
finish
