/*
 * listen_reuse HOW WANT - a listener's state must end with its fd
 * number. A first listener is left draining: connections wait in its
 * queue, one is accepted (kashim sets it up and waits for the queue to
 * empty before it marks it). Then its number is given to something new,
 * HOW:
 *   dup2, dup3   a fresh listener is duplicated onto the number
 *   dup, fcntl   the number is closed, and dup() or F_DUPFD of a fresh
 *                listener lands on it (the lowest free number)
 *   scm          the number is closed, and a fresh listener sent over a
 *                UNIX socket (SCM_RIGHTS) lands on it
 *   close        the number is closed and a new listener made on it
 *   close_range  the number is closed with close_range() and a new
 *                listener made on it
 *   client       the number is closed and a client socket made on it,
 *                connected to another listener
 * Every socket accepted on the number afterwards (several: the first one
 * is dealt with on its own, the later ones take the listener's values)
 * and the new listener itself must hold WANT (IDLE,INTVL,CNT,UTO), read
 * back with getsockopt; for "client", the client socket must.
 * Exit 0 when everything held, 1 when something did not, 2 when the
 * test could not run.
 */
#include <fcntl.h>

#include "common.h"

#define WAITING 3 /* connections left in the first listener's queue */
#define AFTER 4   /* connections accepted on the number afterwards */

static struct ka want;

/* A loopback IPv4 listener; its address in sa. */
static int new_listener(struct sockaddr_storage *sa, socklen_t *len)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);

	loopback_addr(AF_INET, sa, len);
	if (l < 0 || bind(l, (struct sockaddr *)sa, *len) ||
	    listen(l, 64) || getsockname(l, (struct sockaddr *)sa, len)) {
		perror("listener");
		exit(2);
	}
	return l;
}

/* A client connected to sa, left open. */
static int client(const struct sockaddr_storage *sa, socklen_t len)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);

	if (c < 0 || connect(c, (const struct sockaddr *)sa, len) < 0) {
		perror("connect");
		exit(2);
	}
	return c;
}

/* One connection accepted on l; exits 2 when accept() fails. */
static int accept_one(int l)
{
	int a = accept(l, NULL, NULL);

	if (a < 0) {
		perror("accept");
		exit(2);
	}
	return a;
}

/*
 * The first listener, left draining: WAITING connections queued, one
 * accepted (and read back: kashim set it up). Returns its number.
 */
static int draining_listener(void)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int l = new_listener(&sa, &len), a;

	for (int i = 0; i < WAITING; i++)
		client(&sa, len);
	a = accept_one(l);
	expect_ka("the first listener's first accept", a, want);
	close(a);
	return l;
}

/*
 * Send fd over a UNIX socket pair, close it and number n; receive it
 * back. Returns the number it was received on (the lowest free: n).
 */
static int pass_fd(int fd, int n)
{
	int sv[2], got = -1;
	char byte = 'x';
	struct iovec iov = { &byte, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		perror("socketpair");
		exit(2);
	}
	memset(u.buf, 0, sizeof(u.buf));
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(sv[0], &m, 0) != 1) {
		perror("sendmsg");
		exit(2);
	}
	close(fd);
	close(n);
	m.msg_controllen = sizeof(u.buf);
	if (recvmsg(sv[1], &m, 0) != 1 || !(c = CMSG_FIRSTHDR(&m)) ||
	    c->cmsg_type != SCM_RIGHTS) {
		perror("recvmsg");
		exit(2);
	}
	memcpy(&got, CMSG_DATA(c), sizeof(int));
	return got;
}

/*
 * Put a fresh listener on number n (the draining one's) as how says.
 * Its address goes to sa. Returns n, or exits 2 when the number could
 * not be had.
 */
static int fresh_on(int n, const char *how, struct sockaddr_storage *sa,
		    socklen_t *len)
{
	int got = -1, l;

	if (strcmp(how, "close") == 0 || strcmp(how, "close_range") == 0) {
		if (strcmp(how, "close") == 0)
			close(n);
		else if (close_range((unsigned)n, (unsigned)n, 0) != 0) {
			perror("close_range");
			exit(2);
		}
		got = new_listener(sa, len);
	} else {
		l = new_listener(sa, len);
		if (strcmp(how, "dup2") == 0)
			got = dup2(l, n);
		else if (strcmp(how, "dup3") == 0)
			got = dup3(l, n, O_CLOEXEC);
		else if (strcmp(how, "scm") == 0) {
			got = pass_fd(l, n);
			l = -1;
		} else {
			close(n);
			got = strcmp(how, "dup") == 0 ? dup(l) :
							fcntl(l, F_DUPFD, 0);
		}
		if (l >= 0)
			close(l);
	}
	if (got != n) {
		fprintf(stderr, "%s: the fresh listener is on %d, not %d\n",
			how, got, n);
		exit(2);
	}
	return n;
}

/* A client socket on number n, connected to a listener of its own. */
static void client_on(int n)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int other = new_listener(&sa, &len), c;

	close(n);
	c = client(&sa, len);
	if (c != n) {
		fprintf(stderr, "client: the client is on %d, not %d\n", c, n);
		exit(2);
	}
	expect_ka("the client on the first listener's number", c, want);
	close(accept_one(other));
	close(other);
}

int main(int argc, char **argv)
{
	struct sockaddr_storage sa;
	socklen_t len;
	char what[96];
	int n;

	if (argc != 3) {
		fprintf(stderr, "usage: listen_reuse dup2|dup3|dup|fcntl|scm|"
				"close|close_range|client WANT\n");
		return 2;
	}
	want = want_from(argv[2]);
	n = draining_listener();
	if (strcmp(argv[1], "client") == 0) {
		client_on(n);
		return failures ? 1 : 0;
	}
	fresh_on(n, argv[1], &sa, &len);
	for (int i = 0; i < AFTER; i++) {
		int c = client(&sa, len), a = accept_one(n);

		snprintf(what, sizeof(what), "%s: accepted socket %d of %d",
			 argv[1], i + 1, AFTER);
		expect_ka(what, a, want);
		close(a);
		close(c);
	}
	expect_ka("the fresh listener", n, want);
	return failures ? 1 : 0;
}
