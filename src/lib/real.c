/*
 * real.c - the resolved libc functions and kashim's own calls to them.
 */
#include <dlfcn.h>
#include <unistd.h>

#include "real.h"

/* The slots, one per interposed function. */
#define KASHIM_REAL_DEFINE(ret, name, params) name##_fn *real_##name;
KASHIM_REAL_SYMBOLS(KASHIM_REAL_DEFINE)
#undef KASHIM_REAL_DEFINE

__attribute__((noinline)) void *
kashim_real_resolve_first(void **slot, const char *name, const void *self)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (p == self)
		p = NULL;
	__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	return p;
}

int kashim_real_close(int fd)
{
	REAL(close);
	return next(fd);
}

int kashim_real_socket(int domain, int type, int protocol)
{
	REAL(socket);
	return next(domain, type, protocol);
}

int kashim_real_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	REAL(connect);
	return next(fd, addr, len);
}

ssize_t kashim_real_sendto(int fd, const void *buf, size_t n, int flags,
			   const struct sockaddr *addr, socklen_t len)
{
	REAL(sendto);
	return next(fd, buf, n, flags, addr, len);
}

/* vfork() where libc has none. */
static pid_t no_vfork(void)
{
	errno = ENOSYS;
	return -1;
}

vfork_fn *kashim_real_vfork(void)
{
	vfork_fn *next = kashim_real_resolve((void **)&real_vfork, "vfork",
					     (void *)vfork);

	return next ? next : no_vfork;
}

/* setsockopt() of a libc without one. */
static int no_setsockopt(int fd, int level, int name, const void *val,
			 socklen_t len)
{
	(void)fd, (void)level, (void)name, (void)val, (void)len;
	errno = ENOSYS;
	return -1;
}

__attribute__((noinline)) setsockopt_fn *kashim_real_setsockopt_first(void)
{
	setsockopt_fn *next = kashim_real_resolve((void **)&real_setsockopt,
						  "setsockopt",
						  (void *)setsockopt);

	return next ? next : no_setsockopt;
}
