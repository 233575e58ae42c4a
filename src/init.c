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
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "kashim.h"
#include "log.h"

struct kashim_settings kashim_cfg;
static bool active;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* The executable's base name, as it was started (AT_EXECFN). */
static const char *exe_name(void)
{
	/* getauxval() hands the address over as an integer: cast it back. */
	/* NOLINTNEXTLINE(performance-no-int-to-ptr) */
	const char *path = (const char *)getauxval(AT_EXECFN);
	const char *slash;

	if (!path)
		return NULL;
	slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Which config file: KASHIM_CONFIG (empty: none) or the system one. */
static const char *config_path(void)
{
	const char *env = secure_getenv(KASHIM_ENV_CONFIG);

	if (!env)
		return KASHIM_SYSTEM_CONFIG;
	return *env ? env : NULL;
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
static int read_file(struct kashim_settings *s, char *err, size_t errlen)
{
	const char *path = config_path();
	kashim_conf_load_fn *load;
	struct stat st;
	void *h;

	if (!path || (stat(path, &st) < 0 && errno == ENOENT))
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
	int saved = errno;
	bool ok = true;

	kashim_settings_defaults(&kashim_cfg);
	if (read_file(&kashim_cfg, file_err, sizeof(file_err)) < 0)
		ok = false;
	/* In a secure-execution process secure_getenv() gives nothing. */
	if (kashim_settings_from_env(&kashim_cfg, secure_getenv, env_err,
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
