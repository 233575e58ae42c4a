/*
 * settings.c - the table of keys and their parsers, the built-in defaults
 * and the environment.
 *
 * Linked into the library, the config module and the `kashim` command.
 * Parsing allocates (lists), through kashim_settings_mem.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "settings.h"

/* Format a parser's message into err; returns -1 for `return fail(…)`. */
static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Character classes of the C locale, without libc's locale tables. */
static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Strict decimal: digits only, no sign, no spaces, within [min, max]. */
static int parse_number(const char *text, long min, long max, long *out)
{
	long v = 0;
	const char *p = text;

	if (*p == '\0')
		return -1;
	for (; *p; p++) {
		if (!is_digit(*p))
			return -1;
		v = v * 10 + (*p - '0');
		if (v > max)
			return -1;
	}
	if (v < min)
		return -1;
	*out = v;
	return 0;
}

/* true/false, yes/no, on/off, 1/0, any case. */
static int parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(text, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(text, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static int set_bool(bool *dst, const char *text, char *err, size_t errlen)
{
	if (parse_bool(text, dst) < 0)
		return fail(err, errlen, "'%s' is not a boolean (true or false)",
			    text);
	return 0;
}

static int set_int(int *dst, const char *text, long min, long max, char *err,
		   size_t errlen)
{
	long v;

	if (parse_number(text, min, max, &v) < 0)
		return fail(err, errlen, "'%s' is not a number from %ld to %ld",
			    text, min, max);
	*dst = (int)v;
	return 0;
}

static int p_enable(struct kashim_settings *s, struct kashim_rule *r,
		    const char *text, char *err, size_t errlen)
{
	(void)s;
	return set_bool(&r->v.enable, text, err, errlen);
}

static int p_override(struct kashim_settings *s, struct kashim_rule *r,
		      const char *text, char *err, size_t errlen)
{
	(void)s;
	return set_bool(&r->v.override, text, err, errlen);
}

static int p_idle(struct kashim_settings *s, struct kashim_rule *r,
		  const char *text, char *err, size_t errlen)
{
	(void)s;
	return set_int(&r->v.idle, text, 1, KASHIM_IDLE_MAX, err, errlen);
}

static int p_interval(struct kashim_settings *s, struct kashim_rule *r,
		      const char *text, char *err, size_t errlen)
{
	(void)s;
	return set_int(&r->v.interval, text, 1, KASHIM_INTERVAL_MAX, err,
		       errlen);
}

static int p_count(struct kashim_settings *s, struct kashim_rule *r,
		   const char *text, char *err, size_t errlen)
{
	(void)s;
	return set_int(&r->v.count, text, 1, KASHIM_COUNT_MAX, err, errlen);
}

static int p_user_timeout(struct kashim_settings *s, struct kashim_rule *r,
			  const char *text, char *err, size_t errlen)
{
	long v;

	(void)s;
	if (strcasecmp(text, "auto") == 0) {
		r->v.user_timeout = KASHIM_USER_TIMEOUT_AUTO;
		return 0;
	}
	if (parse_number(text, 0, KASHIM_USER_TIMEOUT_MAX, &v) < 0)
		return fail(err, errlen,
			    "'%s' is neither 'auto' nor a number of ms from 0 to %d",
			    text, KASHIM_USER_TIMEOUT_MAX);
	r->v.user_timeout = (int)v;
	return 0;
}

/*
 * A list being parsed: an array of n elements of size bytes, each filled
 * from one item of text by item(), which returns 0 or -1 with a message.
 * drop(), when set, releases what item() put in an element.
 */
struct list {
	char *v;
	size_t n, size;
	int (*item)(void *elem, const char *it, char *err, size_t errlen);
	void (*drop)(void *elem);
};

/* Count the items of a comma list, an upper bound for the array. */
static size_t count_items(const char *text)
{
	size_t n = 1;

	for (; *text; text++)
		n += *text == ',';
	return n;
}

/* Copy the item at p (n bytes) into buf, trimmed of spaces. */
static int trim_item(const char *p, size_t n, char *buf, size_t len,
		     const char *text, char *err, size_t errlen)
{
	while (n && is_space(*p)) {
		p++;
		n--;
	}
	while (n && is_space(p[n - 1]))
		n--;
	if (n == 0)
		return fail(err, errlen, "empty item in '%s'", text);
	if (n >= len)
		return fail(err, errlen, "item too long in '%s'", text);
	snprintf(buf, len, "%.*s", (int)n, p);
	return 0;
}

/* Fill l from the comma-separated items of text. Returns 0 or -1. */
static int fill_list(struct list *l, const char *text, char *err,
		     size_t errlen)
{
	const char *p = text;
	char buf[256];

	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (trim_item(p, n, buf, sizeof(buf), text, err, errlen) < 0 ||
		    l->item(l->v + l->n * l->size, buf, err, errlen) < 0)
			return -1;
		l->n++;
		if (!end)
			return 0;
		p = end + 1;
	}
}

/*
 * Parse text (empty: an empty list) into a new array, and on success put
 * it in *vec and *count in place of the old one, freed with the drop().
 */
static int parse_list(struct list *l, const char *text, void *vec,
		      size_t *count, char *err, size_t errlen)
{
	char **old = vec;

	if (*text) {
		l->v = kashim_settings_mem.calloc(count_items(text), l->size);
		if (!l->v)
			return fail(err, errlen, "out of memory");
		if (fill_list(l, text, err, errlen) < 0) {
			for (size_t i = 0; l->drop && i < l->n; i++)
				l->drop(l->v + i * l->size);
			kashim_settings_mem.free(l->v);
			return -1;
		}
	}
	for (size_t i = 0; l->drop && i < *count; i++)
		l->drop(*old + i * l->size);
	kashim_settings_mem.free(*old);
	*old = l->v;
	*count = l->n;
	return 0;
}

static int port_item(void *elem, const char *it, char *err, size_t errlen)
{
	struct kashim_port_range *range = elem;
	char lo[16], *dash;
	long a, b;

	if (strlen(it) >= sizeof(lo))
		return fail(err, errlen, "'%s' is not a port or range", it);
	strcpy(lo, it);
	dash = strchr(lo, '-');
	if (dash)
		*dash++ = '\0';
	if (parse_number(lo, 1, 65535, &a) < 0 ||
	    (dash && parse_number(dash, 1, 65535, &b) < 0))
		return fail(err, errlen,
			    "'%s' is not a port (1-65535) or range (LOW-HIGH)",
			    it);
	if (!dash)
		b = a;
	if (b < a)
		return fail(err, errlen, "port range '%s' is reversed", it);
	range->lo = (uint16_t)a;
	range->hi = (uint16_t)b;
	return 0;
}

static int p_ports(struct kashim_settings *s, struct kashim_rule *r,
		   const char *text, char *err, size_t errlen)
{
	struct list l = { .size = sizeof(*r->m.ports), .item = port_item };

	(void)s;
	return parse_list(&l, text, &r->m.ports, &r->m.nports, err, errlen);
}

/* Parse ADDR or ADDR/PREFIX, IPv4 or IPv6, into its IPv6 form. */
static int host_item(void *elem, const char *it, char *err, size_t errlen)
{
	struct kashim_cidr *c = elem;
	char addr[INET6_ADDRSTRLEN + 8], *slash;
	struct in_addr a4;
	long prefix = -1;
	int max;

	if (strlen(it) >= sizeof(addr))
		return fail(err, errlen, "'%s' is not an address or CIDR block",
			    it);
	strcpy(addr, it);
	slash = strchr(addr, '/');
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, addr, &a4) == 1) {
		c->addr[10] = c->addr[11] = 0xff;
		memcpy(&c->addr[12], &a4, 4);
		max = 32;
	} else if (inet_pton(AF_INET6, addr, c->addr) == 1) {
		max = 128;
	} else {
		return fail(err, errlen,
			    "'%s' is not an IPv4 or IPv6 address (no names: kashim does no DNS)",
			    it);
	}
	if (slash && parse_number(slash, 0, max, &prefix) < 0)
		return fail(err, errlen, "'%s': prefix must be 0 to %d", it,
			    max);
	c->prefix = (uint8_t)((slash ? prefix : max) + (max == 32 ? 96 : 0));
	return 0;
}

