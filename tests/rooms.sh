#!/bin/sh
# rooms.sh LIB HOOKS.o REAL.o -- OBJ... : keep the library's rooms honest.
#
# 1. Only the hooks and the real-symbol layer may name an interposed
#    function (the library's exported symbols): any other unit calling
#    close(), setsockopt()... would re-enter kashim's own hooks.
# 2. The library imports no stdio printing: that code belongs to the
#    command and the fuzzers (src/conf/print.c).
# 3. The library needs at most two glibc symbol versions.
# 4. The library links none of the command's own code: its loader form
#    (kashim_settings_load_cmd(), src/conf/loadcmd.c) and the config
#    reader (kashim_conf_load(), in the dlopen()ed config module).
# 5. Only src/conf/ names libconfuse: no other source includes confuse.h,
#    and the library imports none of its functions (cfg_*).
set -u
. "$(dirname "$0")/lib/lib.sh"

lib=$1 hooks=$2 real=$3
shift 3
[ "$1" = -- ] && shift

hooked=$(nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort)
[ -n "$hooked" ] || fail "no exported functions in $lib"
for name in socket connect close setsockopt; do
	echo "$hooked" | grep -qx "$name" || fail "$lib does not export $name"
done

for obj in "$@"; do
	bad=$(nm -u "$obj" | awk '{ print $2 }' | sed 's/@.*//' | sort |
		comm -12 - "$(printf '%s\n' "$hooked" >"$T/hooked"; echo "$T/hooked")")
	if [ -n "$bad" ]; then
		fail "$obj calls interposed $(echo $bad): go through src/lib/real.h"
	else
		pass "$obj names no interposed function"
	fi
done
# The check itself: the real-symbol layer does name them, and the hooks
# define them, so the nm reading above would have seen a wrong call.
[ -n "$(nm -u "$real" | awk '{ print $2 }' | sed 's/@.*//' | grep -xF "$hooked")" ] ||
	fail "$real names no interposed function: is the check reading the right objects?"
[ "$(nm --defined-only "$hooks" | awk '$2 == "T" { print $3 }' | sort)" = "$hooked" ] ||
	fail "$hooks does not define exactly the exported functions of $lib"

printing=$(nm -D --undefined-only "$lib" | awk '{ print $2 }' | sed 's/@.*//' |
	grep -xE 'fprintf|fputc|fputs|fwrite|printf|puts|putchar|vfprintf|vprintf|dprintf|vdprintf|__fprintf_chk|__printf_chk|__vfprintf_chk|__vprintf_chk|__dprintf_chk' || true)
if [ -n "$printing" ]; then
	fail "$lib imports $(echo $printing): printing belongs to src/conf/print.c"
else
	pass "$lib imports no stdio printing"
fi
# 3. Every symbol version the library needs is paid for by every process
# on the host at start-up: the house rule is two (HACKING.md).
versions=$(nm -D --undefined-only "$lib" | sed -n 's/.*@\(GLIBC_[0-9.]*\).*/\1/p' | sort -u)
if [ "$(echo "$versions" | grep -c .)" -le 2 ]; then
	pass "$lib needs $(echo $versions)"
else
	fail "$lib needs $(echo $versions): more than two glibc symbol versions (look the newer ones up with dlsym)"
fi
# 4. nm reads the library's own symbol table (hidden names too): the one
# loader is there, the command's form of it and the config reader not.
defined=$(nm --defined-only "$lib" | awk '{ print $3 }')
echo "$defined" | grep -qx kashim_settings_load ||
	fail "$lib: no kashim_settings_load in its symbol table (stripped?): cannot tell what it links"
command_only=$(echo "$defined" | grep -xE 'kashim_settings_load_cmd|kashim_conf_load' || true)
if [ -n "$command_only" ]; then
	fail "$lib defines $(echo $command_only): the command's own code (src/conf/loadcmd.c, the config module)"
else
	pass "$lib links neither kashim_settings_load_cmd nor kashim_conf_load"
fi
# 5. The sources as git lists them, from the top of the tree.
top=$(cd "$(dirname "$0")/.." && pwd)
confuse=$(cd "$top" && grep -l '^#include <confuse\.h>' src/*/*.c src/*/*.h)
[ -n "$confuse" ] || fail "no source includes confuse.h: is the check reading src/?"
others=$(echo "$confuse" | grep -v '^src/conf/' || true)
if [ -n "$others" ]; then
	fail "$(echo $others) include confuse.h: libconfuse belongs to src/conf/"
else
	pass "only src/conf/ includes confuse.h ($(echo $confuse))"
fi
cfg=$(nm -D --undefined-only "$lib" | awk '{ print $2 }' | grep '^cfg_' || true)
if [ -n "$cfg" ]; then
	fail "$lib imports $(echo $cfg): libconfuse belongs to the config module"
else
	pass "$lib imports nothing of libconfuse"
fi
summary rooms
