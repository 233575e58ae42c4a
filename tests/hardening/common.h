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

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* An errno value no call of the test sets: it must survive success. */
#define SENTINEL_ERRNO 4242

/* The keep-alive options of a socket, as the kernel holds them. */
struct ka {
	int on, idle, intvl, cnt;
};

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

/* Read one int option; a getsockopt failure is a test failure. */
static inline int opt_get(int fd, int level, int name, const char *label)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, level, name, &v, &len) < 0)
		fail("getsockopt(fd %d, %s): %s", fd, label, strerror(errno));
	return v;
}

static inline struct ka ka_get(int fd)
{
	struct ka k;

	k.on = opt_get(fd, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE");
	k.idle = opt_get(fd, IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE");
	k.intvl = opt_get(fd, IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL");
	k.cnt = opt_get(fd, IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT");
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
		       env_int("KASHIM_COUNT", 4)};

	return k;
}

/* Does socket fd hold exactly the values k? */
static inline int ka_equal(struct ka a, struct ka b)
{
	return a.on == b.on && a.idle == b.idle && a.intvl == b.intvl &&
	       a.cnt == b.cnt;
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
	int on = opt_get(fd, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE");

	if (on != 0)
		fail("%s (fd %d): SO_KEEPALIVE=%d, want 0 (untouched)", what,
		     fd, on);
}

/* A TCP listener on 127.0.0.1, any port; its address goes to *addr. */
static inline int listener(struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)addr, len) < 0 ||
	    listen(fd, 512) < 0 ||
	    getsockname(fd, (struct sockaddr *)addr, &len) < 0)
		fail("listener: %s", strerror(errno));
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
	int lfd = listener(&addr);
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
