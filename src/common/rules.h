/*
 * rules.h - the settings as data (the top level, the rules, their match
 * and value keys) and the answers made from them: which rule takes a
 * connection, through one port index, and what applying it sets.
 *
 * The library, the `kashim` command and kashim-bpf ask the same
 * functions: the BPF maps are built from the index and the plans made
 * here. Parsing the keys is settings.h's; this header needs none of it.
 */
#ifndef KASHIM_RULES_H
#define KASHIM_RULES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "defaults.h"

/* Directions are bits, so `both` matches either. */
#define KASHIM_DIR_OUTGOING 1u
#define KASHIM_DIR_INCOMING 2u
#define KASHIM_DIR_BOTH (KASHIM_DIR_OUTGOING | KASHIM_DIR_INCOMING)

/* user_timeout = auto: (idle + interval * count) * 1000. */
#define KASHIM_USER_TIMEOUT_AUTO (-1)

struct kashim_port_range {
	uint16_t lo, hi;
};

/* An address block; IPv4 is held in its IPv4-mapped IPv6 form. */
struct kashim_cidr {
	uint8_t addr[16];
	uint8_t prefix;
};

/* The match keys of a rule or of the top level; empty lists match all. */
struct kashim_match {
	struct kashim_port_range *ports;
	size_t nports;
	struct kashim_cidr *hosts;
	size_t nhosts;
	char **programs;
	size_t nprograms;
	unsigned direction;
};

/* The value keys: what is applied to a socket. */
struct kashim_values {
	bool enable;
	bool override;
	int idle;
	int interval;
	int count;
	int user_timeout; /* ms, 0 = leave the kernel's, or KASHIM_USER_TIMEOUT_AUTO */
};

/* The options kashim sets, in the order it sets them. */
enum kashim_opt {
	KASHIM_OPT_IDLE,
	KASHIM_OPT_INTVL,
	KASHIM_OPT_CNT,
	KASHIM_OPT_UTO,
	KASHIM_OPT_KA,
	KASHIM_NOPTS
};

/* The socket level and option name of each (setsockopt, getsockopt). */
struct kashim_opt_id {
	int level, name;
};
extern const struct kashim_opt_id kashim_opt_id[KASHIM_NOPTS];

/*
 * What applying a rule does to a socket on which the program chose none
 * of the options (or to any socket, with override): n options, in order,
 * each with its level, name and value. Worked out once per rule when the
 * settings are finished, so a connection only walks it.
 */
struct kashim_plan {
	unsigned n;
	struct kashim_plan_opt {
		int level, name, value;
		enum kashim_opt opt;
	} o[KASHIM_NOPTS];
};

struct kashim_rule {
	char name[KASHIM_NAME_MAX];
	unsigned set; /* (1u << key) for every key given explicitly */
	bool program_ok; /* the programs key matched this process */
	struct kashim_values v;
	struct kashim_match m;
	struct kashim_plan plan; /* by kashim_rules_finish() */
};

struct kashim_settings {
	struct kashim_rule top;
	struct kashim_rule *rules;
	size_t nrules;
	int log_level;
	char log_target[PATH_MAX];
	/* listener key: incoming settings go on the listening socket once */
	bool listener;
	bool need_port; /* some rule or the top level matches on ports */
	bool need_host; /* some rule or the top level matches on hosts */
	/*
	 * The rule index: the port line cut into nseg segments at every
	 * end of a port range of the rules this process may use (built by
	 * kashim_rules_finish() when matching needs it), or of every rule
	 * and the top level (full_index, by kashim_rules_index(): kashim-bpf's
	 * port map holds the same segments); seg_start ascending, from 0.
	 * For each segment the first rule that may match it, outgoing and
	 * incoming (seg_rule[2 * i + 0/1]; nrules for none). Without it
	 * (nseg = 0) matching scans every rule.
	 */
	uint32_t *seg_start;
	uint32_t *seg_rule;
	size_t nseg;
	bool full_index;
	/*
	 * When the rule for a direction depends on neither port nor peer
	 * (no match key could make a difference), fixed[d] is set and
	 * fixed_rule[d] is the answer (NULL: leave the socket alone); d is
	 * 0 outgoing, 1 incoming. By kashim_rules_finish().
	 */
	bool fixed[2];
	const struct kashim_rule *fixed_rule[2];
};

