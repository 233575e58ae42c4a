/*
 * cmd_elf.c - warn before running a program that LD_PRELOAD cannot reach.
 *
 * The file COMMAND names is found as execvp() finds it; a `#!` script is
 * judged by its interpreter. An ELF file without PT_INTERP is statically
 * linked (no dynamic loader, so no preload); one with a Go build-ID note
 * is a Go program (its own keep-alive, and pure-Go networking makes its
 * system calls without libc); a file that changes the user or group, or
 * carries file capabilities, runs in secure-execution mode, where the
 * loader drops LD_PRELOAD. Only the headers and notes are read.
 *
 * The same reading tells which C library runs the program (the loader
 * its PT_INTERP names), so that the command preloads the build of
 * libkashim.so made for that C library.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cmd.h"

/*
 * The Go linker's note: type 4 (NT_GO_BUILDID in Go's sources), name
 * "Go" padded with NULs to 4 bytes, and namesz 4 as Go writes it (the
 * ELF habit would be 3, "Go" and one NUL: accepted too).
 */
#define GO_NOTE_NAME "Go\0\0"
#define GO_NOTE_TYPE 4

/* Limits that keep a hostile or broken file from costing much. */
#define MAX_HEADERS 4096
#define MAX_NOTES_SIZE (1u << 20)
#define MAX_SCRIPT_DEPTH 4

/* Where an ELF file keeps its headers, whatever its class. */
struct elf_file {
	int fd;
	bool is64;
	uint64_t phoff, shoff;
	unsigned phnum, shnum, phentsize, shentsize;
};

/* A program or section header, reduced to what is looked at here. */
struct elf_part {
	uint32_t type;
	uint64_t offset, size, align;
};

/* Read n bytes at off exactly. */
static bool read_at(int fd, void *buf, size_t n, uint64_t off)
{
	return pread(fd, buf, n, (off_t)off) == (ssize_t)n;
}

/*
 * Read the ELF header of fd into e. Returns false when fd is no ELF
 * program of this host's byte order.
 */
static bool elf_open(int fd, struct elf_file *e)
{
	union {
		Elf32_Ehdr h32;
		Elf64_Ehdr h64;
	} u;
	const uint16_t one = 1;
	int native = *(const uint8_t *)&one ? ELFDATA2LSB : ELFDATA2MSB;

	if (!read_at(fd, &u, sizeof(u.h32), 0) ||
	    memcmp(u.h32.e_ident, ELFMAG, SELFMAG) != 0 ||
	    u.h32.e_ident[EI_DATA] != native)
		return false;
	e->fd = fd;
	e->is64 = u.h32.e_ident[EI_CLASS] == ELFCLASS64;
	if (e->is64 && !read_at(fd, &u, sizeof(u.h64), 0))
		return false;
	/* Only programs: an object file or core dump does not run. */
	if (u.h32.e_type != ET_EXEC && u.h32.e_type != ET_DYN)
		return false;
	e->phoff = e->is64 ? u.h64.e_phoff : u.h32.e_phoff;
	e->shoff = e->is64 ? u.h64.e_shoff : u.h32.e_shoff;
	e->phnum = e->is64 ? u.h64.e_phnum : u.h32.e_phnum;
	e->shnum = e->is64 ? u.h64.e_shnum : u.h32.e_shnum;
	e->phentsize = e->is64 ? u.h64.e_phentsize : u.h32.e_phentsize;
	e->shentsize = e->is64 ? u.h64.e_shentsize : u.h32.e_shentsize;
	return true;
}

/* Program header i of e. */
static bool elf_phdr(const struct elf_file *e, unsigned i, struct elf_part *p)
{
	uint64_t off = e->phoff + (uint64_t)i * e->phentsize;
	Elf64_Phdr h64;
	Elf32_Phdr h32;

	if (e->is64 && read_at(e->fd, &h64, sizeof(h64), off)) {
		*p = (struct elf_part){ h64.p_type, h64.p_offset, h64.p_filesz,
					h64.p_align };
		return true;
	}
	if (!e->is64 && read_at(e->fd, &h32, sizeof(h32), off)) {
		*p = (struct elf_part){ h32.p_type, h32.p_offset, h32.p_filesz,
					h32.p_align };
		return true;
	}
	return false;
}

