/*
 * conf_load.c - the config parser with rules, for valgrind and the
 * sanitizers: no preload, linked with conf.o and settings.o.
 *
 *   conf_load GOOD.conf BAD.conf [ROUNDS]
 *
 * Each round copies GOOD to a private temporary file (the loader refuses
 * group-writable files), loads it with kashim_conf_load(), checks that
 * the rules match as tests/fixtures/hardening/rules.conf says, frees
 * everything; then loads BAD, which must be rejected whole with a
 * FILE:LINE message and leave the defaults. Memory is the point: run
 * under valgrind, no byte may be lost.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "conf/conf.h"


/* Copy file src to a new mode-0600 temporary file; its path to tmp. */
static void private_copy(const char *src, char *tmp, size_t len)
{
	char buf[4096];
	size_t n;
	FILE *in = fopen(src, "r");
	int fd;

	snprintf(tmp, len, "/tmp/kashim-conf-load.XXXXXX");
	fd = mkstemp(tmp);
	if (!in || fd < 0)
		fail("%s: cannot copy to a temporary file", src);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (write(fd, buf, n) != (ssize_t)n)
			fail("write %s", tmp);
	fclose(in);
	close(fd);
}

/* The rule matched by a connection, by name ("-" when none). */
static const char *which(const struct kashim_settings *s, unsigned dir,
			 uint16_t port, const char *ip)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	const struct sockaddr *peer = (const struct sockaddr *)&in;
	const struct kashim_rule *r;

	if (inet_pton(AF_INET, ip, &in.sin_addr) != 1) {
		if (inet_pton(AF_INET6, ip, &in6.sin6_addr) != 1)
			fail("bad test address %s", ip);
		peer = (const struct sockaddr *)&in6;
	}
	r = kashim_rule_for(s, dir, port, peer);
	return r ? r->name : "-";
}

/* Fail unless the connection described matches the rule called name. */
static void expect_rule(const struct kashim_settings *s, unsigned dir,
			uint16_t port, const char *ip, const char *name)
{
	const char *got = which(s, dir, port, ip);

	if (strcmp(got, name) != 0)
		fail("%s port %u: rule %s, want %s", ip, port, got, name);
}

/*
 * Load a private copy of path (its name left in tmp) into s, which starts
 * at the defaults. Returns what kashim_conf_load() returned.
 */
static int load_copy(const char *path, char *tmp, size_t tmplen,
		     struct kashim_settings *s, char *err, size_t errlen)
{
	int rc;

	private_copy(path, tmp, tmplen);
	kashim_settings_defaults(s);
	rc = kashim_conf_load(tmp, getuid(), s, err, errlen);
	unlink(tmp);
	return rc;
}

/* Load the good file and check what it says. */
static void good(const char *path)
{
	struct kashim_settings s;
	const struct kashim_rule *r;
	char tmp[64], err[512] = "";

	if (load_copy(path, tmp, sizeof(tmp), &s, err, sizeof(err)) !=
	    KASHIM_CONF_OK)
		fail("%s: %s", path, err);
	kashim_settings_finish(&s, "conf_load");
	if (s.nrules != 4 || s.top.v.idle != 30 ||
	    s.log_level != KASHIM_LOG_WARN)
		fail("%s: %zu rules, idle %d, log level %d", path, s.nrules,
		     s.top.v.idle, s.log_level);
	expect_rule(&s, KASHIM_DIR_OUTGOING, 1883, "127.0.0.1", "broker");
	expect_rule(&s, KASHIM_DIR_INCOMING, 9050, "192.0.2.1", "broker");
	expect_rule(&s, KASHIM_DIR_OUTGOING, 80, "10.1.2.3", "lan");
	expect_rule(&s, KASHIM_DIR_OUTGOING, 80, "::1", "lan");
	expect_rule(&s, KASHIM_DIR_INCOMING, 80, "10.1.2.3", "tools");
	/* A rule with enable = false matches and leaves the socket alone. */
	expect_rule(&s, KASHIM_DIR_OUTGOING, 5432, "192.0.2.1", "-");
	r = kashim_rule_for(&s, KASHIM_DIR_OUTGOING, 1883, NULL);
	if (!r || r->v.idle != 20 || r->v.interval != 10 || r->v.count != 5 ||
	    kashim_user_timeout_ms(&r->v) != 70000)
		fail("broker values wrong");
	if (s.rules[2].v.enable || !s.rules[3].v.override ||
	    s.rules[3].v.interval != 3 || s.rules[1].v.count != 7)
		fail("rule values wrong");
	kashim_settings_free(&s);
}

/* Load the bad file: rejected whole, FILE:LINE message, defaults back. */
static void bad(const char *path)
{
	struct kashim_settings s;
	char tmp[64], err[512] = "";
	int rc = load_copy(path, tmp, sizeof(tmp), &s, err, sizeof(err));

	if (rc != KASHIM_CONF_ERROR || !strstr(err, tmp) || !strchr(err, ':'))
		fail("%s: rc %d, message \"%s\"", path, rc, err);
	if (s.nrules != 0 || s.rules || s.top.v.idle != 60)
		fail("%s: settings not back at the defaults", path);
	kashim_settings_free(&s);
}

int main(int argc, char **argv)
{
	int rounds = argc > 3 ? atoi(argv[3]) : 3;

	if (argc < 3 || rounds < 1)
		fail("usage: conf_load GOOD.conf BAD.conf [ROUNDS]");
	for (int i = 0; i < rounds; i++) {
		good(argv[1]);
		bad(argv[2]);
	}
	printf("ok: conf_load: %d rounds of %s and %s\n", rounds, argv[1],
	       argv[2]);
	return 0;
}
