/*
 * system.c - `kashim --enable-system`, `--disable-system` and
 * `--status-system`: kashim's line in /etc/ld.so.preload.
 *
 * The line is the library's real path, or its /usr/$LIB/... form when
 * it lives in this system's multiarch directory, so one line serves
 * every architecture of the host. A line "is kashim's" when it names
 * this library in either form. The file is never edited in place: the
 * new text goes to a temporary file beside it, synced, and renamed
 * over it, so a crash leaves the old file or the new one, never half.
 * When the file is a symbolic link, its target is the file edited.
 *
 * A file the loader would not read as kashim means is refused, never
 * reported as done: one that programs not run by root cannot read, one
 * holding a NUL byte (the loader stops there), one too large to edit,
 * and one that names another copy of kashim (unless --force).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "conf/conf.h"
#include "common/io.h"
#include "common/load.h"

#define PRELOAD KASHIM_PRELOAD_FILE
#define PRELOAD_MAX (1 << 20)
/* ld.so splits the file at these and newlines; '#' starts a comment. */
#define SEPARATORS " \t:"
#define ENTRY_END SEPARATORS "\n#"

/* What the command knows while it works on the file. */
struct sys {
	char lib[PATH_MAX];    /* the library's real path */
	char line[PATH_MAX];   /* the entry kashim writes for it */
	char libdir[PATH_MAX]; /* what $LIB stands for (lib/<multiarch>) */
	char path[PATH_MAX];   /* the file edited: PRELOAD or its target */
	bool link;	       /* PRELOAD is a symbolic link to path */
	bool force;	       /* --force: replace another copy's entry */
	char *text;	       /* the file's contents, NUL-terminated */
	size_t len;
	size_t nul; /* where the first NUL byte is, or SIZE_MAX */
	bool exists;
	struct stat st; /* the file's, when it exists */
};

/*
 * What ld.so puts for $LIB in this process: the directory of libc
 * without its leading "/" (and "usr/"), e.g. "lib/x86_64-linux-gnu".
 */
static void lib_token(char *out, size_t len)
{
	Dl_info info;
	const char *p, *slash;

	out[0] = '\0';
	if (!dladdr((void *)getpid, &info) || !info.dli_fname)
		return;
	p = info.dli_fname;
	p += strncmp(p, "/usr/", 5) == 0 ? 5 : *p == '/';
	slash = strrchr(p, '/');
	if (slash)
		snprintf(out, len, "%.*s", (int)(slash - p), p);
}

/* The entry for the library: /usr/$LIB/REST when it lives there. */
static void make_line(struct sys *y)
{
	size_t n = strlen(y->libdir);

	if (n && strncmp(y->lib, "/usr/", 5) == 0 &&
	    strncmp(y->lib + 5, y->libdir, n) == 0 && y->lib[5 + n] == '/')
		snprintf(y->line, sizeof(y->line), "/usr/$LIB%s",
			 y->lib + 5 + n);
	else
		snprintf(y->line, sizeof(y->line), "%s", y->lib);
}

/* Is entry (n bytes at e) this library, by its line or its real path? */
static bool is_ours(const struct sys *y, const char *e, size_t n)
{
	char name[PATH_MAX], path[PATH_MAX];
	const char *tok = "${LIB}", *at;

	if (n >= sizeof(name))
		return false;
	snprintf(name, sizeof(name), "%.*s", (int)n, e);
	if (strcmp(name, y->line) == 0)
		return true;
	at = strstr(name, tok);
	if (!at)
		at = strstr(name, tok = "$LIB");
	if (!at) /* no $LIB to expand */
		return realpath(name, path) && strcmp(path, y->lib) == 0;
	if ((size_t)snprintf(path, sizeof(path), "%.*s%s%s", (int)(at - name),
			     name, y->libdir, at + strlen(tok)) >= sizeof(path))
		return false;
	return realpath(path, name) && strcmp(name, y->lib) == 0;
}

/*
 * Which file holds the text: PRELOAD, or the target of the symbolic
 * link PRELOAD is. Returns 0, or -1 after a message.
 */
