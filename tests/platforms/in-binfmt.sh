#!/bin/sh
# in-binfmt.sh ARCH PROGRAM COMMAND ARGS - run COMMAND where ARCH (i386,
# aarch64) programs start directly, LD_PRELOAD and /etc/ld.so.preload as
# for a native one, in a mount namespace of its own (COMMAND may cover
# /etc and /usr/lib with overlays there, never the machine's own).
#   - PROGRAM (a small ARCH program) runs natively: no handler is needed,
#     and no user namespace either when we are root (unshare --mount);
#   - otherwise a new user and mount namespace whose private binfmt_misc
#     runs ARCH programs through qemu-ARCH-static; the machine's own
#     binfmt_misc is not touched, and the handler goes with the namespace.
# Where what is needed is refused (a user namespace, the binfmt_misc
# mount, qemu), one SKIP line says so and the exit status is 0. COMMAND
# runs as root (of the namespace, or of the machine).
set -u
if [ "${1:-}" != --inside ]; then
	command -v unshare >/dev/null || { echo "SKIP: $1: unshare (util-linux) is missing"; exit 0; }
	# Native first: a kernel that runs ARCH programs needs no namespace
	# trick, only a private mount namespace (root's own, if we are root).
	if "$2" >/dev/null 2>&1; then
		echo "== $1 programs run natively here"
		shift 2
		if [ "$(id -u)" = 0 ] && unshare --mount true 2>/dev/null; then
			exec unshare --mount --propagation private "$@"
		fi
		unshare --user --map-root-user --mount true 2>/dev/null ||
			{ echo "SKIP: $1: a private mount namespace needs root or a user namespace (unshare --user --mount refused)"; exit 0; }
		exec unshare --user --map-root-user --mount --propagation private "$@"
	fi
	if ! unshare --user --map-root-user --mount true 2>/dev/null; then
		echo "SKIP: $1: $1 programs do not run natively here, and the kernel refuses the user namespace a private binfmt_misc needs (unshare --user --mount)"
		exit 0
	fi
	exec unshare --user --map-root-user --mount --propagation private "$0" --inside "$@"
fi
shift
ARCH=$1 PROGRAM=$2
shift 2
qemu=/usr/bin/qemu-$ARCH-static
case $ARCH in
i386) magic='\x7fELF\x01\x01\x01' machine='\x03\x00' ;;
aarch64) magic='\x7fELF\x02\x01\x01' machine='\xb7\x00' ;;
*) echo "in-binfmt.sh: unknown architecture $ARCH" >&2; exit 2 ;;
esac
# ELF class, byte order and version; OS ABI and padding ignored; type
# executable or shared (2 or 3, hence \xfe); the machine.
magic="$magic\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00$machine"
mask='\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\xfe\xff\xff\xff'

[ -x "$qemu" ] || { echo "SKIP: $ARCH: $qemu is missing (qemu-user-static)"; exit 0; }
d=/proc/sys/fs/binfmt_misc
if ! mount -t binfmt_misc kashim-binfmt "$d" 2>/dev/null; then
	echo "SKIP: $ARCH: the kernel refuses a binfmt_misc private to a user namespace"
	exit 0
fi
printf '%s' ":kashim-$ARCH:M::$magic:$mask:$qemu:F" >"$d/register" ||
	{ echo "SKIP: $ARCH: binfmt_misc refused the qemu-$ARCH-static handler"; exit 0; }
if ! "$PROGRAM" >/dev/null 2>&1; then
	echo "FAIL: $ARCH: $PROGRAM does not run even through $qemu"
	exit 1
fi
echo "== $ARCH programs run through $qemu (binfmt_misc of this namespace)"
exec "$@"
