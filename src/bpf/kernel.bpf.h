/*
 * kernel.bpf.h - the few kernel structures the pass over connections
 * already open reads, for kashim.bpf.c only.
 *
 * Instead of a vmlinux.h generated from one kernel, each structure names
 * just the fields read; preserve_access_index makes every access a CO-RE
 * relocation that libbpf resolves against the running kernel's BTF when
 * it loads the program. The types match the kernel's (5.15 and later).
 */
#ifndef KASHIM_KERNEL_BPF_H
#define KASHIM_KERNEL_BPF_H

#include <linux/types.h>

#define KBPF_CORE __attribute__((preserve_access_index))

struct kernfs_node {
	__u64 id; /* a cgroup's id, the inode number of its directory */
} KBPF_CORE;

struct cgroup;

struct cgroup_subsys_state {
	struct cgroup *cgroup;
	struct cgroup_subsys_state *parent;
} KBPF_CORE;

struct cgroup {
	struct cgroup_subsys_state self;
	struct kernfs_node *kn;
} KBPF_CORE;

struct sock_cgroup_data {
	struct cgroup *cgroup; /* the cgroup v2 the socket was made in */
} KBPF_CORE;

struct in6_addr___k {
	__u8 b[16];
};

struct sock_common {
	__be32 skc_daddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	volatile unsigned char skc_state;
	struct in6_addr___k skc_v6_daddr;
	unsigned long skc_flags;
} KBPF_CORE;

struct sock {
	struct sock_common __sk_common;
	struct sock_cgroup_data sk_cgrp_data;
} KBPF_CORE;

struct inet_connection_sock {
	__u32 icsk_user_timeout;
} KBPF_CORE;

struct tcp_sock {
	struct inet_connection_sock inet_conn;
	__u8 keepalive_probes;
	unsigned int keepalive_time;
	unsigned int keepalive_intvl;
} KBPF_CORE;

struct bpf_iter_meta {
	__u64 seq_num;
} KBPF_CORE;

/* The context of an iter/tcp program. */
struct bpf_iter__tcp {
	struct bpf_iter_meta *meta;
	struct sock_common *sk_common;
	__u32 uid;
} KBPF_CORE;

/* enum sock_flags: keep-alive is on. */
enum sock_flags {
	SOCK_KEEPOPEN = 3,
};

/* The TCP states the pass tells apart (include/net/tcp_states.h). */
#define KBPF_TCP_ESTABLISHED 1
#define KBPF_TCP_SYN_SENT 2
#define KBPF_TCP_LISTEN 10

#endif
