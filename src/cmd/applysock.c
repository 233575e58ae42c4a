/*
 * applysock.c - `kashim --apply` on one socket, called from the scan
 * (scan.c) with the duplicate it holds.
 *
 * A socket is known by the duplicate's own cookie or inode (an fd
 * closed and reused meanwhile is taken for what it holds now, never for
 * what it held). Here the rule is found as the
 * library finds it (incoming when the local port is one the namespace
 * listens on, else outgoing), and the options the rule's plan holds are
 * set on the duplicate, which changes the one socket both processes
 * share. The program's own choice is kept unless override: from outside
 * it is keep-alive already on, a user timeout set, or an idle, interval
 * or count that differs from the namespace's sysctl (what an option
 * never set reads back as). apply.c runs the command and prints.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "status.h"

/* The base name of process pid's executable into exe (empty if none). */
static void exe_of(pid_t pid, char *exe, size_t len)
{
	char path[64], link[PATH_MAX];
	ssize_t n;
	const char *base;

	exe[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return;
	link[n] = '\0';
	if (n > 10 && strcmp(link + n - 10, " (deleted)") == 0)
		link[n - 10] = '\0';
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	if (strlen(base) < len)
		memcpy(exe, base, strlen(base) + 1);
}

/*
 * A copy of base finished for exe: the rules copied (their program_ok
 * and plans are per executable) and the port index its own (it is cut
 * at the rules exe may use: base's, finished for no executable, leaves
 * out every rule with a programs key); the rules' lists shared.
 */
static struct per_exe *finish_for(const struct kashim_settings *base,
				  const char *exe)
{
	struct per_exe *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	snprintf(p->exe, sizeof(p->exe), "%s", exe);
	p->s = *base;
	p->s.seg_start = p->s.seg_rule = NULL;
	p->s.nseg = 0;
	p->s.full_index = false;
	if (base->nrules) {
		p->s.rules = calloc(base->nrules, sizeof(*p->s.rules));
		if (!p->s.rules) {
			free(p);
			return NULL;
		}
		memcpy(p->s.rules, base->rules,
		       base->nrules * sizeof(*p->s.rules));
	}
	kashim_settings_finish(&p->s, exe[0] ? exe : NULL);
	return p;
}

const struct kashim_settings *kashim_apply_settings(const struct status *st,
						    pid_t pid)
{
	struct kashim_apply *a = st->opts->settings;
	struct per_exe *p = NULL, **v;
	char exe[NAME_MAX + 1];

	exe_of(pid, exe, sizeof(exe));
	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < a->n && !p; i++)
		if (strcmp(a->v[i]->exe, exe) == 0)
			p = a->v[i];
	/* An array of pointers: the size of a pointer is meant. */
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	if (!p && (v = realloc(a->v, (a->n + 1) * sizeof(*v)))) {
		a->v = v;
		p = finish_for(&a->base, exe);
		if (p)
			a->v[a->n++] = p;
	}
	pthread_mutex_unlock(&a->lock);
	return p ? &p->s : NULL;
}

/* Leave c alone for reason why. */
static void left(struct conn *c, unsigned char result, const char *why)
{
	c->ap.result = result;
	c->ap.why = why;
}

/* The peer of c as a socket address, for the rules' hosts. */
static const struct sockaddr *peer_addr(const struct conn *c,
					struct sockaddr_in6 *sa)
{
	struct sockaddr_in *in = (struct sockaddr_in *)sa;

	memset(sa, 0, sizeof(*sa));
	if (!c->peer.known)
		return NULL;
	if (c->v6) {
		sa->sin6_family = AF_INET6;
		memcpy(&sa->sin6_addr, c->peer.addr, 16);
		sa->sin6_port = htons(c->peer.port);
	} else {
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, c->peer.addr, 4);
		in->sin_port = htons(c->peer.port);
	}
	return (const struct sockaddr *)sa;
}

/*
 * The rule for c, its direction into c->ap; NULL with c->ap.why set
 * when the socket is to be left alone.
 */
static const struct kashim_rule *rule_of(const struct tcptab *tab,
					 const struct kashim_settings *set,
					 struct conn *c)
{
	const struct kashim_rule *r, *m;
	struct sockaddr_in6 sa;
	const struct sockaddr *peer;
	unsigned dir;
	uint16_t port;
	bool peer_matters;

