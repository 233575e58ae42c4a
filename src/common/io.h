/*
 * io.h - small I/O helpers shared by the library and the command.
 */
#ifndef KASHIM_IO_H
#define KASHIM_IO_H

#include <stddef.h>

/*
 * Write all n bytes of buf to fd, retrying on EINTR and short writes.
 * Returns 0, or -1 with errno set (EIO when write() wrote nothing).
 */
int kashim_write_all(int fd, const void *buf, size_t n);

#endif
