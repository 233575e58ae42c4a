/*
 * hooks.c - the interposed libc functions, and nothing else exported.
 *
 * Each exported function is a trampoline: it calls the real function
 * (real.h) and, only for a TCP socket, does kashim's work around it with
 * errno saved and restored. Every other socket passes straight through.
 * The interposed names, on one screen: socket, connect, accept, accept4,
 * setsockopt, sendto, sendmsg (the connect path), listen (a server's
 * listener, listener.c), close, close_range, closefrom, fclose, dup,
 * dup2, dup3, fcntl, fcntl64, recvmsg, vfork (keeping the fd table
 * honest).
 *
 * The caller's memory (an address, *len, a msghdr) is read only after the
 * real call succeeded or started a connection: the kernel read it then,
 * so a bad pointer gets EFAULT from libc as it would without kashim.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "apply.h"
#include "export.h"
#include "fdstate.h"
#include "init.h"
#include "listener.h"
#include "log.h"
#include "real.h"

/* From <linux/close_range.h>; musl's headers do not carry it. */
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/*
 * The hooks on every connection's way (socket, connect, accept):
 * everything they call in this unit, and the fd table, inline. close()
 * and setsockopt() go further: their common case calls on into libc
 * without a frame of kashim's, the rest is out of line (noinline). The
 * first call of each looks the real function up out of line too, so
 * that the common case saves no registers for it.
 */
#define FLAT __attribute__((flatten))

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

/*
 * Is fd, in state st, a TCP socket kashim still has to deal with? An fd
 * it did not see made costs one or two questions to the kernel.
 */
static bool pending_tcp(int fd, uint8_t st)
{
	if (!(st & KASHIM_FD_SEEN))
		st |= kashim_fd_learn(fd, fd);
	return !(st & KASHIM_FD_DONE) && (st & KASHIM_FD_TCP);
}

/*
 * Did a connect (or a send with MSG_FASTOPEN) that returned rc, errno e,
 * start a connection? Then the kernel has read the address: it was
 * valid memory.
 */
static bool connection_started(long rc, int e)
{
	return rc >= 0 || e == EINPROGRESS || e == EINTR || e == EALREADY ||
	       e == EISCONN;
}

/* An outgoing connection on fd to addr was just started. */
static void outgoing(int fd, const struct sockaddr *addr, socklen_t len)
{
	uint8_t st = kashim_fd_get(fd);
	const struct kashim_rule *r;
	int saved;

	if ((st & KASHIM_FD_DONE) || !kashim_inet_addr(addr, len))
		return;
	saved = errno;
	if (!pending_tcp(fd, st))
		goto out;
	kashim_fd_add(fd, KASHIM_FD_SEEN | KASHIM_FD_TCP | KASHIM_FD_DONE);
	r = kashim_ready() ? kashim_rule_quick(&kashim_cfg, KASHIM_DIR_OUTGOING,
					     kashim_addr_port(addr), addr) : NULL;
	if (r)
		kashim_apply(fd, r, st, KASHIM_DIR_OUTGOING, addr);
	else if (kashim_log_enabled(KASHIM_LOG_DEBUG))
		kashim_left_alone(fd, KASHIM_DIR_OUTGOING, kashim_addr_port(addr),
				  addr);
out:
	errno = saved;
}

/*
 * The peer of an accepted socket, asked of the kernel only when a rule
 * or a message needs it (the caller's own buffer may be too short).
 */
static const struct sockaddr *incoming_peer(int fd,
					    struct sockaddr_storage *buf)
{
	socklen_t len = sizeof(*buf);

	if (!kashim_cfg.need_host && !kashim_log_enabled(KASHIM_LOG_INFO))
		return NULL;
	if (getpeername(fd, (struct sockaddr *)buf, &len) == 0 &&
	    kashim_inet_addr((struct sockaddr *)buf, len))
		return (const struct sockaddr *)buf;
	return NULL;
}

/*
 * The local port of connections accepted on listener lfd, when a rule
 * needs it: the listener's own (fdstate.c keeps it once asked).
 */
static uint16_t incoming_port(int lfd)
{
	return kashim_cfg.need_port ? kashim_fd_local_port(lfd) : 0;
}

/*
 * fd was accepted from a listener that carries kashim's values (or needs
 * none): it is done, with the listener's kind and own choices.
 */
