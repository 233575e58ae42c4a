/*
 * test_conf.c - the config file reader on the fixture files, the
 * environment over the file, and the ownership and permission checks.
 * Run from tests/, so fixtures are at fixtures/.
 */
#include <check.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "common/load.h"
#include "conf/print.h"
#include "helpers.h"

static struct kashim_settings s;
static char err[1024];
static glob_t bad_files;
static glob_t all_files; /* every fixture, for the --check round trip */

/*
 * Fixtures meant to be refused whose names do not start with "bad-", and
 * the test that reads each; every other fixture must load.
 */
static const char *const refused_elsewhere[] = {
	"fixtures/cmd/syntax.conf",	 /* tests/cmd/run.sh */
	"fixtures/cmd/unknown-key.conf", /* tests/cmd/run.sh */
	NULL,
};

/* Is the fixture at path meant to be refused? */
static bool meant_to_be_refused(const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	for (const char *const *p = refused_elsewhere; *p; p++)
		if (strcmp(path, *p) == 0)
			return true;
	return strncmp(base, "bad-", 4) == 0;
}

static void setup(void)
{
	kashim_settings_defaults(&s);
	err[0] = '\0';
}

static void teardown(void)
{
	kashim_settings_free(&s);
}

static int load(const char *path)
{
	return kashim_conf_load(path, getuid(), &s, err, sizeof(err));
}

static const struct kashim_rule *rule(const char *name)
{
	for (size_t i = 0; i < s.nrules; i++)
		if (strcmp(s.rules[i].name, name) == 0)
			return &s.rules[i];
	ck_abort_msg("no rule %s", name);
	return NULL;
}

START_TEST(good_file)
{
	ck_assert_int_eq(load("fixtures/good.conf"), KASHIM_CONF_OK);
	ck_assert_int_eq(s.top.v.idle, 30);
	ck_assert_int_eq(s.top.v.interval, 10);
	ck_assert_int_eq(s.log_level, KASHIM_LOG_WARN);
	ck_assert_uint_eq(s.nrules, 3);
	ck_assert_str_eq(s.rules[0].name, "broker");
	ck_assert_str_eq(s.rules[1].name, "database");
	ck_assert_uint_eq(rule("broker")->m.nports, 3);
	ck_assert_uint_eq(rule("broker")->m.ports[2].hi, 9100);
	ck_assert_uint_eq(rule("database")->m.nhosts, 3);
	ck_assert_uint_eq(rule("clients")->m.nprograms, 2);
	ck_assert_uint_eq(rule("clients")->m.direction, KASHIM_DIR_OUTGOING);
}
END_TEST

/*
 * Strings and comments as libconfuse reads them: '\' escapes in both
 * kinds of string, a comment opened by slash-star-slash, ${ kept
 * literally in single quotes and written as \x24{ in double quotes.
 */
START_TEST(quoting_read_literally)
{
	ck_assert_int_eq(load("fixtures/good-quoting.conf"), KASHIM_CONF_OK);
	ck_assert_int_eq(s.top.v.idle, 30);
	ck_assert_str_eq(s.log_target, "/var/log/${HOST}/kashim.log");
	ck_assert_uint_eq(s.nrules, 3);
	ck_assert_str_eq(s.rules[0].name, "back\\");
	ck_assert_int_eq(s.rules[0].v.idle, 5);
	ck_assert_str_eq(s.rules[1].name, "it's \"quoted\" // not a comment");
	ck_assert_uint_eq(s.rules[1].m.nprograms, 3);
	ck_assert_str_eq(s.rules[1].m.programs[1], "b\\c?");
	ck_assert_str_eq(s.rules[1].m.programs[2], "#d");
	ck_assert_str_eq(s.rules[2].name, "tab\tand ${X}");
	ck_assert_int_eq(s.rules[2].v.count, 7);
}
END_TEST

START_TEST(missing_file_is_silent)
{
	ck_assert_int_eq(load("fixtures/does-not-exist.conf"), KASHIM_CONF_MISSING);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(s.top.v.idle, 60);
}
END_TEST

/*
 * The first line of each bad-*.conf says what the file must get:
 * "# expect: LINE: text", the message starts with FILE:LINE: text;
 * "# exactly: LINE: text", the message is FILE:LINE: text and no more.
 */
