/*
 * defaults.h - every name and default kashim knows, in one place.
 *
 * The environment variables, the config file location and the built-in
 * values live here so that the library, the config module and the
 * `kashim` command agree on them without copies.
 */
#ifndef KASHIM_DEFAULTS_H
#define KASHIM_DEFAULTS_H

#ifndef KASHIM_SYSCONFDIR
#define KASHIM_SYSCONFDIR "/usr/local/etc"
#endif
#ifndef KASHIM_VERSION
#define KASHIM_VERSION "0.1.0"
#endif

/* The system config file, fixed at build time with `make sysconfdir=…`. */
#define KASHIM_SYSTEM_CONFIG KASHIM_SYSCONFDIR "/kashim.conf"

/* The config module, looked for beside libkashim.so, then in kashim/. */
#define KASHIM_CONF_MODULE "kashim-conf.so"
#define KASHIM_CONF_SUBDIR "kashim"
#define KASHIM_CONF_LOAD_SYMBOL "kashim_conf_load"

/* The preloaded library's file name, for the `kashim` command. */
#define KASHIM_LIBRARY "libkashim.so"

/* What ld.so preloads into every program (`kashim --enable-system`). */
#define KASHIM_PRELOAD_FILE "/etc/ld.so.preload"

/* Environment variables. */
#define KASHIM_ENV_ENABLE "KASHIM_ENABLE"
#define KASHIM_ENV_PRESET "KASHIM_PRESET"
#define KASHIM_ENV_IDLE "KASHIM_IDLE"
#define KASHIM_ENV_INTERVAL "KASHIM_INTERVAL"
#define KASHIM_ENV_COUNT "KASHIM_COUNT"
#define KASHIM_ENV_USER_TIMEOUT "KASHIM_USER_TIMEOUT"
#define KASHIM_ENV_OVERRIDE "KASHIM_OVERRIDE"
#define KASHIM_ENV_PORTS "KASHIM_PORTS"
#define KASHIM_ENV_HOSTS "KASHIM_HOSTS"
#define KASHIM_ENV_PROGRAMS "KASHIM_PROGRAMS"
#define KASHIM_ENV_DIRECTION "KASHIM_DIRECTION"
#define KASHIM_ENV_LOG "KASHIM_LOG"
#define KASHIM_ENV_LOG_TARGET "KASHIM_LOG_TARGET"
#define KASHIM_ENV_LISTENER "KASHIM_LISTENER"
#define KASHIM_ENV_CONFIG "KASHIM_CONFIG"

/* Built-in defaults, as text: they go through the same parsers as input. */
#define KASHIM_DEF_ENABLE "true"
#define KASHIM_DEF_PRESET "none"
#define KASHIM_DEF_IDLE "60"
#define KASHIM_DEF_INTERVAL "15"
#define KASHIM_DEF_COUNT "4"
#define KASHIM_DEF_USER_TIMEOUT "0"
#define KASHIM_DEF_OVERRIDE "false"
#define KASHIM_DEF_PORTS ""
#define KASHIM_DEF_HOSTS ""
#define KASHIM_DEF_PROGRAMS ""
#define KASHIM_DEF_DIRECTION "both"
#define KASHIM_DEF_LOG "error"
#define KASHIM_DEF_LOG_TARGET "stderr"
#define KASHIM_DEF_LISTENER "true"

/* Ranges. */
#define KASHIM_IDLE_MAX 32767
#define KASHIM_INTERVAL_MAX 32767
#define KASHIM_COUNT_MAX 127
#define KASHIM_USER_TIMEOUT_MAX 2147483647
#define KASHIM_NAME_MAX 64

#endif
