/*
 * main.c - the kashim-bpf command: attach kashim's settings to every TCP
 * connection of a cgroup with BPF, detach them, show them.
 *
 *   kashim-bpf attach (--cgroup PATH | --unit NAME) [--config FILE]
 *                     [--idle S ...] [--no-existing] [-v]
 *   kashim-bpf detach (--cgroup PATH | --unit NAME)
 *   kashim-bpf status
 *   kashim-bpf enable|disable --unit NAME   (unit.c)
 *   kashim-bpf load [--unit NAME]
 *
 * The settings are read exactly as the library reads them: defaults <
 * config file < KASHIM_* environment, through the same code as
 * `kashim --check`; the settings options are kashim's own, from the same
 * table of keys. Every refusal exits 1 with its reason and leaves
 * nothing half-attached; a command-line error exits 2.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "common/load.h"
#include "kbpf.h"

/* Exit statuses: a refusal, and a command-line error (as `kashim`'s). */
#define EXIT_REFUSED 1
#define EXIT_USAGE 2

/*
 * The settings options, each spelt as in the table of keys
 * (kashim_keys[key].option) and checked by its parser; flag is the value
 * of an option that takes none. Each becomes its KASHIM_* variable, as
 * under `kashim`: defaults < config file < environment < options.
 */
static const struct {
	enum kashim_key key;
	const char *flag;
} settings_opts[] = {
	{KASHIM_KEY_PRESET, NULL},	 {KASHIM_KEY_IDLE, NULL},
	{KASHIM_KEY_INTERVAL, NULL},	 {KASHIM_KEY_COUNT, NULL},
	{KASHIM_KEY_USER_TIMEOUT, NULL}, {KASHIM_KEY_OVERRIDE, "1"},
	{KASHIM_KEY_PORTS, NULL},	 {KASHIM_KEY_HOSTS, NULL},
	{KASHIM_KEY_DIRECTION, NULL},
};

#define NSETTINGS_OPTS (sizeof(settings_opts) / sizeof(settings_opts[0]))
#define OPT_SETTING 256 /* getopt code of settings_opts[i]: OPT_SETTING + i */

/* What the command line asked for. */
struct args {
	const char *verb;
	const char *cgroup;
	const char *unit;
	const char *config;
	bool verbose;
	bool settings;	  /* some settings option was given */
	bool no_existing; /* leave the connections already open alone */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: kashim-bpf attach (--cgroup PATH | --unit NAME) "
		   "[--config FILE] [SETTINGS] [--no-existing] [--verbose]\n"
		   "       kashim-bpf detach (--cgroup PATH | --unit NAME)\n"
		   "       kashim-bpf status\n"
		   "       kashim-bpf enable|disable --unit NAME\n"
		   "       kashim-bpf load [--unit NAME]\n"
		   "SETTINGS, as for kashim(1): ");
	for (size_t i = 0; i < NSETTINGS_OPTS; i++)
		fprintf(f, "%s%s%s", i ? " " : "",
			kashim_keys[settings_opts[i].key].option,
			settings_opts[i].flag ? "" : " V");
	fprintf(f,
		"\nPuts kashim's keep-alive settings on every TCP connection "
		"made or\n"
		"accepted in a cgroup v2, whatever program makes it. See "
		"kashim-bpf(8).\n");
}

/* Print "kashim-bpf: msg" and return exit status 1. */
static int fail(const char *msg)
{
	fprintf(stderr, "kashim-bpf: %s\n", msg);
	return EXIT_REFUSED;
}

