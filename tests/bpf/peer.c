/*
 * peer.c - one end of a TCP connection for the kashim-bpf tests, built
 * dynamically and with gcc -static (out of LD_PRELOAD's reach).
 *
 *   peer connect ADDR PORT [--raw] [--set OPT=VALUE]...
 *   peer accept ADDR PORT [--set OPT=VALUE]...
 *
 * connect makes one connection (with --raw through syscall(2) alone, as
 * a program without libc wrappers would); accept listens, with the
 * options set on the listener, and accepts one. Then it prints "ready"
 * and keeps the socket open for 60 s (the test kills it sooner), so the
 * test reads the kernel's values from outside with kashim --status.
 * OPT is keepalive, idle, intvl, cnt or uto, set before connect/listen.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int raw;

/* socket(2), through libc or as a bare system call. */
static int make_socket(int family)
{
	if (raw)
		return (int)syscall(SYS_socket, family, SOCK_STREAM, 0);
	return socket(family, SOCK_STREAM, 0);
}

/* Set one "--set OPT=VALUE" on fd. Returns 0 or -1. */
static int set_opt(int fd, const char *spec)
{
	static const struct {
		const char *name;
		int level, opt;
	} t[] = {
		{"keepalive", SOL_SOCKET, SO_KEEPALIVE},
		{"idle", IPPROTO_TCP, TCP_KEEPIDLE},
		{"intvl", IPPROTO_TCP, TCP_KEEPINTVL},
		{"cnt", IPPROTO_TCP, TCP_KEEPCNT},
		{"uto", IPPROTO_TCP, TCP_USER_TIMEOUT},
	};
	const char *eq = strchr(spec, '=');
	int v;

	for (size_t i = 0; eq && i < sizeof(t) / sizeof(t[0]); i++)
		if (strlen(t[i].name) == (size_t)(eq - spec) &&
		    !strncmp(spec, t[i].name, (size_t)(eq - spec))) {
			v = atoi(eq + 1);
			return setsockopt(fd, t[i].level, t[i].opt, &v,
					  sizeof(v));
		}
	fprintf(stderr, "peer: bad --set %s\n", spec);
	return -1;
}

/* ADDR PORT as a sockaddr; returns its length, 0 when ADDR is bad. */
static socklen_t address(const char *addr, const char *port,
			 struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)atoi(port));
		return sizeof(*in);
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)atoi(port));
		return sizeof(*in6);
	}
	return 0;
}

/* Print ready, then keep the socket 60 s; the test kills us sooner. */
static void hold(void)
{
	printf("ready\n");
	fflush(stdout);
	poll(NULL, 0, 60000);
}

/* Connect (or listen and accept one) on fd to/at sa. */
static int run(int fd, int listening, const struct sockaddr *sa, socklen_t len)
{
	int one = 1, c;

	if (!listening) {
		if (raw)
			return (int)syscall(SYS_connect, fd, sa, len);
		return connect(fd, sa, len);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, sa, len) < 0 || listen(fd, 4) < 0)
		return -1;
	printf("listening\n");
	fflush(stdout);
	c = accept(fd, NULL, NULL);
	return c < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, listening, i;

	if (argc < 4 ||
	    (strcmp(argv[1], "connect") && strcmp(argv[1], "accept"))) {
		fprintf(stderr, "usage: peer connect|accept ADDR PORT [--raw] "
				"[--set OPT=V]...\n");
		return 2;
	}
	listening = !strcmp(argv[1], "accept");
	len = address(argv[2], argv[3], &ss);
	for (i = 4; i < argc; i++)
		if (!strcmp(argv[i], "--raw"))
			raw = 1;
	fd = len ? make_socket(ss.ss_family) : -1;
	if (fd < 0)
		return perror("peer: socket"), 1;
	for (i = 4; i < argc; i++)
		if (!strcmp(argv[i], "--set") &&
		    (i + 1 >= argc || set_opt(fd, argv[++i])))
			return 1;
	if (run(fd, listening, (struct sockaddr *)&ss, len) < 0)
		return perror("peer"), 1;
	hold();
	return 0;
}
