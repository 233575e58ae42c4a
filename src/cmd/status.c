/*
 * status.c - `kashim --status PID|NAME... | --all`: what the kernel holds
 * for each TCP socket of live processes.
 *
 * Which processes: PIDs, process names (/proc/PID/comm, as pgrep -x),
 * or every process. Each one is scanned by scan_process(): each of its
 * fds is duplicated into this process with pidfd_getfd(), which needs
 * ptrace rights over PID; a socket is looked up by the duplicate's own
 * inode in the TCP sockets of its network namespace (tcptab.c: state and
 * addresses, read once per namespace through sock_diag), and a TCP one
 * has its options read with getsockopt: the values shown are the
 * kernel's, not what kashim meant to set. `--apply` (apply.c) sets them
 * on the same duplicate. No other program is run. report.c prints the
 * answer.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "status.h"

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

/* The keep-alive options of socket s (a duplicate) into c. */
static void read_options(int s, struct conn *c)
{
	c->keepalive = int_opt(s, SOL_SOCKET, SO_KEEPALIVE);
	c->idle = int_opt(s, IPPROTO_TCP, TCP_KEEPIDLE);
	c->interval = int_opt(s, IPPROTO_TCP, TCP_KEEPINTVL);
	c->count = int_opt(s, IPPROTO_TCP, TCP_KEEPCNT);
	c->user_timeout = int_opt(s, IPPROTO_TCP, TCP_USER_TIMEOUT);
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

/* What one process's scan needs at hand. */
struct scan {
	struct status *st;
	const struct tcptab *tab;
	int pidfd;
	const struct kashim_settings *set; /* --apply: this process's */
};

/*
 * Add s, the duplicate of the process's fd, to the answer if it is a
 * TCP socket; closes s. The socket is looked up by the duplicate's own
 * inode, so an fd closed and reused since it was listed is taken for
 * what it holds now. Returns 0 or -ENOMEM.
 */
static int add_dup(struct scan *sc, int fd, int s)
{
	const struct tcp_entry *e;
	struct status *st = sc->st;
	struct conn *c;
	struct stat sb;
	unsigned long ino;

	if (fstat(s, &sb) < 0 || !S_ISSOCK(sb.st_mode)) {
		close(s);
		return 0;
	}
	ino = (unsigned long)sb.st_ino;
	e = kashim_tcptab_find(sc->tab, ino);
	if (kashim_grow(&st->conns, &st->conns_cap, st->nconns + 1, sizeof(*c)) < 0) {
		close(s);
		return -ENOMEM;
	}
	c = &st->conns[st->nconns];
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	if (e) {
		c->v6 = e->v6;
		c->state = e->state;
		c->local = e->local;
		c->peer = e->peer;
	}
	if (e || read_unlisted(s, c)) {
		read_options(s, c);
		if (st->opts->apply)
			kashim_apply_socket(st, sc->tab, sc->set, s, c);
		st->nconns++;
	}
	close(s);
	return 0;
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
	int s = (int)syscall(SYS_pidfd_getfd, sc->pidfd, fd, 0);

	if (s < 0) /* EBADF: closed meanwhile, not an error */
		return errno == EBADF ? 0 : dup_error(errno);
	return add_dup(sc, fd, s);
}

static int by_fd(const void *a, const void *b)
{
	return ((const struct conn *)a)->fd - ((const struct conn *)b)->fd;
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
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
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
		int s = (int)syscall(SYS_pidfd_getfd, sc->pidfd, fd, 0);

		if (s >= 0) {
			left--;
			rc = add_dup(sc, fd, s);
		} else if (errno != EBADF) {
			rc = dup_error(errno);
		}
	}
	return rc;
}

/* Is pid a kernel thread (PF_KTHREAD in /proc/PID/stat)? It holds no
 * sockets, so one kashim may not read is not worth a mention. */
static bool kernel_thread(pid_t pid)
{
	char path[64], buf[512], *p;
	unsigned long flags = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* after the name: state ppid pgrp session
				* tty_nr tpgid flags */
	for (int field = 0; p && field < 7; field++)
		p = strchr(p + 1, ' ');
	if (p)
		flags = strtoul(p + 1, NULL, 10);
	return (flags & 0x00200000UL) != 0; /* PF_KTHREAD */
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
			const char *name)
{
	struct scan sc = { st, NULL, -1, NULL };
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
	rc = scan_fds(&sc, pid);
	if (rc == 0 && !proc_still_there(sc.pidfd))
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
	if (p->n)
		qsort(st->conns + p->first, p->n, sizeof(*st->conns), by_fd);
	st->nprocs++;
	return 0;
}

