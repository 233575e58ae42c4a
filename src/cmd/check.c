/*
 * cmd_check.c - `kashim --check [FILE]`: the config file as the library
 * reads it.
 *
 * The settings are read by kashim_settings_load(), the function the
 * library calls, with kashim_conf_load() as the file reader (the code of
 * the library's config module), and printed as a config file would hold
 * them.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "common/conf.h"

int kashim_cmd_load(const char *file, struct kashim_settings *s,
		    struct kashim_load_result *res)
{
	const struct kashim_sources src = {
		.getenv = getenv,
		.load_file = kashim_conf_load,
		.ruid = getuid(),
		.exe = NULL,
	};

	if (kashim_settings_load(s, &src, file, res) == 0)
		return 0;
	kashim_settings_free(s);
	return -1;
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
	kashim_settings_free(&s);
	return fflush(stdout) == 0 ? 0 : 1;
}