START_TEST(bad_file_names_its_line)
{
	const char *path = bad_files.gl_pathv[_i];
	char first[256], want[512], *text;
	FILE *f = fopen(path, "r");
	bool exact;
	int line;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(first, sizeof(first), f));
	fclose(f);
	first[strcspn(first, "\n")] = '\0';
	exact = strncmp(first, "# exactly: ", 11) == 0;
	ck_assert_msg(exact || strncmp(first, "# expect: ", 10) == 0,
		      "%s: no '# expect:' or '# exactly:' line", path);
	ck_assert_int_eq(sscanf(strchr(first, ':') + 1, "%d:", &line), 1);
	text = strchr(strchr(first, ':') + 1, ':') + 1;
	while (*text == ' ')
		text++;
	snprintf(want, sizeof(want), "%s:%d: %s", path, line, text);
	ck_assert_int_eq(load(path), KASHIM_CONF_ERROR);
	if (exact)
		ck_assert_str_eq(err, want);
	else
		ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
			      "got '%s', want '%s'", err, want);
	/* Rejected whole: nothing of the file is left. */
	ck_assert_uint_eq(s.nrules, 0);
	ck_assert_int_eq(s.top.v.idle, 60);
}
END_TEST

/*
 * The one "did you mean" measure, the command's and the file's: a swap,
 * a letter too many, a letter in the wrong case are one edit each.
 */
START_TEST(name_distance_counts_edits)
{
	ck_assert_int_eq(kashim_name_distance("idle", "idle"), 0);
	ck_assert_int_eq(kashim_name_distance("idel", "idle"), 1);
	ck_assert_int_eq(kashim_name_distance("intervall", "interval"), 1);
	ck_assert_int_eq(kashim_name_distance("Idle", "idle"), 1);
	ck_assert_int_eq(kashim_name_distance("", "idle"), 4);
	ck_assert_int_eq(kashim_name_distance("log_levle", "log_level"), 1);
	ck_assert_int_gt(kashim_name_distance("colour", "count"), KASHIM_NEAR_EDITS);
	ck_assert_int_eq(kashim_name_distance("a-name-longer-than-thirty-one-c",
					      "a"), 30);
	ck_assert_int_eq(kashim_name_distance("a-name-longer-than-thirty-one-ch",
					      "a"), 99);
}
END_TEST

START_TEST(environment_over_file)
{
	const char *env[] = { "KASHIM_IDLE", "45", "KASHIM_COUNT", "9", NULL };
	struct sockaddr_storage ss;

	ck_assert_int_eq(load("fixtures/good.conf"), KASHIM_CONF_OK);
	fake_env = env;
	ck_assert_int_eq(kashim_settings_from_env(&s, fake_getenv, err, sizeof(err)), 0);
	kashim_settings_finish(&s, "mosquitto_sub");
	ck_assert_int_eq(s.top.v.idle, 45);
	/* broker set its own idle; its count comes from the top after env */
	ck_assert_int_eq(rule("broker")->v.idle, 20);
	ck_assert_int_eq(rule("broker")->v.count, 9);
	ck_assert_int_eq(rule("broker")->v.interval, 10);
	ck_assert_int_eq(rule("clients")->v.count, 3);
	ck_assert_int_eq(rule("clients")->v.idle, 45);
	ck_assert_int_eq(kashim_user_timeout_ms(&rule("broker")->v),
			 (20 + 10 * 9) * 1000);
	ck_assert_str_eq(kashim_rule_for(&s, KASHIM_DIR_OUTGOING, 1883,
				      addr_of("10.1.1.1", 1883, &ss))->name, "broker");
	ck_assert_ptr_null(kashim_rule_for(&s, KASHIM_DIR_OUTGOING, 5432,
					addr_of("::1", 5432, &ss)));
	ck_assert_str_eq(kashim_rule_for(&s, KASHIM_DIR_OUTGOING, 5432,
				      addr_of("192.0.2.1", 5432, &ss))->name, "clients");
	ck_assert_str_eq(kashim_rule_for(&s, KASHIM_DIR_INCOMING, 5432,
				      addr_of("192.0.2.1", 5432, &ss))->name, "default");
}
END_TEST


/*
 * Presets in the file: an explicit key beside one wins; a rule's preset
 * works like its other value keys; KASHIM_PRESET outranks the file's top
 * level, and rules that left a key out inherit it after the environment.
 */
