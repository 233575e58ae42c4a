/*
 * test_settings.c - the settings parsers and rule matching, no preload.
 */
#include <check.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "helpers.h"
#include "common/settings.h"

static struct kashim_settings s;
static char err[512];

static void setup(void)
{
	kashim_settings_defaults(&s);
	err[0] = '\0';
}

static void teardown(void)
{
	kashim_settings_free(&s);
}

/* Apply one variable; returns what kashim_settings_from_env returned. */
static int env1(const char *name, const char *value)
{
	const char *env[] = { name, value, NULL };

	fake_env = env;
	return kashim_settings_from_env(&s, fake_getenv, err, sizeof(err));
}

START_TEST(defaults_are_the_spec_values)
{
	ck_assert(s.top.v.enable);
	ck_assert_int_eq(s.top.v.idle, 60);
	ck_assert_int_eq(s.top.v.interval, 15);
	ck_assert_int_eq(s.top.v.count, 4);
	ck_assert_int_eq(s.top.v.user_timeout, 0);
	ck_assert(!s.top.v.override);
	ck_assert_uint_eq(s.top.m.nports, 0);
	ck_assert_uint_eq(s.top.m.nhosts, 0);
	ck_assert_uint_eq(s.top.m.nprograms, 0);
	ck_assert_uint_eq(s.top.m.direction, KASHIM_DIR_BOTH);
	ck_assert_int_eq(s.log_level, KASHIM_LOG_ERROR);
	ck_assert_str_eq(s.log_target, "stderr");
	ck_assert_uint_eq(s.top.set, 0);
}
END_TEST

/* Good values: variable, text, then the field they must land in. */
static const struct {
	const char *env, *text;
	int want;
	size_t field; /* offset in struct kashim_values, or -1 */
} good[] = {
	{ "KASHIM_IDLE", "1", 1, offsetof(struct kashim_values, idle) },
	{ "KASHIM_IDLE", "32767", 32767, offsetof(struct kashim_values, idle) },
	{ "KASHIM_INTERVAL", "5", 5, offsetof(struct kashim_values, interval) },
	{ "KASHIM_COUNT", "127", 127, offsetof(struct kashim_values, count) },
	{ "KASHIM_COUNT", "1", 1, offsetof(struct kashim_values, count) },
	{ "KASHIM_USER_TIMEOUT", "0", 0, offsetof(struct kashim_values, user_timeout) },
	{ "KASHIM_USER_TIMEOUT", "5000", 5000, offsetof(struct kashim_values, user_timeout) },
	{ "KASHIM_USER_TIMEOUT", "auto", KASHIM_USER_TIMEOUT_AUTO, offsetof(struct kashim_values, user_timeout) },
	{ "KASHIM_USER_TIMEOUT", "AUTO", KASHIM_USER_TIMEOUT_AUTO, offsetof(struct kashim_values, user_timeout) },
};

START_TEST(good_numbers)
{
	ck_assert_int_eq(env1(good[_i].env, good[_i].text), 0);
	ck_assert_int_eq(*(int *)((char *)&s.top.v + good[_i].field),
			 good[_i].want);
}
END_TEST

/* Bad values: each must fail, naming the variable and the value. */
static const struct {
	const char *env, *text;
} bad[] = {
	{ "KASHIM_IDLE", "0" },	       { "KASHIM_IDLE", "32768" },
	{ "KASHIM_IDLE", "-5" },       { "KASHIM_IDLE", "abc" },
	{ "KASHIM_IDLE", "" },	       { "KASHIM_IDLE", "20s" },
	{ "KASHIM_IDLE", " 20" },      { "KASHIM_IDLE", "99999999999999999999" },
	{ "KASHIM_INTERVAL", "0" },    { "KASHIM_INTERVAL", "40000" },
	{ "KASHIM_COUNT", "128" },     { "KASHIM_COUNT", "0" },
	{ "KASHIM_USER_TIMEOUT", "-1" }, { "KASHIM_USER_TIMEOUT", "automatic" },
	{ "KASHIM_USER_TIMEOUT", "2147483648" },
	{ "KASHIM_ENABLE", "maybe" },  { "KASHIM_ENABLE", "" },
	{ "KASHIM_OVERRIDE", "2" },    { "KASHIM_PORTS", "0" },
	{ "KASHIM_PORTS", "65536" },   { "KASHIM_PORTS", "9100-9000" },
	{ "KASHIM_PORTS", "1883,,8883" }, { "KASHIM_PORTS", "1883," },
	{ "KASHIM_PORTS", "http" },    { "KASHIM_PORTS", "1-2-3" },
	{ "KASHIM_HOSTS", "example.com" }, { "KASHIM_HOSTS", "10.0.0.0/33" },
	{ "KASHIM_HOSTS", "::1/129" }, { "KASHIM_HOSTS", "10.0.0.256" },
	{ "KASHIM_HOSTS", "10.0.0.0/" }, { "KASHIM_PROGRAMS", "/usr/bin/x" },
	{ "KASHIM_DIRECTION", "up" },  { "KASHIM_LOG", "loud" },
	{ "KASHIM_LOG_TARGET", "relative/file" },
};

