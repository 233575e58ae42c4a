/*
 * tcptab.c - the kernel's TCP tables (/proc/PID/net/tcp and tcp6), read
 * once per network namespace and indexed by socket inode.
 *
 * `kashim --status` learns each socket's state and addresses here, so a
 * TCP socket costs it only the option reads, and a host with thousands
 * of connections costs one read of each table, not one per process.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "status.h"

/* One namespace's sockets, and an open-addressing index by inode. */
struct tcptab {
	unsigned long netns;
	bool bad; /* could not be read: every lookup misses */
	struct tcp_entry *v;
	size_t n, cap;
	uint32_t *slot; /* index + 1 into v, 0 for empty; mask + 1 slots */
	size_t mask;
};

/* The tables by namespace; each stays where it was made. */
struct tcptabs {
	pthread_mutex_t lock;
	struct tcptab **t;
	size_t n;
};

struct tcptabs *kashim_tcptabs_new(void)
{
	struct tcptabs *all = calloc(1, sizeof(*all));

	if (all && pthread_mutex_init(&all->lock, NULL) != 0) {
		free(all);
		return NULL;
	}
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

unsigned long kashim_link_inode(const char *text)
{
	const char *open = strchr(text, '[');

	return open ? strtoul(open + 1, NULL, 10) : 0;
}

/* The network namespace of pid, or 0 when it cannot be read. */
static unsigned long netns_of(pid_t pid)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = '\0';
	return kashim_link_inode(link);
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
	e->inode = strtoul(w[9], &end, 10);
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
		if (parse_line(line, v6, &e) && e.inode) /* 0: no fd holds it */
			rc = push(t, &e);
	fclose(f);
	return rc;
}

/* The first slot to try for inode (Fibonacci hashing: neighbouring
 * inodes land far apart). */
static size_t slot_of(const struct tcptab *t, unsigned long inode)
{
	return (size_t)((inode * 0x9E3779B97F4A7C15ull) >> 32) & t->mask;
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
		size_t h = slot_of(t, t->v[i].inode);

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
	t->bad = read_table(t, pid, "tcp", false) < 0 ||
		 read_table(t, pid, "tcp6", true) < 0 || index_table(t) < 0;
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

const struct tcp_entry *kashim_tcptab_find(const struct tcptab *t,
					   unsigned long inode)
{
	size_t h;

	if (!t || t->bad || !t->slot)
		return NULL;
	for (h = slot_of(t, inode); t->slot[h]; h = (h + 1) & t->mask)
		if (t->v[t->slot[h] - 1].inode == inode)
			return &t->v[t->slot[h] - 1];
	return NULL;
}