static int p_hosts(struct kashim_settings *s, struct kashim_rule *r,
		   const char *text, char *err, size_t errlen)
{
	struct list l = { .size = sizeof(*r->m.hosts), .item = host_item };

	(void)s;
	return parse_list(&l, text, &r->m.hosts, &r->m.nhosts, err, errlen);
}

static int glob_item(void *elem, const char *it, char *err, size_t errlen)
{
	char **glob = elem;

	if (strchr(it, '/'))
		return fail(err, errlen,
			    "'%s': programs are matched on the base name, without '/'",
			    it);
	*glob = kashim_settings_mem.calloc(1, strlen(it) + 1);
	if (!*glob)
		return fail(err, errlen, "out of memory");
	strcpy(*glob, it);
	return 0;
}

static void glob_drop(void *elem)
{
	kashim_settings_mem.free(*(char **)elem);
}

static int p_programs(struct kashim_settings *s, struct kashim_rule *r,
		      const char *text, char *err, size_t errlen)
{
	struct list l = { .size = sizeof(*r->m.programs), .item = glob_item,
			  .drop = glob_drop };

	(void)s;
	return parse_list(&l, text, &r->m.programs, &r->m.nprograms, err,
			  errlen);
}

/*
 * The presets. Each limit is the idle timer of the middlebox the preset
 * is named for (kashim.conf(5) names the public source); idle + interval
 * stays below it, so the mapping survives even one lost probe.
 */
