/*
 * tcptab.c - the kernel's TCP sockets, read once per network namespace
 * and indexed by socket cookie (or by inode, when read from /proc), with
 * the namespace's listening ports and keep-alive sysctls.
 *
 * `kashim --status` and `--apply` learn each socket's state and
 * addresses here, so a TCP socket costs them only the option reads, and
 * a host with thousands of connections costs one read per namespace,
 * not one per process. The sockets are asked for the way ss(8) asks:
 * netlink sock_diag, with the states wanted filtered in the kernel, so
 * TIME_WAIT entries (which no fd holds) cost nothing. A netlink socket
 * lists the namespace it was made in: for another namespace it is made
 * by a thread that joined it with setns() (CAP_SYS_ADMIN); without that
 * right, or without sock_diag, /proc/PID/net/tcp and tcp6 are read
 * whole instead, and the sysctls of a foreign namespace stay unknown.
 */
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "status.h"
#include "procfs.h"

/* One namespace's sockets, and an open-addressing index by cookie (or
 * by inode). */
struct tcptab {
	unsigned long netns;
	bool bad;       /* could not be read: every lookup misses */
	bool by_cookie; /* read through sock_diag: every key is a cookie */
	struct tcp_entry *v;
	size_t n, cap;
	uint32_t *slot; /* index + 1 into v, 0 for empty; mask + 1 slots */
	size_t mask;
	int sysctl[3];  /* keepalive time, intvl, probes; -1 unknown */
	uint8_t listening[65536 / 8]; /* ports some socket listens on */
};

/* The tables by namespace; each stays where it was made. */
struct tcptabs {
	pthread_mutex_t lock;
	unsigned long own; /* this process's namespace (0: unknown) */
	struct tcptab **t;
	size_t n;
};

/* The inode of a "socket:[N]" or "net:[N]" link text, or 0. */
static unsigned long link_inode(const char *text)
{
	const char *open = strchr(text, '[');

	return open ? strtoul(open + 1, NULL, 10) : 0;
}

/* The namespace a /proc/.../ns/net link names, 0 when it cannot be
 * read. */
static unsigned long ns_inode(const char *path)
{
	char link[64];
	ssize_t n = readlink(path, link, sizeof(link) - 1);

	if (n <= 0)
		return 0;
	link[n] = '\0';
	return link_inode(link);
}

/* The network namespace of pid, or 0 when it cannot be read. */
static unsigned long netns_of(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	return ns_inode(path);
}

struct tcptabs *kashim_tcptabs_new(void)
{
	struct tcptabs *all = calloc(1, sizeof(*all));

	if (all && pthread_mutex_init(&all->lock, NULL) != 0) {
		free(all);
		return NULL;
	}
	if (all)
		all->own = ns_inode("/proc/self/ns/net");
	return all;
}

void kashim_tcptabs_free(struct tcptabs *all)
{
	if (!all)
		return;
	for (size_t i = 0; i < all->n; i++) {
		free(all->t[i]->v);
		free(all->t[i]->slot);
		free(all->t[i]);
	}
	free(all->t);
	pthread_mutex_destroy(&all->lock);
	free(all);
}

/* Hex words of the table's address column into addr (as the kernel
 * printed each 32-bit word: in the host's own byte order). */
static void hex_addr(const char *hex, size_t words, uint8_t *addr)
{
	char word[9];

	memset(addr, 0, 16);
	for (size_t i = 0; i < words; i++) {
		uint32_t w;

		memcpy(word, hex + 8 * i, 8);
		word[8] = '\0';
		w = (uint32_t)strtoul(word, NULL, 16);
		memcpy(addr + 4 * i, &w, 4);
	}
}

/* "HEXADDR:HEXPORT" (words 32-bit words) into ep. Returns 0 or -1. */
static int parse_ep(const char *text, size_t words, struct endpoint *ep)
{
	const char *colon = strchr(text, ':');
	char *end;
	unsigned long port;

	if (!colon || (size_t)(colon - text) != 8 * words)
		return -1;
	port = strtoul(colon + 1, &end, 16);
	if (*end || port > 65535)
		return -1;
	hex_addr(text, words, ep->addr);
	ep->port = (uint16_t)port;
	return 0;
}

