/*
 * real.c - the resolved libc functions and kashim's own calls to them.
 */
#include <dlfcn.h>
#include <unistd.h>

#include "real.h"

socket_fn *real_socket;
connect_fn *real_connect;
accept_fn *real_accept;
accept4_fn *real_accept4;
setsockopt_fn *real_setsockopt;
sendto_fn *real_sendto;
sendmsg_fn *real_sendmsg;
close_fn *real_close;
dup_fn *real_dup;
dup2_fn *real_dup2;
dup3_fn *real_dup3;
fclose_fn *real_fclose;

__attribute__((noinline)) void *
kashim_real_resolve_first(void **slot, const char *name, const void *self)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (p == self)
		p = NULL;
	__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	return p;
}

int kashim_real_setsockopt(int fd, int level, int name, const void *val,
			   socklen_t len)
{
	REAL(setsockopt);
	return next(fd, level, name, val, len);
}

int kashim_real_close(int fd)
{
	REAL(close);
	return next(fd);
}