START_TEST(bad_values_are_named)
{
	char want[128];

	ck_assert_int_eq(env1(bad[_i].env, bad[_i].text), -1);
	snprintf(want, sizeof(want), "%s=%s: ", bad[_i].env, bad[_i].text);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
		      "message '%s' does not start with '%s'", err, want);
}
END_TEST

START_TEST(booleans)
{
	static const char *const yes[] = { "1", "true", "YES", "on" };
	static const char *const no[] = { "0", "false", "no", "Off" };

	for (size_t i = 0; i < 4; i++) {
		ck_assert_int_eq(env1("KASHIM_ENABLE", no[i]), 0);
		ck_assert(!s.top.v.enable);
		ck_assert_int_eq(env1("KASHIM_ENABLE", yes[i]), 0);
		ck_assert(s.top.v.enable);
	}
}
END_TEST

START_TEST(ports_and_ranges)
{
	ck_assert_int_eq(env1("KASHIM_PORTS", " 1883, 8883 ,9000-9100"), 0);
	ck_assert_uint_eq(s.top.m.nports, 3);
	ck_assert_uint_eq(s.top.m.ports[0].lo, 1883);
	ck_assert_uint_eq(s.top.m.ports[0].hi, 1883);
	ck_assert_uint_eq(s.top.m.ports[2].lo, 9000);
	ck_assert_uint_eq(s.top.m.ports[2].hi, 9100);
	ck_assert_int_eq(env1("KASHIM_PORTS", ""), 0);
	ck_assert_uint_eq(s.top.m.nports, 0);
}
END_TEST

START_TEST(all_variables_at_once)
{
	const char *env[] = { "KASHIM_IDLE", "20", "KASHIM_INTERVAL", "5",
			      "KASHIM_COUNT", "3", "KASHIM_USER_TIMEOUT", "auto",
			      "KASHIM_OVERRIDE", "1", "KASHIM_DIRECTION", "incoming",
			      "KASHIM_LOG", "debug", "KASHIM_LOG_TARGET", "/tmp/k.log",
			      "KASHIM_ENABLE", "1", NULL };

	fake_env = env;
	ck_assert_int_eq(kashim_settings_from_env(&s, fake_getenv, err, sizeof(err)), 0);
	ck_assert_int_eq(s.top.v.idle, 20);
	ck_assert_int_eq(s.top.v.interval, 5);
	ck_assert_int_eq(s.top.v.count, 3);
	ck_assert_int_eq(kashim_user_timeout_ms(&s.top.v), (20 + 5 * 3) * 1000);
	ck_assert(s.top.v.override);
	ck_assert_uint_eq(s.top.m.direction, KASHIM_DIR_INCOMING);
	ck_assert_int_eq(s.log_level, KASHIM_LOG_DEBUG);
	ck_assert_str_eq(s.log_target, "/tmp/k.log");
}
END_TEST

/* Every keyword value is taken in any case: SYSLOG as INFO or BOTH. */
START_TEST(keywords_in_any_case)
{
	const char *env[] = { "KASHIM_LOG_TARGET", "SYSLOG", "KASHIM_LOG", "INFO",
			      "KASHIM_DIRECTION", "Outgoing",
			      "KASHIM_USER_TIMEOUT", "AUTO", "KASHIM_ENABLE",
			      "TRUE", NULL };

	fake_env = env;
	ck_assert_int_eq(kashim_settings_from_env(&s, fake_getenv, err, sizeof(err)), 0);
	ck_assert_str_eq(s.log_target, "syslog");
	ck_assert_int_eq(s.log_level, KASHIM_LOG_INFO);
	ck_assert_uint_eq(s.top.m.direction, KASHIM_DIR_OUTGOING);
	ck_assert_int_eq(s.top.v.user_timeout, KASHIM_USER_TIMEOUT_AUTO);
	ck_assert_int_eq(env1("KASHIM_LOG_TARGET", "StdErr"), 0);
	ck_assert_str_eq(s.log_target, "stderr");
	ck_assert_int_eq(env1("KASHIM_LOG_TARGET", "/tmp/Kashim.LOG"), 0);
	ck_assert_str_eq(s.log_target, "/tmp/Kashim.LOG");
	ck_assert_int_eq(env1("KASHIM_LOG_TARGET", "sys"), -1);
}
END_TEST

