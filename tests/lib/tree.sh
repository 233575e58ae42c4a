# tree.sh - tree_copy DEST: the work tree as git sees it (tracked files,
# and new ones .gitignore does not exclude, that exist) copied into DEST,
# which must exist; build products stay behind. Without git (a tree
# unpacked from a tarball), everything but .git and the build products.
# Sourced from the top of the tree by the checks that build a copy.
tree_copy() {
	if [ -e .git ] && command -v git >/dev/null 2>&1; then
		git ls-files -z --cached --others --exclude-standard |
			xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
			tar -c --null -T - -f - | tar -x -C "$1" -f -
	else
		tar -c --exclude=./.git --exclude='*.o' --exclude='*.so' \
			--exclude=./tests/build -f - . | tar -x -C "$1" -f -
	fi
}
