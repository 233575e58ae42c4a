/*
 * kashim.c - the `kashim` command: run a program with TCP keep-alive.
 *
 * `kashim [OPTIONS] [--] COMMAND [ARGS...]` checks each option with the
 * library's own parsers (kashim_set() on the table of keys), turns the
 * options into the KASHIM_* environment, checks the config file and the
 * whole environment as the library will read them, puts libkashim.so
 * first in LD_PRELOAD and execs COMMAND. `--check` is in cmd_check.c,
 * `--status` in cmd_status.c, the reach warnings in cmd_elf.c.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "conf/conf.h"
#include "common/settings.h"

/*
 * A settings option: the key it sets (its name is kashim_keys[key].option),
 * the name of its argument in --help, or for a flag the value it sets
 * and a line of help of its own.
 */
struct cmd_opt {
	enum kashim_key key;
	const char *arg;
	const char *value;
	const char *help;
};

static const struct cmd_opt cmd_opts[] = {
	{ KASHIM_KEY_PRESET, "NAME", NULL, NULL },
	{ KASHIM_KEY_IDLE, "S", NULL, NULL },
	{ KASHIM_KEY_INTERVAL, "S", NULL, NULL },
	{ KASHIM_KEY_COUNT, "N", NULL, NULL },
	{ KASHIM_KEY_USER_TIMEOUT, "MS|auto", NULL, NULL },
	{ KASHIM_KEY_OVERRIDE, NULL, "1",
	  "apply the values even to sockets where COMMAND set its own "
	  "keep-alive or user timeout" },
	{ KASHIM_KEY_PORTS, "LIST", NULL, NULL },
	{ KASHIM_KEY_HOSTS, "LIST", NULL, NULL },
	{ KASHIM_KEY_DIRECTION, "D", NULL, NULL },
	{ KASHIM_KEY_ENABLE, NULL, "0",
	  "run COMMAND with kashim loaded but switched off" },
	{ KASHIM_KEY_LISTENER, NULL, "0",
	  "set the options on each accepted socket, never on a listening "
	  "socket (which processes not under kashim may share)" },
};

#define NCMD_OPTS (sizeof(cmd_opts) / sizeof(cmd_opts[0]))

/* getopt codes: settings options are OPT_SETTING + their cmd_opts index. */
enum {
	OPT_SETTING = 0x100,
	OPT_CONFIG = 0x200,
	OPT_CHECK,
	OPT_STATUS,
	OPT_JSON,
	OPT_ENABLE_SYSTEM,
	OPT_DISABLE_SYSTEM,
	OPT_STATUS_SYSTEM,
	OPT_ALL,
	OPT_PROMETHEUS,
	OPT_PATH_LIMIT,
	OPT_FORCE,
	OPT_ENABLE_UNIT,
	OPT_DISABLE_UNIT,
	OPT_APPLY,
	OPT_DRY_RUN,
};

/* What the command line asked for. */
struct cmd {
	struct kashim_settings s;      /* scratch: options checked here */
	const char *env[KASHIM_NKEYS]; /* KASHIM_* values to set, or NULL */
	const char *config;            /* --config FILE */
	char config_abs[PATH_MAX];     /* ... made absolute */
	int system;                    /* OPT_*_SYSTEM, or 0 */
	bool force;                    /* --force, with --enable-system */
	const char *unit;              /* --enable-unit/--disable-unit NAME */
	bool unit_enable;
	bool check, status, json, prometheus;
	struct kashim_status_opts so;  /* --status: operands, --all, ... */
	bool status_usage;             /* an option that needs --status */
};

/* Print text word-wrapped at 78 columns, each line indented by ind. */
static void wrap(const char *text, int ind)
{
	int col = ind;

	printf("%*s", ind, "");
	while (*text) {
		size_t n = strcspn(text, " ");

		if (col > ind && col + 1 + (int)n > 78) {
			printf("\n%*s", ind, "");
			col = ind;
		} else if (col > ind) {
			putchar(' ');
			col++;
		}
		printf("%.*s", (int)n, text);
		col += (int)n;
		text += n;
		text += strspn(text, " ");
	}
	putchar('\n');
}

/* One option in --help: its name on a line, its help wrapped below. */
static void help(const char *name, const char *text)
{
	printf("  %s\n", name);
	wrap(text, 8);
}

