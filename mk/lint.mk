# lint.mk - static analysis: cppcheck and clang-tidy over src/, no finding.
#
# A finding is fixed in src/, or, when it is a false positive, suppressed
# on its line with a comment saying why (cppcheck-suppress / NOLINT).
# Checks left out, each for a reason:
#   bugprone-easily-swappable-parameters  adjacent ints/pointers mirror
#       the libc calls kashim wraps; a heuristic, not a defect
#   cert-err33-c  snprintf/fprintf/fclose results are ignored on purpose
#       (messages are best effort; nothing may fail the host's call)
#   clang-analyzer-security.insecureAPI.strcpy and ...DeprecatedOr-
#       UnsafeBufferHandling  flag every strcpy/memcpy/snprintf and ask
#       for C11 Annex K (*_s), which glibc does not have; each strcpy in
#       src/ copies after a length check on the line before it
LINT_CPPCHECK := cppcheck --quiet --error-exitcode=1 --inline-suppr \
	--enable=warning,style,performance,portability --std=c11 \
	-D_GNU_SOURCE -D__GNUC__ -D__linux__ -Isrc \
	--suppress=missingIncludeSystem
LINT_TIDY_CHECKS := -*,clang-analyzer-*,bugprone-*,cert-*,misc-*,\
performance-*,portability-*,\
-bugprone-easily-swappable-parameters,-cert-err33-c,\
-clang-analyzer-security.insecureAPI.strcpy,\
-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling
LINT_TIDY := clang-tidy --quiet --warnings-as-errors='*' \
	--checks='$(LINT_TIDY_CHECKS)'
LINT_SRCS = $(sort $(wildcard src/*/*.c))

.PHONY: lint check-lint
lint:
	@echo "lint: cppcheck over $(words $(LINT_SRCS)) files of src/"
	@$(LINT_CPPCHECK) $(LINT_SRCS) || { \
		echo "lint: cppcheck findings above"; exit 1; }
	@echo "lint: clang-tidy over $(words $(LINT_SRCS)) files of src/"
	@# One file per run: clang-tidy 14 carries the va_list checker's state
	@# from one file to the next and then flags every vsnprintf after it.
	@fail=; for f in $(LINT_SRCS); do \
		$(LINT_TIDY) $$f -- $(KASHIM_CFLAGS) $(CONFUSE_CFLAGS) -Isrc \
			2>/dev/null || fail="$$fail $$f"; \
	done; \
	if [ -n "$$fail" ]; then echo "lint: clang-tidy findings in$$fail"; exit 1; fi
	@echo "lint: clean"

check-lint: lint

CHECK_TARGETS += check-lint
DEPS_PACKAGES += cppcheck clang-tidy
