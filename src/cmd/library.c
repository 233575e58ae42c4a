/*
 * library.c - where the `kashim` command finds libkashim.so, for
 * running COMMAND (main.c) and for /etc/ld.so.preload (system.c).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

/* Where the library is, relative to the command's directory (make). */
#ifndef KASHIM_BIN_TO_LIB
#define KASHIM_BIN_TO_LIB "../lib"
#endif
/* Where `make install` puts the library, the last place looked at. */
#ifndef KASHIM_LIBDIR
#define KASHIM_LIBDIR "/usr/local/lib"
#endif

/*
 * Find libkashim.so: beside the command (build tree), then through the
 * relative path from bindir to libdir (an installed tree, wherever it
 * was copied), then in libdir. Returns 0 with its real path in lib.
 */
int kashim_cmd_find_library(char *lib)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		char cand[PATH_MAX + 64], *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		*slash = '\0';
		snprintf(cand, sizeof(cand), "%s/%s", self, KASHIM_LIBRARY);
		if (access(cand, R_OK) == 0 && realpath(cand, lib))
			return 0;
		snprintf(cand, sizeof(cand), "%s/%s/%s", self,
			 KASHIM_BIN_TO_LIB, KASHIM_LIBRARY);
		if (access(cand, R_OK) == 0 && realpath(cand, lib))
			return 0;
	}
	if (access(KASHIM_LIBDIR "/" KASHIM_LIBRARY, R_OK) == 0 &&
	    realpath(KASHIM_LIBDIR "/" KASHIM_LIBRARY, lib))
		return 0;
	fprintf(stderr,
		"kashim: cannot find %s beside the command, in %s/%s "
		"or in %s\n",
		KASHIM_LIBRARY, n > 0 ? self : "(unknown)", KASHIM_BIN_TO_LIB,
		KASHIM_LIBDIR);
	return -1;
}
