/*
 * print.h - the settings written back as a config file would hold them
 * (print.c, beside the reader). Not in the library: `kashim --check`, the
 * fuzzers and the reader's round trips include it.
 */
#ifndef KASHIM_CONF_PRINT_H
#define KASHIM_CONF_PRINT_H

#include <stdio.h>

#include "common/settings.h"

/* Write s to f as a config file would hold it (`kashim --check`). */
void kashim_settings_print(const struct kashim_settings *s, FILE *f);

#endif
