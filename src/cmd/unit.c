/*
 * unit.c - `kashim --enable-unit NAME` and `--disable-unit NAME`: the
 * library preloaded into one systemd service through the drop-in
 * /etc/systemd/system/NAME.d/kashim.conf.
 *
 * The drop-in sets Environment=LD_PRELOAD= to this installation's
 * library (found as `kashim COMMAND` finds it), followed by what the
 * unit's own files already put in LD_PRELOAD. The unit's files are read
 * directly (the unit file, then its drop-ins, as systemd orders them),
 * so this works whether systemd runs or not. A unit whose ExecStart
 * program LD_PRELOAD cannot reach (static, Go) is refused: kashim-bpf
 * enable --unit covers it instead.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "common/systemd.h"

#define DROPIN "kashim.conf"
#define LINE_MAX_LEN 8192

/* Where systemd looks for a system unit and its drop-ins, first wins. */
static const char *const unit_paths[] = {
	"/etc/systemd/system",		 "/run/systemd/system",
	"/usr/local/lib/systemd/system", "/lib/systemd/system",
	"/usr/lib/systemd/system",
};
#define NPATHS (sizeof(unit_paths) / sizeof(unit_paths[0]))

/* What the unit's files say, as far as kashim cares. */
struct unit_info {
	bool found;
	char exec[PATH_MAX];	    /* ExecStart's program */
	char preload[LINE_MAX_LEN]; /* LD_PRELOAD from Environment= */
};

/* The next word of *p (double quotes and backslashes honoured). */
static bool next_word(const char **p, char *out, size_t len)
{
	const char *s = *p + strspn(*p, " \t");
	bool quoted = false;
	size_t n = 0;

	if (!*s)
		return false;
	for (; *s && (quoted || (*s != ' ' && *s != '\t')); s++) {
		if (*s == '"') {
			quoted = !quoted;
			continue;
		}
		if (*s == '\\' && s[1])
			s++;
		if (n + 1 < len)
			out[n++] = *s;
	}
	out[n] = '\0';
	*p = s;
	return true;
}

/* One Environment= value: an empty one resets, LD_PRELOAD= is kept. */
static void take_env(const char *val, struct unit_info *u)
{
	char w[LINE_MAX_LEN];

	if (!*val)
		u->preload[0] = '\0';
	while (next_word(&val, w, sizeof(w)))
		if (!strncmp(w, "LD_PRELOAD=", 11))
			snprintf(u->preload, sizeof(u->preload), "%s", w + 11);
}

/* One ExecStart= value: its program, without systemd's prefixes. */
static void take_exec(const char *val, struct unit_info *u)
{
	char w[PATH_MAX];

	if (!next_word(&val, w, sizeof(w))) {
		u->exec[0] = '\0'; /* an empty one resets */
		return;
	}
	snprintf(u->exec, sizeof(u->exec), "%s", w + strspn(w, "@-:+!|"));
}

/* Read the [Service] lines of one unit file or drop-in into u. */
static void read_unit_file(const char *path, struct unit_info *u)
{
	char line[LINE_MAX_LEN];
	bool service = false;
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f)) {
		char *v = line + strspn(line, " \t");

		v[strcspn(v, "\r\n")] = '\0';
		if (*v == '[')
			service = !strcmp(v, "[Service]");
		else if (service && !strncmp(v, "Environment=", 12))
			take_env(v + 12, u);
		else if (service && !strncmp(v, "ExecStart=", 10))
			take_exec(v + 10, u);
	}
	if (f)
		fclose(f);
}

/* Keep *.conf but kashim's own drop-in. */
static int other_conf(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 5 && !strcmp(e->d_name + n - 5, ".conf") &&
	       strcmp(e->d_name, DROPIN) != 0;
}

/* The drop-ins of unit in every unit path, by file name, into u. */
static void read_dropins(const char *unit, struct unit_info *u)
{
	char dir[PATH_MAX], path[PATH_MAX * 2];

	for (size_t i = NPATHS; i-- > 0;) { /* /etc read last: it wins */
		struct dirent **list;
		int n;

		snprintf(dir, sizeof(dir), "%s/%s.d", unit_paths[i], unit);
		n = scandir(dir, &list, other_conf, alphasort);
		for (int j = 0; j < n; j++) {
			snprintf(path, sizeof(path), "%s/%s", dir,
				 list[j]->d_name);
			read_unit_file(path, u);
			free(list[j]);
		}
		if (n >= 0)
			free(list);
	}
}

