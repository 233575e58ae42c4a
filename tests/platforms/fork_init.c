/*
 * fork_init WANT - fork() while another thread is inside kashim's first
 * settings read. The child must read the settings itself and get WANT
 * (IDLE,INTVL,CNT,UTO) on its first connection, not hang; the reader
 * thread, released after the child is done, must get WANT as well.
 *
 * The reader is held inside the read deterministically: this program
 * defines getenv() (and secure_getenv()) and exports them (-rdynamic),
 * so kashim's lookups of KASHIM_* variables land here. When the reader
 * thread asks for the first one, it reports on a pipe and waits on a
 * second pipe; other threads and the child get the answer at once.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "../preload/common.h"

#define CHILD_SECONDS 10 /* a child that hangs longer has failed */

extern char **environ;

static __thread bool is_reader;
static int inside[2], release[2];
static struct ka want;
static struct sockaddr_storage sa;
static socklen_t salen;

/* name's value in environ, found without libc's getenv(). */
static char *lookup(const char *name)
{
	size_t n = strlen(name);

	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

/* The reader thread's first KASHIM_ lookup stops here until released. */
static void hold_reader(const char *name)
{
	static bool held;
	char c = 0;

	if (!is_reader || held || strncmp(name, "KASHIM_", 7) != 0)
		return;
	held = true;
	if (write(inside[1], &c, 1) != 1 || read(release[0], &c, 1) != 1)
		FAIL("hold_reader: pipe: %s", strerror(errno));
}

__attribute__((visibility("default"))) char *getenv(const char *name)
{
	hold_reader(name);
	return lookup(name);
}

__attribute__((visibility("default"))) char *secure_getenv(const char *name)
{
	return getenv(name);
}

/* Connect a new socket to the listener and check its options. */
static void connect_check(const char *who)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	EXPECT(connect(fd, (struct sockaddr *)&sa, salen) == 0,
	       "%s: connect: %s", who, strerror(errno));
	expect_ka(who, fd, want);
	close(fd);
}

static void *reader(void *arg)
{
	(void)arg;
	is_reader = true;
	connect_check("the reader thread");
	return NULL;
}

/* Wait up to ms for fd to be readable. */
static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* Fork now, while the reader is held; the child connects at once. */
static void fork_child(void)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		alarm(CHILD_SECONDS); /* a hang ends the child by SIGALRM */
		connect_check("the child forked during the read");
		_exit(failures ? 1 : 0);
	}
	EXPECT(pid > 0, "fork: %s", strerror(errno));
	if (pid > 0 && waitpid(pid, &status, 0) == pid)
		EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		       "the child %s", WIFSIGNALED(status) &&
		       WTERMSIG(status) == SIGALRM ? "hung in its first connect()" :
		       "failed");
}

int main(int argc, char **argv)
{
	pthread_t t;
	char c = 0;
	int l;

	if (argc != 2) {
		fprintf(stderr, "usage: fork_init IDLE,INTVL,CNT,UTO\n");
		return 2;
	}
	want = want_from(argv[1]);
	l = listener(AF_INET, &sa, &salen);
	if (pipe(inside) < 0 || pipe(release) < 0 ||
	    pthread_create(&t, NULL, reader, NULL) != 0) {
		perror("fork_init");
		return 2;
	}
	if (!readable(inside[0], 5000)) {
		FAIL("the reader never reached kashim's settings read");
		return 1; /* the reader is lost: end without joining it */
	}
	fork_child();
	EXPECT(write(release[1], &c, 1) == 1, "release: %s", strerror(errno));
	pthread_join(t, NULL);
	close(l);
	return failures ? 1 : 0;
}
