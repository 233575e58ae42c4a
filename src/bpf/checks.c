/*
 * checks.c - everything kashim-bpf refuses before it loads anything:
 * missing privileges, bpf() not permitted, an old kernel or one without
 * the features, no cgroup v2, a path that is not a cgroup, pins that
 * would not outlive the command.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kbpf.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* Is capability cap in this process's effective set? */
static bool have_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

int kbpf_check_caps(char *err, size_t errlen)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {0};

	if (syscall(SYS_capget, &h, d) < 0) {
		snprintf(err, errlen,
			 "cannot read this process's capabilities: %s",
			 strerror(errno));
		return -1;
	}
	if ((have_cap(d, CAP_BPF) || have_cap(d, CAP_SYS_ADMIN)) &&
	    have_cap(d, CAP_NET_ADMIN))
		return 0;
	snprintf(err, errlen,
		 "needs root (CAP_BPF or CAP_SYS_ADMIN, and CAP_NET_ADMIN) to "
		 "load and attach BPF programs");
	return -1;
}

int kbpf_kernel_version(char *text, size_t len)
{
	struct utsname u;
	char *end;
	long major, minor;

	snprintf(text, len, "?");
	if (uname(&u) < 0)
		return 0;
	snprintf(text, len, "%s", u.release);
	major = strtol(u.release, &end, 10);
	if (*end != '.')
		return 0;
	minor = strtol(end + 1, NULL, 10);
	return (int)(major * 1000 + minor);
}

/* ENOTSUPP, the kernel's own "not supported" (524), seen from bpf(). */
#define ENOTSUPP_KERNEL 524

/* The likely reason bpf() is not permitted to this root process. */
static const char *why_not_permitted(char *buf, size_t len)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	bool seccomp = false;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Seccomp:", 8) &&
		    strtol(line + 8, NULL, 10) == 2)
			seccomp = true;
	if (f)
		fclose(f);
	if (seccomp)
		return "a seccomp filter refuses it: this process runs under "
		       "one (container runtimes and systemd's "
		       "SystemCallFilter= refuse bpf() by default)";
	f = fopen("/sys/kernel/security/lockdown", "r");
	line[0] = '\0';
	if (f && fgets(line, sizeof(line), f) && !strstr(line, "[none]")) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(buf, len, "kernel lockdown (%.200s)", line);
	} else {
		snprintf(buf, len,
			 "no CAP_BPF or CAP_SYS_ADMIN in the initial user "
			 "namespace (a container), or a security module "
			 "(SELinux, AppArmor)");
	}
	if (f)
		fclose(f);
	return buf;
}

/*
 * Load the smallest sock_ops program: does the kernel take BPF programs
 * of that kind from this process at all? Returns 0, or -1 with err
 * telling "not permitted here" (EPERM, EACCES) from "this kernel lacks
 * it" (EINVAL, ENOTSUPP, EOPNOTSUPP, ENOSYS).
 */
static int probe_bpf(const char *rel, char *err, size_t errlen)
{
	const struct bpf_insn prog[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K,
		 .dst_reg = BPF_REG_0,
		 .imm = 1},
		{.code = BPF_JMP | BPF_EXIT},
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SOCK_OPS, NULL, "GPL", prog, 2,
			       NULL);
	int e;

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	e = errno;
	if (e == EPERM || e == EACCES) {
		char why[256];

		snprintf(err, errlen,
			 "the kernel does not permit bpf() to this process "
			 "(%s): likely %s",
			 strerror(e), why_not_permitted(why, sizeof(why)));
	} else if (e == EINVAL || e == ENOTSUPP_KERNEL || e == EOPNOTSUPP ||
		   e == ENOSYS)
		snprintf(err, errlen,
			 "this kernel (%s) has no cgroup BPF programs of the "
			 "kinds kashim-bpf needs (bpf() says: %s; it needs "
			 "CONFIG_BPF_SYSCALL and CONFIG_CGROUP_BPF)",
			 rel,
			 e == ENOTSUPP_KERNEL ? "not supported" : strerror(e));
	else
		snprintf(err, errlen, "cannot load a BPF program: %s",
			 strerror(e));
	return -1;
}

