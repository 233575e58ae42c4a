/*
 * threads.c - many threads connecting at once under kashim.
 *
 * threads [NTHREADS [NCONN]] (default 8 x 2000): the threads start
 * together (so the very first connections race the settings being read),
 * each makes NCONN loopback connections to its own listener, and every
 * client and accepted socket is read back with getsockopt. socket(),
 * connect() and accept() must leave errno alone. Any wrong socket fails
 * the run; the count of sockets checked is printed.
 */
#include <pthread.h>

#include "common.h"

static pthread_barrier_t start;
static int nconn = 2000;
static struct ka want;

/* One thread: its own listener, nconn connections, each checked. */
static void *worker(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start);
	return (void *)check_connections(nconn, want);
}

int main(int argc, char **argv)
{
	int nthreads = argc > 1 ? atoi(argv[1]) : 8;
	pthread_t tid[64];
	long total = 0;

	if (argc > 2)
		nconn = atoi(argv[2]);
	if (nthreads < 1 || nthreads > 64 || nconn < 1)
		fail("usage: threads [NTHREADS (1-64) [NCONN]]");
	want = ka_expected();
	pthread_barrier_init(&start, NULL, (unsigned)nthreads);
	for (int t = 0; t < nthreads; t++)
		if (pthread_create(&tid[t], NULL, worker, NULL) != 0)
			fail("pthread_create");
	for (int t = 0; t < nthreads; t++) {
		void *n;

		pthread_join(tid[t], &n);
		total += (long)n;
	}
	pthread_barrier_destroy(&start);
	if (total != 2L * nthreads * nconn)
		fail("checked %ld sockets, expected %ld", total,
		     2L * nthreads * nconn);
	printf("ok: threads: %d threads x %d connections, %ld sockets "
	       "checked\n",
	       nthreads, nconn, total);
	return 0;
}
