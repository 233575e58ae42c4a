/*
 * fdstate.c - one byte of knowledge per fd number.
 *
 * The table covers the kernel's default limit of open files (nr_open,
 * 2^20); numbers past it, possible where nr_open was raised, get blocks
 * of the same kind mapped on first use (one mmap() per block of numbers,
 * never on the way of a connection below the table). Listening ports are
 * kept for the first 2^16 numbers (beyond, the kernel is asked per
 * accept). All of it lives in .bss or anonymous memory: pages are only
 * backed once a socket uses them.
 * Bytes are read and written atomically; what an fd number means at a
 * given moment is the program's business, so relaxed order is enough.
 * A vfork() child changes nothing (it shares the parent's memory).
 */
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>

#include "libkashim.h"

#ifndef KASHIM_FD_BLOCK_SIZE
#define KASHIM_FD_BLOCK_SIZE (1u << 20)
#endif
#define FD_TABLE_SIZE ((unsigned)KASHIM_FD_TABLE_SIZE)
#define FD_BLOCK_SIZE ((unsigned)KASHIM_FD_BLOCK_SIZE)
/* Blocks for the numbers from FD_TABLE_SIZE up to INT_MAX. */
#define FD_BLOCKS (((unsigned)INT_MAX - FD_TABLE_SIZE) / FD_BLOCK_SIZE + 1)
/* Listeners' ports, for rules with ports on accepted sockets. */
#define PORT_TABLE_SIZE KASHIM_FD_PORTS_SIZE

uint8_t kashim_fd_table[KASHIM_FD_TABLE_SIZE];
static uint8_t *fd_blocks[FD_BLOCKS];
uint16_t kashim_fd_ports[PORT_TABLE_SIZE];
#define port_table kashim_fd_ports
/* The highest fd number ever given a state: where forgetting a range ends. */
int kashim_fd_high;
#define fd_high kashim_fd_high

/*
 * The byte of fd past the table: NULL when its block is not mapped and
 * create is false, or cannot be mapped.
 */
static __attribute__((noinline)) uint8_t *far_slot(int fd, bool create)
{
	unsigned n = ((unsigned)fd - FD_TABLE_SIZE) / FD_BLOCK_SIZE;
	uint8_t *b = __atomic_load_n(&fd_blocks[n], __ATOMIC_ACQUIRE);
	uint8_t *none = NULL;

	if (!b && create) {
		b = mmap(NULL, FD_BLOCK_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (b == MAP_FAILED)
			return NULL;
		if (!__atomic_compare_exchange_n(&fd_blocks[n], &none, b, false,
						 __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE)) {
			munmap(b, FD_BLOCK_SIZE); /* another thread was first */
			b = none;
		}
	}
	return b ? b + ((unsigned)fd - FD_TABLE_SIZE) % FD_BLOCK_SIZE : NULL;
}

/* Note fd as given a state, for kashim_fd_forget_range(). */
static __attribute__((noinline)) void note_high(int fd)
{
	int high = __atomic_load_n(&fd_high, __ATOMIC_RELAXED);

	while (fd > high &&
	       !__atomic_compare_exchange_n(&fd_high, &high, fd, true,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

uint8_t kashim_fd_get_far(int fd)
{
	const uint8_t *p = fd < 0 ? NULL : far_slot(fd, false);

	return p ? __atomic_load_n(p, __ATOMIC_RELAXED) : 0;
}

/* kashim_fd_set() or kashim_fd_add() past the table. */
static __attribute__((noinline)) void far_set(int fd, uint8_t bits, bool add)
{
	uint8_t *p = fd < 0 ? NULL : far_slot(fd, bits != 0);

	if (!p)
		return;
	if (add)
		__atomic_fetch_or(p, bits, __ATOMIC_RELAXED);
	else
		__atomic_store_n(p, bits, __ATOMIC_RELAXED);
	if (bits)
		note_high(fd);
}

void kashim_fd_set_slow(int fd, uint8_t state)
{
	if (kashim_vfork_child())
		return;
	if ((unsigned)fd >= FD_TABLE_SIZE) {
		far_set(fd, state, false);
		return;
	}
	__atomic_store_n(&kashim_fd_table[fd], state, __ATOMIC_RELAXED);
	if ((unsigned)fd < PORT_TABLE_SIZE)
		__atomic_store_n(&port_table[fd], 0, __ATOMIC_RELAXED);
	if (state && fd > __atomic_load_n(&fd_high, __ATOMIC_RELAXED))
		note_high(fd);
}

void kashim_fd_add_slow(int fd, uint8_t bits)
{
	if (kashim_vfork_child())
		return;
	if ((unsigned)fd >= FD_TABLE_SIZE) {
		far_set(fd, bits, true);
		return;
	}
	__atomic_fetch_or(&kashim_fd_table[fd], bits, __ATOMIC_RELAXED);
	if (fd > __atomic_load_n(&fd_high, __ATOMIC_RELAXED))
		note_high(fd);
}

void kashim_fd_forget_range(unsigned first, unsigned last)
{
	unsigned high = (unsigned)__atomic_load_n(&fd_high, __ATOMIC_RELAXED);

	if (last > high)
		last = high;
	for (unsigned fd = first; fd <= last && fd <= INT_MAX; fd++)
		kashim_fd_set((int)fd, 0);
}

uint16_t kashim_fd_port(int fd)
{
	if (fd < 0 || (unsigned)fd >= PORT_TABLE_SIZE)
		return 0;
	return __atomic_load_n(&port_table[fd], __ATOMIC_RELAXED);
}

void kashim_fd_set_port(int fd, uint16_t port)
{
	if (kashim_vfork_child())
		return;
	if (fd >= 0 && (unsigned)fd < PORT_TABLE_SIZE)
		__atomic_store_n(&port_table[fd], port, __ATOMIC_RELAXED);
}

/*
 * Is ask_fd a TCP socket? Its protocol first (most sockets stop there),
 * then its type: a SOCK_RAW socket may carry IPPROTO_TCP. The domain
 * follows: the kernel accepts IPPROTO_TCP with SOCK_STREAM in AF_INET
 * and AF_INET6 only (every other family refuses protocol 6 for a stream
 * socket, or reports a protocol of its own).
 */
static bool is_tcp(int ask_fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (getsockopt(ask_fd, SOL_SOCKET, SO_PROTOCOL, &v, &len) != 0 ||
	    v != IPPROTO_TCP)
		return false;
	len = sizeof(v);
	return getsockopt(ask_fd, SOL_SOCKET, SO_TYPE, &v, &len) == 0 &&
	       v == SOCK_STREAM;
}

uint8_t kashim_fd_learn(int mark_fd, int ask_fd)
{
	uint8_t kind = is_tcp(ask_fd) ? KASHIM_FD_SEEN | KASHIM_FD_TCP :
					KASHIM_FD_SEEN | KASHIM_FD_DONE;

	kashim_fd_add(mark_fd, kind);
	return kind;
}

uint8_t kashim_own_bit(int level, int name)
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
