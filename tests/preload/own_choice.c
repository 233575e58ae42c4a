/*
 * own_choice MODE OURS - the program's own keep-alive choices, made
 * before connect (or on the listener), against kashim's values OURS
 * (IDLE,INTVL,CNT,UTO). MODE "respect": each option the program set
 * stays as it set it; "override": kashim's values win everywhere.
 */
#include "common.h"

static struct ka ours, kern;
static bool override;

static void set(int fd, int level, int name, int value)
{
	errno = SENTINEL;
	EXPECT(setsockopt(fd, level, name, &value, sizeof(value)) == 0,
	       "setsockopt(%d,%d): %s", level, name, strerror(errno));
	EXPECT_ERRNO_KEPT("setsockopt");
}

/* Connect a client set up by prepare(); check it and the accepted side. */
static void run(const char *what, void (*prepare)(int fd), struct ka respected,
		bool on_listener)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int l = listener(AF_INET, &sa, &len), c = socket(AF_INET, SOCK_STREAM, 0), a;
	struct ka want = override ? ours : respected;

	prepare(on_listener ? l : c);
	EXPECT(connect(c, (struct sockaddr *)&sa, len) == 0, "%s: connect", what);
	a = accept(l, NULL, NULL);
	expect_ka(what, on_listener ? a : c, want);
	close(a);
	close(c);
	close(l);
}

static void own_keepalive(int fd)
{
	set(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	set(fd, IPPROTO_TCP, TCP_KEEPIDLE, 100);
}

static void own_keepalive_off(int fd)
{
	set(fd, SOL_SOCKET, SO_KEEPALIVE, 0);
}

static void own_user_timeout(int fd)
{
	set(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 1234);
}

static void own_count(int fd)
{
	set(fd, IPPROTO_TCP, TCP_KEEPCNT, 2);
}

int main(int argc, char **argv)
{
	struct ka k;

	if (argc != 3) {
		fprintf(stderr, "usage: own_choice respect|override IDLE,INTVL,CNT,UTO\n");
		return 2;
	}
	override = strcmp(argv[1], "override") == 0;
	ours = want_from(argv[2]);
	kern = kernel_ka();

	/* SO_KEEPALIVE and idle by the program: interval and count too stay. */
	k = (struct ka){ 1, 100, kern.intvl, kern.cnt, ours.uto };
	run("own SO_KEEPALIVE", own_keepalive, k, false);
	run("own SO_KEEPALIVE on the listener", own_keepalive, k, true);
	/* SO_KEEPALIVE turned off on purpose: left off. */
	k = kern;
	k.uto = ours.uto;
	run("own SO_KEEPALIVE=0", own_keepalive_off, k, false);
	/* Only a user timeout: keep-alive is kashim's, the timeout the program's. */
	k = ours;
	k.uto = 1234;
	run("own TCP_USER_TIMEOUT", own_user_timeout, k, false);
	/* Only a count: kashim turns keep-alive on around it. */
	k = ours;
	k.cnt = 2;
	run("own TCP_KEEPCNT", own_count, k, false);
	return failures ? 1 : 0;
}
