/*
 * systemd.c - telling whether systemd runs, reloading its units, and the
 * drop-ins that `kashim --enable-unit` and `kashim-bpf enable --unit`
 * write: one check of a unit's name, one way to write a file, one rule
 * for the drop-in's directory (removed only when kashim made it).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io.h"
#include "systemd.h"

bool kashim_systemd_runs(void)
{
	struct stat st;

	return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

void kashim_systemd_reload(const char *prog)
{
	int status;
	pid_t pid;

	if (!kashim_systemd_runs())
		return;
	pid = fork();
	if (pid == 0) {
		execlp("systemctl", "systemctl", "daemon-reload", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		fprintf(stderr,
			"%s: systemctl daemon-reload failed: run it "
			"before the unit's next start\n",
			prog);
}

bool kashim_unit_name_ok(const char *name)
{
	size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
				"TUVWXYZ0123456789:-_.\\@");

	return *name && !name[n] && n <= 255 && name[0] != '.';
}

/* Create path (mode 0644 less the umask), write text, flush it to the
 * disk, close. Returns 0, or -1 with errno (what was made of it is
 * removed). */
static int write_new(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int e;

	if (fd < 0)
		return -1;
	if (kashim_write_all(fd, text, strlen(text)) == 0 && fsync(fd) == 0 &&
	    close(fd) == 0)
		return 0;
	e = errno;
	close(fd); /* EBADF after a failed close: nothing left open */
	unlink(path);
	errno = e;
	return -1;
}

/* Flush the directory of path to the disk, so a rename into it is
 * there after a power loss (best effort: the file is in place). */
static void sync_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		return;
	*slash = '\0';
	fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int kashim_write_file(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	int e;

	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (write_new(tmp, text) < 0)
		return -1;
	if (rename(tmp, path) == 0) {
		sync_dir(path);
		return 0;
	}
	e = errno;
	unlink(tmp);
	errno = e;
	return -1;
}

void kashim_dropin_path(const char *unit, const char *file, char *buf,
			size_t len)
{
	snprintf(buf, len, "%s/%s.d%s%s", KASHIM_UNIT_DIR, unit,
		 file ? "/" : "", file ? file : "");
}

/* Does dir hold anything but kashim's mark? */
static bool holds_more(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	bool more = !d;

	while (d && !more && (e = readdir(d)))
		more = strcmp(e->d_name, ".") != 0 &&
		       strcmp(e->d_name, "..") != 0 &&
		       strcmp(e->d_name, KASHIM_DROPIN_MARK) != 0;
	if (d)
		closedir(d);
	return more;
}

/*
 * Remove the directory of unit's drop-ins when kashim made it (its mark
 * is there) and nothing else is in it; otherwise leave it as it is.
 */
static void remove_dir(const char *unit)
{
	char dir[PATH_MAX], mark[PATH_MAX];
	struct stat st;

	kashim_dropin_path(unit, NULL, dir, sizeof(dir));
	kashim_dropin_path(unit, KASHIM_DROPIN_MARK, mark, sizeof(mark));
	if (lstat(mark, &st) < 0 || holds_more(dir))
		return;
	if (unlink(mark) == 0)
		rmdir(dir);
}

int kashim_dropin_write(const char *unit, const char *file, const char *text,
			char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX];

	kashim_dropin_path(unit, NULL, dir, sizeof(dir));
	kashim_dropin_path(unit, file, path, sizeof(path));
	if (mkdir(dir, 0755) == 0) {
		kashim_dropin_path(unit, KASHIM_DROPIN_MARK, path,
				   sizeof(path));
		if (write_new(path, "") < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			rmdir(dir);
			return -1;
		}
		kashim_dropin_path(unit, file, path, sizeof(path));
	} else if (errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (kashim_write_file(path, text) == 0)
		return 0;
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	remove_dir(unit);
	return -1;
}

int kashim_dropin_remove(const char *unit, const char *file)
{
	char path[PATH_MAX];

	kashim_dropin_path(unit, file, path, sizeof(path));
	if (unlink(path) < 0)
		return -1;
	remove_dir(unit);
	return 0;
}
