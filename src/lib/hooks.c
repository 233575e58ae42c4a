/*
 * hooks.c - the interposed libc functions, and nothing else exported.
 *
 * Each exported function is a trampoline: it calls the real function
 * (real.h) and, only for a TCP socket, does kashim's work around it with
 * errno saved and restored. Every other socket passes straight through.
 * The interposed names, on one screen: socket, connect, accept, accept4,
 * setsockopt, sendto, sendmsg (the connect path), close, fclose, dup,
 * dup2, dup3 (keeping the fd table honest).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "real.h"

/*
 * With _GNU_SOURCE glibc declares the address arguments as transparent
 * unions (typedefs, so #ifdef cannot see them); the definitions below
 * must match, and unwrap them with SA(). Other C libraries, musl among
 * them, declare plain pointers.
 */
#if defined(__GLIBC__) && defined(__USE_GNU) && defined(__GNUC__) &&           \
	!defined(__cplusplus)
typedef __SOCKADDR_ARG kashim_addr_arg;
typedef __CONST_SOCKADDR_ARG kashim_const_addr_arg;
#define SA(a) ((a).__sockaddr__)
#else
typedef struct sockaddr *kashim_addr_arg;
typedef const struct sockaddr *kashim_const_addr_arg;
#define SA(a) (a)
#endif

/* Is addr an IPv4 or IPv6 destination of a usable length? */
static bool inet_dest(const struct sockaddr *addr, socklen_t len)
{
	if (!addr || len < sizeof(sa_family_t))
		return false;
	/*
	 * False positive of the analyzer below: it does not know that a
	 * getsockname() which succeeded with this len wrote the family.
	 */
	/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
	if (addr->sa_family == AF_INET)
		return len >= sizeof(struct sockaddr_in);
	if (addr->sa_family == AF_INET6)
		return len >= sizeof(struct sockaddr_in6);
	return false;
}

static uint16_t port_of(const struct sockaddr *a)
{
	if (a->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)a)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
}

/*
 * Is fd, in state st, a TCP socket kashim still has to deal with? An fd
 * it did not see made costs one question to the kernel.
 */
static bool pending_tcp(int fd, uint8_t st)
{
	if (!(st & KASHIM_FD_SEEN))
		st |= kashim_fd_learn(fd, fd);
	return !(st & KASHIM_FD_DONE) && (st & KASHIM_FD_TCP);
}

/* An outgoing connection on fd to addr is about to be made. */
static void outgoing(int fd, const struct sockaddr *addr, socklen_t len)
{
	uint8_t st = kashim_fd_get(fd);
	const struct kashim_rule *r;
	int saved;

	if ((st & KASHIM_FD_DONE) || !inet_dest(addr, len))
		return;
	saved = errno;
	if (!pending_tcp(fd, st))
		goto out;
	kashim_fd_add(fd, KASHIM_FD_SEEN | KASHIM_FD_TCP | KASHIM_FD_DONE);
	if (!kashim_ready())
		goto out;
	r = kashim_rule_for(&kashim_cfg, KASHIM_DIR_OUTGOING, port_of(addr), addr);
	if (r)
		kashim_apply(fd, r, st, KASHIM_DIR_OUTGOING, addr);
out:
	errno = saved;
}

/* The peer of an accepted socket, asked of the kernel only when needed. */
static const struct sockaddr *incoming_peer(int fd, const struct sockaddr *addr,
					    socklen_t given, socklen_t got,
					    struct sockaddr_storage *buf)
{
	socklen_t len = sizeof(*buf);

	if (!kashim_cfg.need_host && !kashim_log_enabled(KASHIM_LOG_INFO))
		return NULL;
	if (addr && got <= given && inet_dest(addr, got))
		return addr;
	if (getpeername(fd, (struct sockaddr *)buf, &len) == 0)
		return (const struct sockaddr *)buf;
	return NULL;
}

/*
 * The local port of connections accepted on listener lfd: the listener's
 * own, asked of the kernel once per listener and kept.
 */
static uint16_t incoming_port(int lfd)
{
	struct sockaddr_storage buf;
	socklen_t len = sizeof(buf);
	uint16_t port;

	if (!kashim_cfg.need_port)
		return 0;
	port = kashim_fd_port(lfd);
	if (port)
		return port;
	if (getsockname(lfd, (struct sockaddr *)&buf, &len) != 0 ||
	    !inet_dest((struct sockaddr *)&buf, len))
		return 0;
	port = port_of((struct sockaddr *)&buf);
	kashim_fd_set_port(lfd, port);
	return port;
}

/*
 * fd was accepted on listener lfd. It inherits the listener's kind and
 * the options the program set on the listener (the kernel copies them).
 */