/* An allocator that counts, for kashim_settings_mem. */
static int allocs, live;

static void *counting_calloc(size_t n, size_t size)
{
	allocs++;
	live++;
	return calloc(n, size);
}

static void counting_free(void *p)
{
	if (p)
		live--;
	free(p);
}

/*
 * Every list of the environment (and its strings) takes its memory from
 * kashim_settings_mem and gives it back there: the library points it at
 * an arena so that no parse calls malloc().
 */
START_TEST(lists_use_the_settings_allocator)
{
	const char *env[] = { "KASHIM_PORTS", "1-10,80", "KASHIM_HOSTS",
			      "10.0.0.0/8,::1", "KASHIM_PROGRAMS", "a*,b", NULL };
	struct kashim_mem saved = kashim_settings_mem;

	kashim_settings_mem.calloc = counting_calloc;
	kashim_settings_mem.free = counting_free;
	allocs = live = 0;
	fake_env = env;
	ck_assert_int_eq(kashim_settings_from_env(&s, fake_getenv, err, sizeof(err)), 0);
	ck_assert_int_eq(allocs, 5); /* 3 lists, 2 program names */
	ck_assert_int_eq(env1("KASHIM_PORTS", "443"), 0);
	ck_assert_int_eq(allocs, 6);
	ck_assert_int_eq(live, 5); /* the old port list went back */
	kashim_settings_free(&s);
	ck_assert_int_eq(live, 0);
	kashim_settings_mem = saved;
}
END_TEST

/* An allocator beside malloc's heap, as the library's arena is. */
static void *mapped_calloc(size_t n, size_t size)
{
	size_t *p = mmap(NULL, n * size + 16, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	allocs++;
	live++;
	p[0] = n * size + 16;
	return (char *)p + 16;
}

static void mapped_free(void *q)
{
	size_t *p;

	if (!q)
		return;
	p = (size_t *)((char *)q - 16);
	live--;
	munmap(p, p[0]);
}

/*
 * Finishing environment-only settings (the library's first connection,
 * maybe in a signal handler that interrupted malloc()) builds no port
 * index: the top level alone is one test, whatever its ports. The full
 * index (kashim-bpf's, kashim_rules_index()) comes from
 * kashim_settings_mem too: malloc's heap holds nothing more afterwards,
 * and the index goes back with the settings.
 */
START_TEST(the_index_uses_the_settings_allocator)
{
	const char *env[] = { "KASHIM_PORTS", "1-65535,80", NULL };
	struct kashim_mem saved = kashim_settings_mem;
	size_t before;
	int lists;

	kashim_settings_mem.calloc = mapped_calloc;
	kashim_settings_mem.free = mapped_free;
	allocs = live = 0;
	fake_env = env;
	ck_assert_int_eq(kashim_settings_from_env(&s, fake_getenv, err, sizeof(err)), 0);
	before = mallinfo2().uordblks;
	lists = allocs;
	kashim_settings_finish(&s, "prog");
	ck_assert_uint_eq(s.nseg, 0);
	ck_assert_int_eq(allocs, lists); /* nothing for an index */
	ck_assert_int_eq(kashim_rules_index(&s), 0);
	ck_assert(s.full_index);
	ck_assert_uint_eq(s.nseg, 4); /* from 0, 1, 80 and 81 */
	ck_assert_uint_eq(mallinfo2().uordblks, before);
	ck_assert_int_gt(allocs, lists); /* the index */
	kashim_settings_free(&s);
	ck_assert_int_eq(live, 0);
	kashim_settings_mem = saved;
}
END_TEST

START_TEST(every_key_has_env_and_parses_its_default)
{
	for (size_t k = 0; k < KASHIM_NKEYS; k++) {
		ck_assert_ptr_nonnull(kashim_keys[k].env);
		ck_assert_int_eq(strncmp(kashim_keys[k].env, "KASHIM_", 7), 0);
		ck_assert_int_eq(kashim_set(&s, &s.top, (enum kashim_key)k,
					    kashim_keys[k].def, err, sizeof(err)),
				 0);
		ck_assert_ptr_eq(kashim_key_by_name(kashim_keys[k].name),
				 &kashim_keys[k]);
	}
	ck_assert_ptr_null(kashim_key_by_name("bogus"));
}
END_TEST


/* Every preset sets its values, with its margin below its limit. */
START_TEST(preset_values)
{
	const struct kashim_preset *p = &kashim_presets[_i];

	ck_assert_int_eq(env1("KASHIM_PRESET", p->name), 0);
	ck_assert_int_eq(s.top.v.idle, p->idle);
	ck_assert_int_eq(s.top.v.interval, p->interval);
	ck_assert_int_eq(s.top.v.count, p->count);
	ck_assert_int_eq(s.top.v.user_timeout,
			 p->sets_user_timeout ? p->user_timeout : 0);
	if (p->limit) /* one lost probe still keeps the mapping */
		ck_assert_int_lt(p->idle + p->interval, p->limit);
	ck_assert_ptr_eq(kashim_preset_by_name(p->name), p);
}
END_TEST

/* The named limits and the seed's timings, as the issue states them. */
START_TEST(preset_limits)
{
	static const struct {
		const char *name;
		int limit;
	} want[] = { { "aws", 350 }, { "azure", 240 }, { "gcp", 600 },
		     { "cgnat", 120 }, { "mobile", 60 }, { "kubernetes", 900 },
		     { "default", 0 } };

	for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++)
		ck_assert_int_eq(kashim_preset_by_name(want[i].name)->limit,
				 want[i].limit);
	ck_assert_int_eq(kashim_preset_by_name("default")->idle, 60);
	ck_assert_int_eq(kashim_preset_by_name("DEFAULT")->interval, 15);
	ck_assert_int_eq(kashim_preset_by_name("default")->count, 4);
	ck_assert(kashim_preset_by_name("mobile")->sets_user_timeout);
	ck_assert_ptr_null(kashim_preset_by_name("none"));
}
END_TEST

