/*
 * bad_pointer.c - bad pointers get EFAULT, as from libc alone.
 *
 * Each call below gets an address, a length or a msghdr in a page that
 * cannot be read; kashim must not read it before the kernel has: the
 * call must return -1 with errno EFAULT, not kill the program. Each runs
 * in a child of its own, so a SIGSEGV is reported by name:
 *   connect, sendto and sendmsg with MSG_FASTOPEN (the address, the
 *   msghdr), accept and accept4 (the address length) on a listener with
 *   a connection waiting. With the argument no-accept, only the first
 *   four (ASan's own accept() interceptor reads the length first).
 */
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "common.h"

static void *bad; /* a page that faults on any access */
static int lfd;
static struct sockaddr_in laddr;

/* A fresh TCP socket. */
static int tcp(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		fail("socket: %s", strerror(errno));
	return fd;
}

static long try_connect(void)
{
	return connect(tcp(), bad, sizeof(struct sockaddr_in));
}

static long try_sendto(void)
{
	return sendto(tcp(), "x", 1, MSG_FASTOPEN, bad,
		      sizeof(struct sockaddr_in));
}

static long try_sendmsg(void)
{
	return sendmsg(tcp(), bad, MSG_FASTOPEN);
}

static long try_sendmsg_name(void)
{
	struct iovec iov = {"x", 1};
	struct msghdr msg = {.msg_name = bad,
			     .msg_namelen = sizeof(struct sockaddr_in),
			     .msg_iov = &iov,
			     .msg_iovlen = 1};

	return sendmsg(tcp(), &msg, MSG_FASTOPEN);
}

/* A connection waits on the listener, so accept() gets to the lengths. */
static void pending(void)
{
	int fd = tcp();

	if (connect(fd, (struct sockaddr *)&laddr, sizeof(laddr)) < 0)
		fail("connect: %s", strerror(errno));
}

static long try_accept(void)
{
	struct sockaddr_storage ss;

	pending();
	return accept(lfd, (struct sockaddr *)&ss, bad);
}

static long try_accept4(void)
{
	struct sockaddr_storage ss;

	pending();
	return accept4(lfd, (struct sockaddr *)&ss, bad, SOCK_CLOEXEC);
}

/* Run fn in a child: it must return -1 with EFAULT. */
static void expect_efault(const char *name, long (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0) {
		long rc;

		errno = 0;
		rc = fn();
		if (rc != -1 || errno != EFAULT) {
			fprintf(stderr,
				"FAIL: %s: returned %ld, errno %s, want -1 "
				"EFAULT\n",
				name, rc, strerror(errno));
			_exit(1);
		}
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		fail("waitpid: %s", strerror(errno));
	if (WIFSIGNALED(status))
		fail("%s with a bad pointer: killed by signal %d (%s), want -1 "
		     "EFAULT",
		     name, WTERMSIG(status), strsignal(WTERMSIG(status)));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		exit(1);
}

int main(int argc, char **argv)
{
	bool accepts = !(argc > 1 && strcmp(argv[1], "no-accept") == 0);

	bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bad == MAP_FAILED)
		fail("mmap: %s", strerror(errno));
	lfd = listener_in(&laddr);
	expect_efault("connect", try_connect);
	expect_efault("sendto MSG_FASTOPEN", try_sendto);
	expect_efault("sendmsg MSG_FASTOPEN (msghdr)", try_sendmsg);
	expect_efault("sendmsg MSG_FASTOPEN (msg_name)", try_sendmsg_name);
	if (accepts) {
		expect_efault("accept (address length)", try_accept);
		expect_efault("accept4 (address length)", try_accept4);
	}
	printf("ok: bad pointers: connect, sendto, sendmsg x2%s return EFAULT\n",
	       accepts ? ", accept, accept4" : "");
	return 0;
}
