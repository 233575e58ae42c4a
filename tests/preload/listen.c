/*
 * listen MODE WANT [LISTENER] - sockets accepted from a listener, read
 * back with getsockopt: each must hold WANT (IDLE,INTVL,CNT,UTO, or
 * "none" for the kernel's own values, or "own" for the listener's SO_KEEPALIVE
 * and idle 100 with the kernel's interval and count and UTO from WANT's).
 * LISTENER, when given, is what the listening socket itself must hold
 * after the accepts: "kashim" (WANT's values: they went on the listener)
 * or "untouched" (the kernel's, or the program's own).
 *
 * MODE, a listener made here, under kashim:
 *   v4, v6      loopback; accepts with accept() and accept4(SOCK_NONBLOCK)
 *   dual        an IPv6 listener on :: taking IPv4 and IPv6 connections
 *               (run it in a network namespace of its own)
 *   queued      connections wait in the queue before the first accept
 *   own         the program sets SO_KEEPALIVE and idle 100 on the
 *               listener before listen()
 *   count N     N connections accepted and not read back (for strace)
 *   threads     4 threads accept at once from a new listener, with
 *               connections already queued
 *   fork        3 children accept from a listener the parent set up
 * MODE for a listener made by a parent without kashim:
 *   parent own|plain check - WANT [LISTENER], parent own|plain count N:
 *               make a listener (with SO_KEEPALIVE and idle 100 when
 *               "own"), connect three clients that wait in its queue,
 *               then exec this program under LD_PRELOAD=$KASHIM_LIB as
 *               "child FD check - WANT [LISTENER]" or "child FD count N"
 *   child ...   accept the three waiting and more on FD
 * Exit 0 when everything held, 1 when something did not, 2 when the
 * test could not run.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>

#include "common.h"

#define MORE 4	  /* connections accepted after the first ones */
#define WAITING 3 /* connections a parent leaves in the queue */

static struct ka want, on_listener;
static const char *listener_want;
static int clients[64], nclients;

/* Connect a client to sa; it stays open until the end. */
static void client(const struct sockaddr_storage *sa, socklen_t len)
{
	int c = socket(sa->ss_family, SOCK_STREAM, 0);

	if (c < 0 || connect(c, (const struct sockaddr *)sa, len) < 0) {
		perror("connect");
		exit(2);
	}
	if (nclients < 64)
		clients[nclients++] = c;
}

/* Accept one connection on l (accept4 with SOCK_NONBLOCK when nb). */
static int accept_one(int l, bool nb)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	int a = nb ? accept4(l, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK)
		   : accept(l, (struct sockaddr *)&peer, &len);

	if (a < 0) {
		perror("accept");
		exit(2);
	}
	if (nb)
		EXPECT(fcntl(a, F_GETFL) & O_NONBLOCK,
		       "accept4: not non-blocking");
	return a;
}

/* Accept one and check it holds want. */
static void check_one(const char *what, int l, bool nb)
{
	int a = accept_one(l, nb);

	expect_ka(what, a, want);
	close(a);
}

/* The listener itself, after its accepts, as LISTENER says. */
static void check_listener(int l)
{
	if (!listener_want)
		return;
	if (strcmp(listener_want, "kashim") == 0)
		expect_ka("the listener", l, want);
	else
		expect_ka("the listener", l, on_listener);
}

/* MORE connections to l at sa, each accepted and checked. */
static void more(int l, const struct sockaddr_storage *sa, socklen_t len)
{
	for (int i = 0; i < MORE; i++) {
		client(sa, len);
		check_one(i % 2 ? "accept4 SOCK_NONBLOCK" : "accept", l, i % 2);
	}
}

/* An IPv6 listener on every address, IPv4 too; sa: its ::1 address. */
static int dual_listener(struct sockaddr_storage *sa, socklen_t *len)
{
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)sa;
	int l = socket(AF_INET6, SOCK_STREAM, 0), off = 0;

	memset(sa, 0, sizeof(*sa));
	a->sin6_family = AF_INET6;
	a->sin6_addr = in6addr_any;
	*len = sizeof(*a);
	if (l < 0 ||
	    setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) ||
	    bind(l, (struct sockaddr *)sa, *len) || listen(l, 64) ||
	    getsockname(l, (struct sockaddr *)sa, len)) {
		perror("dual listener");
		exit(2);
	}
	a->sin6_addr = in6addr_loopback;
	return l;
}

