/*
 * cmd_status.c - `kashim --status PID`: what the kernel holds for each TCP
 * socket of a live process.
 *
 * The sockets are listed from /proc/PID/fd; each one is duplicated into
 * this process with pidfd_getfd() (which needs ptrace rights over PID)
 * and read with getsockname, getpeername and getsockopt, so the values
 * shown are the kernel's, not what kashim meant to set.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cmd.h"

/* One endpoint of a connection. */
struct endpoint {
	char addr[INET6_ADDRSTRLEN];
	unsigned port;
	bool known; /* false: not connected (a listener, say) */
};

/* One TCP socket of the process; an option that cannot be read is -1. */
struct row {
	int fd;
	bool v6;
	struct endpoint local, peer;
	const char *state;
	int keepalive, idle, interval, count, user_timeout;
};

struct table {
	struct row *v;
	size_t n;
};

static const char *const tcp_states[] = {
	[TCP_ESTABLISHED] = "ESTABLISHED", [TCP_SYN_SENT] = "SYN_SENT",
	[TCP_SYN_RECV] = "SYN_RECV",       [TCP_FIN_WAIT1] = "FIN_WAIT1",
	[TCP_FIN_WAIT2] = "FIN_WAIT2",     [TCP_TIME_WAIT] = "TIME_WAIT",
	[TCP_CLOSE] = "CLOSE",             [TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCP_LAST_ACK] = "LAST_ACK",       [TCP_LISTEN] = "LISTEN",
	[TCP_CLOSING] = "CLOSING",
};

/* An int option of socket s, or -1 when the kernel will not say. */
static int int_opt(int s, int level, int name)
{
	int v;
	socklen_t len = sizeof(v);

	return getsockopt(s, level, name, &v, &len) == 0 ? v : -1;
}

/* Fill e from an address of family AF_INET or AF_INET6. */
static void endpoint_from(struct endpoint *e, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

	e->known = true;
	/* False positive: the analyzer does not see getsockname() fill ss. */
	/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &in->sin_addr, e->addr, sizeof(e->addr));
		e->port = ntohs(in->sin_port);
	} else {
		inet_ntop(AF_INET6, &in6->sin6_addr, e->addr, sizeof(e->addr));
		e->port = ntohs(in6->sin6_port);
	}
}

/* The TCP state of s by name, from TCP_INFO. */
static const char *state_of(int s)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	    ti.tcpi_state >= sizeof(tcp_states) / sizeof(*tcp_states) ||
	    !tcp_states[ti.tcpi_state])
		return "?";
	return tcp_states[ti.tcpi_state];
}

/* Read socket s (a duplicate) into r. Returns false unless it is TCP/IP. */
static bool read_socket(int s, struct row *r)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int domain = int_opt(s, SOL_SOCKET, SO_DOMAIN);

	if (int_opt(s, SOL_SOCKET, SO_PROTOCOL) != IPPROTO_TCP ||
	    (domain != AF_INET && domain != AF_INET6))
		return false;
	memset(r, 0, sizeof(*r));
	r->v6 = domain == AF_INET6;
	if (getsockname(s, (struct sockaddr *)&ss, &len) == 0)
		endpoint_from(&r->local, &ss);
	len = sizeof(ss);
	if (getpeername(s, (struct sockaddr *)&ss, &len) == 0)
		endpoint_from(&r->peer, &ss);
	r->state = state_of(s);
	r->keepalive = int_opt(s, SOL_SOCKET, SO_KEEPALIVE);
	r->idle = int_opt(s, IPPROTO_TCP, TCP_KEEPIDLE);
	r->interval = int_opt(s, IPPROTO_TCP, TCP_KEEPINTVL);
	r->count = int_opt(s, IPPROTO_TCP, TCP_KEEPCNT);
	r->user_timeout = int_opt(s, IPPROTO_TCP, TCP_USER_TIMEOUT);
	return true;
}

/* The fd number an entry of /proc/PID/fd names, or -1. */
static int fd_number(const char *name)
{
	char *end;
	long v = strtol(name, &end, 10);

	return (*name && !*end && v >= 0 && v <= 0x7fffffff) ? (int)v : -1;
}

/* Is fd (an entry of the open directory dfd) a socket? */
static bool is_socket(int dfd, const char *name)
{
	char link[64];
	ssize_t n = readlinkat(dfd, name, link, sizeof(link) - 1);

	if (n < 0)
		return false;
	link[n] = '\0';
	return strncmp(link, "socket:", 7) == 0;
}

/*
 * Add the socket behind fd of the process to t if it is TCP.
 * Returns 0 or -errno.
 */
static int add_fd(struct table *t, int pidfd, int fd)
{
	int s = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	struct row *v;
	int rc = 0;

	if (s < 0) /* EBADF: closed meanwhile, not an error */
		return errno == EBADF ? 0 : -errno;
	v = realloc(t->v, (t->n + 1) * sizeof(*t->v));
	if (!v) {
		rc = -ENOMEM;
		goto out;
	}
	t->v = v;
	if (read_socket(s, &t->v[t->n])) {
		t->v[t->n].fd = fd;
		t->n++;
	}
out:
	close(s);
	return rc;
}

static int by_fd(const void *a, const void *b)
{
	return ((const struct row *)a)->fd - ((const struct row *)b)->fd;
}

/* Fill t with the TCP sockets of pid, in fd order. Returns 0 or -errno. */
static int collect(pid_t pid, int pidfd, struct table *t)
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

		if (fd >= 0 && is_socket(dirfd(d), e->d_name))
			rc = add_fd(t, pidfd, fd);
	}
	closedir(d);
	if (t->n)
		qsort(t->v, t->n, sizeof(*t->v), by_fd);
	return rc;
}

