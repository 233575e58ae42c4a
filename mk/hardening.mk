# hardening.mk - kashim inside other people's programs must not crash,
# leak or change errno. Targets:
#   check-hardening  threads, fork, fd reuse, a kernel that refuses an
#                    option (seccomp), valgrind memcheck
#   check-sanitize   ASan+UBSan builds of the unit tests, and of the
#                    library under the preload and hardening programs
#   check-fuzz       libFuzzer: replay the seed corpus, then a short pass
#   fuzz             each harness for FUZZ_SECONDS (default 60)
#   lint, check-lint cppcheck and clang-tidy over src/, no finding

HARD_DIR := tests/build/hardening
HARD_PROGS := $(addprefix $(HARD_DIR)/,threads forks fdreuse refused refuse)
HARD_CFLAGS = -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -Isrc

$(HARD_DIR):
	mkdir -p $@

$(HARD_DIR)/%: tests/hardening/%.c tests/hardening/common.h | $(HARD_DIR)
	$(CC) $(HARD_CFLAGS) -pthread -o $@ $<

$(HARD_DIR)/refuse: tests/hardening/refuse.c | $(HARD_DIR)
	$(CC) $(HARD_CFLAGS) -o $@ $<

# The config parser with rules, linked directly (no preload).
$(HARD_DIR)/conf_load: tests/hardening/conf_load.c src/conf.o src/settings.o \
		| $(HARD_DIR)
	$(CC) $(HARD_CFLAGS) $(CONFUSE_CFLAGS) -o $@ $^ $(CONFUSE_LIBS)

.PHONY: check-hardening
check-hardening: build $(HARD_PROGS) $(HARD_DIR)/conf_load $(PRELOAD_PROGS)
	@tests/hardening/run.sh all valgrind

# --- sanitizers: the same sources, built into tests/build/san/ -----------

SAN_DIR := tests/build/san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
SAN_CFLAGS = $(KASHIM_CFLAGS) -O1 -g $(SAN_FLAGS)
SAN_LIB_OBJS := $(patsubst src/%.o,$(SAN_DIR)/%.o,$(LIB_OBJS))
SAN_MODULE_OBJS := $(patsubst src/%.o,$(SAN_DIR)/%.o,$(MODULE_OBJS))
# Everything but the interposed calls, for the unit tests to link.
SAN_ARCHIVE_OBJS := $(sort $(filter-out $(SAN_DIR)/hooks.o,\
	$(SAN_LIB_OBJS) $(SAN_MODULE_OBJS)))
SAN_UNITS := $(patsubst tests/build/%,$(SAN_DIR)/%,$(UNIT_TESTS))
# The unit tests run from tests/; ASan's own leak check is on for them.
SAN_ENV := ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

$(SAN_DIR):
	mkdir -p $@

$(SAN_DIR)/%.o: src/%.c $(wildcard src/*.h) | $(SAN_DIR)
	$(CC) $(SAN_CFLAGS) $(CONFUSE_CFLAGS) -c -o $@ $<

$(SAN_DIR)/libkashim.so: $(SAN_LIB_OBJS)
	$(CC) $(SAN_CFLAGS) -shared -Wl,-soname,$(SONAME) -o $@ $^

$(SAN_DIR)/kashim-conf.so: $(SAN_MODULE_OBJS)
	$(CC) $(SAN_CFLAGS) -shared -o $@ $^ $(CONFUSE_LIBS)

$(SAN_DIR)/libkashim-units.a: $(SAN_ARCHIVE_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(SAN_DIR)/test_%: tests/unit/test_%.c $(SAN_DIR)/libkashim-units.a \
		$(wildcard tests/unit/*.h)
	$(CC) $(TEST_CFLAGS) $(SAN_FLAGS) $(CHECK_CFLAGS) $(CONFUSE_CFLAGS) \
		-o $@ $< $(SAN_DIR)/libkashim-units.a $(CHECK_LIBS) \
		$(CONFUSE_LIBS)

.PHONY: check-sanitize
check-sanitize: build $(SAN_UNITS) $(SAN_DIR)/libkashim.so \
		$(SAN_DIR)/kashim-conf.so $(HARD_PROGS) $(PRELOAD_PROGS)
	@n=0; for t in $(SAN_UNITS); do \
		echo "sanitize: unit $$t"; \
		(cd tests && CK_FORK=yes $(SAN_ENV) ../$$t) || exit 1; \
		n=$$((n + 1)); \
	done; echo "sanitize: $$n unit test program(s) clean under ASan+UBSan"
	@KASHIM_LIB=$(SAN_DIR)/libkashim.so \
		HARD_PRELOAD_FIRST="$$($(CC) -print-file-name=libasan.so)" \
		tests/hardening/run.sh all preload

CHECK_TARGETS += check-hardening check-sanitize
DEPS_PACKAGES += clang libclang-rt-14-dev cppcheck clang-tidy valgrind
CLEAN_FILES += $(HARD_PROGS) $(HARD_DIR)/conf_load