int kbpf_check_kernel(char *err, size_t errlen)
{
	char rel[65];

	if (kbpf_kernel_version(rel, sizeof(rel)) < 5009) {
		snprintf(err, errlen,
			 "this kernel (%s) is too old: kashim-bpf needs Linux "
			 "5.9 or later (the keep-alive options in "
			 "bpf_setsockopt; 5.10 LTS in practice)",
			 rel);
		return -1;
	}
	/* probe_bpf() loaded a sock_ops program: the other two kinds. */
	if (probe_bpf(rel, err, errlen) < 0)
		return -1;
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_CGROUP_SOCKOPT, NULL) !=
		    1 ||
	    libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_CGROUP_SOCK, NULL) != 1) {
		snprintf(err, errlen,
			 "this kernel (%s) has no cgroup BPF programs of the "
			 "kinds kashim-bpf needs (sock_ops, cgroup/setsockopt, "
			 "cgroup/sock_create: CONFIG_CGROUP_BPF)",
			 rel);
		return -1;
	}
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_SK_STORAGE, NULL) != 1) {
		snprintf(err, errlen,
			 "this kernel (%s) cannot make socket-local storage "
			 "(it needs BTF support and BPF_MAP_TYPE_SK_STORAGE)",
			 rel);
		return -1;
	}
	return 0;
}

const char *kbpf_cgroup2_mount(void)
{
	static char where[4096];
	char line[8192], type[64];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	const char *found = NULL;

	while (f && !found && fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");

		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... - TYPE SOURCE ... */
		if (sep && sscanf(sep, " - %63s", type) == 1 &&
		    !strcmp(type, "cgroup2") &&
		    sscanf(line, "%*s %*s %*s %*s %4095s", where) == 1)
			found = where;
	}
	if (f)
		fclose(f);
	return found;
}

/* The reason path is not a cgroup v2 directory, into err. */
static void not_cgroup(const char *path, char *err, size_t errlen)
{
	const char *mnt = kbpf_cgroup2_mount();

	if (!mnt)
		snprintf(err, errlen,
			 "%s: not a cgroup v2 directory, and cgroup v2 is not "
			 "mounted on this host (kashim-bpf attaches to cgroup "
			 "v2 only)",
			 path);
	else
		snprintf(err, errlen,
			 "%s: not a cgroup v2 directory (cgroup v2 is mounted "
			 "at %s)",
			 path, mnt);
}

int kbpf_open_cgroup(const char *path, uint64_t *id, char *err, size_t errlen)
{
	struct statfs fs;
	struct stat st;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOTDIR)
			not_cgroup(path, err, errlen);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstatfs(fd, &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC ||
	    fstat(fd, &st) < 0) {
		not_cgroup(path, err, errlen);
		close(fd);
		return -1;
	}
	*id = st.st_ino; /* on cgroup v2, the inode number is the cgroup id */
	return fd;
}

