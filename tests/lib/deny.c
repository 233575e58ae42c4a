/*
 * deny.c - run a command with one system call refused by a seccomp
 * filter, as container runtimes, systemd's SystemCallFilter= or a kernel
 * built without the call would refuse it.
 *
 *   deny SYSCALL ERRNO [N [N]] -- COMMAND [ARG...]
 *
 * SYSCALL: bpf, io_uring_setup or io_uring_enter. ERRNO: EPERM, EINVAL,
 * ENOSYS or EIO. Every call of SYSCALL answers -1 and ERRNO, or, with N,
 * only the calls whose second argument is N (io_uring_enter() submitting
 * N requests, say); every other call goes through, and any call of
 * another architecture kills the process. Then COMMAND is executed under
 * the filter. Exits 2 on a bad argument.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define ARCH AUDIT_ARCH_I386
#else
#error "deny: add this architecture's AUDIT_ARCH_ value"
#endif

static const struct {
	const char *name;
	long nr;
} calls[] = {
	{ "bpf", SYS_bpf },
	{ "io_uring_setup", SYS_io_uring_setup },
	{ "io_uring_enter", SYS_io_uring_enter },
};

static const struct {
	const char *name;
	int err;
} errs[] = {
	{ "EPERM", EPERM }, { "EINVAL", EINVAL }, { "ENOSYS", ENOSYS }, { "EIO", EIO },
};

static int usage(void)
{
	fprintf(stderr, "usage: deny bpf|io_uring_setup|io_uring_enter "
			"EPERM|EINVAL|ENOSYS|EIO [N [N]] -- COMMAND [ARG...]\n");
	return 2;
}

int main(int argc, char **argv)
{
	long nr = -1;
	int err = 0, k = 0, a = 3;
	unsigned n[2];
	struct sock_filter f[10];
	struct sock_fprog prog = { 0, f };

	for (size_t i = 0; argc > 2 && i < sizeof(calls) / sizeof(calls[0]); i++)
		if (strcmp(argv[1], calls[i].name) == 0)
			nr = calls[i].nr;
	for (size_t i = 0; argc > 2 && i < sizeof(errs) / sizeof(errs[0]); i++)
		if (strcmp(argv[2], errs[i].name) == 0)
			err = errs[i].err;
	for (; a < argc && strcmp(argv[a], "--") != 0 && k < 2; a++)
		n[k++] = (unsigned)strtoul(argv[a], NULL, 10);
	if (nr < 0 || !err || a + 1 >= argc || strcmp(argv[a], "--") != 0)
		return usage();

	/* Another architecture's calls: refused outright. */
	f[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					    offsetof(struct seccomp_data, arch));
	f[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0);
	f[2] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[3] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					    offsetof(struct seccomp_data, nr));
	/* Not SYSCALL: to the last instruction, which allows it. */
	f[4] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
					    (unsigned)nr, 0, (unsigned char)(k ? 2 + k : 1));
	prog.len = 5;
	if (k) {
		/* The low half of the second argument (little-endian). */
		f[prog.len++] = (struct sock_filter)BPF_STMT(
			BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]));
		for (int i = 0; i < k; i++) /* to the refusal, or on */
			f[prog.len++] = (struct sock_filter)BPF_JUMP(
				BPF_JMP | BPF_JEQ | BPF_K, n[i],
				(unsigned char)(k - 1 - i), (unsigned char)(i == k - 1));
	}
	f[prog.len++] = (struct sock_filter)BPF_STMT(
		BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA));
	f[prog.len++] =
		(struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		perror("deny: seccomp");
		return 2;
	}
	execvp(argv[a + 1], argv + a + 1);
	perror(argv[a + 1]);
	return 127;
}
