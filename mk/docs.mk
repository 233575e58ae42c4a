# docs.mk - the man pages and conf/kashim.conf, and their checks:
#
#   check-conf     conf/kashim.conf: every key at its default, parsed by the
#                  library's own reader (and by `kashim --check`)
#   check-man      groff -man -ww -z warns about nothing; every key,
#                  variable and option of the settings table is documented
#
# The checks read the keys from the code (tests/build/docs-keys prints
# the table of src/common/settings.c), so a new key without docs fails.

DOCS_KEYS := tests/build/docs-keys

$(DOCS_KEYS): tests/docs/keys.c $(COMMON_OBJS) | tests/build
	$(CC) $(TEST_CFLAGS) $(DEPFLAGS) -MF $@.d -o $@ tests/docs/keys.c $(COMMON_OBJS)

tests/build/docs-keys.tsv: $(DOCS_KEYS)
	$(DOCS_KEYS) >$@

.PHONY: check-conf check-man
check-conf: build tests/build/docs-keys.tsv
	@tests/docs/check-conf.sh tests/build/docs-keys.tsv

check-man: build tests/build/docs-keys.tsv
	@tests/docs/check-man.sh tests/build/docs-keys.tsv $(VERSION)
	@tests/docs/man-vs-behaviour.sh tests/build/docs-keys.tsv

CHECK_TARGETS += check-conf check-man
DEPS_PACKAGES += groff-base man-db python3 binutils
CLEAN_FILES += $(DOCS_KEYS) $(DOCS_KEYS).d tests/build/docs-keys.tsv