/* The same port on 127.0.0.1. */
static void v4_of(const struct sockaddr_storage *sa6,
		  struct sockaddr_storage *sa4, socklen_t *len)
{
	struct sockaddr_in *a = (struct sockaddr_in *)sa4;

	memset(sa4, 0, sizeof(*sa4));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->sin_port = ((const struct sockaddr_in6 *)sa6)->sin6_port;
	*len = sizeof(*a);
}

static void mode_dual(void)
{
	struct sockaddr_storage sa, sa4;
	socklen_t len, len4;
	int l = dual_listener(&sa, &len);

	v4_of(&sa, &sa4, &len4);
	for (int i = 0; i < MORE; i++) {
		if (i % 2)
			client(&sa4, len4);
		else
			client(&sa, len);
		check_one(i % 2 ? "dual-stack, IPv4" : "dual-stack, IPv6", l,
			  i > 1);
	}
	check_listener(l);
}

/* A loopback listener of family; own: SO_KEEPALIVE and idle 100 first. */
static int make_listener(int family, bool own, struct sockaddr_storage *sa,
			 socklen_t *len)
{
	int l = socket(family, SOCK_STREAM, 0), one = 1, idle = 100;

	loopback_addr(family, sa, len);
	if (l < 0 ||
	    (own &&
	     (setsockopt(l, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) ||
	      setsockopt(l, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)))) ||
	    bind(l, (struct sockaddr *)sa, *len) || listen(l, 64) ||
	    getsockname(l, (struct sockaddr *)sa, len)) {
		perror("listener");
		exit(2);
	}
	return l;
}

/* Accept n connections made to l at sa, without reading them back. */
static void count(int l, const struct sockaddr_storage *sa, socklen_t len,
		  int n)
{
	for (int i = 0; i < n; i++) {
		int c = socket(sa->ss_family, SOCK_STREAM, 0);

		if (c < 0 || connect(c, (const struct sockaddr *)sa, len) < 0) {
			perror("connect");
			exit(2);
		}
		close(accept_one(l, false));
		close(c);
	}
}

/* A listener made here: v4, v6, queued, own or count N. */
static void mode_here(const char *mode, const char *n)
{
	struct sockaddr_storage sa;
	socklen_t len;
	bool own = strcmp(mode, "own") == 0;
	int l = make_listener(strcmp(mode, "v6") ? AF_INET : AF_INET6, own, &sa,
			      &len);

	if (strcmp(mode, "count") == 0) {
		count(l, &sa, len, n ? atoi(n) : 1);
		return;
	}
	if (strcmp(mode, "queued") == 0) {
		for (int i = 0; i < WAITING; i++)
			client(&sa, len);
		for (int i = 0; i < WAITING; i++)
			check_one("queued before the first accept", l, false);
	}
	more(l, &sa, len);
	check_listener(l);
}

#define THREADS 4
#define PER_THREAD 25

static int shared_l;

/* One thread's accepts on shared_l, each read back; counts its failures. */
static void *accepter(void *arg)
{
	long bad = 0;

	(void)arg;
	for (int i = 0; i < PER_THREAD; i++) {
		int a = accept_one(shared_l, i % 2);

		if (!ka_equal(ka_read(a), want))
			bad++;
		close(a);
	}
	return (void *)bad;
}

/*
 * THREADS threads race for the first accepts of a new listener, with
 * half the connections queued before and half made while they accept.
 */
static void mode_threads(void)
{
	struct sockaddr_storage sa;
	socklen_t len;
	pthread_t t[THREADS];
	long bad = 0;
	void *r;

	shared_l = make_listener(AF_INET, false, &sa, &len);
	for (int i = 0; i < THREADS * PER_THREAD / 2; i++)
		client(&sa, len);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, accepter, NULL);
	for (int i = 0; i < THREADS * PER_THREAD / 2; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);

		EXPECT(c >= 0 && connect(c, (struct sockaddr *)&sa, len) == 0,
		       "threads: connect");
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], &r);
		bad += (long)r;
	}
	EXPECT(bad == 0, "threads: %ld accepted sockets without the values",
	       bad);
	check_listener(shared_l);
}