static inline void inherited(int fd, uint8_t lst)
{
	kashim_fd_set(fd, (lst & (KASHIM_FD_OWN_MASK | KASHIM_FD_TCP)) |
				  KASHIM_FD_SEEN | KASHIM_FD_DONE);
}

/*
 * fd was accepted on listener lfd, in state lst, and needs more than the
 * listener gave it. It inherits the listener's kind and the options the
 * program set on the listener (the kernel copies them).
 */
static __attribute__((noinline)) void incoming_one(int lfd, uint8_t lst,
						   int fd)
{
	uint8_t st;
	struct sockaddr_storage buf;
	const struct sockaddr *peer;
	const struct kashim_rule *r;
	int saved = errno;

	if (!(lst & KASHIM_FD_SEEN)) { /* ask once per listener, not per accept */
		lst |= kashim_fd_learn(lfd, fd);
		if (lst & KASHIM_FD_TCP)
			lst = kashim_listener_accept(lfd, lst, false);
	} else if (lst & KASHIM_FD_TCP) {
		lst = kashim_listener_accept(lfd, lst, true);
	}
	st = (lst & KASHIM_FD_OWN_MASK) | KASHIM_FD_SEEN | KASHIM_FD_DONE;
	if (!(lst & KASHIM_FD_TCP)) {
		kashim_fd_set(fd, KASHIM_FD_SEEN | KASHIM_FD_DONE);
		goto out;
	}
	kashim_fd_set(fd, st | KASHIM_FD_TCP);
	if (!kashim_ready()) {
		if (kashim_log_enabled(KASHIM_LOG_DEBUG))
			kashim_left_alone(fd, KASHIM_DIR_INCOMING, 0, NULL);
		goto out;
	}
	peer = incoming_peer(fd, &buf);
	r = kashim_rule_quick(&kashim_cfg, KASHIM_DIR_INCOMING, incoming_port(lfd),
			 peer);
	if (r)
		kashim_apply(fd, r, st, KASHIM_DIR_INCOMING, peer);
	else if (kashim_log_enabled(KASHIM_LOG_DEBUG))
		kashim_left_alone(fd, KASHIM_DIR_INCOMING, incoming_port(lfd),
				  peer);
out:
	errno = saved;
}

/*
 * At info and debug: the line a socket accepted from a done listener
 * would have had if it had been dealt with on its own.
 */
static __attribute__((cold, noinline)) void incoming_said(int lfd, int fd,
							  uint8_t lst)
{
	struct sockaddr_storage buf;
	const struct sockaddr *peer;
	const struct kashim_rule *r = NULL;
	uint16_t port = incoming_port(lfd);
	int saved = errno;

	peer = incoming_peer(fd, &buf);
	if (kashim_ready())
		r = kashim_rule_quick(&kashim_cfg, KASHIM_DIR_INCOMING, port, peer);
	if (r)
		kashim_report_inherited(fd, r, lst, peer);
	else if (kashim_log_enabled(KASHIM_LOG_DEBUG))
		kashim_left_alone(fd, KASHIM_DIR_INCOMING, port, peer);
	errno = saved;
}

/*
 * fd was accepted on listener lfd, whose state was lst before accept()
 * was called: a connection taken from the queue before the listener was
 * marked done is dealt with on its own. From a listener marked done (it
 * carries kashim's values, or needs none) it is done at once, without a
 * system call.
 */
static inline void incoming(int lfd, int fd, uint8_t lst)
{
	if (!(lst & KASHIM_FD_DONE)) {
		incoming_one(lfd, lst, fd);
		return;
	}
	inherited(fd, lst);
	if ((lst & KASHIM_FD_TCP) && kashim_log_enabled(KASHIM_LOG_INFO))
		incoming_said(lfd, fd, lst);
}

/* A new socket on fd, made by socket(domain, type, protocol). */
static inline int made(socket_fn *next, int domain, int type, int protocol)
{
	uint8_t st = kashim_is_tcp_triple(domain, type, protocol) ?
			     KASHIM_FD_SEEN | KASHIM_FD_TCP :
			     KASHIM_FD_SEEN | KASHIM_FD_DONE;
	int fd = next(domain, type, protocol);

	if (fd >= 0)
		kashim_fd_set(fd, st);
	return fd;
}

/* The first socket() call: the real one is looked up. */
static __attribute__((noinline)) int socket_first(int domain, int type,
						  int protocol)
{
	REAL(socket);
	return made(next, domain, type, protocol);
}

