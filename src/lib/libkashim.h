/*
 * libkashim.h - the preloaded library's private header: what its own
 * units share. Nothing here is exported.
 */
#ifndef KASHIM_LIBKASHIM_H
#define KASHIM_LIBKASHIM_H

#include <stdbool.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/settings.h"

/* Only the interposed libc functions carry this. */
#define KASHIM_EXPORT __attribute__((visibility("default")))
/* Data shared between the library's units: reached without the GOT. */
#define KASHIM_HIDDEN __attribute__((visibility("hidden")))

/* init.c: settings, read once on first need, read-only afterwards. */
KASHIM_HIDDEN extern struct kashim_settings kashim_cfg;

/*
 * Read the settings if nobody has yet (thread-safe, fork-safe, callable
 * before constructors). Returns true when kashim may touch sockets: the
 * settings are valid and enabled.
 */
bool kashim_ready(void);

/* Why kashim_ready() is false: an earlier error, or enable = false. */
const char *kashim_inactive_why(void);

/*
 * arena.c: make the settings parsers take memory from kashim's own arena
 * instead of malloc() (called at the start of every settings read).
 */
void kashim_arena_use(void);

/* fdstate.c: what kashim knows of each fd number, one byte each. */
#define KASHIM_FD_SEEN 0x01u     /* the socket was made or accepted in view */
#define KASHIM_FD_TCP 0x02u      /* ... and is TCP */
#define KASHIM_FD_OWN_KA 0x04u   /* the program set SO_KEEPALIVE */
#define KASHIM_FD_OWN_IDLE 0x08u /* the program set TCP_KEEPIDLE */
#define KASHIM_FD_OWN_INTVL 0x10u
#define KASHIM_FD_OWN_CNT 0x20u
#define KASHIM_FD_OWN_UTO 0x40u  /* the program set TCP_USER_TIMEOUT */
#define KASHIM_FD_DONE 0x80u     /* kashim has dealt with this socket */
#define KASHIM_FD_OWN_MASK 0x7cu

#ifndef KASHIM_FD_TABLE_SIZE
#define KASHIM_FD_TABLE_SIZE (1u << 20) /* a test build makes it small */
#endif
KASHIM_HIDDEN extern uint8_t kashim_fd_table[KASHIM_FD_TABLE_SIZE];
uint8_t kashim_fd_get_far(int fd);

/* The state of fd; 0 for a number kashim knows nothing of. */
static inline uint8_t kashim_fd_get(int fd)
{
	if (__builtin_expect((unsigned)fd < KASHIM_FD_TABLE_SIZE, 1))
		return __atomic_load_n(&kashim_fd_table[fd], __ATOMIC_RELAXED);
	return kashim_fd_get_far(fd);
}

/*
 * Set the state of fd, forgetting its listening port; add bits to it.
 * The out-of-line forms take every case (vfork child, numbers past the
 * tables, a new highest number); the inline ones below the common one.
 */
void kashim_fd_set_slow(int fd, uint8_t state);
void kashim_fd_add_slow(int fd, uint8_t bits);
/* Forget fds first to last (closed together: close_range, closefrom). */
void kashim_fd_forget_range(unsigned first, unsigned last);

/* The local port of listener fd, 0 when not known (yet). */
uint16_t kashim_fd_port(int fd);
void kashim_fd_set_port(int fd, uint16_t port);

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
uint8_t kashim_own_bit(int level, int name);

/*
 * vfork.c: a vfork() child runs in its parent's memory until it execs or
 * exits; whatever it closes or duplicates must not change the parent's
 * fd state. kashim_vforks counts the vfork() calls under way; only
 * then is the thread asked who it is.
 */
KASHIM_HIDDEN extern int kashim_vforks;
bool kashim_vfork_child_slow(void);

/* Is the caller a vfork() child? One load when no vfork() is under way. */
static inline bool kashim_vfork_child(void)
{
	return __builtin_expect(__atomic_load_n(&kashim_vforks,
						__ATOMIC_RELAXED) != 0, 0) &&
	       kashim_vfork_child_slow();
}

/* fdstate.c's listening ports and highest number, for the inline forms. */
#define KASHIM_FD_PORTS_SIZE (1u << 16)
KASHIM_HIDDEN extern uint16_t kashim_fd_ports[KASHIM_FD_PORTS_SIZE];
KASHIM_HIDDEN extern int kashim_fd_high;

/* Is fd a number the inline forms may take (state: what is stored)? */
static inline bool kashim_fd_near(int fd, uint8_t state)
{
	return __builtin_expect((unsigned)fd < KASHIM_FD_TABLE_SIZE &&
					(unsigned)fd < KASHIM_FD_PORTS_SIZE &&
					(!state || fd <= __atomic_load_n(&kashim_fd_high,
									 __ATOMIC_RELAXED)) &&
					!__atomic_load_n(&kashim_vforks,
							 __ATOMIC_RELAXED),
				1);
}

/* Set the state of fd, forgetting its listening port: two stores. */
static inline void kashim_fd_set(int fd, uint8_t state)
{
	if (!kashim_fd_near(fd, state)) {
		kashim_fd_set_slow(fd, state);
		return;
	}
	__atomic_store_n(&kashim_fd_table[fd], state, __ATOMIC_RELAXED);
	__atomic_store_n(&kashim_fd_ports[fd], 0, __ATOMIC_RELAXED);
}

/* Add bits to the state of fd. */
static inline void kashim_fd_add(int fd, uint8_t bits)
{
	if (!kashim_fd_near(fd, bits)) {
		kashim_fd_add_slow(fd, bits);
		return;
	}
	__atomic_fetch_or(&kashim_fd_table[fd], bits, __ATOMIC_RELAXED);
}

/* apply.c: put rule r's values on TCP socket fd. */
void kashim_apply(int fd, const struct kashim_rule *r, uint8_t state,
		  unsigned direction, const struct sockaddr *peer);

/*
 * apply.c, at debug only: one line saying why TCP socket fd (direction,
 * its port as rules see it, peer or NULL) was left alone. Cold: the
 * connect path is laid out as if it were never called.
 */
void kashim_left_alone(int fd, unsigned direction, uint16_t port,
		       const struct sockaddr *peer) __attribute__((cold));

/*
 * apply.c, at info and debug only: the line for socket fd (state) that
 * took rule r's values from its listener, as if kashim_apply() had set
 * them.
 */
void kashim_report_inherited(int fd, const struct kashim_rule *r,
			     uint8_t state, const struct sockaddr *peer)
	__attribute__((cold));


/*
 * listener.c: incoming settings put on a listening socket once, at its
 * first accept. _listen() is called before listen(): a new listener.
 * _accept() is the listener's part of an accept dealt with on its own
 * (st: the listener's state, TCP; seen: whether kashim saw it made, else
 * it asks the kernel whether keep-alive is on): it sets a new listener
 * up, or marks one whose queue the kernel now reports empty. It records
 * and returns the listener's state: with KASHIM_FD_DONE when sockets
 * accepted from it later need nothing.
 */
void kashim_listener_listen(int fd, uint8_t st);
uint8_t kashim_listener_accept(int fd, uint8_t st, bool seen);

#endif
