/*
 * keys.c - print the settings table, so the docs checks read the keys
 * from the code itself: one line per key, tab-separated: config name,
 * environment variable, kashim option, default ("-" where there is none).
 * A last line gives the variable that names the config file.
 */
#include <stdio.h>

#include "common/settings.h"

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

int main(void)
{
	for (size_t k = 0; k < KASHIM_NKEYS; k++)
		printf("%s\t%s\t%s\t%s\n", kashim_keys[k].name,
		       or_dash(kashim_keys[k].env),
		       or_dash(kashim_keys[k].option),
		       or_dash(kashim_keys[k].def));
	printf("-\t%s\t--config\t%s\n", KASHIM_ENV_CONFIG, KASHIM_SYSTEM_CONFIG);
	return 0;
}
