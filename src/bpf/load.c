/*
 * load.c - the settings kashim-bpf puts into its maps, for `attach`
 * (main.c) and `enable`/`load` (unit.c) alike: read through the one
 * command loader, kashim_settings_load_cmd() (conf/loadcmd.c), as
 * `kashim --check` and the library read them, then given the full port
 * index the maps are cut by (kashim_rules_index()).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf/loadcmd.h"
#include "kbpf.h"

int kbpf_load_settings(const char *config, struct kashim_settings *s)
{
	struct kashim_load_result res;

	if (kashim_settings_load_cmd(config, s, &res) != 0) {
		if (res.file_err[0]) /* "FILE:LINE: message" */
			fprintf(stderr, "kashim-bpf: %s\n", res.file_err);
		if (res.env_err[0])
			fprintf(stderr, "kashim-bpf: %s\n", res.env_err);
		return 1;
	}
	if (kashim_rules_index(s) != 0) {
		fprintf(stderr, "kashim-bpf: the port index of %zu rule(s): %s\n",
			s->nrules, strerror(errno));
		kashim_settings_free(s);
		return 1;
	}
	return 0;
}
