/*
 * attach.c - load the programs, fill their maps, attach them to a cgroup
 * through links, and pin links and maps under /sys/fs/bpf/kashim/ID/ so
 * they stay after the command exits.
 *
 * A first attach builds everything in a directory new_ID and renames it
 * into place (bpffs allows no '.' in a name), so a failure leaves nothing
 * behind. Attaching again loads new programs with new settings maps (keeping
 * the socket storage and the counters) and swaps each link to its new program
 * in one step.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "kbpf.h"
#include "gen/kashim.skel.h"

/* The link pins keep their names of old: "sockops" beside "sock_ops". */
const struct kbpf_prog kbpf_progs[KBPF_NPROGS] = {
	{"sock_create", "sock_create", BPF_CGROUP_INET_SOCK_CREATE},
	{"setsockopt", "setsockopt", BPF_CGROUP_SETSOCKOPT},
	{"sockops", "sock_ops", BPF_CGROUP_SOCK_OPS},
};

struct bpf_program *kbpf_prog_of(struct kashim_bpf *skel, int i)
{
	if (i == 0)
		return skel->progs.kashim_sock_create;
	if (i == 1)
		return skel->progs.kashim_setsockopt;
	return skel->progs.kashim_sockops;
}

const char *kbpf_pin_path(char *buf, size_t len, const char *dir,
			  const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? "" : buf;
}

void kbpf_remove_pins(const char *dir)
{
	char path[256];
	struct dirent *e;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlink(kbpf_pin_path(path, sizeof(path), dir,
					     e->d_name));
	if (d)
		closedir(d);
	rmdir(dir);
}

/* Is m one of the maps an update keeps (socket storage, counters)? */
static bool kept_map(struct kashim_bpf *skel, const struct bpf_map *m)
{
	return m == skel->maps.kashim_sk || m == skel->maps.kashim_stats;
}

/* Point map m at the map pinned as dir/NAME; 0, or -1 with err set. */
int kbpf_reuse_pinned(struct bpf_map *m, const char *dir, char *err,
		      size_t errlen)
{
	char path[256];
	int fd = bpf_obj_get(
		kbpf_pin_path(path, sizeof(path), dir, bpf_map__name(m)));
	int rc = fd < 0 ? -1 : bpf_map__reuse_fd(m, fd);

	if (fd >= 0)
		close(fd);
	if (rc < 0)
		snprintf(err, errlen, "%s: cannot reuse the pinned map: %s",
			 path, strerror(errno));
	return rc < 0 ? -1 : 0;
}

/* Reuse the pinned socket storage and counters of an earlier attach. */
static int reuse_maps(struct kashim_bpf *skel, const char *dir, char *err,
		      size_t errlen)
{
	if (kbpf_reuse_pinned(skel->maps.kashim_sk, dir, err, errlen) < 0)
		return -1;
	return kbpf_reuse_pinned(skel->maps.kashim_stats, dir, err, errlen);
}

/* Put one entry into map m. */
static int put(struct bpf_map *m, const void *key, size_t klen, const void *val,
	       size_t vlen)
{
	return bpf_map__update_elem(m, key, klen, val, vlen, BPF_ANY);
}

int kbpf_fill_maps(struct kashim_bpf *skel, const struct kbpf_image *im,
		   char *err, size_t errlen)
{
	uint32_t zero = 0;
	int rc = 0;

	for (uint32_t i = 0; i <= im->conf.nrules; i++)
		rc |= put(skel->maps.kashim_rules, &i, sizeof(i), &im->vals[i],
			  sizeof(im->vals[i]));
	for (uint32_t i = 0; i < im->conf.nseg; i++)
		rc |= put(skel->maps.kashim_ports, &i, sizeof(i), &im->segs[i],
			  sizeof(im->segs[i]));
	for (size_t i = 0; i < im->nhosts; i++)
		rc |= put(skel->maps.kashim_hosts, &im->hosts[i],
			  sizeof(im->hosts[i]), &im->host_mask[i], 8);
	for (size_t i = 0; i < im->nprogs; i++)
		rc |= put(skel->maps.kashim_progs, &im->progs[i],
			  sizeof(im->progs[i]), &im->prog_mask[i], 8);
	/* The conf entry last: until it is written, enable is 0. */
	rc |= put(skel->maps.kashim_conf, &zero, sizeof(zero), &im->conf,
		  sizeof(im->conf));
	if (rc)
		snprintf(err, errlen, "cannot fill the BPF maps: %s",
			 strerror(errno));
	return rc ? -1 : 0;
}

