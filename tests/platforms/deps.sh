#!/bin/sh
# deps.sh CHECK ARCH PACKAGE... - install what check CHECK needs, through
# tests/deps.sh. ARCH is the Debian architecture the ":ARCH" packages
# are for ("-": none): when it is not one dpkg knows yet it is added first
# (dpkg --add-architecture, then apt-get update). Exit 0 when everything
# is installed; otherwise print one SKIP line with the reason and exit 1,
# so the check is skipped, not failed.
check=$1
arch=$2
shift 2

skip() { echo "SKIP: $check: $*"; exit 1; }

if [ "$arch" != - ] && [ "$arch" != "$(dpkg --print-architecture 2>/dev/null)" ] &&
	! dpkg --print-foreign-architectures 2>/dev/null | grep -qxF "$arch"; then
	[ "$(id -u)" = 0 ] || skip "packages for $arch need dpkg --add-architecture $arch, as root"
	echo "kashim: dpkg --add-architecture $arch"
	dpkg --add-architecture "$arch" || skip "dpkg --add-architecture $arch failed"
	# A mirror may fail some indexes of the new architecture; apt-get
	# install below then says whether what is needed could be had.
	apt-get update -qq >/dev/null 2>&1 ||
		echo "kashim: apt-get update reported errors after adding $arch"
fi
out=$(tests/deps.sh "$@" 2>&1) && { [ -n "$out" ] && echo "$out"; exit 0; }
echo "$out"
skip "cannot install $* ($(echo "$out" | tail -n 1))"