const struct kashim_preset kashim_presets[] = {
	{ "default", 0, 60, 15, 4, false, 0, "kashim's built-in timings" },
	{ "aws", 350, 300, 20, 5, false, 0,
	  "AWS NAT gateway and Network Load Balancer idle timeout" },
	{ "azure", 240, 180, 20, 5, false, 0,
	  "Azure Load Balancer default idle timeout" },
	{ "gcp", 600, 540, 20, 5, false, 0,
	  "Google Cloud VPC firewall connection tracking" },
	{ "cgnat", 120, 90, 10, 5, false, 0,
	  "carrier-grade NAT or home router (assumed)" },
	{ "mobile", 60, 40, 5, 4, true, KASHIM_USER_TIMEOUT_AUTO,
	  "mobile carrier NAT (assumed)" },
	{ "kubernetes", 900, 840, 20, 5, false, 0,
	  "kube-proxy IPVS Service idle timeout" },
};
const size_t kashim_npresets = sizeof(kashim_presets) / sizeof(*kashim_presets);

const struct kashim_preset *kashim_preset_by_name(const char *name)
{
	for (size_t i = 0; i < kashim_npresets; i++)
		if (strcasecmp(name, kashim_presets[i].name) == 0)
			return &kashim_presets[i];
	return NULL;
}

/* "'text' is not a preset (none, default, aws, …)" into err. */
static int bad_preset(const char *text, char *err, size_t errlen)
{
	char names[160] = "none";
	size_t n = strlen(names);

	for (size_t i = 0; i < kashim_npresets && n < sizeof(names); i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, ", %s",
				      kashim_presets[i].name);
	return fail(err, errlen, "'%s' is not a preset (%s)", text, names);
}

/*
 * A preset sets the value keys it names in r, as if they were written
 * beside it; the keys after it in the table (idle, …) given at the same
 * level are applied after it and win.
 */
static int p_preset(struct kashim_settings *s, struct kashim_rule *r,
		    const char *text, char *err, size_t errlen)
{
	const struct kashim_preset *p = kashim_preset_by_name(text);

	(void)s;
	if (strcasecmp(text, "none") == 0)
		return 0;
	if (!p)
		return bad_preset(text, err, errlen);
	r->v.idle = p->idle;
	r->v.interval = p->interval;
	r->v.count = p->count;
	r->set |= 1u << KASHIM_KEY_IDLE | 1u << KASHIM_KEY_INTERVAL |
		  1u << KASHIM_KEY_COUNT;
	if (p->sets_user_timeout) {
		r->v.user_timeout = p->user_timeout;
		r->set |= 1u << KASHIM_KEY_USER_TIMEOUT;
	}
	return 0;
}

static const char *const direction_names[] = {
	[KASHIM_DIR_OUTGOING] = "outgoing",
	[KASHIM_DIR_INCOMING] = "incoming",
	[KASHIM_DIR_BOTH] = "both",
};

static int p_direction(struct kashim_settings *s, struct kashim_rule *r,
		       const char *text, char *err, size_t errlen)
{
	(void)s;
	for (unsigned d = KASHIM_DIR_OUTGOING; d <= KASHIM_DIR_BOTH; d++) {
		if (strcasecmp(text, direction_names[d]) == 0) {
			r->m.direction = d;
			return 0;
		}
	}
	return fail(err, errlen,
		    "'%s' is not a direction (outgoing, incoming or both)",
		    text);
}

