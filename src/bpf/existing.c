/*
 * existing.c - the connections a cgroup already holds when kashim-bpf
 * attaches: the iter/tcp program of kashim.bpf.c (built with -DKBPF_ITER)
 * walks every TCP socket of one network namespace and puts the rule's
 * values on each connection (established or connecting) made in the
 * cgroup or below it, with the same maps and the same decision as the
 * sock_ops program.
 *
 * It runs after the sock_ops program is attached, so a connection made
 * meanwhile is set by one or the other (or both, with the same values).
 * An iterator sees the network namespace of the process that creates
 * it: this process enters each namespace of the cgroup's processes in
 * turn with setns(2), creates the iterator there and comes back.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "kbpf.h"
#include "gen/kashim_iter.skel.h"

/* Reads of one iterator: each one walks up to a million sockets. */
#define MAX_READS 4096

/* A network namespace open as fd, known by its inode. */
struct netns {
	int fd;
	dev_t dev;
	ino_t ino;
};

/* The network namespaces of the cgroup's processes, each once. */
struct nslist {
	struct netns *ns;
	size_t n, cap;
};

/* Can this kernel run the pass: Linux 5.15 or later with BTF? */
static bool iter_kernel(char *rel, size_t len)
{
	return kbpf_kernel_version(rel, len) >= 5015 &&
	       access("/sys/kernel/btf/vmlinux", R_OK) == 0;
}

/* Add the network namespace of pid to l, once. Returns 0 or -1 (memory). */
static int add_netns(struct nslist *l, const char *pid)
{
	char path[64];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/ns/net", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) /* gone meanwhile */
		goto skip;
	for (size_t i = 0; i < l->n; i++)
		if (l->ns[i].ino == st.st_ino && l->ns[i].dev == st.st_dev)
			goto skip;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		struct netns *ns = realloc(l->ns, cap * sizeof(*ns));

		if (!ns) {
			close(fd);
			return -1;
		}
		l->ns = ns;
		l->cap = cap;
	}
	l->ns[l->n++] = (struct netns){fd, st.st_dev, st.st_ino};
	return 0;
skip:
	if (fd >= 0)
		close(fd);
	return 0;
}

/* Add the namespaces of the processes of cgroup dir to l. */
static int read_procs(const char *dir, struct nslist *l)
{
	char path[4096], pid[32];
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	while (f && rc == 0 && fgets(pid, sizeof(pid), f)) {
		pid[strcspn(pid, "\n")] = '\0';
		rc = add_netns(l, pid);
	}
	if (f)
		fclose(f);
	return rc;
}

/* Push a copy of path onto the stack of cgroups to visit. */
static int push(char ***todo, size_t *n, size_t *cap, const char *path)
{
	char *copy = strdup(path);

	if (copy && *n == *cap) {
		size_t c = *cap ? 2 * *cap : 16;
		char **t = realloc(*todo, c * sizeof(*t));

		if (!t) {
			free(copy);
			return -1;
		}
		*todo = t;
		*cap = c;
	}
	if (!copy)
		return -1;
	(*todo)[(*n)++] = copy;
	return 0;
}

/*
 * Collect the namespaces of the processes in cgroup top and every cgroup
 * below it (a stack of directories still to visit, no recursion).
 * Returns 0, or -1 when out of memory.
 */
static int walk_cgroup(const char *top, struct nslist *l)
{
	char **todo = NULL, path[4096];
	size_t n = 0, cap = 0;
	int rc = push(&todo, &n, &cap, top);

	while (rc == 0 && n > 0) {
		char *dir = todo[--n];
		DIR *d = opendir(dir);
		struct dirent *e;

		rc = read_procs(dir, l);
		while (d && rc == 0 && (e = readdir(d))) {
			int len;

			if (e->d_type != DT_DIR || e->d_name[0] == '.')
				continue;
			len = snprintf(path, sizeof(path), "%s/%s", dir,
				       e->d_name);
			if (len > 0 && (size_t)len < sizeof(path))
				rc = push(&todo, &n, &cap, path);
		}
		if (d)
			closedir(d);
		free(dir);
	}
	while (n > 0)
		free(todo[--n]);
	free(todo);
	return rc;
}

/* Close and free l. */
static void free_nslist(struct nslist *l)
{
	for (size_t i = 0; i < l->n; i++)
		close(l->ns[i].fd);
	free(l->ns);
}

