/*
 * non_tcp - sockets kashim must never touch: UDP, UNIX stream and
 * seqpacket, raw, netlink, SCTP and MPTCP where the kernel has them.
 * Each is connected (or sent to) and must still hold SO_KEEPALIVE = 0;
 * SCTP and MPTCP are connected to a listener of their own protocol, and
 * both ends are read back. Run under strace, not one setsockopt may
 * appear. A protocol this kernel lacks is one "SKIP: ..." line on
 * stdout, which preload/run.sh passes on; nothing else goes there.
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

/* Could a socket() failure mean the kernel lacks the protocol here? */
static bool absent(int err)
{
	return err == EPROTONOSUPPORT || err == ESOCKTNOSUPPORT ||
	       err == EAFNOSUPPORT || err == ENOPROTOOPT || err == EPERM ||
	       err == EACCES;
}

/* A raw socket: needs CAP_NET_RAW, skipped (and said so) without it. */
static void raw(void)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(9),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);

	if (fd < 0) {
		if (!absent(errno))
			FAIL("raw IPPROTO_TCP: socket: %s", strerror(errno));
		else
			printf("SKIP: non_tcp: raw IPPROTO_TCP: %s\n", strerror(errno));
		return;
	}
	EXPECT(connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0,
	       "raw connect: %s", strerror(errno));
	untouched("raw IPPROTO_TCP", fd);
}

/*
 * A stream socket of protocol proto (SCTP, MPTCP) connected to a listener
 * of the same protocol on loopback: the connect succeeds, as a TCP
 * connect would, and neither end gets keep-alive.
 */
static void own_protocol(const char *what, int proto)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, proto), c, a;

	if (l < 0) {
		if (!absent(errno))
			FAIL("%s: socket: %s", what, strerror(errno));
		else
			printf("SKIP: non_tcp: %s: this kernel has no such socket (%s)\n",
			       what, strerror(errno));
		return;
	}
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 4) < 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &len) < 0) {
		FAIL("%s: listener: %s", what, strerror(errno));
		close(l);
		return;
	}
	c = socket(AF_INET, SOCK_STREAM, proto);
	errno = SENTINEL;
	if (connect(c, (struct sockaddr *)&sa, len) != 0) {
		FAIL("%s: connect to its own listener: %s", what, strerror(errno));
		close(c);
		close(l);
		return;
	}
	EXPECT_ERRNO_KEPT(what);
	a = accept(l, NULL, NULL);
	EXPECT(a >= 0, "%s: accept: %s", what, strerror(errno));
	untouched(what, c);
	if (a >= 0)
		untouched(what, a);
	close(l);
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
	raw();
	own_protocol("sctp stream", IPPROTO_SCTP);
	own_protocol("mptcp", IPPROTO_MPTCP);
	return failures ? 1 : 0;
}
