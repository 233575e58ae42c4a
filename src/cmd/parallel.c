/*
 * parallel.c - `kashim --status` spreads its scans over the CPUs.
 *
 * Almost all of a scan is system calls (a pidfd_getfd() and four
 * getsockopt() per socket, the rest through a ring), so each CPU up to
 * four gets a thread, with a ring of its own (uring.h). The
 * threads take processes from one list in turn, each adds what it reads
 * to its own part of the answer, and the parts are then put together in
 * the order of the list, so the answer reads as if one thread made it.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "status.h"

/* One thread and its part of the answer. */
struct worker {
	pthread_t thread;
	bool started;
	int id;
	struct cands *c;
	struct status part;
	struct kashim_ring ring; /* its own: a ring serves one fd table */
	int err;
};

/* Scan process k into w's part, noting where it landed. */
static void scan_one(struct worker *w, struct cand *k)
{
	size_t np = w->part.nprocs, nr = w->part.nrefused;

	k->worker = w->id;
	k->rc = kashim_scan_process(&w->part, w->c->tabs, k->pid, k->name,
				    &w->ring);
	k->proc = w->part.nprocs > np ? np : SIZE_MAX;
	k->refusal = w->part.nrefused > nr ? nr : SIZE_MAX;
}

/* A thread: take the next process until none is left. */
static void *work(void *arg)
{
	struct worker *w = arg;
	size_t i;

	/* An fd table of its own: the duplicates a scan takes then come in
	 * runs of numbers that one close_range() ends (scan.c). */
	(void)unshare(CLONE_FILES);
	kashim_ring_init(&w->ring); /* set up when a scan first needs it */
	while ((i = __atomic_fetch_add(&w->c->next, 1, __ATOMIC_RELAXED)) <
	       w->c->n) {
		scan_one(w, &w->c->v[i]);
		if (w->c->v[i].rc == -ENOMEM) {
			w->err = ENOMEM;
			break;
		}
	}
	kashim_ring_close(&w->ring);
	return NULL;
}

/* How many threads for n processes: one per CPU, at most KASHIM_MAX_WORKERS. */
static int workers_for(size_t n)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int k = cpus < 1 ? 1 : cpus > KASHIM_MAX_WORKERS ? KASHIM_MAX_WORKERS
							      : (int)cpus;

	return n < (size_t)k ? (n ? (int)n : 1) : k;
}

/* Append process k's part (its proc and sockets, or its refusal) to st. */
static int take(struct status *st, const struct worker *w,
		const struct cand *k)
{
	const struct status *part = &w[k->worker].part;

	if (k->refusal != SIZE_MAX && part->refused) {
		if (kashim_grow(&st->refused, &st->refused_cap,
				st->nrefused + 1, sizeof(*st->refused)) < 0)
			return -ENOMEM;
		st->refused[st->nrefused++] = part->refused[k->refusal];
	}
	if (k->proc != SIZE_MAX && part->procs) {
		const struct proc *p = &part->procs[k->proc];

		if (kashim_grow(&st->procs, &st->procs_cap, st->nprocs + 1,
				sizeof(*st->procs)) < 0)
			return -ENOMEM;
		st->procs[st->nprocs] = *p;
		st->procs[st->nprocs++].conn =
			part->conns ? part->conns + p->first : NULL;
		st->nconns += p->n;
	}
	return 0;
}

/* Put the parts together in the order of c: the processes are copied,
 * their sockets stay in the parts, which st then holds. Returns 0 or
 * -ENOMEM. */
static int merge(struct status *st, const struct worker *w,
		 const struct cands *c)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct cand *k = &c->v[i];

		if (k->rc == 0 && take(st, w, k) < 0)
			return -ENOMEM;
	}
	return 0;
}

int kashim_scan_parallel(struct status *st, struct cands *c)
{
	struct worker w[KASHIM_MAX_WORKERS];
	int n = workers_for(c->n), rc = 0;

	memset(w, 0, sizeof(w));
	for (int i = 0; i < n; i++) {
		w[i].id = i;
		w[i].c = c;
		w[i].part.opts = st->opts;
	}
	/* The first part is this thread's; a thread that cannot be made
	 * leaves its share to the others. */
	for (int i = 1; i < n; i++)
		w[i].started = pthread_create(&w[i].thread, NULL, work, &w[i]) == 0;
	work(&w[0]);
	for (int i = 1; i < n; i++)
		if (w[i].started)
			pthread_join(w[i].thread, NULL);
	for (int i = 0; i < n; i++)
		rc = w[i].err ? -w[i].err : rc;
	if (rc == 0)
		rc = merge(st, w, c);
	for (int i = 0; i < n; i++) {
		free(w[i].part.procs);
		free(w[i].part.refused);
		st->parts[i] = w[i].part.conns;
	}
	return rc;
}

void kashim_status_free(struct status *st)
{
	free(st->procs);
	free(st->conns);
	free(st->refused);
	for (int i = 0; i < KASHIM_MAX_WORKERS; i++)
		free(st->parts[i]);
	memset(st, 0, sizeof(*st));
}
