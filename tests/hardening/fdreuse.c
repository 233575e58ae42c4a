/*
 * fdreuse.c - fd numbers that change behind kashim's back.
 *
 * kashim keeps one byte per fd number, learnt from socket(), accept(),
 * close(), fclose() and the dup family, but it cannot see raw system
 * calls. Checked:
 *   raw-tcp   a TCP socket made with syscall(SYS_socket) on a number
 *             kashim never saw, connected through libc: set.
 *   dup2      dup2(udp, tcp_fd) then connect(tcp_fd) to a UDP peer: the
 *             UDP socket is untouched (SO_KEEPALIVE still 0).
 *   fclose    a TCP socket closed through fdopen()+fclose(), its number
 *             reused by a UDP socket from syscall(SYS_socket), connected
 *             through libc: untouched. Once with the TCP socket never
 *             connected, once after a completed connection.
 *   dup2-tcp  dup2(tcp, udp_fd) then connect(udp_fd) to a TCP listener:
 *             the TCP socket now on the UDP number is set.
 *   dup       a TCP socket dup()ed, the original closed, the copy
 *             connected: set.
 *   fclose-tcp a UDP socket closed through fdopen()+fclose(), its number
 *             reused by a TCP socket from syscall(SYS_socket), connected
 *             through libc: set.
 * Every connect() and socket() must keep errno.
 */
#include <sys/syscall.h>

#include "common.h"

static struct ka want;
static int checked;

/* A bound UDP socket on loopback: a destination for UDP connects. */
static int udp_peer(struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)addr, len) < 0 ||
	    getsockname(fd, (struct sockaddr *)addr, &len) < 0)
		fail("udp peer: %s", strerror(errno));
	return fd;
}

/* Fail unless fd is a UDP socket with SO_KEEPALIVE off. */
static void udp_untouched(int fd, const char *what)
{
	if (ka_opt(fd, SOL_SOCKET, SO_PROTOCOL) != IPPROTO_UDP)
		fail("%s: fd %d is not the UDP socket", what, fd);
	ka_check_off(fd, what);
	checked++;
}

/* A TCP socket from the raw system call, connected through libc. */
static void raw_tcp(int lfd, const struct sockaddr_in *laddr)
{
	int fd = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	int afd;

	if (fd < 0)
		fail("syscall(SYS_socket): %s", strerror(errno));
	KEEP_ERRNO("connect(raw TCP)",
		   connect(fd, (const struct sockaddr *)laddr, sizeof(*laddr)));
	afd = KEEP_ERRNO("accept", accept(lfd, NULL, NULL));
	ka_check(fd, want, "raw-tcp: TCP socket from syscall(SYS_socket)");
	ka_check(afd, want, "raw-tcp: its accepted end");
	checked += 2;
	close(afd);
	close(fd);
}

/* dup2() a UDP socket over a TCP socket's number, then connect it. */
static void dup2_udp(const struct sockaddr_in *uaddr)
{
	int tcp = KEEP_ERRNO("socket", socket(AF_INET, SOCK_STREAM, 0));
	int udp = KEEP_ERRNO("socket", socket(AF_INET, SOCK_DGRAM, 0));

	if (dup2(udp, tcp) != tcp)
		fail("dup2: %s", strerror(errno));
	close(udp);
	KEEP_ERRNO(
		"connect(UDP on the TCP socket's number)",
		connect(tcp, (const struct sockaddr *)uaddr, sizeof(*uaddr)));
	udp_untouched(tcp, "dup2: UDP socket on a TCP fd number");
	close(tcp);
}

/*
 * Close a TCP socket through stdio (connected first when lfd >= 0), make
 * a UDP socket with the raw system call on the same number and connect
 * it through libc.
 */
