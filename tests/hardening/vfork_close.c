/*
 * vfork_close.c - a vfork() child runs in its parent's memory: what it
 * closes or duplicates before exec must not change what kashim knows of
 * the parent's fds.
 *   close   the program set SO_KEEPALIVE=0 on a TCP socket; a vfork child
 *           closes it and execs /bin/true; the parent connects it: the
 *           program's choice still wins (SO_KEEPALIVE stays 0).
 *   dup2    a vfork child dup2()s a UDP socket over a TCP socket's number
 *           and exits; the parent connects the TCP socket: it gets the
 *           values.
 *   threads a second thread connects sockets with its own choice while
 *           vfork children live: kashim still records its choices.
 */
#include <pthread.h>
#include <sys/wait.h>

#include "common.h"

#define THREAD_CONN 300

static int lfd;
static struct sockaddr_in laddr;
static volatile int stop;

/* Wait for the vfork child pid; fail unless it exited 0. */
static void reap(pid_t pid, const char *what)
{
	int status;

	if (pid < 0)
		fail("%s: vfork: %s", what, strerror(errno));
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		fail("%s: the vfork child failed", what);
}

/* A TCP socket with the program's own SO_KEEPALIVE=0. */
static int own_off(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), off = 0;

	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &off, sizeof(off)) < 0)
		fail("socket/setsockopt: %s", strerror(errno));
	return fd;
}

/* Connect fd to the listener and accept the other end (closed). */
static void connect_it(int fd, const char *what)
{
	if (connect(fd, (struct sockaddr *)&laddr, sizeof(laddr)) < 0)
		fail("%s: connect: %s", what, strerror(errno));
	close(accept(lfd, NULL, NULL));
}

static void child_close(void)
{
	int fd = own_off();
	char *const argv[] = {"true", NULL};
	pid_t pid = vfork();

	if (pid == 0) {
		close(fd);
		execv("/bin/true", argv);
		_exit(127);
	}
	reap(pid, "close");
	connect_it(fd, "close");
	ka_check_off(fd,
		     "close: the parent's socket after the child closed it");
	close(fd);
}

static void child_dup2(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int udp = socket(AF_INET, SOCK_DGRAM, 0);
	pid_t pid = vfork();

	if (pid == 0) {
		dup2(udp, fd);
		_exit(0);
	}
	reap(pid, "dup2");
	connect_it(fd, "dup2");
	ka_check(fd, ka_expected(),
		 "dup2: the parent's socket after the child's dup2");
	close(fd);
	close(udp);
}

/* The second thread: own-choice sockets, connected, until stop. */
static void *own_choices(void *arg)
{
	struct sockaddr_in addr;
	int l = listener_in(&addr);

	for (int i = 0; i < THREAD_CONN && !stop; i++) {
		int fd = own_off();

		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
			fail("threads: connect: %s", strerror(errno));
		ka_check_off(fd, "threads: a socket with the program's choice");
		close(accept(l, NULL, NULL));
		close(fd);
	}
	close(l);
	return arg;
}

static void threads(void)
{
	pthread_t t;
	int n = 0;

	pthread_create(&t, NULL, own_choices, NULL);
	for (; n < 50; n++) {
		pid_t pid = vfork();

		if (pid == 0) {
			usleep(1000);
			_exit(0);
		}
		reap(pid, "threads");
	}
	stop = 1;
	pthread_join(t, NULL);
}

int main(void)
{
	lfd = listener_in(&laddr);
	child_close();
	child_dup2();
	threads();
	printf("ok: vfork: close, dup2 in the child; a thread's choices during "
	       "50 vforks\n");
	return 0;
}
