/*
 * real.h - the real-symbol layer: the libc functions kashim interposes,
 * as found behind it with dlsym(RTLD_NEXT).
 *
 * Only hooks.c and real.c name an interposed function. Every other unit
 * of the library calls the real one through kashim_real_*(), so none of
 * kashim's own calls can re-enter a hook (tests/rooms.sh, `make
 * check-rooms`, keeps it so).
 */
#ifndef KASHIM_REAL_H
#define KASHIM_REAL_H

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "export.h"

/*
 * Every interposed function, once: X(return type, name, parameters).
 * The list makes the function types (name_fn) and the slots of the
 * real functions (real_name); REAL() below looks them up.
 */
#define KASHIM_REAL_SYMBOLS(X)                                               \
	X(int, socket, (int, int, int))                                      \
	X(int, connect, (int, const struct sockaddr *, socklen_t))           \
	X(int, accept, (int, struct sockaddr *, socklen_t *))                \
	X(int, accept4, (int, struct sockaddr *, socklen_t *, int))          \
	X(int, setsockopt, (int, int, int, const void *, socklen_t))         \
	X(ssize_t, sendto,                                                   \
	  (int, const void *, size_t, int, const struct sockaddr *,          \
	   socklen_t))                                                       \
	X(ssize_t, sendmsg, (int, const struct msghdr *, int))               \
	X(int, listen, (int, int))                                           \
	X(int, close, (int))                                                 \
	X(int, dup, (int))                                                   \
	X(int, dup2, (int, int))                                             \
	X(int, dup3, (int, int, int))                                        \
	X(int, fclose, (FILE *))                                             \
	X(int, close_range, (unsigned, unsigned, int))                       \
	X(void, closefrom, (int))                                            \
	X(int, fcntl, (int, int, ...))                                       \
	X(int, fcntl64, (int, int, ...))                                     \
	X(ssize_t, recvmsg, (int, struct msghdr *, int))                     \
	X(pid_t, vfork, (void))

/* The type of each real function: socket_fn, connect_fn... */
#define KASHIM_REAL_TYPE(ret, name, params) typedef ret name##_fn params;
KASHIM_REAL_SYMBOLS(KASHIM_REAL_TYPE)
#undef KASHIM_REAL_TYPE

/* The real functions, NULL until first needed (see REAL()). */
#define KASHIM_REAL_SLOT(ret, name, params)                                  \
	KASHIM_HIDDEN extern name##_fn *real_##name;
KASHIM_REAL_SYMBOLS(KASHIM_REAL_SLOT)
#undef KASHIM_REAL_SLOT

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
int kashim_real_close(int fd);
int kashim_real_socket(int domain, int type, int protocol);
int kashim_real_connect(int fd, const struct sockaddr *addr, socklen_t len);
ssize_t kashim_real_sendto(int fd, const void *buf, size_t n, int flags,
			   const struct sockaddr *addr, socklen_t len);

/* The real vfork(), or a function failing with ENOSYS (vfork.c). */
vfork_fn *kashim_real_vfork(void);

/* kashim_real_setsockopt_fn() on its first call: the lookup. */
setsockopt_fn *kashim_real_setsockopt_first(void);

/*
 * The real setsockopt() itself, for a caller that makes several calls in
 * a row; one that fails with ENOSYS when libc has none. Once found, a
 * load: the lookup is out of line.
 */
static inline setsockopt_fn *kashim_real_setsockopt_fn(void)
{
	setsockopt_fn *f = __atomic_load_n(&real_setsockopt, __ATOMIC_ACQUIRE);

	return f ? f : kashim_real_setsockopt_first();
}

#endif
