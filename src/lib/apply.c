/*
 * apply.c - put a rule's keep-alive values on a TCP socket.
 *
 * TCP-level options go first: on an fd number that was reused behind
 * kashim's back by a non-TCP socket the first of them fails, harmlessly,
 * and nothing else is tried, so such a socket is never changed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "libkashim.h"
#include "log.h"
#include "real.h"

/* The options kashim sets, in the order it sets them. */
enum opt { OPT_IDLE, OPT_INTVL, OPT_CNT, OPT_UTO, OPT_KA, NOPTS };

static const struct {
	int level, name;
	uint8_t own;
	const char *label;
} opts[NOPTS] = {
	[OPT_IDLE] = { IPPROTO_TCP, TCP_KEEPIDLE, KASHIM_FD_OWN_IDLE, "TCP_KEEPIDLE" },
	[OPT_INTVL] = { IPPROTO_TCP, TCP_KEEPINTVL, KASHIM_FD_OWN_INTVL, "TCP_KEEPINTVL" },
	[OPT_CNT] = { IPPROTO_TCP, TCP_KEEPCNT, KASHIM_FD_OWN_CNT, "TCP_KEEPCNT" },
	[OPT_UTO] = { IPPROTO_TCP, TCP_USER_TIMEOUT, KASHIM_FD_OWN_UTO, "TCP_USER_TIMEOUT" },
	[OPT_KA] = { SOL_SOCKET, SO_KEEPALIVE, KASHIM_FD_OWN_KA, "SO_KEEPALIVE" },
};

/*
 * Options already warned about: once per process and option. A child of
 * fork() is another process: the bits are only good for warned_pid.
 */
static unsigned warned;
static pid_t warned_pid;

/* Is this the first refusal of option o in this process? */
static bool first_refusal(int o)
{
	pid_t me = getpid(); /* a system call, on this rare path only */

	if (__atomic_load_n(&warned_pid, __ATOMIC_RELAXED) != me) {
		__atomic_store_n(&warned, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&warned_pid, me, __ATOMIC_RELAXED);
	}
	return !(__atomic_fetch_or(&warned, 1u << o, __ATOMIC_RELAXED) &
		 (1u << o));
}

/* errno values that mean "this is not a TCP socket (any more)". */
static bool not_tcp_errno(int e)
{
	return e == ENOPROTOOPT || e == EOPNOTSUPP || e == ENOTSOCK ||
	       e == EBADF;
}

/* Does fd answer a TCP-level option? Raw and MPTCP sockets do not. */
static bool tcp_level_works(int fd)
{
	int v;
	socklen_t len = sizeof(v);

	return getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, &len) == 0;
}

/* Work out the values to set: val[o] >= 0 for each option to set. */
static void plan(const struct kashim_values *v, uint8_t state, int *val)
{
	bool mine_ka = v->override || !(state & KASHIM_FD_OWN_KA);
	int uto = kashim_user_timeout_ms(v);

	for (int o = 0; o < NOPTS; o++)
		val[o] = -1;
	if (mine_ka) {
		val[OPT_IDLE] = v->idle;
		val[OPT_INTVL] = v->interval;
		val[OPT_CNT] = v->count;
		val[OPT_KA] = 1;
		for (int o = OPT_IDLE; o <= OPT_CNT; o++)
			if (!v->override && (state & opts[o].own))
				val[o] = -1;
	}
	if (uto > 0 && (v->override || !(state & KASHIM_FD_OWN_UTO)))
		val[OPT_UTO] = uto;
}

/* Format "host:port" of peer into buf, for messages. */
static const char *peer_text(const struct sockaddr *peer, char *buf,
			     size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (peer && peer->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)peer;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	} else if (peer && peer->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)peer;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	}
	snprintf(buf, len, peer && peer->sa_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 host, port);
	return buf;
}

/* One line per socket: changed at info, left alone (own choice) at debug. */
static void report(int fd, const struct kashim_rule *r, unsigned direction,
		   const struct sockaddr *peer, const int *val)
{
	char what[160] = "", addr[INET6_ADDRSTRLEN + 16];
	size_t n = 0;

	for (int o = 0; o < NOPTS; o++) {
		if (val[o] < 0)
			continue;
		n += (size_t)snprintf(what + n, sizeof(what) - n, " %s=%d",
				      opts[o].label, val[o]);
		if (n >= sizeof(what))
			break;
	}
	kashim_log(n ? KASHIM_LOG_INFO : KASHIM_LOG_DEBUG,
		   "fd %d %s %s rule \"%s\":%s", fd,
		   direction == KASHIM_DIR_INCOMING ? "from" : "to",
		   peer_text(peer, addr, sizeof(addr)), r->name,
		   n ? what : " left alone: the program set its own keep-alive (override = false)");
}

/*
 * Set one option. Returns false when the socket is not TCP after all
 * (then nothing more may be tried); a refusal of any other kind is
 * reported once per option and the caller goes on.
 */
static bool set_one(int fd, int o, int value)
{
	int e;

	if (kashim_real_setsockopt(fd, opts[o].level, opts[o].name, &value,
				   sizeof(value)) == 0)
		return true;
	e = errno;
	if (not_tcp_errno(e))
		return false;
	if (first_refusal(o))
		kashim_warn("setsockopt(%s=%d) on fd %d refused: %s; the connection goes on without it",
			    opts[o].label, value, fd, strerror(e));
	return true;
}

void kashim_apply(int fd, const struct kashim_rule *r, uint8_t state,
		  unsigned direction, const struct sockaddr *peer)
{
	int val[NOPTS];

	plan(&r->v, state, val);
	/* Only SO_KEEPALIVE left: make sure of TCP before a SOL_SOCKET call. */
	if (val[OPT_KA] > 0 && val[OPT_IDLE] < 0 && val[OPT_INTVL] < 0 &&
	    val[OPT_CNT] < 0 && val[OPT_UTO] < 0 && !tcp_level_works(fd))
		return;
	for (int o = 0; o < NOPTS; o++)
		if (val[o] >= 0 && !set_one(fd, o, val[o]))
			return; /* not TCP: the first TCP-level call changed nothing */
	if (kashim_log_enabled(KASHIM_LOG_INFO))
		report(fd, r, direction, peer, val);
}

/* Why no rule applies to a connection that kashim_rule_for() refused. */
static void why_no_rule(const struct kashim_settings *s, unsigned direction,
			uint16_t port, const struct sockaddr *peer, char *buf,
			size_t len)
{
	const struct kashim_rule *r;

	r = kashim_rule_matched(s, direction, port, peer);
	if (r) {
		snprintf(buf, len, "rule \"%s\" has enable = false", r->name);
		return;
	}
	r = kashim_rule_matched(s, KASHIM_DIR_BOTH, port, peer);
	if (r)
		snprintf(buf, len, "direction: rule \"%s\" is for %s connections only",
			 r->name, kashim_direction_name(r->m.direction));
	else
		snprintf(buf, len, "no rule matched (port %u), nor the top level's ports, hosts and programs",
			 (unsigned)port);
}

void kashim_left_alone(int fd, unsigned direction, uint16_t port,
		       const struct sockaddr *peer)
{
	char why[200], addr[INET6_ADDRSTRLEN + 16];

	if (!kashim_ready())
		snprintf(why, sizeof(why), "%s", kashim_inactive_why());
	else
		why_no_rule(&kashim_cfg, direction, port, peer, why, sizeof(why));
	kashim_debug("fd %d %s %s left alone: %s", fd,
		     direction == KASHIM_DIR_INCOMING ? "from" : "to",
		     peer_text(peer, addr, sizeof(addr)), why);
}