/* An unknown name is an error that lists the known ones; nothing set. */
START_TEST(preset_unknown_lists_known)
{
	ck_assert_int_eq(env1("KASHIM_PRESET", "azur"), -1);
	ck_assert_ptr_nonnull(strstr(err, "KASHIM_PRESET=azur"));
	for (size_t i = 0; i < kashim_npresets; i++)
		ck_assert_ptr_nonnull(strstr(err, kashim_presets[i].name));
	ck_assert_ptr_nonnull(strstr(err, "none"));
	ck_assert_int_eq(s.top.v.idle, 60);
	ck_assert_uint_eq(s.top.set, 0);
}
END_TEST

/* KASHIM_PRESET=azure KASHIM_IDLE=17: the explicit key wins. */
START_TEST(preset_explicit_key_wins)
{
	const char *env[] = { "KASHIM_IDLE", "17", "KASHIM_PRESET", "azure",
			      NULL };

	fake_env = env;
	ck_assert_int_eq(kashim_settings_from_env(&s, fake_getenv, err,
						  sizeof(err)), 0);
	ck_assert_int_eq(s.top.v.idle, 17);
	ck_assert_int_eq(s.top.v.interval, 20);
	ck_assert_int_eq(s.top.v.count, 5);
	ck_assert_int_eq(env1("KASHIM_PRESET", "none"), 0); /* sets nothing */
	ck_assert_int_eq(s.top.v.idle, 17);
}
END_TEST

/*
 * Matching: the top level with ports 1883 and 8883, and rules
 *   a: ports 9000-9100, hosts 10.0.0.0/8, idle 20
 *   b: hosts 2001:db8::/32 and ::ffff:192.168.0.0/112 (mapped form), outgoing
 *   c: programs "mosq*", incoming
 *   off: ports 5432, enable false
 * with the process called "mosquitto".
 */
static void build_rules(void)
{
	static const struct {
		const char *name;
		enum kashim_key k;
		const char *text;
	} keys[] = {
		{ "a", KASHIM_KEY_PORTS, "9000-9100" },
		{ "a", KASHIM_KEY_HOSTS, "10.0.0.0/8" },
		{ "a", KASHIM_KEY_IDLE, "20" },
		{ "b", KASHIM_KEY_HOSTS, "2001:db8::/32,::ffff:192.168.0.0/112" },
		{ "b", KASHIM_KEY_DIRECTION, "outgoing" },
		{ "c", KASHIM_KEY_PROGRAMS, "nothing,mosq*" },
		{ "c", KASHIM_KEY_DIRECTION, "incoming" },
		{ "off", KASHIM_KEY_PORTS, "5432" },
		{ "off", KASHIM_KEY_ENABLE, "false" },
		{ "never", KASHIM_KEY_PROGRAMS, "curl" },
	};
	const char *names[] = { "a", "b", "c", "off", "never" };

	s.nrules = 5;
	s.rules = calloc(s.nrules, sizeof(*s.rules));
	for (size_t i = 0; i < s.nrules; i++) {
		strcpy(s.rules[i].name, names[i]);
		s.rules[i].m.direction = KASHIM_DIR_BOTH;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		struct kashim_rule *r = s.rules;

		while (strcmp(r->name, keys[i].name) != 0)
			r++;
		ck_assert_int_eq(kashim_set(&s, r, keys[i].k, keys[i].text, err,
					    sizeof(err)), 0);
	}
	ck_assert_int_eq(env1("KASHIM_PORTS", "1883,8883"), 0);
	ck_assert_int_eq(env1("KASHIM_INTERVAL", "7"), 0);
	kashim_settings_finish(&s, "mosquitto");
}

