/*
 * bare.c - what `kashim --status --all` and `kashim --apply --all` ask
 * of the kernel, one system call per option and nothing else, for
 * bench/status.sh: what a socket costs this machine's kernel before
 * kashim adds a line of its own. (kashim itself reads SO_KEEPALIVE and
 * the socket cookie, and sets, through io_uring where the kernel offers
 * it, and so makes fewer system calls than this.)
 *
 * bare status: each fd of each process in /proc duplicated with
 *     pidfd_getfd() (found fd by fd or listed, as kashim does), fstat()
 *     for its inode, the five options read (SO_KEEPALIVE, TCP_KEEPIDLE,
 *     TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT), the duplicates
 *     closed 32 at a time (each run of numbers in one close_range()).
 * bare apply IDLE: the same with the four options --apply --override
 *     shows before it sets them, then TCP_KEEPIDLE set to IDLE (what
 *     --apply --override --idle IDLE changes on a socket that holds the
 *     rest already).
 * No TCP table, no output but a count of the sockets. Exits 1 on a bad
 * argument.
 */
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int get(int s, int level, int name)
{
	int v = 0;
	socklen_t len = sizeof(v);

	getsockopt(s, level, name, &v, &len);
	return v;
}

/* One socket: what the mode reads and sets. */
static void one(int s, int idle)
{
	struct stat sb;

	if (fstat(s, &sb) < 0 || !S_ISSOCK(sb.st_mode))
		return;
	get(s, SOL_SOCKET, SO_KEEPALIVE);
	get(s, IPPROTO_TCP, TCP_KEEPIDLE);
	get(s, IPPROTO_TCP, TCP_KEEPINTVL);
	get(s, IPPROTO_TCP, TCP_KEEPCNT);
	if (idle > 0)
		setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	else
		get(s, IPPROTO_TCP, TCP_USER_TIMEOUT);
}

/* Close the n duplicates at held: each run of numbers in one
 * close_range(), as kashim does (another fd of this process, a shell's
 * say, can sit between them). */
static void close_held(const int *held, int n)
{
	for (int i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && held[j] == held[j - 1] + 1; j++)
			;
		if (j - i > 1)
			syscall(SYS_close_range, held[i], held[j - 1], 0);
		else
			close(held[i]);
	}
}

/* What one process's scan holds. */
struct scan {
	int pidfd, idle, held[32], nheld;
	long n;
};

/* Duplicate fd of the process and do the socket's work. Returns 0, or
 * -1 when there is no such fd. */
static int take(struct scan *sc, int fd)
{
	int s = (int)syscall(SYS_pidfd_getfd, sc->pidfd, fd, 0);

	if (s < 0)
		return -1;
	sc->n++;
	one(s, sc->idle);
	sc->held[sc->nheld++] = s;
	if (sc->nheld == 32) {
		close_held(sc->held, sc->nheld);
		sc->nheld = 0;
	}
	return 0;
}

/* The size of process pid's fd table (FDSize in /proc/PID/status). */
static int table_size(int pid)
{
	char path[64], buf[1024], *p;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	buf[len] = '\0';
	p = strstr(buf, "\nFDSize:");
	return p ? atoi(p + 8) : -1;
}

/* Every fd of process pid, found as kashim finds them: fd by fd while
 * at least a quarter of the table is open (the kernel counts the open
 * ones: Linux 6.2 and later give /proc/PID/fd that size), else listed.
 * Returns how many. */
static long scan(int pid, int idle)
{
	struct scan sc = { .idle = idle };
	char path[64];
	struct stat sb;
	int size = table_size(pid);
	long left;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	if (stat(path, &sb) < 0 || (left = (long)sb.st_size) <= 0)
		return 0;
	sc.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (sc.pidfd < 0)
		return 0;
	if (size > 0 && 4 * left >= size) {
		for (int fd = 0; left > 0 && fd < size; fd++)
			if (take(&sc, fd) == 0)
				left--;
	} else {
		DIR *d = opendir(path);
		struct dirent *e;

		while (d && (e = readdir(d)))
			if (e->d_name[0] != '.')
				take(&sc, atoi(e->d_name));
		if (d)
			closedir(d);
	}
	close_held(sc.held, sc.nheld);
	close(sc.pidfd);
	return sc.n;
}

int main(int argc, char **argv)
{
	int idle = argc == 3 && !strcmp(argv[1], "apply") ? atoi(argv[2]) : 0;
	struct dirent *e;
	DIR *d;
	long n = 0;

	if (!(argc == 2 && !strcmp(argv[1], "status")) && idle <= 0) {
		fprintf(stderr, "usage: bare status | bare apply IDLE\n");
		return 1;
	}
	d = opendir("/proc");
	if (!d)
		return 1;
	while ((e = readdir(d)))
		if (atoi(e->d_name) > 1 && atoi(e->d_name) != getpid())
			n += scan(atoi(e->d_name), idle);
	closedir(d);
	printf("%ld fds\n", n);
	return 0;
}
