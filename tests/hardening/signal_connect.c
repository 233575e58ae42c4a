/*
 * signal_connect.c - the first TCP connect made from a signal handler.
 *
 *   in-read   a SIGALRM every 100 us whose handler connects, while the
 *             main thread's first connect reads a large config file:
 *             the handler must not wait on its own thread's read, and
 *             the program's signal mask is the same afterwards.
 *   in-malloc a second thread makes malloc() take its locks; the main
 *             thread allocates in a loop and the process's first TCP
 *             connect is made by a SIGALRM handler, usually in the
 *             middle of malloc(): reading KASHIM_PORTS must not call
 *             malloc() again.
 * A hang is the failure: run.sh bounds each run in time. Both ends of
 * the connections are read back; the handler keeps errno.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include "common.h"

#define HANDLER_MAX 200

static int lfd;
static struct sockaddr_in laddr;
static volatile sig_atomic_t calls, handler_fd = -1, handler_errno;

/* A connection from inside a signal handler, errno kept. */
static int handler_connect(void)
{
	int saved = errno;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd >= 0 &&
	    connect(fd, (struct sockaddr *)&laddr, sizeof(laddr)) < 0 &&
	    errno != EINPROGRESS)
		handler_errno = errno;
	errno = saved;
	return fd;
}

/* in-read: connect and close, a bounded number of times. */
static void on_alarm_read(int sig)
{
	(void)sig;
	if (calls++ < HANDLER_MAX) {
		int fd = handler_connect(), saved = errno;

		if (fd >= 0)
			close(fd);
		errno = saved;
	}
}

/* in-malloc: the process's first connect, once; the socket is kept. */
static void on_alarm_malloc(int sig)
{
	(void)sig;
	if (calls++ == 0)
		handler_fd = handler_connect();
}

/* A SIGALRM every us microseconds (0: stop). */
static void ticks(long us)
{
	struct itimerval it = {{0, us}, {0, us}};

	if (setitimer(ITIMER_REAL, &it, NULL) < 0)
		fail("setitimer: %s", strerror(errno));
}

static void handle(void (*fn)(int))
{
	struct sigaction sa = {.sa_handler = fn, .sa_flags = SA_RESTART};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

/* Fail unless the signal mask is still want (kashim restores it). */
static void same_mask(const sigset_t *want)
{
	sigset_t now;

	sigprocmask(SIG_BLOCK, NULL, &now);
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&now, sig) != sigismember(want, sig))
			fail("in-read: signal %d is %s after the first connect",
			     sig, sigismember(&now, sig) ? "blocked" : "unblocked");
}

static void in_read(void)
{
	sigset_t mask;
	int cfd, afd;

	handle(on_alarm_read);
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1); /* the program's own mask, kept */
	sigprocmask(SIG_SETMASK, &mask, NULL);
	sigprocmask(SIG_BLOCK, NULL, &mask);
	ticks(100);
	afd = connect_pair(lfd, &laddr, &cfd);
	ticks(0);
	same_mask(&mask);
	ka_check(cfd, ka_expected(), "in-read: client socket");
	ka_check(afd, ka_expected(), "in-read: accepted socket");
	if (handler_errno)
		fail("in-read: connect in the handler: %s",
		     strerror(handler_errno));
	printf("ok: in-read: first connect with %d handler connect(s), 2 "
	       "sockets checked\n",
	       (int)calls);
}

/* A thread that only exists: with two threads malloc() takes its locks. */
static void *idle_thread(void *arg)
{
	pause();
	return arg;
}

static void in_malloc(void)
{
	pthread_t t;
	long i;

	pthread_create(&t, NULL, idle_thread, NULL);
	handle(on_alarm_malloc);
	ticks(50);
	for (i = 0; handler_fd < 0 && i < 200000000L; i++) {
		char *p = malloc(4000 + (size_t)(i % 64) * 16);

		if (p)
			p[0] = (char)i;
		free(p);
	}
	ticks(0);
	if (handler_fd < 0 || handler_errno)
		fail("in-malloc: no connection from the handler: %s",
		     strerror(handler_errno));
	ka_check(handler_fd, ka_expected(), "in-malloc: handler's socket");
	printf("ok: in-malloc: first connect in a handler after %ld "
	       "allocations, 1 socket checked\n",
	       i);
}

int main(int argc, char **argv)
{
	lfd = listener_in(&laddr);
	if (argc == 2 && strcmp(argv[1], "in-read") == 0)
		in_read();
	else if (argc == 2 && strcmp(argv[1], "in-malloc") == 0)
		in_malloc();
	else
		fail("usage: signal_connect in-read|in-malloc");
	return 0;
}