/*
 * Parse one line of a table into e (line is cut into words). Its words:
 * "N:", local, peer, state, queues, timer, retransmits, uid, timeout,
 * inode. Returns false for the header or anything else.
 */
static bool parse_line(char *line, bool v6, struct tcp_entry *e)
{
	char *w[10], *save = NULL, *end;
	size_t n = 0, words = v6 ? 4 : 1;
	unsigned long st;

	for (char *t = strtok_r(line, " \t\n", &save); t && n < 10;
	     t = strtok_r(NULL, " \t\n", &save))
		w[n++] = t;
	if (n < 10 || parse_ep(w[1], words, &e->local) < 0 ||
	    parse_ep(w[2], words, &e->peer) < 0)
		return false;
	st = strtoul(w[3], &end, 16);
	if (*end || st > 255)
		return false;
	e->key = strtoull(w[9], &end, 10); /* the inode */
	if (*end)
		return false;
	e->v6 = v6;
	e->state = (unsigned char)st;
	e->local.known = true;
	e->peer.known = e->peer.port != 0;
	return true;
}

/* Add e to t. Returns 0 or -1 (no memory). */
static int push(struct tcptab *t, const struct tcp_entry *e)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		struct tcp_entry *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return -1;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = *e;
	return 0;
}

/* Add e to t, noting a listener's port. Returns 0 or -1. */
static int add_entry(struct tcptab *t, const struct tcp_entry *e)
{
	if (e->state == TCP_LISTEN)
		t->listening[e->local.port / 8] |= (uint8_t)(1u << (e->local.port % 8));
	return push(t, e);
}

/* Read /proc/PID/net/NAME into t. Returns 0, or -1 when it cannot. */
static int read_table(struct tcptab *t, pid_t pid, const char *name, bool v6)
{
	/* The kernel fills it per read(), so big; one table is read at a
	 * time (under the lock of kashim_tcptab_of()). */
	static char buf[1 << 18];
	char path[64], line[512];
	struct tcp_entry e;
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pid, name);
	f = fopen(path, "re");
	if (!f) /* no IPv6 in this kernel: an empty tcp6 */
		return v6 ? 0 : -1;
	setvbuf(f, buf, _IOFBF, sizeof(buf));
	while (rc == 0 && fgets(line, sizeof(line), f))
		if (parse_line(line, v6, &e) && e.key) /* 0: no fd holds it */
			rc = add_entry(t, &e);
	fclose(f);
	return rc;
}

/* ---- netlink sock_diag ---- */

/*
 * The states asked for: every one an fd may hold. TIME_WAIT and the
 * request sockets of half-made connections (NEW_SYN_RECV, 12) have no
 * fd, and the kernel skips them without a word.
 */
#define DIAG_STATES (((1u << 12) - 2) & ~(1u << TCP_TIME_WAIT))

/* One inet_diag answer into t (if an fd holds it). Returns 0 or -1. */
static int add_diag(struct tcptab *t, const struct inet_diag_msg *m)
{
	struct tcp_entry e;

	if (!m->idiag_inode)
		return 0;
	memset(&e, 0, sizeof(e));
	e.key = m->id.idiag_cookie[0] | (uint64_t)m->id.idiag_cookie[1] << 32;
	e.v6 = m->idiag_family == AF_INET6;
	e.state = m->idiag_state;
	memcpy(e.local.addr, m->id.idiag_src, e.v6 ? 16 : 4);
	memcpy(e.peer.addr, m->id.idiag_dst, e.v6 ? 16 : 4);
	e.local.port = ntohs(m->id.idiag_sport);
	e.peer.port = ntohs(m->id.idiag_dport);
	e.local.known = true;
	e.peer.known = e.peer.port != 0;
	return add_entry(t, &e);
}

/*
 * The answers (of netlink type type) to one dump request on netlink
 * socket fd into t. Returns 0, or -1 (errno set) when the kernel refused
 * or a read failed.
 */
