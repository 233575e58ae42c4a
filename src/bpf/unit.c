/*
 * unit.c - `kashim-bpf enable`, `disable` and `load`: coverage of a
 * systemd unit from the first connection of every start.
 *
 * `load` pins the programs once, with the system config's settings in
 * their maps, under /sys/fs/bpf/kashim/units/. `enable --unit NAME`
 * loads them and writes the drop-in
 * /etc/systemd/system/NAME.d/kashim-bpf.conf, whose BPFProgram= lines
 * make systemd attach those pinned programs to the unit's cgroup when it
 * makes it, before the unit's first instruction: every start, restart
 * and boot. After a reboot the pins are gone; the oneshot unit
 * kashim-bpf-load.service, which every enabled unit wants and follows,
 * pins them again first. `disable` removes the drop-in, and the load
 * unit and the pins with the last one.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "common/settings.h"
#include "common/systemd.h"
#include "kbpf.h"
#include "gen/kashim.skel.h"

#define DROPIN "kashim-bpf.conf"
#define LOAD_UNIT "kashim-bpf-load.service"

/* KBPF_UNIT_DIR/name into buf (PIN_LEN bytes): a program's pin. */
#define PIN_LEN 256
static const char *unit_pin(char *buf, const char *name)
{
	return kbpf_pin_path(buf, PIN_LEN, KBPF_UNIT_DIR, name);
}

/* Are the programs pinned (the last one unit_load() pins is there)? */
static bool pinned(void)
{
	char pin[PIN_LEN];
	struct stat st;

	return stat(unit_pin(pin, kbpf_progs[KBPF_NPROGS - 1].type), &st) == 0;
}

/*
 * The system config's settings as map contents, into a new *im (freed
 * by the caller). Returns 0, or -1 with err (empty when the config's
 * messages are out already).
 */
static int unit_image(struct kbpf_image **im, char *err, size_t errlen)
{
	struct kashim_settings s;
	int rc;

	*im = calloc(1, sizeof(**im));
	if (!*im) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (kbpf_load_settings(NULL, &s)) {
		err[0] = '\0'; /* the message is out */
		return -1;
	}
	rc = kbpf_image_build(&s, "systemd units (kashim-bpf enable)", *im, err,
			      errlen);
	kashim_settings_free(&s);
	return rc;
}

/*
 * Pin the programs, with the system config's settings in their maps,
 * under KBPF_UNIT_DIR. Returns 0 or -1 with err (as unit_image()).
 */