/* The name of process pid (/proc/PID/comm) into name[16]. */
static int read_comm(pid_t pid, char *name)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, name, 15);
	close(fd);
	if (n <= 0)
		return -1;
	name[n] = '\0';
	name[strcspn(name, "\n")] = '\0';
	return 0;
}

/* A PID operand: digits only, above 0. Returns it or -1. */
static pid_t parse_pid(const char *text)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || *end || v <= 0 || v > 0x7fffffff)
		return -1;
	return (pid_t)v;
}

/* Is pid among the processes to scan already (a PID given twice)? */
static bool seen(const struct cands *c, pid_t pid)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].pid == pid)
			return true;
	return false;
}

/* Add pid to the processes to scan. Returns 0 or -ENOMEM. */
static int add_cand(struct cands *c, pid_t pid, const char *name, bool asked)
{
	struct cand *k;

	if (kashim_grow(&c->v, &c->cap, c->n + 1, sizeof(*k)) < 0)
		return -ENOMEM;
	k = &c->v[c->n++];
	memset(k, 0, sizeof(*k));
	k->pid = pid;
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->asked = asked;
	return 0;
}

/* The mode's option, for messages. */
static const char *mode_name(const struct kashim_status_opts *o)
{
	return o->apply ? "--apply" : "--status";
}

/* The PID operands, in the order given; a missing one is named.
 * Returns 0, 1 (one missing) or -ENOMEM. */
static int pick_pids(const struct kashim_status_opts *o, struct cands *c)
{
	int rc = 0;

	for (int i = 0; i < o->ntargets; i++) {
		pid_t pid = parse_pid(o->targets[i]);
		char name[16];

		if (pid < 0 || seen(c, pid))
			continue;
		if (read_comm(pid, name) == 0) {
			if (add_cand(c, pid, name, true) < 0)
				return -ENOMEM;
			continue;
		}
		fprintf(stderr, "kashim: %s: no process with PID %d\n",
			mode_name(o), (int)pid);
		rc = 1;
	}
	return rc;
}

/* Does operand match comm as pgrep -x does? A name longer than the 15
 * characters the kernel keeps is compared on its first 15. */
static bool comm_matches(const char *operand, const char *comm)
{
	if (strlen(operand) <= 15)
		return strcmp(operand, comm) == 0;
	return strlen(comm) == 15 && strncmp(operand, comm, 15) == 0;
}

/* Is comm one of the NAME operands? Marks each one it matches. */
static bool name_wanted(const struct kashim_status_opts *o, const char *comm,
			bool *found)
{
	bool any = false;

	for (int i = 0; i < o->ntargets; i++) {
		if (parse_pid(o->targets[i]) < 0 &&
		    comm_matches(o->targets[i], comm)) {
			found[i] = true;
			any = true;
		}
	}
	return any;
}

/*
 * Every process of /proc: all of them (--all, but for this one) or
 * those whose name is a NAME operand. Returns 0 or -errno.
 */
static int pick_proc_dir(const struct kashim_status_opts *o, struct cands *c,
			 bool *found)
{
	bool dedup = c->n > 0; /* PID operands came first */
	DIR *d = opendir("/proc");
	struct dirent *e;
	int rc = 0;

	if (!d)
		return -errno;
	while (rc == 0 && (e = readdir(d))) {
		pid_t pid = parse_pid(e->d_name);
		char name[16];

		if (pid < 0 || pid == getpid() || read_comm(pid, name) < 0)
			continue;
		if (!o->all && !name_wanted(o, name, found))
			continue;
		if (!dedup || !seen(c, pid))
			rc = add_cand(c, pid, name, false);
	}
	closedir(d);
	return rc;
}

/* NAME operands that matched no process: say so. Returns 1 if any. */
static int names_missing(const struct kashim_status_opts *o, const bool *found)
{
	int rc = 0;

	for (int i = 0; i < o->ntargets; i++) {
		if (parse_pid(o->targets[i]) >= 0 || found[i])
			continue;
		fprintf(stderr, "kashim: %s: no process named '%s'\n",
			mode_name(o), o->targets[i]);
		rc = 1;
	}
	return rc;
}

/* Does any operand name a process rather than a PID? */
static bool has_names(const struct kashim_status_opts *o)
{
	for (int i = 0; i < o->ntargets; i++)
		if (parse_pid(o->targets[i]) < 0)
			return true;
	return false;
}

