/*
 * cmd_check.c - `kashim --check [FILE]`: the config file as the library
 * reads it.
 *
 * The settings are read by kashim_settings_load_cmd() (conf/loadcmd.h), as
 * kashim-bpf reads them: kashim_settings_load(), the function the library
 * calls, with kashim_conf_load() as the file reader (the code of the
 * library's config module), and printed as a config file would hold them.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "conf/conf.h"
#include "conf/loadcmd.h"
#include "conf/print.h"

int kashim_cmd_load(const char *file, struct kashim_settings *s,
		    struct kashim_load_result *res)
{
	return kashim_settings_load_cmd(file, s, res);
}

const char *kashim_cmd_load_error(const struct kashim_load_result *res)
{
	return res->file_err[0] ? res->file_err : res->env_err;
}

/* Print "kashim: warning: " and a formatted line on stderr. */
static void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void warn(const char *fmt, ...)
{
	va_list ap;

	fputs("kashim: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Warn about each directory above path that others may write into. */
static void warn_dirs(const char *path)
{
	char dir[PATH_MAX];
	struct stat st;
	char *slash;

	if (!realpath(path, dir))
		return;
	while ((slash = strrchr(dir, '/')) != NULL) {
		slash[slash == dir] = '\0'; /* "/a/b" -> "/a", "/a" -> "/" */
		if (stat(dir, &st) == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) &&
		    !(st.st_mode & S_ISVTX))
			warn("%s: directory %s is writable by %s (mode %04o): "
			     "they could put another file in its place",
			     path, dir, st.st_mode & S_IWOTH ? "others" : "its group",
			     (unsigned)(st.st_mode & 07777));
		if (slash == dir)
			break;
	}
}

int kashim_cmd_warn_file(const char *path)
{
	struct stat st;
	int unreadable = 0;

	if (stat(path, &st) < 0)
		return 0;
	if (!(st.st_mode & S_IROTH)) {
		warn("%s: not readable by other users (mode %04o): programs "
		     "run by anyone but uid %u will refuse it; run chmod a+r %s",
		     path, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid,
		     path);
		unreadable = 1;
	}
	warn_dirs(path);
	return unreadable;
}

void kashim_cmd_warn_log_target(const struct kashim_settings *s)
{
	const char *t = s->log_target;
	char dir[PATH_MAX];
	struct stat st;

	if (t[0] != '/')
		return;
	if (stat(t, &st) == 0) {
		if (!(st.st_mode & S_IWOTH))
			warn("log_target %s: not writable by other users (mode "
			     "%04o, uid %u): messages of their programs are lost",
			     t, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
		return;
	}
	snprintf(dir, sizeof(dir), "%s", t);
	*strrchr(dir, '/') = '\0';
	if (stat(dir[0] ? dir : "/", &st) < 0 || !(st.st_mode & S_IWOTH))
		warn("log_target %s does not exist and other users cannot create "
		     "it: messages of their programs are lost", t);
}

/* The first line of the output: a comment saying where values come from. */
static void print_source(const char *path, int file_rc)
{
	if (!path)
		printf("# no config file (%s is empty): built-in defaults, "
		       "then the environment\n",
		       KASHIM_ENV_CONFIG);
	else if (file_rc == KASHIM_CONF_MISSING)
		printf("# no config file at %s: built-in defaults, then the "
		       "environment\n",
		       path);
	else
		printf("# %s is valid; effective settings after the "
		       "environment\n",
		       path);
}

/*
 * The named path limits idle survives (survives true) or does not, as
 * "aws 350 s, azure 240 s" on f (NULL: only counted). Returns how many.
 */
static int limits(int idle, bool survives, FILE *f)
{
	int n = 0;

	for (size_t i = 0; i < kashim_npresets; i++) {
		const struct kashim_preset *p = &kashim_presets[i];

		if (!p->limit || (idle < p->limit) != survives)
			continue;
		if (f)
			fprintf(f, "%s%s %d s", n ? ", " : "", p->name, p->limit);
		n++;
	}
	return n;
}

/*
 * One level's timing as a comment: when a dead peer is given up, and
 * which named path limits its idle time survives; a warning on stderr
 * when it is enabled and survives none of them.
 */
static void print_timing(const char *what, const struct kashim_rule *r)
{
	const struct kashim_values *v = &r->v;

	printf("# %s: a dead peer is given up after %ld s (idle %d + "
	       "interval %d x count %d); idle %d s survives ",
	       what, (long)v->idle + (long)v->interval * v->count, v->idle,
	       v->interval, v->count, v->idle);
	if (!limits(v->idle, true, stdout))
		printf("none of the path limits");
	if (limits(v->idle, false, NULL)) {
		printf("; not ");
		limits(v->idle, false, stdout);
	}
	printf("\n");
	if (!v->enable || limits(v->idle, true, NULL))
		return;
	fprintf(stderr, "kashim: warning: %s: idle %d s is at or above every "
			"path limit kashim knows (", what, v->idle);
	limits(v->idle, false, stderr);
	fprintf(stderr, "): a NAT or load balancer with any of them forgets "
			"an idle connection before its first probe\n");
}

/* The timing of the top level and of every rule, after the settings. */
static void print_timings(const struct kashim_settings *s)
{
	char what[KASHIM_NAME_MAX + 8];

	printf("\n# timing (path limits: kashim.conf(5), PRESETS)\n"
	       "# TCP keep-alive does not refresh the idle timer of a proxy that "
	       "ends TCP\n# (AWS ALB and CLB, other L7 proxies): the probes stop "
	       "at the proxy, which\n# counts only the application's data; "
	       "there the application's own pings\n# (MQTT keep-alive) must be "
	       "shorter than the proxy's idle timeout\n");
	print_timing("top level", &s->top);
	for (size_t i = 0; i < s->nrules; i++) {
		snprintf(what, sizeof(what), "rule \"%s\"", s->rules[i].name);
		print_timing(what, &s->rules[i]);
	}
}

int kashim_cmd_check(const char *file)
{
	struct kashim_load_result res;
	struct kashim_settings s;

	if (kashim_cmd_load(file, &s, &res) < 0) {
		/* A file's message already starts with "FILE:LINE:". */
		fprintf(stderr, "%s%s\n", res.file_err[0] ? "" : "kashim: ",
			kashim_cmd_load_error(&res));
		return 1;
	}
	if (res.file_rc == KASHIM_CONF_OK)
		kashim_cmd_warn_file(res.path);
	kashim_cmd_warn_log_target(&s);
	print_source(res.path, res.file_rc);
	kashim_settings_print(&s, stdout);
	print_timings(&s);
	kashim_settings_free(&s);
	return fflush(stdout) == 0 ? 0 : 1;
}
