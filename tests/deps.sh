#!/bin/sh
# deps.sh PACKAGE... - install the Debian packages that are missing.
# As root it runs apt-get; otherwise it names what is missing and fails.
missing=
for p in "$@"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "kashim: missing packages:$missing" >&2
	echo "kashim: install them (sudo apt-get install$missing) or run make check as root" >&2
	exit 1
fi
echo "kashim: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || exit 1
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null || exit 1
