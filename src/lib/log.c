/*
 * log.c - one line per message, to stderr, syslog or a file.
 *
 * kashim never holds an fd the host program could close or reuse under
 * it: a file target is opened for each message and closed again, and
 * syslog gets each message over a socket of kashim's own, made, sent on
 * and closed per message (libc's syslog() keeps one open). Only info and
 * debug write per socket, and those are asked for.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#ifndef _PATH_LOG
#define _PATH_LOG "/dev/log"
#endif

#include "common/io.h"
#include "log.h"
#include "real.h"

int kashim_log_in_force = KASHIM_LOG_ERROR;
static const char *log_target = "stderr";

void kashim_log_setup(const struct kashim_settings *s)
{
	log_target = s->log_target;
	kashim_log_in_force = s->log_level;
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

/*
 * Send one datagram to the syslog socket on a socket of kashim's own,
 * closed again; a stream socket where the system has one (the message
 * then ends with its NUL byte). Nothing waits: a full socket drops it.
 */
static void to_syslog(const char *msg, size_t n)
{
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const struct sockaddr *sa = (const struct sockaddr *)&sun;

	strcpy(sun.sun_path, _PATH_LOG);
	for (int i = 0; i < 2; i++) {
		int fd = kashim_real_socket(AF_UNIX,
					    types[i] | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		int rc, e;

		if (fd < 0)
			return;
		rc = kashim_real_connect(fd, sa, sizeof(sun));
		e = errno;
		if (rc == 0)
			kashim_real_sendto(fd, msg, n + (i == 1), MSG_NOSIGNAL,
					   NULL, 0);
		kashim_real_close(fd);
		if (rc == 0 || e != EPROTOTYPE)
			return;
	}
}

/*
 * Is fd a regular file? Asked with the statx system call where the
 * headers know it: glibc's fstat() needs a newer symbol version
 * (GLIBC_2.33) than the library may. Elsewhere fstat().
 */
static bool regular_file(int fd)
{
#if defined(STATX_TYPE) && defined(SYS_statx)
	struct statx st;

	return syscall(SYS_statx, fd, "", AT_EMPTY_PATH, STATX_TYPE, &st) == 0 &&
	       S_ISREG(st.stx_mode);
#else
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
#endif
}

/*
 * Append line to the log file: opened without waiting (a FIFO with no
 * reader fails, one with a reader is not written), written only when it
 * is a regular file, closed again.
 */
static void to_file(const char *line, size_t n)
{
	int fd = open(log_target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
					  O_NOCTTY | O_NONBLOCK,
		      0640);

	if (fd < 0)
		return;
	if (regular_file(fd))
		kashim_write_all(fd, line, n);
	kashim_real_close(fd);
}

void kashim_log(int level, const char *fmt, ...)
{
	int saved = errno;
	char line[1024];
	va_list ap;
	int n, head;
	size_t len;

	if (!kashim_log_enabled(level) || level == KASHIM_LOG_NONE)
		return;
	/* "<PRI>" only for syslog (RFC 3164 without timestamp or host). */
	head = snprintf(line, sizeof(line), "<%d>",
			LOG_USER | syslog_priority(level));
	n = head + snprintf(line + head, sizeof(line) - (size_t)head,
			    "kashim[%ld]: ", (long)getpid());
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	if (strcmp(log_target, "syslog") == 0) {
		to_syslog(line, (size_t)n);
		goto out;
	}
	line[n] = '\n';
	len = (size_t)n + 1 - (size_t)head; /* from "kashim[" to the newline */
	if (log_target[0] != '/')
		kashim_write_all(STDERR_FILENO, line + head, len);
	else
		to_file(line + head, len);
out:
	errno = saved;
}