	if (c->state == TCP_LISTEN) {
		c->ap.direction = KASHIM_DIR_INCOMING;
		if (!set->listener) {
			left(c, KASHIM_APPLY_LEFT, "a listening socket, and listener = false");
			return NULL;
		}
		r = kashim_rule_for_listener(set, c->local.port, &peer_matters);
		if (peer_matters)
			left(c, KASHIM_APPLY_LEFT,
			     "a listening socket whose rule depends on the peer "
			     "(hosts): the library sets each accepted socket");
		else if (!r)
			left(c, KASHIM_APPLY_LEFT, "no rule matches");
		return r;
	}
	if (c->state != TCP_ESTABLISHED && c->state != TCP_SYN_SENT &&
	    c->state != TCP_SYN_RECV) {
		left(c, KASHIM_APPLY_LEFT, "not connected, or closing");
		return NULL;
	}
	dir = kashim_tcptab_listens(tab, c->local.port) ? KASHIM_DIR_INCOMING
							: KASHIM_DIR_OUTGOING;
	port = dir == KASHIM_DIR_INCOMING ? c->local.port : c->peer.port;
	peer = peer_addr(c, &sa);
	c->ap.direction = (unsigned char)dir;
	r = kashim_rule_for(set, dir, port, peer);
	if (r)
		return r;
	if (!set->top.v.enable)
		left(c, KASHIM_APPLY_LEFT, "enable = false");
	else if ((m = kashim_rule_matched(set, dir, port, peer)) &&
		 !m->v.enable) {
		c->ap.rule = m->name;
		left(c, KASHIM_APPLY_LEFT, "its rule says enable = false");
	} else
		left(c, KASHIM_APPLY_LEFT, "no rule matches");
	return NULL;
}

/* Where option o is in v: before (c->v) or after (c->ap.v). */
static int *opt_in(struct optvals *v, enum kashim_opt o)
{
	switch (o) {
	case KASHIM_OPT_IDLE: return &v->idle;
	case KASHIM_OPT_INTVL: return &v->interval;
	case KASHIM_OPT_CNT: return &v->count;
	case KASHIM_OPT_UTO: return &v->user_timeout;
	default: return &v->keepalive;
	}
}

/*
 * The options the program chose itself, as bits (1u << KASHIM_OPT_*),
 * judged from outside against the namespace's sysctls.
 */
static unsigned own_choice(const struct tcptab *tab, const struct conn *c)
{
	int idle, interval, count;
	unsigned own = 0;

	kashim_tcptab_sysctls(tab, &idle, &interval, &count);
	if (c->v.keepalive == 1)
		own |= 1u << KASHIM_OPT_KA;
	if (c->v.user_timeout > 0)
		own |= 1u << KASHIM_OPT_UTO;
	if (idle > 0 && c->v.idle != idle)
		own |= 1u << KASHIM_OPT_IDLE;
	if (interval > 0 && c->v.interval != interval)
		own |= 1u << KASHIM_OPT_INTVL;
	if (count > 0 && c->v.count != count)
		own |= 1u << KASHIM_OPT_CNT;
	return own;
}

void kashim_read_options(struct dupsock *d, struct conn *c, unsigned which)
{
	for (unsigned o = 0; o < KASHIM_NOPTS; o++) {
		int v;
		socklen_t len = sizeof(v);

		if (!(which & (1u << o)))
			continue;
		if (d->known & (1u << o))
			v = *opt_in(&d->v, (enum kashim_opt)o);
		else if (getsockopt(d->s, kashim_opt_id[o].level,
				    kashim_opt_id[o].name, &v, &len) < 0)
			v = -1;
		*opt_in(&c->v, (enum kashim_opt)o) = v;
	}
}

/* The options of plan p, as bits. */
static unsigned plan_bits(const struct kashim_plan *p)
{
	unsigned bits = 0;

	for (unsigned i = 0; i < p->n; i++)
		bits |= 1u << p->o[i].opt;
	return bits;
}

/*
 * Read into c what the answer will show of socket s under rule r: every
 * option for JSON (it shows them all) and where the program's own
 * choice is judged (no override); in the table, nothing for a socket
 * left alone for its rule, the plan's options for one to be set, all of
 * them for one that holds its plan already.
 */
static void read_needed(const struct status *st, struct dupsock *d,
			struct conn *c, const struct kashim_rule *r)
{
	unsigned want = KASHIM_OPT_ALL;

	c->v = (struct optvals){ -1, -1, -1, -1, -1 };
	if (st->opts->format != KASHIM_STATUS_JSON && (!r || r->v.override))
		want = r ? plan_bits(&r->plan) : 0;
	kashim_read_options(d, c, want);
	if (want != KASHIM_OPT_ALL && r) {
		bool held = true;

		for (unsigned i = 0; i < r->plan.n; i++)
			held = held && *opt_in(&c->v, r->plan.o[i].opt) ==
					       r->plan.o[i].value;
		if (held)
			kashim_read_options(d, c, KASHIM_OPT_ALL & ~want);
	}
}