static const char *const level_names[] = {
	[KASHIM_LOG_NONE] = "none", [KASHIM_LOG_ERROR] = "error",
	[KASHIM_LOG_WARN] = "warn", [KASHIM_LOG_INFO] = "info",
	[KASHIM_LOG_DEBUG] = "debug",
};

static int p_log_level(struct kashim_settings *s, struct kashim_rule *r,
		       const char *text, char *err, size_t errlen)
{
	(void)r;
	for (int l = KASHIM_LOG_NONE; l <= KASHIM_LOG_DEBUG; l++) {
		if (strcasecmp(text, level_names[l]) == 0) {
			s->log_level = l;
			return 0;
		}
	}
	return fail(err, errlen,
		    "'%s' is not a log level (none, error, warn, info, debug)",
		    text);
}

static int p_log_target(struct kashim_settings *s, struct kashim_rule *r,
			const char *text, char *err, size_t errlen)
{
	(void)r;
	/* Keywords in any case, as every keyword value; a path as it is. */
	if (strcasecmp(text, "stderr") == 0 || strcasecmp(text, "syslog") == 0) {
		strcpy(s->log_target, text[1] == 't' || text[1] == 'T' ?
					      "stderr" : "syslog");
		return 0;
	}
	if (text[0] != '/')
		return fail(err, errlen,
			    "'%s' is not stderr, syslog or an absolute path",
			    text);
	if (strlen(text) >= sizeof(s->log_target))
		return fail(err, errlen, "path too long");
	strcpy(s->log_target, text);
	return 0;
}

static int p_listener(struct kashim_settings *s, struct kashim_rule *r,
		      const char *text, char *err, size_t errlen)
{
	(void)r;
	return set_bool(&s->listener, text, err, errlen);
}

#define RULE KASHIM_KF_RULE
#define MATCH (KASHIM_KF_RULE | KASHIM_KF_MATCH)
#define LIST KASHIM_KF_LIST

const struct kashim_key_def kashim_keys[KASHIM_NKEYS] = {
	[KASHIM_KEY_ENABLE] = { "enable", KASHIM_ENV_ENABLE, "--disable",
				KASHIM_DEF_ENABLE, "master switch", RULE,
				p_enable },
	[KASHIM_KEY_PRESET] = { "preset", KASHIM_ENV_PRESET, "--preset",
				KASHIM_DEF_PRESET,
				"named timings for a path: none, default, aws, azure, gcp, cgnat, mobile or kubernetes; idle, interval, count given beside it win",
				RULE, p_preset },
	[KASHIM_KEY_IDLE] = { "idle", KASHIM_ENV_IDLE, "--idle",
			      KASHIM_DEF_IDLE,
			      "TCP_KEEPIDLE: idle seconds before the first probe, 1-32767",
			      RULE, p_idle },
	[KASHIM_KEY_INTERVAL] = { "interval", KASHIM_ENV_INTERVAL, "--interval",
				  KASHIM_DEF_INTERVAL,
				  "TCP_KEEPINTVL: seconds between probes, 1-32767",
				  RULE, p_interval },
	[KASHIM_KEY_COUNT] = { "count", KASHIM_ENV_COUNT, "--count",
			       KASHIM_DEF_COUNT,
			       "TCP_KEEPCNT: unanswered probes before the connection is dropped, 1-127",
			       RULE, p_count },
	[KASHIM_KEY_USER_TIMEOUT] = { "user_timeout", KASHIM_ENV_USER_TIMEOUT,
				      "--user-timeout", KASHIM_DEF_USER_TIMEOUT,
				      "TCP_USER_TIMEOUT in ms; 0 leaves the kernel's; auto = (idle + interval * count) * 1000",
				      RULE, p_user_timeout },
	[KASHIM_KEY_OVERRIDE] = { "override", KASHIM_ENV_OVERRIDE, "--override",
				  KASHIM_DEF_OVERRIDE,
				  "apply even where the program set its own",
				  RULE, p_override },
	[KASHIM_KEY_PORTS] = { "ports", KASHIM_ENV_PORTS, "--ports",
			       KASHIM_DEF_PORTS,
			       "only these ports or ranges (remote for outgoing, local for incoming); empty = all",
			       MATCH | LIST, p_ports },
	[KASHIM_KEY_HOSTS] = { "hosts", KASHIM_ENV_HOSTS, "--hosts",
			       KASHIM_DEF_HOSTS,
			       "only these addresses or CIDR blocks, IPv4 or IPv6; empty = all",
			       MATCH | LIST, p_hosts },
	[KASHIM_KEY_PROGRAMS] = { "programs", KASHIM_ENV_PROGRAMS, NULL,
				  KASHIM_DEF_PROGRAMS,
				  "only processes whose executable's base name matches one of these globs; empty = all",
				  MATCH | LIST, p_programs },
	[KASHIM_KEY_DIRECTION] = { "direction", KASHIM_ENV_DIRECTION,
				   "--direction", KASHIM_DEF_DIRECTION,
				   "outgoing, incoming or both", MATCH,
				   p_direction },
	[KASHIM_KEY_LOG_LEVEL] = { "log_level", KASHIM_ENV_LOG, "-v", KASHIM_DEF_LOG,
				   "none, error, warn, info or debug", 0,
				   p_log_level },
	[KASHIM_KEY_LOG_TARGET] = { "log_target", KASHIM_ENV_LOG_TARGET, NULL,
				    KASHIM_DEF_LOG_TARGET,
				    "stderr, syslog or an absolute file path",
				    0, p_log_target },
	[KASHIM_KEY_LISTENER] = { "listener", KASHIM_ENV_LISTENER,
				  "--no-listener", KASHIM_DEF_LISTENER,
				  "put the incoming settings on a listening socket once, so accepted sockets inherit them (only when they do not depend on the peer)",
				  0, p_listener },
};

