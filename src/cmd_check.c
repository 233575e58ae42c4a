/*
 * cmd_check.c - `kashim --check [FILE]`: the config file as the library
 * reads it.
 *
 * The file goes through kashim_conf_load(), the very code the library's
 * config module runs (libconfuse, the key table's parsers, the owner and
 * mode checks), then the environment is applied as the library applies
 * it, and the result is printed as a config file would hold it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "conf.h"

const char *kashim_cmd_config_path(void)
{
	const char *env = getenv(KASHIM_ENV_CONFIG);

	if (!env)
		return KASHIM_SYSTEM_CONFIG;
	return *env ? env : NULL;
}

int kashim_cmd_load(const char *path, struct kashim_settings *s, int *file_rc,
		    char *err, size_t errlen)
{
	kashim_settings_defaults(s);
	*file_rc = KASHIM_CONF_MISSING;
	if (path)
		*file_rc = kashim_conf_load(path, getuid(), s, err, errlen);
	if (*file_rc == KASHIM_CONF_ERROR)
		return -1;
	if (kashim_settings_from_env(s, getenv, err, errlen) < 0) {
		kashim_settings_free(s);
		return -1;
	}
	kashim_settings_finish(s, NULL);
	return 0;
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
	const char *path = file ? file : kashim_cmd_config_path();
	struct kashim_settings s;
	char err[600];
	int file_rc;

	if (kashim_cmd_load(path, &s, &file_rc, err, sizeof(err)) < 0) {
		/* A file's message already starts with "FILE:LINE:". */
		fprintf(stderr, "%s%s\n",
			file_rc == KASHIM_CONF_ERROR ? "" : "kashim: ", err);
		return 1;
	}
	if (file && file_rc == KASHIM_CONF_MISSING) {
		fprintf(stderr, "%s: %s\n", file, strerror(ENOENT));
		kashim_settings_free(&s);
		return 1;
	}
	print_source(path, file_rc);
	kashim_settings_print(&s, stdout);
	kashim_settings_free(&s);
	return fflush(stdout) == 0 ? 0 : 1;
}
