/*
 * systemd.h - what the command and kashim-bpf ask of systemd when they
 * write a unit's drop-in.
 */
#ifndef KASHIM_SYSTEMD_H
#define KASHIM_SYSTEMD_H

#include <stdbool.h>

/* Is systemd the init system here (its runtime directory exists)? */
bool kashim_systemd_runs(void);

/*
 * `systemctl daemon-reload` when systemd runs, so a drop-in counts at the
 * unit's next start. Returns 0 (also when systemd does not run), or -1
 * when systemctl could not be run or failed.
 */
int kashim_systemd_reload(void);

#endif
