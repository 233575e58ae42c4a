/*
 * main.c - the kashim-bpf command: attach kashim's settings to every TCP
 * connection of a cgroup with BPF, detach them, show them.
 *
 *   kashim-bpf attach (--cgroup PATH | --unit NAME) [--config FILE] [-v]
 *   kashim-bpf detach (--cgroup PATH | --unit NAME)
 *   kashim-bpf status
 *   kashim-bpf enable|disable --unit NAME   (unit.c)
 *   kashim-bpf load [--unit NAME]
 *
 * The settings are read exactly as the library reads them: defaults <
 * config file < KASHIM_* environment, through the same code as
 * `kashim --check`. Every refusal exits 1 with its reason and leaves
 * nothing half-attached.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/load.h"
#include "kbpf.h"

/* What the command line asked for. */
struct args {
	const char *verb;
	const char *cgroup;
	const char *unit;
	const char *config;
	bool verbose;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: kashim-bpf attach (--cgroup PATH | --unit NAME) "
		   "[--config FILE] [--verbose]\n"
		   "       kashim-bpf detach (--cgroup PATH | --unit NAME)\n"
		   "       kashim-bpf status\n"
		   "       kashim-bpf enable|disable --unit NAME\n"
		   "       kashim-bpf load [--unit NAME]\n"
		   "Puts kashim's keep-alive settings on every TCP connection "
		   "made or\n"
		   "accepted in a cgroup v2, whatever program makes it. See "
		   "kashim-bpf(8).\n");
}

/* Print "kashim-bpf: msg" and return exit status 1. */
static int fail(const char *msg)
{
	fprintf(stderr, "kashim-bpf: %s\n", msg);
	return 1;
}

/* Parse argv into a. Returns 0, or an exit status (usage: 2). */
static int parse(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{"cgroup", required_argument, NULL, 'g'},
		{"unit", required_argument, NULL, 'u'},
		{"config", required_argument, NULL, 'c'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0}};
	int c;

	if (argc > 1 && argv[1][0] != '-') { /* the verb comes first */
		a->verb = argv[1];
		optind = 2;
	}
	while ((c = getopt_long(argc, argv, "g:u:c:vhV", opts, NULL)) != -1) {
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
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("kashim-bpf %s\n", KASHIM_VERSION);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!a->verb || optind < argc) {
		usage(stderr);
		return 2;
	}
	return 0;
}

/* The cgroup path the arguments name, into path. Returns 0 or 1. */
static int target(const struct args *a, char *path, size_t len)
{
	char err[600];

	if (!!a->cgroup == !!a->unit)
		return fail("say which cgroup: --cgroup PATH or --unit NAME "
			    "(one of them)");
	if (a->cgroup) {
		snprintf(path, len, "%s", a->cgroup);
		return 0;
	}
	if (kbpf_unit_cgroup(a->unit, path, len, err, sizeof(err)) < 0)
		return fail(err);
	return 0;
}

/* Every check that needs no cgroup: privileges, kernel, bpffs. */
static int preflight(void)
{
	char err[600];

	if (kbpf_check_caps(err, sizeof(err)) < 0 ||
	    kbpf_check_kernel(err, sizeof(err)) < 0 ||
	    kbpf_pin_root(err, sizeof(err)) < 0)
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
		rc = 0;
		printf("kashim-bpf: attached to %s (%zu rule(s))\n", path,
		       s.nrules);
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

	if (target(a, path, sizeof(path)) || preflight())
		return 1;
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
	int cgfd;

	if (a->config)
		return fail("detach takes no --config");
	if (target(a, path, sizeof(path)) || preflight())
		return 1;
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
	if (!strcmp(a.verb, "status"))
		return preflight() ? 1 : kbpf_status() | kbpf_unit_status();
	if (!strcmp(a.verb, "enable") || !strcmp(a.verb, "disable") ||
	    !strcmp(a.verb, "load"))
		return a.cgroup || a.config ? fail("enable, disable and load "
			"take --unit NAME only: the settings are the system "
			"config's, as at boot") : preflight() ? 1 :
			kbpf_unit_cmd(a.verb, a.unit);
	fprintf(stderr, "kashim-bpf: unknown command \"%s\"\n", a.verb);
	usage(stderr);
	return 2;
}
