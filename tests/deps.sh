#!/bin/sh
# deps.sh PACKAGE... - install the Debian packages that are missing.
# As root it runs apt-get; otherwise it names what is missing and fails.
# A package counts as installed only for this machine's architecture (or
# as an `all` package): a foreign copy (libconfuse-dev:i386 on amd64)
# does not give the native build its library. A name with an
# architecture (libconfuse-dev:i386) asks for that one. KASHIM_DEPS_FOR
# names the make command to run as root instead (default: make check).
native=$(dpkg --print-architecture)

# Is package $1 installed for its architecture (or all)?
installed() {
	case $1 in
	*:*) want=${1##*:} ;;
	*) want=$native ;;
	esac
	dpkg-query -W -f='${Status} ${Architecture}\n' "$1" 2>/dev/null |
		grep -Eq "^install ok installed ($want|all)\$"
}

missing=
for p in "$@"; do
	installed "$p" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "kashim: missing packages:$missing" >&2
	echo "kashim: install them (sudo apt-get install$missing) or run: sudo ${KASHIM_DEPS_FOR:-make check}" >&2
	exit 1
fi
echo "kashim: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# An index that fails to download (a foreign architecture's, a mirror in
# sync) is reported but need not stop the install: apt-get install says
# whether what is needed could be found.
apt-get update -qq >/dev/null 2>"${TMPDIR:-/tmp}/kashim-apt-update.$$" ||
	sed 's/^/kashim: apt-get update: /' "${TMPDIR:-/tmp}/kashim-apt-update.$$" >&2
rm -f "${TMPDIR:-/tmp}/kashim-apt-update.$$"
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null || exit 1