static int unit_load(char *err, size_t errlen)
{
	struct kashim_bpf *skel = NULL;
	struct kbpf_image *im = NULL;
	int rc = -1;

	if (unit_image(&im, err, errlen) < 0)
		goto out;
	if (mkdir(KBPF_UNIT_DIR, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", KBPF_UNIT_DIR, strerror(errno));
		goto out;
	}
	skel = kbpf_load(NULL, false, err, errlen);
	if (!skel || kbpf_fill_maps(skel, im, err, errlen) < 0 ||
	    kbpf_pin_maps(skel, KBPF_UNIT_DIR, false, err, errlen) < 0)
		goto out;
	/* The programs last: a new start finds them with their maps. */
	for (int i = 0; i < KBPF_NPROGS; i++)
		if (kbpf_pin(bpf_program__fd(kbpf_prog_of(skel, i)),
			     KBPF_UNIT_DIR, kbpf_progs[i].type, err,
			     errlen) < 0)
			goto out;
	rc = 0;
out:
	kashim_bpf__destroy(skel); /* what is pinned stays */
	free(im);
	return rc;
}

/*
 * The [Section] of unit's drop-in, from its suffix. Returns NULL (and a
 * message in err) for a name systemd would not take or a unit type
 * without a cgroup of its own to attach to.
 */
static const char *unit_section(const char *unit, char *err, size_t errlen)
{
	const char *dot = strrchr(unit, '.');

	if (!kashim_unit_name_ok(unit)) {
		snprintf(err, errlen, "--unit %s: not a systemd unit name",
			 unit);
		return NULL;
	}
	if (dot && !strcmp(dot, ".service"))
		return "Service";
	if (dot && !strcmp(dot, ".slice"))
		return "Slice";
	if (dot && !strcmp(dot, ".socket"))
		return "Socket";
	snprintf(err, errlen,
		 "--unit %s: give a service, slice or socket by its full "
		 "name (NAME.service, NAME.slice)",
		 unit);
	return NULL;
}

/* This kashim-bpf's path into self (PATH_MAX); 0, or -1 with err set. */
static int self_path(char *self, char *err, size_t errlen)
{
	ssize_t n = readlink("/proc/self/exe", self, PATH_MAX - 1);

	if (n < 0) {
		snprintf(err, errlen, "/proc/self/exe: %s", strerror(errno));
		return -1;
	}
	self[n] = '\0';
	return 0;
}

/* The load unit, naming this kashim-bpf (self). */
static int write_load_unit(const char *self, char *err, size_t errlen)
{
	char text[PATH_MAX + 1024];

	snprintf(text, sizeof(text),
		 "# Written by kashim-bpf enable; the last kashim-bpf disable "
		 "removes it.\n"
		 "# Pins kashim's BPF programs (system config's settings) for "
		 "the units\n# whose drop-in kashim-bpf.conf names them.\n"
		 "[Unit]\n"
		 "Description=kashim-bpf: pin the programs of enabled units\n"
		 "DefaultDependencies=no\n"
		 "After=sys-fs-bpf.mount local-fs.target\n"
		 "Documentation=man:kashim-bpf(8)\n\n"
		 "[Service]\n"
		 "Type=oneshot\n"
		 "RemainAfterExit=yes\n"
		 "Slice=-.slice\n"
		 "ExecStart=%s load\n",
		 self);
	if (kashim_write_file(KASHIM_UNIT_DIR "/" LOAD_UNIT, text) == 0)
		return 0;
	snprintf(err, errlen, "%s: %s", KASHIM_UNIT_DIR "/" LOAD_UNIT,
		 strerror(errno));
	return -1;
}

/* The drop-in for unit, whose section is sect; self is this kashim-bpf. */
static int write_dropin(const char *unit, const char *sect, const char *self,
			char *err, size_t errlen)
{
	char text[2048 + PATH_MAX], pin[PIN_LEN];
	int n;

	n = snprintf(text, sizeof(text),
		     "# Written by `kashim-bpf enable --unit %s`; `kashim-bpf "
		     "disable --unit %s`\n# removes it. systemd attaches "
		     "kashim's programs when it makes the cgroup.\n"
		     "[Unit]\nWants=%s\nAfter=%s\n\n[%s]\n",
		     unit, unit, LOAD_UNIT, LOAD_UNIT, sect);
	for (int i = 0; i < KBPF_NPROGS; i++)
		n += snprintf(text + n, sizeof(text) - n, "BPFProgram=%s:%s\n",
			      kbpf_progs[i].type,
			      unit_pin(pin, kbpf_progs[i].type));
	/*
	 * systemd 252 does not attach BPFProgram= again to the new cgroup of
	 * a `systemctl restart` ("Foreign BPF program already exists"):
	 * the same programs are attached from ExecStartPre then. Its
	 * failure ('-') never keeps the service from starting.
	 */
	if (!strcmp(sect, "Service"))
		snprintf(text + n, sizeof(text) - n,
			 "ExecStartPre=-+%s load --unit %s\n", self, unit);
	return kashim_dropin_write(unit, DROPIN, text, err, errlen);
}

int kbpf_unit_enable(const char *unit, char *err, size_t errlen)
{
	const char *sect = unit_section(unit, err, errlen);
	char path[PATH_MAX], self[PATH_MAX];

	if (!sect || self_path(self, err, errlen) < 0)
		return -1;
	if (unit_load(err, errlen) < 0 ||
	    write_load_unit(self, err, errlen) < 0 ||
	    write_dropin(unit, sect, self, err, errlen) < 0)
		return -1;
	kashim_dropin_path(unit, DROPIN, path, sizeof(path));
	kashim_systemd_reload("kashim-bpf");
	printf("kashim-bpf: enabled for %s (%s); it takes effect at the "
	       "unit's next start\n",
	       unit, path);
	return 0;
}

/*
 * How many units have the drop-in of kashim-bpf enable; print lists
 * them, under a heading, in the same pass.
 */
static int enabled_units(bool print)
{
	char path[PATH_MAX];
	struct dirent *e;
	struct stat st;
	DIR *d = opendir(KASHIM_UNIT_DIR);
	int n = 0;

	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len < 3 || strcmp(e->d_name + len - 2, ".d") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", KASHIM_UNIT_DIR,
			 e->d_name, DROPIN);
		if (stat(path, &st) < 0)
			continue;
		if (print && !n)
			printf("enabled for the units "
			       "(systemd attaches at each start):\n");
		if (print)
			printf("  %.*s\n", (int)(len - 2), e->d_name);
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

int kbpf_unit_disable(const char *unit, char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (!unit_section(unit, err, errlen))
		return -1;
	kashim_dropin_path(unit, DROPIN, path, sizeof(path));
	if (kashim_dropin_remove(unit, DROPIN) < 0) {
		snprintf(err, errlen,
			 "--unit %s: not enabled (%s: %s; kashim-bpf status "
			 "lists the enabled units)",
			 unit, path, strerror(errno));
		return -1;
	}
	if (!enabled_units(false)) {
		unlink(KASHIM_UNIT_DIR "/" LOAD_UNIT);
		kbpf_remove_pins(KBPF_UNIT_DIR);
	}
	kashim_systemd_reload("kashim-bpf");
	printf("kashim-bpf: disabled for %s; the programs stay on its "
	       "running cgroup until the unit's next start\n",
	       unit);
	return 0;
}

int kbpf_unit_status(void)
{
	if (!enabled_units(true))
		return 0;
	if (!pinned()) {
		printf("  but their programs are not pinned: run kashim-bpf "
		       "load (or systemctl start %s)\n",
		       LOAD_UNIT);
		return 1;
	}
	return 0;
}

/* Is program fd attached to cgroup cgfd as type already (by systemd)? */
static bool attached_to(int fd, int cgfd, enum bpf_attach_type type)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info), ids[64], n = 64;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ||
	    bpf_prog_query(cgfd, type, 0, NULL, ids, &n) < 0)
		return false;
	for (uint32_t i = 0; i < n && i < 64; i++)
		if (ids[i] == info.id)
			return true;
	return false;
}

