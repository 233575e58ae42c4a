/*
 * vanish.c - preloaded into `kashim --status PID` by tests/cmd/run.sh: at
 * the second getsockopt() (kashim looking at the second fd it duplicated
 * from the process: a TCP option, or the socket cookie without io_uring),
 * kill the process KASHIM_TEST_VANISH_PID names and wait until it has
 * exited, so that it goes away in the middle of the scan, every time.
 */
#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef int getsockopt_fn(int, int, int, void *, socklen_t *);

/* Kill pid and wait (5 s at most) until its pidfd says it has exited. */
static void vanish(pid_t pid)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	kill(pid, SIGKILL);
	if (pidfd >= 0) {
		poll(&p, 1, 5000);
		close(pidfd);
	}
}

int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	static getsockopt_fn *real;
	static int calls;
	const char *pid = getenv("KASHIM_TEST_VANISH_PID");

	if (!real)
		real = (getsockopt_fn *)dlsym(RTLD_NEXT, "getsockopt");
	if (pid && ++calls == 2)
		vanish((pid_t)atoi(pid));
	return real ? real(fd, level, name, val, len) : -1;
}