/* Section header i of e. */
static bool elf_shdr(const struct elf_file *e, unsigned i, struct elf_part *p)
{
	uint64_t off = e->shoff + (uint64_t)i * e->shentsize;
	Elf64_Shdr h64;
	Elf32_Shdr h32;

	if (e->is64 && read_at(e->fd, &h64, sizeof(h64), off)) {
		*p = (struct elf_part){ h64.sh_type, h64.sh_offset, h64.sh_size,
					h64.sh_addralign };
		return true;
	}
	if (!e->is64 && read_at(e->fd, &h32, sizeof(h32), off)) {
		*p = (struct elf_part){ h32.sh_type, h32.sh_offset, h32.sh_size,
					h32.sh_addralign };
		return true;
	}
	return false;
}

/* Round n up to a multiple of a (a power of two). */
static uint64_t align_up(uint64_t n, uint64_t a)
{
	return (n + a - 1) & ~(a - 1);
}

/* Does the note area p (a PT_NOTE or SHT_NOTE) hold Go's build-ID note? */
static bool has_go_note(int fd, const struct elf_part *p)
{
	uint64_t a = p->align == 8 ? 8 : 4, at = 0;
	unsigned char *buf;
	bool go = false;

	if (p->size < sizeof(Elf32_Nhdr) || p->size > MAX_NOTES_SIZE)
		return false;
	buf = malloc(p->size);
	if (!buf || !read_at(fd, buf, p->size, p->offset))
		goto out;
	/* Elf32_Nhdr and Elf64_Nhdr are the same three 32-bit words. */
	while (!go && at + sizeof(Elf32_Nhdr) <= p->size) {
		Elf32_Nhdr n;

		memcpy(&n, buf + at, sizeof(n));
		go = (n.n_namesz == 3 || n.n_namesz == 4) &&
		     n.n_type == GO_NOTE_TYPE &&
		     at + sizeof(n) + n.n_namesz <= p->size &&
		     !memcmp(buf + at + sizeof(n), GO_NOTE_NAME, n.n_namesz);
		at += sizeof(n) + align_up(n.n_namesz, a) +
		      align_up(n.n_descsz, a);
	}
out:
	free(buf);
	return go;
}

/* What kind of program an ELF file is, for the warning. */
enum reach { REACH_OK, REACH_STATIC, REACH_GO };

/* Look at the headers and notes of ELF file e. */
static enum reach elf_reach(const struct elf_file *e)
{
	bool interp = false, go = false;
	struct elf_part p;

	for (unsigned i = 0; i < e->phnum && i < MAX_HEADERS; i++) {
		if (!elf_phdr(e, i, &p))
			return REACH_OK;
		interp |= p.type == PT_INTERP;
		go = go || (p.type == PT_NOTE && has_go_note(e->fd, &p));
	}
	/* A note outside any segment (stripped of PT_NOTE, or added later). */
	for (unsigned i = 0; !go && i < e->shnum && i < MAX_HEADERS; i++)
		go = elf_shdr(e, i, &p) && p.type == SHT_NOTE &&
		     has_go_note(e->fd, &p);
	if (go)
		return REACH_GO;
	return interp ? REACH_OK : REACH_STATIC;
}

/*
 * Does running the file fd (stat st) switch to secure-execution mode?
 * Returns what would cause it ("is setuid", "is setgid", "has file
 * capabilities") or NULL.
 */
static const char *secure_reason(int fd, const struct stat *st)
{
	struct statvfs vfs;

	if (fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_NOSUID))
		return NULL;
	if ((st->st_mode & S_ISUID) && st->st_uid != getuid())
		return "is setuid";
	if ((st->st_mode & S_ISGID) && st->st_gid != getgid())
		return "is setgid";
	if (getuid() != 0 && fgetxattr(fd, "security.capability", NULL, 0) > 0)
		return "has file capabilities";
	return NULL;
}

/* The dynamic loader itself has no PT_INTERP but honours LD_PRELOAD. */
static bool is_loader(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return strncmp(base, "ld-linux", 8) == 0 ||
	       strncmp(base, "ld.so", 5) == 0 ||
	       strncmp(base, "ld-musl", 7) == 0;
}

/*
 * Print the one warning line for ELF file path, if it deserves one.
 * Returns true when LD_PRELOAD cannot reach it at all (static, Go).
 */
