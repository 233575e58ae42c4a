/*
 * systemd.h - what the command and kashim-bpf ask of systemd when they
 * write a unit's drop-in: the unit's name checked, the drop-in written
 * and removed, systemd told.
 */
#ifndef KASHIM_SYSTEMD_H
#define KASHIM_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>

/* Where both commands write units and drop-ins. */
#define KASHIM_UNIT_DIR "/etc/systemd/system"

/*
 * The file that says kashim made a drop-in directory, beside its
 * drop-in (systemd reads only *.conf there): a directory without it
 * was there before, and stays.
 */
#define KASHIM_DROPIN_MARK ".made-by-kashim"

/* Is systemd the init system here (its runtime directory exists)? */
bool kashim_systemd_runs(void);

/*
 * `systemctl daemon-reload` when systemd runs, so a drop-in counts at the
 * unit's next start. When systemctl could not be run or failed, says so
 * on stderr as "PROG: ...", with what to do instead.
 */
void kashim_systemd_reload(const char *prog);

/*
 * Is name a whole unit name systemd would take: letters, digits and
 * ":-_.\@", not starting with '.', 1 to 255 bytes?
 */
bool kashim_unit_name_ok(const char *name);

/*
 * Write text to path through path.new, flushed to the disk, and a
 * rename: a reader sees the old file or the new one, whole, and so does
 * the next boot after a power loss. Returns 0, or -1 with errno set.
 */
int kashim_write_file(const char *path, const char *text);

/* KASHIM_UNIT_DIR/unit.d/file into buf (len bytes). */
void kashim_dropin_path(const char *unit, const char *file, char *buf,
			size_t len);

/*
 * Write text as unit's drop-in file (kashim_dropin_path()), making the
 * directory, marked as kashim's, when there is none. Returns 0, or -1
 * with the reason in err and nothing of this call's left behind.
 */
int kashim_dropin_write(const char *unit, const char *file, const char *text,
			char *err, size_t errlen);

/*
 * Remove unit's drop-in file, then the directory when kashim made it and
 * nothing but its mark is left. Returns 0, or -1 with errno set (ENOENT:
 * there was no such drop-in); the directory is left alone then.
 */
int kashim_dropin_remove(const char *unit, const char *file);

#endif