/* A settings option in --help: help, variable and default from the table. */
static void help_setting(const struct cmd_opt *o)
{
	const struct kashim_key_def *k = &kashim_keys[o->key];
	char name[64], text[512];

	snprintf(name, sizeof(name), "%s%s%s", k->option, o->arg ? " " : "",
		 o->arg ? o->arg : "");
	if (o->value)
		snprintf(text, sizeof(text), "%s (sets %s=%s)", o->help,
			 k->env, o->value);
	else
		snprintf(text, sizeof(text), "%s (sets %s; default: %s)",
			 k->help, k->env, *k->def ? k->def : "all");
	help(name, text);
}

/* --help, the settings part: every option that becomes a variable. */
static void usage_settings(void)
{
	printf("Settings (each becomes a KASHIM_* variable):\n");
	for (size_t i = 0; i < NCMD_OPTS; i++)
		help_setting(&cmd_opts[i]);
	help("--config FILE",
	     "read this config file instead of " KASHIM_SYSTEM_CONFIG
	     " (sets " KASHIM_ENV_CONFIG "; the file must exist)");
	help("-v, --verbose",
	     "log one line per socket changed, on stderr "
	     "(sets KASHIM_LOG=info); twice (-vv): debug");
	help("-q, --quiet",
	     "log nothing and do not warn about COMMAND "
	     "(sets KASHIM_LOG=none)");
}

/* --help, the other modes. */
static void usage_modes(void)
{
	printf("\nOther modes:\n");
	help("--check [FILE]",
	     "check FILE (default: $" KASHIM_ENV_CONFIG ", else "
	     KASHIM_SYSTEM_CONFIG ") with the library's own parser, "
	     "including the owner and mode the library would refuse it for; "
	     "print the effective settings (after the environment and the "
	     "options), top level and every rule, as a config file on stdout; "
	     "exit 0, or 1 with FILE:LINE: message on stderr");
	help("--status PID|NAME...",
	     "show every TCP socket of these processes (PIDs, or process "
	     "names matched as pgrep -x does) as the kernel holds it: pid, "
	     "name, fd, local and peer address, state, SO_KEEPALIVE, "
	     "TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT (ms), "
	     "then a summary line. Aligned on a terminal, tab-separated "
	     "otherwise. Needs ptrace rights over each process: the same user "
	     "where ptrace is allowed, or CAP_SYS_PTRACE (root); the processes "
	     "it may not read are named on one line of stderr. Exit 0; 1 when "
	     "a PID or NAME is not there or cannot be read; 3 when "
	     "--path-limit flags a connection");
	help("--apply PID|NAME...",
	     "put the settings (read as a program under kashim reads them: "
	     "defaults, config file, KASHIM_*, these options) on the TCP "
	     "connections and listening sockets these processes already "
	     "hold, from outside, without a restart; the program's own "
	     "keep-alive, user timeout, or idle/interval/count differing from "
	     "its namespace's sysctl is kept unless --override. One line per "
	     "socket (before -> after, or why left alone) and a summary. Needs "
	     "ptrace rights over each process, as --status. Exit 0, or 1 on "
	     "an error or a process it may not touch");
	help("--dry-run", "with --apply: change nothing, say what would be set");
	help("--all", "with --status or --apply: every process the caller may "
		      "inspect (as root: the whole host)");
	help("--path-limit S|PRESET",
	     "with --status: flag every established connection a middlebox "
	     "that forgets idle flows after S seconds (or a preset's limit: "
	     "aws 350, azure 240, gcp 600, cgnat 120, mobile 60) would cut: "
	     "no keep-alive, or an idle time at or above the limit");
	help("--json", "with --status: one JSON document, for scripts");
	help("--prometheus",
	     "with --status: the summary by process name in the Prometheus "
	     "text format, for node_exporter's textfile collector");
	help("--enable-system",
	     "add the library to /etc/ld.so.preload, so every program of the "
	     "host loads it (the /usr/$LIB/... form for a multiarch install). "
	     "Refused, exit 1, unless " KASHIM_SYSTEM_CONFIG " checks valid "
	     "and is readable by every user, and /bin/true runs with the "
	     "library preloaded and prints nothing; refused too when "
	     "/etc/ld.so.preload is not readable by every user (chmod 644 "
	     "it), holds a NUL byte, is over 1 MiB, or names another copy "
	     "of kashim (see --force). The file is replaced whole (a "
	     "temporary file renamed into place; for a symbolic link, beside "
	     "its target, and the target replaced), keeping its mode; "
	     "nothing is done when the line is already there. Needs root");
	help("--force",
	     "with --enable-system: when /etc/ld.so.preload names another "
	     "copy of kashim (say, the package's beside a make install), "
	     "replace that entry with this one; without it, enabling is "
	     "refused");
	help("--disable-system",
	     "remove kashim's line from /etc/ld.so.preload, leaving every "
	     "other line and comment as it was; nothing is done when there "
	     "is none. Needs root");
	help("--status-system",
	     "say whether /etc/ld.so.preload names the library, on which line, "
	     "and whether that path exists; when it does, read the system "
	     "config file as the programs do and say where the library's "
	     "messages go. Exit 0 when enabled, 3 when not, 1 when the line "
	     "names a missing file or the programs cannot take the file or "
	     "the config (they then leave every socket alone)");
	help("--enable-unit NAME",
	     "write the systemd drop-in /etc/systemd/system/NAME.d/kashim.conf "
	     "that preloads this installation's library into the service "
	     "NAME, keeping the LD_PRELOAD its own files set; refused when "
	     "its ExecStart program is static or Go (kashim-bpf enable "
	     "--unit covers those). Runs systemctl daemon-reload when "
	     "systemd runs; takes effect at the unit's next start");
	help("--disable-unit NAME", "remove that drop-in");
	help("-h, --help", "this help");
	help("-V, --version", "the version");
}

