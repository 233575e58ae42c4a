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
#include "rules.h"

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

/* What a key is: where it may stand and whether rules inherit it. */
#define KASHIM_KF_RULE 1u  /* allowed inside a rule section */
#define KASHIM_KF_MATCH 2u /* a match key: never inherited */
#define KASHIM_KF_LIST 4u  /* a list: `a,b` in the environment, {a, b} in the file */

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

#endif
