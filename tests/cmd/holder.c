/*
 * holder.c - hold many loopback TCP connections open, for the tests and
 * the bench of `kashim --status` (many processes, many connections).
 *
 * holder -s READYFILE -H SECONDS
 *     a server on 127.0.0.1, port chosen by the kernel: writes the port
 *     to READYFILE, accepts every connection and holds them all
 * holder -c PORT -n N -r READYFILE -H SECONDS
 *     a client: N connections to 127.0.0.1:PORT, then READYFILE
 * holder -c PORT -n N -p P -r DIR -H SECONDS
 *     P client processes of N connections each (forked), each writing
 *     DIR/ready.PID when connected
 * -N NAME first writes NAME, whatever its bytes, into /proc/self/comm.
 * Every mode exits after SECONDS, or 1 on error. Opening no more than the
 * file limit allows is the caller's business (the server raises its soft
 * limit to the hard one).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* Create path (empty), or write text into it. */
static void touch(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || (text && fputs(text, f) < 0) || fclose(f) != 0)
		die(path);
}

/* Seconds since some fixed point. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The server: accept until hold seconds have passed. */
static int serve(const char *ready, int hold)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct rlimit rl;
	char port[16];
	double end = now() + hold;
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(l, 4096) < 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &len) < 0)
		die("holder: listener");
	snprintf(port, sizeof(port), "%u\n", ntohs(sa.sin_port));
	touch(ready, port);
	while (now() < end) {
		struct pollfd p = { .fd = l, .events = POLLIN };

		if (poll(&p, 1, 200) > 0 && accept(l, NULL, NULL) < 0 &&
		    errno != EINTR)
			die("holder: accept");
	}
	return 0;
}

/* One client: n connections to port, then ready, then hold. */
static int client(int port, int n, const char *ready, int hold)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	for (int i = 0; i < n; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);

		if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die("holder: connect");
	}
	touch(ready, NULL);
	sleep((unsigned)hold);
	return 0;
}

/* procs clients, forked; each writes dir/ready.PID. */
static int clients(int port, int n, int procs, const char *dir, int hold)
{
	for (int i = 0; i < procs; i++) {
		pid_t pid = fork();
		char ready[4096];

		if (pid < 0)
			die("holder: fork");
		if (pid == 0) {
			snprintf(ready, sizeof(ready), "%s/ready.%d", dir,
				 (int)getpid());
			exit(client(port, n, ready, hold));
		}
	}
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}

/* Name this process: name's bytes into /proc/self/comm, as they are. */
static void set_comm(const char *name)
{
	int fd = open("/proc/self/comm", O_WRONLY);

	if (fd < 0 || write(fd, name, strlen(name)) != (ssize_t)strlen(name) ||
	    close(fd) < 0)
		die("holder: /proc/self/comm");
}

int main(int argc, char **argv)
{
	const char *server = NULL, *ready = NULL;
	int port = 0, n = 1, procs = 0, hold = 30, c;

	while ((c = getopt(argc, argv, "s:c:n:p:r:H:N:")) != -1) {
		switch (c) {
		case 's': server = optarg; break;
		case 'c': port = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 'p': procs = atoi(optarg); break;
		case 'r': ready = optarg; break;
		case 'H': hold = atoi(optarg); break;
		case 'N': set_comm(optarg); break;
		default: return 2;
		}
	}
	if (server)
		return serve(server, hold);
	if (!port || !ready)
		return 2;
	return procs ? clients(port, n, procs, ready, hold)
		     : client(port, n, ready, hold);
}