START_TEST(presets_at_each_level)
{
	const char *env[] = { "KASHIM_PRESET", "azure", NULL };

	ck_assert_int_eq(load("fixtures/preset.conf"), KASHIM_CONF_OK);
	ck_assert_int_eq(s.top.v.idle, 17);     /* beside "aws": wins */
	ck_assert_int_eq(s.top.v.interval, 20); /* from "aws" */
	fake_env = env;
	ck_assert_int_eq(kashim_settings_from_env(&s, fake_getenv, err, sizeof(err)), 0);
	kashim_settings_finish(&s, "x");
	ck_assert_int_eq(s.top.v.idle, 180); /* KASHIM_PRESET over the file */
	ck_assert_int_eq(rule("nat")->v.idle, 90);
	ck_assert_int_eq(rule("nat")->v.interval, 10);
	ck_assert_int_eq(rule("nat")->v.user_timeout, 0);
	ck_assert_int_eq(rule("nat-own-idle")->v.idle, 33);
	ck_assert_int_eq(rule("nat-own-idle")->v.count, 5);
	ck_assert_int_eq(rule("phones")->v.user_timeout, KASHIM_USER_TIMEOUT_AUTO);
	ck_assert_int_eq(kashim_user_timeout_ms(&rule("phones")->v), 60000);
	ck_assert_int_eq(rule("plain")->v.idle, 180); /* inherited after env */
	ck_assert_int_eq(rule("plain")->v.count, 2);
}
END_TEST

/* An unknown preset in the file names its line and the known ones. */
START_TEST(preset_unknown_in_file)
{
	FILE *f = fopen("/tmp/kashim-test-preset.conf", "w");

	ck_assert_ptr_nonnull(f);
	fputs("idle = 20\n\npreset = \"aws2\"\n", f);
	fclose(f);
	ck_assert_int_eq(load("/tmp/kashim-test-preset.conf"), KASHIM_CONF_ERROR);
	unlink("/tmp/kashim-test-preset.conf");
	ck_assert_ptr_nonnull(strstr(err, ":3:"));
	ck_assert_ptr_nonnull(strstr(err, "'aws2' is not a preset (none, default, aws, azure, gcp, cgnat, mobile, kubernetes)"));
}
END_TEST

/* Copy the good file to a temporary path with mode, owned by uid. */
static const char *temp_copy(mode_t mode, uid_t uid)
{
	static char path[] = "/tmp/kashim-test-conf-XXXXXX";
	char cmd[256];

	strcpy(path, "/tmp/kashim-test-conf-XXXXXX");
	close(mkstemp(path));
	snprintf(cmd, sizeof(cmd), "cp fixtures/good.conf %s", path);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
	if (uid != getuid())
		ck_assert_int_eq(chown(path, uid, (gid_t)-1), 0);
	return path;
}

START_TEST(refused_when_others_may_write)
{
	const char *path = temp_copy(0666, getuid());

	ck_assert_int_eq(load(path), KASHIM_CONF_ERROR);
	ck_assert_ptr_nonnull(strstr(err, "writable by others"));
	chmod(path, 0664);
	ck_assert_int_eq(load(path), KASHIM_CONF_ERROR);
	ck_assert_ptr_nonnull(strstr(err, "writable by its group"));
	chmod(path, 0644);
	ck_assert_int_eq(load(path), KASHIM_CONF_OK);
	unlink(path);
}
END_TEST

/*
 * A file owned by neither root nor the reader is refused; its owner may
 * read it. Root gives the file to nobody; anyone else reads their own
 * file as another user would.
 */
START_TEST(refused_when_owned_by_someone_else)
{
	uid_t owner = getuid() == 0 ? 65534 : getuid();
	uid_t other = owner == 1000 ? 1001 : 1000;
	const char *path = temp_copy(0644, owner);
	char want[64];

	snprintf(want, sizeof(want), "owned by uid %u,", (unsigned)owner);
	ck_assert_int_eq(kashim_conf_load(path, other, &s, err, sizeof(err)),
			 KASHIM_CONF_ERROR);
	ck_assert_msg(strstr(err, want), "got '%s', want '%s'", err, want);
	ck_assert_int_eq(kashim_conf_load(path, owner, &s, err, sizeof(err)),
			 KASHIM_CONF_OK);
	unlink(path);
}
END_TEST

