/*
 * loadcmd.h - the settings as a command reads them (loadcmd.c), for the
 * `kashim` command and kashim-bpf; never linked into the library.
 */
#ifndef KASHIM_CONF_LOADCMD_H
#define KASHIM_CONF_LOADCMD_H

#include "common/load.h"

/*
 * The settings as a command reads them (`kashim --check`, before COMMAND,
 * and kashim-bpf): kashim_settings_load() with getenv(), the config
 * reader the command links (kashim_conf_load()) and the real user,
 * matching no program. Returns 0, or -1 with the messages in res and s
 * freed. Only the command and kashim-bpf link it: the library reads its
 * file through a loader of its own and must not link kashim_conf_load().
 */
int kashim_settings_load_cmd(const char *file, struct kashim_settings *s,
			     struct kashim_load_result *res);

#endif