/* Read the first line of `systemctl show` for unit into buf. */
static int systemctl_cgroup(const char *unit, char *buf, size_t len)
{
	int p[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(p[1], 1);
		if (null >= 0)
			dup2(null, 2); /* our own message says what failed */
		close(p[0]);
		execlp("systemctl", "systemctl", "show",
		       "--property=ControlGroup", "--value", "--", unit,
		       (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	n = pid < 0 ? -1 : read(p[0], buf, len - 1);
	close(p[0]);
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) || n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int kbpf_unit_cgroup(const char *unit, char *path, size_t len, char *err,
		     size_t errlen)
{
	const char *mnt = kbpf_cgroup2_mount();
	char cg[4096];

	if (!mnt) {
		snprintf(err, errlen,
			 "--unit %s: cgroup v2 is not mounted on this host",
			 unit);
		return -1;
	}
	if (systemctl_cgroup(unit, cg, sizeof(cg)) < 0) {
		snprintf(err, errlen,
			 "--unit %s: systemctl cannot show the unit's cgroup "
			 "(is systemd running?)",
			 unit);
		return -1;
	}
	if (cg[0] != '/') {
		snprintf(err, errlen,
			 "--unit %s: the unit has no cgroup (is it loaded and "
			 "running?)",
			 unit);
		return -1;
	}
	snprintf(path, len, "%s%s", mnt, cg);
	return 0;
}

/* The initial mount namespace's number from Linux 6.18 on (nsfs.h). */
#define MNT_NS_INIT_INO 0xEFFFFFF8u

/*
 * Is this process in the initial mount namespace (PID 1's)? 1 yes, 0 no,
 * -1 cannot tell (PID 1 hidden, on a kernel that gives the initial
 * namespace no fixed number).
 */
static int initial_mount_ns(void)
{
	struct stat self, init;
	char rel[65];

	if (stat("/proc/self/ns/mnt", &self) < 0)
		return -1;
	if (stat("/proc/1/ns/mnt", &init) == 0)
		return self.st_dev == init.st_dev && self.st_ino == init.st_ino;
	if (self.st_ino == MNT_NS_INIT_INO)
		return 1;
	return kbpf_kernel_version(rel, sizeof(rel)) >= 6018 ? 0 : -1;
}

/*
 * Is the BPF filesystem at KBPF_PIN_ROOT mounted outside this mount
 * namespace too: the same one as PID 1's, or a mount that propagates
 * to or from another namespace (shared: or master: in mountinfo)?
 */
static bool mounted_elsewhere(const struct stat *here)
{
	char line[8192], where[4096];
	struct stat init;
	FILE *f;
	bool found = false;

	if (stat("/proc/1/root" KBPF_PIN_ROOT, &init) == 0)
		return init.st_dev == here->st_dev;
	f = fopen("/proc/self/mountinfo", "r");
	while (f && !found && fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");

		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAG...] - ... */
		if (sep && sscanf(line, "%*s %*s %*s %*s %4095s", where) == 1 &&
		    !strcmp(where, KBPF_PIN_ROOT))
			found = memmem(line, (size_t)(sep - line),
				       " shared:", 8) ||
				memmem(line, (size_t)(sep - line),
				       " master:", 8);
	}
	if (f)
		fclose(f);
	return found;
}

/* Say why pins here would not outlive the command, and the fix. */
static int private_pins(bool mounted, char *err, size_t errlen)
{
	snprintf(err, errlen,
		 "%s %s: the links pinned there would go when this mount "
		 "namespace ends (a systemd unit with PrivateMounts=, a "
		 "container), and with them the attachment. Mount bpffs in the "
		 "initial mount namespace (mount -t bpf bpf %s) and bind it in "
		 "(BindPaths=%s, docker run -v %s:%s), or run kashim-bpf there",
		 KBPF_PIN_ROOT,
		 mounted ? "is a BPF filesystem of this mount namespace's own, "
			   "not the initial namespace's"
			 : "is not mounted in this mount namespace",
		 KBPF_PIN_ROOT, KBPF_PIN_ROOT, KBPF_PIN_ROOT, KBPF_PIN_ROOT);
	return -1;
}

int kbpf_pin_root(bool may_mount, char *err, size_t errlen)
{
	struct statfs fs;
	struct stat st;
	bool bpffs = statfs(KBPF_PIN_ROOT, &fs) == 0 &&
		     fs.f_type == BPF_FS_MAGIC && stat(KBPF_PIN_ROOT, &st) == 0;
	int initial = initial_mount_ns();

	if (bpffs && initial == 0 && !mounted_elsewhere(&st))
		return private_pins(true, err, errlen);
	if (!bpffs && initial != 1)
		return private_pins(false, err, errlen);
	if (!bpffs && !may_mount)
		return KBPF_PINS_NONE;
	if (!bpffs && mount("bpf", KBPF_PIN_ROOT, "bpf", 0, "mode=0700") < 0) {
		snprintf(err, errlen,
			 "%s is not a BPF filesystem and cannot be mounted as "
			 "one: %s",
			 KBPF_PIN_ROOT, strerror(errno));
		return -1;
	}
	if (may_mount && mkdir(KBPF_PIN_DIR, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", KBPF_PIN_DIR, strerror(errno));
		return -1;
	}
	return 0;
}
