/*
 * load.h - the one way settings are read: built-in defaults, then the
 * config file, then the environment, then finish. The library, the
 * `kashim` command (`--check`, and before it runs COMMAND) and the tests
 * call the same function, each passing what it may read with.
 */
#ifndef KASHIM_LOAD_H
#define KASHIM_LOAD_H

#include <stdbool.h>
#include <sys/types.h>

#include "settings.h"

/* What a config file reader (the config module's kashim_conf_load(),
 * src/conf/conf.h) returns. */
#define KASHIM_CONF_OK 0
#define KASHIM_CONF_MISSING 1 /* no such file: not an error */
#define KASHIM_CONF_ERROR (-1)

/* A config file reader: the file at path into s, for the real user ruid;
 * a message in err when it returns KASHIM_CONF_ERROR. */
typedef int kashim_conf_load_fn(const char *path, uid_t ruid,
				struct kashim_settings *s, char *err,
				size_t errlen);

/* What a process reads its settings with. */
struct kashim_sources {
	/* getenv(), or one that finds nothing (secure execution). */
	char *(*getenv)(const char *name);
	/* kashim_conf_load(), or a loader that maps it on demand. */
	kashim_conf_load_fn *load_file;
	uid_t ruid;      /* the real user, for the file's owner check */
	const char *exe; /* the executable's base name; NULL matches none */
	/*
	 * The library came in through /etc/ld.so.preload, not LD_PRELOAD:
	 * log_target defaults to syslog, not to other people's stderr.
	 */
	bool system_wide;
};

/* What a load found, for the caller to report. */
struct kashim_load_result {
	const char *path; /* the config file that counted; NULL: none */
	bool named;       /* named by the caller or KASHIM_CONFIG: must exist */
	int file_rc;      /* KASHIM_CONF_OK, _MISSING or _ERROR */
	char file_err[512]; /* "FILE:LINE: message", or empty */
	char env_err[512];  /* "VARIABLE=value: message", or empty */
};

/*
 * Which config file counts: $KASHIM_CONFIG read with get (empty: none,
 * NULL returned), else the system file.
 */
const char *kashim_config_path(char *(*get)(const char *name));

/*
 * Fill s from src: defaults, the file (file, or kashim_config_path()
 * when file is NULL), the environment, then finish. Only the system file
 * may be missing: a file named by the caller or by KASHIM_CONFIG that
 * does not exist is an error like any other. A bad file does not
 * stop the environment from being read, so both are reported. Returns
 * 0, or -1 when the file or a variable was rejected (messages in res; s
 * holds the defaults and whatever was valid, and must still be freed).
 */
int kashim_settings_load(struct kashim_settings *s,
			 const struct kashim_sources *src, const char *file,
			 struct kashim_load_result *res);

#endif
