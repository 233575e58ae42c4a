/*
 * rules.c - rules once the settings are in: the programs key, the port
 * index, each rule's plan, and matching a connection.
 *
 * Linked into the library, the config module, the `kashim` command and
 * kashim-bpf, whose maps are built from the same index (its full form,
 * kashim_rules_index()) and plans. kashim_rules_finish() allocates the
 * index matching needs once; matching a connection does no I/O and
 * allocates nothing.
 */
#include <errno.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

/* calloc() and free() called, not pointed to: no symbol lookup at load. */
static void *std_calloc(size_t n, size_t size)
{
	return calloc(n, size);
}

static void std_free(void *p)
{
	free(p);
}

struct kashim_mem kashim_settings_mem = { std_calloc, std_free };

/* Does any glob of m match exe? An empty list matches every program. */
static bool program_matches(const struct kashim_match *m, const char *exe)
{
	if (m->nprograms == 0)
		return true;
	for (size_t i = 0; exe && i < m->nprograms; i++)
		if (fnmatch(m->programs[i], exe, 0) == 0)
			return true;
	return false;
}

static void note_needs(struct kashim_settings *s, const struct kashim_rule *r)
{
	s->need_port |= r->m.nports > 0;
	s->need_host |= r->m.nhosts > 0;
}

/*
 * Does rule i (the top level for i == s->nrules) cut the index? The
 * library's own index (all false) is cut at the rules this process may
 * use only: a search starts at a rule, and the top level is tried after
 * the rules anyway. kashim-bpf's (all true) is cut at every rule and the
 * top level: its maps give each segment the rules whose ports hold it,
 * and match programs in the kernel.
 */
static bool cuts(const struct kashim_settings *s, size_t i, bool all)
{
	return all || (i < s->nrules && s->rules[i].program_ok);
}

/*
 * Collect 0 and every end of the port ranges of the rules that cut the
 * index (lo, and hi + 1 below 65536), sorted and once each: a bit per
 * port, read in order. Returns their number, or 0 without memory.
 */
static size_t cut_points(const struct kashim_settings *s, uint32_t *cut,
			 bool all)
{
	uint64_t *bits = kashim_settings_mem.calloc(65536 / 64, sizeof(*bits));
	size_t n = 0;

	if (!bits)
		return 0;
	bits[0] = 1;
	for (size_t i = 0; i <= s->nrules; i++) {
		const struct kashim_match *m = &kashim_rule_at(s, i)->m;

		if (!cuts(s, i, all))
			continue;
		for (size_t j = 0; j < m->nports; j++) {
			uint32_t lo = m->ports[j].lo, end = m->ports[j].hi + 1u;

			bits[lo / 64] |= 1ull << (lo % 64);
			if (end < 65536)
				bits[end / 64] |= 1ull << (end % 64);
		}
	}
	for (uint32_t p = 0; p < 65536; p++)
		if ((bits[p / 64] >> (p % 64)) & 1)
			cut[n++] = p;
	kashim_settings_mem.free(bits);
	return n;
}

/* The segment of the index holding port: binary search of seg_start. */
static size_t segment_of(const struct kashim_settings *s, uint32_t port)
{
	size_t lo = 0, hi = s->nseg;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->seg_start[mid] <= port)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* The first segment from k on with no rule yet; path halving as it goes. */
static size_t next_free(uint32_t *next, size_t k)
{
	while (next[k] != k) {
		next[k] = next[next[k]];
		k = next[k];
	}
	return k;
}

/*
 * Give rule r the segments first..last that have no rule yet in column
 * col (0 outgoing, 1 incoming). next[] skips the segments already given,
 * so each segment is given once however many ranges cover it.
 */
static void give(struct kashim_settings *s, uint32_t *next, size_t col,
		 uint32_t r, size_t first, size_t last)
{
	for (size_t k = next_free(next, first); k <= last;
	     k = next_free(next, k + 1)) {
		s->seg_rule[2 * k + col] = r;
		next[k] = (uint32_t)k + 1;
	}
}

