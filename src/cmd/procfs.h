/*
 * procfs.h - reading the small text files of /proc for the command.
 */
#ifndef KASHIM_CMD_PROCFS_H
#define KASHIM_CMD_PROCFS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Read at most len - 1 bytes of the file at path into buf (one read(),
 * enough for a /proc file of one page) and end them with a NUL. Returns
 * the number of bytes read (> 0), or -1 when the file cannot be opened
 * or is empty.
 */
ssize_t kashim_read_text(const char *path, char *buf, size_t len);

#endif
