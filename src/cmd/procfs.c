/*
 * procfs.c - reading the small text files of /proc for the command.
 */
#include <fcntl.h>
#include <unistd.h>

#include "procfs.h"

ssize_t kashim_read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return n;
}
