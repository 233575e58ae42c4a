# fuzz.mk - libFuzzer harnesses in fuzz/, built into fuzz/build/:
#   check-fuzz  replay the seed corpus, then a short pass of each
#   fuzz        each harness for FUZZ_SECONDS (default 60)

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR := fuzz/build
FUZZ_FLAGS := -std=gnu11 -D_GNU_SOURCE -g -O1 -Isrc \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-DKASHIM_SYSCONFDIR='"$(sysconfdir)"'
FUZZ_HARNESSES := env conf
# Seeds: fuzz/corpus/NAME, and for the config parser the fixtures and the
# shipped file. New finds go to fuzz/build/corpus-NAME, never to seeds.
FUZZ_SEEDS_env := fuzz/corpus/env
FUZZ_SEEDS_conf := fuzz/corpus/conf tests/fixtures $(wildcard conf)
FUZZ_ENV := ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1

$(FUZZ_DIR):
	mkdir -p $@

# The shared settings code and the printer, compiled into each harness.
FUZZ_COMMON := src/common/settings.c src/common/rules.c src/conf/print.c

$(FUZZ_DIR)/fuzz_env: fuzz/fuzz_env.c fuzz/exercise.h $(FUZZ_COMMON) \
		$(HEADERS) | $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ fuzz/fuzz_env.c $(FUZZ_COMMON)

$(FUZZ_DIR)/fuzz_conf: fuzz/fuzz_conf.c fuzz/exercise.h src/conf/conf.c \
		$(FUZZ_COMMON) $(HEADERS) | $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(CONFUSE_CFLAGS) -o $@ fuzz/fuzz_conf.c \
		src/conf/conf.c $(FUZZ_COMMON) $(CONFUSE_LIBS)

FUZZ_BINS := $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_HARNESSES))

# fuzz/run.sh SECONDS: replay every seed, then SECONDS of fuzzing each.
.PHONY: fuzz check-fuzz
fuzz: $(FUZZ_BINS)
	@$(FUZZ_ENV) fuzz/run.sh $(FUZZ_SECONDS) \
		"env:$(FUZZ_SEEDS_env)" "conf:$(FUZZ_SEEDS_conf)"

check-fuzz: $(FUZZ_BINS)
	@$(FUZZ_ENV) fuzz/run.sh 11 \
		"env:$(FUZZ_SEEDS_env)" "conf:$(FUZZ_SEEDS_conf)"

CHECK_TARGETS += check-fuzz
CLEAN_FILES += $(FUZZ_BINS) $(wildcard fuzz/build/*.log fuzz/build/crash-*)
DEPS_PACKAGES += clang libclang-rt-14-dev