/*
 * Open the iter object with only its iter/tcp program, on the maps
 * pinned for cgid (settings, socket storage, counters), and load it.
 */
static struct kashim_iter *load_iter(uint64_t cgid, char *err, size_t errlen)
{
	struct kashim_iter *skel = kashim_iter__open();
	struct bpf_program *p;
	struct bpf_map *m;
	char dir[256];

	if (!skel) {
		snprintf(err, errlen, "cannot open the embedded BPF object: %s",
			 strerror(errno));
		return NULL;
	}
	for (p = bpf_object__next_program(skel->obj, NULL); p;
	     p = bpf_object__next_program(skel->obj, p))
		bpf_program__set_autoload(p, p == skel->progs.kashim_iter_tcp);
	snprintf(dir, sizeof(dir), "%s/%" PRIu64, KBPF_PIN_DIR, cgid);
	bpf_object__for_each_map(m, skel->obj)
	{
		if (!bpf_map__is_internal(m) &&
		    kbpf_reuse_pinned(m, dir, err, errlen) < 0)
			goto fail;
	}
	if (kashim_iter__load(skel)) {
		snprintf(err, errlen,
			 "the kernel refused the iter/tcp program: %s "
			 "(kashim-bpf attach --verbose shows the verifier's "
			 "log)",
			 strerror(errno));
		goto fail;
	}
	return skel;
fail:
	kashim_iter__destroy(skel);
	return NULL;
}

/* Run the iterator to its end: the program does its work as it walks. */
static int drain(int fd)
{
	char buf[64];
	ssize_t n = 1;

	for (int i = 0; i < MAX_READS && n != 0; i++) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
	}
	return n == 0 ? 0 : -1;
}

/*
 * One pass in the network namespace open as nsfd, coming back to self.
 * Returns 0, or -1 with err.
 */
static int pass(struct kashim_iter *skel, struct bpf_link *link, int nsfd,
		int self, char *err, size_t errlen)
{
	int fd, saved;

	memset(skel->bss->kashim_listening, 0,
	       sizeof(skel->bss->kashim_listening));
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		snprintf(err, errlen, "cannot enter a network namespace: %s",
			 strerror(errno));
		return -1;
	}
	fd = bpf_iter_create(bpf_link__fd(link));
	saved = errno;
	if (setns(self, CLONE_NEWNET) < 0) {
		snprintf(err, errlen,
			 "cannot come back to this network namespace: %s",
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fd < 0 || drain(fd) < 0) {
		snprintf(err, errlen,
			 "the iterator over TCP sockets failed: %s",
			 strerror(fd < 0 ? saved : errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Write the number of namespaces passed; print what the pass did. */
static void report(struct kashim_iter *skel, uint64_t passes)
{
	int fd = bpf_map__fd(skel->maps.kashim_existing);
	uint64_t one = 1;
	uint32_t k = KBPF_EX_NETNS, done = KBPF_EX_DONE;

	bpf_map_update_elem(fd, &k, &passes, BPF_ANY);
	bpf_map_update_elem(fd, &done, &one, BPF_ANY);
	kbpf_print_existing(fd, "kashim-bpf: connections already open: ");
}

int kbpf_existing(uint64_t cgid, const char *path, char *err, size_t errlen)
{
	struct nslist l = {0};
	struct kashim_iter *skel = NULL;
	struct bpf_link *link = NULL;
	char rel[65];
	int self = -1, rc = -1;

	if (!iter_kernel(rel, sizeof(rel))) {
		snprintf(err, errlen,
			 "this kernel (%s) cannot cover the connections "
			 "already open (Linux 5.15 with BTF can): they keep "
			 "what they had until they reconnect",
			 rel);
		return 1;
	}
	skel = load_iter(cgid, err, errlen);
	if (!skel)
		return -1;
	skel->bss->kashim_existing_cgid = cgid;
	link = bpf_program__attach_iter(skel->progs.kashim_iter_tcp, NULL);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (!link || self < 0) {
		snprintf(err, errlen,
			 "cannot make an iterator over TCP sockets: %s",
			 strerror(errno));
		goto out;
	}
	if (walk_cgroup(path, &l) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < l.n; i++)
		if (pass(skel, link, l.ns[i].fd, self, err, errlen) < 0)
			goto out;
	report(skel, l.n);
	rc = 0;
out:
	if (self >= 0)
		close(self);
	bpf_link__destroy(link);
	kashim_iter__destroy(skel);
	free_nslist(&l);
	return rc;
}