static int diag_answers(int fd, int type, struct tcptab *t, char *buf,
			size_t len)
{
	for (;;) {
		ssize_t n = recv(fd, buf, len, 0);
		const struct nlmsghdr *h = (const struct nlmsghdr *)buf;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *err = NLMSG_DATA(h);

				errno = err->error ? -err->error : EPROTO;
				return -1;
			}
			if (h->nlmsg_type == type &&
			    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg)) &&
			    add_diag(t, NLMSG_DATA(h)) < 0)
				return -1;
		}
	}
}

/*
 * Send one dump request (netlink type type, its body of blen bytes) on
 * netlink socket fd and read the answers into t. Returns 0 or -1.
 */
static int diag_ask(int fd, int type, const void *body, size_t blen,
		    struct tcptab *t, char *buf, size_t len)
{
	struct {
		struct nlmsghdr h;
		union {
			struct inet_diag_req_v2 v2;
			struct inet_diag_req v1;
		} r;
	} req;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = (uint32_t)NLMSG_LENGTH(blen);
	req.h.nlmsg_type = (uint16_t)type;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = 1;
	memcpy(&req.r, body, blen);
	if (send(fd, &req, req.h.nlmsg_len, 0) < 0)
		return -1;
	return diag_answers(fd, type, t, buf, len);
}

/* Dump the TCP sockets of family in the namespace of this thread into
 * t, through netlink socket fd. Returns 0 or -1. */
static int diag_dump(int fd, int family, struct tcptab *t, char *buf,
		     size_t len)
{
	struct inet_diag_req_v2 r = {
		.sdiag_family = (uint8_t)family,
		.sdiag_protocol = IPPROTO_TCP,
		.idiag_states = DIAG_STATES,
	};

	return diag_ask(fd, SOCK_DIAG_BY_FAMILY, &r, sizeof(r), t, buf, len);
}

/*
 * Both families in one dump, through the older TCPDIAG_GETSOCK request,
 * which the kernel answers with one walk of its connection table (the
 * newer request walks it once per family, TIME_WAIT entries included).
 * Returns 0 or -1.
 */
static int diag_dump_both(int fd, struct tcptab *t, char *buf, size_t len)
{
	struct inet_diag_req r = {
		.idiag_family = AF_INET,
		.idiag_states = DIAG_STATES,
	};

	return diag_ask(fd, TCPDIAG_GETSOCK, &r, sizeof(r), t, buf, len);
}

/* Drop what a failed read put into t. */
static void empty(struct tcptab *t)
{
	t->n = 0;
	memset(t->listening, 0, sizeof(t->listening));
}

/* Every TCP socket of this thread's namespace into t, through sock_diag.
 * Returns 0, or -1 when sock_diag cannot answer (t then left empty). */
static int read_diag(struct tcptab *t)
{
	const size_t len = 1 << 16;
	char *buf = malloc(len);
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	int rc = -1;

	if (fd >= 0 && buf && diag_dump_both(fd, t, buf, len) == 0)
		rc = 0;
	else if (fd >= 0 && buf) {
		empty(t);
		rc = diag_dump(fd, AF_INET, t, buf, len);
		/* A kernel without IPv6 has no sockets of it to list. */
		if (rc == 0 && diag_dump(fd, AF_INET6, t, buf, len) < 0 &&
		    errno != ENOENT && errno != EAFNOSUPPORT)
			rc = -1;
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	if (rc < 0)
		empty(t);
	return rc;
}

/* A sysctl of this thread's namespace (an int), or -1. */
static int read_sysctl(const char *name)
{
	char path[96], buf[32];

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s", name);
	if (kashim_read_text(path, buf, sizeof(buf)) < 0)
		return -1;
	return (int)strtol(buf, NULL, 10);
}

/* The keep-alive sysctls of this thread's namespace into t. */
static void read_sysctls(struct tcptab *t)
{
	t->sysctl[0] = read_sysctl("tcp_keepalive_time");
	t->sysctl[1] = read_sysctl("tcp_keepalive_intvl");
	t->sysctl[2] = read_sysctl("tcp_keepalive_probes");
}

/* What a thread in another namespace is to read. */
struct ns_job {
	struct tcptab *t;
	pid_t pid;
	int rc; /* 0 read, -1 sock_diag failed, -2 could not join */
};

/* A thread: join the network namespace of job->pid and read it there.
 * The thread ends after, so nothing else runs in that namespace. */
static void *in_namespace(void *arg)
{
	struct ns_job *job = arg;
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)job->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		job->rc = -2;
	} else {
		read_sysctls(job->t);
		job->rc = read_diag(job->t);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

/*
 * Fill t with the sockets of namespace t->netns, pid being one of its
 * processes: sock_diag here (here: it is this process's namespace) or
 * from a thread that joined it, else the /proc tables. Returns 0 or -1.
 */
static int read_namespace(struct tcptab *t, pid_t pid, bool here)
{
	struct ns_job job = { t, pid, -2 };
	pthread_t th;

	t->sysctl[0] = t->sysctl[1] = t->sysctl[2] = -1;
	if (here) {
		read_sysctls(t);
		job.rc = read_diag(t);
	} else if (pthread_create(&th, NULL, in_namespace, &job) == 0) {
		pthread_join(th, NULL);
	}
	t->by_cookie = job.rc == 0;
	if (job.rc == 0)
		return 0;
	return read_table(t, pid, "tcp", false) < 0 ||
			       read_table(t, pid, "tcp6", true) < 0
		       ? -1
		       : 0;
}

/* The first slot to try for key (Fibonacci hashing: neighbouring
 * inodes and cookies land far apart). */
static size_t slot_of(const struct tcptab *t, uint64_t key)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & t->mask;
}