const struct kashim_key_def *kashim_key_by_name(const char *name)
{
	for (size_t k = 0; k < KASHIM_NKEYS; k++)
		if (strcmp(kashim_keys[k].name, name) == 0)
			return &kashim_keys[k];
	return NULL;
}

int kashim_set(struct kashim_settings *s, struct kashim_rule *r,
	       enum kashim_key k, const char *text, char *err, size_t errlen)
{
	char msg[256];

	if (kashim_keys[k].parse(s, r, text, msg, sizeof(msg)) < 0)
		return fail(err, errlen, "%s: %s", kashim_keys[k].name, msg);
	r->set |= 1u << k;
	return 0;
}

int kashim_settings_defaults(struct kashim_settings *s)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->top.name, "default");
	for (size_t k = 0; k < KASHIM_NKEYS; k++)
		kashim_keys[k].parse(s, &s->top, kashim_keys[k].def, NULL, 0);
	return 0;
}

int kashim_settings_from_env(struct kashim_settings *s,
			     char *(*get)(const char *), char *err,
			     size_t errlen)
{
	char msg[256];

	for (size_t k = 0; k < KASHIM_NKEYS; k++) {
		const char *env = kashim_keys[k].env;
		const char *text = env ? get(env) : NULL;

		if (!text)
			continue;
		if (kashim_keys[k].parse(s, &s->top, text, msg, sizeof(msg)) < 0)
			return fail(err, errlen, "%s=%s: %s", env, text, msg);
		s->top.set |= 1u << k;
	}
	return 0;
}

static void free_match(struct kashim_match *m)
{
	kashim_settings_mem.free(m->ports);
	kashim_settings_mem.free(m->hosts);
	for (size_t i = 0; i < m->nprograms; i++)
		kashim_settings_mem.free(m->programs[i]);
	kashim_settings_mem.free(m->programs);
}

void kashim_settings_free(struct kashim_settings *s)
{
	free_match(&s->top.m);
	for (size_t i = 0; i < s->nrules; i++)
		free_match(&s->rules[i].m);
	free(s->rules);
	kashim_rules_index_free(s);
	kashim_settings_defaults(s);
}

const char *kashim_log_level_name(int level)
{
	if (level < KASHIM_LOG_NONE || level > KASHIM_LOG_DEBUG)
		return "?";
	return level_names[level];
}

const char *kashim_direction_name(unsigned direction)
{
	if (direction < KASHIM_DIR_OUTGOING || direction > KASHIM_DIR_BOTH)
		return "?";
	return direction_names[direction];
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

void kashim_settings_finish(struct kashim_settings *s, const char *exe)
{
	for (size_t i = 0; i < s->nrules; i++)
		inherit(&s->rules[i], &s->top.v);
	kashim_rules_finish(s, exe);
}