/* A listener set up by the parent's first accept; children accept too. */
static void mode_fork(void)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int l = make_listener(AF_INET, false, &sa, &len), status;
	pid_t kids[3];

	client(&sa, len);
	check_one("fork: the parent's first accept", l, false);
	for (int k = 0; k < 3; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			more(l, &sa, len);
			_exit(failures ? 1 : 0);
		}
	}
	for (int k = 0; k < 3; k++)
		EXPECT(kids[k] > 0 && waitpid(kids[k], &status, 0) == kids[k] &&
			       WIFEXITED(status) && WEXITSTATUS(status) == 0,
		       "fork: child %d found sockets without the values", k);
	check_listener(l);
}

/* What the program's own listener holds: keep-alive on, idle 100. */
static struct ka own_values(void)
{
	struct ka k = kernel_ka();

	k.on = 1;
	k.idle = 100;
	return k;
}

/* WANT and LISTENER of the command line; own: the listener is the program's. */
static void set_want(const char *w, const char *lw, bool own)
{
	want = strcmp(w, "own") == 0 ? own_values() : want_from(w);
	on_listener = own ? own_values() : kernel_ka();
	listener_want = lw;
}

/* The accepts of a child on inherited listener l: the waiting ones first. */
static void mode_child(int l, const char *mode, const char *n)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	if (getsockname(l, (struct sockaddr *)&sa, &len) < 0) {
		perror("inherited listener");
		exit(2);
	}
	if (strcmp(mode, "count") == 0) {
		for (int i = 0; i < WAITING; i++)
			close(accept_one(l, false));
		count(l, &sa, len, atoi(n));
		return;
	}
	for (int i = 0; i < WAITING; i++)
		check_one("inherited, waiting before the first accept", l,
			  i % 2);
	more(l, &sa, len);
	check_listener(l);
}

/*
 * A parent without kashim: a listener, clients waiting in its queue,
 * then this program again under $KASHIM_LIB as the child.
 */
static int mode_parent(char **argv)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int l = make_listener(AF_INET, strcmp(argv[2], "own") == 0, &sa, &len);
	char fd[16];
	const char *lib = getenv("KASHIM_LIB");

	if (!lib || getenv("LD_PRELOAD")) {
		fprintf(stderr, "listen parent: KASHIM_LIB set and no "
				"LD_PRELOAD, please\n");
		return 2;
	}
	for (int i = 0; i < WAITING; i++)
		client(&sa, len);
	snprintf(fd, sizeof(fd), "%d", l);
	setenv("LD_PRELOAD", lib, 1);
	execl("/proc/self/exe", "listen", "child", fd, argv[3], argv[4],
	      argv[5], argv[6], (char *)NULL);
	perror("exec");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "count") == 0) {
		mode_here("count", argv[2]);
		return 0;
	}
	if (argc >= 5 && strcmp(argv[1], "parent") == 0)
		return mode_parent(argv);
	if (argc >= 5 && strcmp(argv[1], "child") == 0) {
		set_want(argc > 5 ? argv[5] : "none", argc > 6 ? argv[6] : NULL,
			 argc > 5 && strcmp(argv[5], "own") == 0);
		mode_child(atoi(argv[2]), argv[3], argv[4]);
		return failures ? 1 : 0;
	}
	if (argc != 3 && argc != 4) {
		fprintf(stderr,
			"usage: listen v4|v6|dual|queued|own|threads|fork WANT "
			"[kashim|untouched]\n"
			"       listen count N\n"
			"       listen parent own|plain check - WANT "
			"[LISTENER]\n"
			"       listen parent own|plain count N\n");
		return 2;
	}
	set_want(argv[2], argc == 4 ? argv[3] : NULL,
		 strcmp(argv[1], "own") == 0);
	if (strcmp(argv[1], "dual") == 0)
		mode_dual();
	else if (strcmp(argv[1], "threads") == 0)
		mode_threads();
	else if (strcmp(argv[1], "fork") == 0)
		mode_fork();
	else
		mode_here(argv[1], NULL);
	return failures ? 1 : 0;
}
