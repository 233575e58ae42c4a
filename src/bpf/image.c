/*
 * image.c - kashim's settings as the BPF maps hold them.
 *
 * Rule i of the settings is bit i of every mask, the top level bit
 * nrules. The port segments are the library's index (common/rules.c), so
 * a port's segment (a binary search in the program) tells which rules
 * name it; each rule's plans are the library's too. Address blocks and program
 * names go into longest-prefix tries: the value of each entry is every rule
 * with an entry that contains it, so the longest match alone answers for all
 * rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "kbpf.h"

/* The option bits are the library's: plan bits are copied across. */
_Static_assert(KBPF_OPT_IDLE == 1u << KASHIM_OPT_IDLE &&
		       KBPF_OPT_INTVL == 1u << KASHIM_OPT_INTVL &&
		       KBPF_OPT_CNT == 1u << KASHIM_OPT_CNT &&
		       KBPF_OPT_UTO == 1u << KASHIM_OPT_UTO &&
		       KBPF_OPT_KA == 1u << KASHIM_OPT_KA &&
		       KBPF_NPLANS == 1u << KASHIM_NOPTS,
	       "kashim-bpf.h's option bits follow enum kashim_opt");

/*
 * The values rule r puts on a socket, with `auto` worked out, and the
 * library's plan for each set of options a program may have set itself.
 */
static void fill_values(const struct kashim_rule *r, struct kbpf_values *v)
{
	memset(v, 0, sizeof(*v));
	for (unsigned own = 0; own < KBPF_NPLANS; own++) {
		struct kashim_plan p;

		kashim_plan_make(&r->v, own, &p);
		for (unsigned i = 0; i < p.n; i++)
			v->plan[own] |= (uint8_t)(1u << p.o[i].opt);
	}
	v->flags = (r->v.enable ? KBPF_V_ENABLE : 0) |
		   (r->v.override ? KBPF_V_OVERRIDE : 0);
	v->idle = (uint32_t)r->v.idle;
	v->intvl = (uint32_t)r->v.interval;
	v->cnt = (uint32_t)r->v.count;
	v->uto = (uint32_t)kashim_user_timeout_ms(&r->v);
	snprintf(v->name, sizeof(v->name), "%s", r->name);
}

/*
 * The port segments are those of the library's full index (rules.c,
 * kashim_rules_index(): cut at every rule and the top level), and each
 * one's mask the rules whose ports hold it, by the library's own test.
 */
static int build_ports(const struct kashim_settings *s, struct kbpf_image *im,
		       char *err, size_t errlen)
{
	size_t n = s->nseg;

	if (!s->full_index) {
		snprintf(err, errlen,
			 "ports: the settings have no full port index "
			 "(kashim_rules_index() was not called)");
		return -1;
	}
	if (n > KBPF_MAX_SEGS) {
		snprintf(err, errlen,
			 "ports: the rules cut the port line into %zu pieces; "
			 "kashim-bpf holds at most %d",
			 n, KBPF_MAX_SEGS);
		return -1;
	}
	for (size_t k = 0; k < n; k++) {
		im->segs[k].start = s->seg_start[k];
		for (size_t i = 0; i <= s->nrules; i++)
			if (kashim_port_matches(&kashim_rule_at(s, i)->m,
						(uint16_t)im->segs[k].start))
				im->segs[k].mask |= 1ull << i;
	}
	im->conf.nseg = (uint32_t)n;
	return 0;
}

/* Do the first bits bits of a and b agree? */
static bool same_prefix(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	return !rest || !((a[whole] ^ b[whole]) & (0xff00u >> rest));
}

/* The address blocks; each one's mask: rules with a block around it. */
static int build_hosts(const struct kashim_settings *s, struct kbpf_image *im,
		       char *err, size_t errlen)
{
	size_t n = 0;

	for (size_t i = 0; i <= s->nrules; i++) {
		const struct kashim_match *m = &kashim_rule_at(s, i)->m;

		if (!m->nhosts)
			im->conf.hosts_any |= 1ull << i;
		for (size_t j = 0; j < m->nhosts; j++, n++) {
			if (n == KBPF_MAX_HOSTS) {
				snprintf(err, errlen,
					 "hosts: more than %d address blocks "
					 "in all; kashim-bpf holds at most "
					 "that many",
					 KBPF_MAX_HOSTS);
				return -1;
			}
			im->hosts[n].prefixlen = m->hosts[j].prefix;
			memcpy(im->hosts[n].addr, m->hosts[j].addr, 16);
		}
	}
	im->nhosts = n;
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i <= s->nrules; i++) {
			const struct kashim_match *m = &kashim_rule_at(s, i)->m;

			for (size_t j = 0; j < m->nhosts; j++)
				if (m->hosts[j].prefix <=
					    im->hosts[k].prefixlen &&
				    same_prefix(m->hosts[j].addr,
						im->hosts[k].addr,
						m->hosts[j].prefix))
					im->host_mask[k] |= 1ull << i;
		}
	return 0;
}