static bool warn_elf(const char *path, int fd, const struct stat *st)
{
	struct elf_file e;
	enum reach r = REACH_OK;
	const char *why;

	if (elf_open(fd, &e) && !is_loader(path))
		r = elf_reach(&e);
	if (r == REACH_GO)
		fprintf(stderr,
			"kashim: warning: %s is a Go program: Go sets its "
			"own 15 s keep-alive on TCP connections and pure-Go "
			"networking bypasses libc, so kashim may not reach "
			"it (set net.Dialer.KeepAlive or KeepAliveConfig in "
			"the program)\n",
			path);
	else if (r == REACH_STATIC)
		fprintf(stderr,
			"kashim: warning: %s is statically linked: "
			"LD_PRELOAD cannot reach it, its sockets keep their "
			"own settings\n",
			path);
	else if ((why = secure_reason(fd, st)))
		fprintf(stderr,
			"kashim: warning: %s %s: the loader drops LD_PRELOAD "
			"for it; list libkashim.so in /etc/ld.so.preload to "
			"reach it\n",
			path, why);
	return r != REACH_OK;
}

/*
 * The interpreter a `#!` line names, into interp. Returns false when
 * head (the first bytes of a file) is no script.
 */
static bool script_interp(const char *head, size_t n, char *interp,
			  size_t len)
{
	size_t i = 2, start;

	if (n < 2 || head[0] != '#' || head[1] != '!')
		return false;
	while (i < n && (head[i] == ' ' || head[i] == '\t'))
		i++;
	start = i;
	while (i < n && head[i] != ' ' && head[i] != '\t' && head[i] != '\n')
		i++;
	if (i == start || i - start >= len)
		return false;
	memcpy(interp, head + start, i - start);
	interp[i - start] = '\0';
	return true;
}

/*
 * Warn about the file at path, following `#!` up to depth levels. The
 * recursion is bounded by MAX_SCRIPT_DEPTH.
 */
/* NOLINTNEXTLINE(misc-no-recursion) */
static bool warn_file(const char *path, int depth)
{
	char head[256], interp[256];
	struct stat st;
	bool out_of_reach = false;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, head, sizeof(head));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || n <= 0)
		goto out;
	if (script_interp(head, (size_t)n, interp, sizeof(interp))) {
		/* Linux ignores setuid on scripts: the interpreter counts. */
		if (depth < MAX_SCRIPT_DEPTH)
			out_of_reach = warn_file(interp, depth + 1);
		goto out;
	}
	out_of_reach = warn_elf(path, fd, &st);
out:
	close(fd);
	return out_of_reach;
}

/*
 * Find cmd as execvp() does: a name with a '/' as it is, else the first
 * executable regular file in $PATH (default /bin:/usr/bin).
 */
static bool find_command(const char *cmd, char *out, size_t len)
{
	const char *path = getenv("PATH"), *p, *end;
	struct stat st;

	if (strchr(cmd, '/')) {
		snprintf(out, len, "%s", cmd);
		return true;
	}
	for (p = path ? path : "/bin:/usr/bin";; p = end + 1) {
		end = strchrnul(p, ':');
		/* An empty entry is the current directory. */
		snprintf(out, len, "%.*s%s%s", (int)(end - p), p,
			 end > p ? "/" : "", cmd);
		if (access(out, X_OK) == 0 && stat(out, &st) == 0 &&
		    S_ISREG(st.st_mode))
			return true;
		if (!*end)
			return false;
	}
}

/* The loader named by the PT_INTERP of ELF file e, into buf. */
static bool elf_interp(const struct elf_file *e, char *buf, size_t len)
{
	struct elf_part p;

	for (unsigned i = 0; i < e->phnum && i < MAX_HEADERS; i++) {
		if (!elf_phdr(e, i, &p))
			return false;
		if (p.type != PT_INTERP)
			continue;
		/* The path and its terminating NUL. */
		if (p.size < 2 || p.size > len ||
		    !read_at(e->fd, buf, p.size, p.offset))
			return false;
		buf[p.size - 1] = '\0';
		return true;
	}
	return false;
}