/*
 * `load --unit NAME`, the ExecStartPre= of an enabled service: attach
 * the pinned programs (pinned first when they are not) to the unit's
 * cgroup, unless systemd did already. Returns 0 or -1 with err.
 */
static int attach_pinned(const char *unit, char *err, size_t errlen)
{
	char cg[PATH_MAX], pin[PIN_LEN];
	uint64_t id;
	int cgfd, rc = 0;

	if (!pinned() && unit_load(err, errlen) < 0)
		return -1;
	if (kbpf_unit_cgroup(unit, cg, sizeof(cg), err, errlen) < 0)
		return -1;
	cgfd = kbpf_open_cgroup(cg, &id, err, errlen);
	if (cgfd < 0)
		return -1;
	for (int i = 0; i < KBPF_NPROGS && !rc; i++) {
		enum bpf_attach_type type = kbpf_progs[i].attach;
		int fd = bpf_obj_get(unit_pin(pin, kbpf_progs[i].type));

		if (fd < 0 ||
		    (!attached_to(fd, cgfd, type) &&
		     bpf_prog_attach(fd, cgfd, type, BPF_F_ALLOW_MULTI) < 0)) {
			snprintf(err, errlen, "%.200s: cannot attach %.80s: %s",
				 cg, pin, strerror(errno));
			rc = -1;
		}
		if (fd >= 0)
			close(fd);
	}
	close(cgfd);
	return rc;
}

int kbpf_unit_cmd(const char *verb, const char *unit)
{
	bool load = !strcmp(verb, "load");
	char err[600] = "";
	int rc;

	if (load && unit)
		rc = attach_pinned(unit, err, sizeof(err));
	else if (load)
		rc = unit_load(err, sizeof(err));
	else if (!strcmp(verb, "disable"))
		rc = kbpf_unit_disable(unit, err, sizeof(err));
	else
		rc = kbpf_unit_enable(unit, err, sizeof(err));
	if (rc == 0 && load && !unit)
		printf("kashim-bpf: programs pinned in %s\n", KBPF_UNIT_DIR);
	if (rc < 0 && err[0])
		fprintf(stderr, "kashim-bpf: %s\n", err);
	return rc < 0 ? 1 : 0;
}