/* Build t's index: twice as many slots as sockets, a power of two. */
static int index_table(struct tcptab *t)
{
	size_t size = 64;

	while (size < 2 * t->n)
		size *= 2;
	t->slot = calloc(size, sizeof(*t->slot));
	if (!t->slot)
		return -1;
	t->mask = size - 1;
	for (size_t i = 0; i < t->n; i++) {
		size_t h = slot_of(t, t->v[i].key);

		while (t->slot[h])
			h = (h + 1) & t->mask;
		t->slot[h] = (uint32_t)(i + 1);
	}
	return 0;
}

/* The table of namespace ns, read through pid the first time; NULL when
 * out of memory. The caller holds all->lock. */
static const struct tcptab *table_locked(struct tcptabs *all, unsigned long ns,
					 pid_t pid)
{
	struct tcptab **v, *t;

	for (size_t i = 0; i < all->n; i++)
		if (all->t[i]->netns == ns)
			return all->t[i];
	/* An array of pointers: the size of a pointer is meant. */
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	v = realloc(all->t, (all->n + 1) * sizeof(*v));
	t = v ? calloc(1, sizeof(*t)) : NULL;
	if (v)
		all->t = v;
	if (!t)
		return NULL;
	all->t[all->n++] = t;
	t->netns = ns;
	t->bad = read_namespace(t, pid, ns == all->own) < 0 ||
		 index_table(t) < 0;
	return t;
}

const struct tcptab *kashim_tcptab_of(struct tcptabs *all, pid_t pid)
{
	unsigned long ns = netns_of(pid);
	const struct tcptab *t;

	if (!ns || !all)
		return NULL;
	pthread_mutex_lock(&all->lock);
	t = table_locked(all, ns, pid);
	pthread_mutex_unlock(&all->lock);
	return t;
}

bool kashim_tcptab_by_cookie(const struct tcptab *t)
{
	return t && t->by_cookie;
}

const struct tcp_entry *kashim_tcptab_find(const struct tcptab *t,
					   uint64_t key)
{
	size_t h;

	if (!t || t->bad || !t->slot)
		return NULL;
	for (h = slot_of(t, key); t->slot[h]; h = (h + 1) & t->mask)
		if (t->v[t->slot[h] - 1].key == key)
			return &t->v[t->slot[h] - 1];
	return NULL;
}

void kashim_tcptab_sysctls(const struct tcptab *t, int *idle, int *interval,
			   int *count)
{
	*idle = t ? t->sysctl[0] : -1;
	*interval = t ? t->sysctl[1] : -1;
	*count = t ? t->sysctl[2] : -1;
}

bool kashim_tcptab_listens(const struct tcptab *t, uint16_t port)
{
	return t && !t->bad && (t->listening[port / 8] & (1u << (port % 8)));
}
