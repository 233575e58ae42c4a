/*
 * hooks.c - the interposed libc functions, and nothing else exported.
 *
 * Each exported function is a trampoline: it calls the real function
 * and, only for a TCP socket, does kashim's work around it with errno
 * saved and restored. Every other socket passes straight through.
 */
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kashim.h"
#include "log.h"

/*
 * With _GNU_SOURCE glibc declares the address arguments as transparent
 * unions; the definitions below must match, and unwrap them with SA().
 */
#if defined(__USE_GNU) && defined(__GNUC__) && !defined(__cplusplus)
#define SA(a) ((a).__sockaddr__)
#else
#define SA(a) (a)
#endif

typedef int socket_fn(int, int, int);
typedef int connect_fn(int, const struct sockaddr *, socklen_t);
typedef int accept_fn(int, struct sockaddr *, socklen_t *);
typedef int accept4_fn(int, struct sockaddr *, socklen_t *, int);
typedef int setsockopt_fn(int, int, int, const void *, socklen_t);
typedef ssize_t sendto_fn(int, const void *, size_t, int,
			  const struct sockaddr *, socklen_t);
typedef ssize_t sendmsg_fn(int, const struct msghdr *, int);
typedef int close_fn(int);
typedef int dup_fn(int);
typedef int dup2_fn(int, int);
typedef int dup3_fn(int, int, int);
typedef int fclose_fn(FILE *);

static socket_fn *real_socket;
static connect_fn *real_connect;
static accept_fn *real_accept;
static accept4_fn *real_accept4;
static setsockopt_fn *real_setsockopt;
static sendto_fn *real_sendto;
static sendmsg_fn *real_sendmsg;
static close_fn *real_close;
static dup_fn *real_dup;
static dup2_fn *real_dup2;
static dup3_fn *real_dup3;
static fclose_fn *real_fclose;

/*
 * Find the next definition of name after this library, once; refuse our
 * own (a loop). Returns NULL when there is none.
 */
static __attribute__((noinline)) void *resolve_first(void **slot,
						     const char *name,
						     const void *self)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (p == self)
		p = NULL;
	__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	return p;
}

/* The function in *slot, found on the first call: the path every hook takes. */
static inline __attribute__((always_inline)) void *
resolve(void **slot, const char *name, const void *self)
{
	void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	return p ? p : resolve_first(slot, name, self);
}

/* The real function, or return -1 with ENOSYS from the caller. */
#define REAL(fn)                                                          \
	fn##_fn *next = resolve((void **)&real_##fn, #fn, (void *)(fn));  \
	if (!next) {                                                      \
		errno = ENOSYS;                                           \
		return -1;                                                \
	}

int kashim_real_setsockopt(int fd, int level, int name, const void *val,
			   socklen_t len)
{
	REAL(setsockopt);
	return next(fd, level, name, val, len);
}

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
	r = kashim_match(&kashim_cfg, KASHIM_DIR_OUTGOING, port_of(addr), addr);
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
	r = kashim_match(&kashim_cfg, KASHIM_DIR_INCOMING, incoming_port(lfd),
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

KASHIM_EXPORT int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
	REAL(connect);
	outgoing(fd, SA(addr), len);
	return next(fd, SA(addr), len);
}

KASHIM_EXPORT int accept(int fd, __SOCKADDR_ARG addr, socklen_t *len)
{
	REAL(accept);
	socklen_t given = SA(addr) && len ? *len : 0;
	int nfd = next(fd, SA(addr), len);

	if (nfd >= 0)
		incoming(fd, nfd, SA(addr), given, SA(addr) && len ? *len : 0);
	return nfd;
}

KASHIM_EXPORT int accept4(int fd, __SOCKADDR_ARG addr, socklen_t *len,
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
			     __CONST_SOCKADDR_ARG addr, socklen_t len)
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