/* Does c hold every value of plan p already? */
static bool holds(struct conn *c, const struct kashim_plan *p)
{
	for (unsigned i = 0; i < p->n; i++)
		if (*opt_in(&c->ap.v, p->o[i].opt) != p->o[i].value)
			return false;
	return true;
}

/* Names of the options, for the reason a set failed. */
static const char *const opt_label[KASHIM_NOPTS] = {
	[KASHIM_OPT_IDLE] = "TCP_KEEPIDLE",   [KASHIM_OPT_INTVL] = "TCP_KEEPINTVL",
	[KASHIM_OPT_CNT] = "TCP_KEEPCNT",     [KASHIM_OPT_UTO] = "TCP_USER_TIMEOUT",
	[KASHIM_OPT_KA] = "SO_KEEPALIVE",
};

/*
 * Queue the sets of d on its ring, linked: each runs only if the one
 * before it succeeded, as the sets made one by one stop at the first
 * the kernel refuses. One the ring cannot take keeps its -ECANCELED,
 * and kashim_apply_settle() makes it.
 */
static void queue_sets(struct dupsock *d)
{
	for (unsigned j = 0; j < d->nset; j++) {
		const struct kashim_opt_id *id = &kashim_opt_id[d->set_opt[j]];

		(void)kashim_ring_set(d->ring, d->s, id->level, id->name,
				      &d->set_val[j], sizeof(d->set_val[j]),
				      &d->set_res[j], j + 1 < d->nset);
	}
}

void kashim_apply_socket(const struct status *st, const struct tcptab *tab,
			 const struct kashim_settings *set, struct dupsock *d,
			 struct conn *c)
{
	const struct kashim_rule *r;
	struct kashim_plan p;
	unsigned changed = 0;

	memset(&c->ap, 0, sizeof(c->ap));
	d->nset = 0;
	r = rule_of(tab, set, c);
	read_needed(st, d, c, r);
	c->ap.v = c->v;
	if (!r)
		return;
	c->ap.rule = r->name;
	if (holds(c, &r->plan)) {
		c->ap.result = KASHIM_APPLY_ALREADY;
		return;
	}
	kashim_plan_make(&r->v, own_choice(tab, c), &p);
	for (unsigned i = 0; i < p.n; i++) {
		int *after = opt_in(&c->ap.v, p.o[i].opt);

		if (*after == p.o[i].value)
			continue;
		if (st->opts->dry_run) { /* what it would set */
			*after = p.o[i].value;
			changed++;
			continue;
		}
		d->set_opt[d->nset] = (unsigned char)p.o[i].opt;
		d->set_val[d->nset] = p.o[i].value;
		d->set_res[d->nset++] = -ECANCELED; /* not made yet */
	}
	if (!changed && !d->nset) {
		left(c, KASHIM_APPLY_LEFT,
		     c->v.keepalive == 1 ? "the program set its own keep-alive "
					 "(override = false)"
					 : "the program set its own values "
					   "(override = false)");
		return;
	}
	c->ap.result = KASHIM_APPLY_SET;
	if (d->nset && d->ring) {
		queue_sets(d); /* settled once the batch is submitted */
	} else if (d->nset) {
		kashim_apply_settle(c, d); /* made now, one by one */
		d->nset = 0;
	}
}

void kashim_apply_settle(struct conn *c, const struct dupsock *d)
{
	for (unsigned j = 0; j < d->nset; j++) {
		const struct kashim_opt_id *id = &kashim_opt_id[d->set_opt[j]];
		int err = -d->set_res[j];

		/* What the ring did not make (refused, cancelled after such a
		 * set, never run: a submit that failed, or no ring at all) is
		 * made with setsockopt(), whose answer is the one reported. */
		if (err > 0)
			err = setsockopt(d->s, id->level, id->name, &d->set_val[j],
					 sizeof(d->set_val[j])) == 0
				      ? 0
				      : errno;
		if (err) {
			c->ap.err = err;
			left(c, KASHIM_APPLY_FAILED, opt_label[d->set_opt[j]]);
			return;
		}
		*opt_in(&c->ap.v, (enum kashim_opt)d->set_opt[j]) = d->set_val[j];
	}
}

void kashim_apply_free(struct kashim_apply *a)
{
	for (size_t i = 0; i < a->n; i++) {
		kashim_rules_index_free(&a->v[i]->s);
		free(a->v[i]->s.rules);
		free(a->v[i]);
	}
	free(a->v);
	a->v = NULL;
	a->n = 0;
}
