/*
 * scan.c - one process's scan for `kashim --status`: its TCP sockets as
 * the kernel holds them.
 *
 * Each fd of the process is duplicated into this process with
 * pidfd_getfd(), which needs ptrace rights over PID; a socket is looked
 * up by the duplicate's own cookie (or inode) in the TCP sockets of its
 * network namespace (tcptab.c: state and addresses, read once per
 * namespace through sock_diag), and a TCP one has its options read with
 * getsockopt: the values shown are the kernel's, not what kashim meant
 * to set. `--apply` sets them on the same duplicate (applysock.c).
 * With io_uring (uring.h), the TCP sockets are taken in batches of 32:
 * the cookies and SO_KEEPALIVE of a batch are read in one system call,
 * and the sets of a batch are made in one more. status.c picks the
 * processes, parallel.c runs the scans over the CPUs.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "status.h"
#include "procfs.h"

int kashim_grow(void *v, size_t *cap, size_t want, size_t size)
{
	void **p = v;
	size_t n = *cap ? *cap : 64;
	void *nv;

	if (want <= *cap)
		return 0;
	while (n < want)
		n *= 2;
	nv = realloc(*p, n * size);
	if (!nv)
		return -1;
	*p = nv;
	*cap = n;
	return 0;
}

/* An int option of socket s, or -1 when the kernel will not say. */
static int int_opt(int s, int level, int name)
{
	int v;
	socklen_t len = sizeof(v);

	return getsockopt(s, level, name, &v, &len) == 0 ? v : -1;
}

/* An address from getsockname() or getpeername() into e. */
static void endpoint_from(struct endpoint *e, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

	e->known = true;
	/* False positive: the analyzer does not see getsockname() fill ss. */
	/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
	if (ss->ss_family == AF_INET) {
		memcpy(e->addr, &in->sin_addr, 4);
		e->port = ntohs(in->sin_port);
	} else {
		memcpy(e->addr, &in6->sin6_addr, 16);
		e->port = ntohs(in6->sin6_port);
	}
}

/*
 * A socket the TCP tables do not list (made since they were read, or in
 * another namespace): ask the duplicate s itself. False unless TCP/IP.
 */
static bool read_unlisted(int s, struct conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct tcp_info ti;
	int domain = int_opt(s, SOL_SOCKET, SO_DOMAIN);

	if (int_opt(s, SOL_SOCKET, SO_PROTOCOL) != IPPROTO_TCP ||
	    (domain != AF_INET && domain != AF_INET6))
		return false;
	c->v6 = domain == AF_INET6;
	if (getsockname(s, (struct sockaddr *)&ss, &len) == 0)
		endpoint_from(&c->local, &ss);
	len = sizeof(ss);
	if (getpeername(s, (struct sockaddr *)&ss, &len) == 0)
		endpoint_from(&c->peer, &ss);
	len = sizeof(ti);
	c->state = getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0
			   ? ti.tcpi_state
			   : 0;
	return true;
}

/* The fd number an entry of /proc/PID/fd names, or -1. */
static int fd_number(const char *name)
{
	char *end;
	long v = strtol(name, &end, 10);

	return (*name && !*end && v >= 0 && v <= 0x7fffffff) ? (int)v : -1;
}

/* Duplicates held open at most, to be closed together. */
#define HELD_MAX 32
_Static_assert(HELD_MAX * KASHIM_NOPTS <= KASHIM_RING_ENTRIES,
	       "a ring holds every set of a batch");

/* What one process's scan needs at hand. */
struct scan {
	struct status *st;
	const struct tcptab *tab;
	int pidfd;
	const struct kashim_settings *set; /* --apply: this process's */
	struct kashim_ring *ring; /* NULL: a system call at a time */
	int held[HELD_MAX]; /* duplicates done with, not yet closed */
	int nheld;
	struct dupsock pend[HELD_MAX]; /* the ring's next batch */
	int npend;
};

