/*
 * cmd.h - the parts of the `kashim` command, shared between its files.
 *
 * main.c parses the options and runs COMMAND; check.c is `--check`,
 * status.c is `--status` (with scan.c, parallel.c, tcptab.c and
 * report.c, see status.h), elf.c warns about programs LD_PRELOAD cannot
 * reach and tells which C library a program runs with, system.c is
 * `--enable-system`, `--disable-system` and `--status-system`, and
 * library.c finds libkashim.so for main.c and system.c. Nothing here is
 * part of the library.
 */
#ifndef KASHIM_CMD_H
#define KASHIM_CMD_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/load.h"
#include "common/settings.h"

/* Exit statuses of the command besides COMMAND's own (env(1) habits). */
#define KASHIM_EXIT_USAGE 2     /* bad option or value */
#define KASHIM_EXIT_CUT 3       /* --status --path-limit: some would be cut */
#define KASHIM_EXIT_FAILED 125  /* kashim itself failed (no library) */
#define KASHIM_EXIT_CANNOT 126  /* COMMAND found but cannot be run */
#define KASHIM_EXIT_NOTFOUND 127 /* COMMAND not found */

/*
 * Fill s as the library would (kashim_settings_load() with getenv and
 * kashim_conf_load()), from file or, when it is NULL, the file the
 * library would read. Returns 0, or -1 with the messages in res and s
 * freed.
 */
int kashim_cmd_load(const char *file, struct kashim_settings *s,
		    struct kashim_load_result *res);

/* The message to show for a failed kashim_cmd_load(): the file's first. */
const char *kashim_cmd_load_error(const struct kashim_load_result *res);

/*
 * `kashim --check [FILE]`: load FILE (NULL: $KASHIM_CONFIG, else the
 * system file) with the library's own code, apply the environment and
 * print the effective settings on stdout. Returns the exit status: 0,
 * or 1 after printing "FILE:LINE: message" on stderr.
 */
int kashim_cmd_check(const char *file);

/* How `kashim --status` prints its answer. */
enum kashim_status_format {
	KASHIM_STATUS_TABLE,      /* aligned on a terminal, tabs otherwise */
	KASHIM_STATUS_JSON,       /* one document */
	KASHIM_STATUS_PROMETHEUS, /* the text exposition format */
};

/* What `kashim --status` was asked. */
struct kashim_status_opts {
	char **targets; /* PIDs and process names */
	int ntargets;
	bool all;       /* every process the caller may inspect */
	enum kashim_status_format format;
	bool aligned;   /* the table for a terminal */
	int limit;      /* --path-limit in seconds; 0: none */
	const char *limit_name; /* the preset it came from, or NULL */
	bool apply;     /* --apply: set the options, not only show them */
	bool dry_run;   /* --apply --dry-run: say what would be set */
	struct kashim_apply *settings; /* --apply: the settings (apply.c) */
};

/*
 * Warn on stderr about what makes the existing config file at path
 * unsafe or useless system-wide: not readable by other users, or in a
 * directory others may write into. Returns 1 when it is not readable by
 * other users, else 0.
 */
int kashim_cmd_warn_file(const char *path);

/* Warn when the log_target file of s is one other users cannot open. */
void kashim_cmd_warn_log_target(const struct kashim_settings *s);

/*
 * --path-limit TEXT: seconds (1-32767) or the name of a preset with a
 * limit. Returns 0 with o->limit and o->limit_name set, or -1 after a
 * message on stderr.
 */
int kashim_cmd_path_limit(const char *text, struct kashim_status_opts *o);

/*
 * `kashim --status`: every TCP socket of the processes asked for, as
 * the kernel holds it, and a closing summary. Returns the exit status:
 * 0; 1 when a PID or name asked for is not there or could not be read;
 * KASHIM_EXIT_CUT when --path-limit flags a connection.
 */
int kashim_cmd_status(const struct kashim_status_opts *o);

/*
 * `kashim --apply`: the settings, read as a program under kashim reads
 * them (the options are already in the environment), put on every TCP
 * socket of the processes asked for, through the scan of --status.
 * Returns the exit status: 0, or 1 on an error, a refusal or a PID or
 * name that is not there; KASHIM_EXIT_USAGE for bad settings.
 */
int kashim_cmd_apply(struct kashim_status_opts *o);

/*
 * library.c: find libkashim.so: beside the command (build tree), then through the
 * relative path from bindir to libdir, then in libdir. Returns 0 with
 * its real path in lib (PATH_MAX bytes), or -1 after a message.
 */
int kashim_cmd_find_library(char *lib);

/*
 * `kashim --enable-system` (how > 0; force: in place of another copy of
 * kashim), `--disable-system` (how < 0) or `--status-system` (how 0) on
 * /etc/ld.so.preload. Returns the exit status: 0 done (or enabled, for
 * status), 1 refused or failed (for status: enabled but a missing file
 * named, a file or config programs cannot take), 3 not enabled (status
 * only).
 */
int kashim_cmd_system(int how, bool force);

/*
 * Before COMMAND is run: print one warning line on stderr when the file
 * that runs for cmd (found in PATH like execvp(), through `#!`) is out
 * of reach of LD_PRELOAD: statically linked, a Go program, or setuid /
 * setgid / file capabilities. Never fails. Returns true when it cannot
 * reach the program at all (static, Go).
 */
bool kashim_cmd_warn_reach(const char *cmd);

/*
 * `kashim --enable-unit NAME` (enable) or `--disable-unit NAME`: the
 * drop-in /etc/systemd/system/NAME.d/kashim.conf that preloads this
 * installation's library, keeping the unit's own LD_PRELOAD. Returns
 * the exit status.
 */
int kashim_cmd_unit(const char *unit, bool enable);

/* The C library a program runs with, as the loader it names says. */
enum kashim_libc {
	KASHIM_LIBC_UNKNOWN, /* static, unreadable, or a loader not known */
	KASHIM_LIBC_GLIBC,
	KASHIM_LIBC_MUSL,
	KASHIM_LIBC_MIXED, /* a script whose env(1) and program differ */
};

/*
 * Which C library runs the file cmd names (found in PATH like execvp(),
 * through `#!` lines): read from the PT_INTERP of the program, whose
 * loader's path goes into interp (empty when there is none). For
 * `#!/usr/bin/env NAME` both env and NAME count.
 */
enum kashim_libc kashim_cmd_libc(const char *cmd, char *interp, size_t len);

#endif
