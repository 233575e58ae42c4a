/*
 * uring.c - socket options through io_uring (uring.h).
 *
 * The ring is set up by hand, with no liburing, from the kernel's header
 * (what the socket commands, Linux 6.7, added to it after the headers a
 * Debian 12 build has is written out here): one ring per scanning
 * thread, requests queued, one io_uring_enter() per batch. Every socket
 * command runs at once, in the submitting call, so a submit returns
 * with every answer.
 */
#include <errno.h>
#include <linux/io_uring.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "uring.h"

/*
 * A request as Linux 6.7 lays it out for a socket command: the header's
 * struct io_uring_sqe with the names its unions gained then (level,
 * optname, optlen, optval), checked against the header's offsets.
 */
struct sqe {
	uint8_t opcode, flags;
	uint16_t ioprio;
	int32_t fd;
	uint32_t cmd_op, pad1;
	uint32_t level, optname;
	uint32_t len, op_flags;
	uint64_t user_data;
	uint16_t buf_index, personality;
	uint32_t optlen;
	uint64_t optval, pad2;
};
_Static_assert(sizeof(struct sqe) == sizeof(struct io_uring_sqe) &&
		       offsetof(struct sqe, cmd_op) ==
			       offsetof(struct io_uring_sqe, cmd_op) &&
		       offsetof(struct sqe, level) ==
			       offsetof(struct io_uring_sqe, addr) &&
		       offsetof(struct sqe, user_data) ==
			       offsetof(struct io_uring_sqe, user_data) &&
		       offsetof(struct sqe, optlen) ==
			       offsetof(struct io_uring_sqe, file_index) &&
		       offsetof(struct sqe, optval) ==
			       offsetof(struct io_uring_sqe, addr3),
	       "struct sqe is io_uring_sqe");

/* The socket commands (include/uapi/linux/io_uring.h, Linux 6.7). */
#ifndef SOCKET_URING_OP_GETSOCKOPT
#define SOCKET_URING_OP_GETSOCKOPT 2
#define SOCKET_URING_OP_SETSOCKOPT 3
#endif

static int enter(int fd, unsigned submit, unsigned wait)
{
	return (int)syscall(SYS_io_uring_enter, fd, submit, wait,
			    IORING_ENTER_GETEVENTS, NULL, 0);
}