/* What the files of unit say about its program and LD_PRELOAD. */
static void read_unit(const char *unit, struct unit_info *u)
{
	char path[PATH_MAX];

	memset(u, 0, sizeof(*u));
	for (size_t i = 0; i < NPATHS && !u->found; i++) {
		snprintf(path, sizeof(path), "%s/%s", unit_paths[i], unit);
		if (access(path, R_OK) == 0) {
			u->found = true;
			read_unit_file(path, u);
		}
	}
	if (u->found)
		read_dropins(unit, u);
}

/* unit, NAME.service when no suffix is given. Returns 0 or -1. */
static int unit_name(const char *arg, char *unit, size_t len)
{
	const char *dot = strrchr(arg, '.');
	int n = snprintf(unit, len, "%s%s", arg, dot ? "" : ".service");

	if (!kashim_unit_name_ok(arg) || n < 0 || (size_t)n >= len ||
	    !kashim_unit_name_ok(unit)) {
		fprintf(stderr, "kashim: %s: not a systemd unit name\n", arg);
		return -1;
	}
	if (dot && strcmp(dot, ".service") != 0) {
		fprintf(stderr,
			"kashim: %s: the library goes into services only "
			"(NAME.service); kashim-bpf enable --unit covers a "
			"slice\n",
			arg);
		return -1;
	}
	return 0;
}

/*
 * LD_PRELOAD for the drop-in: lib, then the unit's own entries but any
 * libkashim.so (an earlier enable's, or another installation's).
 */
static void preload_value(const char *lib, const char *own, char *out,
			  size_t len)
{
	char copy[LINE_MAX_LEN], *save = NULL;
	size_t n = (size_t)snprintf(out, len, "%s", lib);

	snprintf(copy, sizeof(copy), "%s", own);
	for (char *t = strtok_r(copy, " :", &save); t && n < len;
	     t = strtok_r(NULL, " :", &save)) {
		const char *base = strrchr(t, '/');

		if (!strcmp(base ? base + 1 : t, KASHIM_LIBRARY))
			continue;
		n += (size_t)snprintf(out + n, len - n, ":%s", t);
	}
}

/* --enable-unit: refusals first, then the drop-in. Returns the status. */
static int enable_unit(const char *unit, const char *path)
{
	char lib[PATH_MAX], pre[LINE_MAX_LEN], text[LINE_MAX_LEN + 1024];
	char err[PATH_MAX + 128];
	struct unit_info u;

	read_unit(unit, &u);
	if (!u.found) {
		fprintf(stderr,
			"kashim: %s: no such unit file in %s or "
			"/lib/systemd/system\n",
			unit, KASHIM_UNIT_DIR);
		return 1;
	}
	if (!u.exec[0]) {
		fprintf(stderr, "kashim: %s has no ExecStart= program\n", unit);
		return 1;
	}
	if (kashim_cmd_warn_reach(u.exec)) {
		fprintf(stderr,
			"kashim: %s: not enabled: LD_PRELOAD cannot "
			"reach its program; kashim-bpf enable --unit "
			"%s covers it instead\n",
			unit, unit);
		return 1;
	}
	if (kashim_cmd_find_library(lib) < 0)
		return KASHIM_EXIT_FAILED;
	preload_value(lib, u.preload, pre, sizeof(pre));
	snprintf(text, sizeof(text),
		 "# Written by `kashim --enable-unit %s`; `kashim "
		 "--disable-unit %s` removes it.\n"
		 "[Service]\nEnvironment=\"LD_PRELOAD=%s\"\n",
		 unit, unit, pre);
	if (kashim_dropin_write(unit, DROPIN, text, err, sizeof(err)) < 0) {
		fprintf(stderr, "kashim: %s\n", err);
		return 1;
	}
	kashim_systemd_reload("kashim");
	printf("kashim: %s preloads %s from its next start (%s)\n", unit, lib,
	       path);
	return 0;
}

int kashim_cmd_unit(const char *arg, bool enable)
{
	char unit[256], path[PATH_MAX];

	if (unit_name(arg, unit, sizeof(unit)) < 0)
		return KASHIM_EXIT_USAGE;
	kashim_dropin_path(unit, DROPIN, path, sizeof(path));
	if (enable)
		return enable_unit(unit, path);
	if (kashim_dropin_remove(unit, DROPIN) < 0) {
		fprintf(stderr, "kashim: %s: not enabled (%s: %s)\n", unit,
			path, strerror(errno));
		return 1;
	}
	kashim_systemd_reload("kashim");
	printf("kashim: %s no longer preloads the library from its next "
	       "start\n",
	       unit);
	return 0;
}
