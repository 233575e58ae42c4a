/*
 * ka.h - what every C test program shares: reading a socket's keep-alive
 * options back from the kernel, the kernel's own defaults, a loopback
 * listener, and the errno sentinel. tests/preload/common.h and
 * tests/hardening/common.h add their own way of failing on top.
 */
#ifndef KASHIM_TESTS_KA_H
#define KASHIM_TESTS_KA_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* An errno value no call of a test sets: it must survive success. */
#define SENTINEL_ERRNO 4242

/* The keep-alive options of a socket, as the kernel holds them. */
struct ka {
	int on, idle, intvl, cnt, uto;
};

/* One int option of fd; -1 when getsockopt fails. */
static inline int ka_opt(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, level, name, &v, &len) < 0)
		return -1;
	return v;
}

static inline struct ka ka_read(int fd)
{
	struct ka k = {
		ka_opt(fd, SOL_SOCKET, SO_KEEPALIVE),
		ka_opt(fd, IPPROTO_TCP, TCP_KEEPIDLE),
		ka_opt(fd, IPPROTO_TCP, TCP_KEEPINTVL),
		ka_opt(fd, IPPROTO_TCP, TCP_KEEPCNT),
		ka_opt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT),
	};
	return k;
}

static inline int ka_equal(struct ka a, struct ka b)
{
	return a.on == b.on && a.idle == b.idle && a.intvl == b.intvl &&
	       a.cnt == b.cnt && a.uto == b.uto;
}

/*
 * The kernel's own keep-alive values, what an untouched socket holds;
 * the compiled-in ones when /proc cannot be read.
 */
static inline struct ka kernel_ka(void)
{
	struct ka k = {0, 7200, 75, 9, 0};
	const char *files[] = {"/proc/sys/net/ipv4/tcp_keepalive_time",
			       "/proc/sys/net/ipv4/tcp_keepalive_intvl",
			       "/proc/sys/net/ipv4/tcp_keepalive_probes"};
	int *dst[] = {&k.idle, &k.intvl, &k.cnt};

	for (int i = 0; i < 3; i++) {
		FILE *f = fopen(files[i], "r");

		if (f && fscanf(f, "%d", dst[i]) != 1)
			fprintf(stderr, "cannot read %s\n", files[i]);
		if (f)
			fclose(f);
	}
	return k;
}

/* The loopback address of family (AF_INET or AF_INET6), port 0. */
static inline void loopback_addr(int family, struct sockaddr_storage *sa,
				 socklen_t *len)
{
	memset(sa, 0, sizeof(*sa));
	sa->ss_family = (sa_family_t)family;
	if (family == AF_INET)
		((struct sockaddr_in *)sa)->sin_addr.s_addr =
			htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)sa)->sin6_addr = in6addr_loopback;
	*len = family == AF_INET ? sizeof(struct sockaddr_in)
				 : sizeof(struct sockaddr_in6);
}

/*
 * A listening TCP socket on the loopback of family (AF_INET or
 * AF_INET6), any port; its address goes to sa and len. Exits with
 * status 2 (the test could not run) when it cannot be made.
 */
static inline int listener(int family, struct sockaddr_storage *sa,
			   socklen_t *len)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	loopback_addr(family, sa, len);
	if (fd < 0 || bind(fd, (struct sockaddr *)sa, *len) < 0 ||
	    listen(fd, 512) < 0 ||
	    getsockname(fd, (struct sockaddr *)sa, len) < 0) {
		perror("listener");
		exit(2);
	}
	return fd;
}

#endif
