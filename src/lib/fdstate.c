/*
 * fdstate.c - one word of knowledge per fd number (fdstate.h).
 *
 * The table covers the kernel's default limit of open files (nr_open,
 * 2^20); numbers past it, possible where nr_open was raised, get blocks
 * of state bytes mapped on first use (one mmap() per block of numbers,
 * never on the way of a connection below the table). All of it lives in
 * .bss or anonymous memory: pages are only backed once a socket uses
 * them. Words are read and written atomically; what an fd number means
 * at a given moment is the program's business, so relaxed order is
 * enough. A vfork() child changes nothing (it shares the parent's
 * memory).
 */
#include <limits.h>
#include <stddef.h>
#include <sys/mman.h>

#include "fdstate.h"

#ifndef KASHIM_FD_BLOCK_SIZE
#define KASHIM_FD_BLOCK_SIZE (1u << 20)
#endif
#define TABLE_SIZE ((unsigned)KASHIM_FD_TABLE_SIZE)
#define BLOCK_SIZE ((unsigned)KASHIM_FD_BLOCK_SIZE)
/* Blocks for the numbers from TABLE_SIZE up to INT_MAX. */
#define BLOCKS (((unsigned)INT_MAX - TABLE_SIZE) / BLOCK_SIZE + 1)

uint32_t kashim_fd_table[KASHIM_FD_TABLE_SIZE];
unsigned kashim_fd_limit;
static uint8_t *blocks[BLOCKS];
/* The highest number past the table ever given a state. */
static unsigned far_high;

/*
 * The state byte of fd past the table: NULL when its block is not
 * mapped and create is false, or cannot be mapped.
 */
static __attribute__((noinline)) uint8_t *far_slot(int fd, bool create)
{
	unsigned n = ((unsigned)fd - TABLE_SIZE) / BLOCK_SIZE;
	uint8_t *b = __atomic_load_n(&blocks[n], __ATOMIC_ACQUIRE);
	uint8_t *none = NULL;

	if (!b && create) {
		b = mmap(NULL, BLOCK_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (b == MAP_FAILED)
			return NULL;
		if (!__atomic_compare_exchange_n(&blocks[n], &none, b, false,
						 __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE)) {
			munmap(b, BLOCK_SIZE); /* another thread was first */
			b = none;
		}
	}
	return b ? b + ((unsigned)fd - TABLE_SIZE) % BLOCK_SIZE : NULL;
}

/* Raise *at to at least v. */
static void raise_to(unsigned *at, unsigned v)
{
	unsigned cur = __atomic_load_n(at, __ATOMIC_RELAXED);

	while (v > cur &&
	       !__atomic_compare_exchange_n(at, &cur, v, true, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
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
		raise_to(&far_high, (unsigned)fd);
}

/* fd in the table was given a state: the inline forms take it from now. */
static void note_near(int fd)
{
	raise_to(&kashim_fd_limit, (unsigned)fd + 1);
}

void kashim_fd_set_slow(int fd, uint32_t word)
{
	if (kashim_vfork_child())
		return;
	if (!kashim_fd_in_table(fd)) {
		far_set(fd, (uint8_t)word, false);
		return;
	}
	__atomic_store_n(&kashim_fd_table[fd], word, __ATOMIC_RELAXED);
	if (word)
		note_near(fd);
}

void kashim_fd_add_slow(int fd, uint8_t bits)
{
	if (kashim_vfork_child())
		return;
	if (!kashim_fd_in_table(fd)) {
		far_set(fd, bits, true);
		return;
	}
	__atomic_fetch_or(&kashim_fd_table[fd], bits, __ATOMIC_RELAXED);
	if (bits)
		note_near(fd);
}

void kashim_fd_copy(int fd, int from)
{
	kashim_fd_set(fd, kashim_fd_in_table(from) ?
				  __atomic_load_n(&kashim_fd_table[from],
						  __ATOMIC_RELAXED) :
				  kashim_fd_get_far(from));
}

void kashim_fd_forget_range(unsigned first, unsigned last)
{
	unsigned limit = __atomic_load_n(&kashim_fd_limit, __ATOMIC_RELAXED);
	unsigned high = __atomic_load_n(&far_high, __ATOMIC_RELAXED);

	if (kashim_vfork_child())
		return;
	for (unsigned fd = first; fd <= last && fd < limit; fd++)
		__atomic_store_n(&kashim_fd_table[fd], 0, __ATOMIC_RELAXED);
	if (first < TABLE_SIZE)
		first = TABLE_SIZE;
	if (last > high)
		last = high;
	for (unsigned fd = first; fd <= last && fd <= INT_MAX; fd++)
		far_set((int)fd, 0, false);
}

uint8_t kashim_fd_listener(int fd)
{
	if (!kashim_fd_in_table(fd))
		return KASHIM_FD_NO_LISTENER;
	return (uint8_t)(__atomic_load_n(&kashim_fd_table[fd],
					 __ATOMIC_RELAXED) >>
			 KASHIM_FD_LISTENER_SHIFT);
}

/* Replace the bits of mask in fd's word (in the table) by v. */
static void update(int fd, uint32_t mask, uint32_t v)
{
	uint32_t *p = &kashim_fd_table[fd];
	uint32_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);

	if (kashim_vfork_child())
		return;
	while (!__atomic_compare_exchange_n(p, &cur, (cur & ~mask) | v, true,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	note_near(fd);
}

void kashim_fd_set_listener(int fd, uint8_t w, uint8_t clear, uint8_t add)
{
	if (kashim_fd_in_table(fd)) {
		update(fd, KASHIM_FD_LISTENER_MASK | clear,
		       ((uint32_t)w << KASHIM_FD_LISTENER_SHIFT) | add);
		return;
	}
	kashim_fd_set_slow(fd, (kashim_fd_get_far(fd) & ~clear) | add);
}

uint16_t kashim_fd_local_port(int fd)
{
	struct sockaddr_storage a = {0};
	socklen_t len = sizeof(a);
	uint16_t port;

	if (kashim_fd_in_table(fd)) {
		port = (uint16_t)(__atomic_load_n(&kashim_fd_table[fd],
						  __ATOMIC_RELAXED) >>
				  KASHIM_FD_PORT_SHIFT);
		if (port)
			return port;
	}
	if (getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		return 0;
	if (!kashim_inet_addr((const struct sockaddr *)&a, len))
		return 0;
	port = kashim_addr_port((const struct sockaddr *)&a);
	if (port && kashim_fd_in_table(fd))
		update(fd, KASHIM_FD_PORT_MASK,
		       (uint32_t)port << KASHIM_FD_PORT_SHIFT);
	return port;
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
