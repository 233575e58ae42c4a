/*
 * fdstate.h - everything the library knows about an fd number, in one
 * word: its kind and the program's own choices (the state byte), its
 * listener state (listener.c) and its local port, once asked. The word
 * is set whole by the calls that make, end or replace what the number
 * means (socket, accept, close, dup*, F_DUPFD, SCM_RIGHTS, close_range,
 * closefrom), so nothing of a closed socket survives on its number.
 */
#ifndef KASHIM_FDSTATE_H
#define KASHIM_FDSTATE_H

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "export.h"
#include "vfork.h"

/* The state byte. */
#define KASHIM_FD_SEEN 0x01u     /* the socket was made or accepted in view */
#define KASHIM_FD_TCP 0x02u      /* ... and is TCP */
#define KASHIM_FD_OWN_KA 0x04u   /* the program set SO_KEEPALIVE */
#define KASHIM_FD_OWN_IDLE 0x08u /* the program set TCP_KEEPIDLE */
#define KASHIM_FD_OWN_INTVL 0x10u
#define KASHIM_FD_OWN_CNT 0x20u
#define KASHIM_FD_OWN_UTO 0x40u  /* the program set TCP_USER_TIMEOUT */
#define KASHIM_FD_DONE 0x80u     /* kashim has dealt with this socket */
#define KASHIM_FD_OWN_MASK 0x7cu

/* The word: state byte, listener byte, local port (0: not known yet). */
#define KASHIM_FD_STATE_MASK 0x000000ffu
#define KASHIM_FD_LISTENER_SHIFT 8
#define KASHIM_FD_LISTENER_MASK 0x0000ff00u
#define KASHIM_FD_PORT_SHIFT 16
#define KASHIM_FD_PORT_MASK 0xffff0000u

/*
 * Numbers below the table size have their word in the table; numbers
 * past it (possible where nr_open was raised) keep their state byte
 * only, in blocks mapped on first use: no listener byte, no port.
 */
#ifndef KASHIM_FD_TABLE_SIZE
#define KASHIM_FD_TABLE_SIZE (1u << 20) /* a test build makes it small */
#endif
KASHIM_HIDDEN extern uint32_t kashim_fd_table[KASHIM_FD_TABLE_SIZE];

/*
 * The inline forms below take the numbers under this limit: one past the
 * highest number ever given a state, at most the table size. It only
 * grows; numbers above it hold nothing.
 */
KASHIM_HIDDEN extern unsigned kashim_fd_limit;

uint8_t kashim_fd_get_far(int fd);
void kashim_fd_set_slow(int fd, uint32_t word);
void kashim_fd_add_slow(int fd, uint8_t bits);

/* Is fd a number in the table? */
static inline bool kashim_fd_in_table(int fd)
{
	return (unsigned)fd < KASHIM_FD_TABLE_SIZE;
}

/* May the inline forms change fd's word (no vfork() under way)? */
static inline bool kashim_fd_near(int fd)
{
	return __builtin_expect((unsigned)fd < __atomic_load_n(&kashim_fd_limit,
							       __ATOMIC_RELAXED) &&
					!__atomic_load_n(&kashim_vforks,
							 __ATOMIC_RELAXED),
				1);
}

/* The state byte of fd; 0 for a number kashim knows nothing of. */
static inline uint8_t kashim_fd_get(int fd)
{
	if (__builtin_expect(kashim_fd_in_table(fd), 1))
		return (uint8_t)__atomic_load_n(&kashim_fd_table[fd],
						__ATOMIC_RELAXED);
	return kashim_fd_get_far(fd);
}

/*
 * fd means something new: its word becomes word, most often a state byte
 * alone, so that all else about it is forgotten (past the table: the
 * state byte only).
 */
static inline void kashim_fd_set(int fd, uint32_t word)
{
	if (!kashim_fd_near(fd)) {
		kashim_fd_set_slow(fd, word);
		return;
	}
	__atomic_store_n(&kashim_fd_table[fd], word, __ATOMIC_RELAXED);
}