static const struct {
	unsigned dir;
	const char *addr;
	uint16_t port;
	const char *want; /* rule name, or NULL for "left alone" */
} cases[] = {
	{ KASHIM_DIR_OUTGOING, "10.1.2.3", 9050, "a" },
	{ KASHIM_DIR_OUTGOING, "::ffff:10.1.2.3", 9050, "a" }, /* mapped */
	{ KASHIM_DIR_INCOMING, "10.1.2.3", 9100, "a" },
	{ KASHIM_DIR_OUTGOING, "10.1.2.3", 9101, NULL },	   /* not a, no top port */
	{ KASHIM_DIR_OUTGOING, "11.1.2.3", 9050, NULL },
	{ KASHIM_DIR_OUTGOING, "2001:db8::1", 22, "b" },
	{ KASHIM_DIR_INCOMING, "2001:db8::1", 22, "c" },	   /* b is outgoing only */
	{ KASHIM_DIR_OUTGOING, "192.168.7.7", 22, "b" },	   /* IPv4 inside a mapped block */
	{ KASHIM_DIR_OUTGOING, "2001:db9::1", 1883, "default" },
	{ KASHIM_DIR_OUTGOING, "127.0.0.1", 8883, "default" },
	{ KASHIM_DIR_OUTGOING, "127.0.0.1", 8884, NULL },
	{ KASHIM_DIR_INCOMING, "127.0.0.1", 8884, "c" },
	{ KASHIM_DIR_OUTGOING, "127.0.0.1", 5432, NULL },	   /* off: enable = false */
	{ KASHIM_DIR_OUTGOING, "::1", 1883, "default" },
};

START_TEST(rule_matching_table)
{
	struct sockaddr_storage ss;
	const struct kashim_rule *r;

	build_rules();
	r = kashim_rule_for(&s, cases[_i].dir, cases[_i].port,
			 addr_of(cases[_i].addr, cases[_i].port, &ss));
	if (!cases[_i].want)
		ck_assert_msg(r == NULL, "case %d: matched '%s'", _i, r ? r->name : "");
	else
		ck_assert_msg(r && strcmp(r->name, cases[_i].want) == 0,
			      "case %d: want '%s', got '%s'", _i, cases[_i].want,
			      r ? r->name : "(none)");
}
END_TEST

START_TEST(rules_inherit_value_keys_not_match_keys)
{
	build_rules();
	/* a set idle itself; interval comes from the top after the env. */
	ck_assert_int_eq(s.rules[0].v.idle, 20);
	ck_assert_int_eq(s.rules[0].v.interval, 7);
	ck_assert_int_eq(s.rules[1].v.idle, 60);
	ck_assert(s.rules[1].v.enable);
	ck_assert(!s.rules[3].v.enable);
	/* b has no ports: it does not inherit the top's 1883,8883. */
	ck_assert_uint_eq(s.rules[1].m.nports, 0);
	ck_assert(s.need_port && s.need_host);
	ck_assert(s.rules[2].program_ok);
	ck_assert(!s.rules[4].program_ok);
}
END_TEST

START_TEST(master_switch_and_no_address)
{
	struct sockaddr_storage ss;

	build_rules();
	/* A rule with hosts cannot match an unknown peer; the top can. */
	ck_assert_ptr_null(kashim_rule_for(&s, KASHIM_DIR_OUTGOING, 9050, NULL));
	ck_assert_str_eq(kashim_rule_for(&s, KASHIM_DIR_OUTGOING, 1883, NULL)->name,
			 "default");
	s.top.v.enable = false;
	ck_assert_ptr_null(kashim_rule_for(&s, KASHIM_DIR_OUTGOING, 1883,
					addr_of("127.0.0.1", 1883, &ss)));
}
END_TEST

