/*
 * common.h - what the hardening programs share: a loopback listener,
 * connections checked with getsockopt, errno sentinels, expected values.
 *
 * Every program prints "FAIL: ..." on stderr and exits 1 on the first
 * wrong thing, or prints one "ok: ..." line on stdout and exits 0. Each
 * is run under LD_PRELOAD=libkashim.so by tests/hardening/run.sh, with
 * KASHIM_IDLE, KASHIM_INTERVAL and KASHIM_COUNT set to values that are
 * neither the kernel's nor kashim's defaults.
 */
#ifndef KASHIM_HARDENING_COMMON_H
#define KASHIM_HARDENING_COMMON_H

#include <stdarg.h>

#include "lib/ka.h"

/* Print the reason on stderr and leave with status 1. */
static inline void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	fputs("FAIL: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* The options of fd; a getsockopt failure is a test failure. */
static inline struct ka ka_get(int fd)
{
	struct ka k = ka_read(fd);

	if (k.on < 0 || k.idle < 0 || k.intvl < 0 || k.cnt < 0 || k.uto < 0)
		fail("getsockopt(fd %d): %s", fd, strerror(errno));
	return k;
}

/* A positive integer from the environment, or def when unset. */
static inline int env_int(const char *name, int def)
{
	const char *v = getenv(name);

	return v && *v ? atoi(v) : def;
}

/* What kashim must have put on a socket: the run's KASHIM_* values. */
static inline struct ka ka_expected(void)
{
	struct ka k = {1, env_int("KASHIM_IDLE", 60),
		       env_int("KASHIM_INTERVAL", 15),
		       env_int("KASHIM_COUNT", 4), 0};

	return k;
}

/* Fail unless fd holds want; what names the socket in the message. */
static inline void ka_check(int fd, struct ka want, const char *what)
{
	struct ka got = ka_get(fd);

	if (!ka_equal(got, want))
		fail("%s (fd %d): SO_KEEPALIVE=%d idle=%d intvl=%d cnt=%d, "
		     "want %d/%d/%d/%d",
		     what, fd, got.on, got.idle, got.intvl, got.cnt, want.on,
		     want.idle, want.intvl, want.cnt);
}

/* Fail unless SO_KEEPALIVE on fd is off (a socket kashim must not touch). */
static inline void ka_check_off(int fd, const char *what)
{
	int on = ka_opt(fd, SOL_SOCKET, SO_KEEPALIVE);

	if (on < 0)
		fail("getsockopt(fd %d, SO_KEEPALIVE): %s", fd, strerror(errno));
	if (on != 0)
		fail("%s (fd %d): SO_KEEPALIVE=%d, want 0 (untouched)", what,
		     fd, on);
}

/* A TCP listener on 127.0.0.1, any port; its address goes to *addr. */
static inline int listener_in(struct sockaddr_in *addr)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int fd = listener(AF_INET, &sa, &len);

	memcpy(addr, &sa, sizeof(*addr));
	return fd;
}

/* Call expr with errno at the sentinel; fail if it fails or moves errno. */
#define KEEP_ERRNO(label, expr)                                                \
	({                                                                     \
		int _saved_rc;                                                 \
		errno = SENTINEL_ERRNO;                                        \
		_saved_rc = (expr);                                            \
		if (_saved_rc < 0)                                             \
			fail("%s: %s", label, strerror(errno));                \
		if (errno != SENTINEL_ERRNO)                                   \
			fail("%s succeeded but errno changed from %d to %d",   \
			     label, SENTINEL_ERRNO, errno);                    \
		_saved_rc;                                                     \
	})

/*
 * One connection to the listener lfd at addr through libc: socket(),
 * connect() and accept(), each with errno checked. The client end goes
 * to *cfd, the accepted end is returned.
 */
static inline int connect_pair(int lfd, const struct sockaddr_in *addr,
			       int *cfd)
{
	int fd = KEEP_ERRNO("socket", socket(AF_INET, SOCK_STREAM, 0));
	int afd;

	KEEP_ERRNO("connect",
		   connect(fd, (const struct sockaddr *)addr, sizeof(*addr)));
	afd = KEEP_ERRNO("accept", accept(lfd, NULL, NULL));
	*cfd = fd;
	return afd;
}

/*
 * Close both ends of a test connection. The accepted end resets (linger
 * 0), so the thousands of connections leave no TIME_WAIT behind.
 */
static inline void close_pair(int afd, int cfd)
{
	struct linger lg = {1, 0};

	setsockopt(afd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(afd);
	close(cfd);
}

/*
 * Make n loopback connections on a listener of their own and check both
 * ends of each against want. Returns the number of sockets checked.
 */
static inline long check_connections(int n, struct ka want)
{
	struct sockaddr_in addr;
	int lfd = listener_in(&addr);
	long checked = 0;

	for (int i = 0; i < n; i++) {
		int cfd, afd = connect_pair(lfd, &addr, &cfd);

		ka_check(cfd, want, "client socket");
		ka_check(afd, want, "accepted socket");
		checked += 2;
		close_pair(afd, cfd);
	}
	close(lfd);
	return checked;
}

#endif
