/*
 * vanish.c - preloaded into `kashim --status PID` by tests/cmd/run.sh: at
 * the second readlinkat() (kashim reading the entries of /proc/PID/fd),
 * kill the process KASHIM_TEST_VANISH_PID names and wait until it has
 * exited, so that it goes away in the middle of the scan, every time.
 */
#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef ssize_t readlinkat_fn(int, const char *, char *, size_t);

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

ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t len)
{
	static readlinkat_fn *real;
	static int calls;
	const char *pid = getenv("KASHIM_TEST_VANISH_PID");

	if (!real)
		real = (readlinkat_fn *)dlsym(RTLD_NEXT, "readlinkat");
	if (pid && ++calls == 2)
		vanish((pid_t)atoi(pid));
	return real ? real(dirfd, path, buf, len) : -1;
}