/* --help: everything the command does, on stdout. */
static void usage(void)
{
	printf("Usage: kashim [OPTIONS] [--] COMMAND [ARGS...]\n"
	       "       kashim [--config FILE] [OPTIONS] --check [FILE]\n"
	       "       kashim --status PID|NAME...|--all [--path-limit S|PRESET]\n"
	       "              [--json|--prometheus]\n"
	       "       kashim [OPTIONS] --apply PID|NAME...|--all [--dry-run] [--json]\n"
	       "       kashim --enable-system [--force] | --disable-system | "
	       "--status-system\n"
	       "       kashim --enable-unit NAME | --disable-unit NAME\n\n");
	wrap("Run COMMAND with TCP keep-alive on every TCP connection it "
	     "makes or accepts (IPv4 and IPv6). The options become KASHIM_* "
	     "environment variables (they win over the config file and the "
	     "environment), every value is checked before anything runs, "
	     "libkashim.so is put first in LD_PRELOAD (other preloaded "
	     "libraries are kept, another copy of libkashim.so is dropped) "
	     "and COMMAND replaces kashim.", 0);
	putchar('\n');
	usage_settings();
	usage_modes();
	putchar('\n');
	wrap("LIST is comma-separated: --ports 1883,8883,9000-9100, --hosts "
	     "10.0.0.0/8,::1 (addresses or CIDR blocks, no names). D is "
	     "outgoing, incoming or both. Variables without an option: "
	     "KASHIM_PROGRAMS, KASHIM_LOG_TARGET.", 0);
	putchar('\n');
	wrap("Before running COMMAND, kashim warns on stderr (one line, "
	     "never an error) when LD_PRELOAD cannot reach it: statically "
	     "linked, a Go program, setuid, setgid or with file capabilities. "
	     "A #! script is judged by its interpreter.", 0);
	putchar('\n');
	wrap("A musl program (its loader /lib/ld-musl-*) gets the musl build "
	     "from musl/ beside libkashim.so; without it kashim refuses to "
	     "run the program, as a build for the other C library would "
	     "stop it from starting.", 0);
	putchar('\n');
	wrap("Exit status: COMMAND's own; 2 for a bad option or setting "
	     "(nothing is run); 3 when --status --path-limit flags a "
	     "connection; 125 when libkashim.so, or the build for COMMAND's "
	     "C library, cannot be found; 126 when COMMAND cannot be run; "
	     "127 when it is not found.", 0);
}

