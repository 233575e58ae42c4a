/*
 * listen.c - the peer of check-systemd's client services: listens on
 * 127.0.0.1:PORT and accepts every connection, holding up to 256 of them,
 * for 300 s at most (the test stops it sooner).
 *
 *   kt-listen PORT
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int fd, one = 1, held = 0;
	time_t end = time(NULL) + 300;

	if (argc != 2) {
		fprintf(stderr, "usage: kt-listen PORT\n");
		return 2;
	}
	a.sin_port = htons((unsigned short)atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 64) < 0) {
		perror("kt-listen");
		return 1;
	}
	while (time(NULL) < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int c;

		if (poll(&p, 1, 1000) <= 0)
			continue;
		c = accept(fd, NULL, NULL);
		if (c >= 0 && ++held > 256) /* the oldest are closed by then */
			close(c);
	}
	return 0;
}
