/*
 * forks.c - kashim across fork().
 *
 * Each scenario runs in a process of its own, forked from a main that
 * never touched a socket, so kashim's settings are still unread there:
 *   fresh   fork before any connection; child and parent both connect.
 *   after   the parent connects, then forks; the child connects a new
 *           socket and one made before the fork; the inherited
 *           connection still holds its values.
 *   race    two threads connect in a loop while the main thread forks
 *           NFORK children, each connecting once; the first fork comes
 *           while the threads' first connections read the settings.
 * Every client and accepted socket is read back; errno is checked.
 */
#include <pthread.h>
#include <sys/wait.h>

#include "common.h"

#define NFORK 40
#define RACE_MAX_CONN 20000

static struct ka want;
static long checked;

/* Connect once to the listener and check both ends; count them. */
static void one(int lfd, const struct sockaddr_in *addr, const char *who)
{
	char what[64];
	int cfd, afd = connect_pair(lfd, addr, &cfd);

	snprintf(what, sizeof(what), "%s client", who);
	ka_check(cfd, want, what);
	snprintf(what, sizeof(what), "%s accepted", who);
	ka_check(afd, want, what);
	close_pair(afd, cfd);
	checked += 2;
}

/* Wait for child pid; fail unless it exited 0. */
static void reap(pid_t pid, const char *who)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		fail("waitpid(%s): %s", who, strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("%s child failed (status 0x%x)", who, st);
}

/* fork(), failing the test if it fails. */
static pid_t must_fork(void)
{
	pid_t pid = fork();

	if (pid < 0)
		fail("fork: %s", strerror(errno));
	return pid;
}

/* A child of fork() connects once; its two sockets count as checked. */
static void child_one(int lfd, const struct sockaddr_in *addr,
		      const char *who)
{
	pid_t pid = must_fork();

	if (pid == 0) {
		one(lfd, addr, who);
		_exit(0);
	}
	reap(pid, who);
	checked += 2;
}

static void fresh(void)
{
	struct sockaddr_in addr;
	int lfd = listener_in(&addr);

	child_one(lfd, &addr, "fresh: child");
	one(lfd, &addr, "fresh: parent");
	close(lfd);
}

static void after(void)
{
	struct sockaddr_in addr;
	int lfd = listener_in(&addr), cfd, afd, pre;
	pid_t pid;

	afd = connect_pair(lfd, &addr, &cfd);
	ka_check(cfd, want, "after: parent client");
	ka_check(afd, want, "after: parent accepted");
	checked += 2;
	pre = KEEP_ERRNO("socket", socket(AF_INET, SOCK_STREAM, 0));
	pid = must_fork();
	if (pid == 0) {
		int pafd;

		ka_check(cfd, want, "after: inherited connection");
		one(lfd, &addr, "after: child");
		KEEP_ERRNO("connect", connect(pre, (struct sockaddr *)&addr,
					      sizeof(addr)));
		pafd = KEEP_ERRNO("accept", accept(lfd, NULL, NULL));
		ka_check(pre, want, "after: socket made before fork");
		ka_check(pafd, want, "after: its accepted end");
		_exit(0);
	}
	reap(pid, "after");
	checked += 5;
	close(pre);
	close_pair(afd, cfd);
	close(lfd);
}

struct racer {
	int lfd;
	struct sockaddr_in addr;
	volatile int *stop;
	long n;
};

/* Connect in a loop until told to stop (or a bound is reached). */
static void *race_thread(void *arg)
{
	struct racer *r = arg;

	while (!*r->stop && r->n < RACE_MAX_CONN) {
		int cfd, afd = connect_pair(r->lfd, &r->addr, &cfd);

		ka_check(cfd, want, "race: thread client");
		ka_check(afd, want, "race: thread accepted");
		close_pair(afd, cfd);
		r->n += 2;
	}
	return NULL;
}

static void race(void)
{
	volatile int stop = 0;
	struct racer r[2];
	struct sockaddr_in addr;
	int lfd = listener_in(&addr);
	pthread_t tid[2];

	for (int t = 0; t < 2; t++) {
		r[t].lfd = listener_in(&r[t].addr);
		r[t].stop = &stop;
		r[t].n = 0;
		if (pthread_create(&tid[t], NULL, race_thread, &r[t]) != 0)
			fail("pthread_create");
	}
	for (int i = 0; i < NFORK; i++)
		child_one(lfd, &addr, "race: child");
	stop = 1;
	for (int t = 0; t < 2; t++) {
		pthread_join(tid[t], NULL);
		checked += r[t].n;
		close(r[t].lfd);
	}
	close(lfd);
}

int main(void)
{
	static const struct {
		const char *name;
		void (*run)(void);
	} scen[] = {{"fresh", fresh}, {"after", after}, {"race", race}};
	long total = 0;
	int p[2];

	want = ka_expected();
	for (size_t i = 0; i < sizeof(scen) / sizeof(*scen); i++) {
		pid_t pid;

		/* Each scenario reports its count through a pipe. */
		if (pipe(p) < 0)
			fail("pipe: %s", strerror(errno));
		pid = must_fork();
		if (pid == 0) {
			close(p[0]);
			scen[i].run();
			if (write(p[1], &checked, sizeof(checked)) !=
			    (ssize_t)sizeof(checked))
				fail("write: %s", strerror(errno));
			_exit(0);
		}
		close(p[1]);
		reap(pid, scen[i].name);
		if (read(p[0], &checked, sizeof(checked)) !=
		    (ssize_t)sizeof(checked))
			fail("%s: no count", scen[i].name);
		close(p[0]);
		total += checked;
	}
	printf("ok: forks: fresh, after and race (%d forks), %ld sockets "
	       "checked\n",
	       NFORK, total);
	return 0;
}