/* A file owned by root is read by anyone. Only root can make one. */
START_TEST(root_owned_file_is_read_by_anyone)
{
	const char *path = temp_copy(0644, 0);

	ck_assert_int_eq(kashim_conf_load(path, 1000, &s, err, sizeof(err)),
			 KASHIM_CONF_OK);
	ck_assert_int_eq(s.top.v.idle, 30);
	unlink(path);
}
END_TEST

START_TEST(empty_file_holds_the_defaults)
{
	const char *path = temp_copy(0644, getuid());

	ck_assert_int_eq(truncate(path, 0), 0);
	ck_assert_int_eq(load(path), KASHIM_CONF_OK);
	ck_assert_int_eq(s.top.v.idle, 60);
	unlink(path);
}
END_TEST

START_TEST(directory_is_refused)
{
	ck_assert_int_eq(load("fixtures"), KASHIM_CONF_ERROR);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
}
END_TEST

/* A FIFO is refused at once: opening it must not wait for a writer. */
START_TEST(fifo_is_refused_without_blocking)
{
	char path[PATH_MAX] = "/tmp/kashim-test-fifo-XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(path));
	strcat(path, "/kashim.conf");
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	ck_assert_int_eq(load(path), KASHIM_CONF_ERROR);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
}
END_TEST

/*
 * A file of nrules rules r0, r1... (three lines each, after a first line
 * of top-level keys); rule number bad gets the line extra instead of
 * "idle = 5", and the top-level line top goes after rule number mid.
 * Written to path (PATH_MAX); returns the line of rule number bad.
 */
static int many_rules(char *path, int nrules, int mid, const char *top,
		      int bad, const char *extra)
{
	FILE *f;
	int fd, line = 4, bad_line = 0;

	strcpy(path, "/tmp/kashim-test-rules-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fprintf(f, "idle = 10\nports = {80}\nhosts = {\"10.0.0.0/8\"}\n");
	for (int i = 0; i < nrules; i++) {
		if (i == bad)
			bad_line = line;
		fprintf(f, "rule \"r%d\" {\n  %s\n}\n", i,
			i == bad ? extra : "idle = 5");
		line += 3;
		if (i == mid) {
			fprintf(f, "%s\n", top);
			line++;
		}
	}
	ck_assert_int_eq(fclose(f), 0);
	return bad_line;
}

/*
 * A big file is read in pieces of 64 rules; it must read as one: the
 * top level's keys last one wins (an empty list too, += appends), rules
 * in order, lines counted across pieces.
 */
START_TEST(many_rules_read_as_one_file)
{
	char path[PATH_MAX];

	many_rules(path, 300, 200,
		   "ports = {}\ncount = 9\nhosts += {\"::1\"}", -1, "");
	ck_assert_int_eq(load(path), KASHIM_CONF_OK);
	unlink(path);
	ck_assert_uint_eq(s.nrules, 300);
	ck_assert_str_eq(s.rules[0].name, "r0");
	ck_assert_str_eq(s.rules[299].name, "r299");
	ck_assert_int_eq(s.rules[299].v.idle, 5);
	ck_assert_int_eq(s.top.v.idle, 10);
	ck_assert_int_eq(s.top.v.count, 9);
	ck_assert_uint_eq(s.top.m.nports, 0);
	ck_assert_uint_eq(s.top.m.nhosts, 2);
}
END_TEST

/* An error or a duplicate name far into a big file: its own line. */
START_TEST(many_rules_errors_name_their_line)
{
	char path[PATH_MAX], want[PATH_MAX + 160];
	int line = many_rules(path, 300, -1, "", 250, "idle = 0");

	ck_assert_int_eq(load(path), KASHIM_CONF_ERROR);
	unlink(path);
	snprintf(want, sizeof(want), "%s:%d: idle: '0'", path, line + 1);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got '%s', want '%s'",
		      err, want);
	kashim_settings_free(&s);
	line = many_rules(path, 300, 280, "rule \"r3\" {\n}", -1, "");
	ck_assert_int_eq(load(path), KASHIM_CONF_ERROR);
	unlink(path);
	snprintf(want, sizeof(want),
		 "%s:%d: rule \"r3\" is named twice, lines %d and %d: each rule needs a name of its own",
		 path, 4 + 281 * 3, 4 + 3 * 3, 4 + 281 * 3);
	ck_assert_str_eq(err, want);
	ck_assert_uint_eq(s.nrules, 0);
	/* Both in one piece past the first: libconfuse finds it. */
	many_rules(path, 300, 280, "rule \"r290\" {\n}", -1, "");
	ck_assert_int_eq(load(path), KASHIM_CONF_ERROR);
	unlink(path);
	snprintf(want, sizeof(want),
		 "%s:%d: rule \"r290\" is named twice, lines %d and %d: each rule needs a name of its own",
		 path, 4 + 290 * 3 + 2, 4 + 281 * 3, 4 + 290 * 3 + 2);
	ck_assert_str_eq(err, want);
	ck_assert_uint_eq(s.nrules, 0);
}
END_TEST

