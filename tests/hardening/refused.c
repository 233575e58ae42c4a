/*
 * refused.c - kashim under a kernel that refuses one option.
 *
 *   refuse keepidle|keepalive refused keepidle|keepalive [NTHREADS [NCONN]]
 *
 * Run under the seccomp launcher (refuse.c). First proves the refusal is
 * in force (the program's own setsockopt fails with EPERM), then makes
 * NTHREADS x NCONN loopback connections (default 4 x 250): each connect()
 * and accept() must succeed and keep errno, every other option must be
 * set and the refused one left at the kernel's value. Then a child of
 * fork() makes 50 more. The runner counts kashim's warnings on stderr:
 * one per process for the refused option, so two, from two PIDs.
 */
#include <pthread.h>
#include <sys/wait.h>

#include "common.h"

static struct ka want;
static int nconn = 250;

/* Fail unless the program's own setsockopt(level, name) gets EPERM. */
static void probe(int level, int name, const char *label)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		fail("socket: %s", strerror(errno));
	errno = 0;
	if (setsockopt(fd, level, name, &one, sizeof(one)) == 0 ||
	    errno != EPERM)
		fail("setsockopt(%s) was not refused with EPERM (%s): not "
		     "under the launcher?",
		     label, strerror(errno));
	close(fd);
}

/* The kernel's value of TCP_KEEPIDLE on a fresh TCP socket. */
static int kernel_idle(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int v = ka_get(fd).idle;

	close(fd);
	return v;
}

/* One thread: its own listener, nconn connections, each checked. */
static void *worker(void *arg)
{
	(void)arg;
	return (void *)check_connections(nconn, want);
}

#define CHILD_CONN 50

/* A child of fork(), another process: its own warning. Returns sockets. */
static long in_child(void)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		nconn = CHILD_CONN;
		_exit(worker(NULL) == (void *)(2L * CHILD_CONN) ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		fail("the forked child failed");
	return 2L * CHILD_CONN;
}

int main(int argc, char **argv)
{
	int nthreads = argc > 2 ? atoi(argv[2]) : 4;
	pthread_t tid[16];
	long total = 0;

	if (argc > 3)
		nconn = atoi(argv[3]);
	if (argc < 2 || nthreads < 1 || nthreads > 16 || nconn < 1)
		fail("usage: refused keepidle|keepalive [NTHREADS (1-16) "
		     "[NCONN]]");
	want = ka_expected();
	if (strcmp(argv[1], "keepidle") == 0) {
		probe(IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE");
		want.idle = kernel_idle();
		if (want.idle == ka_expected().idle)
			fail("KASHIM_IDLE equals the kernel's value: the test "
			     "could not tell");
	} else if (strcmp(argv[1], "keepalive") == 0) {
		probe(SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE");
		want.on = 0;
	} else {
		fail("unknown mode %s", argv[1]);
	}
	for (int t = 0; t < nthreads; t++)
		if (pthread_create(&tid[t], NULL, worker, NULL) != 0)
			fail("pthread_create");
	for (int t = 0; t < nthreads; t++) {
		void *n;

		pthread_join(tid[t], &n);
		total += (long)n;
	}
	total += in_child();
	printf("ok: refused %s: %d threads x %d connections and a child's "
	       "%d, %ld sockets checked\n",
	       argv[1], nthreads, nconn, CHILD_CONN, total);
	return 0;
}
