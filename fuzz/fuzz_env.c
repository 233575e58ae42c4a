/*
 * fuzz_env.c - libFuzzer harness for the environment-value parsers.
 *
 * The input is cut at newlines into one value per key of kashim_keys[],
 * in table order (KASHIM_ENABLE, KASHIM_IDLE, ... KASHIM_LOG_TARGET); a
 * missing line leaves that variable unset. The values go through
 * kashim_settings_from_env() with a fake getenv, then each one again
 * through kashim_set() into a rule; the result is finished, matched
 * against a few peers and printed, and everything is freed (ASan checks
 * every byte, LeakSanitizer every allocation).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/settings.h"
#include "exercise.h"

/* The values of the current input, by key; NULL when absent. */
static char *values[KASHIM_NKEYS];

/* A getenv over values[], by environment variable name. */
static char *fake_getenv(const char *name)
{
	for (size_t k = 0; k < KASHIM_NKEYS; k++)
		if (kashim_keys[k].env && strcmp(kashim_keys[k].env, name) == 0)
			return values[k];
	return NULL;
}

/* Cut a NUL-terminated copy of the input into values[]. */
static void split(char *text)
{
	for (size_t k = 0; k < KASHIM_NKEYS; k++) {
		char *nl = text ? strchr(text, '\n') : NULL;

		values[k] = text;
		if (nl)
			*nl = '\0';
		text = nl ? nl + 1 : NULL;
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct kashim_settings s;
	char err[512];
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	split(text);
	kashim_settings_defaults(&s);
	kashim_settings_from_env(&s, fake_getenv, err, sizeof(err));
	s.rules = calloc(1, sizeof(*s.rules));
	if (s.rules) {
		s.nrules = 1;
		strcpy(s.rules[0].name, "fuzz");
		s.rules[0].m.direction = KASHIM_DIR_BOTH;
		for (size_t k = 0; k < KASHIM_NKEYS; k++)
			if (values[k])
				kashim_set(&s, &s.rules[0], (enum kashim_key)k,
					   values[k], err, sizeof(err));
	}
	kashim_settings_finish(&s, "mosquitto_sub");
	exercise(&s);
	kashim_settings_free(&s);
	free(text);
	return 0;
}
