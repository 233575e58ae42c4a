/*
 * threads_fork MODE WANT - first calls from many threads at once
 * ("threads"), and connections after fork() ("fork"), each checked
 * against WANT (IDLE,INTVL,CNT,UTO).
 */
#include <pthread.h>
#include <sys/wait.h>

#include "common.h"

#define THREADS 8

static struct ka want;
static pthread_barrier_t start;
static struct sockaddr_storage sa;
static socklen_t salen;

/* Connect to the shared listener and check the result. */
static void *client(void *arg)
{
	int c;

	(void)arg;
	pthread_barrier_wait(&start);
	c = socket(AF_INET, SOCK_STREAM, 0);
	errno = SENTINEL;
	EXPECT(connect(c, (struct sockaddr *)&sa, salen) == 0, "connect: %s",
	       strerror(errno));
	EXPECT_ERRNO_KEPT("threaded connect");
	expect_ka("thread", c, want);
	close(c);
	return NULL;
}

static void threads(int l)
{
	pthread_t t[THREADS];

	pthread_barrier_init(&start, NULL, THREADS);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, client, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < THREADS; i++)
		close(accept(l, NULL, NULL));
}

/* Run fn in a child and count its failures as ours. */
static void in_child(void (*fn)(int), int arg)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		fn(arg);
		_exit(failures ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "child failed (status %d)", status);
}

static void connect_one(int fd)
{
	if (fd < 0)
		fd = socket(AF_INET, SOCK_STREAM, 0);
	EXPECT(connect(fd, (struct sockaddr *)&sa, salen) == 0, "connect: %s",
	       strerror(errno));
	expect_ka("after fork", fd, want);
	close(fd);
}

static void forks(int l)
{
	int early;

	in_child(connect_one, -1); /* the child is the first to connect */
	connect_one(-1);	   /* the parent, after it */
	in_child(connect_one, -1); /* a child of a parent that had read the settings */
	early = socket(AF_INET, SOCK_STREAM, 0);
	in_child(connect_one, early); /* made before fork, connected after */
	close(early);
	for (int i = 0; i < 4; i++)
		close(accept(l, NULL, NULL));
}

int main(int argc, char **argv)
{
	int l;

	if (argc != 3) {
		fprintf(stderr, "usage: threads_fork threads|fork IDLE,INTVL,CNT,UTO\n");
		return 2;
	}
	want = want_from(argv[2]);
	l = listener(AF_INET, &sa, &salen);
	if (strcmp(argv[1], "threads") == 0)
		threads(l);
	else
		forks(l);
	close(l);
	return failures ? 1 : 0;
}
