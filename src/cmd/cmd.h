/*
 * cmd.h - the parts of the `kashim` command, shared between its files.
 *
 * main.c parses the options and runs COMMAND; check.c is `--check`,
 * status.c is `--status`, elf.c warns about programs LD_PRELOAD cannot
 * reach and tells which C library a program runs with. Nothing here is
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
 * `kashim --status PID`: print one row (or JSON object) per TCP socket
 * of process pid, as the kernel holds it. Returns the exit status: 0,
 * or 1 after saying on stderr why the sockets cannot be read.
 */
int kashim_cmd_status(pid_t pid, bool json);

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
