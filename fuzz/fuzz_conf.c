/*
 * fuzz_conf.c - libFuzzer harness for the config file parser with rules.
 *
 * Each input becomes the whole content of a private temporary file
 * (mode 0600, so the owner check passes) that kashim_conf_load() reads
 * as it would kashim.conf. An accepted file is finished, matched and
 * printed; every path ends in kashim_settings_free(), and ASan and
 * LeakSanitizer watch libconfuse and kashim alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/conf.h"
#include "exercise.h"

static char path[] = "/tmp/kashim-fuzz-conf.XXXXXX";
static int fd = -1;

/* Remove the temporary file when the fuzzer exits. */
static void cleanup(void)
{
	if (fd >= 0)
		unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = mkstemp(path);
	if (fd < 0) {
		perror("fuzz_conf: mkstemp");
		exit(1);
	}
	atexit(cleanup);
	return 0;
}

/* Replace the file's content with data. Returns 0 or -1. */
static int put(const unsigned char *data, size_t size)
{
	if (ftruncate(fd, 0) < 0)
		return -1;
	return pwrite(fd, data, size, 0) == (ssize_t)size ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct kashim_settings s;
	char err[512];

	if (put(data, size) < 0)
		return 0;
	kashim_settings_defaults(&s);
	if (kashim_conf_load(path, getuid(), &s, err, sizeof(err)) ==
	    KASHIM_CONF_OK) {
		kashim_settings_finish(&s, "mosquitto");
		exercise(&s);
	}
	kashim_settings_free(&s);
	return 0;
}
