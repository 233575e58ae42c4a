# docs.mk - the man pages, conf/kashim.conf, the install and the Debian
# package, and their checks:
#
#   check-conf     conf/kashim.conf: every key at its default, parsed by the
#                  library's own reader (and by `kashim --check`)
#   check-man      groff -man -ww -z warns about nothing; every key,
#                  variable and option of the settings table is documented
#   check-install  make install into a temporary DESTDIR, run the installed
#                  kashim against the installed library, make uninstall
#   check-deb      dpkg-buildpackage -us -uc -b in a copy of the tree, the
#                  package's contents, then lintian with no error
#
# The checks read the keys from the code (tests/build/docs-keys prints
# the table of src/settings.c), so a new key without docs fails.

DOCS_KEYS := tests/build/docs-keys

$(DOCS_KEYS): tests/docs/keys.c src/settings.o $(wildcard src/*.h) | tests/build
	$(CC) $(TEST_CFLAGS) -o $@ tests/docs/keys.c src/settings.o

tests/build/docs-keys.tsv: $(DOCS_KEYS)
	$(DOCS_KEYS) >$@

.PHONY: check-conf check-man check-install check-deb
check-conf: build tests/build/docs-keys.tsv
	@tests/docs/check-conf.sh tests/build/docs-keys.tsv

check-man: build tests/build/docs-keys.tsv
	@tests/docs/check-man.sh tests/build/docs-keys.tsv $(VERSION)

check-install: build
	@tests/docs/check-install.sh "$(MAKE)" "$(filter src/kashim,$(ALL_TARGETS))"

check-deb:
	@tests/docs/check-deb.sh $(VERSION)

CHECK_TARGETS += check-conf check-man check-install check-deb
DEPS_PACKAGES += groff-base man-db python3 binutils dpkg-dev debhelper fakeroot \
	lintian libconfuse-dev pkg-config
CLEAN_FILES += $(DOCS_KEYS) tests/build/docs-keys.tsv
