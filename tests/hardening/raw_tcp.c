/*
 * raw_tcp.c - a SOCK_RAW socket with protocol IPPROTO_TCP that kashim did
 * not see made (syscall(SYS_socket)) is not TCP: connected (a raw socket
 * takes a default destination), it must get no setsockopt() at all.
 * run.sh runs it under strace and counts them; here SO_KEEPALIVE must
 * stay 0 and connect() keep errno. Needs CAP_NET_RAW (exit 2 without).
 */
#include <sys/syscall.h>

#include "common.h"

int main(void)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(9),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = (int)syscall(SYS_socket, AF_INET, SOCK_RAW, IPPROTO_TCP);

	if (fd < 0 && (errno == EPERM || errno == EACCES)) {
		fprintf(stderr, "raw sockets need CAP_NET_RAW\n");
		return 2;
	}
	if (fd < 0)
		fail("syscall(SYS_socket, SOCK_RAW, IPPROTO_TCP): %s",
		     strerror(errno));
	KEEP_ERRNO("connect(raw TCP)",
		   connect(fd, (struct sockaddr *)&to, sizeof(to)));
	ka_check_off(fd, "a SOCK_RAW socket of protocol IPPROTO_TCP");
	close(fd);
	printf("ok: raw-tcp: a SOCK_RAW IPPROTO_TCP socket connected, "
	       "untouched\n");
	return 0;
}