/* The options that are not settings, and the end of the list. */
static const struct option fixed_opts[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "status", optional_argument, NULL, OPT_STATUS },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "enable-system", no_argument, NULL, OPT_ENABLE_SYSTEM },
	{ "disable-system", no_argument, NULL, OPT_DISABLE_SYSTEM },
	{ "status-system", no_argument, NULL, OPT_STATUS_SYSTEM },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "prometheus", no_argument, NULL, OPT_PROMETHEUS },
	{ "path-limit", required_argument, NULL, OPT_PATH_LIMIT },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "enable-unit", required_argument, NULL, OPT_ENABLE_UNIT },
	{ "disable-unit", required_argument, NULL, OPT_DISABLE_UNIT },
	{ "apply", optional_argument, NULL, OPT_APPLY },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};
/* How many long options there are, the end included. */
#define NLONGOPTS (NCMD_OPTS + sizeof(fixed_opts) / sizeof(fixed_opts[0]))

/* The long options: the settings ones built from the table of keys. */
static void build_longopts(struct option *lo)
{
	size_t n = 0;

	for (size_t i = 0; i < NCMD_OPTS; i++) {
		/* Every option in the table is spelt "--name". */
		lo[n].name = kashim_keys[cmd_opts[i].key].option + 2;
		lo[n].has_arg =
			cmd_opts[i].arg ? required_argument : no_argument;
		lo[n].flag = NULL;
		lo[n].val = OPT_SETTING + (int)i;
		n++;
	}
	memcpy(&lo[n], fixed_opts, sizeof(fixed_opts));
}

/*
 * Check text for key k with the library's parser and keep it for the
 * environment. Returns 0, or -1 after printing "kashim: OPTION: message".
 */
static int take(struct cmd *c, enum kashim_key k, const char *option,
		const char *text)
{
	const char *name = kashim_keys[k].name;
	char err[320];
	const char *msg = err;

	if (kashim_set(&c->s, &c->s.top, k, text, err, sizeof(err)) == 0) {
		c->env[k] = text;
		return 0;
	}
	/* kashim_set() says "KEY: message"; the user typed an option. */
	if (strncmp(err, name, strlen(name)) == 0 && err[strlen(name)] == ':')
		msg = err + strlen(name) + 2;
	fprintf(stderr, "kashim: %s: %s\n", option, msg);
	return -1;
}

/* -v, -vv and -q: the log level the option asks for, after those before. */
static const char *log_option(const struct cmd *c, int opt)
{
	const char *now = c->env[KASHIM_KEY_LOG_LEVEL];

	if (opt == 'q')
		return "none";
	if (now && (strcmp(now, "info") == 0 || strcmp(now, "debug") == 0))
		return "debug";
	return "info";
}

/* The long option closest to name (without "--"), if near enough. */
static const char *nearest_option(const char *name)
{
	struct option lo[NLONGOPTS];
	const char *best = NULL;
	int best_d = KASHIM_NEAR_EDITS + 1;

	build_longopts(lo);
	for (const struct option *o = lo; o->name; o++) {
		int d = kashim_name_distance(name, o->name);

		if (d < best_d) {
			best_d = d;
			best = o->name;
		}
	}
	return best;
}

/*
 * "--enable" or "--disable" when word abbreviates both the -system and
 * the -unit option of that verb (getopt: ambiguous), else NULL.
 */
static const char *host_prefix(const char *word)
{
	static const char *const verb[] = { "--enable", "--disable" };
	size_t n = strcspn(word, "=");

	for (int i = 0; i < 2; i++) {
		size_t v = strlen(verb[i]);

		if (n >= v && !strncmp(word, verb[i], v) &&
		    (n == v || (n == v + 1 && word[v] == '-')))
			return verb[i];
	}
	return NULL;
}

/*
 * Say what was wrong with option word (getopt returned opt: '?' unknown
 * or ambiguous, ':' without its argument), with "did you mean" for a
 * long option close to a real one.
 */
static void bad_option(int opt, const char *word)
{
	char name[64];
	const char *near;

	if (opt == ':')
		fprintf(stderr, "kashim: %s needs an argument\n", word);
	else if (host_prefix(word))
		fprintf(stderr, "kashim: %.*s: write %s-system in full (or "
			"%s-unit NAME)\n", (int)strcspn(word, "="), word,
			host_prefix(word), host_prefix(word));
	else if (optopt && word[1] != '-')
		fprintf(stderr, "kashim: unknown option -%c\n", optopt);
	else {
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(word + 2, "="),
			 word + 2);
		near = nearest_option(name);
		fprintf(stderr, "kashim: unknown option %.*s%s%s%s\n",
			(int)strcspn(word, "="), word,
			near ? "; did you mean --" : "", near ? near : "",
			near ? "?" : "");
	}
	fprintf(stderr, "Try 'kashim --help' for more information.\n");
}