/* Which C library the loader at path belongs to, by its file name. */
static enum kashim_libc loader_libc(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (strncmp(base, "ld-musl-", 8) == 0)
		return KASHIM_LIBC_MUSL;
	if (strncmp(base, "ld-linux", 8) == 0 ||
	    strncmp(base, "ld64.so", 7) == 0 || strncmp(base, "ld.so", 5) == 0)
		return KASHIM_LIBC_GLIBC;
	return KASHIM_LIBC_UNKNOWN;
}

/*
 * The program a `#!/usr/bin/env NAME` line runs: NAME, the first word
 * after env that is no option, into out. Returns false for another line.
 */
static bool env_target(const char *head, size_t n, const char *interp,
		       char *out, size_t len)
{
	const char *base = strrchr(interp, '/');
	const char *p = memchr(head, '\n', n), *end = p ? p : head + n;
	const char *at = strstr(head, interp);
	size_t w;

	if (!at || at > end || strcmp(base ? base + 1 : interp, "env") != 0)
		return false;
	for (p = at + strlen(interp); p < end; p += w) {
		p += strspn(p, " \t");
		w = strcspn(p, " \t\n");
		if (p + w > end || w == 0 || w >= len)
			return false;
		if (*p != '-') {
			memcpy(out, p, w);
			out[w] = '\0';
			return true;
		}
	}
	return false;
}

static enum kashim_libc libc_of(const char *cmd, int depth, char *interp,
				size_t len);

/*
 * `#!/usr/bin/env NAME`: env, of C library libc (its loader in interp),
 * and then NAME both run with the preload. Returns their C library, or
 * KASHIM_LIBC_MIXED (both loaders in interp) when they differ.
 */
/* NOLINTNEXTLINE(misc-no-recursion) */
static enum kashim_libc also_env_target(enum kashim_libc libc,
					const char *target, int depth,
					char *interp, size_t len)
{
	char other[256] = "";
	enum kashim_libc t = libc_of(target, depth + 1, other, sizeof(other));
	size_t used = strlen(interp);

	if (t == KASHIM_LIBC_UNKNOWN || t == libc)
		return libc;
	if (libc == KASHIM_LIBC_UNKNOWN) {
		snprintf(interp, len, "%s", other);
		return t;
	}
	snprintf(interp + used, len - used, " and %s's %s", target, other);
	return KASHIM_LIBC_MIXED;
}

/*
 * The C library of the file at path (a program, a loader or a script),
 * following `#!` up to MAX_SCRIPT_DEPTH levels; its loader into interp.
 */
/* NOLINTNEXTLINE(misc-no-recursion) */
static enum kashim_libc libc_of_file(const char *path, int depth, char *interp,
				     size_t len)
{
	char head[256], next[256], target[256];
	enum kashim_libc libc = KASHIM_LIBC_UNKNOWN;
	struct elf_file e;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, head, sizeof(head) - 1);

	if (n <= 0)
		goto out;
	head[n] = '\0';
	if (script_interp(head, (size_t)n, next, sizeof(next))) {
		if (depth >= MAX_SCRIPT_DEPTH)
			goto out;
		libc = libc_of_file(next, depth + 1, interp, len);
		if (env_target(head, (size_t)n, next, target, sizeof(target)))
			libc = also_env_target(libc, target, depth, interp, len);
	} else if (is_loader(path)) {
		snprintf(interp, len, "%s", path);
		libc = loader_libc(path);
	} else if (elf_open(fd, &e) && elf_interp(&e, interp, len)) {
		libc = loader_libc(interp);
	}
out:
	if (fd >= 0)
		close(fd);
	return libc;
}

/* The C library of command cmd, found in PATH like execvp(). */
/* NOLINTNEXTLINE(misc-no-recursion) */
static enum kashim_libc libc_of(const char *cmd, int depth, char *interp,
				size_t len)
{
	char path[4096];

	if (!*cmd || !find_command(cmd, path, sizeof(path)))
		return KASHIM_LIBC_UNKNOWN;
	return libc_of_file(path, depth, interp, len);
}

enum kashim_libc kashim_cmd_libc(const char *cmd, char *interp, size_t len)
{
	if (len)
		interp[0] = '\0';
	return libc_of(cmd, 0, interp, len);
}

bool kashim_cmd_warn_reach(const char *cmd)
{
	char path[4096];

	return *cmd && find_command(cmd, path, sizeof(path)) &&
	       warn_file(path, 0);
}
