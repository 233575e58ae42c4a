/*
 * probe.c - can this host run kashim-bpf's tests at all? Independent of
 * kashim-bpf: the smallest sock_ops program, loaded with a raw bpf()
 * call (no libbpf), attached to the test's own cgroup and detached.
 *
 *   probe CGROUP_DIR
 *
 * Exit 0 when the kernel took and attached it; otherwise 1 with the
 * step and the kernel's answer on stdout, for the test's SKIP line.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* bpf(2), called directly. */
static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

int main(int argc, char **argv)
{
	struct bpf_insn prog[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K,
		 .dst_reg = BPF_REG_0,
		 .imm = 1},
		{.code = BPF_JMP | BPF_EXIT},
	};
	union bpf_attr a;
	int cg, fd;

	if (argc != 2) {
		fprintf(stderr, "usage: probe CGROUP_DIR\n");
		return 2;
	}
	cg = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (cg < 0) {
		printf("%s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCK_OPS;
	a.insns = (unsigned long)prog;
	a.insn_cnt = 2;
	a.license = (unsigned long)"GPL";
	fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	if (fd < 0) {
		printf("bpf(BPF_PROG_LOAD) of a sock_ops program: %s\n",
		       strerror(errno));
		return 1;
	}
	memset(&a, 0, sizeof(a));
	a.target_fd = (unsigned)cg;
	a.attach_bpf_fd = (unsigned)fd;
	a.attach_type = BPF_CGROUP_SOCK_OPS;
	if (sys_bpf(BPF_PROG_ATTACH, &a) < 0) {
		printf("bpf(BPF_PROG_ATTACH) to %s: %s\n", argv[1],
		       strerror(errno));
		return 1;
	}
	if (sys_bpf(BPF_PROG_DETACH, &a) < 0) {
		printf("bpf(BPF_PROG_DETACH) from %s: %s\n", argv[1],
		       strerror(errno));
		return 1;
	}
	return 0;
}
