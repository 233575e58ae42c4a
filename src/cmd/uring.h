/*
 * uring.h - socket options through io_uring, a batch in one system call.
 *
 * A scan makes several system calls per socket, and on a virtual machine
 * each one costs more than the work it asks for. io_uring (Linux 6.7 and
 * later) reads a socket's SOL_SOCKET options and sets options of any
 * level without one: the scan queues them for a batch of sockets and
 * submits the batch in one io_uring_enter(). TCP-level reads are not
 * offered, and stay system calls. Where io_uring is missing, disabled
 * (kernel.io_uring_disabled, a seccomp filter) or too old for socket
 * commands, kashim_ring_open() says so and the scan makes the system
 * calls itself. Used by scan.c and applysock.c only.
 */
#ifndef KASHIM_URING_H
#define KASHIM_URING_H

#include <stdbool.h>
#include <stdint.h>

/* Requests queued at most between two submits. */
#define KASHIM_RING_ENTRIES 256

/* One thread's ring; fd -1 when there is none. */
struct kashim_ring {
	int fd;
	bool tried; /* set up once (kashim_ring_ready()), or closed */
	unsigned *sq_tail, *sq_mask, *sq_array;
	unsigned *cq_head, *cq_tail, *cq_mask;
	void *sqes, *cqes;
	void *sq_map, *sqe_map;
	uint32_t sq_len, sqe_len;
	unsigned queued;
	int *res[KASHIM_RING_ENTRIES]; /* where each queued outcome goes */
};

/*
 * Set r up for this thread and check, on a socket of its own, that the
 * kernel runs socket commands. Returns 0, or -errno with r->fd -1 (no
 * ring: make the system calls).
 */
int kashim_ring_open(struct kashim_ring *r);
void kashim_ring_close(struct kashim_ring *r);

/* A ring not set up yet: kashim_ring_ready() sets it up on first use, so
 * a thread that never needs one holds no fd for it. */
void kashim_ring_init(struct kashim_ring *r);

/* Is r there to use? Set up on the first call (kashim_ring_open()); once
 * that failed, or r was closed, never again. */
bool kashim_ring_ready(struct kashim_ring *r);

/*
 * Queue getsockopt(s, level, name, val, len) (level SOL_SOCKET only) or
 * setsockopt() on s, which must be a socket: a file of another kind may
 * have io_uring commands of its own (a device's, /dev/null's), and would
 * take the socket command's number for one of them. *res receives
 * the outcome when the batch is submitted: the length read or 0 set, or
 * -errno. With link, the next request runs only if this one succeeded
 * (else *res of the next is -ECANCELED).
 * Returns 0, or -ENOSPC when KASHIM_RING_ENTRIES are queued already.
 */
int kashim_ring_get(struct kashim_ring *r, int s, int level, int name,
		    void *val, unsigned len, int *res);
int kashim_ring_set(struct kashim_ring *r, int s, int level, int name,
		    const void *val, unsigned len, int *res, bool link);

/* Run what is queued and wait for all of it. Returns 0, or -errno when
 * io_uring_enter() failed: each *res not written is then -EIO, and the
 * ring is closed (what it still held must not run later). */
int kashim_ring_submit(struct kashim_ring *r);

#endif