/* Why processes could not be read, as one hint for the line. */
static const char *refusal_hint(int err)
{
	if (err == EPERM || err == EACCES)
		return "it needs ptrace rights over a process (ptrace "
		       "access mode PTRACE_MODE_ATTACH_REALCREDS): run it as "
		       "root or with CAP_SYS_PTRACE, or as the process's own "
		       "user where ptrace is allowed (kernel.yama.ptrace_scope "
		       "0, or 1 for your own children)";
	if (err == ENOSYS)
		return "it needs pidfd_open() and pidfd_getfd(): Linux "
		       "5.6 or later";
	return strerror(err);
}

void kashim_status_refused(const struct status *st)
{
	if (!st->nrefused)
		return;
	fprintf(stderr, "kashim: %s: %zu process%s not inspectable:",
		mode_name(st->opts), st->nrefused, st->nrefused == 1 ? "" : "es");
	for (size_t i = 0; i < st->nrefused; i++)
		fprintf(stderr, "%s %s (%d)", i ? "," : "", st->refused[i].name,
			(int)st->refused[i].pid);
	fprintf(stderr, "; %s\n", refusal_hint(st->refused[0].err));
}

/* The exit status the answer earns (see kashim_cmd_status()). */
static int verdict(const struct status *st, int rc)
{
	bool asked = st->opts->ntargets > 0;

	if (rc || (asked && st->nrefused))
		return 1;
	for (size_t i = 0; st->opts->limit && i < st->nconns; i++)
		if (kashim_conn_cut(&st->conns[i], st->opts->limit))
			return KASHIM_EXIT_CUT;
	return 0;
}

/* A PID operand gone before or during its scan: say so. Returns 1 if any. */
static int pids_gone(const struct cands *c, const char *mode)
{
	int rc = 0;

	for (size_t i = 0; i < c->n; i++) {
		if (!c->v[i].asked ||
		    (c->v[i].rc != -ESRCH && c->v[i].rc != KASHIM_SCAN_GONE))
			continue;
		if (c->v[i].rc == -ESRCH)
			fprintf(stderr, "kashim: %s: no process with PID %d\n",
				mode, (int)c->v[i].pid);
		else
			fprintf(stderr,
				"kashim: %s: process %d went away during the scan\n",
				mode, (int)c->v[i].pid);
		rc = 1;
	}
	return rc;
}

int kashim_status_scan(struct status *st, struct tcptabs *tabs)
{
	const struct kashim_status_opts *o = st->opts;
	bool *found = calloc((size_t)o->ntargets + 1, sizeof(bool));
	struct cands c = { .tabs = tabs };
	int rc = found ? pick_pids(o, &c) : -ENOMEM;

	if (rc >= 0 && (o->all || has_names(o))) {
		int r = pick_proc_dir(o, &c, found);

		rc = r < 0 ? r : rc | names_missing(o, found);
	}
	if (rc >= 0) {
		int r = kashim_scan_parallel(st, &c);

		rc = r < 0 ? r : rc | pids_gone(&c, mode_name(o));
	}
	free(found);
	free(c.v);
	return rc;
}

int kashim_cmd_status(const struct kashim_status_opts *o)
{
	struct status st = { .opts = o };
	struct tcptabs *tabs = kashim_tcptabs_new();
	int rc = tabs ? kashim_status_scan(&st, tabs) : -ENOMEM;

	kashim_tcptabs_free(tabs);
	if (rc < 0) {
		fprintf(stderr, "kashim: --status: %s\n", strerror(-rc));
		rc = 1;
	} else {
		kashim_status_refused(&st);
		kashim_status_print(&st);
		rc = verdict(&st, rc);
	}
	free(st.procs);
	free(st.conns);
	free(st.refused);
	return fflush(stdout) == 0 ? rc : 1;
}

int kashim_cmd_path_limit(const char *text, struct kashim_status_opts *o)
{
	const struct kashim_preset *p = kashim_preset_by_name(text);
	char *end;
	long v;

	if (p && p->limit) {
		o->limit = p->limit;
		o->limit_name = p->name;
		return 0;
	}
	errno = 0;
	v = strtol(text, &end, 10);
	if (isdigit((unsigned char)*text) && !*end && !errno && v >= 1 &&
	    v <= KASHIM_IDLE_MAX) {
		o->limit = (int)v;
		o->limit_name = NULL;
		return 0;
	}
	fprintf(stderr, "kashim: --path-limit: '%s' is neither a number of "
			"seconds from 1 to %d nor a preset with a limit (",
		text, KASHIM_IDLE_MAX);
	for (size_t i = 0, n = 0; i < kashim_npresets; i++)
		if (kashim_presets[i].limit)
			fprintf(stderr, "%s%s %d s", n++ ? ", " : "",
				kashim_presets[i].name, kashim_presets[i].limit);
	fprintf(stderr, ")\n");
	return -1;
}
