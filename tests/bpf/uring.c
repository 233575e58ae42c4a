/*
 * uring.c - a TCP connect made through io_uring (IORING_OP_CONNECT), for
 * the kashim-bpf tests: no connect() call for LD_PRELOAD to see.
 *
 *   uring ADDR PORT    (IPv4)
 *
 * Prints "ready" once connected and keeps the socket 30 s (the test kills
 * it sooner); exits 3 when io_uring is not available here.
 */
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Connect fd to sa through one io_uring submission. */
static int ring_connect(int fd, const struct sockaddr_in *sa)
{
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	int rc = io_uring_queue_init(2, &ring, 0);

	if (rc < 0) {
		fprintf(stderr, "uring: io_uring unavailable: %s\n", strerror(-rc));
		return 3;
	}
	io_uring_prep_connect(io_uring_get_sqe(&ring), fd,
			      (const struct sockaddr *)sa, sizeof(*sa));
	io_uring_submit(&ring);
	rc = io_uring_wait_cqe(&ring, &cqe);
	if (rc == 0) {
		rc = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	if (rc < 0)
		fprintf(stderr, "uring: connect: %s\n", strerror(-rc));
	return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd, rc;

	if (argc != 3 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: uring ADDR PORT\n");
		return 2;
	}
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return perror("uring: socket"), 1;
	rc = ring_connect(fd, &sa);
	if (rc)
		return rc;
	printf("ready\n");
	fflush(stdout);
	poll(NULL, 0, 30000);
	return 0;
}
