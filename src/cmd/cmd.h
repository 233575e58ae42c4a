/*
 * cmd.h - the parts of the `kashim` command, shared between its files.
 *
 * main.c parses the options and runs COMMAND; check.c is `--check`,
 * status.c is `--status`, elf.c warns about programs LD_PRELOAD cannot
 * reach and tells which C library a program runs with, system.c is
 * `--enable-system`, `--disable-system` and `--status-system`. Nothing
 * here is part of the library.
 */
#ifndef KASHIM_CMD_H
#define KASHIM_CMD_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/load.h"
#include "common/settings.h"

/* Exit statuses of the command besides COMMAND's own (env(1) habits). */
#define KASHIM_EXIT_USAGE 2     /* bad option or value */
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
 * `kashim --status PID`: print one row (or JSON object) per TCP socket
 * of process pid, as the kernel holds it. Returns the exit status: 0,
 * or 1 after saying on stderr why the sockets cannot be read.
 */
int kashim_cmd_status(pid_t pid, bool json);

/*
 * Find libkashim.so: beside the command (build tree), then through the
 * relative path from bindir to libdir, then in libdir. Returns 0 with
 * its real path in lib (PATH_MAX bytes), or -1 after a message.
 */
int kashim_cmd_find_library(char *lib);

/*
 * `kashim --enable-system` (how > 0), `--disable-system` (how < 0) or
 * `--status-system` (how 0) on /etc/ld.so.preload. Returns the exit
 * status: 0 done (or enabled, for status), 1 refused or failed (a
 * missing file named, for status), 3 not enabled (status only).
 */
int kashim_cmd_system(int how);

/*
 * Before COMMAND is run: print one warning line on stderr when the file
 * that runs for cmd (found in PATH like execvp(), through `#!`) is out
 * of reach of LD_PRELOAD: statically linked, a Go program, or setuid /
 * setgid / file capabilities. Never fails.
 */
void kashim_cmd_warn_reach(const char *cmd);

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
