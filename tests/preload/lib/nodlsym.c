/*
 * libnodlsym.so - preloaded before kashim, it makes every
 * dlsym(RTLD_NEXT, …) find nothing, as if libc lacked the functions
 * kashim wraps. kashim must then fail the call with ENOSYS, not crash.
 */
#include <dlfcn.h>
#include <stddef.h>

void *dlsym(void *handle, const char *name)
{
	void *(*real)(void *, const char *);

	if (handle == RTLD_NEXT)
		return NULL;
	real = (void *(*)(void *, const char *))dlvsym(RTLD_NEXT, "dlsym",
						       "GLIBC_2.34");
	if (!real)
		real = (void *(*)(void *, const char *))dlvsym(RTLD_NEXT, "dlsym",
							       "GLIBC_2.2.5");
	return real ? real(handle, name) : NULL;
}
