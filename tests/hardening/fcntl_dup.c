/*
 * fcntl_dup.c - copies made with fcntl(F_DUPFD) and F_DUPFD_CLOEXEC (as
 * Python's os.dup() and socket.dup() do) know what the original knew;
 * every other fcntl() command passes straight through.
 *   dupfd    the program set SO_KEEPALIVE=0, copied the socket with
 *            fcntl(F_DUPFD), fcntl(F_DUPFD_CLOEXEC), fcntl64(F_DUPFD),
 *            closed the original and connected the copy: still 0.
 *   others   F_GETFD/F_SETFD (int), F_GETFL/F_SETFL, F_SETLK/F_GETLK (a
 *            struct flock pointer), F_GETOWN/F_SETOWN on a socket and a
 *            file: the results libc gives, errno kept.
 */
#include <fcntl.h>

#include "common.h"

static int lfd;
static struct sockaddr_in laddr;

/* Copy an own-choice socket with how, close it, connect the copy. */
static void dupfd(const char *what, int (*how)(int))
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), off = 0, copy;

	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &off, sizeof(off)) < 0)
		fail("%s: socket/setsockopt: %s", what, strerror(errno));
	copy = how(fd);
	if (copy < 0 || copy == fd)
		fail("%s: %s", what, strerror(errno));
	close(fd);
	KEEP_ERRNO(what,
		   connect(copy, (struct sockaddr *)&laddr, sizeof(laddr)));
	close(accept(lfd, NULL, NULL));
	ka_check_off(copy, what);
	close(copy);
}

static int by_dupfd(int fd)
{
	return fcntl(fd, F_DUPFD, 10);
}

static int by_dupfd_cloexec(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

static int by_fcntl64(int fd)
{
	return fcntl64(fd, F_DUPFD, 20);
}

/* fcntl() commands other than the dup ones, on fd: what libc returns. */
static void others(int fd, const char *what)
{
	int fl = KEEP_ERRNO("F_GETFL", fcntl(fd, F_GETFL));

	KEEP_ERRNO("F_SETFL", fcntl(fd, F_SETFL, fl | O_NONBLOCK));
	if (!(KEEP_ERRNO("F_GETFL", fcntl(fd, F_GETFL)) & O_NONBLOCK))
		fail("%s: F_SETFL O_NONBLOCK did not take", what);
	KEEP_ERRNO("F_SETFD", fcntl(fd, F_SETFD, FD_CLOEXEC));
	if (KEEP_ERRNO("F_GETFD", fcntl(fd, F_GETFD)) != FD_CLOEXEC)
		fail("%s: F_SETFD FD_CLOEXEC did not take", what);
	KEEP_ERRNO("F_SETOWN", fcntl(fd, F_SETOWN, getpid()));
	if (KEEP_ERRNO("F_GETOWN", fcntl64(fd, F_GETOWN)) != getpid())
		fail("%s: F_SETOWN did not take", what);
	if (fcntl(-1, F_GETFD) != -1 || errno != EBADF)
		fail("%s: F_GETFD on fd -1: want -1 EBADF", what);
}

/* Record locks take a struct flock pointer. */
static void locks(void)
{
	char path[] = "/tmp/kashim-fcntl-XXXXXX";
	int fd = mkstemp(path);
	struct flock lk = {.l_type = F_WRLCK,
			   .l_whence = SEEK_SET,
			   .l_start = 0,
			   .l_len = 10};

	if (fd < 0)
		fail("mkstemp: %s", strerror(errno));
	unlink(path);
	KEEP_ERRNO("F_SETLK", fcntl(fd, F_SETLK, &lk));
	lk.l_type = F_RDLCK;
	KEEP_ERRNO("F_GETLK", fcntl(fd, F_GETLK, &lk));
	if (lk.l_type != F_UNLCK) /* our own lock does not conflict */
		fail("F_GETLK: l_type %d, want F_UNLCK", lk.l_type);
	others(fd, "file");
	close(fd);
}

int main(void)
{
	int s;

	lfd = listener_in(&laddr);
	dupfd("fcntl(F_DUPFD) copy", by_dupfd);
	dupfd("fcntl(F_DUPFD_CLOEXEC) copy", by_dupfd_cloexec);
	dupfd("fcntl64(F_DUPFD) copy", by_fcntl64);
	s = socket(AF_INET, SOCK_STREAM, 0);
	others(s, "socket");
	close(s);
	locks();
	printf("ok: fcntl: 3 dup copies keep the program's choice; other "
	       "commands pass through\n");
	return 0;
}
