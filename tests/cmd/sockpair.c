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
 * one): keepalive, idle, interval, count, user_timeout. Exits 1 on error.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int opt(int s, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	getsockopt(s, level, name, &v, &len);
	return v;
}

static void show(const char *what, int s)
{
	printf("%s keepalive=%d idle=%d interval=%d count=%d user_timeout=%d\n",
	       what, opt(s, SOL_SOCKET, SO_KEEPALIVE),
	       opt(s, IPPROTO_TCP, TCP_KEEPIDLE),
	       opt(s, IPPROTO_TCP, TCP_KEEPINTVL),
	       opt(s, IPPROTO_TCP, TCP_KEEPCNT),
	       opt(s, IPPROTO_TCP, TCP_USER_TIMEOUT));
}

/* A listener on loopback, port chosen by the kernel, its address in sa. */
static int listener(int family, struct sockaddr_storage *sa, socklen_t *len)
{
	int l = socket(family, SOCK_STREAM, 0);
	struct sockaddr_in *in = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;

	memset(sa, 0, sizeof(*sa));
	sa->ss_family = (sa_family_t)family;
	if (family == AF_INET)
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		in6->sin6_addr = in6addr_loopback;
	*len = family == AF_INET ? sizeof(*in) : sizeof(*in6);
	if (l < 0 || bind(l, (struct sockaddr *)sa, *len) < 0 ||
	    listen(l, 4) < 0 ||
	    getsockname(l, (struct sockaddr *)sa, len) < 0) {
		perror("sockpair: listener");
		exit(1);
	}
	return l;
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
