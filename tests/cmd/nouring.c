/*
 * nouring.c - run a command as on a kernel without io_uring, or with an
 * io_uring that fails: a seccomp filter answers io_uring_setup() with
 * ENOSYS, as a kernel built without it (or a container's seccomp
 * profile) does; with -s N, io_uring_setup() works and each
 * io_uring_enter() submitting exactly N requests fails with EIO instead
 * (-s may be given twice).
 *
 * usage: nouring [-s N [-s N]] COMMAND [ARG...]
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
#endif

/* The low 32 bits of argument i (little-endian, as these three are). */
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))

int main(int argc, char **argv)
{
	unsigned n[2] = { 0, 0 };
	int k = 0, a = 1;

	while (a + 1 < argc && strcmp(argv[a], "-s") == 0 && k < 2) {
		n[k++] = (unsigned)atoi(argv[a + 1]);
		a += 2;
	}
	if (a >= argc) {
		fprintf(stderr, "usage: nouring [-s N [-s N]] COMMAND [ARG...]\n");
		return 2;
	}
	struct sock_filter refuse[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter fail_enter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_io_uring_enter, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(1)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, n[0], 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k > 1 ? n[1] : n[0], 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EIO),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(refuse) / sizeof(refuse[0]), refuse };

	if (k) {
		prog.len = sizeof(fail_enter) / sizeof(fail_enter[0]);
		prog.filter = fail_enter;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		perror("nouring: seccomp");
		return 2;
	}
	execvp(argv[a], argv + a);
	perror(argv[a]);
	return 127;
}