/*
 * Fill column col of the index: each segment gets the first usable rule
 * whose ports cover it, or nrules. Rules in order, each range once:
 * n log n in the number of ranges, whatever the rules hold.
 */
static void fill_column(struct kashim_settings *s, uint32_t *next, size_t col,
			unsigned direction)
{
	for (size_t k = 0; k <= s->nseg; k++) {
		next[k] = (uint32_t)k;
		if (k < s->nseg)
			s->seg_rule[2 * k + col] = (uint32_t)s->nrules;
	}
	for (size_t i = 0; i < s->nrules; i++) {
		const struct kashim_rule *r = &s->rules[i];

		if (!r->program_ok || !(r->m.direction & direction))
			continue;
		if (r->m.nports == 0)
			give(s, next, col, (uint32_t)i, 0, s->nseg - 1);
		for (size_t j = 0; j < r->m.nports; j++)
			give(s, next, col, (uint32_t)i,
			     segment_of(s, r->m.ports[j].lo),
			     segment_of(s, r->m.ports[j].hi));
	}
}

void kashim_rules_index_free(struct kashim_settings *s)
{
	kashim_settings_mem.free(s->seg_start);
	kashim_settings_mem.free(s->seg_rule);
	s->seg_start = s->seg_rule = NULL;
	s->nseg = 0;
	s->full_index = false;
}

/*
 * Build the rule index, cut at every rule and the top level when all,
 * else at this process's rules (cuts()). On failure to allocate, leave
 * it empty.
 */
static void build_index(struct kashim_settings *s, bool all)
{
	size_t max = 1; /* segments: at most one per port, 0 included */
	uint32_t *next;

	for (size_t i = 0; i <= s->nrules && max < 65536; i++)
		if (cuts(s, i, all))
			max += 2 * kashim_rule_at(s, i)->m.nports;
	max = max < 65536 ? max : 65536;
	s->seg_start = kashim_settings_mem.calloc(max, sizeof(*s->seg_start));
	s->seg_rule = kashim_settings_mem.calloc(2 * max, sizeof(*s->seg_rule));
	next = kashim_settings_mem.calloc(max + 1, sizeof(*next));
	if (s->seg_start && s->seg_rule && next)
		s->nseg = cut_points(s, s->seg_start, all);
	if (s->nseg) {
		fill_column(s, next, 0, KASHIM_DIR_OUTGOING);
		fill_column(s, next, 1, KASHIM_DIR_INCOMING);
		s->full_index = all;
	} else {
		kashim_rules_index_free(s);
	}
	kashim_settings_mem.free(next);
}

static void plan_rules(struct kashim_settings *s);

/*
 * Does this process's matching use an index? Only with a rule it may use
 * and a direction that is not decided in advance (fixed[], by
 * plan_rules()): the top level alone is one test, whatever its ports.
 */
static bool index_needed(const struct kashim_settings *s)
{
	bool usable = false;

	for (size_t i = 0; i < s->nrules && !usable; i++)
		usable = s->rules[i].program_ok;
	return usable && !(s->fixed[0] && s->fixed[1]);
}

void kashim_rules_finish(struct kashim_settings *s, const char *exe)
{
	s->top.program_ok = program_matches(&s->top.m, exe);
	note_needs(s, &s->top);
	for (size_t i = 0; i < s->nrules; i++) {
		s->rules[i].program_ok = program_matches(&s->rules[i].m, exe);
		note_needs(s, &s->rules[i]);
	}
	plan_rules(s);
	if (!s->nseg && index_needed(s))
		build_index(s, false);
}

int kashim_rules_index(struct kashim_settings *s)
{
	kashim_rules_index_free(s);
	build_index(s, true);
	if (s->nseg)
		return 0;
	errno = ENOMEM;
	return -1;
}

static bool port_matches(const struct kashim_match *m, uint16_t port)
{
	if (m->nports == 0)
		return true;
	for (size_t i = 0; i < m->nports; i++)
		if (port >= m->ports[i].lo && port <= m->ports[i].hi)
			return true;
	return false;
}

