/*
 * loadcmd.c - the settings as a command reads them: the one loader
 * (load.c) with getenv(), the config reader the command links and the
 * real user. Linked into the `kashim` command and kashim-bpf only: the
 * library reads its file through a loader of its own (the config module,
 * dlopen()ed when needed) and must not link kashim_conf_load(). It is
 * in the config module's room because it names that module's reader.
 */
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "loadcmd.h"

int kashim_settings_load_cmd(const char *file, struct kashim_settings *s,
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