/* For qsort(): fd numbers, lowest first. */
static int by_number(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/*
 * Close the duplicates held. Each one came from the lowest free fd, so
 * they are mostly runs of numbers: a run held whole (every number in it
 * is one of ours, whatever other threads open) goes in one
 * close_range(); a lone one, or any on a kernel without it, by close().
 */
static void close_held(struct scan *sc)
{
	qsort(sc->held, (size_t)sc->nheld, sizeof(int), by_number);
	for (int i = 0, j; i < sc->nheld; i = j) {
		for (j = i + 1;
		     j < sc->nheld && sc->held[j] == sc->held[j - 1] + 1; j++)
			;
		if (j - i > 1 && syscall(SYS_close_range, sc->held[i],
					 sc->held[j - 1], 0) == 0)
			continue;
		for (int k = i; k < j; k++)
			close(sc->held[k]);
	}
	sc->nheld = 0;
}

static int flush(struct scan *sc);

/* Duplicate fd of the process; at the fd limit, the batch is finished
 * and the held ones closed first, then the ring. Returns the duplicate,
 * or -1 with errno. */
static int dup_fd(struct scan *sc, int fd)
{
	int s = (int)syscall(SYS_pidfd_getfd, sc->pidfd, fd, 0);

	if (s < 0 && errno == EMFILE && (sc->nheld || sc->npend)) {
		int rc = flush(sc);

		close_held(sc);
		if (rc < 0) {
			errno = -rc;
			return -1;
		}
		s = (int)syscall(SYS_pidfd_getfd, sc->pidfd, fd, 0);
	}
	if (s < 0 && errno == EMFILE && sc->ring) {
		/* The ring's own fd is the one missing: do without it. */
		kashim_ring_close(sc->ring);
		sc->ring = NULL;
		s = (int)syscall(SYS_pidfd_getfd, sc->pidfd, fd, 0);
	}
	return s;
}

/* Done with duplicate s: held, to be closed with the next ones. */
static void done_with(struct scan *sc, int s)
{
	if (sc->nheld == HELD_MAX)
		close_held(sc);
	sc->held[sc->nheld++] = s;
}

/*
 * What duplicate s is known by in the scan's table: its cookie when the
 * table has cookies, else its inode. False when s is not a socket.
 */
static bool key_of(const struct scan *sc, int s, uint64_t *key)
{
	struct stat sb;
	socklen_t len = sizeof(*key);

	if (kashim_tcptab_by_cookie(sc->tab))
		return getsockopt(s, SOL_SOCKET, SO_COOKIE, key, &len) == 0;
	if (fstat(s, &sb) < 0 || !S_ISSOCK(sb.st_mode))
		return false;
	*key = (uint64_t)sb.st_ino;
	return true;
}

/*
 * Add d, the duplicate of a socket of the process known by key, to the
 * answer if it is a TCP socket, with its options read (or set: --apply).
 * The socket is looked up by the duplicate's own cookie or inode, so an
 * fd closed and reused since it was listed is taken for what it holds
 * now. Returns 0 or -ENOMEM.
 */
static int add_dup(struct scan *sc, struct dupsock *d, uint64_t key)
{
	const struct tcp_entry *e = kashim_tcptab_find(sc->tab, key);
	struct status *st = sc->st;
	struct conn *c;

	if (kashim_grow(&st->conns, &st->conns_cap, st->nconns + 1, sizeof(*c)) < 0)
		return -ENOMEM;
	c = &st->conns[st->nconns];
	memset(c, 0, sizeof(*c));
	c->fd = d->fd;
	if (e) {
		c->v6 = e->v6;
		c->state = e->state;
		c->local = e->local;
		c->peer = e->peer;
	}
	if (e || read_unlisted(d->s, c)) {
		d->conn = st->nconns;
		if (st->opts->apply) /* reads what its answer shows */
			kashim_apply_socket(st, sc->tab, sc->set, d, c);
		else
			kashim_read_options(d, c, KASHIM_OPT_ALL);
		st->nconns++;
	}
	return 0;
}

/* Make the sets queued for pend[0 .. n) and settle them (what the ring
 * could not do is done with setsockopt(): kashim_apply_settle()). */
static void settle(struct scan *sc, int n)
{
	(void)kashim_ring_submit(sc->ring); /* a failure: res < 0, redone */
	for (int i = 0; i < n; i++) {
		struct dupsock *d = &sc->pend[i];

		if (d->nset) {
			kashim_apply_settle(&sc->st->conns[d->conn], d);
			d->nset = 0;
		}
	}
}

/* Does an earlier fd of the batch hold pend[i]'s socket too (a socket
 * the process holds twice, after dup())? */
static bool held_twice(const struct scan *sc, int i)
{
	for (int j = 0; j < i; j++)
		if (sc->pend[j].cookie == sc->pend[i].cookie)
			return true;
	return false;
}

/*
 * Finish the ring's batch: the cookies and SO_KEEPALIVE of its sockets
 * read in one submit, each socket added (add_dup()), the sets --apply
 * queued made in a second submit and settled, the duplicates held to be
 * closed. A socket the ring could not read is asked with system calls.
 * A socket on two fds of the batch is looked at as one fd after the
 * other would be: the first one's sets made, then read anew. Returns 0
 * or -ENOMEM.
 */
static int flush(struct scan *sc)
{
	int rc = 0, n = sc->npend;
	int cookie_res[HELD_MAX], keepalive_res[HELD_MAX];
	bool sets = false;

	sc->npend = 0;
	if (n == 0)
		return 0;
	for (int i = 0; i < n; i++) {
		struct dupsock *d = &sc->pend[i];

		cookie_res[i] = keepalive_res[i] = -EIO;
		kashim_ring_get(sc->ring, d->s, SOL_SOCKET, SO_COOKIE, &d->cookie,
				sizeof(d->cookie), &cookie_res[i]);
		kashim_ring_get(sc->ring, d->s, SOL_SOCKET, SO_KEEPALIVE,
				&d->v.keepalive, sizeof(d->v.keepalive),
				&keepalive_res[i]);
	}
	(void)kashim_ring_submit(sc->ring); /* a failure: every res < 0 */
	for (int i = 0; i < n && rc == 0; i++) {
		struct dupsock *d = &sc->pend[i];
		uint64_t key = d->cookie;
		bool sock = cookie_res[i] == (int)sizeof(d->cookie) ||
			    key_of(sc, d->s, &key);

		d->cookie = sock ? key : 0;
		if (sock && held_twice(sc, i)) {
			if (sets)
				settle(sc, i);
			sets = false;
			d->known = 0; /* read before those sets */
		} else if (keepalive_res[i] == (int)sizeof(d->v.keepalive)) {
			d->known |= 1u << KASHIM_OPT_KA;
		}
		d->ring = sc->ring->fd >= 0 ? sc->ring : NULL;
		if (sock)
			rc = add_dup(sc, d, key);
		sets = sets || d->nset;
	}
	if (sets)
		settle(sc, n);
	for (int i = 0; i < n; i++)
		done_with(sc, sc->pend[i].s);
	return rc;
}

/*
 * Take s, the duplicate of the process's fd. With a ring, its first
 * option is read at once: that read is what tells a TCP socket from any
 * other file, and only a socket may go to the ring (a device's own
 * io_uring commands would take a socket command for one of theirs). A
 * TCP socket joins the ring's batch; anything else that is a socket is
 * looked at now, as without a ring. Returns 0 or -ENOMEM.
 */
static int take_dup(struct scan *sc, int fd, int s)
{
	struct dupsock now = { .s = s, .fd = fd };
	socklen_t len = sizeof(now.v.idle);
	uint64_t key;
	int rc = 0;

	if (sc->ring) {
		if (getsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &now.v.idle, &len) == 0) {
			struct dupsock *d = &sc->pend[sc->npend++];

			*d = now;
			d->known = 1u << KASHIM_OPT_IDLE;
			return sc->npend == HELD_MAX ? flush(sc) : 0;
		}
		if (errno == ENOTSOCK) {
			done_with(sc, s);
			return 0;
		}
	}
	if (key_of(sc, s, &key))
		rc = add_dup(sc, &now, key);
	done_with(sc, s);
	return rc;
}

