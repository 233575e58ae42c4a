/*
 * answer.h - the answer of `kashim --status` and `--apply`: the
 * processes asked about, their TCP sockets with the options the kernel
 * holds (and what --apply did), and the processes that could not be
 * read. status.h fills it, report.h and apply.c print it.
 */
#ifndef KASHIM_ANSWER_H
#define KASHIM_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cmd.h"

/* One end of a connection; known is false for a listener's peer. */
struct endpoint {
	bool known;
	uint8_t addr[16]; /* IPv4 in the first 4 bytes */
	uint16_t port;
};

/* The five options of a socket; one that cannot be read is -1. */
struct optvals {
	int keepalive, idle, interval, count, user_timeout;
};

/* What `kashim --apply` did to a socket, and why (applysock.c). */
struct applied {
	unsigned char result;    /* enum kashim_apply_result */
	unsigned char direction; /* KASHIM_DIR_*, 0 for none */
	const char *rule;        /* the rule's name, or NULL */
	const char *why;         /* why it was left alone, or what failed */
	int err;                 /* the errno of a failed option */
	struct optvals v;        /* after */
};

/* One TCP socket of a process; an option that cannot be read is -1. */
struct conn {
	int fd;
	bool v6;
	unsigned char state; /* TCP_ESTABLISHED, TCP_LISTEN, … */
	struct endpoint local, peer;
	struct optvals v;  /* as the kernel holds them (before --apply) */
	struct applied ap; /* --apply only */
};

/*
 * A process asked about. While a worker scans, its sockets are
 * conns[first .. first + n) of the worker's part; once the parts are put
 * together, conn points at them there (they are not copied).
 */
struct proc {
	pid_t pid;
	char name[16]; /* /proc/PID/comm */
	size_t first, n;
	const struct conn *conn;
};

/* A process that could not be read, and why (an errno value). */
struct refusal {
	pid_t pid;
	char name[16];
	int err;
};

/* Scans at once at most: one thread per CPU, up to this many. */
#define KASHIM_MAX_WORKERS 4

/*
 * The whole answer, in the order it is printed: each proc's sockets are
 * at its conn, nconns of them in all. A worker's part holds its sockets
 * in conns; the answer keeps the parts' arrays in parts, to free them.
 */
struct status {
	const struct kashim_status_opts *opts;
	struct proc *procs;
	size_t nprocs, procs_cap;
	struct conn *conns;
	size_t nconns, conns_cap;
	struct refusal *refused;
	size_t nrefused, refused_cap;
	struct conn *parts[KASHIM_MAX_WORKERS];
};

/* What the closing summary counts. */
struct status_sum {
	size_t processes, connections, keepalive, without, cut, listening;
};

#endif