static void incoming(int lfd, int fd, const struct sockaddr *addr,
		     socklen_t given, socklen_t got)
{
	uint8_t lst = kashim_fd_get(lfd);
	uint8_t st = (lst & KASHIM_FD_OWN_MASK) | KASHIM_FD_SEEN | KASHIM_FD_DONE;
	struct sockaddr_storage buf;
	const struct sockaddr *peer;
	const struct kashim_rule *r;
	int saved = errno;

	if (!(lst & KASHIM_FD_SEEN)) /* ask once per listener, not per accept */
		lst |= kashim_fd_learn(lfd, fd);
	if (!(lst & KASHIM_FD_TCP)) {
		kashim_fd_set(fd, KASHIM_FD_SEEN | KASHIM_FD_DONE);
		goto out;
	}
	kashim_fd_set(fd, st | KASHIM_FD_TCP);
	if (!kashim_ready())
		goto out;
	peer = incoming_peer(fd, addr, given, got, &buf);
	r = kashim_rule_for(&kashim_cfg, KASHIM_DIR_INCOMING, incoming_port(lfd),
			 peer);
	if (r)
		kashim_apply(fd, r, st, KASHIM_DIR_INCOMING, peer);
out:
	errno = saved;
}

KASHIM_EXPORT int socket(int domain, int type, int protocol)
{
	REAL(socket);
	int fd = next(domain, type, protocol);

	if (fd >= 0)
		kashim_fd_set(fd, kashim_is_tcp_triple(domain, type, protocol) ?
					  KASHIM_FD_SEEN | KASHIM_FD_TCP :
					  KASHIM_FD_SEEN | KASHIM_FD_DONE);
	return fd;
}

KASHIM_EXPORT int connect(int fd, kashim_const_addr_arg addr, socklen_t len)
{
	REAL(connect);
	outgoing(fd, SA(addr), len);
	return next(fd, SA(addr), len);
}

KASHIM_EXPORT int accept(int fd, kashim_addr_arg addr, socklen_t *len)
{
	REAL(accept);
	socklen_t given = SA(addr) && len ? *len : 0;
	int nfd = next(fd, SA(addr), len);

	if (nfd >= 0)
		incoming(fd, nfd, SA(addr), given, SA(addr) && len ? *len : 0);
	return nfd;
}

KASHIM_EXPORT int accept4(int fd, kashim_addr_arg addr, socklen_t *len,
			  int flags)
{
	REAL(accept4);
	socklen_t given = SA(addr) && len ? *len : 0;
	int nfd = next(fd, SA(addr), len, flags);

	if (nfd >= 0)
		incoming(fd, nfd, SA(addr), given, SA(addr) && len ? *len : 0);
	return nfd;
}

KASHIM_EXPORT int setsockopt(int fd, int level, int name, const void *val,
			     socklen_t len)
{
	REAL(setsockopt);
	int rc = next(fd, level, name, val, len);
	uint8_t own = rc == 0 ? kashim_own_bit(level, name) : 0;

	if (own)
		kashim_fd_add(fd, own);
	return rc;
}

/* A closed fd number means nothing any more: forget what kashim knew. */
KASHIM_EXPORT int close(int fd)
{
	REAL(close);
	kashim_fd_set(fd, 0);
	return next(fd);
}

/* A duplicate is the same socket: it knows what the original knew. */
KASHIM_EXPORT int dup(int fd)
{
	REAL(dup);
	int nfd = next(fd);

	if (nfd >= 0)
		kashim_fd_set(nfd, kashim_fd_get(fd));
	return nfd;
}

KASHIM_EXPORT int dup2(int fd, int nfd)
{
	REAL(dup2);
	int rc = next(fd, nfd);

	if (rc >= 0 && rc != fd)
		kashim_fd_set(rc, kashim_fd_get(fd));
	return rc;
}

KASHIM_EXPORT int dup3(int fd, int nfd, int flags)
{
	REAL(dup3);
	int rc = next(fd, nfd, flags);

	if (rc >= 0)
		kashim_fd_set(rc, kashim_fd_get(fd));
	return rc;
}

/* A stream closed through stdio frees its fd number as close() does. */
KASHIM_EXPORT int fclose(FILE *fp)
{
	REAL(fclose);
	int saved = errno;

	if (fp)
		kashim_fd_set(fileno(fp), 0); /* -1 for a stream without fd */
	errno = saved;
	return next(fp);
}

KASHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
			     kashim_const_addr_arg addr, socklen_t len)
{
	REAL(sendto);
	if (flags & MSG_FASTOPEN)
		outgoing(fd, SA(addr), len);
	return next(fd, buf, n, flags, SA(addr), len);
}

KASHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	REAL(sendmsg);
	if ((flags & MSG_FASTOPEN) && msg)
		outgoing(fd, msg->msg_name, msg->msg_namelen);
	return next(fd, msg, flags);
}