/* What a failed pidfd_getfd() means: ESRCH, through the pidfd of a
 * process that was there, that it exited during the scan. */
static int dup_error(int err)
{
	return err == ESRCH ? KASHIM_SCAN_GONE : -err;
}

/* Add socket fd of the process if it is TCP. Returns 0 or -errno
 * (EPERM: no ptrace rights). */
static int add_socket(struct scan *sc, int fd)
{
	int s = dup_fd(sc, fd);

	if (s < 0) /* EBADF: closed meanwhile, not an error */
		return errno == EBADF ? 0 : dup_error(errno);
	return take_dup(sc, fd, s);
}

static int by_fd(const void *a, const void *b)
{
	return ((const struct conn *)a)->fd - ((const struct conn *)b)->fd;
}

/* Are the n sockets at c in fd order already (as fd by fd probing finds
 * them)? */
static bool in_fd_order(const struct conn *c, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (c[i].fd < c[i - 1].fd)
			return false;
	return true;
}

/* Add the TCP sockets among the fds listed in /proc/PID/fd (each one
 * duplicated: no link read). Returns 0 or -errno. */
static int list_fds(struct scan *sc, pid_t pid)
{
	char dir[64];
	struct dirent *e;
	DIR *d;
	int rc = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	while (rc == 0 && (e = readdir(d))) {
		int fd = fd_number(e->d_name);

		if (fd >= 0)
			rc = add_socket(sc, fd);
	}
	closedir(d);
	return rc;
}

