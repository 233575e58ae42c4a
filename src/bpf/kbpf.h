/*
 * kbpf.h - the kashim-bpf command's units: settings turned into map
 * contents (image.c), the checks that refuse before anything is loaded
 * (checks.c), loading, attaching and pinning (attach.c; what it
 * shares with unit.c and existing.c is in attach.h), `status`
 * (status.c), systemd units (unit.c) and the settings (load.c).
 * Internal names start with kbpf_.
 */
#ifndef KASHIM_KBPF_H
#define KASHIM_KBPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kashim-bpf.h"
#include "common/rules.h"

/* Where links and maps are pinned: one directory per cgroup id. */
#define KBPF_PIN_ROOT "/sys/fs/bpf"
#define KBPF_PIN_DIR KBPF_PIN_ROOT "/kashim"

/* Everything the maps will hold for one attachment. */
struct kbpf_image {
	struct kbpf_conf conf;
	struct kbpf_values vals[KBPF_MAX_RULES + 1];
	struct kbpf_seg segs[KBPF_MAX_SEGS];
	struct kbpf_host_key hosts[KBPF_MAX_HOSTS];
	uint64_t host_mask[KBPF_MAX_HOSTS];
	size_t nhosts;
	struct kbpf_prog_key progs[KBPF_MAX_PROGS];
	uint64_t prog_mask[KBPF_MAX_PROGS];
	size_t nprogs;
};

/*
 * Turn finished settings into map contents for the cgroup at path.
 * Returns 0, or -1 with the reason in err (too many rules, ranges or
 * blocks, or a programs glob that a comm cannot honour).
 */
int kbpf_image_build(const struct kashim_settings *s, const char *path,
		     struct kbpf_image *im, char *err, size_t errlen);

/* The cgroup v2 mount point, or NULL when cgroup v2 is not mounted. */
const char *kbpf_cgroup2_mount(void);

/*
 * Refuse early, with the reason in err: missing privileges (need_caps),
 * a kernel older than the programs need or without their features.
 * Returns 0 when all is there, -1 otherwise.
 */
int kbpf_check_caps(char *err, size_t errlen);
int kbpf_check_kernel(char *err, size_t errlen);

/*
 * The running kernel's version as major * 1000 + minor (5.15 is 5015),
 * its release string into text ("?" when uname fails); 0 when unknown.
 */
int kbpf_kernel_version(char *text, size_t len);

/*
 * Open the cgroup v2 directory path (O_RDONLY) and give its id. Returns
 * the fd, or -1 with the reason in err.
 */
int kbpf_open_cgroup(const char *path, uint64_t *id, char *err, size_t errlen);

/* The cgroup of a systemd unit, as a path under the cgroup v2 mount. */
int kbpf_unit_cgroup(const char *unit, char *path, size_t len, char *err,
		     size_t errlen);

/*
 * Make sure the pins under KBPF_PIN_ROOT will outlive this command: a BPF
 * filesystem there that the initial mount namespace has too. In that
 * namespace, mount one there when there is none and may_mount, and make
 * KBPF_PIN_DIR. Returns 0, KBPF_PINS_NONE (none there, none mounted:
 * nothing can be pinned), or -1 with the reason and the fix in err (a
 * BPF filesystem private to this mount namespace, or none where
 * mounting one would make it private).
 */
#define KBPF_PINS_NONE 1
int kbpf_pin_root(bool may_mount, char *err, size_t errlen);

/*
 * Keep every other kashim-bpf attach or detach out until this process
 * exits (an flock on KBPF_PIN_DIR), waiting up to KBPF_LOCK_WAIT seconds
 * for one in progress. Returns 0, or -1 with err saying that another one
 * is in progress.
 */
#define KBPF_LOCK_WAIT 5
int kbpf_lock(char *err, size_t errlen);

/*
 * Attach the programs with the settings of im to the cgroup open as
 * cgfd (id cgid), or replace the settings of an earlier attach in one
 * step. Nothing stays attached on failure. Returns 0 or -1 with err.
 */
int kbpf_attach(int cgfd, uint64_t cgid, const struct kbpf_image *im,
		bool verbose, char *err, size_t errlen);

/*
 * Detach what is pinned for cgroup id cgid, or, when cgid is 0, for the
 * cgroup whose recorded path is path (a removed cgroup). Returns 0, or
 * -1 with err (nothing attached there).
 */
int kbpf_detach(uint64_t cgid, const char *path, char *err, size_t errlen);

/*
 * Cover the connections already open in the cgroup at path (id cgid),
 * just attached: one iter/tcp pass per network namespace of its
 * processes, on the pinned maps; prints what it did in one line.
 * Returns 0; 1 with err when this kernel cannot (older than 5.15, no
 * BTF), the attachment standing; -1 with err on a failure.
 */
int kbpf_existing(uint64_t cgid, const char *path, char *err, size_t errlen);

/* Print every attachment, its settings and counters. Returns 0 or 1. */
int kbpf_status(void);

/*
 * Print lead, then what the pass over the connections already open did,
 * as the kashim_existing map open as fd holds it (status.c, for status
 * and for attach). Returns false, printing nothing, when no pass was
 * made.
 */
bool kbpf_print_existing(int fd, const char *lead);

/* unit.c: systemd attaches programs pinned here (enable, disable, load). */
#define KBPF_UNIT_DIR KBPF_PIN_DIR "/units"

/*
 * Write unit's drop-in (BPFProgram= on the pinned programs) and the
 * load unit, pin the programs with the system config's settings, reload
 * systemd. Returns 0 or -1 with err.
 */
int kbpf_unit_enable(const char *unit, char *err, size_t errlen);

/* Remove what enable added for unit (the pins with the last one). */
int kbpf_unit_disable(const char *unit, char *err, size_t errlen);

/*
 * `kashim-bpf enable|disable --unit NAME` and `load` (unit NULL): the
 * settings of the system config. unit is NULL only for load (main.c
 * refuses enable and disable without one). Returns the exit status.
 */
int kbpf_unit_cmd(const char *verb, const char *unit);

/*
 * load.c: the settings, defaults < config file (config, or the system
 * one when NULL) < environment, as the library reads them, with the
 * full port index kbpf_image_build() needs. Returns 0, or 1 after a
 * message with s freed.
 */
int kbpf_load_settings(const char *config, struct kashim_settings *s);

/* List the enabled units after `status`. Returns 0, or 1 if unpinned. */
int kbpf_unit_status(void);

#endif