KASHIM_EXPORT FLAT int socket(int domain, int type, int protocol)
{
	socket_fn *next = __atomic_load_n(&real_socket, __ATOMIC_ACQUIRE);

	if (!next)
		return socket_first(domain, type, protocol);
	return made(next, domain, type, protocol);
}

KASHIM_EXPORT FLAT int connect(int fd, kashim_const_addr_arg addr,
				 socklen_t len)
{
	REAL(connect);
	int rc = next(fd, SA(addr), len);

	if (rc == 0 || connection_started(rc, errno))
		outgoing(fd, SA(addr), len);
	return rc;
}

KASHIM_EXPORT FLAT int accept(int fd, kashim_addr_arg addr, socklen_t *len)
{
	REAL(accept);
	uint8_t lst = kashim_fd_get(fd); /* before the call: see incoming() */
	int nfd = next(fd, SA(addr), len);

	if (nfd >= 0)
		incoming(fd, nfd, lst);
	return nfd;
}

KASHIM_EXPORT FLAT int accept4(int fd, kashim_addr_arg addr, socklen_t *len,
			  int flags)
{
	REAL(accept4);
	uint8_t lst = kashim_fd_get(fd); /* before the call: see incoming() */
	int nfd = next(fd, SA(addr), len, flags);

	if (nfd >= 0)
		incoming(fd, nfd, lst);
	return nfd;
}

/*
 * setsockopt() of a keep-alive option kashim sets (or the first call of
 * all): once the call succeeded, that option is the program's choice.
 */
static __attribute__((noinline)) int own_choice(int fd, int level, int name,
						 const void *val, socklen_t len)
{
	REAL(setsockopt);
	int rc = next(fd, level, name, val, len);
	uint8_t own = rc == 0 ? kashim_own_bit(level, name) : 0;

	if (own)
		kashim_fd_add(fd, own);
	return rc;
}

/* Any other option passes straight through, without a frame of ours. */
KASHIM_EXPORT int setsockopt(int fd, int level, int name, const void *val,
			     socklen_t len)
{
	setsockopt_fn *next = __atomic_load_n(&real_setsockopt, __ATOMIC_ACQUIRE);

	if (!next || kashim_own_bit(level, name))
		return own_choice(fd, level, name, val, len);
	return next(fd, level, name, val, len);
}

/* A new listener: set up at its first accept (listener.c). */
KASHIM_EXPORT int listen(int fd, int backlog)
{
	REAL(listen);
	if (kashim_fd_get(fd) & KASHIM_FD_TCP)
		kashim_listener_listen(fd);
	return next(fd, backlog);
}

/*
 * A closed fd number means nothing any more: forget what kashim knew.
 * close_slow() takes the first call and the numbers the inline form of
 * fdstate.h does not; the common case calls on into libc without a
 * frame of kashim's.
 */
static __attribute__((noinline)) int close_slow(int fd)
{
	REAL(close);
	kashim_fd_set(fd, 0);
	return next(fd);
}

KASHIM_EXPORT int close(int fd)
{
	close_fn *next = __atomic_load_n(&real_close, __ATOMIC_ACQUIRE);

	if (!next || !kashim_fd_forget_near(fd))
		return close_slow(fd);
	return next(fd);
}

/*
 * A duplicate is the same socket: it knows what the original knew, and
 * whatever its number meant before is forgotten.
 */
KASHIM_EXPORT int dup(int fd)
{
	REAL(dup);
	int nfd = next(fd);

	if (nfd >= 0)
		kashim_fd_copy(nfd, fd);
	return nfd;
}

KASHIM_EXPORT int dup2(int fd, int nfd)
{
	REAL(dup2);
	int rc = next(fd, nfd);

	if (rc >= 0 && rc != fd)
		kashim_fd_copy(rc, fd);
	return rc;
}

KASHIM_EXPORT int dup3(int fd, int nfd, int flags)
{
	REAL(dup3);
	int rc = next(fd, nfd, flags);

	if (rc >= 0)
		kashim_fd_copy(rc, fd);
	return rc;
}

/*
 * close_range() and closefrom() (glibc 2.34; the real ones are looked up
 * when first called): the numbers closed mean nothing any more. Forgotten
 * after the call, so that a refused call forgets nothing. With
 * CLOSE_RANGE_CLOEXEC nothing is closed now.
 */
