/*
 * tw.c - fill a network namespace's TCP table with TIME_WAIT entries,
 * for bench/status.sh (row 5 with the clutter of a busy host).
 *
 * tw N: N loopback connections, each opened to one of two listeners of
 * its own, accepted, and closed client side first, so the client end
 * waits in TIME_WAIT (60 s) with no fd holding it. Prints how many were
 * made; exits 1 when a call fails before half of them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* A listener on 127.0.0.1, its address into sa. */
static int listener(struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa->sin_port = 0;
	if (l < 0 || bind(l, (struct sockaddr *)sa, sizeof(*sa)) < 0 ||
	    listen(l, 128) < 0 || getsockname(l, (struct sockaddr *)sa, &len) < 0) {
		perror("tw: listener");
		exit(1);
	}
	return l;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0, made = 0;
	struct sockaddr_in sa[2];
	int l[2] = { listener(&sa[0]), listener(&sa[1]) };

	for (long i = 0; i < n; i++) {
		int k = (int)(i & 1), c = socket(AF_INET, SOCK_STREAM, 0), a;

		if (c < 0 || connect(c, (struct sockaddr *)&sa[k], sizeof(sa[k])) < 0) {
			if (c >= 0)
				close(c);
			if (errno == EADDRNOTAVAIL) /* every port used: done */
				break;
			perror("tw: connect");
			break;
		}
		a = accept(l[k], NULL, NULL);
		close(c); /* the client closes first: its end waits */
		if (a >= 0)
			close(a);
		made++;
	}
	printf("%ld\n", made);
	return made * 2 >= n ? 0 : 1;
}
