# hardening.mk - kashim inside other people's programs must not crash,
# leak or change errno. check-hardening: threads, fork, fd reuse, a
# kernel that refuses an option (seccomp), valgrind memcheck.
# (ASan/UBSan: sanitize.mk; libFuzzer: fuzz.mk; static analysis: lint.mk.)

HARD_DIR := tests/build/hardening
HARD_PROGS := $(addprefix $(HARD_DIR)/,threads forks fdreuse refused refuse)
HARD_CFLAGS = -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -Isrc -Itests

$(HARD_DIR):
	mkdir -p $@

$(HARD_DIR)/%: tests/hardening/%.c tests/hardening/common.h $(TEST_HEADERS) \
		| $(HARD_DIR)
	$(CC) $(HARD_CFLAGS) -pthread -o $@ $<

$(HARD_DIR)/refuse: tests/hardening/refuse.c | $(HARD_DIR)
	$(CC) $(HARD_CFLAGS) -o $@ $<

# The config parser with rules, linked directly (no preload).
$(HARD_DIR)/conf_load: tests/hardening/conf_load.c tests/hardening/common.h \
		$(TEST_HEADERS) \
		$(CONF_OBJS) $(COMMON_OBJS) | $(HARD_DIR)
	$(CC) $(HARD_CFLAGS) $(CONFUSE_CFLAGS) -o $@ $(filter-out %.h,$^) \
		$(CONFUSE_LIBS)

.PHONY: check-hardening
check-hardening: build $(HARD_PROGS) $(HARD_DIR)/conf_load $(PRELOAD_PROGS)
	@tests/hardening/run.sh all valgrind

CHECK_TARGETS += check-hardening
DEPS_PACKAGES += valgrind
CLEAN_FILES += $(HARD_PROGS) $(HARD_DIR)/conf_load