KASHIM_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	REAL(close_range);
	int rc = next(first, last, flags);

	if (rc == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		kashim_fd_forget_range(first, last);
	return rc;
}

KASHIM_EXPORT void closefrom(int lowfd)
{
	closefrom_fn *next = kashim_real_resolve((void **)&real_closefrom,
						 "closefrom", (void *)closefrom);

	if (next)
		next(lowfd);
	kashim_fd_forget_range(lowfd < 0 ? 0 : (unsigned)lowfd, INT_MAX);
}

/*
 * fcntl() copies an fd with F_DUPFD and F_DUPFD_CLOEXEC: the copy knows
 * what the original knew, as with dup(). Every other command passes
 * straight through with its argument. The argument is read as a pointer
 * whatever the command: an int, a pointer or nothing. On the Linux ABIs
 * each variadic argument fills a whole register or stack slot, and the
 * real fcntl() reads it back as the type its command takes (libc does
 * the same); for a command without argument the value is ignored.
 */
static int fcntl_with(fcntl_fn *next, int fd, int cmd, void *arg)
{
	/* No fcntl() behind kashim: the system call, not ENOSYS (shells
	 * need it to redirect). */
	int rc = next ? next(fd, cmd, arg) : (int)syscall(SYS_fcntl, fd, cmd, arg);

	if (rc >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		kashim_fd_copy(rc, fd);
	return rc;
}

KASHIM_EXPORT int fcntl(int fd, int cmd, ...)
{
	fcntl_fn *next = kashim_real_resolve((void **)&real_fcntl, "fcntl",
					     (void *)fcntl);
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_with(next, fd, cmd, arg);
}

/* The same under the name of programs built with 64-bit file offsets. */
KASHIM_EXPORT int fcntl64(int fd, int cmd, ...)
{
	fcntl64_fn *next = kashim_real_resolve((void **)&real_fcntl64,
					       "fcntl64", (void *)fcntl64);
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_with(next, fd, cmd, arg);
}

/*
 * fds received over a UNIX socket (SCM_RIGHTS) land on free numbers that
 * may have been closed behind kashim's back (a raw system call): kashim
 * learns them afresh, like any socket it did not see made.
 */
static void forget_received(const struct msghdr *msg)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c;
	     c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		const unsigned char *p = CMSG_DATA(c);
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, p + i * sizeof(int), sizeof(fd));
			kashim_fd_set(fd, 0);
		}
	}
}

KASHIM_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	REAL(recvmsg);
	ssize_t n = next(fd, msg, flags);

	if (n >= 0 && msg->msg_controllen)
		forget_received(msg);
	return n;
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
	ssize_t rc = next(fd, buf, n, flags, SA(addr), len);

	if ((flags & MSG_FASTOPEN) && connection_started(rc, errno))
		outgoing(fd, SA(addr), len);
	return rc;
}

KASHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	REAL(sendmsg);
	ssize_t rc = next(fd, msg, flags);

	if ((flags & MSG_FASTOPEN) && connection_started(rc, errno))
		outgoing(fd, msg->msg_name, msg->msg_namelen);
	return rc;
}

#if defined(__x86_64__) && !defined(__CET__)
/*
 * vfork(): the child runs on the parent's stack until it execs or exits,
 * so no C frame of kashim's may live across the call. The caller's
 * return address is kept in vfork.c's slot for this thread, the real
 * vfork() is called with nothing of ours on the stack, and both the
 * child and then the parent fetch the address back and jump to it (see
 * vfork.c). The stack is 16-byte aligned at each call. Not built with
 * -fcf-protection: the return by jump would not match a shadow stack.
 */
__asm__(".text\n"
	".globl vfork\n"
	".type vfork, @function\n"
	"vfork:\n"
	"	popq %rdi\n"                     /* the caller's return address */
	"	call kashim_vfork_enter@PLT\n"   /* -> the real vfork() */
	"	call *%rax\n"                    /* returns in child, then parent */
	"	pushq %rax\n"
	"	subq $8, %rsp\n"
	"	movl %eax, %edi\n"
	"	call kashim_vfork_leave@PLT\n"   /* -> the caller's return address */
	"	addq $8, %rsp\n"
	"	movq %rax, %rcx\n"
	"	popq %rax\n"
	"	jmp *%rcx\n"
	".size vfork, .-vfork\n");
#endif
