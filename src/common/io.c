/*
 * io.c - small I/O helpers shared by the library (log.c) and the
 * command (system.c). write() is not one of the calls the library
 * interposes, so the library may call it from here.
 */
#include <errno.h>
#include <unistd.h>

#include "io.h"

int kashim_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w == 0)
			errno = EIO;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}
