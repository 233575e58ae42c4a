/*
 * init.h - the settings, read once on first need (the first TCP connect
 * or accept), read-only afterwards.
 */
#ifndef KASHIM_INIT_H
#define KASHIM_INIT_H

#include <stdbool.h>

#include "common/settings.h"
#include "export.h"

KASHIM_HIDDEN extern struct kashim_settings kashim_cfg;

/*
 * Read the settings if nobody has yet (thread-safe, fork-safe, callable
 * before constructors). Returns true when kashim may touch sockets: the
 * settings are valid and enabled.
 */
bool kashim_ready(void);

/* Why kashim_ready() is false: an earlier error, or enable = false. */
const char *kashim_inactive_why(void);

#endif
