/*
 * real.h - the real-symbol layer: the libc functions kashim interposes,
 * as found behind it with dlsym(RTLD_NEXT).
 *
 * Only hooks.c and real.c name an interposed function. Every other unit
 * of the library calls the real one through kashim_real_*(), so none of
 * kashim's own calls can re-enter a hook (tests/lib/nm-rooms.sh keeps it
 * so).
 */
#ifndef KASHIM_REAL_H
#define KASHIM_REAL_H

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "libkashim.h"

typedef int socket_fn(int, int, int);
typedef int connect_fn(int, const struct sockaddr *, socklen_t);
typedef int accept_fn(int, struct sockaddr *, socklen_t *);
typedef int accept4_fn(int, struct sockaddr *, socklen_t *, int);
typedef int setsockopt_fn(int, int, int, const void *, socklen_t);
typedef ssize_t sendto_fn(int, const void *, size_t, int,
			  const struct sockaddr *, socklen_t);
typedef ssize_t sendmsg_fn(int, const struct msghdr *, int);
typedef int listen_fn(int, int);
typedef int close_fn(int);
typedef int dup_fn(int);
typedef int dup2_fn(int, int);
typedef int dup3_fn(int, int, int);
typedef int fclose_fn(FILE *);
typedef int close_range_fn(unsigned, unsigned, int);
typedef void closefrom_fn(int);
typedef int fcntl_fn(int, int, ...);
typedef int fcntl64_fn(int, int, ...);
typedef ssize_t recvmsg_fn(int, struct msghdr *, int);
typedef pid_t vfork_fn(void);

/* The real functions, NULL until first needed (see resolve()). */
KASHIM_HIDDEN extern socket_fn *real_socket;
KASHIM_HIDDEN extern connect_fn *real_connect;
KASHIM_HIDDEN extern accept_fn *real_accept;
KASHIM_HIDDEN extern accept4_fn *real_accept4;
KASHIM_HIDDEN extern setsockopt_fn *real_setsockopt;
KASHIM_HIDDEN extern sendto_fn *real_sendto;
KASHIM_HIDDEN extern sendmsg_fn *real_sendmsg;
KASHIM_HIDDEN extern listen_fn *real_listen;
KASHIM_HIDDEN extern close_fn *real_close;
KASHIM_HIDDEN extern dup_fn *real_dup;
KASHIM_HIDDEN extern dup2_fn *real_dup2;
KASHIM_HIDDEN extern dup3_fn *real_dup3;
KASHIM_HIDDEN extern fclose_fn *real_fclose;
KASHIM_HIDDEN extern close_range_fn *real_close_range;
KASHIM_HIDDEN extern closefrom_fn *real_closefrom;
KASHIM_HIDDEN extern fcntl_fn *real_fcntl;
KASHIM_HIDDEN extern fcntl64_fn *real_fcntl64;
KASHIM_HIDDEN extern recvmsg_fn *real_recvmsg;
KASHIM_HIDDEN extern vfork_fn *real_vfork;

/*
 * Find the next definition of name after this library, store it in
 * *slot and return it; refuse self (our own hook: a loop). Returns NULL
 * when there is none. The slow path, once per function and process.
 */
void *kashim_real_resolve_first(void **slot, const char *name,
				const void *self);

/* The function in *slot, found on the first call: the path every hook takes. */
static inline __attribute__((always_inline)) void *
kashim_real_resolve(void **slot, const char *name, const void *self)
{
	void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	return p ? p : kashim_real_resolve_first(slot, name, self);
}

/*
 * In a function returning int or ssize_t: declare `next`, the real fn,
 * or return -1 with errno ENOSYS when libc has none.
 */
#define REAL(fn)                                                          \
	fn##_fn *next = kashim_real_resolve((void **)&real_##fn, #fn,     \
					    (void *)(fn));                \
	if (!next) {                                                      \
		errno = ENOSYS;                                           \
		return -1;                                                \
	}

/* The real functions, for kashim's own calls. */
int kashim_real_setsockopt(int fd, int level, int name, const void *val,
			   socklen_t len);
int kashim_real_close(int fd);
int kashim_real_socket(int domain, int type, int protocol);
int kashim_real_connect(int fd, const struct sockaddr *addr, socklen_t len);
ssize_t kashim_real_sendto(int fd, const void *buf, size_t n, int flags,
			   const struct sockaddr *addr, socklen_t len);

/* The real vfork(), or a function failing with ENOSYS (vfork.c). */
vfork_fn *kashim_real_vfork(void);

/*
 * The real setsockopt() itself, for a caller that makes several calls in
 * a row; one that fails with ENOSYS when libc has none.
 */
setsockopt_fn *kashim_real_setsockopt_fn(void);

#endif
