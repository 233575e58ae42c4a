/*
 * cmd_check.c - `kashim --check [FILE]`: the config file as the library
 * reads it.
 *
 * The settings are read by kashim_settings_load(), the function the
 * library calls, with kashim_conf_load() as the file reader (the code of
 * the library's config module), and printed as a config file would hold
 * them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	if (file && res.file_rc == KASHIM_CONF_MISSING) {
		fprintf(stderr, "%s: %s\n", file, strerror(ENOENT));
		kashim_settings_free(&s);
		return 1;
	}
	print_source(res.path, res.file_rc);
	kashim_settings_print(&s, stdout);
	kashim_settings_free(&s);
	return fflush(stdout) == 0 ? 0 : 1;
}
