/*
 * applyee.c - a process for the tests of `kashim --apply`: loopback TCP
 * connections made before kashim looks at them, some with options the
 * program chose itself, or an fd table that never stands still.
 *
 * applyee -c PORT [-n N] [-k] [-u MS] [-i S] [-d] -r READYFILE -H SECONDS
 *     N connections to 127.0.0.1:PORT; -k turns SO_KEEPALIVE on, -u sets
 *     TCP_USER_TIMEOUT, -i TCP_KEEPIDLE, each on every connection before
 *     it is made; -d holds each on a second fd too (dup()); then
 *     READYFILE, then hold
 * applyee -x SECONDS -r READYFILE -o OUTFILE -p PORTFILE
 *     churn: two listeners of its own (ports A and B, written to
 *     PORTFILE as "A B"), a connection to each and its accepted end,
 *     then for SECONDS fds 100 and 101 hold A's pair and B's pair in
 *     turn, swapped with dup2() as fast as it goes: a scan that lists
 *     fd 100 as A's socket may duplicate B's. OUTFILE then gets "rounds
 *     R misset M", M being B's ends found with keep-alive on (kashim
 *     --apply --ports A must never set them).
 * Every mode exits 1 on error.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The two fd numbers the churn swaps sockets behind. */
#define CHURN_FD 100

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* Write text into path (made empty first). */
static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		die(path);
}

/* An int socket option, set or die. */
static void set_opt(int s, int level, int name, int v)
{
	if (setsockopt(s, level, name, &v, sizeof(v)) < 0)
		die("applyee: setsockopt");
}

/* A connection to 127.0.0.1:port, options on it first (-1: not set). */
static int dial(int port, int ka, int uto, int idle)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int s = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (s < 0)
		die("applyee: socket");
	if (ka > 0)
		set_opt(s, SOL_SOCKET, SO_KEEPALIVE, 1);
	if (uto > 0)
		set_opt(s, IPPROTO_TCP, TCP_USER_TIMEOUT, uto);
	if (idle > 0)
		set_opt(s, IPPROTO_TCP, TCP_KEEPIDLE, idle);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("applyee: connect");
	return s;
}

/* A listener on 127.0.0.1, port chosen by the kernel, into *port. */
static int listener(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(l, 64) < 0 || getsockname(l, (struct sockaddr *)&sa, &len) < 0)
		die("applyee: listener");
	*port = ntohs(sa.sin_port);
	return l;
}

/* Is keep-alive on for s? */
static int keepalive(int s)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (getsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, &len) < 0)
		die("applyee: getsockopt");
	return v;
}

/* The churn (see the top of the file). */
static int churn(int seconds, const char *ready, const char *out,
		 const char *ports)
{
	int pa, pb, la = listener(&pa), lb = listener(&pb);
	int ca = dial(pa, 0, 0, 0), aa = accept(la, NULL, NULL);
	int cb = dial(pb, 0, 0, 0), ab = accept(lb, NULL, NULL);
	long rounds = 0;
	char text[64];
	time_t end;

	if (aa < 0 || ab < 0)
		die("applyee: accept");
	snprintf(text, sizeof(text), "%d %d\n", pa, pb);
	put(ports, text);
	put(ready, "");
	end = time(NULL) + seconds;
	while (time(NULL) < end) {
		for (int i = 0; i < 1000; i++) {
			if (dup2(ca, CHURN_FD) < 0 || dup2(aa, CHURN_FD + 1) < 0 ||
			    dup2(cb, CHURN_FD) < 0 || dup2(ab, CHURN_FD + 1) < 0)
				die("applyee: dup2");
		}
		rounds += 1000;
	}
	snprintf(text, sizeof(text), "rounds %ld misset %d\n", rounds,
		 keepalive(cb) + keepalive(ab));
	put(out, text);
	return 0;
}

int main(int argc, char **argv)
{
	const char *ready = NULL, *out = NULL, *ports = NULL;
	int port = 0, n = 1, ka = 0, uto = 0, idle = 0, hold = 30, x = 0, c;
	int twice = 0;

	while ((c = getopt(argc, argv, "c:n:ku:i:dr:H:x:o:p:")) != -1) {
		switch (c) {
		case 'c': port = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 'k': ka = 1; break;
		case 'u': uto = atoi(optarg); break;
		case 'i': idle = atoi(optarg); break;
		case 'd': twice = 1; break;
		case 'r': ready = optarg; break;
		case 'H': hold = atoi(optarg); break;
		case 'x': x = atoi(optarg); break;
		case 'o': out = optarg; break;
		case 'p': ports = optarg; break;
		default: return 2;
		}
	}
	if (!ready)
		return 2;
	if (x)
		return out && ports ? churn(x, ready, out, ports) : 2;
	if (!port)
		return 2;
	for (int i = 0; i < n; i++) {
		int s = dial(port, ka, uto, idle);

		if (twice && dup(s) < 0)
			die("applyee: dup");
	}
	put(ready, "");
	sleep((unsigned)hold);
	return 0;
}
