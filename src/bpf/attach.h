/*
 * attach.h - what attach.c shares with the other units that load the
 * programs or pin them: the table of the three cgroup programs, pin
 * paths, pinning through a rename, loading the skeleton, and filling
 * its maps. For attach.c, unit.c (systemd's pins) and existing.c.
 */
#ifndef KASHIM_BPF_ATTACH_H
#define KASHIM_BPF_ATTACH_H

#include <stdbool.h>
#include <stddef.h>

#include <bpf/libbpf.h>

#include "kbpf.h"

struct kashim_bpf;

/*
 * The cgroup programs, in the order an update swaps their links (notes
 * before use): the name of a link's pin under an attachment's
 * directory, the type BPFProgram= names (also the program's pin under
 * KBPF_UNIT_DIR), and the attach type.
 */
#define KBPF_NPROGS 3
struct kbpf_prog {
	const char *link;
	const char *type;
	enum bpf_attach_type attach;
};
extern const struct kbpf_prog kbpf_progs[KBPF_NPROGS];

/* The program of skel that kbpf_progs[i] describes. */
struct bpf_program *kbpf_prog_of(struct kashim_bpf *skel, int i);

/* dir/name into buf; "" (no such pin) when it does not fit. */
const char *kbpf_pin_path(char *buf, size_t len, const char *dir,
			  const char *name);

/* Remove a pin directory and every pin in it; errors are ignored. */
void kbpf_remove_pins(const char *dir);

/*
 * Pin the object fd as dir/name, through dir/new_name and a rename, so
 * an earlier pin is replaced in one step. Returns 0, or -1 with err.
 */
int kbpf_pin(int fd, const char *dir, const char *name, char *err,
	     size_t errlen);

/*
 * Pin every map of skel into dir, but the socket storage and the
 * counters when skip_kept (an update keeps the pinned ones). Returns 0,
 * or -1 with err.
 */
int kbpf_pin_maps(struct kashim_bpf *skel, const char *dir, bool skip_kept,
		  char *err, size_t errlen);

/*
 * Open and load the programs; with reuse, on the socket storage and the
 * counters pinned in reuse by an earlier attach. libbpf's messages are
 * shown only when verbose. Returns the skeleton, or NULL with err.
 */
struct kashim_bpf *kbpf_load(const char *reuse, bool verbose, char *err,
			     size_t errlen);

/* Point map m at the map pinned under dir by an earlier attach: 0, or
 * -1 with err set. */
struct bpf_map;
int kbpf_reuse_pinned(struct bpf_map *m, const char *dir, char *err,
		      size_t errlen);

/*
 * Write im into the maps of the loaded skeleton skel, the settings entry
 * last. Returns 0, or -1 with err.
 */
int kbpf_fill_maps(struct kashim_bpf *skel, const struct kbpf_image *im,
		   char *err, size_t errlen);

#endif
