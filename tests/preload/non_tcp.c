/*
 * non_tcp - sockets kashim must never touch: UDP, UNIX stream and
 * seqpacket, raw, netlink, SCTP and MPTCP where the kernel has them.
 * Each is connected (or sent to) and must still hold SO_KEEPALIVE = 0;
 * run under strace, not one setsockopt may appear.
 */
#include <linux/netlink.h>
#include <sys/un.h>

#include "common.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

static void untouched(const char *what, int fd)
{
	EXPECT(ka_opt(fd, SOL_SOCKET, SO_KEEPALIVE) == 0, "%s: SO_KEEPALIVE set",
	       what);
	close(fd);
}

static void udp(void)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(9),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	errno = SENTINEL;
	EXPECT(connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0,
	       "udp connect: %s", strerror(errno));
	EXPECT_ERRNO_KEPT("udp connect");
	untouched("udp connect", fd);
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_UDP);
	struct sockaddr_in6 to6 = { .sin6_family = AF_INET6,
				    .sin6_port = htons(9),
				    .sin6_addr = in6addr_loopback };
	errno = SENTINEL;
	EXPECT(sendto(fd, "x", 1, MSG_FASTOPEN, (struct sockaddr *)&to6,
		      sizeof(to6)) == -1 || errno == SENTINEL,
	       "udp6 sendto");
	untouched("udp6 sendto", fd);
}

/* A UNIX socket of type connected to a listener of its own. */
static void unix_kind(const char *what, int type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l = socket(AF_UNIX, type, 0), c;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/kashim-non-tcp-%d",
		 (int)getpid());
	unlink(sa.sun_path);
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0) {
		FAIL("%s: listener: %s", what, strerror(errno));
		return;
	}
	c = socket(AF_UNIX, type, 0);
	errno = SENTINEL;
	EXPECT(connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0,
	       "%s connect: %s", what, strerror(errno));
	EXPECT_ERRNO_KEPT(what);
	untouched(what, accept(l, NULL, NULL));
	untouched(what, c);
	close(l);
	unlink(sa.sun_path);
}

/* A socket that may not exist here (module, privilege): skip quietly. */
static void optional(const char *what, int domain, int type, int proto)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(9),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(domain, type, proto);

	if (fd < 0) {
		printf("skip %s: %s\n", what, strerror(errno));
		return;
	}
	connect(fd, (struct sockaddr *)&to, sizeof(to));
	untouched(what, fd);
}

static void netlink(void)
{
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);

	errno = SENTINEL;
	EXPECT(connect(fd, (struct sockaddr *)&nl, sizeof(nl)) == 0,
	       "netlink connect: %s", strerror(errno));
	untouched("netlink", fd);
}

int main(void)
{
	udp();
	unix_kind("unix stream", SOCK_STREAM);
	unix_kind("unix seqpacket", SOCK_SEQPACKET);
	netlink();
	optional("raw IPPROTO_TCP", AF_INET, SOCK_RAW, IPPROTO_TCP);
	optional("sctp stream", AF_INET, SOCK_STREAM, IPPROTO_SCTP);
	optional("mptcp", AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	return failures ? 1 : 0;
}
