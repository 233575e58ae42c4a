/*
 * conn.c - the connections `make bench` counts and times.
 *
 * Makes N loopback TCP connections one after another, both ends in this
 * process: socket, connect, accept, close both. With --by-hand it sets
 * the four keep-alive options itself, with the values kashim uses by
 * default, on each connecting socket and once on the listener (whose
 * accepted sockets inherit them), so a run under kashim and a run by
 * hand ask the kernel for the same work and differ only in who asks.
 * With --by-hand-accept it sets them on each accepted socket instead, as
 * a server that does it itself would, and nothing on the connecting end.
 * With --own-option the program also sets an option of its own on each
 * connecting socket (SO_LINGER, as real programs set some option), so
 * that the setsockopt() hook's cost to such a program is counted too.
 *
 * The measured loop is bench_loop(), which callgrind can collect alone
 * (--toggle-collect=bench_loop). One connection before it pays every
 * one-time cost (lazy binding, kashim reading its settings).
 *
 * usage: conn [--by-hand|--by-hand-accept] [--own-option] [--server] [--time]
 *             [--verify] N
 *   --by-hand         set SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL,
 *                     TCP_KEEPCNT on the connecting end and the listener
 *   --by-hand-accept  set them on each accepted socket
 *   --own-option      set SO_LINGER (off) on each connecting socket
 *   --server          only the accepted end is expected to hold them
 *   --time            print the loop's wall time per connection (ns)
 *   --verify          read the four options back on the ends of the
 *                     warm-up connection that should hold them; exit 1
 *                     unless they hold the values below
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* kashim's built-in defaults (src/common/defaults.h): what --by-hand sets. */
#define BENCH_IDLE 60
#define BENCH_INTERVAL 15
#define BENCH_COUNT 4

/* No more connections than this in one run. */
#define BENCH_MAX_CONN 1000000L

static const struct {
	int level, name, value;
	const char *label;
} bench_opts[] = {
	{ SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE" },
	{ IPPROTO_TCP, TCP_KEEPIDLE, BENCH_IDLE, "TCP_KEEPIDLE" },
	{ IPPROTO_TCP, TCP_KEEPINTVL, BENCH_INTERVAL, "TCP_KEEPINTVL" },
	{ IPPROTO_TCP, TCP_KEEPCNT, BENCH_COUNT, "TCP_KEEPCNT" },
};
#define BENCH_NOPTS (sizeof(bench_opts) / sizeof(bench_opts[0]))

static bool by_hand, by_hand_accept, own_option, server_only;

/* Report what failed and end the run: a bench with a broken step is void. */
static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* Set the four options on fd, as a program that wants keep-alive would. */
static void set_opts(int fd)
{
	for (size_t i = 0; i < BENCH_NOPTS; i++)
		if (setsockopt(fd, bench_opts[i].level, bench_opts[i].name,
			       &bench_opts[i].value, sizeof(int)) < 0)
			die("setsockopt");
}

/* The program's own option on connecting socket fd: lingering off. */
static void set_own_option(int fd)
{
	struct linger l = { 0, 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) < 0)
		die("setsockopt SO_LINGER");
}

/* A listening socket on 127.0.0.1 at a port the kernel picks; fills addr. */
static int listen_loopback(struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (by_hand)
		set_opts(fd); /* before listen(): no connection without them */
	if (bind(fd, (struct sockaddr *)addr, sizeof(*addr)) < 0 ||
	    listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)addr, &len) < 0)
		die("listen");
	return fd;
}

/*
 * The accept of a measured connection, apart, so that callgrind can
 * count it alone (its inclusive cost inside bench_loop).
 */
__attribute__((noinline)) int bench_accept(int lfd, struct sockaddr_in *peer,
					   socklen_t *len)
{
	return accept(lfd, (struct sockaddr *)peer, len);
}

/*
 * One connection to the listener lfd at addr: its two ends in *c (the
 * connecting one) and *s (the accepted one), left open. measured: the
 * accept goes through bench_accept().
 */
static void open_conn(int lfd, const struct sockaddr_in *addr, int *c, int *s,
		      bool measured)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);

	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (*c < 0)
		die("socket");
	if (own_option)
		set_own_option(*c);
	if (by_hand)
		set_opts(*c);
	if (connect(*c, (const struct sockaddr *)addr, sizeof(*addr)) < 0)
		die("connect");
	*s = measured ? bench_accept(lfd, &peer, &len) :
			accept(lfd, (struct sockaddr *)&peer, &len);
	if (*s < 0)
		die("accept");
	if (by_hand_accept)
		set_opts(*s);
}

/* n connections, each closed before the next; what the bench measures. */
__attribute__((noinline)) void bench_loop(int lfd,
					  const struct sockaddr_in *addr,
					  long n)
{
	int c, s;

	for (long i = 0; i < n; i++) {
		open_conn(lfd, addr, &c, &s, true);
		close(s);
		close(c);
	}
}

/* Do both ends of a connection hold the expected values? */
static bool verify(int c, int s)
{
	bool ok = true;

	for (int e = server_only; e < 2; e++) {
		for (size_t i = 0; i < BENCH_NOPTS; i++) {
			int v = -1;
			socklen_t len = sizeof(v);

			if (getsockopt(e ? s : c, bench_opts[i].level,
				       bench_opts[i].name, &v, &len) < 0)
				die("getsockopt");
			if (v == bench_opts[i].value)
				continue;
			fprintf(stderr, "conn: %s end: %s is %d, expected %d\n",
				e ? "accepted" : "connecting",
				bench_opts[i].label, v, bench_opts[i].value);
			ok = false;
		}
	}
	return ok;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	bool timed = false, check = false;
	struct sockaddr_in addr;
	int lfd, c, s, i;
	double t0;
	char *end;
	long n;

	for (i = 1; i < argc - 1; i++) {
		if (strcmp(argv[i], "--by-hand") == 0)
			by_hand = true;
		else if (strcmp(argv[i], "--by-hand-accept") == 0)
			by_hand_accept = server_only = true;
		else if (strcmp(argv[i], "--own-option") == 0)
			own_option = true;
		else if (strcmp(argv[i], "--server") == 0)
			server_only = true;
		else if (strcmp(argv[i], "--time") == 0)
			timed = true;
		else if (strcmp(argv[i], "--verify") == 0)
			check = true;
		else
			break;
	}
	if (i != argc - 1 || (n = strtol(argv[i], &end, 10)) < 0 || *end ||
	    n > BENCH_MAX_CONN) {
		fprintf(stderr, "usage: conn [--by-hand|--by-hand-accept] [--own-option] [--server] [--time] [--verify] N\n");
		return 2;
	}
	lfd = listen_loopback(&addr);
	open_conn(lfd, &addr, &c, &s, false); /* the warm-up connection */
	if (check && !verify(c, s))
		return 1;
	close(s);
	close(c);
	t0 = now_ns();
	bench_loop(lfd, &addr, n);
	if (timed)
		printf("%.1f\n", n ? (now_ns() - t0) / (double)n : 0.0);
	close(lfd);
	return 0;
}