static int find_path(struct sys *y)
{
	struct stat lst;

	snprintf(y->path, sizeof(y->path), "%s", PRELOAD);
	if (lstat(PRELOAD, &lst) < 0 || !S_ISLNK(lst.st_mode))
		return 0;
	y->link = true;
	if (realpath(PRELOAD, y->path))
		return 0;
	fprintf(stderr,
		"kashim: %s is a symbolic link kashim cannot follow: %s; "
		"nothing changed\n",
		PRELOAD, strerror(errno));
	return -1;
}

/* Say that the file is too large to be kashim's to edit. Returns -1. */
static int too_large(const struct sys *y, long long size)
{
	fprintf(stderr,
		"kashim: %s%s%s is too large (%lld bytes; kashim edits one of "
		"at most %d): nothing changed\n",
		PRELOAD, y->link ? " -> " : "", y->link ? y->path : "", size,
		PRELOAD_MAX);
	return -1;
}

/* Read the preload file into y. Returns 0, or -1 after a message. */
static int read_preload(struct sys *y)
{
	int fd;
	ssize_t n = 0;
	char *z;

	y->nul = SIZE_MAX;
	y->text = malloc(PRELOAD_MAX + 2);
	if (!y->text) {
		fprintf(stderr, "kashim: out of memory\n");
		return -1;
	}
	y->text[0] = '\0';
	if (find_path(y) < 0)
		return -1;
	fd = open(y->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && !y->link)
		return 0;
	if (fd < 0 || fstat(fd, &y->st) < 0)
		goto fail;
	y->exists = true;
	if (!S_ISREG(y->st.st_mode)) {
		errno = EINVAL;
		fprintf(stderr, "kashim: %s is not a regular file\n", y->path);
		close(fd);
		return -1;
	}
	if (y->st.st_size > PRELOAD_MAX) {
		close(fd);
		return too_large(y, (long long)y->st.st_size);
	}
	while (y->len <= PRELOAD_MAX &&
	       (n = read(fd, y->text + y->len, PRELOAD_MAX + 1 - y->len)) > 0)
		y->len += (size_t)n;
	if (n < 0)
		goto fail;
	close(fd);
	if (y->len > PRELOAD_MAX) /* it grew meanwhile */
		return too_large(y, (long long)y->len);
	y->text[y->len] = '\0';
	z = memchr(y->text, '\0', y->len);
	if (z)
		y->nul = (size_t)(z - y->text);
	return 0;
fail:
	fprintf(stderr, "kashim: cannot read %s: %s\n", y->path,
		strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Sync the directory of the file edited, so the rename is on disk. */
static void sync_dir(const struct sys *y)
{
	char dir[PATH_MAX];
	int fd;

	snprintf(dir, sizeof(dir), "%s", y->path);
	*strrchr(dir, '/') = '\0';
	fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/*
 * Replace the preload file (the target, when it is a symbolic link)
 * with text (n bytes): a temporary file in the same directory with the
 * old file's mode and owner (0644 root for a new one), synced, renamed
 * over it. Returns 0, or -1 after a
 * message, the old file untouched.
 */
static int replace_preload(const struct sys *y, const char *text, size_t n)
{
	char tmp[PATH_MAX + 16];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.kashim-XXXXXX", y->path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		goto fail;
	if (fchmod(fd, y->exists ? y->st.st_mode & 07777 : 0644) < 0 ||
	    (y->exists && fchown(fd, y->st.st_uid, y->st.st_gid) < 0) ||
	    kashim_write_all(fd, text, n) < 0 || fsync(fd) < 0) {
		close(fd);
		goto fail_tmp;
	}
	if (close(fd) < 0 || rename(tmp, y->path) < 0)
		goto fail_tmp;
	sync_dir(y);
	return 0;
fail_tmp:
	unlink(tmp);
fail:
	fprintf(stderr, "kashim: cannot write %s: %s%s; it is unchanged\n",
		y->path, strerror(errno),
		errno == EACCES || errno == EPERM ? " (run as root)" : "");
	return -1;
}

/*
 * Call fn for each entry of the file's lines that are not comments,
 * with the line's number; stop when it returns non-zero and return that.
 */
static int each_entry(const struct sys *y,
		      int (*fn)(const struct sys *y, const char *e, size_t n,
				int lineno, void *arg),
		      void *arg)
{
	const char *p = y->text;
	int lineno = 1, rc = 0;

	while (*p && !rc) {
		size_t n = strcspn(p, ENTRY_END);

		if (*p == '#')
			n = strcspn(p, "\n"); /* a comment runs to the end */
		else if (n)
			rc = fn(y, p, n, lineno, arg);
		p += n;
		lineno += *p == '\n';
		p += *p != '\0';
	}
	return rc;
}

/* each_entry() callback: the line number of kashim's entry, or 0. */
static int find_ours(const struct sys *y, const char *e, size_t n, int lineno,
		     void *arg)
{
	(void)arg;
	return is_ours(y, e, n) ? lineno : 0;
}

/* Does entry (n bytes at e) name a copy of kashim's library, any copy? */
static bool is_kashim(const struct sys *y, const char *e, size_t n)
{
	const char *base = e + n;

	while (base > e && base[-1] != '/')
		base--;
	if ((size_t)(e + n - base) >= strlen(KASHIM_LIBRARY) &&
	    strncmp(base, KASHIM_LIBRARY, strlen(KASHIM_LIBRARY)) == 0)
		return true;
	return is_ours(y, e, n);
}

/* Another copy of kashim found in the file: where, and its name. */
struct other {
	int lineno;
	char name[PATH_MAX];
};

/* each_entry() callback: the first entry naming another copy of kashim. */
static int find_other(const struct sys *y, const char *e, size_t n, int lineno,
		      void *arg)
{
	struct other *o = arg;

	if (!is_kashim(y, e, n) || is_ours(y, e, n))
		return 0;
	o->lineno = lineno;
	snprintf(o->name, sizeof(o->name), "%.*s", (int)n, e);
	return lineno;
}

/* Does the library load into /bin/true, which then prints nothing? */
static int test_run(const struct sys *y)
{
	char out[512];
	int pfd[2], wstatus;
	ssize_t got = 0, n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		setenv("LD_PRELOAD", y->line, 1);
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], out + got, sizeof(out) - 1 - (size_t)got)) > 0)
		got += n;
	close(pfd[0]);
	out[got] = '\0';
	if (waitpid(pid, &wstatus, 0) < 0 || !WIFEXITED(wstatus) ||
	    WEXITSTATUS(wstatus) != 0 || got > 0) {
		fprintf(stderr,
			"kashim: refused: /bin/true with LD_PRELOAD=%s "
			"did not run quietly (%s): %s\n",
			y->line, got ? "it printed" : "exit status",
			got ? out : "not 0");
		return -1;
	}
	return 0;
}