/*
 * The trie key for a programs entry: an exact name (the comm holds its
 * first 15 characters, then NUL) or a name ending in '*' (a prefix).
 * Returns 0, or -1 for a glob a comm cannot honour.
 */
static int prog_key(const char *rule, const char *pat, struct kbpf_prog_key *k,
		    char *err, size_t errlen)
{
	size_t len = strlen(pat), max = KBPF_COMM_LEN - 1;
	bool prefix = len && pat[len - 1] == '*';

	if (prefix)
		len--;
	if (strpbrk(pat, "?[]\\") || memchr(pat, '*', len)) {
		snprintf(err, errlen,
			 "rule \"%s\": programs: \"%s\": kashim-bpf matches a "
			 "program by its comm, so only an exact name or a name "
			 "ending in '*' can be honoured",
			 rule, pat);
		return -1;
	}
	memset(k, 0, sizeof(*k));
	memcpy(k->comm, pat, len < max ? len : max);
	if (prefix)
		k->prefixlen = 8 * (uint32_t)(len < max ? len : max);
	else
		k->prefixlen = 8 * (uint32_t)((len < max ? len : max) + 1);
	return 0;
}

/* Give each name the rules of every name that is a prefix of it. */
static void widen_progs(struct kbpf_image *im)
{
	uint64_t owner[KBPF_MAX_PROGS];

	memcpy(owner, im->prog_mask, im->nprogs * sizeof(*owner));
	for (size_t k = 0; k < im->nprogs; k++)
		for (size_t q = 0; q < im->nprogs; q++)
			if (im->progs[q].prefixlen <= im->progs[k].prefixlen &&
			    !memcmp(im->progs[q].comm, im->progs[k].comm,
				    im->progs[q].prefixlen / 8))
				im->prog_mask[k] |= owner[q];
}

/* The program names; each one's mask: rules with a name covering it. */
static int build_progs(const struct kashim_settings *s, struct kbpf_image *im,
		       char *err, size_t errlen)
{
	size_t n = 0;

	for (size_t i = 0; i <= s->nrules; i++) {
		const struct kashim_rule *r = kashim_rule_at(s, i);

		if (!r->m.nprograms)
			im->conf.progs_any |= 1ull << i;
		for (size_t j = 0; j < r->m.nprograms; j++, n++) {
			if (n == KBPF_MAX_PROGS) {
				snprintf(err, errlen,
					 "programs: more than %d names in all; "
					 "kashim-bpf holds at most that many",
					 KBPF_MAX_PROGS);
				return -1;
			}
			if (prog_key(r->name, r->m.programs[j], &im->progs[n],
				     err, errlen) < 0)
				return -1;
			im->prog_mask[n] = 1ull << i; /* the owner, for now */
		}
	}
	im->nprogs = n;
	im->conf.use_programs = n > 0;
	widen_progs(im);
	return 0;
}

int kbpf_image_build(const struct kashim_settings *s, const char *path,
		     struct kbpf_image *im, char *err, size_t errlen)
{
	memset(im, 0, sizeof(*im));
	if (s->nrules > KBPF_MAX_RULES) {
		snprintf(err, errlen, "%zu rules; kashim-bpf holds at most %d",
			 s->nrules, KBPF_MAX_RULES);
		return -1;
	}
	im->conf.enable = s->top.v.enable;
	im->conf.nrules = (uint32_t)s->nrules;
	for (size_t i = 0; i <= s->nrules; i++) {
		const struct kashim_rule *r = kashim_rule_at(s, i);

		fill_values(r, &im->vals[i]);
		if (r->m.direction & KASHIM_DIR_OUTGOING)
			im->conf.dir_mask[0] |= 1ull << i;
		if (r->m.direction & KASHIM_DIR_INCOMING)
			im->conf.dir_mask[1] |= 1ull << i;
	}
	if (build_ports(s, im, err, errlen) < 0 ||
	    build_hosts(s, im, err, errlen) < 0 ||
	    build_progs(s, im, err, errlen) < 0)
		return -1;
	while (!im->conf.gen)
		if (getrandom(&im->conf.gen, sizeof(im->conf.gen), 0) < 0)
			im->conf.gen = 1;
	snprintf(im->conf.cgroup, sizeof(im->conf.cgroup), "%s", path);
	return 0;
}
