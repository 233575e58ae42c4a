/*
 * fdstate.c - one byte of knowledge per fd number.
 *
 * The table covers the kernel's default limit of open files (nr_open,
 * 2^20); listening ports are kept for the first 2^16 numbers (beyond, the
 * kernel is asked per accept). Both live in .bss: pages are only backed
 * once a socket uses them.
 * Bytes are read and written atomically; what an fd number means at a
 * given moment is the program's business, so relaxed order is enough.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "libkashim.h"

#define FD_TABLE_SIZE (1u << 20)
/* Listeners' ports, for rules with ports on accepted sockets. */
#define PORT_TABLE_SIZE (1u << 16)

static uint8_t fd_table[FD_TABLE_SIZE];
static uint16_t port_table[PORT_TABLE_SIZE];

uint8_t kashim_fd_get(int fd)
{
	if (fd < 0 || (unsigned)fd >= FD_TABLE_SIZE)
		return 0;
	return __atomic_load_n(&fd_table[fd], __ATOMIC_RELAXED);
}

void kashim_fd_set(int fd, uint8_t state)
{
	if (fd >= 0 && (unsigned)fd < FD_TABLE_SIZE)
		__atomic_store_n(&fd_table[fd], state, __ATOMIC_RELAXED);
	if (fd >= 0 && (unsigned)fd < PORT_TABLE_SIZE)
		__atomic_store_n(&port_table[fd], 0, __ATOMIC_RELAXED);
}

uint16_t kashim_fd_port(int fd)
{
	if (fd < 0 || (unsigned)fd >= PORT_TABLE_SIZE)
		return 0;
	return __atomic_load_n(&port_table[fd], __ATOMIC_RELAXED);
}

void kashim_fd_set_port(int fd, uint16_t port)
{
	if (fd >= 0 && (unsigned)fd < PORT_TABLE_SIZE)
		__atomic_store_n(&port_table[fd], port, __ATOMIC_RELAXED);
}

void kashim_fd_add(int fd, uint8_t bits)
{
	if (fd >= 0 && (unsigned)fd < FD_TABLE_SIZE)
		__atomic_fetch_or(&fd_table[fd], bits, __ATOMIC_RELAXED);
}

uint8_t kashim_fd_learn(int mark_fd, int ask_fd)
{
	int proto = 0;
	socklen_t len = sizeof(proto);
	uint8_t kind = KASHIM_FD_SEEN | KASHIM_FD_DONE;

	if (getsockopt(ask_fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 &&
	    proto == IPPROTO_TCP)
		kind = KASHIM_FD_SEEN | KASHIM_FD_TCP;
	kashim_fd_add(mark_fd, kind);
	return kind;
}

bool kashim_is_tcp_triple(int domain, int type, int protocol)
{
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	return (domain == AF_INET || domain == AF_INET6) &&
	       type == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP);
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