START_TEST(user_timeout_auto_is_capped)
{
	struct kashim_values v = { .idle = 32767, .interval = 32767, .count = 127,
				   .user_timeout = KASHIM_USER_TIMEOUT_AUTO };

	ck_assert_int_eq(kashim_user_timeout_ms(&v), KASHIM_USER_TIMEOUT_MAX);
	v.idle = 60, v.interval = 15, v.count = 4;
	ck_assert_int_eq(kashim_user_timeout_ms(&v), 120000);
}
END_TEST

/*
 * The index must give what a scan of every rule gives: 120 rules of
 * mixed ports, ranges, hosts, directions and programs, against 5,000
 * random connections matched with and without the index.
 */
START_TEST(index_agrees_with_a_full_scan)
{
	static const char *const hosts[] = { "10.0.0.0/8", "::1", "127.0.0.0/8" };
	static const char *const dirs[] = { "both", "outgoing", "incoming" };
	static const char *const addrs[] = { "10.1.1.1", "127.0.0.1", "::1",
					     "192.0.2.1", "::ffff:10.9.9.9" };
	enum { NRULES = 120, BAND = 500, LOOKUPS = 12000 };
	static unsigned answers[NRULES + 1];
	struct kashim_settings scan;
	struct sockaddr_storage ss;
	char text[64];

	/*
	 * Rule i owns the ports from 100 + BAND * i (100 to 400 of them)
	 * and names a short range anywhere, which may shadow part of
	 * another's band; the last three have no ports (catch-alls, of one
	 * address block, one direction, another program). Every rule is so
	 * the answer for some lookups, but those of another program.
	 */
	s.nrules = NRULES;
	s.rules = calloc(s.nrules, sizeof(*s.rules));
	srand(7);
	for (size_t i = 0; i < s.nrules; i++) {
		struct kashim_rule *r = &s.rules[i];
		int base = 100 + BAND * (int)i, lo = 1 + rand() % 65000;

		snprintf(r->name, sizeof(r->name), "r%zu", i);
		snprintf(text, sizeof(text), "%d-%d,%d-%d", base,
			 base + 100 + rand() % 300, lo, lo + rand() % 40);
		if (i < NRULES - 3)
			ck_assert_int_eq(kashim_set(&s, r, KASHIM_KEY_PORTS, text, err, sizeof(err)), 0);
		if (i % 4 == 1 || i == NRULES - 3)
			ck_assert_int_eq(kashim_set(&s, r, KASHIM_KEY_HOSTS, hosts[i % 3], err, sizeof(err)), 0);
		ck_assert_int_eq(kashim_set(&s, r, KASHIM_KEY_DIRECTION,
					    i == NRULES - 2 ? "incoming" : dirs[i % 3], err, sizeof(err)), 0);
		if (i % 11 == 5 || i == NRULES - 1)
			ck_assert_int_eq(kashim_set(&s, r, KASHIM_KEY_PROGRAMS, "other", err, sizeof(err)), 0);
	}
	kashim_settings_finish(&s, "me");
	ck_assert_uint_gt(s.nseg, 100);
	ck_assert(!s.full_index);
	scan = s;
	scan.nseg = 0;
	/*
	 * The library's own index first (cut at "me"'s rules only), then
	 * kashim-bpf's full one (cut at the other program's rules too):
	 * both answer as the scan does.
	 */
	for (int pass = 0; pass < 2; pass++) {
		size_t own = s.nseg;

		if (pass) {
			ck_assert_int_eq(kashim_rules_index(&s), 0);
			ck_assert(s.full_index);
			ck_assert_uint_gt(s.nseg, own);
		}
		for (int n = 0; n < LOOKUPS; n++) {
			unsigned dir = rand() % 2 ? KASHIM_DIR_OUTGOING : KASHIM_DIR_INCOMING;
			int band = 100 + BAND * (rand() % NRULES);
			uint16_t port = (uint16_t)(n % 5 ? band + rand() % BAND : 1 + rand() % 65535);
			const struct sockaddr *a = addr_of(addrs[rand() % 5], port, &ss);
			const struct kashim_rule *r = kashim_rule_for(&s, dir, port, a);
			const struct kashim_rule *full = kashim_rule_for(&scan, dir, port, a);

			/* scan's top level is a copy; its rules are s's own. */
			ck_assert_ptr_eq(r, full == &scan.top ? &s.top : full);
			if (r)
				answers[r == &s.top ? NRULES : (size_t)(r - s.rules)]++;
		}
	}
	/* The coverage: a rule that answers nothing was never compared. */
	for (size_t i = 0; i < NRULES; i++)
		if (i % 11 == 5 || i == NRULES - 1)
			ck_assert_msg(answers[i] == 0, "rule %zu of another program answered", i);
		else
			ck_assert_msg(answers[i] > 0, "rule %zu answered no lookup", i);
	ck_assert_uint_gt(answers[NRULES], 0);
}
END_TEST

