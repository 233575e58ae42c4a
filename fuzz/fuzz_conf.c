/*
 * fuzz_conf.c - libFuzzer harness for the config file parser with rules.
 *
 * Each input becomes the whole content of a private temporary file
 * (mode 0600, so the owner check passes) that kashim_conf_load() reads
 * as it would kashim.conf. An accepted file is finished, matched and
 * printed, and what is printed (`kashim --check`) must read back and
 * print the same again, or the harness aborts; every path ends in
 * kashim_settings_free(), and ASan and LeakSanitizer watch libconfuse
 * and kashim alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "exercise.h"

static char path[] = "/tmp/kashim-fuzz-conf.XXXXXX";
static int fd = -1;
static char back_path[] = "/tmp/kashim-fuzz-conf-back.XXXXXX";
static int back_fd = -1;

/* Remove the temporary file when the fuzzer exits. */
static void cleanup(void)
{
	if (fd >= 0)
		unlink(path);
	if (back_fd >= 0)
		unlink(back_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = mkstemp(path);
	back_fd = mkstemp(back_path);
	if (fd < 0 || back_fd < 0) {
		perror("fuzz_conf: mkstemp");
		exit(1);
	}
	atexit(cleanup);
	return 0;
}

/* Replace the content of the file open as f with data. Returns 0 or -1. */
static int put(int f, const void *data, size_t size)
{
	if (ftruncate(f, 0) < 0)
		return -1;
	return pwrite(f, data, size, 0) == (ssize_t)size ? 0 : -1;
}

/* s as `kashim --check` prints it, in a new string. */
static char *printed(const struct kashim_settings *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		abort();
	kashim_settings_print(s, f);
	fclose(f);
	return text;
}

/* Abort unless the printed settings s read back and print the same. */
static void reads_back(const struct kashim_settings *s)
{
	struct kashim_settings back;
	char err[512] = "", *text = printed(s), *again;

	kashim_settings_defaults(&back);
	if (put(back_fd, text, strlen(text)) < 0 ||
	    kashim_conf_load(back_path, getuid(), &back, err, sizeof(err)) !=
		    KASHIM_CONF_OK) {
		fprintf(stderr, "fuzz_conf: printed settings do not read back: %s\n%s",
			err, text);
		abort();
	}
	kashim_settings_finish(&back, "mosquitto");
	again = printed(&back);
	if (strcmp(text, again) != 0) {
		fprintf(stderr, "fuzz_conf: printed\n%s\nread back as\n%s", text,
			again);
		abort();
	}
	free(again);
	free(text);
	kashim_settings_free(&back);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct kashim_settings s;
	char err[512];

	if (put(fd, data, size) < 0)
		return 0;
	kashim_settings_defaults(&s);
	if (kashim_conf_load(path, getuid(), &s, err, sizeof(err)) ==
	    KASHIM_CONF_OK) {
		kashim_settings_finish(&s, "mosquitto");
		exercise(&s);
		reads_back(&s);
	}
	kashim_settings_free(&s);
	return 0;
}
