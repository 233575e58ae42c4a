/*
 * refuse.c - run a program under a kernel that refuses one keep-alive
 * option.
 *
 *   refuse keepidle|keepalive PROGRAM [ARGS...]
 *
 * Installs a seccomp filter (raw BPF) under which setsockopt(IPPROTO_TCP,
 * TCP_KEEPIDLE), or setsockopt(SOL_SOCKET, SO_KEEPALIVE), fails with
 * EPERM; every other system call, and every other option, goes through.
 * Then execs PROGRAM, which inherits the filter.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define THIS_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define THIS_ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define THIS_ARCH AUDIT_ARCH_I386
#elif defined(__riscv) && __riscv_xlen == 64
#define THIS_ARCH AUDIT_ARCH_RISCV64
#else
#error "refuse.c: add this architecture's AUDIT_ARCH_* value"
#endif

#ifndef __NR_setsockopt
#error "refuse.c: no setsockopt system call (socketcall-only ABI)"
#endif

/* The low 32 bits of system call argument i (an int argument). */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#else
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)
#endif

#define LOAD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
/* Go on if the accumulator equals v, else jump to the ALLOW at the end. */
#define IS(v, to_allow) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (v), 0, (to_allow))

/*
 * Install the filter refusing setsockopt(level, name) with EPERM.
 * Returns 0 or -1 with errno set.
 */
static int refuse(unsigned level, unsigned name)
{
	struct sock_filter code[] = {
		LOAD(offsetof(struct seccomp_data, arch)),
		IS(THIS_ARCH, 7),
		LOAD(offsetof(struct seccomp_data, nr)),
		IS(__NR_setsockopt, 5),
		LOAD(ARG_LO(1)),
		IS(level, 3),
		LOAD(ARG_LO(2)),
		IS(name, 1),
		BPF_STMT(BPF_RET | BPF_K,
			 SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(code) / sizeof(code[0]),
		.filter = code,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

int main(int argc, char **argv)
{
	unsigned level, name;

	if (argc < 3)
		goto usage;
	if (strcmp(argv[1], "keepidle") == 0) {
		level = IPPROTO_TCP;
		name = TCP_KEEPIDLE;
	} else if (strcmp(argv[1], "keepalive") == 0) {
		level = SOL_SOCKET;
		name = SO_KEEPALIVE;
	} else {
		goto usage;
	}
	if (refuse(level, name) < 0) {
		fprintf(stderr, "refuse: seccomp filter: %s\n",
			strerror(errno));
		return 126;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "refuse: %s: %s\n", argv[2], strerror(errno));
	return 127;
usage:
	fprintf(stderr, "usage: refuse keepidle|keepalive PROGRAM [ARGS...]\n");
	return 2;
}