/*
 * Is word (as typed, "=VALUE" aside) the option full spelt in full? Said
 * when not: an option that changes the host (--enable-system, --force,
 * …) is never taken as an abbreviation getopt allows.
 */
static bool in_full(const char *word, const char *full)
{
	size_t n = strcspn(word, "=");

	if (n == strlen(full) && strncmp(word, full, n) == 0)
		return true;
	fprintf(stderr, "kashim: %.*s: write %s in full\n", (int)n, word, full);
	return false;
}

/* Take opt, a host-changing option typed as word, as the command's one. */
static int take_system(struct cmd *c, int opt, const char *word,
		       const char *full)
{
	if (!in_full(word, full))
		return -1;
	c->system = opt;
	return 0;
}

/*
 * One option that is not a setting, typed as word. Returns 0, 1 (done:
 * exit 0) or -1.
 */
static int take_other(struct cmd *c, int opt, const char *arg,
		      const char *word)
{
	switch (opt) {
	case OPT_CONFIG: c->config = arg; return 0;
	case OPT_CHECK: c->check = true; return 0;
	case OPT_STATUS:
		c->status = true;
		if (arg) /* --status=PID */
			c->so.targets[c->so.ntargets++] = (char *)arg;
		return 0;
	case OPT_APPLY: /* --status's scan, which then sets the options */
		c->status = c->so.apply = true;
		if (arg)
			c->so.targets[c->so.ntargets++] = (char *)arg;
		return 0;
	case OPT_DRY_RUN: c->so.dry_run = c->status_usage = true; return 0;
	case OPT_JSON: c->json = true; return 0;
	case OPT_ENABLE_SYSTEM:
		return take_system(c, opt, word, "--enable-system");
	case OPT_DISABLE_SYSTEM:
		return take_system(c, opt, word, "--disable-system");
	case OPT_STATUS_SYSTEM: c->system = opt; return 0;
	case OPT_FORCE:
		if (!in_full(word, "--force"))
			return -1;
		c->force = true;
		return 0;
	case OPT_ENABLE_UNIT:
	case OPT_DISABLE_UNIT:
		c->unit = arg;
		c->unit_enable = opt == OPT_ENABLE_UNIT;
		return take_system(c, c->system, word, c->unit_enable ?
				   "--enable-unit" : "--disable-unit");
	case OPT_ALL: c->so.all = c->status_usage = true; return 0;
	case OPT_PROMETHEUS: c->prometheus = c->status_usage = true; return 0;
	case OPT_PATH_LIMIT:
		c->status_usage = true;
		return kashim_cmd_path_limit(arg, &c->so) < 0 ? -1 : 0;
	case 'v':
	case 'q':
		return take(c, KASHIM_KEY_LOG_LEVEL, opt == 'q' ? "-q" : "-v",
			    log_option(c, opt));
	case 'h': usage(); return 1;
	case 'V': printf("kashim %s\n", KASHIM_VERSION); return 1;
	default:
		bad_option(opt, word);
		return -1;
	}
}

/*
 * After getopt_long() returned -1 at index at: is argv[optind] an
 * operand of --check or --status, to be moved out of the way so options
 * after it are read too? Not after "--", and never before COMMAND,
 * whose own options are its business.
 */
static bool mode_operand(const struct cmd *c, char **argv, int at, int n)
{
	if (!c->check && !c->status)
		return false;
	if (optind == at + 1 && strcmp(argv[at], "--") == 0)
		return false;
	return optind < n;
}

/* Move argv[i] to the end of argv[0..n-1], the others up one place. */
static void to_end(char **argv, int i, int n)
{
	char *op = argv[i];

	memmove(&argv[i], &argv[i + 1], (size_t)(n - i - 1) * sizeof(*argv));
	argv[n - 1] = op;
}

/*
 * Parse the options (up to COMMAND: "+" stops at the first operand; the
 * operands of --check and --status are moved to the end, in the order
 * given, so options may stand on either side of them). Returns the index of the first
 * operand, -1 for a usage error, or -2 when --help or --version has
 * been answered.
 */
