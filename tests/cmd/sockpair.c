/*
 * sockpair.c - make one TCP connection to itself over loopback and print
 * what the kernel holds for both ends (test helper for `kashim`).
 *
 * sockpair [-6] [-o IDLE] [-n] [-r READYFILE -H SECONDS]
 *   -6          IPv6 (::1) instead of 127.0.0.1
 *   -o IDLE     set SO_KEEPALIVE and TCP_KEEPIDLE itself before connect()
 *   -n          print nothing
 *   -r, -H      create READYFILE, then keep the sockets open SECONDS
 * Prints "out ..." (the connecting socket) and "in ..." (the accepted
 * one): keepalive, idle, interval, count, user_timeout. Exits 1 on
 * error, 2 when the listener cannot be made.
 */
#include <fcntl.h>

#include "lib/ka.h"

static void show(const char *what, int s)
{
	struct ka k = ka_read(s);

	printf("%s keepalive=%d idle=%d interval=%d count=%d user_timeout=%d\n",
	       what, k.on, k.idle, k.intvl, k.cnt, k.uto);
}

int main(int argc, char **argv)
{
	int family = AF_INET, own_idle = 0, quiet = 0, hold = 0, c, l, s, a;
	const char *ready = NULL;
	struct sockaddr_storage sa;
	socklen_t len;
	int one = 1;

	while ((c = getopt(argc, argv, "6o:nr:H:")) != -1) {
		switch (c) {
		case '6': family = AF_INET6; break;
		case 'o': own_idle = atoi(optarg); break;
		case 'n': quiet = 1; break;
		case 'r': ready = optarg; break;
		case 'H': hold = atoi(optarg); break;
		default: return 2;
		}
	}
	l = listener(family, &sa, &len);
	s = socket(family, SOCK_STREAM, 0);
	if (own_idle > 0 &&
	    (setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0 ||
	     setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &own_idle,
			sizeof(own_idle)) < 0))
		return 1;
	if (connect(s, (struct sockaddr *)&sa, len) < 0 ||
	    (a = accept(l, NULL, NULL)) < 0) {
		perror("sockpair: connect/accept");
		return 1;
	}
	if (!quiet) {
		show("out", s);
		show("in", a);
		fflush(stdout);
	}
	if (ready)
		close(open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	if (hold > 0)
		sleep((unsigned)hold);
	return 0;
}