/* Fail unless match keys a and b are the same. */
static void same_match(const struct kashim_match *a,
		       const struct kashim_match *b, const char *what)
{
	ck_assert_msg(a->nports == b->nports, "%s: ports", what);
	ck_assert_msg(a->nhosts == b->nhosts, "%s: hosts", what);
	ck_assert_msg(a->nprograms == b->nprograms, "%s: programs", what);
	ck_assert_msg(a->direction == b->direction, "%s: direction", what);
	for (size_t i = 0; i < a->nports; i++)
		ck_assert_msg(a->ports[i].lo == b->ports[i].lo &&
				      a->ports[i].hi == b->ports[i].hi,
			      "%s: port %zu", what, i);
	for (size_t i = 0; i < a->nhosts; i++)
		ck_assert_msg(memcmp(&a->hosts[i], &b->hosts[i],
				     sizeof(a->hosts[i])) == 0,
			      "%s: host %zu", what, i);
	for (size_t i = 0; i < a->nprograms; i++)
		ck_assert_msg(strcmp(a->programs[i], b->programs[i]) == 0,
			      "%s: program '%s' came back as '%s'", what,
			      a->programs[i], b->programs[i]);
}

/*
 * Fail unless rules a and b are the same once finished. Which keys were
 * given (set) may differ: --check writes every value a rule inherits.
 */
static void same_rule(const struct kashim_rule *a, const struct kashim_rule *b)
{
	ck_assert_msg(strcmp(a->name, b->name) == 0,
		      "rule '%s' came back as '%s'", a->name, b->name);
	ck_assert_msg(memcmp(&a->v, &b->v, sizeof(a->v)) == 0,
		      "rule '%s': values", a->name);
	ck_assert_msg(a->program_ok == b->program_ok, "rule '%s': programs",
		      a->name);
	same_match(&a->m, &b->m, a->name);
}

/* What `kashim --check` prints for settings t, as a string to free. */
static char *printed(const struct kashim_settings *t)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	kashim_settings_print(t, f);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

