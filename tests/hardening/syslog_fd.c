/*
 * syslog_fd.c - logging to syslog must not hold an fd the program can
 * close, nor ever close the program's socket.
 *
 * Run with KASHIM_LOG=info KASHIM_LOG_TARGET=syslog, in a mount namespace
 * where /dev is a tmpfs of the test's own (run.sh): the program binds
 * its own /dev/log. A first connection makes kashim log; then the program
 * closes every fd it does not know, as daemons do, and makes another
 * connection, whose socket lands on the lowest free number. connect()
 * must succeed on a TCP socket that got the values (with libc's syslog()
 * kashim's message closed it and put a UNIX socket in its place), no fd
 * may be left open behind the program, and /dev/log must have received
 * "<14>kashim[PID]: " lines (user.info, RFC 3164 without timestamp).
 */
#include <fcntl.h>
#include <sys/un.h>

#include "common.h"

static int lfd, logfd;
static struct sockaddr_in laddr;

/* Bind a datagram socket on /dev/log: the syslog daemon of the test. */
static int log_daemon(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX,
				  .sun_path = "/dev/log"};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	unlink(sun.sun_path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		fail("bind /dev/log: %s", strerror(errno));
	return fd;
}

/* One connection, checked on the client end, both ends closed. */
static int one(const char *what)
{
	int cfd, afd = connect_pair(lfd, &laddr, &cfd);

	if (ka_opt(cfd, SOL_SOCKET, SO_PROTOCOL) != IPPROTO_TCP)
		fail("%s: fd %d is no longer the TCP socket", what, cfd);
	ka_check(cfd, ka_expected(), what);
	close_pair(afd, cfd);
	return cfd;
}

/* Make k sockets first, then connect, check and close each. */
static void several(int k, const char *what)
{
	int fd[8];

	for (int i = 0; i < k; i++)
		fd[i] = KEEP_ERRNO("socket", socket(AF_INET, SOCK_STREAM, 0));
	for (int i = 0; i < k; i++) {
		int afd;

		KEEP_ERRNO(what, connect(fd[i], (struct sockaddr *)&laddr,
					 sizeof(laddr)));
		afd = KEEP_ERRNO("accept", accept(lfd, NULL, NULL));
		if (ka_opt(fd[i], SOL_SOCKET, SO_PROTOCOL) != IPPROTO_TCP)
			fail("%s: fd %d is no longer the TCP socket", what,
			     fd[i]);
		ka_check(fd[i], ka_expected(), what);
		close_pair(afd, fd[i]);
	}
}

/* Close every fd from 3 to 63 but the listener and /dev/log. */
static void close_unknown(void)
{
	for (int fd = 3; fd < 64; fd++)
		if (fd != lfd && fd != logfd)
			close(fd);
}

/* Fail if an fd other than ours is open: kashim holds none. */
static void none_left(void)
{
	for (int fd = 3; fd < 64; fd++)
		if (fd != lfd && fd != logfd && fcntl(fd, F_GETFD) >= 0)
			fail("fd %d is open behind the program's back", fd);
}

/* Count the lines /dev/log received; each must be "<14>kashim[PID]: ". */
static int lines(void)
{
	char want[64], buf[1100];
	ssize_t n;
	int count = 0;

	snprintf(want, sizeof(want), "<14>kashim[%d]: ", (int)getpid());
	while ((n = recv(logfd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = '\0';
		if (strncmp(buf, want, strlen(want)) != 0)
			fail("/dev/log got '%s', want a line starting '%s'",
			     buf, want);
		count++;
	}
	return count;
}

int main(void)
{
	int n;

	logfd = log_daemon();
	lfd = listener_in(&laddr);
	one("first connection");
	close_unknown();
	several(4, "after closing unknown fds");
	none_left();
	n = lines();
	if (n < 10)
		fail("/dev/log received %d line(s), want one per socket", n);
	printf("ok: syslog: %d lines on /dev/log, no fd held, the program's "
	       "sockets kept\n",
	       n);
	return 0;
}