/*
 * Forget fd when the inline form takes it (true); otherwise the caller
 * calls kashim_fd_set(fd, 0) out of its way (false).
 */
static inline bool kashim_fd_forget_near(int fd)
{
	if (!kashim_fd_near(fd))
		return false;
	__atomic_store_n(&kashim_fd_table[fd], 0, __ATOMIC_RELAXED);
	return true;
}

/* Add bits to the state byte of fd. */
static inline void kashim_fd_add(int fd, uint8_t bits)
{
	if (!kashim_fd_near(fd)) {
		kashim_fd_add_slow(fd, bits);
		return;
	}
	__atomic_fetch_or(&kashim_fd_table[fd], bits, __ATOMIC_RELAXED);
}

/* fd is a duplicate of from (dup, F_DUPFD): the same socket, all of it. */
void kashim_fd_copy(int fd, int from);

/* Forget fds first to last (closed together: close_range, closefrom). */
void kashim_fd_forget_range(unsigned first, unsigned last);

/*
 * The listener byte of fd: 0 until set, KASHIM_FD_NO_LISTENER past the
 * table (no room to keep one).
 */
#define KASHIM_FD_NO_LISTENER 0xffu
uint8_t kashim_fd_listener(int fd);

/*
 * In one step: the listener byte of fd becomes w, and its state byte
 * loses the bits clear and gains the bits add (past the table: the state
 * byte only).
 */
void kashim_fd_set_listener(int fd, uint8_t w, uint8_t clear, uint8_t add);

/* Is a (len bytes, maybe NULL) an IPv4 or IPv6 address of a usable length? */
static inline bool kashim_inet_addr(const struct sockaddr *a, socklen_t len)
{
	if (!a || len < sizeof(sa_family_t))
		return false;
	/*
	 * False positive of the analyzer below: it does not know that a
	 * getsockname() which succeeded with this len wrote the family.
	 */
	/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
	if (a->sa_family == AF_INET)
		return len >= sizeof(struct sockaddr_in);
	if (a->sa_family == AF_INET6)
		return len >= sizeof(struct sockaddr_in6);
	return false;
}

/*
 * The port of a, an address kashim_inet_addr() accepted: the local port
 * below and the destination of a connect() alike.
 */
static inline uint16_t kashim_addr_port(const struct sockaddr *a)
{
	if (a->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)a)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
}

/*
 * The local port of socket fd, 0 when it has none (yet): asked of the
 * kernel once, then kept with the fd's other state.
 */
uint16_t kashim_fd_local_port(int fd);

/*
 * For an fd kashim did not see made: ask the kernel whether ask_fd is a
 * TCP stream socket (SO_PROTOCOL, then SO_TYPE) and record the answer
 * on mark_fd (the same fd, or the listener of an accepted one). Returns
 * the kind recorded:
 * KASHIM_FD_SEEN with KASHIM_FD_TCP, or with KASHIM_FD_DONE (not TCP).
 */
uint8_t kashim_fd_learn(int mark_fd, int ask_fd);

/* Is this socket() call's triple TCP (any type flags, protocol 0 or TCP)? */
static inline bool kashim_is_tcp_triple(int domain, int type, int protocol)
{
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	return (domain == AF_INET || domain == AF_INET6) &&
	       type == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP);
}

/* Own-choice bit for a setsockopt level and name, 0 if not tracked. */
static inline uint8_t kashim_own_bit(int level, int name)
{
	if (level == SOL_SOCKET)
		return name == SO_KEEPALIVE ? KASHIM_FD_OWN_KA : 0;
	if (level != IPPROTO_TCP)
		return 0;
	switch (name) {
	case TCP_KEEPIDLE: return KASHIM_FD_OWN_IDLE;
	case TCP_KEEPINTVL: return KASHIM_FD_OWN_INTVL;
	case TCP_KEEPCNT: return KASHIM_FD_OWN_CNT;
	case TCP_USER_TIMEOUT: return KASHIM_FD_OWN_UTO;
	default: return 0;
	}
}

#endif