/* Fd tables up to this size are probed fd by fd rather than listed. */
#define PROBE_MAX 65536

/* The size of process pid's fd table (FDSize in /proc/PID/status), or
 * -1 when it cannot be read. */
static int fd_table_size(pid_t pid)
{
	char path[64], buf[1024], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (kashim_read_text(path, buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, "\nFDSize:");
	return p ? (int)strtol(p + 8, NULL, 10) : -1;
}

/* How many fds process pid has open: the size Linux 6.2 and later give
 * /proc/PID/fd; 0 when the kernel does not say. */
static long fds_open(pid_t pid)
{
	char path[64];
	struct stat sb;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	return stat(path, &sb) == 0 ? (long)sb.st_size : 0;
}

/*
 * Add the process's TCP sockets. When at least a quarter of its fd table
 * is in use (as the kernel tells from Linux 6.2), each fd number is
 * duplicated in turn (a closed one answers EBADF at once) until every
 * open fd was seen: no /proc/PID/fd listing, whose every entry costs the
 * kernel a lookup. A sparse or huge table is listed instead. Returns 0
 * or -errno.
 */
static int scan_fds(struct scan *sc, pid_t pid)
{
	int size = fd_table_size(pid), rc = 0;
	long left = fds_open(pid);

	if (size < 0 || size > PROBE_MAX || left <= 0 || 4 * left < size)
		return list_fds(sc, pid);
	for (int fd = 0; rc == 0 && fd < size && left > 0; fd++) {
		int s = dup_fd(sc, fd);

		if (s >= 0) {
			left--;
			rc = take_dup(sc, fd, s);
		} else if (errno != EBADF) {
			rc = dup_error(errno);
		}
	}
	return rc;
}

/* Flags of the kernel's task_struct, as /proc/PID/stat shows them. */
#define PF_EXITING 0x00000004UL /* the process is being torn down */
#define PF_KTHREAD 0x00200000UL

/*
 * The state letter and the flags field of /proc/PID/stat. Returns 0, or
 * -1 when it cannot be read (the process is gone).
 */
static int read_stat(pid_t pid, char *state, unsigned long *flags)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (kashim_read_text(path, buf, sizeof(buf)) < 0)
		return -1;
	/* After the name: state ppid pgrp session tty_nr tpgid flags. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return -1;
	*state = p[2];
	for (int field = 0; p && field < 7; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -1;
	*flags = strtoul(p + 1, NULL, 10);
	return 0;
}

/* Is pid a kernel thread (PF_KTHREAD)? It holds no sockets, so one
 * kashim may not read is not worth a mention. */
static bool kernel_thread(pid_t pid)
{
	unsigned long flags = 0;
	char state;

	return read_stat(pid, &state, &flags) == 0 && (flags & PF_KTHREAD);
}

/*
 * Is pid on its way out: killed or exiting (PF_EXITING), or a zombie?
 * Its fds go before its pidfd says it has exited, so a scan in that
 * window sees some sockets or none. Read before the pidfd is polled:
 * the PID cannot be reused while the pidfd still says running.
 */
static bool proc_exiting(pid_t pid)
{
	unsigned long flags = 0;
	char state = 'R';

	if (read_stat(pid, &state, &flags) < 0)
		return false; /* reaped: the pidfd says so */
	return (flags & PF_EXITING) || state == 'Z' || state == 'X';
}

/*
 * Is the process pidfd refers to still running? A pidfd polls readable
 * once its process has exited, even when the PID has been reused since.
 */
static bool proc_still_there(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return poll(&p, 1, 0) == 0;
}

/* Note that pid could not be read, for the one line that names them. */
static int refuse(struct status *st, pid_t pid, const char *name, int err)
{
	struct refusal *r;

	if (kernel_thread(pid))
		return 0;

	if (kashim_grow(&st->refused, &st->refused_cap, st->nrefused + 1,
			sizeof(*r)) < 0)
		return -ENOMEM;
	r = &st->refused[st->nrefused++];
	r->pid = pid;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->err = err;
	return 0;
}

int kashim_scan_process(struct status *st, struct tcptabs *tabs, pid_t pid,
			const char *name, struct kashim_ring *ring)
{
	struct scan sc = { .st = st, .pidfd = -1 };
	struct proc *p;
	int rc;

	if (kashim_grow(&st->procs, &st->procs_cap, st->nprocs + 1, sizeof(*p)) < 0)
		return -ENOMEM;
	p = &st->procs[st->nprocs];
	p->pid = pid;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->first = st->nconns;
	sc.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (sc.pidfd < 0)
		return errno == ESRCH ? -ESRCH : refuse(st, pid, name, errno);
	sc.tab = kashim_tcptab_of(tabs, pid);
	if (st->opts->apply && !(sc.set = kashim_apply_settings(st, pid))) {
		close(sc.pidfd);
		return -ENOMEM;
	}
	/* The ring serves a table with cookies (one it cannot key, from
	 * /proc, needs an fstat() per socket anyway); it is set up then,
	 * after the table took the fds it needed. */
	if (ring && kashim_tcptab_by_cookie(sc.tab) && kashim_ring_ready(ring))
		sc.ring = ring;
	rc = scan_fds(&sc, pid);
	if (rc == 0)
		rc = flush(&sc);
	for (int i = 0; i < sc.npend; i++) /* a scan that failed */
		done_with(&sc, sc.pend[i].s);
	close_held(&sc);
	if (rc == 0 && (proc_exiting(pid) || !proc_still_there(sc.pidfd)))
		rc = KASHIM_SCAN_GONE; /* what was read is only a part */
	close(sc.pidfd);
	if (rc == -ENOENT || rc == -ESRCH)
		rc = -ESRCH;
	if (rc < 0) {
		st->nconns = p->first; /* what was read of it is dropped */
		return rc == -ESRCH || rc == KASHIM_SCAN_GONE || rc == -ENOMEM
			       ? rc
			       : refuse(st, pid, name, -rc);
	}
	p->n = st->nconns - p->first;
	if (p->n > 1 && !in_fd_order(st->conns + p->first, p->n))
		qsort(st->conns + p->first, p->n, sizeof(*st->conns), by_fd);
	st->nprocs++;
	return 0;
}