/* Write text to a new private file; its path in path (PATH_MAX). */
static void write_private(const char *text, char *path)
{
	int fd;

	strcpy(path, "/tmp/kashim-test-printed-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/*
 * Every fixture: one meant to be refused (named bad-*, or listed in
 * refused_elsewhere) is refused; any other loads, and what `kashim
 * --check` prints for it reads back to the same settings, field by
 * field, and prints the same text again.
 */
START_TEST(check_output_reads_back)
{
	const char *path = all_files.gl_pathv[_i];
	struct kashim_settings back;
	char tmp[PATH_MAX], *text, *again;
	int rc = load(path);

	if (meant_to_be_refused(path)) {
		ck_assert_msg(rc == KASHIM_CONF_ERROR,
			      "%s is meant to be refused, but loads", path);
		return;
	}
	ck_assert_msg(rc == KASHIM_CONF_OK,
		      "%s does not load, so its --check output cannot be read back: %s",
		      path, err);
	kashim_settings_finish(&s, NULL);
	text = printed(&s);
	write_private(text, tmp);
	kashim_settings_defaults(&back);
	ck_assert_msg(kashim_conf_load(tmp, getuid(), &back, err,
				       sizeof(err)) == KASHIM_CONF_OK,
		      "%s printed does not read back: %s\n%s", path, err, text);
	unlink(tmp);
	kashim_settings_finish(&back, NULL);
	ck_assert_int_eq(back.log_level, s.log_level);
	ck_assert_str_eq(back.log_target, s.log_target);
	ck_assert_uint_eq(back.nrules, s.nrules);
	same_rule(&s.top, &back.top);
	for (size_t i = 0; i < s.nrules; i++)
		same_rule(&s.rules[i], &back.rules[i]);
	again = printed(&back);
	ck_assert_str_eq(again, text);
	free(again);
	free(text);
	kashim_settings_free(&back);
}
END_TEST

/* The one loader: which file, then defaults < file < environment. */
START_TEST(loader_file_then_environment)
{
	static const char *const env[] = {"KASHIM_CONFIG", "fixtures/good.conf",
					  "KASHIM_IDLE", "11", NULL};
	const struct kashim_sources src = {fake_getenv, kashim_conf_load,
					   getuid(), "mosquitto_sub", false};
	struct kashim_load_result res;

	kashim_settings_free(&s);
	fake_env = env;
	ck_assert_int_eq(kashim_settings_load(&s, &src, NULL, &res), 0);
	ck_assert_str_eq(res.path, "fixtures/good.conf");
	ck_assert_int_eq(res.file_rc, KASHIM_CONF_OK);
	ck_assert_int_eq(s.top.v.idle, 11);     /* the environment */
	ck_assert_int_eq(s.top.v.interval, 10); /* the file */
	ck_assert_int_eq(s.top.v.count, 5);     /* the file */
	ck_assert_uint_eq(s.nrules, 3);
}
END_TEST

/* Both a bad file and a bad variable are reported, in their own fields. */
START_TEST(loader_reports_file_and_environment)
{
	static const char *const env[] = {"KASHIM_IDLE", "0", NULL};
	const struct kashim_sources src = {fake_getenv, kashim_conf_load,
					   getuid(), NULL, false};
	struct kashim_load_result res;

	kashim_settings_free(&s);
	fake_env = env;
	ck_assert_int_eq(kashim_settings_load(&s, &src,
					      "fixtures/bad-range.conf", &res),
			 -1);
	ck_assert_int_eq(res.file_rc, KASHIM_CONF_ERROR);
	ck_assert_ptr_nonnull(strstr(res.file_err, "fixtures/bad-range.conf:"));
	ck_assert_ptr_nonnull(strstr(res.env_err, "KASHIM_IDLE=0"));
}
END_TEST

/* A file named by the caller or by KASHIM_CONFIG must exist. */
START_TEST(loader_named_file_must_exist)
{
	static const char *const env[] = {"KASHIM_CONFIG",
					  "fixtures/does-not-exist.conf", NULL};
	const struct kashim_sources src = {fake_getenv, kashim_conf_load,
					   getuid(), NULL, false};
	struct kashim_load_result res;

	kashim_settings_free(&s);
	fake_env = env;
	ck_assert_int_eq(kashim_settings_load(&s, &src, NULL, &res), -1);
	ck_assert_int_eq(res.file_rc, KASHIM_CONF_ERROR);
	ck_assert_str_eq(res.file_err, "fixtures/does-not-exist.conf: No such "
				       "file or directory (named by KASHIM_CONFIG)");
	kashim_settings_free(&s);
	fake_env = NULL;
	ck_assert_int_eq(kashim_settings_load(&s, &src, "fixtures/nope.conf",
					      &res), -1);
	ck_assert_str_eq(res.file_err, "fixtures/nope.conf: No such file or directory");
}
END_TEST

/* Only the system file may be missing: defaults, no error. */
static int missing_loader(const char *path, uid_t ruid,
			  struct kashim_settings *st, char *e, size_t elen)
{
	(void)path, (void)ruid, (void)st, (void)e, (void)elen;
	return KASHIM_CONF_MISSING;
}

START_TEST(loader_system_file_may_be_missing)
{
	const struct kashim_sources src = {fake_getenv, missing_loader,
					   getuid(), NULL, false};
	struct kashim_load_result res;

	kashim_settings_free(&s);
	fake_env = NULL;
	ck_assert_int_eq(kashim_settings_load(&s, &src, NULL, &res), 0);
	ck_assert_int_eq(res.file_rc, KASHIM_CONF_MISSING);
	ck_assert_str_eq(res.path, KASHIM_SYSTEM_CONFIG);
	ck_assert_str_eq(s.log_target, "stderr");
}
END_TEST

/*
 * Under /etc/ld.so.preload the default target is syslog; a target given
 * by the file or the environment still wins.
 */
START_TEST(loader_system_wide_logs_to_syslog)
{
	static const char *const env[] = {"KASHIM_LOG_TARGET", "stderr", NULL};
	struct kashim_sources src = {fake_getenv, missing_loader, getuid(),
				     NULL, true};
	struct kashim_load_result res;

	kashim_settings_free(&s);
	fake_env = NULL;
	ck_assert_int_eq(kashim_settings_load(&s, &src, NULL, &res), 0);
	ck_assert_str_eq(s.log_target, "syslog");
	kashim_settings_free(&s);
	fake_env = env;
	ck_assert_int_eq(kashim_settings_load(&s, &src, NULL, &res), 0);
	ck_assert_str_eq(s.log_target, "stderr");
	kashim_settings_free(&s);
	src.load_file = kashim_conf_load;
	fake_env = NULL;
	ck_assert_int_eq(kashim_settings_load(&s, &src, "fixtures/bad-range.conf",
					      &res), -1);
	ck_assert_str_eq(s.log_target, "syslog"); /* a broken file: syslog */
}
END_TEST

/* KASHIM_CONFIG empty: no file at all; unset: the system file. */
START_TEST(loader_which_file)
{
	static const char *const empty[] = {"KASHIM_CONFIG", "", NULL};

	fake_env = empty;
	ck_assert_ptr_null(kashim_config_path(fake_getenv));
	fake_env = NULL;
	ck_assert_str_eq(kashim_config_path(fake_getenv), KASHIM_SYSTEM_CONFIG);
}
END_TEST

static Suite *conf_suite(void)
{
	Suite *su = suite_create("conf");
	TCase *tc = tcase_create("file");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, good_file);
	tcase_add_test(tc, quoting_read_literally);
	tcase_add_test(tc, missing_file_is_silent);
	tcase_add_loop_test(tc, bad_file_names_its_line, 0, (int)bad_files.gl_pathc);
	tcase_add_test(tc, name_distance_counts_edits);
	tcase_add_test(tc, environment_over_file);
	tcase_add_test(tc, presets_at_each_level);
	tcase_add_test(tc, preset_unknown_in_file);
	tcase_add_test(tc, refused_when_others_may_write);
	tcase_add_test(tc, refused_when_owned_by_someone_else);
	if (getuid() == 0)
		tcase_add_test(tc, root_owned_file_is_read_by_anyone);
	tcase_add_test(tc, directory_is_refused);
	tcase_add_test(tc, fifo_is_refused_without_blocking);
	tcase_add_test(tc, empty_file_holds_the_defaults);
	tcase_add_test(tc, loader_file_then_environment);
	tcase_add_test(tc, loader_reports_file_and_environment);
	tcase_add_test(tc, loader_which_file);
	tcase_add_test(tc, loader_named_file_must_exist);
	tcase_add_test(tc, loader_system_file_may_be_missing);
	tcase_add_test(tc, loader_system_wide_logs_to_syslog);
	tcase_add_test(tc, many_rules_read_as_one_file);
	tcase_add_test(tc, many_rules_errors_name_their_line);
	tcase_add_loop_test(tc, check_output_reads_back, 0,
			    (int)all_files.gl_pathc);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr;
	size_t refused = 0;
	int failed;

	if (glob("fixtures/bad-*.conf", 0, NULL, &bad_files) != 0 ||
	    bad_files.gl_pathc < 10) {
		fprintf(stderr, "test_conf: run from tests/, fixtures missing\n");
		return EXIT_FAILURE;
	}
	if (glob("fixtures/*.conf", 0, NULL, &all_files) != 0 ||
	    glob("fixtures/*/*.conf", GLOB_APPEND, NULL, &all_files) != 0 ||
	    glob("../conf/kashim.conf", GLOB_APPEND, NULL, &all_files) != 0) {
		fprintf(stderr, "test_conf: fixtures missing\n");
		return EXIT_FAILURE;
	}
	for (size_t i = 0; i < all_files.gl_pathc; i++)
		refused += meant_to_be_refused(all_files.gl_pathv[i]);
	printf("conf: %zu fixtures read back through --check; %zu meant to be "
	       "refused are checked refused instead\n",
	       all_files.gl_pathc - refused, refused);
	fflush(stdout);
	sr = srunner_create(conf_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	if (getuid() != 0)
		printf("SKIP: conf: root_owned_file_is_read_by_anyone: only root "
		       "can give a file to root\n");
	srunner_free(sr);
	globfree(&bad_files);
	globfree(&all_files);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
