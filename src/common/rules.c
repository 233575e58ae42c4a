/*
 * rules.c - rules once the settings are in: inheritance from the top
 * level, the programs key, the port index, and matching a connection.
 *
 * Linked into the library, the config module and the `kashim` command.
 * kashim_settings_finish() allocates the index once; matching a
 * connection does no I/O and allocates nothing.
 */
#include <fnmatch.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"

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

/* Value keys r left out come from the top level; match keys never do. */
static void inherit(struct kashim_rule *r, const struct kashim_values *top)
{
	struct kashim_values own = r->v;

#define TAKE(key, field) \
	(r->v.field = (r->set & (1u << (key))) ? own.field : top->field)
	TAKE(KASHIM_KEY_ENABLE, enable);
	TAKE(KASHIM_KEY_OVERRIDE, override);
	TAKE(KASHIM_KEY_IDLE, idle);
	TAKE(KASHIM_KEY_INTERVAL, interval);
	TAKE(KASHIM_KEY_COUNT, count);
	TAKE(KASHIM_KEY_USER_TIMEOUT, user_timeout);
#undef TAKE
}

static bool port_matches(const struct kashim_match *m, uint16_t port);

/* The first rule, from i on, this process and direction may use for port. */
static uint32_t first_rule(const struct kashim_settings *s, size_t i,
			   unsigned direction, uint32_t port)
{
	for (; i < s->nrules; i++) {
		const struct kashim_rule *r = &s->rules[i];

		if (r->program_ok && (r->m.direction & direction) &&
		    port_matches(&r->m, (uint16_t)port))
			break;
	}
	return (uint32_t)i;
}

static int by_value(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Collect 0 and every end of the usable rules' port ranges, sorted, once. */
static size_t cut_points(const struct kashim_settings *s, uint32_t *cut)
{
	size_t n = 1, unique = 1;

	cut[0] = 0;
	for (size_t i = 0; i < s->nrules; i++) {
		const struct kashim_match *m = &s->rules[i].m;

		for (size_t j = 0; s->rules[i].program_ok && j < m->nports; j++) {
			cut[n++] = m->ports[j].lo;
			cut[n++] = m->ports[j].hi + 1u;
		}
	}
	qsort(cut, n, sizeof(*cut), by_value);
	for (size_t i = 1; i < n; i++)
		if (cut[i] != cut[unique - 1] && cut[i] <= 65535)
			cut[unique++] = cut[i];
	return unique;
}

/* Build the rule index; on failure to allocate, leave it empty. */
static void build_index(struct kashim_settings *s)
{
	size_t max = 1;

	for (size_t i = 0; i < s->nrules; i++)
		max += 2 * s->rules[i].m.nports;
	s->seg_start = malloc(max * sizeof(*s->seg_start));
	s->seg_rule = malloc(2 * max * sizeof(*s->seg_rule));
	if (!s->seg_start || !s->seg_rule) {
		free(s->seg_start);
		free(s->seg_rule);
		s->seg_start = s->seg_rule = NULL;
		return;
	}
	s->nseg = cut_points(s, s->seg_start);
	for (size_t i = 0; i < s->nseg; i++) {
		s->seg_rule[2 * i] = first_rule(s, 0, KASHIM_DIR_OUTGOING,
						 s->seg_start[i]);
		s->seg_rule[2 * i + 1] = first_rule(s, 0, KASHIM_DIR_INCOMING,
						    s->seg_start[i]);
	}
}

void kashim_settings_finish(struct kashim_settings *s, const char *exe)
{
	s->top.program_ok = program_matches(&s->top.m, exe);
	note_needs(s, &s->top);
	for (size_t i = 0; i < s->nrules; i++) {
		inherit(&s->rules[i], &s->top.v);
		s->rules[i].program_ok = program_matches(&s->rules[i].m, exe);
		note_needs(s, &s->rules[i]);
	}
	if (s->nrules && !s->nseg)
		build_index(s);
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
	size_t lo = 0, hi = s->nseg;

	if (!s->nseg)
		return 0;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->seg_start[mid] <= port)
			lo = mid;
		else
			hi = mid;
	}
	return s->seg_rule[2 * lo + (direction == KASHIM_DIR_INCOMING)];
}

const struct kashim_rule *kashim_rule_for(const struct kashim_settings *s,
				       unsigned direction, uint16_t port,
				       const struct sockaddr *peer)
{
	uint8_t buf[16];
	const uint8_t *addr = peer_bytes(peer, buf);
	const struct kashim_rule *r = NULL;

	if (!s->top.v.enable) /* the master switch */
		return NULL;
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