bool kashim_port_matches(const struct kashim_match *m, uint16_t port)
{
	return port_matches(m, port);
}

/* addr (16 bytes, IPv6 form) inside block c? */
static bool in_block(const struct kashim_cidr *c, const uint8_t *addr)
{
	unsigned full = c->prefix / 8, rest = c->prefix % 8;

	if (memcmp(c->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((c->addr[full] ^ addr[full]) & (0xff00u >> rest) & 0xff) == 0;
}

static bool host_matches(const struct kashim_match *m, const uint8_t *addr)
{
	if (m->nhosts == 0)
		return true;
	for (size_t i = 0; addr && i < m->nhosts; i++)
		if (in_block(&m->hosts[i], addr))
			return true;
	return false;
}

/* A peer address in its 16-byte IPv6 form; NULL if not IPv4 or IPv6. */
/* Inlined by force below: kashim_rule_for() is on every connection. */
#define HOT __attribute__((always_inline)) inline

static HOT const uint8_t *peer_bytes(const struct sockaddr *peer, uint8_t *buf)
{
	if (!peer)
		return NULL;
	if (peer->sa_family == AF_INET6)
		return ((const struct sockaddr_in6 *)peer)->sin6_addr.s6_addr;
	if (peer->sa_family != AF_INET)
		return NULL;
	memset(buf, 0, 10);
	buf[10] = buf[11] = 0xff;
	memcpy(buf + 12, &((const struct sockaddr_in *)peer)->sin_addr, 4);
	return buf;
}

/* Does rule r take a connection in direction, on port, from addr? */
static HOT bool rule_matches(const struct kashim_rule *r, unsigned direction,
			     uint16_t port, const uint8_t *addr)
{
	return r->program_ok && (r->m.direction & direction) &&
	       port_matches(&r->m, port) && host_matches(&r->m, addr);
}

/*
 * The first rule that may match port in direction, by the index: rules
 * before it cannot. Binary search for the segment holding port.
 */
static size_t first_candidate(const struct kashim_settings *s,
			      unsigned direction, uint16_t port)
{
	if (!s->nseg)
		return 0;
	return s->seg_rule[2 * segment_of(s, port) +
			   (direction == KASHIM_DIR_INCOMING)];
}

const struct kashim_rule *kashim_rule_for(const struct kashim_settings *s,
				       unsigned direction, uint16_t port,
				       const struct sockaddr *peer)
{
	uint8_t buf[16];
	const uint8_t *addr;
	const struct kashim_rule *r = NULL;

	if (s->fixed[direction == KASHIM_DIR_INCOMING]) /* no key matters */
		return s->fixed_rule[direction == KASHIM_DIR_INCOMING];
	if (!s->top.v.enable) /* the master switch */
		return NULL;
	addr = peer_bytes(peer, buf);
	for (size_t i = first_candidate(s, direction, port); i < s->nrules && !r; i++)
		if (rule_matches(&s->rules[i], direction, port, addr))
			r = &s->rules[i];
	if (!r && rule_matches(&s->top, direction, port, addr))
		r = &s->top;
	return r && r->v.enable ? r : NULL;
}

const struct kashim_rule *
kashim_rule_matched(const struct kashim_settings *s, unsigned direction,
		    uint16_t port, const struct sockaddr *peer)
{
	uint8_t buf[16];
	const uint8_t *addr = peer_bytes(peer, buf);

	for (size_t i = 0; i < s->nrules; i++)
		if (rule_matches(&s->rules[i], direction, port, addr))
			return &s->rules[i];
	return rule_matches(&s->top, direction, port, addr) ? &s->top : NULL;
}

const struct kashim_opt_id kashim_opt_id[KASHIM_NOPTS] = {
	[KASHIM_OPT_IDLE] = { IPPROTO_TCP, TCP_KEEPIDLE },
	[KASHIM_OPT_INTVL] = { IPPROTO_TCP, TCP_KEEPINTVL },
	[KASHIM_OPT_CNT] = { IPPROTO_TCP, TCP_KEEPCNT },
	[KASHIM_OPT_UTO] = { IPPROTO_TCP, TCP_USER_TIMEOUT },
	[KASHIM_OPT_KA] = { SOL_SOCKET, SO_KEEPALIVE },
};

/*
 * Keep-alive timing is kashim's only where the program did not turn
 * SO_KEEPALIVE on itself; each option is kashim's only where the program
 * did not set it; override makes them all kashim's. A user timeout of 0
 * leaves the kernel's.
 */
void kashim_plan_make(const struct kashim_values *v, unsigned own,
		      struct kashim_plan *p)
{
	int val[KASHIM_NOPTS] = { v->idle, v->interval, v->count,
				  kashim_user_timeout_ms(v), 1 };
	bool ka = v->override || !(own & (1u << KASHIM_OPT_KA));

	p->n = 0;
	for (unsigned o = 0; o < KASHIM_NOPTS; o++) {
		bool mine = v->override || !(own & (1u << o));

		if (!mine || (o == KASHIM_OPT_UTO ? val[o] <= 0 : !ka))
			continue;
		p->o[p->n++] = (struct kashim_plan_opt){ kashim_opt_id[o].level,
							 kashim_opt_id[o].name, val[o],
							 (enum kashim_opt)o };
	}
}

/* Could r match direction d at port, whatever the peer? */
static bool may_match(const struct kashim_rule *r, unsigned d, uint16_t port)
{
	return r->program_ok && (r->m.direction & d) &&
	       port_matches(&r->m, port);
}

/*
 * Is the rule for direction d (bit) the same for every port and peer?
 * It is when the first rule this process may use for d has neither
 * ports nor hosts, or when there is none and the top level has neither.
 */
static void fix_direction(struct kashim_settings *s, unsigned d)
{
	const struct kashim_rule *r = &s->top;
	size_t i = 0;

	while (i < s->nrules &&
	       !(s->rules[i].program_ok && (s->rules[i].m.direction & d)))
		i++;
	if (i < s->nrules)
		r = &s->rules[i];
	s->fixed[d == KASHIM_DIR_INCOMING] = !r->m.nports && !r->m.nhosts;
	s->fixed_rule[d == KASHIM_DIR_INCOMING] =
		s->top.v.enable && may_match(r, d, 0) && r->v.enable ? r : NULL;
}

/* Work out each rule's plan, and which directions need no matching. */
static void plan_rules(struct kashim_settings *s)
{
	kashim_plan_make(&s->top.v, 0, &s->top.plan);
	for (size_t i = 0; i < s->nrules; i++)
		kashim_plan_make(&s->rules[i].v, 0, &s->rules[i].plan);
	fix_direction(s, KASHIM_DIR_OUTGOING);
	fix_direction(s, KASHIM_DIR_INCOMING);
}

const struct kashim_rule *
kashim_rule_for_listener(const struct kashim_settings *s, uint16_t port,
			 bool *peer_matters)
{
	const unsigned d = KASHIM_DIR_INCOMING;
	const struct kashim_rule *r = NULL;

	*peer_matters = false;
	if (!s->top.v.enable)
		return NULL;
	for (size_t i = first_candidate(s, d, port); i < s->nrules && !r; i++)
		if (may_match(&s->rules[i], d, port))
			r = &s->rules[i];
	if (!r && may_match(&s->top, d, port))
		r = &s->top;
	if (r && r->m.nhosts) {
		*peer_matters = true;
		return NULL;
	}
	return r && r->v.enable ? r : NULL;
}

int kashim_user_timeout_ms(const struct kashim_values *v)
{
	long ms;

	if (v->user_timeout != KASHIM_USER_TIMEOUT_AUTO)
		return v->user_timeout;
	ms = ((long)v->idle + (long)v->interval * v->count) * 1000;
	return ms > KASHIM_USER_TIMEOUT_MAX ? KASHIM_USER_TIMEOUT_MAX : (int)ms;
}
