/*
 * log.h - kashim's messages: silent by default, never on stdout.
 */
#ifndef KASHIM_LOG_H
#define KASHIM_LOG_H

#include "common/settings.h"
#include "export.h"

/* The level in force; KASHIM_LOG_ERROR until the settings are read. */
KASHIM_HIDDEN extern int kashim_log_in_force;

/* Take level and target from s (the target is only used from now on). */
void kashim_log_setup(const struct kashim_settings *s);

/*
 * Write one line "kashim[PID]: message" at level to the target, if the
 * level is enabled. Keeps errno.
 */
void kashim_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define kashim_error(...) kashim_log(KASHIM_LOG_ERROR, __VA_ARGS__)
#define kashim_warn(...) kashim_log(KASHIM_LOG_WARN, __VA_ARGS__)
#define kashim_info(...) kashim_log(KASHIM_LOG_INFO, __VA_ARGS__)
#define kashim_debug(...) kashim_log(KASHIM_LOG_DEBUG, __VA_ARGS__)

/* Is level enabled? Cheap: for skipping work that only feeds a message. */
static inline int kashim_log_enabled(int level)
{
	return level <= kashim_log_in_force;
}

#endif
