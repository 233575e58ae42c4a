/*
 * common.h - what the preload test programs share: loopback listeners,
 * reading keep-alive options back, and a failure count.
 */
#ifndef KASHIM_TEST_COMMON_H
#define KASHIM_TEST_COMMON_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
#define SENTINEL 4242
#define EXPECT_ERRNO_KEPT(what)                                           \
	EXPECT(errno == SENTINEL, "%s changed errno to %d (%s)", what,    \
	       errno, strerror(errno))

/* Keep-alive options of a socket, as the kernel holds them. */
struct ka {
	int on, idle, intvl, cnt, uto;
};

static inline int opt(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, level, name, &v, &len) < 0)
		return -1;
	return v;
}

static inline struct ka read_ka(int fd)
{
	struct ka k = {
		opt(fd, SOL_SOCKET, SO_KEEPALIVE),
		opt(fd, IPPROTO_TCP, TCP_KEEPIDLE),
		opt(fd, IPPROTO_TCP, TCP_KEEPINTVL),
		opt(fd, IPPROTO_TCP, TCP_KEEPCNT),
		opt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT),
	};
	return k;
}

/* The kernel's own keep-alive values, what an untouched socket holds. */
static inline struct ka kernel_ka(void)
{
	struct ka k = { 0, 7200, 75, 9, 0 };
	const char *files[] = { "/proc/sys/net/ipv4/tcp_keepalive_time",
				"/proc/sys/net/ipv4/tcp_keepalive_intvl",
				"/proc/sys/net/ipv4/tcp_keepalive_probes" };
	int *dst[] = { &k.idle, &k.intvl, &k.cnt };

	for (int i = 0; i < 3; i++) {
		FILE *f = fopen(files[i], "r");

		if (f && fscanf(f, "%d", dst[i]) != 1)
			FAIL("cannot read %s", files[i]);
		if (f)
			fclose(f);
	}
	return k;
}

static inline void expect_ka(const char *what, int fd, struct ka want)
{
	struct ka k = read_ka(fd);

	EXPECT(k.on == want.on && k.idle == want.idle &&
		       k.intvl == want.intvl && k.cnt == want.cnt &&
		       k.uto == want.uto,
	       "%s: keepalive=%d idle=%d intvl=%d cnt=%d uto=%d, want %d/%d/%d/%d/%d",
	       what, k.on, k.idle, k.intvl, k.cnt, k.uto, want.on, want.idle,
	       want.intvl, want.cnt, want.uto);
}

/* A listening TCP socket on the loopback of family; its address in sa. */
static inline int listener(int family, struct sockaddr_storage *sa, socklen_t *len)
{
	int fd = socket(family, SOCK_STREAM, 0);

	memset(sa, 0, sizeof(*sa));
	sa->ss_family = (sa_family_t)family;
	if (family == AF_INET)
		((struct sockaddr_in *)sa)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)sa)->sin6_addr = in6addr_loopback;
	*len = family == AF_INET ? sizeof(struct sockaddr_in)
				 : sizeof(struct sockaddr_in6);
	if (fd < 0 || bind(fd, (struct sockaddr *)sa, *len) < 0 ||
	    listen(fd, 64) < 0 || getsockname(fd, (struct sockaddr *)sa, len) < 0) {
		perror("listener");
		exit(2);
	}
	return fd;
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