static int parse_args(struct cmd *c, int argc, char **argv)
{
	struct option lo[NLONGOPTS];
	int opt, rc = 0, n = argc, at = optind;

	build_longopts(lo);
	opterr = 0; /* kashim's own messages, prefixed "kashim:" */
	while ((opt = getopt_long(n, argv, "+:vqhV", lo, NULL)) != -1 ||
	       mode_operand(c, argv, at, n)) {
		if (opt == -1) {
			to_end(argv, optind, n--);
		} else if (opt >= OPT_SETTING &&
			   opt < OPT_SETTING + (int)NCMD_OPTS) {
			const struct cmd_opt *o = &cmd_opts[opt - OPT_SETTING];

			rc = take(c, o->key, kashim_keys[o->key].option,
				  o->arg ? optarg : o->value);
		} else {
			rc = take_other(c, opt, optarg,
					optarg && optarg == argv[optind - 1] ?
					argv[optind - 2] : argv[optind - 1]);
		}
		if (opt != -1 && rc != 0)
			return rc < 0 ? -1 : -2;
		at = optind;
	}
	/* Each operand moved went before the ones moved earlier: undo. */
	for (int i = n, j = argc - 1; i < j; i++, j--) {
		char *t = argv[i];

		argv[i] = argv[j];
		argv[j] = t;
	}
	return optind;
}

/*
 * --config FILE as an absolute path: COMMAND may change directory
 * before its first connection. Returns 0, or -1 after a message.
 */
static int absolute_config(struct cmd *c)
{
	char cwd[PATH_MAX];

	if (!c->config[0] || c->config[0] == '/') {
		snprintf(c->config_abs, sizeof(c->config_abs), "%s", c->config);
		return 0;
	}
	if (!getcwd(cwd, sizeof(cwd)) ||
	    (size_t)snprintf(c->config_abs, sizeof(c->config_abs), "%s/%s", cwd,
			     c->config) >= sizeof(c->config_abs)) {
		fprintf(stderr, "kashim: --config %s: cannot make it absolute\n",
			c->config);
		return -1;
	}
	return 0;
}

/*
 * A --config FILE that is not there: blame the option as it was typed
 * (the loader, reading KASHIM_CONFIG that kashim set from it, would
 * name the variable). Returns 0, or -1 after the message.
 */
static int config_there(const struct cmd *c)
{
	struct stat st;

	if (!c->config || !c->config[0] || stat(c->config_abs, &st) == 0)
		return 0;
	fprintf(stderr, "kashim: --config %s: %s\n", c->config, strerror(errno));
	return -1;
}

/* Put the options into the environment. Returns 0 or -1. */
static int export_env(struct cmd *c)
{
	for (size_t k = 0; k < KASHIM_NKEYS; k++)
		if (c->env[k] && setenv(kashim_keys[k].env, c->env[k], 1) < 0)
			return -1;
	if (c->config && (absolute_config(c) < 0 ||
			  setenv(KASHIM_ENV_CONFIG, c->config_abs, 1) < 0))
		return -1;
	return 0;
}

/*
 * Check the config file and the whole environment as the library will
 * read them. Returns 0 with the settings in s, or -1 after a message.
 */
static int check_all(struct kashim_settings *s)
{
	struct kashim_load_result res;

	if (kashim_cmd_load(NULL, s, &res) < 0) {
		fprintf(stderr, "kashim: %s\n", kashim_cmd_load_error(&res));
		return -1;
	}
	return 0;
}

/* Is tok, one item of LD_PRELOAD, a copy of kashim's library? */
static bool is_kashim(const char *tok, const char *lib)
{
	const char *base = strrchr(tok, '/');
	char real[PATH_MAX];

	base = base ? base + 1 : tok;
	if (strncmp(base, KASHIM_LIBRARY, strlen(KASHIM_LIBRARY)) == 0)
		return true;
	return realpath(tok, real) && strcmp(real, lib) == 0;
}

/*
 * Set LD_PRELOAD to lib followed by what it held, less any copy of
 * kashim (ld.so separates items by spaces or colons). Returns 0 or -1.
 */
