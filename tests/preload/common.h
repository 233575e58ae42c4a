/*
 * common.h - how the preload test programs fail: every wrong thing is
 * counted (FAIL, EXPECT) and the program goes on. Sockets, options and
 * listeners come from tests/lib/ka.h.
 */
#ifndef KASHIM_TEST_COMMON_H
#define KASHIM_TEST_COMMON_H

#include <stdbool.h>

#include "lib/ka.h"

static int failures;

#define FAIL(...)                                                         \
	do {                                                              \
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);     \
		fprintf(stderr, __VA_ARGS__);                             \
		fputc('\n', stderr);                                      \
		failures++;                                               \
	} while (0)

#define EXPECT(cond, ...)                                                 \
	do {                                                              \
		if (!(cond))                                              \
			FAIL(__VA_ARGS__);                                \
	} while (0)

/* errno must come back as the sentinel set before a call that succeeds. */
#define SENTINEL SENTINEL_ERRNO
#define EXPECT_ERRNO_KEPT(what)                                           \
	EXPECT(errno == SENTINEL, "%s changed errno to %d (%s)", what,    \
	       errno, strerror(errno))

static inline void expect_ka(const char *what, int fd, struct ka want)
{
	struct ka k = ka_read(fd);

	EXPECT(k.on == want.on && k.idle == want.idle &&
		       k.intvl == want.intvl && k.cnt == want.cnt &&
		       k.uto == want.uto,
	       "%s: keepalive=%d idle=%d intvl=%d cnt=%d uto=%d, want %d/%d/%d/%d/%d",
	       what, k.on, k.idle, k.intvl, k.cnt, k.uto, want.on, want.idle,
	       want.intvl, want.cnt, want.uto);
}

/* Expected values from a test argument: "none" or "IDLE,INTVL,CNT,UTO". */
static inline struct ka want_from(const char *arg)
{
	struct ka k = { 1, 0, 0, 0, 0 };

	if (!arg || strcmp(arg, "none") == 0)
		return kernel_ka();
	if (sscanf(arg, "%d,%d,%d,%d", &k.idle, &k.intvl, &k.cnt, &k.uto) != 4) {
		fprintf(stderr, "bad expectation '%s': none or IDLE,INTVL,CNT,UTO\n",
			arg);
		exit(2);
	}
	return k;
}

#endif
