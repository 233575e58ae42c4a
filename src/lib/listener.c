/*
 * listener.c - a server pays once per listener, not per connection.
 *
 * Linux makes every socket accept() returns a copy of its listener:
 * SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT and
 * TCP_USER_TIMEOUT come with it, and the keep-alive timer of the copy
 * starts. So when the rule for connections accepted on a listener does
 * not depend on the peer, kashim puts that rule's values on the listener
 * once and marks it KASHIM_FD_DONE; a socket accepted from a listener so
 * marked is done without a system call (hooks.c). A listener whose rule
 * depends on the peer (hosts), or with `listener = false`, stays
 * unmarked: each accepted socket is dealt with on its own.
 *
 * A listener is set up at its first accept, whether kashim saw it made
 * (then the options the program set on it until then are known, as on
 * any socket) or not (inherited, or from systemd socket activation: then
 * keep-alive already on counts as the program's choice). Connections
 * queued by then were copied from the listener before it had kashim's
 * values: the mark waits until the kernel reports the queue empty, and
 * until then each accepted socket is dealt with on its own. The hooks
 * read the mark before they call accept(), so a connection taken from
 * the queue before the mark was set is never taken for marked.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>

#include "apply.h"
#include "fdstate.h"
#include "init.h"
#include "listener.h"
#include "log.h"

/*
 * A listener's state, in its fd's listener byte (fdstate.h), so that it
 * is forgotten with everything else about the number: new (not set up
 * yet: 0, what a fresh number holds), set (set up: marked, or each
 * accept dealt with on its own), or draining (kashim's values are on
 * it, the mark waits for an empty queue). A listener past the table is
 * never set up: each of its accepted sockets is dealt with on its own.
 */
enum { LISTENER_NEW, LISTENER_SET, LISTENER_DRAINING };

/*
 * Put the incoming settings on TCP listener fd, in state st, when they do
 * not depend on the peer; *set says whether any rule went on it. Returns
 * the listener's new state: with KASHIM_FD_DONE when accepted sockets
 * need nothing more, without it when each must be dealt with on its own.
 */
static uint8_t setup(int fd, uint8_t st, bool *set)
{
	const struct kashim_rule *r;
	bool peer_matters;
	uint16_t port = 0;

	*set = false;
	st &= (uint8_t)~KASHIM_FD_DONE;
	if (!kashim_cfg.listener)
		return st;
	if (kashim_cfg.need_port && !(port = kashim_fd_local_port(fd)))
		return st; /* its port unknown: each accept on its own */
	r = kashim_rule_for_listener(&kashim_cfg, port, &peer_matters);
	if (peer_matters)
		return st;
	*set = r != NULL;
	if (r)
		kashim_apply(fd, r, st, KASHIM_DIR_INCOMING, NULL);
	kashim_debug(
		"fd %d: listening socket; accepted sockets take %s%s%s from it",
		fd, r ? "rule \"" : "nothing", r ? r->name : "", r ? "\"" : "");
	return st | KASHIM_FD_DONE;
}

void kashim_listener_listen(int fd)
{
	/* Done by a failed connect() before, maybe: not for this. */
	kashim_fd_set_listener(fd, LISTENER_NEW, KASHIM_FD_DONE, 0);
}

/* Connections queued on listener fd, or -1 when the kernel cannot say. */
static int queued(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
	    len < offsetof(struct tcp_info, tcpi_sacked) ||
	    ti.tcpi_state != TCP_LISTEN)
		return -1;
	return (int)ti.tcpi_unacked; /* a listener's accept queue */
}

/*
 * Listener fd (state st) carries kashim's values: mark it once the
 * kernel reports its queue empty; until then it is draining (and when
 * the kernel cannot say, it is never marked). Records and returns its
 * state.
 */
static uint8_t mark_when_empty(int fd, uint8_t st)
{
	int q = queued(fd);

	if (q == 0)
		st |= KASHIM_FD_DONE;
	kashim_fd_set_listener(fd, q > 0 ? LISTENER_DRAINING : LISTENER_SET, 0,
			       st);
	return st;
}

uint8_t kashim_listener_accept(int fd, uint8_t st, bool seen)
{
	uint8_t w = kashim_fd_listener(fd);
	int on = 0;
	socklen_t len = sizeof(on);
	bool set;

	if (w == KASHIM_FD_NO_LISTENER)
		return st; /* each accept on its own */
	if (seen && w == LISTENER_DRAINING)
		return mark_when_empty(fd, st);
	if (seen && w != LISTENER_NEW)
		return st;
	st &= (uint8_t)~KASHIM_FD_DONE;
	if (!kashim_ready()) {
		st |= KASHIM_FD_DONE; /* nothing to do for any of them */
		goto out;
	}
	/* Keep-alive already on (systemd KeepAlive=yes): the program's. */
	if (!seen && getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, &len) == 0 &&
	    on)
		st |= KASHIM_FD_OWN_KA;
	st = setup(fd, st, &set);
	if (set && (st & KASHIM_FD_DONE))
		return mark_when_empty(fd, st & (uint8_t)~KASHIM_FD_DONE);
out:
	kashim_fd_set_listener(fd, LISTENER_SET, 0, st);
	return st;
}