static int set_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	char *val = malloc(strlen(lib) + (old ? strlen(old) : 0) + 2);
	char *copy = strdup(old ? old : "");
	char *tok, *save = NULL;
	int rc = -1;

	if (!val || !copy)
		goto out;
	if (strpbrk(lib, " :")) {
		fprintf(stderr, "kashim: %s: a space or colon cannot stand in "
				"LD_PRELOAD\n", lib);
		goto out;
	}
	strcpy(val, lib);
	for (tok = strtok_r(copy, " :", &save); tok;
	     tok = strtok_r(NULL, " :", &save)) {
		if (is_kashim(tok, lib))
			continue;
		strcat(val, ":");
		strcat(val, tok);
	}
	rc = setenv("LD_PRELOAD", val, 1);
out:
	free(val);
	free(copy);
	return rc;
}

/* The C library this command, and the build of the library beside it, use. */
#ifdef __GLIBC__
#define OWN_LIBC KASHIM_LIBC_GLIBC
#else
#define OWN_LIBC KASHIM_LIBC_MUSL
#endif

/* Names of the C libraries; the other one's build is in NAME/ beside ours. */
static const char *const libc_names[] = { "an unknown C library", "glibc",
					  "musl" };

/*
 * Replace lib (the build for this command's C library) by the build for
 * the C library cmd runs with: the same, or the other one's from its
 * directory beside lib. Returns 0, or -1 after saying why neither fits:
 * a build for one C library stops a program of the other from starting.
 */
static int pick_build(const char *cmd, char *lib)
{
	char interp[PATH_MAX], other[PATH_MAX + 16];
	enum kashim_libc libc = kashim_cmd_libc(cmd, interp, sizeof(interp));
	const char *slash = strrchr(lib, '/');

	if (libc == KASHIM_LIBC_UNKNOWN || libc == OWN_LIBC || !slash)
		return 0;
	if (libc == KASHIM_LIBC_MIXED) {
		fprintf(stderr,
			"kashim: %s runs programs of two C libraries (%s): no "
			"one build of kashim can be preloaded into both; run "
			"the program it starts under kashim instead\n",
			cmd, interp);
		return -1;
	}
	snprintf(other, sizeof(other), "%.*s/%s/%s", (int)(slash - lib), lib,
		 libc_names[libc], KASHIM_LIBRARY);
	if (access(other, R_OK) == 0 && realpath(other, lib))
		return 0;
	fprintf(stderr,
		"kashim: %s runs with %s (its loader is %s), but %s is built "
		"for %s and would stop it from starting; install a %s build "
		"of kashim as %s (make check-musl, then make install-musl, "
		"in kashim's source tree)\n",
		cmd, libc_names[libc], interp, lib, libc_names[OWN_LIBC],
		libc_names[libc], other);
	return -1;
}

/* Run COMMAND under the library. Returns an exit status on failure. */
static int run(struct cmd *c, char **argv)
{
	struct kashim_settings s;
	char lib[PATH_MAX];
	int err;

	if (export_env(c) < 0 || config_there(c) < 0 || check_all(&s) < 0)
		return KASHIM_EXIT_USAGE;
	if (s.log_level != KASHIM_LOG_NONE)
		kashim_cmd_warn_reach(argv[0]);
	kashim_settings_free(&s);
	if (kashim_cmd_find_library(lib) < 0 || pick_build(argv[0], lib) < 0 ||
	    set_preload(lib) < 0)
		return KASHIM_EXIT_FAILED;
	execvp(argv[0], argv);
	err = errno;
	fprintf(stderr, "kashim: %s: %s\n", argv[0], strerror(err));
	return err == ENOENT ? KASHIM_EXIT_NOTFOUND : KASHIM_EXIT_CANNOT;
}

/* A --status operand: a process name, or digits that make a PID. */
static bool good_target(const char *t)
{
	char *end;
	long v;

	if (!t || !*t)
		return false;
	if (strspn(t, "0123456789") != strlen(t))
		return true;
	errno = 0;
	v = strtol(t, &end, 10);
	return !errno && v > 0 && v <= INT_MAX;
}

/*
 * `--status`: its operands (moved to the end by parse_args()) and
 * options checked. Returns the exit status.
 */