/* Say why the sockets of pid cannot be read; returns the exit status 1. */
static int explain(pid_t pid, int err)
{
	if (err == ESRCH || err == ENOENT) {
		fprintf(stderr, "kashim: --status: no process with PID %d\n",
			(int)pid);
		return 1;
	}
	fprintf(stderr,
		"kashim: --status: cannot read the sockets of process %d: %s\n",
		(int)pid, strerror(err));
	if (err == EPERM || err == EACCES)
		fprintf(stderr,
			"kashim: --status needs ptrace rights over the "
			"process (ptrace access mode "
			"PTRACE_MODE_ATTACH_REALCREDS): run it as root or with "
			"CAP_SYS_PTRACE, or as the process's own user where "
			"ptrace is allowed (kernel.yama.ptrace_scope 0, or 1 "
			"for your own children)\n");
	else if (err == ENOSYS)
		fprintf(stderr, "kashim: --status needs pidfd_open() and "
				"pidfd_getfd(): Linux 5.6 or later\n");
	return 1;
}

/* The text for an option that is on (v > 0), off (0) or unknown (-1). */
static const char *flag(int v, const char *unknown, const char *on,
			const char *off)
{
	if (v < 0)
		return unknown;
	return v ? on : off;
}

/* An int value for the table: the number, or "?" when unknown. */
static const char *num(int v, char *buf, size_t len)
{
	if (v < 0)
		return "?";
	snprintf(buf, len, "%d", v);
	return buf;
}

/* An endpoint as "ADDR:PORT", "[ADDR6]:PORT" or "*". */
static const char *ep_text(const struct endpoint *e, bool v6, char *buf,
			   size_t len)
{
	if (!e->known)
		return "*";
	snprintf(buf, len, v6 ? "[%s]:%u" : "%s:%u", e->addr, e->port);
	return buf;
}

/* The aligned table for people. */
static void print_table(const struct table *t)
{
	char l[64], p[64], b[4][16];
	int wl = 5, wp = 4;

	for (size_t i = 0; i < t->n; i++) {
		const struct row *r = &t->v[i];
		int nl = (int)strlen(ep_text(&r->local, r->v6, l, sizeof(l)));
		int np = (int)strlen(ep_text(&r->peer, r->v6, p, sizeof(p)));

		wl = nl > wl ? nl : wl;
		wp = np > wp ? np : wp;
	}
	printf("%-4s %-*s %-*s %-11s %-9s %5s %8s %5s %12s\n", "FD", wl,
	       "LOCAL", wp, "PEER", "STATE", "KEEPALIVE", "IDLE", "INTERVAL",
	       "COUNT", "USER_TIMEOUT");
	for (size_t i = 0; i < t->n; i++) {
		const struct row *r = &t->v[i];

		printf("%-4d %-*s %-*s %-11s %-9s %5s %8s %5s %12s\n", r->fd,
		       wl, ep_text(&r->local, r->v6, l, sizeof(l)), wp,
		       ep_text(&r->peer, r->v6, p, sizeof(p)), r->state,
		       flag(r->keepalive, "?", "on", "off"),
		       num(r->idle, b[0], 16), num(r->interval, b[1], 16),
		       num(r->count, b[2], 16), num(r->user_timeout, b[3], 16));
	}
	if (t->n == 0)
		printf("(no TCP sockets)\n");
}

/* An endpoint as JSON: {"address": …, "port": …} or null. */
static void json_ep(const struct endpoint *e)
{
	if (e->known)
		printf("{\"address\": \"%s\", \"port\": %u}", e->addr, e->port);
	else
		printf("null");
}

/* An int as JSON: the number, or null when unknown. */
static void json_int(const char *name, int v, const char *after)
{
	if (v < 0)
		printf("\"%s\": null%s", name, after);
	else
		printf("\"%s\": %d%s", name, v, after);
}

/* One JSON object for scripts: {"pid": N, "sockets": [...]}. */
static void print_json(pid_t pid, const struct table *t)
{
	printf("{\"pid\": %d, \"sockets\": [", (int)pid);
	for (size_t i = 0; i < t->n; i++) {
		const struct row *r = &t->v[i];

		printf("%s\n  {\"fd\": %d, \"family\": \"%s\", \"local\": ",
		       i ? "," : "", r->fd, r->v6 ? "ipv6" : "ipv4");
		json_ep(&r->local);
		printf(", \"peer\": ");
		json_ep(&r->peer);
		printf(", \"state\": \"%s\", \"keepalive\": %s, ", r->state,
		       flag(r->keepalive, "null", "true", "false"));
		json_int("idle", r->idle, ", ");
		json_int("interval", r->interval, ", ");
		json_int("count", r->count, ", ");
		json_int("user_timeout", r->user_timeout, "}");
	}
	printf("%s]}\n", t->n ? "\n" : "");
}

int kashim_cmd_status(pid_t pid, bool json)
{
	struct table t = { NULL, 0 };
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int rc;

	if (pidfd < 0)
		return explain(pid, errno);
	rc = collect(pid, pidfd, &t);
	close(pidfd);
	if (rc < 0) {
		free(t.v);
		return explain(pid, -rc);
	}
	if (json)
		print_json(pid, &t);
	else
		print_table(&t);
	free(t.v);
	return fflush(stdout) == 0 ? 0 : 1;
}
