/*
 * status.h - how `kashim --status` and `--apply` find their answer
 * (answer.h), shared between status.c (which processes), scan.c (one
 * process's scan), parallel.c (the scans over the CPUs), tcptab.c (the
 * kernel's TCP tables, read once per network namespace) and applysock.c
 * (--apply on one socket). The calls go one way: status.c ->
 * parallel.c -> scan.c -> tcptab.c. report.h prints the answer. Nothing
 * here is part of the library.
 */
#ifndef KASHIM_STATUS_H
#define KASHIM_STATUS_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "answer.h"
#include "uring.h"

/* A process to scan, in the order of the answer. */
struct cand {
	pid_t pid;
	char name[16];
	bool asked;           /* a PID operand: say so when it is gone */
	int rc;               /* kashim_scan_process()'s result */
	int worker;           /* whose part of the answer holds it */
	size_t proc, refusal; /* its index there, or SIZE_MAX */
};

/* The processes to scan, and the next one a worker takes. */
struct cands {
	struct cand *v;
	size_t n, cap;
	size_t next;
	struct tcptabs *tabs;
};

/* ---- scan.c: one process ---- */

/* Room for want elements of size bytes in *v (a T **). Returns 0 or -1. */
int kashim_grow(void *v, size_t *cap, size_t want, size_t size);

/*
 * One process's scan: its TCP sockets, in fd order, added to st as one
 * struct proc, or it is noted as refused (not a kernel thread). ring:
 * the calling thread's (uring.h), or NULL or closed for system calls
 * only. Returns 0, -ESRCH when it is gone, KASHIM_SCAN_GONE when it
 * exited during the scan (what was read of it is dropped), or -ENOMEM.
 */
#define KASHIM_SCAN_GONE (-EOWNERDEAD)
int kashim_scan_process(struct status *st, struct tcptabs *tabs, pid_t pid,
			const char *name, struct kashim_ring *ring);

/*
 * Scan what st->opts asks for into st (the processes picked, then
 * kashim_scan_parallel()). Returns 0, 1 (a PID or name missing, said on
 * stderr) or -errno.
 */
int kashim_status_scan(struct status *st, struct tcptabs *tabs);

/*
 * Run a scan for o (kashim_status_scan()), then answer(st), which prints
 * what it found and returns the exit status that earns, unless the scan
 * failed (said on stderr, exit status 1). Returns answer's exit status,
 * or 1 when a PID or name was missing, a process asked for could not be
 * read, or stdout could not be written.
 */
int kashim_status_run(const struct kashim_status_opts *o,
		      int (*answer)(const struct status *st));

/* The processes that could not be read, counted and named on one line
 * of stderr, with what right was missing. */
void kashim_status_refused(const struct status *st);

/* ---- parallel.c: the scans spread over the CPUs ---- */

/*
 * Scan every process of c (kashim_scan_process(), in threads, one per
 * CPU up to 4) and put the answer into st in the order of c; each
 * cand's rc says how its scan went. Returns 0 or -ENOMEM.
 */
int kashim_scan_parallel(struct status *st, struct cands *c);

/* Free what the answer st holds (not st itself). */
void kashim_status_free(struct status *st);

/* ---- tcptab.c: the TCP sockets, once per network namespace ---- */

/* A socket as the kernel's TCP table lists it. */
struct tcp_entry {
	uint64_t key; /* its cookie (sock_diag) or inode (/proc): see below */
	bool v6;
	unsigned char state;
	struct endpoint local, peer;
};

struct tcptabs; /* every namespace read so far */
struct tcptab;  /* one namespace's sockets */

/* An empty set of tables; NULL when out of memory. */
struct tcptabs *kashim_tcptabs_new(void);
void kashim_tcptabs_free(struct tcptabs *all);

/*
 * The tables of the network namespace pid is in, read the first time
 * that namespace is seen. NULL when it cannot be named. Safe to call
 * from several threads; the tables returned stay in place until freed.
 */
const struct tcptab *kashim_tcptab_of(struct tcptabs *all, pid_t pid);

