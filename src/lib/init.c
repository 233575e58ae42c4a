/*
 * init.c - read the settings once, on the first TCP connection.
 *
 * Nothing happens at load time: a process that never makes a TCP
 * connection reads no variable and no file, loads no parser and
 * allocates nothing. The first connect() or accept() of a TCP socket,
 * from whatever thread or constructor, runs read_settings() once per
 * process (read_once()). Not through pthread_once(): musl's leaves a
 * fork() child hanging when another thread of the parent was reading.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

#include "common/load.h"
#include "libkashim.h"
#include "log.h"

struct kashim_settings kashim_cfg;
static bool active;

/*
 * Where the settings read stands: NOT_READ, READ_DONE, or the pid of the
 * process one of whose threads is reading them now.
 */
#define NOT_READ 0
#define READ_DONE (-1)
static int read_state = NOT_READ;

/*
 * getauxval(type), with ok set to whether it could be asked. It is looked
 * up here, once per process that makes a TCP connection, rather than
 * linked: each symbol version the library needs (GLIBC_2.16 for this
 * one) costs every process on the host when it starts.
 */
static unsigned long aux(unsigned long type, bool *ok)
{
	unsigned long (*get)(unsigned long);

	*(void **)&get = dlsym(RTLD_DEFAULT, "getauxval");
	*ok = get != NULL;
	return get ? get(type) : 0;
}

/* Is this a secure-execution process (setuid, setgid, capabilities)? */
static bool secure(void)
{
	bool ok;
	unsigned long at_secure = aux(AT_SECURE, &ok);

	return !ok || at_secure; /* when in doubt, trust no variable */
}

/* getenv() of a secure-execution process: no variable counts. */
static char *no_env(const char *name)
{
	(void)name;
	return NULL;
}

/* getenv() called, not pointed to: a pointer would cost a lookup at load. */
static char *env(const char *name)
{
	return getenv(name);
}

/* The executable's base name, as it was started (AT_EXECFN). */
static const char *exe_name(void)
{
	bool ok;
	/* getauxval() hands the address over as an integer: cast it back. */
	/* NOLINTNEXTLINE(performance-no-int-to-ptr) */
	const char *path = (const char *)aux(AT_EXECFN, &ok);
	const char *slash;

	if (!path)
		return NULL;
	slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Open the config module beside this library, or in kashim/ beside it. */
static void *open_module(char *err, size_t errlen)
{
	static const char *const where[] = {
		KASHIM_CONF_MODULE, KASHIM_CONF_SUBDIR "/" KASHIM_CONF_MODULE
	};
	char path[PATH_MAX];
	const char *slash;
	Dl_info self;
	void *h = NULL;

	if (!dladdr((void *)kashim_ready, &self) || !self.dli_fname ||
	    !(slash = strrchr(self.dli_fname, '/'))) {
		snprintf(err, errlen, "cannot tell where libkashim.so is");
		return NULL;
	}
	for (size_t i = 0; i < 2 && !h; i++) {
		snprintf(path, sizeof(path), "%.*s/%s",
			 (int)(slash - self.dli_fname), self.dli_fname, where[i]);
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	}
	if (!h)
		snprintf(err, errlen, "cannot load the config module: %.400s",
			 dlerror());
	return h;
}

/*
 * The config file reader as the library uses it: libconfuse is only
 * mapped when the file exists. Returns what kashim_conf_load() returns,
 * or KASHIM_CONF_ERROR when the module cannot be loaded.
 */
static int load_file(const char *path, uid_t ruid, struct kashim_settings *s,
		     char *err, size_t errlen)
{
	kashim_conf_load_fn *load;
	void *h;

	if (access(path, F_OK) < 0 && errno == ENOENT)
		return KASHIM_CONF_MISSING;
	h = open_module(err, errlen);
	if (!h)
		return KASHIM_CONF_ERROR;
	load = (kashim_conf_load_fn *)dlsym(h, KASHIM_CONF_LOAD_SYMBOL);
	if (!load) {
		snprintf(err, errlen, "the config module has no %s",
			 KASHIM_CONF_LOAD_SYMBOL);
		return KASHIM_CONF_ERROR;
	}
	/* The module stays loaded: the rules it allocated live on. */
	return load(path, ruid, s, err, errlen);
}

static void read_settings(void)
{
	struct kashim_sources src = {
		.getenv = secure() ? no_env : env,
		.load_file = load_file,
		.ruid = getuid(),
		.exe = exe_name(),
	};
	struct kashim_load_result res;
	int saved = errno;
	int rc = kashim_settings_load(&kashim_cfg, &src, NULL, &res);

	kashim_log_setup(&kashim_cfg);
	if (res.file_err[0])
		kashim_error("%s; leaving every socket alone", res.file_err);
	if (res.env_err[0])
		kashim_error("%s; leaving every socket alone", res.env_err);
	active = rc == 0 && kashim_cfg.top.v.enable;
	kashim_debug("settings read: %s, %zu rule(s)",
		     active ? "active" : "inactive", kashim_cfg.nrules);
	errno = saved;
}

/* Let another thread of this process go on with its reading. */
static void wait_a_little(void)
{
	struct timespec t = { 0, 500000 }; /* 0.5 ms */

	nanosleep(&t, NULL);
}

/*
 * Read the settings unless done; wait while another thread of this
 * process reads them. A fork() child finds its parent's pid in
 * read_state when the parent was reading at the fork: that reader does
 * not exist in the child, so the child reads the settings itself.
 */
static void read_once(void)
{
	int me = (int)getpid();

	for (;;) {
		int st = __atomic_load_n(&read_state, __ATOMIC_ACQUIRE);

		if (st == READ_DONE)
			return;
		if (st == me) {
			wait_a_little();
			continue;
		}
		if (__atomic_compare_exchange_n(&read_state, &st, me, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_ACQUIRE)) {
			read_settings();
			__atomic_store_n(&read_state, READ_DONE,
					 __ATOMIC_RELEASE);
			return;
		}
	}
}

bool kashim_ready(void)
{
	if (__atomic_load_n(&read_state, __ATOMIC_ACQUIRE) != READ_DONE)
		read_once();
	return active;
}
