/*
 * init.c - read the settings once, on the first TCP connection.
 *
 * Nothing happens at load time: a process that never makes a TCP
 * connection reads no variable and no file, loads no parser and
 * allocates nothing. The first connect() or accept() of a TCP socket,
 * from whatever thread or constructor, runs read_settings() through
 * pthread_once(); glibc's pthread_once also copes with a fork() that
 * interrupts it in another thread.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "conf.h"
#include "kashim.h"
#include "log.h"

struct kashim_settings kashim_cfg;
static bool active;
static pthread_once_t once = PTHREAD_ONCE_INIT;

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

/* Which config file: KASHIM_CONFIG (empty: none) or the system one. */
static const char *config_path(char *(*get)(const char *))
{
	const char *val = get(KASHIM_ENV_CONFIG);

	if (!val)
		return KASHIM_SYSTEM_CONFIG;
	return *val ? val : NULL;
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
 * Read the config file into s. Returns 0 (read, or there is none) or -1
 * with the message in err. libconfuse is only mapped when a file exists.
 */
static int read_file(struct kashim_settings *s, char *(*get)(const char *),
		     char *err, size_t errlen)
{
	const char *path = config_path(get);
	kashim_conf_load_fn *load;
	void *h;

	if (!path || (access(path, F_OK) < 0 && errno == ENOENT))
		return 0;
	h = open_module(err, errlen);
	if (!h)
		return -1;
	load = (kashim_conf_load_fn *)dlsym(h, KASHIM_CONF_LOAD_SYMBOL);
	if (!load) {
		snprintf(err, errlen, "the config module has no %s",
			 KASHIM_CONF_LOAD_SYMBOL);
		return -1;
	}
	/* The module stays loaded: the rules it allocated live on. */
	return load(path, getuid(), s, err, errlen) == KASHIM_CONF_ERROR ? -1 : 0;
}

static void read_settings(void)
{
	char file_err[512] = "", env_err[512] = "";
	char *(*get)(const char *) = secure() ? no_env : env;
	int saved = errno;
	bool ok = true;

	kashim_settings_defaults(&kashim_cfg);
	if (read_file(&kashim_cfg, get, file_err, sizeof(file_err)) < 0)
		ok = false;
	if (kashim_settings_from_env(&kashim_cfg, get, env_err,
				     sizeof(env_err)) < 0)
		ok = false;
	kashim_settings_finish(&kashim_cfg, exe_name());
	kashim_log_setup(&kashim_cfg);
	if (file_err[0])
		kashim_error("%s; leaving every socket alone", file_err);
	if (env_err[0])
		kashim_error("%s; leaving every socket alone", env_err);
	active = ok && kashim_cfg.top.v.enable;
	kashim_debug("settings read: %s, %zu rule(s)",
		     active ? "active" : "inactive", kashim_cfg.nrules);
	errno = saved;
}

bool kashim_ready(void)
{
	pthread_once(&once, read_settings);
	return active;
}
