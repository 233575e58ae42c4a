/*
 * status.c - `kashim-bpf status`: every attachment pinned under
 * /sys/fs/bpf/kashim/, whether its cgroup still exists, the settings in
 * force and how many sockets were set or left alone.
 */
#include <ctype.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kbpf.h"

/* Open pin name of the attachment in dir. */
static int open_pin(const char *dir, const char *name)
{
	char path[256];
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);

	return n < 0 || (size_t)n >= sizeof(path) ? -1 : bpf_obj_get(path);
}

/*
 * Is the attachment in dir (named after its cgroup's id) still on a live
 * cgroup? The link says so once the kernel has released the cgroup;
 * until then, a removed directory (or a new one at the path) tells.
 */
static bool attached(const char *dir, const char *path)
{
	struct bpf_link_info info;
	uint32_t len = sizeof(info);
	int fd = open_pin(dir, "sockops");
	const char *id = strrchr(dir, '/') + 1;
	struct stat st;
	bool alive;

	memset(&info, 0, sizeof(info));
	alive = fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
		info.cgroup.cgroup_id != 0;
	if (fd >= 0)
		close(fd);
	return alive && stat(path, &st) == 0 &&
	       st.st_ino == strtoull(id, NULL, 10);
}

/* One line for the values of rule entry v. */
static void print_values(const struct kbpf_values *v, bool top)
{
	printf("  %s%s%s: ", top ? "" : "rule \"", v->name, top ? "" : "\"");
	if (!(v->flags & KBPF_V_ENABLE)) {
		printf("enable = false (left alone)\n");
		return;
	}
	printf("idle %u, interval %u, count %u, user_timeout %u ms%s, override "
	       "%s\n",
	       v->idle, v->intvl, v->cnt, v->uto,
	       v->uto ? "" : " (the kernel's)",
	       v->flags & KBPF_V_OVERRIDE ? "true" : "false");
}

/* The rules and the top level in force, from the pinned maps. */
static void print_settings(const char *dir, const struct kbpf_conf *c)
{
	struct kbpf_values v;
	int fd = open_pin(dir, "kashim_rules");

	if (!c->enable)
		printf("  enable = false: every socket is left alone\n");
	for (uint32_t i = 0; fd >= 0 && c->enable && i <= c->nrules; i++)
		if (bpf_map_lookup_elem(fd, &i, &v) == 0)
			print_values(&v, i == c->nrules);
	if (fd >= 0)
		close(fd);
}

/* The counters, summed over every CPU. */
static void print_counters(const char *dir)
{
	int ncpu = libbpf_num_possible_cpus(),
	    fd = open_pin(dir, "kashim_stats");
	uint64_t sum[KBPF_NSTATS] = {0}, *per;

	per = ncpu > 0 ? calloc((size_t)ncpu, sizeof(*per)) : NULL;
	for (uint32_t n = 0; fd >= 0 && per && n < KBPF_NSTATS; n++)
		if (bpf_map_lookup_elem(fd, &n, per) == 0)
			for (int cpu = 0; cpu < ncpu; cpu++)
				sum[n] += per[cpu];
	printf("  sockets: %" PRIu64 " set, %" PRIu64
	       " left to the program's own choice, %" PRIu64
	       " matching no rule, %" PRIu64
	       " matching enable = false; %" PRIu64
	       " option(s) refused by the kernel\n",
	       sum[KBPF_ST_SET], sum[KBPF_ST_OWN], sum[KBPF_ST_NO_RULE],
	       sum[KBPF_ST_DISABLED], sum[KBPF_ST_REFUSED]);
	free(per);
	if (fd >= 0)
		close(fd);
}

bool kbpf_print_existing(int fd, const char *lead)
{
	uint64_t v[KBPF_EX_N] = {0};

	for (uint32_t k = 0; fd >= 0 && k < KBPF_EX_N; k++)
		bpf_map_lookup_elem(fd, &k, &v[k]);
	if (!v[KBPF_EX_DONE])
		return false;
	printf("%s%" PRIu64 " set, %" PRIu64
	       " left to the program's own choice, %" PRIu64
	       " matching no rule, %" PRIu64
	       " matching enable = false (%" PRIu64 " network namespace(s))\n",
	       lead, v[KBPF_ST_SET], v[KBPF_ST_OWN], v[KBPF_ST_NO_RULE],
	       v[KBPF_ST_DISABLED], v[KBPF_EX_NETNS]);
	return true;
}

/* What the pass over the connections already open did at attach. */
static void print_existing(const char *dir)
{
	int fd = open_pin(dir, "kashim_existing");

	if (!kbpf_print_existing(fd, "  connections already open at attach: "))
		printf("  connections already open at attach: not covered "
		       "(--no-existing, or a kernel older than 5.15 or "
		       "without BTF)\n");
	if (fd >= 0)
		close(fd);
}

/* Print the attachment pinned in dir. Returns 0, or -1 if unreadable. */
static int print_one(const char *dir)
{
	struct kbpf_conf c;
	uint32_t zero = 0;
	int fd = open_pin(dir, "kashim_conf");
	int rc = fd < 0 ? -1 : bpf_map_lookup_elem(fd, &zero, &c);

	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		printf("%s: unreadable (run kashim-bpf detach, or remove it)\n",
		       dir);
		return -1;
	}
	c.cgroup[sizeof(c.cgroup) - 1] = '\0';
	if (!attached(dir, c.cgroup)) {
		printf("%s: the cgroup is gone (kashim-bpf detach --cgroup %s "
		       "removes the pins)\n",
		       c.cgroup, c.cgroup);
		return 0;
	}
	printf("%s: attached (%u rule(s))\n", c.cgroup, c.nrules);
	print_settings(dir, &c);
	print_counters(dir);
	print_existing(dir);
	return 0;
}

int kbpf_status(void)
{
	char dir[128];
	struct dirent *e;
	DIR *d = opendir(KBPF_PIN_DIR);
	int n = 0, rc = 0;

	while (d && (e = readdir(d))) {
		int len = snprintf(dir, sizeof(dir), "%s/%s", KBPF_PIN_DIR,
				   e->d_name);

		if (!isdigit((unsigned char)e->d_name[0]) || len < 0 ||
		    (size_t)len >= sizeof(dir))
			continue;
		rc |= print_one(dir);
		n++;
	}
	if (d)
		closedir(d);
	if (!n)
		printf("kashim-bpf is attached nowhere\n");
	return rc ? 1 : 0;
}