/* getenv() of a program that has no KASHIM_* variable. */
static char *no_env(const char *name)
{
	(void)name;
	return NULL;
}

/*
 * Read the system config file exactly as a program under
 * /etc/ld.so.preload does: no KASHIM_* variable, syslog by default.
 * Returns kashim_settings_load()'s result; s must be freed.
 */
static int load_system(struct kashim_settings *s,
		       struct kashim_load_result *res)
{
	const struct kashim_sources src = {
		.getenv = no_env,
		.load_file = kashim_conf_load,
		.ruid = getuid(),
		.exe = NULL,
		.system_wide = true,
	};

	return kashim_settings_load(s, &src, NULL, res);
}

/*
 * Would every program take the system config file? It must check valid
 * as a program under /etc/ld.so.preload reads it, and be readable by
 * every user. Returns 0, or -1 after saying why.
 */
static int config_ok(void)
{
	struct kashim_load_result res;
	struct kashim_settings s;
	int rc = load_system(&s, &res);

	kashim_settings_free(&s);
	if (rc < 0) {
		fprintf(stderr, "kashim: refused: %s\n", res.file_err);
		return -1;
	}
	if (res.file_rc == KASHIM_CONF_OK && kashim_cmd_warn_file(res.path)) {
		fprintf(stderr,
			"kashim: refused: %s must be readable by every "
			"user of the host\n",
			res.path);
		return -1;
	}
	return 0;
}

