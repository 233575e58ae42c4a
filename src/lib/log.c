/*
 * log.c - one line per message, to stderr, syslog or a file.
 *
 * A file target is opened for each message and closed again, so kashim
 * never holds an fd the host program could close or reuse under it; only
 * info and debug write per socket, and those are asked for.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "real.h"

int kashim_log_level = KASHIM_LOG_ERROR;
static const char *log_target = "stderr";

void kashim_log_setup(const struct kashim_settings *s)
{
	log_target = s->log_target;
	kashim_log_level = s->log_level;
}

static int syslog_priority(int level)
{
	switch (level) {
	case KASHIM_LOG_ERROR: return LOG_ERR;
	case KASHIM_LOG_WARN: return LOG_WARNING;
	case KASHIM_LOG_INFO: return LOG_INFO;
	default: return LOG_DEBUG;
	}
}

/* Write all of buf to fd, retrying on EINTR and short writes. */
static void write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		n -= (size_t)w;
	}
}

void kashim_log(int level, const char *fmt, ...)
{
	int saved = errno, fd;
	char line[1024];
	va_list ap;
	int n;

	if (!kashim_log_enabled(level) || level == KASHIM_LOG_NONE)
		return;
	n = snprintf(line, sizeof(line), "kashim[%ld]: ", (long)getpid());
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (strcmp(log_target, "syslog") == 0) {
		syslog(LOG_USER | syslog_priority(level), "%s", line);
		goto out;
	}
	n = (int)strlen(line);
	line[n++] = '\n';
	if (log_target[0] != '/') {
		write_all(STDERR_FILENO, line, (size_t)n);
		goto out;
	}
	fd = open(log_target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
		  0640);
	if (fd >= 0) {
		write_all(fd, line, (size_t)n);
		kashim_real_close(fd);
	}
out:
	errno = saved;
}