START_TEST(listener_key)
{
	ck_assert(s.listener);
	ck_assert_int_eq(env1("KASHIM_LISTENER", "0"), 0);
	ck_assert(!s.listener);
	ck_assert_int_eq(env1("KASHIM_LISTENER", "yes"), 0);
	ck_assert(s.listener);
	ck_assert_int_eq(env1("KASHIM_LISTENER", "sometimes"), -1);
	ck_assert_msg(strstr(err, "KASHIM_LISTENER=sometimes") != NULL, "%s", err);
	ck_assert(s.listener);
}
END_TEST

/* The options of plan p, as "IDLE=60 ..." text. */
static const char *plan_text(const struct kashim_plan *p)
{
	static const char *const names[] = { "IDLE", "INTVL", "CNT", "UTO", "KA" };
	static char buf[128];
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < p->n; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s=%d",
				      i ? " " : "", names[p->o[i].opt], p->o[i].value);
	return buf;
}

START_TEST(plans_in_order_with_own_choices)
{
	struct kashim_plan p;
	struct kashim_values v = s.top.v;

	kashim_settings_finish(&s, "me");
	ck_assert_str_eq(plan_text(&s.top.plan), "IDLE=60 INTVL=15 CNT=4 KA=1");
	ck_assert_int_eq(s.top.plan.o[0].level, IPPROTO_TCP);
	ck_assert_int_eq(s.top.plan.o[3].level, SOL_SOCKET);
	ck_assert_int_eq(s.top.plan.o[3].name, SO_KEEPALIVE);
	v.user_timeout = KASHIM_USER_TIMEOUT_AUTO;
	kashim_plan_make(&v, 0, &p);
	ck_assert_str_eq(plan_text(&p), "IDLE=60 INTVL=15 CNT=4 UTO=120000 KA=1");
	kashim_plan_make(&v, 1u << KASHIM_OPT_KA, &p);
	ck_assert_str_eq(plan_text(&p), "UTO=120000");
	kashim_plan_make(&v, 1u << KASHIM_OPT_CNT | 1u << KASHIM_OPT_UTO, &p);
	ck_assert_str_eq(plan_text(&p), "IDLE=60 INTVL=15 KA=1");
	v.override = true;
	kashim_plan_make(&v, 0x1f, &p);
	ck_assert_str_eq(plan_text(&p), "IDLE=60 INTVL=15 CNT=4 UTO=120000 KA=1");
}
END_TEST

/* Do s's answers agree with matching rule by rule, for many connections? */
static void check_fixed_agrees(void)
{
	static const char *const addrs[] = { "10.1.1.1", "127.0.0.1", "::1" };
	struct kashim_settings scan = s;
	struct sockaddr_storage ss;

	scan.fixed[0] = scan.fixed[1] = false;
	for (int n = 0; n < 600; n++) {
		unsigned dir = n % 2 ? KASHIM_DIR_OUTGOING : KASHIM_DIR_INCOMING;
		uint16_t port = (uint16_t)(1 + (n * 131) % 65535);
		const struct sockaddr *a = addr_of(addrs[n % 3], port, &ss);
		const struct kashim_rule *r = kashim_rule_for(&s, dir, port, a);
		const struct kashim_rule *want = kashim_rule_for(&scan, dir, port, a);

		/* scan's top level is a copy: compare by name. */
		ck_assert_msg(r == want || (r && want && !strcmp(r->name, want->name)),
			      "port %u: '%s', matching gives '%s'", port,
			      r ? r->name : "-", want ? want->name : "-");
	}
}

START_TEST(no_matching_when_no_key_matters)
{
	kashim_settings_finish(&s, "me");
	ck_assert(s.fixed[0] && s.fixed[1]);
	ck_assert_ptr_eq(s.fixed_rule[0], &s.top);
	check_fixed_agrees();
	ck_assert_int_eq(env1("KASHIM_DIRECTION", "incoming"), 0);
	kashim_settings_finish(&s, "me");
	ck_assert(s.fixed[0] && !s.fixed_rule[0] && s.fixed_rule[1] == &s.top);
	check_fixed_agrees();
	ck_assert_int_eq(env1("KASHIM_PORTS", "1883"), 0);
	kashim_settings_finish(&s, "me");
	ck_assert(!s.fixed[0] && !s.fixed[1]);
	check_fixed_agrees();
}
END_TEST