/*
 * Is t indexed by socket cookie (SO_COOKIE: read through sock_diag)
 * rather than by inode (read from /proc)?
 */
bool kashim_tcptab_by_cookie(const struct tcptab *t);

/*
 * The socket with this key in t: its cookie when t is indexed by cookie,
 * else its inode. NULL when it is not there: another namespace, made
 * since the read, or not TCP.
 */
const struct tcp_entry *kashim_tcptab_find(const struct tcptab *t,
					   uint64_t key);


/*
 * The keep-alive sysctls of t's network namespace (read in it), each -1
 * when unknown: what an option the program never set reads back as.
 */
void kashim_tcptab_sysctls(const struct tcptab *t, int *idle, int *interval,
			   int *count);

/* Does some socket of t's namespace listen on port? */
bool kashim_tcptab_listens(const struct tcptab *t, uint16_t port);

/* ---- applysock.c: `kashim --apply` on one socket ---- */

/* The settings as read, and a finished copy per executable name. */
struct kashim_apply {
	struct kashim_settings base;
	pthread_mutex_t lock;
	struct per_exe {
		char exe[NAME_MAX + 1]; /* empty: not known */
		struct kashim_settings s;
	} **v;
	size_t n;
};

enum kashim_apply_result {
	KASHIM_APPLY_NONE,    /* not looked at (not TCP/IP) */
	KASHIM_APPLY_SET,     /* set (or would be, with --dry-run) */
	KASHIM_APPLY_ALREADY, /* already holds kashim's values */
	KASHIM_APPLY_LEFT,    /* left alone on purpose */
	KASHIM_APPLY_FAILED,  /* the kernel refused an option */
};

/*
 * The settings for process pid (its executable matched against the
 * programs key), for kashim_apply_socket(). NULL when out of memory.
 */
const struct kashim_settings *kashim_apply_settings(const struct status *st,
						    pid_t pid);

/*
 * A socket being looked at: the duplicate scan.c holds, what is read of
 * it already, and the sets --apply makes on it: queued on the scanning
 * thread's ring (uring.h) and settled once the batch is submitted, or,
 * without a ring, made at once, one by one (kashim_apply_settle()).
 */
struct dupsock {
	int s;                /* the duplicate, in this process */
	int fd;               /* its number in the process scanned */
	unsigned known;       /* options read already, as bits, ... */
	struct optvals v;     /* ... their values */
	struct kashim_ring *ring; /* NULL: sets made at once */
	size_t conn;          /* its socket's index in the answer */
	unsigned nset;        /* the sets queued, in order: */
	unsigned char set_opt[KASHIM_NOPTS];
	int set_val[KASHIM_NOPTS];
	int set_res[KASHIM_NOPTS]; /* 0, or -errno (-ECANCELED: not run) */
	uint64_t cookie;      /* SO_COOKIE, as the ring read it */
};

/*
 * --apply on socket d (found in namespace tab by its own cookie or
 * inode), its answer in c, with settings set: reads the options the
 * answer needs, sets what the rule says (unless --dry-run), the outcome
 * in c->ap. With d->ring the sets are queued there, and c->ap is final
 * only after kashim_apply_settle().
 */
void kashim_apply_socket(const struct status *st, const struct tcptab *tab,
			 const struct kashim_settings *set, struct dupsock *d,
			 struct conn *c);

/* The outcome of the sets d queued, into c->ap, once submitted: a set
 * the ring did not make is made with setsockopt(), whose answer counts
 * (the first refused ends the socket's turn, as without a ring). */
void kashim_apply_settle(struct conn *c, const struct dupsock *d);

/* Every option, as bits (1u << KASHIM_OPT_*). */
#define KASHIM_OPT_ALL ((1u << KASHIM_NOPTS) - 1)

/* The options of socket d asked for, as bits, into c (what d knows
 * already, the rest read); -1 for one the kernel will not say. */
void kashim_read_options(struct dupsock *d, struct conn *c, unsigned which);

/* Free the copies kashim_apply_settings() made (not a->base). */
void kashim_apply_free(struct kashim_apply *a);

#endif
