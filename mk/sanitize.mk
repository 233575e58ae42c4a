# sanitize.mk - check-sanitize: ASan+UBSan builds of the unit tests, and
# of the library under the preload and hardening programs. The same
# sources, built into tests/build/san/.

SAN_DIR := tests/build/san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
SAN_CFLAGS = $(KASHIM_CFLAGS) -O1 -g $(SAN_FLAGS)
SAN_LIB_OBJS := $(patsubst src/%.o,$(SAN_DIR)/%.o,$(LIB_OBJS))
SAN_MODULE_OBJS := $(patsubst src/%.o,$(SAN_DIR)/%.o,$(MODULE_OBJS))
# Everything but the interposed calls, for the unit tests to link.
SAN_ARCHIVE_OBJS := $(sort $(filter-out $(SAN_DIR)/lib/hooks.o,\
	$(SAN_LIB_OBJS) $(SAN_MODULE_OBJS) $(SAN_DIR)/conf/print.o \
	$(SAN_DIR)/cmd/uring.o))
SAN_UNITS := $(patsubst tests/build/%,$(SAN_DIR)/%,$(UNIT_TESTS))
# The unit tests run from tests/; ASan's own leak check is on for them.
SAN_ENV := ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

$(SAN_DIR):
	mkdir -p $@

$(SAN_DIR)/%.o: src/%.c | $(SAN_DIR)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) $(DEPFLAGS) $(CONFUSE_CFLAGS) -c -o $@ $<

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
		$(SAN_DIR)/kashim-conf.so $(HARD_PROGS) $(PRELOAD_PROGS) \
		$(HARD_SMALL_LIB)
	@n=0; for t in $(SAN_UNITS); do \
		echo "sanitize: unit $$t"; \
		(cd tests && CK_FORK=yes $(SAN_ENV) ../$$t) || exit 1; \
		n=$$((n + 1)); \
	done; echo "sanitize: $$n unit test program(s) clean under ASan+UBSan"
	@KASHIM_LIB=$(SAN_DIR)/libkashim.so \
		HARD_PRELOAD_FIRST="$$($(CC) -print-file-name=libasan.so)" \
		tests/hardening/run.sh all preload

CHECK_TARGETS += check-sanitize