/*
 * Is the file one the loader reads as kashim would write it? Not when
 * it holds a NUL byte (the loader reads nothing after it), nor, for
 * enabling, when programs not run by root cannot read it. Returns 0, or
 * -1 after saying why and what to do.
 */
static int file_ok(const struct sys *y, bool enabling)
{
	if (y->nul != SIZE_MAX) {
		fprintf(stderr,
			"kashim: refused: %s holds a NUL byte (at byte %zu): "
			"the loader reads nothing after it, so a line there is "
			"neither loaded nor found; remove the NUL byte first "
			"(for instance with tr -d '\\000'); nothing changed\n",
			y->path, y->nul);
		return -1;
	}
	if (enabling && y->exists && !(y->st.st_mode & S_IROTH)) {
		fprintf(stderr,
			"kashim: refused: %s has mode %04o: programs not run "
			"by root cannot read it, so they would not load "
			"kashim; run chmod 644 %s first; nothing changed\n",
			y->path, (unsigned)(y->st.st_mode & 07777), y->path);
		return -1;
	}
	return 0;
}

/*
 * Append the line at p (n bytes, its newline excluded) to out (at *olen)
 * without the entries drop() picks: a line without them as it was,
 * byte for byte; one that held only them (and blanks) dropped whole;
 * else the other entries joined by spaces, then its comment. Returns
 * the number of entries removed.
 */
static int strip_line(const struct sys *y,
		      bool (*drop)(const struct sys *y, const char *e,
				   size_t n),
		      const char *p, size_t n, char *out, size_t *olen)
{
	size_t start = *olen, i = 0;
	int removed = 0, kept = 0;

	while (i < n && p[i] != '#') {
		size_t e;

		i += strspn(p + i, SEPARATORS);
		e = strcspn(p + i, ENTRY_END);
		if (e && drop(y, p + i, e))
			removed++;
		else if (e) {
			memcpy(out + *olen + (kept ? 1 : 0), p + i, e);
			if (kept++)
				out[*olen] = ' ';
			*olen += e + (kept > 1);
		}
		i += e;
	}
	if (!removed) { /* untouched */
		memcpy(out + start, p, n);
		*olen = start + n;
	} else if (i < n) { /* the comment, kept */
		out[(*olen)++] = ' ';
		memcpy(out + *olen, p + i, n - i);
		*olen += n - i;
	}
	if (*olen > start || !removed)
		out[(*olen)++] = '\n';
	return removed;
}

/*
 * The file's text without the entries drop() picks into out (room for
 * y->len + 2 bytes), every other byte kept. Returns how many were
 * removed; *olen is the new length.
 */
static int strip(const struct sys *y,
		 bool (*drop)(const struct sys *y, const char *e, size_t n),
		 char *out, size_t *olen)
{
	const char *p = y->text;
	int removed = 0;

	*olen = 0;
	while (*p) {
		size_t n = strcspn(p, "\n");

		removed += strip_line(y, drop, p, n, out, olen);
		p += n + (p[n] == '\n');
	}
	if (*olen && y->text[y->len - 1] != '\n')
		(*olen)--; /* no newline at the end before: none now */
	return removed;
}

/* Say that another copy of kashim is named already. Returns 1. */
static int other_copy(const struct other *o)
{
	fprintf(stderr,
		"kashim: refused: %s line %d names another copy of kashim, %s: "
		"with both, every program loads two copies that each set every "
		"option; remove that line first (that copy's kashim "
		"--disable-system), or replace it with this one: kashim "
		"--enable-system --force; nothing changed\n",
		PRELOAD, o->lineno, o->name);
	return 1;
}

/* The words after PRELOAD when it is a symbolic link: " (-> TARGET)". */
static const char *via(const struct sys *y, char *buf, size_t len)
{
	if (!y->link)
		return "";
	snprintf(buf, len, " (a symbolic link to %s, edited there)", y->path);
	return buf;
}