static int status_mode(struct cmd *c, int argc, char **argv, int first)
{
	struct kashim_status_opts *o = &c->so;

	while (first < argc)
		o->targets[o->ntargets++] = argv[first++];
	for (int i = 0; i < o->ntargets; i++) {
		if (!good_target(o->targets[i])) {
			fprintf(stderr, "kashim: --status: '%s' is not a PID or "
					"process name\n", o->targets[i]);
			return KASHIM_EXIT_USAGE;
		}
	}
	if (c->json && c->prometheus)
		fprintf(stderr, "kashim: --json and --prometheus: one or the other\n");
	else if (c->check)
		fprintf(stderr, "kashim: --status and --check: one or the other\n");
	else if (o->apply && (c->prometheus || o->limit))
		fprintf(stderr, "kashim: --apply takes neither --prometheus nor --path-limit\n");
	else if (o->dry_run && !o->apply)
		fprintf(stderr, "kashim: --dry-run goes with --apply\n");
	else if (o->apply && (o->all ? o->ntargets : !o->ntargets))
		fprintf(stderr, "kashim: --apply needs PIDs, process names or --all (not both)\n");
	else if (o->all && o->ntargets)
		fprintf(stderr, "kashim: --status --all takes no PID or NAME\n");
	else if (!o->all && !o->ntargets)
		fprintf(stderr, "kashim: --status needs PIDs, process names or --all\n");
	else {
		o->format = c->json	  ? KASHIM_STATUS_JSON
			    : c->prometheus ? KASHIM_STATUS_PROMETHEUS
					    : KASHIM_STATUS_TABLE;
		o->aligned = isatty(STDOUT_FILENO) == 1;
		if (o->apply)
			return export_env(c) < 0 ? KASHIM_EXIT_FAILED
						 : kashim_cmd_apply(o);
		return kashim_cmd_status(o);
	}
	return KASHIM_EXIT_USAGE;
}

/* The mode chosen; checks the operands each mode takes. */
static int dispatch(struct cmd *c, int argc, char **argv, int first)
{
	int nargs = argc - first;

	if (c->force && c->system != OPT_ENABLE_SYSTEM)
		fprintf(stderr, "kashim: --force goes with --enable-system\n");
	else if (c->unit && (c->check || c->status || nargs || c->system))
		fprintf(stderr, "kashim: --enable-unit and --disable-unit take "
				"one NAME and nothing else\n");
	else if (c->unit)
		return kashim_cmd_unit(c->unit, c->unit_enable);
	else if (c->system && (c->check || c->status || nargs))
		fprintf(stderr, "kashim: --enable-system, --disable-system and "
				"--status-system take nothing else\n");
	else if (c->system)
		return kashim_cmd_system(c->system == OPT_ENABLE_SYSTEM ? 1 :
					 c->system == OPT_DISABLE_SYSTEM ? -1 : 0,
					 c->force);
	else if ((c->json || c->status_usage) && !c->status)
		fprintf(stderr, "kashim: --json, --all, --path-limit and "
				"--prometheus go with --status\n");
	else if (c->status)
		return status_mode(c, argc, argv, first);
	else if (c->check && nargs > 1) {
		fprintf(stderr, "kashim: --check takes at most one FILE\n");
	} else if (c->check) {
		if (export_env(c) < 0)
			return KASHIM_EXIT_FAILED;
		if (!nargs && config_there(c) < 0)
			return 1;
		return kashim_cmd_check(nargs ? argv[first] : NULL);
	} else if (nargs == 0) {
		fprintf(stderr, "kashim: no COMMAND given\n"
				"Try 'kashim --help' for more information.\n");
	} else {
		return run(c, argv + first);
	}
	return KASHIM_EXIT_USAGE;
}

/* Parse, then run COMMAND, --check or --status; see usage(). */
int main(int argc, char **argv)
{
	struct cmd c = { 0 };
	int first, rc;

	kashim_settings_defaults(&c.s);
	c.so.targets = calloc((size_t)argc + 1, sizeof(char *));
	if (!c.so.targets)
		return KASHIM_EXIT_FAILED;
	first = parse_args(&c, argc, argv);
	if (first == -2)
		rc = fflush(stdout) == 0 ? 0 : 1;
	else if (first < 0)
		rc = KASHIM_EXIT_USAGE;
	else
		rc = dispatch(&c, argc, argv, first);
	free(c.so.targets);
	return rc;
}
