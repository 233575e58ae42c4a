/*
 * high_fd.c - fd numbers at or past the end of kashim's table. Run under
 * a build of the library whose table has 64 entries (run.sh: the
 * `high_fd` step), so that numbers from 64 up take the path that numbers
 * from 2^20 up take in the real build, where nr_open was raised.
 *   own      SO_KEEPALIVE=0 set by the program on fd 200, 3000 and 9000
 *            (three blocks): connected, the program's choice wins.
 *   again    a non-blocking socket on fd 5000 connected (values set);
 *            then the program sets its own TCP_KEEPIDLE and calls
 *            connect() again, as programs do to learn the outcome:
 *            kashim must not set its values a second time.
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>

#include "common.h"

static int lfd;
static struct sockaddr_in laddr;

/* Move a new TCP socket to number at; returns at. */
static int socket_at(int at, int type)
{
	int fd = socket(AF_INET, type, 0);

	if (fd < 0 || dup2(fd, at) != at)
		fail("socket on fd %d: %s", at, strerror(errno));
	close(fd);
	return at;
}

static void own(int at)
{
	int fd = socket_at(at, SOCK_STREAM), off = 0;

	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &off, sizeof(off)) < 0)
		fail("setsockopt: %s", strerror(errno));
	KEEP_ERRNO("connect",
		   connect(fd, (struct sockaddr *)&laddr, sizeof(laddr)));
	close(accept(lfd, NULL, NULL));
	ka_check_off(fd, "own: a socket past the table, the program's choice");
	close(fd);
}

static void again(int at)
{
	int fd = socket_at(at, SOCK_STREAM | SOCK_NONBLOCK), idle = 99;
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	struct ka want = ka_expected();

	if (connect(fd, (struct sockaddr *)&laddr, sizeof(laddr)) < 0 &&
	    errno != EINPROGRESS)
		fail("connect: %s", strerror(errno));
	if (poll(&p, 1, 5000) != 1)
		fail("again: the connection did not complete");
	ka_check(fd, want, "again: first connect past the table");
	if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) < 0)
		fail("setsockopt: %s", strerror(errno));
	connect(fd, (struct sockaddr *)&laddr,
		sizeof(laddr)); /* 0 or EISCONN */
	want.idle = idle;
	ka_check(fd, want,
		 "again: after the second connect, the program's TCP_KEEPIDLE");
	close(accept(lfd, NULL, NULL));
	close(fd);
}

int main(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max < 9001) {
		fprintf(stderr, "RLIMIT_NOFILE hard limit below 9001\n");
		return 2;
	}
	rl.rlim_cur = 9001;
	setrlimit(RLIMIT_NOFILE, &rl);
	lfd = listener_in(&laddr);
	own(200);
	own(3000);
	own(9000);
	again(5000);
	printf("ok: high fds: own choice on 200, 3000, 9000; a second connect "
	       "on 5000\n");
	return 0;
}
