/*
 * closed_behind.c - an fd number closed without close(): close_range(),
 * closefrom() or a raw syscall(SYS_close). A TCP socket that then
 * arrives on the same number over a UNIX socket (SCM_RIGHTS) and is
 * connected must get the values: no stale "already dealt with" skips it.
 * Each scenario: a connected TCP socket on number N (dealt with), a TCP
 * socket kashim never saw made (syscall(SYS_socket)) sent over a
 * socketpair, N closed behind kashim's back, the socket received (on N,
 * the lowest free number) and connected.
 */
#include <stdbool.h>
#include <sys/syscall.h>

#include "common.h"

static int lfd, sp[2];
static struct sockaddr_in laddr;

/* A TCP socket, connected and dealt with; returns its fd. */
static int dealt_with(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	KEEP_ERRNO("connect",
		   connect(fd, (struct sockaddr *)&laddr, sizeof(laddr)));
	close(accept(lfd, NULL, NULL));
	return fd;
}

/* Send fd over the socketpair. */
static void send_fd(int fd)
{
	char c = 'x', buf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {&c, 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = buf,
			     .msg_controllen = sizeof(buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	memset(buf, 0, sizeof(buf));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sp[0], &msg, 0) != 1)
		fail("sendmsg: %s", strerror(errno));
}

/* Receive an fd from the socketpair. */
static int recv_fd(void)
{
	char c, buf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {&c, 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = buf,
			     .msg_controllen = sizeof(buf)};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sp[1], &msg, 0) != 1 || !(cm = CMSG_FIRSTHDR(&msg)) ||
	    cm->cmsg_type != SCM_RIGHTS)
		fail("recvmsg: %s", strerror(errno));
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * One scenario: close N with how(N) (with `from`, how closes the sent
 * socket too, on N + 1); the received socket must be set.
 */
static void scenario(const char *what, void (*how)(int), bool from)
{
	int n = dealt_with();
	int raw = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	int got;

	if (raw < 0)
		fail("syscall(SYS_socket): %s", strerror(errno));
	send_fd(raw);
	if (from && raw != n + 1)
		fail("%s: the sent socket is on %d, not on %d", what, raw,
		     n + 1);
	if (!from)
		close(raw);
	how(n);
	got = recv_fd();
	if (got != n)
		fail("%s: the socket arrived on %d, not on the freed %d", what,
		     got, n);
	KEEP_ERRNO(what,
		   connect(got, (struct sockaddr *)&laddr, sizeof(laddr)));
	close(accept(lfd, NULL, NULL));
	ka_check(got, ka_expected(), what);
	close(got);
}

static void by_close_range(int fd)
{
	if (close_range((unsigned)fd, (unsigned)fd, 0) < 0)
		fail("close_range: %s", strerror(errno));
}

static void by_closefrom(int fd)
{
	closefrom(fd);
}

static void by_raw_close(int fd)
{
	syscall(SYS_close, fd);
}

int main(void)
{
	lfd = listener_in(&laddr);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) < 0)
		fail("socketpair: %s", strerror(errno));
	scenario("after close_range()", by_close_range, false);
	scenario("after closefrom()", by_closefrom, true);
	scenario("after syscall(SYS_close)", by_raw_close, false);
	printf("ok: closed behind kashim's back: close_range, closefrom, raw "
	       "close; 3 sockets checked\n");
	return 0;
}