static void fclose_udp(int lfd, const struct sockaddr_in *laddr,
		       const struct sockaddr_in *uaddr, const char *what)
{
	int tcp = KEEP_ERRNO("socket", socket(AF_INET, SOCK_STREAM, 0));
	int udp, afd = -1;
	FILE *f;

	if (lfd >= 0) {
		KEEP_ERRNO("connect",
			   connect(tcp, (const struct sockaddr *)laddr,
				   sizeof(*laddr)));
		afd = KEEP_ERRNO("accept", accept(lfd, NULL, NULL));
	}
	f = fdopen(tcp, "r+");
	if (!f)
		fail("fdopen: %s", strerror(errno));
	fclose(f);
	udp = (int)syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	if (udp != tcp)
		fail("%s: the UDP socket got fd %d, not the closed %d", what,
		     udp, tcp);
	KEEP_ERRNO(
		"connect(UDP from syscall on a reused number)",
		connect(udp, (const struct sockaddr *)uaddr, sizeof(*uaddr)));
	udp_untouched(udp, what);
	close(udp);
	if (afd >= 0)
		close(afd);
}

/* Connect fd to the listener and check both ends are set. */
static void connect_set(int fd, int lfd, const struct sockaddr_in *laddr,
			const char *what)
{
	int afd;

	KEEP_ERRNO("connect", connect(fd, (const struct sockaddr *)laddr,
				      sizeof(*laddr)));
	afd = KEEP_ERRNO("accept", accept(lfd, NULL, NULL));
	ka_check(fd, want, what);
	ka_check(afd, want, "accepted end");
	checked += 2;
	close(afd);
}

/* dup2() a TCP socket over a UDP socket's number, then connect it. */
static void dup2_tcp(int lfd, const struct sockaddr_in *laddr)
{
	int tcp = KEEP_ERRNO("socket", socket(AF_INET, SOCK_STREAM, 0));
	int udp = KEEP_ERRNO("socket", socket(AF_INET, SOCK_DGRAM, 0));

	if (dup2(tcp, udp) != udp)
		fail("dup2: %s", strerror(errno));
	close(tcp);
	connect_set(udp, lfd, laddr, "dup2-tcp: TCP socket on a UDP fd number");
	close(udp);
}

/* dup() a TCP socket, close the original, connect the copy. */
static void dup_tcp(int lfd, const struct sockaddr_in *laddr)
{
	int tcp = KEEP_ERRNO("socket", socket(AF_INET, SOCK_STREAM, 0));
	int copy = dup(tcp);

	close(tcp);
	connect_set(copy, lfd, laddr, "dup: a copy of a TCP socket");
	close(copy);
}

/* A UDP socket closed by fclose(), its number reused by a raw TCP socket. */
static void fclose_tcp(int lfd, const struct sockaddr_in *laddr)
{
	int udp = KEEP_ERRNO("socket", socket(AF_INET, SOCK_DGRAM, 0)), tcp;
	FILE *f = fdopen(udp, "r+");

	if (!f)
		fail("fdopen: %s", strerror(errno));
	fclose(f);
	tcp = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	if (tcp != udp)
		fail("fclose-tcp: the TCP socket got fd %d, not the closed %d",
		     tcp, udp);
	connect_set(tcp, lfd, laddr, "fclose-tcp: raw TCP on a number fclose() freed");
	close(tcp);
}

int main(void)
{
	struct sockaddr_in laddr, uaddr;
	int lfd, ufd;

	want = ka_expected();
	/* The listener takes the lowest number; the raw socket the next. */
	lfd = listener_in(&laddr);
	raw_tcp(lfd, &laddr);
	ufd = udp_peer(&uaddr);
	for (int i = 0; i < 100; i++) {
		dup2_udp(&uaddr);
		fclose_udp(-1, &laddr, &uaddr,
			   "fclose: unconnected TCP, then UDP");
		fclose_udp(lfd, &laddr, &uaddr,
			   "fclose: connected TCP, then UDP");
		dup2_tcp(lfd, &laddr);
		dup_tcp(lfd, &laddr);
		fclose_tcp(lfd, &laddr);
	}
	close(ufd);
	close(lfd);
	printf("ok: fdreuse: raw-tcp, dup2, fclose, dup2-tcp, dup, fclose-tcp x100, %d sockets checked\n",
	       checked);
	return 0;
}