/* Print "kashim-bpf: " and a formatted line, then the usage; exit 2. */
static int bad_usage(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int bad_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("kashim-bpf: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	return EXIT_USAGE;
}

/*
 * Settings option i with text (the flag's value when it takes none):
 * checked by the key's own parser, then put into its variable. Returns
 * 0, or 2 after "kashim-bpf: --OPTION: message".
 */
static int take(size_t i, const char *text)
{
	const struct kashim_key_def *k = &kashim_keys[settings_opts[i].key];
	struct kashim_settings scratch;
	char err[320];
	const char *msg = err;
	size_t len = strlen(k->name);
	int rc;

	if (settings_opts[i].flag)
		text = settings_opts[i].flag;
	kashim_settings_defaults(&scratch);
	rc = kashim_set(&scratch, &scratch.top, settings_opts[i].key, text, err,
			sizeof(err));
	kashim_settings_free(&scratch);
	if (rc == 0 && setenv(k->env, text, 1) == 0)
		return 0;
	if (rc == 0)
		snprintf(err, sizeof(err), "%s", strerror(errno));
	/* kashim_set() says "KEY: message"; the user typed an option. */
	if (!strncmp(err, k->name, len) && err[len] == ':')
		msg = err + len + 2;
	fprintf(stderr, "kashim-bpf: %s: %s\n", k->option, msg);
	return EXIT_USAGE;
}

/* What getopt refused in word (opt '?': unknown, ':': no argument). */
static int bad_option(int opt, const char *word)
{
	if (opt == ':')
		return bad_usage("%s needs an argument", word);
	if (optopt && optopt < OPT_SETTING && word[1] != '-')
		return bad_usage("unknown option -%c", optopt);
	return bad_usage("unknown option %s", word);
}

/* Parse argv into a. Returns 0, or an exit status (usage: 2). */
static int parse(int argc, char **argv, struct args *a)
{
	static const struct option fixed[] = {
		{"cgroup", required_argument, NULL, 'g'},
		{"unit", required_argument, NULL, 'u'},
		{"config", required_argument, NULL, 'c'},
		{"verbose", no_argument, NULL, 'v'},
		{"no-existing", no_argument, NULL, 'E'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
	};
	struct option
		opts[sizeof(fixed) / sizeof(fixed[0]) + NSETTINGS_OPTS + 1];
	size_t n = sizeof(fixed) / sizeof(fixed[0]);
	int c, rc;

	memcpy(opts, fixed, sizeof(fixed));
	for (size_t i = 0; i < NSETTINGS_OPTS; i++)
		opts[n++] = (struct option){
			kashim_keys[settings_opts[i].key].option + 2,
			settings_opts[i].flag ? no_argument : required_argument,
			NULL, OPT_SETTING + (int)i};
	memset(&opts[n], 0, sizeof(opts[n]));
	opterr = 0; /* every message here says kashim-bpf:, not argv[0] */
	if (argc > 1 && argv[1][0] != '-') { /* the verb comes first */
		a->verb = argv[1];
		optind = 2;
	}
	while ((c = getopt_long(argc, argv, ":g:u:c:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			a->cgroup = optarg;
			break;
		case 'u':
			a->unit = optarg;
			break;
		case 'c':
			a->config = optarg;
			break;
		case 'v':
			a->verbose = true;
			break;
		case 'E':
			a->no_existing = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("kashim-bpf %s\n", KASHIM_VERSION);
			exit(0);
		case '?':
		case ':':
			return bad_option(c, argv[optind - 1]);
		default:
			rc = take((size_t)(c - OPT_SETTING), optarg);
			if (rc)
				return rc;
			a->settings = true;
		}
	}
	if (!a->verb)
		return bad_usage("%s",
				 "say what to do: attach, detach, status, "
				 "enable, disable or load");
	if (optind < argc)
		return bad_usage("unexpected argument \"%s\"", argv[optind]);
	return 0;
}

/* The cgroup path the arguments name, into path. Returns 0, 1 or 2. */
static int target(const struct args *a, char *path, size_t len)
{
	char err[600];

	if (!!a->cgroup == !!a->unit)
		return bad_usage("%s", "say which cgroup: --cgroup PATH or "
				       "--unit NAME (one of them)");
	if (a->cgroup) {
		snprintf(path, len, "%s", a->cgroup);
		return 0;
	}
	if (kbpf_unit_cgroup(a->unit, path, len, err, sizeof(err)) < 0)
		return fail(err);
	return 0;
}

/*
 * Every check that needs no cgroup: privileges, kernel, pins that will
 * outlive the command; then the lock that keeps a second attach or
 * detach out until this one exits.
 */
static int preflight(void)
{
	char err[600];

	if (kbpf_check_caps(err, sizeof(err)) < 0 ||
	    kbpf_check_kernel(err, sizeof(err)) < 0 ||
	    kbpf_pin_root(true, err, sizeof(err)) < 0 ||
	    kbpf_lock(err, sizeof(err)) < 0)
		return fail(err);
	return 0;
}

/*
 * After attach: the connections already open, unless --no-existing. A
 * kernel that cannot is said in one line and is no failure.
 */
static int cover_existing(const char *path, uint64_t cgid)
{
	char err[600];
	int rc = kbpf_existing(cgid, path, err, sizeof(err));

	if (rc == 1)
		printf("kashim-bpf: %s\n", err);
	else if (rc < 0)
		return fail(err);
	return 0;
}

/* Build the map contents for path from the settings, then attach. */
static int attach_with(const struct args *a, const char *path, int cgfd,
		       uint64_t cgid)
{
	struct kashim_settings s;
	struct kbpf_image *im = calloc(1, sizeof(*im));
	char err[600];
	int rc = 1;

	if (!im)
		return fail("out of memory");
	if (kbpf_load_settings(a->config, &s)) {
		free(im);
		return 1;
	}
	if (kbpf_image_build(&s, path, im, err, sizeof(err)) < 0 ||
	    kbpf_attach(cgfd, cgid, im, a->verbose, err, sizeof(err)) < 0) {
		rc = fail(err);
	} else {
		printf("kashim-bpf: attached to %s (%zu rule(s))\n", path,
		       s.nrules);
		rc = a->no_existing ? 0 : cover_existing(path, cgid);
	}
	kashim_settings_free(&s);
	free(im);
	return rc;
}

static int cmd_attach(const struct args *a)
{
	char path[PATH_MAX], real[PATH_MAX], err[600];
	uint64_t cgid;
	int cgfd, rc;

	rc = target(a, path, sizeof(path));
	if (rc || (rc = preflight()))
		return rc;
	cgfd = kbpf_open_cgroup(path, &cgid, err, sizeof(err));
	if (cgfd < 0)
		return fail(err);
	rc = attach_with(a, realpath(path, real) ? real : path, cgfd, cgid);
	close(cgfd);
	return rc;
}

static int cmd_detach(const struct args *a)
{
	char path[PATH_MAX], real[PATH_MAX], err[600];
	uint64_t cgid = 0;
	int cgfd, rc;

	if (a->config || a->settings)
		return bad_usage("%s", "detach takes no settings (--config and "
				       "the like)");
	if (a->no_existing)
		return bad_usage("%s", "detach takes no --no-existing");
	rc = target(a, path, sizeof(path));
	if (rc || (rc = preflight()))
		return rc;
	cgfd = kbpf_open_cgroup(path, &cgid, err, sizeof(err));
	if (cgfd >= 0)
		close(cgfd);
	else if (access(path, F_OK) == 0) /* a removed one: found by path */
		return fail(err);
	if (kbpf_detach(cgid, realpath(path, real) ? real : path, err,
			sizeof(err)) < 0)
		return fail(err);
	printf("kashim-bpf: detached from %s\n", path);
	return 0;
}

/* Where kashim-bpf is attached, from pins that outlive this command. */
static int cmd_status(void)
{
	char err[600];
	int rc;

	if (kbpf_check_caps(err, sizeof(err)) < 0)
		return fail(err);
	rc = kbpf_pin_root(false, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr,
			"kashim-bpf: cannot tell from here where kashim-bpf is "
			"attached: %s\n",
			err);
		return EXIT_REFUSED;
	}
	if (rc == KBPF_PINS_NONE) {
		printf("kashim-bpf is attached nowhere (%s is not mounted)\n",
		       KBPF_PIN_ROOT);
		return kbpf_unit_status();
	}
	return kbpf_status() | kbpf_unit_status();
}

/*
 * enable, disable and load (unit.c): the system config's settings, as
 * at boot, so --unit NAME is all they take; then the checks and the
 * lock that attach and detach pass.
 */
static int cmd_unit(const struct args *a)
{
	if (a->cgroup || a->config || a->settings || a->no_existing)
		return bad_usage("%s", "enable, disable and load take --unit "
				       "NAME only: the settings are the system "
				       "config's, as at boot");
	if (!a->unit && strcmp(a->verb, "load") != 0)
		return bad_usage("%s is for a unit: say which, --unit NAME",
				 a->verb);
	return preflight() ? EXIT_REFUSED : kbpf_unit_cmd(a->verb, a->unit);
}

int main(int argc, char **argv)
{
	struct args a = {0};
	int rc = parse(argc, argv, &a);

	if (rc)
		return rc;
	if (!strcmp(a.verb, "attach"))
		return cmd_attach(&a);
	if (!strcmp(a.verb, "detach"))
		return cmd_detach(&a);
	if (!strcmp(a.verb, "enable") || !strcmp(a.verb, "disable") ||
	    !strcmp(a.verb, "load"))
		return cmd_unit(&a);
	if (strcmp(a.verb, "status") != 0)
		return bad_usage("unknown command \"%s\"", a.verb);
	if (a.config || a.settings || a.no_existing || a.cgroup || a.unit)
		return bad_usage("%s", "status takes no options");
	return cmd_status();
}