int kbpf_pin(int fd, const char *dir, const char *name, char *err,
	     size_t errlen)
{
	char path[256], tmp[256];

	kbpf_pin_path(path, sizeof(path), dir, name);
	snprintf(tmp, sizeof(tmp), "%s/new_%s", dir, name);
	unlink(tmp);
	if (bpf_obj_pin(fd, tmp) == 0 && rename(tmp, path) == 0)
		return 0;
	snprintf(err, errlen, "%s: cannot pin: %s", path, strerror(errno));
	unlink(tmp);
	return -1;
}

int kbpf_pin_maps(struct kashim_bpf *skel, const char *dir, bool skip_kept,
		  char *err, size_t errlen)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, skel->obj)
	{
		if (bpf_map__is_internal(m) || (skip_kept && kept_map(skel, m)))
			continue;
		if (kbpf_pin(bpf_map__fd(m), dir, bpf_map__name(m), err,
			     errlen) < 0)
			return -1;
	}
	return 0;
}

/* First attach: links and maps pinned in new_ID, then renamed to ID. */
static int attach_new(struct kashim_bpf *skel, int cgfd, const char *dir,
		      char *err, size_t errlen)
{
	struct bpf_link *l[KBPF_NPROGS] = {0};
	char tmp[128], path[256];
	int rc = -1;

	snprintf(tmp, sizeof(tmp), "%s/new_%s", KBPF_PIN_DIR,
		 strrchr(dir, '/') + 1);
	kbpf_remove_pins(tmp);
	if (mkdir(tmp, 0700) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	for (int i = 0; i < KBPF_NPROGS; i++) {
		l[i] = bpf_program__attach_cgroup(kbpf_prog_of(skel, i), cgfd);
		if (!l[i] ||
		    bpf_link__pin(l[i], kbpf_pin_path(path, sizeof(path), tmp,
						      kbpf_progs[i].link))) {
			snprintf(err, errlen,
				 "the kernel refused to attach %s to the "
				 "cgroup: %s",
				 kbpf_progs[i].link, strerror(errno));
			goto out;
		}
	}
	if (kbpf_pin_maps(skel, tmp, false, err, errlen) < 0)
		goto out;
	if (rename(tmp, dir) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (rc)
		kbpf_remove_pins(tmp);
	for (int i = 0; i < KBPF_NPROGS; i++)
		bpf_link__destroy(l[i]); /* closes; a pinned link stays */
	return rc;
}

/* The fd of the program link fd runs now, or -1. */
static int current_prog(int link_fd)
{
	struct bpf_link_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(link_fd, &info, &len) < 0)
		return -1;
	return bpf_prog_get_fd_by_id(info.prog_id);
}

/* Swap the pinned links in dir to the programs of skel, or none. */
static int swap_links(struct kashim_bpf *skel, const char *dir, char *err,
		      size_t errlen)
{
	int lfd[KBPF_NPROGS], old[KBPF_NPROGS], done = 0, rc = 0;
	char path[256];

	for (int i = 0; i < KBPF_NPROGS; i++) {
		lfd[i] = bpf_obj_get(kbpf_pin_path(path, sizeof(path), dir,
						   kbpf_progs[i].link));
		old[i] = lfd[i] < 0 ? -1 : current_prog(lfd[i]);
		if (old[i] < 0)
			rc = -1;
	}
	if (rc)
		snprintf(err, errlen,
			 "%s: an earlier attach is incomplete; run kashim-bpf "
			 "detach first",
			 dir);
	for (; !rc && done < KBPF_NPROGS; done++)
		if (bpf_link_update(lfd[done],
				    bpf_program__fd(kbpf_prog_of(skel, done)),
				    NULL) < 0) {
			snprintf(err, errlen,
				 "the kernel refused to replace %s: %s",
				 kbpf_progs[done].link, strerror(errno));
			rc = -1;
			break;
		}
	while (rc && done-- > 0) /* put back what was swapped */
		bpf_link_update(lfd[done], old[done], NULL);
	for (int i = 0; i < KBPF_NPROGS; i++) {
		if (lfd[i] >= 0)
			close(lfd[i]);
		if (old[i] >= 0)
			close(old[i]);
	}
	return rc;
}

/* libbpf's messages: shown with --verbose only. */
static int quiet_print(enum libbpf_print_level level, const char *fmt,
		       va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

struct kashim_bpf *kbpf_load(const char *reuse, bool verbose, char *err,
			     size_t errlen)
{
	struct kashim_bpf *skel;

	if (!verbose)
		libbpf_set_print(quiet_print);
	skel = kashim_bpf__open();
	if (!skel) {
		snprintf(err, errlen, "cannot open the embedded BPF object: %s",
			 strerror(errno));
		return NULL;
	}
	if (reuse && reuse_maps(skel, reuse, err, errlen) < 0)
		goto fail;
	if (kashim_bpf__load(skel)) {
		snprintf(err, errlen,
			 "the kernel refused the BPF programs: %s (kashim-bpf "
			 "attach --verbose shows the verifier's log)",
			 strerror(errno));
		goto fail;
	}
	return skel;
fail:
	kashim_bpf__destroy(skel);
	return NULL;
}

int kbpf_lock(char *err, size_t errlen)
{
	/* Left open: the lock goes when the process exits. */
	int fd = open(KBPF_PIN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", KBPF_PIN_DIR, strerror(errno));
		return -1;
	}
	/* Another one's turn lasts a fraction of a second: wait for it. */
	for (int i = 0; (rc = flock(fd, LOCK_EX | LOCK_NB)) < 0 &&
			errno == EWOULDBLOCK && i < KBPF_LOCK_WAIT * 10;
	     i++)
		usleep(100 * 1000);
	if (rc == 0)
		return 0;
	if (errno == EWOULDBLOCK)
		snprintf(err, errlen,
			 "another kashim-bpf attach or detach is in progress "
			 "(it has held the lock on %s for %d s); run this one "
			 "again when it has finished",
			 KBPF_PIN_DIR, KBPF_LOCK_WAIT);
	else
		snprintf(err, errlen, "%s: cannot lock: %s", KBPF_PIN_DIR,
			 strerror(errno));
	close(fd);
	return -1;
}

int kbpf_attach(int cgfd, uint64_t cgid, const struct kbpf_image *im,
		bool verbose, char *err, size_t errlen)
{
	struct kashim_bpf *skel;
	char dir[128];
	struct stat st;
	bool again;
	int rc = -1;

	snprintf(dir, sizeof(dir), "%s/%llu", KBPF_PIN_DIR,
		 (unsigned long long)cgid);
	again = stat(dir, &st) == 0;
	skel = kbpf_load(again ? dir : NULL, verbose, err, errlen);
	if (!skel)
		return -1;
	if (kbpf_fill_maps(skel, im, err, errlen) < 0)
		goto out;
	if (!again)
		rc = attach_new(skel, cgfd, dir, err, errlen);
	else if (swap_links(skel, dir, err, errlen) == 0)
		rc = kbpf_pin_maps(skel, dir, true, err, errlen);
out:
	kashim_bpf__destroy(skel);
	return rc;
}

/* The attachment whose recorded cgroup path is path, into dir. */
static int find_by_path(const char *path, char *dir, size_t len)
{
	struct kbpf_conf c;
	char p[256];
	struct dirent *e;
	DIR *d = opendir(KBPF_PIN_DIR);
	int found = -1;

	while (d && found < 0 && (e = readdir(d))) {
		uint32_t zero = 0;
		int fd;

		if (!isdigit((unsigned char)e->d_name[0]) ||
		    !*kbpf_pin_path(dir, len, KBPF_PIN_DIR, e->d_name))
			continue;
		fd = bpf_obj_get(
			kbpf_pin_path(p, sizeof(p), dir, "kashim_conf"));
		if (fd >= 0 && bpf_map_lookup_elem(fd, &zero, &c) == 0 &&
		    !strncmp(c.cgroup, path, sizeof(c.cgroup)))
			found = 0;
		if (fd >= 0)
			close(fd);
	}
	if (d)
		closedir(d);
	return found;
}

int kbpf_detach(uint64_t cgid, const char *path, char *err, size_t errlen)
{
	char dir[128], p[256];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/%llu", KBPF_PIN_DIR,
		 (unsigned long long)cgid);
	if ((!cgid || stat(dir, &st) < 0) &&
	    find_by_path(path, dir, sizeof(dir)) < 0) {
		snprintf(err, errlen,
			 "%s: kashim-bpf is not attached there (kashim-bpf "
			 "status lists where it is)",
			 path);
		return -1;
	}
	for (int i = 0; i < KBPF_NPROGS; i++) {
		int fd = bpf_obj_get(
			kbpf_pin_path(p, sizeof(p), dir, kbpf_progs[i].link));

		if (fd >= 0) {
			bpf_link_detach(fd);
			close(fd);
		}
	}
	kbpf_remove_pins(dir);
	return 0;
}
