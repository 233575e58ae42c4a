/*
 * load.c - the settings kashim-bpf puts into its maps, read exactly as
 * the library reads them, for `attach` (main.c) and `enable`/`load`
 * (unit.c) alike.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/load.h"
#include "kbpf.h"

/*
 * The settings: defaults < config file < environment, read by
 * kashim_settings_load(), as the library and `kashim --check` read them.
 * A file named by --config must exist. Returns 0, or 1 with s freed.
 */
int kbpf_load_settings(const char *config, struct kashim_settings *s)
{
	const struct kashim_sources src = {
		.getenv = getenv,
		.load_file = kashim_conf_load,
		.ruid = getuid(),
		.exe = NULL,
	};
	struct kashim_load_result res;

	if (kashim_settings_load(s, &src, config, &res) < 0) {
		if (res.file_err[0]) /* "FILE:LINE: message" */
			fprintf(stderr, "%s\n", res.file_err);
		if (res.env_err[0])
			fprintf(stderr, "kashim-bpf: %s\n", res.env_err);
		kashim_settings_free(s);
		return 1;
	}
	if (config && res.file_rc == KASHIM_CONF_MISSING) {
		fprintf(stderr, "%s: %s\n", config, strerror(ENOENT));
		kashim_settings_free(s);
		return 1;
	}
	return 0;
}
