/*
 * init.c - read the settings once, on the first TCP connection.
 *
 * Nothing happens at load time: a process that never makes a TCP
 * connection reads no variable and no file, loads no parser and
 * allocates nothing. The first connect() or accept() of a TCP socket,
 * from whatever thread, constructor or signal handler, reads the
 * settings; one word says who does (see kashim_ready()). Not through
 * pthread_once(): a signal handler would wait on its own thread, and
 * musl's leaves a fork() child hanging when another thread of the
 * parent was reading.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "common/load.h"
#include "init.h"
#include "log.h"

/* From <linux/futex.h>, which musl-gcc's include path does not reach. */
#ifndef FUTEX_WAIT_PRIVATE
#define FUTEX_WAIT_PRIVATE (0 | 128)
#define FUTEX_WAKE_PRIVATE (1 | 128)
#endif

struct kashim_settings kashim_cfg;
static bool active;
static const char *inactive_why = "the settings are not read yet";

/*
 * Who reads the settings: UNREAD, DONE, or the reading thread's id (a
 * positive number). Waiters sleep on it with a futex.
 */
#define UNREAD 0
#define DONE (-1)
static int state;

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

/* Is an item of LD_PRELOAD (n bytes at item) a file named base? */
static bool names_file(const char *item, size_t n, const char *base)
{
	const char *p = item + n;

	while (p > item && p[-1] != '/')
		p--;
	return (size_t)(item + n - p) == strlen(base) &&
	       memcmp(p, base, strlen(base)) == 0;
}

/*
 * Did the library come in through /etc/ld.so.preload rather than
 * LD_PRELOAD? ld.so maps both alike, so the test is whether LD_PRELOAD
 * names this library's file (any directory or $LIB form): one getenv()
 * and one dladdr(), only in a process that makes a TCP connection; no
 * file is read. ld.so removes LD_PRELOAD from a secure-execution
 * process, and a setuid program's stderr is no place for kashim either:
 * such a process counts as system-wide.
 */
static bool system_wide(bool secure_exec)
{
	const char *item, *self;
	Dl_info info;

	if (secure_exec)
		return true;
	if (!dladdr((void *)kashim_ready, &info) || !info.dli_fname)
		return false;
	self = strrchr(info.dli_fname, '/');
	self = self ? self + 1 : info.dli_fname;
	for (item = getenv("LD_PRELOAD"); item && *item; item++) {
		size_t n = 0;

		while (item[n] && item[n] != ' ' && item[n] != ':')
			n++; /* ld.so separates items by spaces or colons */
		if (n && names_file(item, n, self))
			return false;
		item += n;
		if (!*item)
			break;
	}
	return true;
}

/* The config file read, for the debug line. */
static const char *file_read(const struct kashim_load_result *res)
{
	return res->path && res->file_rc == KASHIM_CONF_OK ? res->path : "none";
}

/* Read the settings into kashim_cfg and set active; keeps errno. */
static void read_settings(void)
{
	bool sec = secure();
	struct kashim_sources src = {
		.getenv = sec ? no_env : env,
		.load_file = load_file,
		.ruid = getuid(),
		.exe = exe_name(),
		.system_wide = system_wide(sec),
	};
	struct kashim_load_result res;
	int saved = errno;
	int rc;

	kashim_arena_use();
	rc = kashim_settings_load(&kashim_cfg, &src, NULL, &res);
	kashim_log_setup(&kashim_cfg);
	if (res.file_err[0])
		kashim_error("%s; leaving every socket alone", res.file_err);
	if (res.env_err[0])
		kashim_error("%s; leaving every socket alone", res.env_err);
	active = rc == 0 && kashim_cfg.top.v.enable;
	inactive_why = rc ? "kashim is inactive because of the error above" :
			    "kashim is switched off (enable = false)";
	kashim_debug("settings read: config file %s, %s, %zu rule(s)",
		     file_read(&res), active ? "active" : "inactive",
		     kashim_cfg.nrules);
	errno = saved;
}

const char *kashim_inactive_why(void)
{
	return inactive_why;
}


/*
 * Is thread id of this process gone? True in a fork() child for every
 * thread of the parent (a child has only the thread that forked), and
 * for a reader that died.
 */
static bool reader_gone(int id)
{
	return syscall(SYS_tgkill, getpid(), id, 0) < 0 && errno == ESRCH;
}

/*
 * Become the reader (state was seen as was): read with every signal the
 * C library lets a program block held off, so that no handler runs in
 * the middle, then wake the waiters. The mask is restored exactly.
 */
static bool claim_and_read(int was, int me)
{
	sigset_t all, old;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if (!__atomic_compare_exchange_n(&state, &was, me, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return false;
	}
	read_settings();
	__atomic_store_n(&state, DONE, __ATOMIC_RELEASE);
	syscall(SYS_futex, &state, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return true;
}

/* Sleep while state is still s, at most 10 ms: then look again. */
static void wait_while(int s)
{
	struct timespec ts = { 0, 10000000L };

	syscall(SYS_futex, &state, FUTEX_WAIT_PRIVATE, s, &ts, NULL, 0);
}

/*
 * The settings are not read yet. The caller reads them, or waits for
 * the thread that does; a call from inside this thread's own read (a
 * signal handler that came before the signals were blocked, or anything
 * the read itself calls) passes straight through. A fork() child whose
 * parent was reading reads again itself. Keeps errno.
 */
static __attribute__((noinline)) bool ready_slow(void)
{
	int saved = errno;
	int me = (int)syscall(SYS_gettid);
	int s;

	while ((s = __atomic_load_n(&state, __ATOMIC_ACQUIRE)) != DONE) {
		if (s == me) {
			errno = saved;
			return false;
		}
		if ((s == UNREAD || reader_gone(s)) && claim_and_read(s, me))
			break;
		if (s != UNREAD)
			wait_while(s);
	}
	errno = saved;
	return active;
}

bool kashim_ready(void)
{
	if (__builtin_expect(__atomic_load_n(&state, __ATOMIC_ACQUIRE) == DONE, 1))
		return active;
	return ready_slow();
}