START_TEST(no_matching_with_rules_that_cannot_differ)
{
	build_rules(); /* a: ports, hosts; b: hosts, outgoing; c: incoming */
	ck_assert(!s.fixed[0] && !s.fixed[1]);
	check_fixed_agrees();
	/* A first rule without match keys decides everything. */
	ck_assert_int_eq(kashim_set(&s, &s.rules[0], KASHIM_KEY_PORTS, "", err, sizeof(err)), 0);
	ck_assert_int_eq(kashim_set(&s, &s.rules[0], KASHIM_KEY_HOSTS, "", err, sizeof(err)), 0);
	kashim_settings_mem.free(s.seg_start); /* the index again, for a's new ports */
	kashim_settings_mem.free(s.seg_rule);
	s.seg_start = s.seg_rule = NULL;
	s.nseg = 0;
	kashim_settings_finish(&s, "mosquitto");
	ck_assert(s.fixed[0] && s.fixed[1]);
	ck_assert_ptr_eq(s.fixed_rule[1], &s.rules[0]);
	check_fixed_agrees();
	s.top.v.enable = false;
	kashim_settings_finish(&s, "mosquitto");
	ck_assert(!s.fixed_rule[0] && !s.fixed_rule[1]);
	check_fixed_agrees();
}
END_TEST

START_TEST(listener_rule_when_the_peer_does_not_matter)
{
	static const char *const addrs[] = { "10.1.2.3", "127.0.0.1", "2001:db8::1",
					     "192.168.7.7", "::1" };
	struct sockaddr_storage ss;
	bool peer;

	build_rules();
	/* a (9000-9100) has hosts: only the peer can say. */
	ck_assert_ptr_null(kashim_rule_for_listener(&s, 9050, &peer));
	ck_assert(peer);
	/* b is outgoing only; c (incoming, no hosts) decides. */
	ck_assert_str_eq(kashim_rule_for_listener(&s, 22, &peer)->name, "c");
	ck_assert(!peer);
	for (uint16_t port = 1; port < 65535; port += 7) {
		const struct kashim_rule *r = kashim_rule_for_listener(&s, port, &peer);

		for (size_t i = 0; !peer && i < 5; i++)
			ck_assert_ptr_eq(r, kashim_rule_for(&s, KASHIM_DIR_INCOMING, port,
							   addr_of(addrs[i], port, &ss)));
	}
	s.top.v.enable = false;
	ck_assert_ptr_null(kashim_rule_for_listener(&s, 22, &peer));
	ck_assert(!peer);
}
END_TEST

static Suite *settings_suite(void)
{
	Suite *su = suite_create("settings");
	TCase *tc = tcase_create("parse");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, defaults_are_the_spec_values);
	tcase_add_loop_test(tc, good_numbers, 0, sizeof(good) / sizeof(*good));
	tcase_add_loop_test(tc, bad_values_are_named, 0, sizeof(bad) / sizeof(*bad));
	tcase_add_test(tc, booleans);
	tcase_add_test(tc, ports_and_ranges);
	tcase_add_test(tc, all_variables_at_once);
	tcase_add_test(tc, keywords_in_any_case);
	tcase_add_test(tc, lists_use_the_settings_allocator);
	tcase_add_test(tc, the_index_uses_the_settings_allocator);
	tcase_add_test(tc, every_key_has_env_and_parses_its_default);
	tcase_add_test(tc, user_timeout_auto_is_capped);
	tcase_add_loop_test(tc, preset_values, 0, (int)kashim_npresets);
	tcase_add_test(tc, preset_limits);
	tcase_add_test(tc, preset_unknown_lists_known);
	tcase_add_test(tc, preset_explicit_key_wins);
	tcase_add_test(tc, listener_key);
	tcase_add_test(tc, plans_in_order_with_own_choices);
	suite_add_tcase(su, tc);
	tc = tcase_create("match");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, rule_matching_table, 0, sizeof(cases) / sizeof(*cases));
	tcase_add_test(tc, rules_inherit_value_keys_not_match_keys);
	tcase_add_test(tc, master_switch_and_no_address);
	tcase_add_test(tc, index_agrees_with_a_full_scan);
	tcase_add_test(tc, no_matching_when_no_key_matters);
	tcase_add_test(tc, no_matching_with_rules_that_cannot_differ);
	tcase_add_test(tc, listener_rule_when_the_peer_does_not_matter);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(settings_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
