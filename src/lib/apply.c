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

#include "apply.h"
#include "fdstate.h"
#include "init.h"
#include "log.h"
#include "real.h"

/* Names of the options, for messages; fd-state bit of the program's own. */
static const struct {
	const char *label;
	uint8_t own;
} opts[KASHIM_NOPTS] = {
	[KASHIM_OPT_IDLE] = { "TCP_KEEPIDLE", KASHIM_FD_OWN_IDLE },
	[KASHIM_OPT_INTVL] = { "TCP_KEEPINTVL", KASHIM_FD_OWN_INTVL },
	[KASHIM_OPT_CNT] = { "TCP_KEEPCNT", KASHIM_FD_OWN_CNT },
	[KASHIM_OPT_UTO] = { "TCP_USER_TIMEOUT", KASHIM_FD_OWN_UTO },
	[KASHIM_OPT_KA] = { "SO_KEEPALIVE", KASHIM_FD_OWN_KA },
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

/*
 * The plan of values v for a socket on which the program chose the
 * options in state (KASHIM_FD_OWN_* bits), made in *buf.
 */
static __attribute__((noinline)) const struct kashim_plan *
own_plan(const struct kashim_values *v, uint8_t state, struct kashim_plan *buf)
{
	unsigned own = 0;

	for (unsigned o = 0; o < KASHIM_NOPTS; o++)
		if (state & opts[o].own)
			own |= 1u << o;
	kashim_plan_make(v, own, buf);
	return buf;
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

/*
 * One line per socket: what rule r set on fd by plan p, at info; left
 * alone (the program's own choice), at debug.
 */
static void report(int fd, const struct kashim_rule *r, unsigned direction,
		   const struct sockaddr *peer, const struct kashim_plan *p)
{
	char what[160] = "", addr[INET6_ADDRSTRLEN + 16];
	size_t n = 0;

	for (unsigned i = 0; i < p->n && n < sizeof(what); i++)
		n += (size_t)snprintf(what + n, sizeof(what) - n, " %s=%d",
				      opts[p->o[i].opt].label, p->o[i].value);
	kashim_log(n ? KASHIM_LOG_INFO : KASHIM_LOG_DEBUG,
		   "fd %d %s %s rule \"%s\":%s", fd,
		   direction == KASHIM_DIR_INCOMING ? "from" : "to",
		   peer ? peer_text(peer, addr, sizeof(addr)) :
			  "every peer (a listening socket)",
		   r->name,
		   n ? what : " left alone: the program set its own keep-alive (override = false)");
}

/*
 * A refused option o of plan p. Returns false when the socket is not
 * TCP after all (then nothing more may be tried); a refusal of any other
 * kind is reported once per option and the caller goes on.
 */
static __attribute__((noinline)) bool refused(int fd,
					      const struct kashim_plan_opt *o)
{
	int e = errno;

	if (not_tcp_errno(e))
		return false;
	if (first_refusal(o->opt))
		kashim_warn("setsockopt(%s=%d) on fd %d refused: %s; the connection goes on without it",
			    opts[o->opt].label, o->value, fd, strerror(e));
	return true;
}

/* Set the options of plan p on fd; false when fd is not TCP after all. */
static __attribute__((noinline)) bool set_all(int fd,
					      const struct kashim_plan *p)
{
	setsockopt_fn *set = kashim_real_setsockopt_fn();
	const struct kashim_plan_opt *o = p->o, *end = p->o + p->n;

	/* Only SO_KEEPALIVE left: make sure of TCP before a SOL_SOCKET call. */
	if (p->n == 1 && o->opt == KASHIM_OPT_KA && !tcp_level_works(fd))
		return false;
	for (; o < end; o++)
		if (set(fd, o->level, o->name, &o->value, sizeof(int)) != 0 &&
		    !refused(fd, o))
			return false; /* the first TCP-level call changed nothing */
	return true;
}

/*
 * kashim_apply() when the program chose some option (state) and override
 * is off, or when the line is to be written: plan made here.
 */
static __attribute__((noinline)) void apply_and_say(
	int fd, const struct kashim_rule *r, uint8_t state, unsigned direction,
	const struct sockaddr *peer)
{
	struct kashim_plan buf;
	const struct kashim_plan *p = &r->plan;

	if ((state & KASHIM_FD_OWN_MASK) && !r->v.override)
		p = own_plan(&r->v, state, &buf);
	if (set_all(fd, p) && kashim_log_enabled(KASHIM_LOG_INFO))
		report(fd, r, direction, peer, p);
}

/*
 * The rule's own plan, worked out with the settings, unless the program
 * chose some option and override is off. The common case (the rule's
 * plan, no line to write) goes straight to the options.
 */
void kashim_apply(int fd, const struct kashim_rule *r, uint8_t state,
		  unsigned direction, const struct sockaddr *peer)
{
	if (((state & KASHIM_FD_OWN_MASK) && !r->v.override) ||
	    kashim_log_enabled(KASHIM_LOG_INFO)) {
		apply_and_say(fd, r, state, direction, peer);
		return;
	}
	set_all(fd, &r->plan);
}

void kashim_report_inherited(int fd, const struct kashim_rule *r,
			     uint8_t state, const struct sockaddr *peer)
{
	struct kashim_plan buf;
	const struct kashim_plan *p = &r->plan;

	if ((state & KASHIM_FD_OWN_MASK) && !r->v.override)
		p = own_plan(&r->v, state, &buf);
	report(fd, r, KASHIM_DIR_INCOMING, peer, p);
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