/*
 * --enable-system: append the line unless one is there; with --force,
 * in place of the entries of other copies of kashim.
 */
static int enable(struct sys *y)
{
	struct other o = { 0 };
	char *text;
	char link[PATH_MAX + 64];
	size_t n = y->len, size = y->len + strlen(y->line) + 4;
	int lineno, rc, removed = 0;

	if (file_ok(y, true) < 0)
		return 1;
	lineno = each_entry(y, find_ours, NULL);
	each_entry(y, find_other, &o);
	if (lineno && !o.lineno) {
		printf("kashim: already enabled: %s line %d names %s; nothing "
		       "changed\n",
		       PRELOAD, lineno, y->lib);
		return 0;
	}
	if (o.lineno && !y->force)
		return other_copy(&o);
	if (config_ok() < 0 || test_run(y) < 0)
		return 1;
	text = malloc(size);
	if (!text)
		return 1;
	if (o.lineno) /* --force: every copy's entry out, this one's in */
		removed = strip(y, is_kashim, text, &n);
	else
		memcpy(text, y->text, n);
	if (n && text[n - 1] != '\n') /* end the last line first */
		text[n++] = '\n';
	memcpy(text + n, y->line, strlen(y->line));
	n += strlen(y->line);
	text[n++] = '\n';
	rc = replace_preload(y, text, n);
	free(text);
	if (rc < 0)
		return 1;
	if (removed)
		printf("kashim: replaced %s (another copy of kashim) by %s in "
		       "%s%s: every program started from now on loads this "
		       "one (undo: kashim --disable-system)\n",
		       o.name, y->line, PRELOAD, via(y, link, sizeof(link)));
	else
		printf("kashim: added %s to %s%s: every program started from "
		       "now on loads it (undo: kashim --disable-system)\n",
		       y->line, PRELOAD, via(y, link, sizeof(link)));
	return 0;
}

/* Remove the preload file that held only kashim's line. Returns 0 or -1. */
static int remove_preload(const struct sys *y)
{
	if (unlink(PRELOAD) == 0) {
		sync_dir(y);
		return 0;
	}
	fprintf(stderr, "kashim: cannot remove %s: %s\n", PRELOAD,
		strerror(errno));
	return -1;
}

/*
 * --disable-system: drop kashim's entries, every other byte kept. A file
 * left empty is removed, unless it is a link's target (the link stays,
 * to an empty file).
 */
static int disable(struct sys *y)
{
	char *out = malloc(y->len + 2);
	char link[PATH_MAX + 64];
	size_t olen = 0;
	int removed, rc = 1;

	if (!out)
		return 1;
	if (file_ok(y, false) < 0)
		goto out;
	removed = strip(y, is_ours, out, &olen);
	if (!removed) {
		printf("kashim: %s does not name %s; nothing changed\n",
		       PRELOAD, y->lib);
		rc = 0;
	} else if (olen == 0 && !y->link ? remove_preload(y) == 0
					 : replace_preload(y, out, olen) == 0) {
		printf("kashim: removed %s from %s%s%s: programs started from "
		       "now on do not load it\n",
		       y->line, PRELOAD, via(y, link, sizeof(link)),
		       olen || y->link ? "" : " (it held nothing else, so it is gone)");
		rc = 0;
	}
out:
	free(out);
	return rc;
}

/* each_entry() callback for --status-system: report kashim entries. */
static int report(const struct sys *y, const char *e, size_t n, int lineno,
		  void *arg)
{
	int *rc = arg;
	bool exists;
	char name[PATH_MAX];

	if (!is_kashim(y, e, n) || n >= sizeof(name))
		return 0;
	snprintf(name, sizeof(name), "%.*s", (int)n, e);
	exists = is_ours(y, e, n) || access(name, F_OK) == 0;
	printf("%s line %d: %s (%s%s)\n", PRELOAD, lineno, name,
	       is_ours(y, e, n) ? "this kashim, " : "",
	       exists ? "the file exists"
		      : "NO SUCH FILE: every program will "
			"print an error");
	if (!exists)
		*rc = 1;
	else if (*rc == 3 && is_ours(y, e, n))
		*rc = 0;
	return 0;
}

