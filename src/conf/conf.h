/*
 * conf.h - the config file reader (libconfuse), kept out of the host's
 * namespace: the library dlopen()s it as kashim-conf.so with RTLD_LOCAL on
 * the first TCP connection (through load.h's kashim_conf_load_fn, so the
 * shared code names none of this); the `kashim` command and kashim-bpf
 * link it directly.
 */
#ifndef KASHIM_CONF_H
#define KASHIM_CONF_H

#include <stddef.h>
#include <sys/types.h>

#include "common/load.h"

/*
 * Read the config file at path into s, which holds the built-in defaults:
 * top-level keys and `rule NAME { … }` sections. The file is refused when
 * it is writable by group or others or owned by neither root nor ruid.
 * Returns KASHIM_CONF_OK, KASHIM_CONF_MISSING (s unchanged), or
 * KASHIM_CONF_ERROR with "FILE:LINE: message" (or "FILE: message") in err
 * and s back at the defaults.
 */
int kashim_conf_load(const char *path, uid_t ruid, struct kashim_settings *s,
		     char *err, size_t errlen);

/*
 * Check that the file open as fd (named path) may be trusted: owned by
 * root or ruid, writable by nobody else. Returns 0, or -1 with the reason.
 */
int kashim_conf_check_owner(int fd, const char *path, uid_t ruid, char *err,
			    size_t errlen);

/*
 * Edit distance of a and b: insertions, deletions, substitutions and
 * swaps of neighbours, each 1; 99 when either is over 31 characters.
 * Both the command's options and the file's keys offer the name at most
 * KASHIM_NEAR_EDITS away as "did you mean".
 */
int kashim_name_distance(const char *a, const char *b);
#define KASHIM_NEAR_EDITS 2

#endif
