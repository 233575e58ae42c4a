/*
 * load.c - defaults < config file < environment, in one place.
 *
 * Linked into the library and the `kashim` command, so `kashim --check`
 * reads the settings as the library does by construction: which file
 * counts, that a named file must exist, and the default log target of a
 * system-wide library are decided here and nowhere else.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "load.h"

const char *kashim_config_path(char *(*get)(const char *name))
{
	const char *val = get(KASHIM_ENV_CONFIG);

	if (!val)
		return KASHIM_SYSTEM_CONFIG;
	return *val ? val : NULL;
}

/* Read the file that counts into s; a named one must exist. */
static void load_file(struct kashim_settings *s,
		      const struct kashim_sources *src, const char *file,
		      struct kashim_load_result *res)
{
	res->named = file || (src->getenv(KASHIM_ENV_CONFIG) && res->path);
	if (!res->path)
		return;
	res->file_rc = src->load_file(res->path, src->ruid, s, res->file_err,
				      sizeof(res->file_err));
	if (res->file_rc != KASHIM_CONF_MISSING || !res->named)
		return;
	res->file_rc = KASHIM_CONF_ERROR;
	snprintf(res->file_err, sizeof(res->file_err), "%.400s: %s%s",
		 res->path, strerror(ENOENT),
		 file ? "" : " (named by " KASHIM_ENV_CONFIG ")");
}

int kashim_settings_load(struct kashim_settings *s,
			 const struct kashim_sources *src, const char *file,
			 struct kashim_load_result *res)
{
	int rc = 0;

	res->path = file ? file : kashim_config_path(src->getenv);
	res->file_rc = KASHIM_CONF_MISSING;
	res->file_err[0] = res->env_err[0] = '\0';
	kashim_settings_defaults(s);
	load_file(s, src, file, res);
	if (res->file_rc == KASHIM_CONF_ERROR)
		rc = -1;
	if (kashim_settings_from_env(s, src->getenv, res->env_err,
				     sizeof(res->env_err)) < 0)
		rc = -1;
	if (src->system_wide &&
	    !(s->top.set & (1u << KASHIM_KEY_LOG_TARGET)))
		strcpy(s->log_target, "syslog");
	kashim_settings_finish(s, src->exe);
	return rc;
}