/*
 * Where the library's messages go in a program it came into through
 * /etc/ld.so.preload, as s (read as such a program reads it) says.
 */
static void say_log(const struct kashim_settings *s)
{
	struct stat st;

	if (s->log_level == KASHIM_LOG_NONE) {
		printf("its messages: none (log_level = none)\n");
	} else if (strcmp(s->log_target, "syslog") == 0) {
		printf("its messages go to syslog, as kashim[PID] (read them "
		       "with journalctl -t kashim, or in /var/log/syslog)\n");
		if (stat("/dev/log", &st) < 0)
			printf("/dev/log does not exist here (a container or a "
			       "chroot?): its messages are lost\n");
	} else if (strcmp(s->log_target, "stderr") == 0) {
		printf("its messages go to the standard error of each "
		       "program (log_target = stderr)\n");
	} else {
		printf("its messages go to %s (log_target)\n", s->log_target);
	}
}

/*
 * With kashim enabled: would the programs take the system config file?
 * It is read as they read it. Returns 0, or 1 after saying why every
 * socket is left alone (all of them, or those of users not root).
 */
static int status_config(void)
{
	struct kashim_load_result res;
	struct kashim_settings s;
	int rc = load_system(&s, &res);

	if (rc < 0) {
		fprintf(stderr, "kashim: %s\n", res.file_err);
		printf("but its config file is refused: programs leave every "
		       "socket alone until this is fixed (kashim --check %s)\n",
		       res.path ? res.path : KASHIM_SYSTEM_CONFIG);
		rc = 1;
	} else if (res.file_rc == KASHIM_CONF_OK &&
		   kashim_cmd_warn_file(res.path)) {
		printf("but programs not run by root cannot read %s: they "
		       "leave every socket alone until this is fixed\n",
		       res.path);
		rc = 1;
	}
	say_log(&s);
	kashim_settings_free(&s);
	return rc;
}

/* --status-system: which line, if any, and whether its file is there. */
static int status(const struct sys *y)
{
	struct other o = { 0 };
	int rc = 3;

	each_entry(y, report, &rc);
	if (rc == 3)
		printf("kashim is not enabled system-wide: %s %s %s "
		       "(enable: kashim --enable-system)\n",
		       PRELOAD,
		       y->exists ? "does not name"
				 : "does not exist, so nothing loads",
		       y->lib);
	else if (rc == 0)
		printf("kashim is enabled system-wide: every program started "
		       "loads %s\n",
		       y->lib);
	if (y->nul != SIZE_MAX)
		printf("%s holds a NUL byte at byte %zu: the loader reads "
		       "nothing after it (the lines above are all it reads)\n",
		       y->path, y->nul);
	if (rc == 0 && each_entry(y, find_other, &o))
		printf("but line %d names another copy of kashim too, %s: every "
		       "program loads both, and each sets every option (kashim "
		       "--enable-system --force keeps this one only)\n",
		       o.lineno, o.name);
	if (rc == 0 && !(y->st.st_mode & S_IROTH)) {
		printf("but %s has mode %04o: programs not run by root cannot "
		       "read it and do not load kashim (run chmod 644 %s)\n",
		       y->path, (unsigned)(y->st.st_mode & 07777), y->path);
		rc = 1;
	}
	if (rc == 0)
		rc = status_config();
	return rc;
}

int kashim_cmd_system(int how, bool force)
{
	struct sys y = {0};
	int rc = 1;

	y.force = force;
	if (kashim_cmd_find_library(y.lib) < 0)
		return 1;
	lib_token(y.libdir, sizeof(y.libdir));
	make_line(&y);
	if (read_preload(&y) < 0)
		goto out;
	rc = how > 0 ? enable(&y) : how < 0 ? disable(&y) : status(&y);
out:
	free(y.text);
	return rc;
}