/*
 * Rule i of s, the top level for i == s->nrules: every rule, then the
 * top level, as the index and kashim-bpf's maps (bit i) take them.
 */
static inline const struct kashim_rule *
kashim_rule_at(const struct kashim_settings *s, size_t i)
{
	return i < s->nrules ? &s->rules[i] : &s->top;
}

/*
 * The user timeout in ms that values v put on a socket: v->user_timeout,
 * or the `auto` bound computed from idle, interval and count.
 */
int kashim_user_timeout_ms(const struct kashim_values *v);

/*
 * Finish the rules once every value is in (settings.c has made the
 * rules inherit from the top level): match the programs key against exe
 * (the executable's base name; NULL matches none), work out each rule's
 * plan and build the port index that matching needs: none when no rule
 * is exe's or no match key can make a difference, else one cut at the
 * port ranges of exe's rules only. Without memory for it, matching
 * scans every rule.
 */
void kashim_rules_finish(struct kashim_settings *s, const char *exe);

/*
 * The full port index, for kashim-bpf, after kashim_rules_finish(): cut
 * at every end of a port range of every rule and of the top level,
 * whatever their programs key (the maps match programs in the kernel),
 * in place of the one finishing built. Matching answers as before.
 * Returns 0, or -1 with errno ENOMEM and no index.
 */
int kashim_rules_index(struct kashim_settings *s);

/* Drop s's port index: matching scans every rule until one is built
 * again. */
void kashim_rules_index_free(struct kashim_settings *s);

/* Does m name port? An empty list of ports names every port. */
bool kashim_port_matches(const struct kashim_match *m, uint16_t port);

/*
 * The rule for a connection: its direction (KASHIM_DIR_*), its port (the
 * peer's for outgoing, the local one for incoming), and its peer address
 * (NULL when unknown; a rule with hosts then does not match). Returns the
 * first matching rule, the top level when none does and its own match
 * keys match, or NULL to leave the socket alone. Does no I/O, allocates
 * nothing.
 */
const struct kashim_rule *kashim_rule_for(const struct kashim_settings *s,
				       unsigned direction, uint16_t port,
				       const struct sockaddr *peer);

/*
 * The rule that matches a connection whatever its enable, by a full scan
 * (no index): for messages saying why a socket was left alone. A
 * direction of KASHIM_DIR_BOTH matches a rule of either direction.
 */
const struct kashim_rule *
kashim_rule_matched(const struct kashim_settings *s, unsigned direction,
		    uint16_t port, const struct sockaddr *peer);

/*
 * The plan for values v on a socket in which the program set the options
 * in own (bits (1u << KASHIM_OPT_*)): what kashim still sets there.
 */
void kashim_plan_make(const struct kashim_values *v, unsigned own,
		      struct kashim_plan *p);

/*
 * The rule for connections accepted on a listener of local port port,
 * when it does not depend on the peer. Returns it (NULL: leave them
 * alone) with *peer_matters false, or NULL with *peer_matters true when
 * a rule with hosts could match: then only the peer decides.
 */
const struct kashim_rule *kashim_rule_for_listener(const struct kashim_settings *s,
						uint16_t port,
						bool *peer_matters);

/* kashim_rule_for() without a call when no key matters for direction. */
static inline const struct kashim_rule *
kashim_rule_quick(const struct kashim_settings *s, unsigned direction,
		  uint16_t port, const struct sockaddr *peer)
{
	unsigned d = direction == KASHIM_DIR_INCOMING;

	return s->fixed[d] ? s->fixed_rule[d] :
			     kashim_rule_for(s, direction, port, peer);
}

/*
 * Where the parsers get the memory of lists and give it back: calloc()
 * and free() unless the process sets others before parsing. The library
 * sets an arena of its own (src/lib/arena.c), so that reading the
 * environment calls no malloc(); its free() must also take what plain
 * calloc() gave (lists a config module parsed). List items, their strings
 * and the port index go through it (the index is built at the first
 * connection, which may come from a signal handler); s->rules does not.
 */
struct kashim_mem {
	void *(*calloc)(size_t n, size_t size);
	void (*free)(void *p);
};
extern struct kashim_mem kashim_settings_mem;

#endif