/* Map the rings of fd into r. Returns 0 or -errno. */
static int map_rings(struct kashim_ring *r, const struct io_uring_params *p)
{
	size_t sq = p->sq_off.array + p->sq_entries * sizeof(unsigned);
	size_t cq = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
	char *m;

	/* Mapped whole now: a page fault later costs more than the
	 * kernel filling them here. */
	r->sq_len = (uint32_t)(sq > cq ? sq : cq);
	m = mmap(NULL, r->sq_len, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
	if (m == MAP_FAILED)
		return -errno;
	r->sq_map = m;
	r->sqe_len = p->sq_entries * (uint32_t)sizeof(struct sqe);
	r->sqe_map = mmap(NULL, r->sqe_len, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
	if (r->sqe_map == MAP_FAILED) {
		r->sqe_map = NULL;
		return -errno;
	}
	r->sqes = r->sqe_map;
	r->sq_tail = (unsigned *)(m + p->sq_off.tail);
	r->sq_mask = (unsigned *)(m + p->sq_off.ring_mask);
	r->sq_array = (unsigned *)(m + p->sq_off.array);
	r->cq_head = (unsigned *)(m + p->cq_off.head);
	r->cq_tail = (unsigned *)(m + p->cq_off.tail);
	r->cq_mask = (unsigned *)(m + p->cq_off.ring_mask);
	r->cqes = m + p->cq_off.cqes;
	return 0;
}

/* Does the kernel run socket commands? Asked of a socket made for it:
 * before Linux 6.7 a socket takes no io_uring command. */
static int probe(struct kashim_ring *r)
{
	int type = 0, res = -EIO, rc;
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -errno;
	rc = kashim_ring_get(r, s, SOL_SOCKET, SO_TYPE, &type, sizeof(type),
			     &res);
	if (rc == 0)
		rc = kashim_ring_submit(r);
	close(s);
	if (rc < 0)
		return rc;
	if (res < 0)
		return res;
	return res == (int)sizeof(type) && type == SOCK_DGRAM ? 0 : -EPROTO;
}

int kashim_ring_open(struct kashim_ring *r)
{
	struct io_uring_params p;
	int rc;

	memset(r, 0, sizeof(*r));
	r->tried = true;
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SUBMIT_ALL;
	r->fd = (int)syscall(SYS_io_uring_setup, KASHIM_RING_ENTRIES, &p);
	if (r->fd < 0) {
		rc = -errno;
		r->fd = -1;
		return rc;
	}
	rc = (p.features & IORING_FEAT_SINGLE_MMAP) ? map_rings(r, &p) : -ENOSYS;
	if (rc == 0)
		rc = probe(r);
	if (rc < 0)
		kashim_ring_close(r);
	return rc;
}

void kashim_ring_close(struct kashim_ring *r)
{
	if (r->sqe_map)
		munmap(r->sqe_map, r->sqe_len);
	if (r->sq_map)
		munmap(r->sq_map, r->sq_len);
	if (r->fd >= 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->tried = true;
}

/* The next free request, or NULL when the ring is full. */
static struct sqe *next_sqe(struct kashim_ring *r, int *res)
{
	unsigned i;
	struct sqe *q;

	if (r->fd < 0 || r->queued == KASHIM_RING_ENTRIES)
		return NULL;
	i = (*r->sq_tail + r->queued) & *r->sq_mask;
	r->sq_array[i] = i;
	q = (struct sqe *)r->sqes + i;
	memset(q, 0, sizeof(*q));
	q->opcode = IORING_OP_URING_CMD;
	q->user_data = r->queued;
	r->res[r->queued++] = res;
	return q;
}

static int sock_cmd(struct kashim_ring *r, uint32_t op, int s, int level,
		    int name, const void *val, unsigned len, int *res,
		    bool link)
{
	struct sqe *q = next_sqe(r, res);

	if (!q)
		return -ENOSPC;
	q->fd = s;
	q->cmd_op = op;
	q->level = (uint32_t)level;
	q->optname = (uint32_t)name;
	q->optlen = len;
	q->optval = (uint64_t)(uintptr_t)val;
	q->flags = link ? IOSQE_IO_LINK : 0;
	return 0;
}

int kashim_ring_get(struct kashim_ring *r, int s, int level, int name,
		    void *val, unsigned len, int *res)
{
	return sock_cmd(r, SOCKET_URING_OP_GETSOCKOPT, s, level, name, val,
			len, res, false);
}

int kashim_ring_set(struct kashim_ring *r, int s, int level, int name,
		    const void *val, unsigned len, int *res, bool link)
{
	return sock_cmd(r, SOCKET_URING_OP_SETSOCKOPT, s, level, name, val,
			len, res, link);
}

/* Take the answers the kernel has posted. Returns how many. */
static unsigned reap(struct kashim_ring *r)
{
	unsigned head = *r->cq_head, n = 0;
	unsigned tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);

	for (; head != tail; head++, n++) {
		const struct io_uring_cqe *c = (const struct io_uring_cqe *)r->cqes +
				      (head & *r->cq_mask);

		if (c->user_data < KASHIM_RING_ENTRIES && r->res[c->user_data])
			*r->res[c->user_data] = c->res;
	}
	__atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
	return n;
}

int kashim_ring_submit(struct kashim_ring *r)
{
	unsigned n = r->queued, done = 0;
	int rc = -EIO;

	if (n == 0)
		return 0;
	for (unsigned i = 0; i < n; i++)
		*r->res[i] = -EIO;
	__atomic_store_n(r->sq_tail, *r->sq_tail + n, __ATOMIC_RELEASE);
	r->queued = 0;
	/* Each command runs in the call that submits it; a signal can only
	 * cut the wait for the last answers short (or come before the
	 * submit: what is still queued goes with the next call). */
	for (int tries = 0; tries < 100; tries++) {
		if (enter(r->fd, n, n - done) < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		done += reap(r);
		if (done >= n) {
			rc = 0;
			break;
		}
	}
	memset(r->res, 0, n * sizeof(r->res[0]));
	if (rc < 0) /* what is left in it must not run later */
		kashim_ring_close(r);
	return rc;
}

void kashim_ring_init(struct kashim_ring *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

bool kashim_ring_ready(struct kashim_ring *r)
{
	if (!r->tried)
		(void)kashim_ring_open(r);
	return r->fd >= 0;
}
