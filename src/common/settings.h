/*
 * settings.h - kashim's settings: one table of keys, their parsers, rules.
 *
 * The same parsers serve the environment (library), the config file
 * (config module) and the options of the `kashim` command, so a value is
 * valid or invalid in the same way everywhere.
 */
#ifndef KASHIM_SETTINGS_H
#define KASHIM_SETTINGS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "defaults.h"

enum kashim_key {
	KASHIM_KEY_ENABLE,
	KASHIM_KEY_PRESET, /* before the keys it sets: explicit ones win */
	KASHIM_KEY_IDLE,
	KASHIM_KEY_INTERVAL,
	KASHIM_KEY_COUNT,
	KASHIM_KEY_USER_TIMEOUT,
	KASHIM_KEY_OVERRIDE,
	KASHIM_KEY_PORTS,
	KASHIM_KEY_HOSTS,
	KASHIM_KEY_PROGRAMS,
	KASHIM_KEY_DIRECTION,
	KASHIM_KEY_LOG_LEVEL,
	KASHIM_KEY_LOG_TARGET,
	KASHIM_KEY_LISTENER,
	KASHIM_NKEYS
};

enum kashim_log_level {
	KASHIM_LOG_NONE,
	KASHIM_LOG_ERROR,
	KASHIM_LOG_WARN,
	KASHIM_LOG_INFO,
	KASHIM_LOG_DEBUG,
};

/* Directions are bits, so `both` matches either. */
#define KASHIM_DIR_OUTGOING 1u
#define KASHIM_DIR_INCOMING 2u
#define KASHIM_DIR_BOTH (KASHIM_DIR_OUTGOING | KASHIM_DIR_INCOMING)

/* user_timeout = auto: (idle + interval * count) * 1000. */
#define KASHIM_USER_TIMEOUT_AUTO (-1)

/* What a key is: where it may stand and whether rules inherit it. */
#define KASHIM_KF_RULE 1u  /* allowed inside a rule section */
#define KASHIM_KF_MATCH 2u /* a match key: never inherited */
#define KASHIM_KF_LIST 4u  /* a list: `a,b` in the environment, {a, b} in the file */

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
	struct kashim_plan plan; /* by kashim_settings_finish() */
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
	 * The rule index, built by kashim_settings_finish(): the port line
	 * cut into nseg segments at every end of a rule's port ranges
	 * (seg_start ascending, from 0), and for each segment the first rule
	 * that may match it, outgoing and incoming (seg_rule[2 * i + 0/1];
	 * nrules for none). Without it (nseg = 0) matching scans every rule.
	 */
	uint32_t *seg_start;
	uint32_t *seg_rule;
	size_t nseg;
	/*
	 * When the rule for a direction depends on neither port nor peer
	 * (no match key could make a difference), fixed[d] is set and
	 * fixed_rule[d] is the answer (NULL: leave the socket alone); d is
	 * 0 outgoing, 1 incoming. By kashim_settings_finish().
	 */
	bool fixed[2];
	const struct kashim_rule *fixed_rule[2];
};

/*
 * A key of the table: its config name, its environment variable and
 * `kashim` option (NULL when it has none), its default as text, a line
 * of help, its KASHIM_KF_* flags, and the parser that stores a value.
 * parse() returns 0, or -1 with a message (without location) in err.
 */
struct kashim_key_def {
	const char *name;
	const char *env;
	const char *option;
	const char *def;
	const char *help;
	unsigned flags;
	int (*parse)(struct kashim_settings *s, struct kashim_rule *r,
		     const char *text, char *err, size_t errlen);
};

extern const struct kashim_key_def kashim_keys[KASHIM_NKEYS];

/*
 * A preset: named timings for a path whose middlebox forgets an idle
 * TCP connection after limit seconds (0: no such limit). Its idle time
 * leaves a margin below the limit, enough for one lost probe. It sets
 * user_timeout only when sets_user_timeout.
 */
struct kashim_preset {
	const char *name;
	int limit;
	int idle, interval, count;
	bool sets_user_timeout;
	int user_timeout;
	const char *path; /* what the limit is, for --check and --help */
};

extern const struct kashim_preset kashim_presets[];
extern const size_t kashim_npresets;

/* Look a preset up by name (any case); NULL when there is none. */
const struct kashim_preset *kashim_preset_by_name(const char *name);

/* Look a key up by its config name; NULL when there is none. */
const struct kashim_key_def *kashim_key_by_name(const char *name);

/*
 * Where the parsers get the memory of lists and give it back: calloc()
 * and free() unless the process sets others before parsing. The library
 * sets an arena of its own (src/lib/arena.c), so that reading the
 * environment calls no malloc(); its free() must also take what plain
 * calloc() gave (lists a config module parsed). Only list items and
 * their strings go through it; s->rules and the port index do not.
 */
struct kashim_mem {
	void *(*calloc)(size_t n, size_t size);
	void (*free)(void *p);
};
extern struct kashim_mem kashim_settings_mem;

/* Fill s with the built-in defaults; frees nothing. Returns 0. */
int kashim_settings_defaults(struct kashim_settings *s);

/*
 * Set key k of rule r (the top level when r is &s->top) from text.
 * Returns 0, or -1 with err holding "KEY: message".
 */
int kashim_set(struct kashim_settings *s, struct kashim_rule *r,
	       enum kashim_key k, const char *text, char *err, size_t errlen);

/*
 * Apply the environment to the top level, reading each variable with
 * get (getenv or secure_getenv). Returns 0, or -1 with err naming the
 * first bad variable and its value.
 */
int kashim_settings_from_env(struct kashim_settings *s,
			     char *(*get)(const char *), char *err,
			     size_t errlen);

/*
 * Finish the settings once every source is in: rules inherit the value
 * keys they left out from the top level, and the programs key is
 * matched against exe (the executable's base name; NULL matches none).
 */
void kashim_settings_finish(struct kashim_settings *s, const char *exe);

/* Free what the parsers allocated and reset s to the defaults. */
void kashim_settings_free(struct kashim_settings *s);

/* Name of a log level or direction, for messages and `kashim --check`. */
const char *kashim_log_level_name(int level);
const char *kashim_direction_name(unsigned direction);

/*
 * The user timeout in ms that values v put on a socket: v->user_timeout,
 * or the `auto` bound computed from idle, interval and count.
 */
int kashim_user_timeout_ms(const struct kashim_values *v);

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

/* Write s as a config file would hold it (for `kashim --check`). */
void kashim_settings_print(const struct kashim_settings *s, void *stream);

#endif
