/*
 * tcp_kinds OUT IN - every kind of TCP socket kashim must handle, read
 * back with getsockopt. OUT is what outgoing sockets must hold, IN what
 * accepted ones must hold: "none" (the kernel's) or IDLE,INTVL,CNT,UTO.
 * errno must survive every call that succeeds, and every error kept.
 */
#include <fcntl.h>
#include <poll.h>

#include "common.h"

static struct ka want_out, want_in;

/* Accept one connection on l with accept, or accept4 when flags >= 0. */
static int take(int l, int flags)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	int fd;

	errno = SENTINEL;
	fd = flags < 0 ? accept(l, (struct sockaddr *)&peer, &len)
		       : accept4(l, flags ? NULL : (struct sockaddr *)&peer,
				 flags ? NULL : &len, flags);
	EXPECT(fd >= 0, "accept: %s", strerror(errno));
	EXPECT_ERRNO_KEPT("accept");
	return fd;
}

/* Wait until a non-blocking connect on fd has finished. */
static void finish_connect(int fd)
{
	struct pollfd p = { fd, POLLOUT, 0 };

	EXPECT(poll(&p, 1, 5000) == 1, "non-blocking connect did not finish");
	EXPECT(ka_opt(fd, SOL_SOCKET, SO_ERROR) == 0, "non-blocking connect failed");
}

/* One client of domain/type/protocol to a listener of family lfam. */
static void one(const char *what, int lfam, int domain, int type, int proto,
		int accept_flags)
{
	struct sockaddr_storage sa;
	struct sockaddr_in6 mapped;
	const struct sockaddr *to;
	socklen_t len;
	int l = listener(lfam, &sa, &len), c, a, rc;

	to = (struct sockaddr *)&sa;
	if (lfam == AF_INET && domain == AF_INET6) { /* IPv4-mapped */
		memset(&mapped, 0, sizeof(mapped));
		mapped.sin6_family = AF_INET6;
		mapped.sin6_port = ((struct sockaddr_in *)&sa)->sin_port;
		inet_pton(AF_INET6, "::ffff:127.0.0.1", &mapped.sin6_addr);
		to = (struct sockaddr *)&mapped;
		len = sizeof(mapped);
	}
	errno = SENTINEL;
	c = socket(domain, type, proto);
	EXPECT(c >= 0, "%s: socket: %s", what, strerror(errno));
	EXPECT_ERRNO_KEPT("socket");
	rc = connect(c, to, len);
	if (type & SOCK_NONBLOCK) {
		EXPECT(rc == -1 && (errno == EINPROGRESS || errno == SENTINEL),
		       "%s: non-blocking connect: rc %d errno %d", what, rc, errno);
		finish_connect(c);
	} else {
		EXPECT(rc == 0, "%s: connect: %s", what, strerror(errno));
		EXPECT_ERRNO_KEPT("connect");
	}
	a = take(l, accept_flags);
	expect_ka(what, c, want_out);
	expect_ka(what, a, want_in);
	close(a);
	close(c);
	close(l);
}

/* TCP Fast Open: the connection is made by sendto or sendmsg. */
static void fastopen(const char *what, bool use_sendmsg)
{
	struct sockaddr_storage sa;
	struct iovec iov = { "x", 1 };
	struct msghdr msg = { 0 };
	socklen_t len;
	int l = listener(AF_INET, &sa, &len), c, a;
	ssize_t n;

	c = socket(AF_INET, SOCK_STREAM, 0);
	errno = SENTINEL;
	if (use_sendmsg) {
		msg.msg_name = &sa;
		msg.msg_namelen = len;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		n = sendmsg(c, &msg, MSG_FASTOPEN);
	} else {
		n = sendto(c, "x", 1, MSG_FASTOPEN, (struct sockaddr *)&sa, len);
	}
	EXPECT(n == 1, "%s: %s", what, strerror(errno));
	EXPECT_ERRNO_KEPT(what);
	a = take(l, -1);
	expect_ka(what, c, want_out);
	close(a);
	close(c);
	close(l);
}

/* Failing calls keep their own errno and return value. */
static void errors_kept(void)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int l = listener(AF_INET, &sa, &len), c;

	close(l); /* nobody listens there now */
	c = socket(AF_INET, SOCK_STREAM, 0);
	errno = SENTINEL;
	EXPECT(connect(c, (struct sockaddr *)&sa, len) == -1 &&
		       errno == ECONNREFUSED,
	       "refused connect: errno %d", errno);
	close(c);
	errno = SENTINEL;
	EXPECT(connect(-1, (struct sockaddr *)&sa, len) == -1 && errno == EBADF,
	       "connect(-1): errno %d", errno);
	c = socket(AF_INET, SOCK_STREAM, 0);
	errno = SENTINEL;
	EXPECT(accept(c, NULL, NULL) == -1 && errno == EINVAL,
	       "accept on a non-listening socket: errno %d", errno);
	errno = SENTINEL;
	/* qemu-user (make check-aarch64) answers ESOCKTNOSUPPORT. */
	EXPECT(socket(AF_INET, 12345, 0) == -1 &&
		       (errno == EINVAL || errno == ESOCKTNOSUPPORT),
	       "socket with a bad type: errno %d", errno);
	errno = SENTINEL;
	EXPECT(setsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &(int){ 0 }, sizeof(int)) == -1 &&
		       errno == EINVAL,
	       "setsockopt(TCP_KEEPIDLE=0): errno %d", errno);
	close(c);
}

int main(int argc, char **argv)
{
	int nb = SOCK_NONBLOCK, cx = SOCK_CLOEXEC;

	want_out = want_from(argc > 1 ? argv[1] : NULL);
	want_in = want_from(argc > 2 ? argv[2] : argv[1]);
	one("IPv4", AF_INET, AF_INET, SOCK_STREAM, 0, -1);
	one("IPv4 IPPROTO_TCP", AF_INET, AF_INET, SOCK_STREAM, IPPROTO_TCP, -1);
	one("IPv6", AF_INET6, AF_INET6, SOCK_STREAM, 0, -1);
	one("IPv4-mapped IPv6", AF_INET, AF_INET6, SOCK_STREAM, IPPROTO_TCP, -1);
	one("IPv4 CLOEXEC, accept4", AF_INET, AF_INET, SOCK_STREAM | cx, 0, 0);
	one("IPv4 NONBLOCK", AF_INET, AF_INET, SOCK_STREAM | nb, 0, -1);
	one("IPv6 NONBLOCK|CLOEXEC, accept4 flags", AF_INET6, AF_INET6,
	    SOCK_STREAM | nb | cx, 0, SOCK_CLOEXEC | SOCK_NONBLOCK);
	fastopen("sendto MSG_FASTOPEN", false);
	fastopen("sendmsg MSG_FASTOPEN", true);
	errors_kept();
	return failures ? 1 : 0;
}
