/*
 * kashim.bpf.c - kashim's settings on every TCP connection of a cgroup,
 * whatever made it: static binaries, Go, raw system calls, io_uring.
 *
 * Three programs share one socket-local storage:
 *  - cgroup/sock_create notes which rules' `programs` name the thread
 *    that calls socket() (by its comm), when some rule has programs;
 *  - cgroup/setsockopt notes the keep-alive options the program set
 *    itself, so its own choice wins as under the library;
 *  - sockops puts the matching rule's values on the socket inside
 *    connect() (TCP_CONNECT_CB) and on accepted sockets
 *    (PASSIVE_ESTABLISHED_CB), the options its plan names for what the
 *    program set itself; the plans are made in user space.
 * The storage is cloned to accepted sockets: what was noted on a
 * listener counts for every connection it accepts.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "kashim-bpf.h"

/* Constants of the socket API (socket(7), tcp(7), ip(7)). */
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOL_SOCKET 1
#define SO_KEEPALIVE 9
#define SOL_TCP 6
#define TCP_KEEPIDLE 4
#define TCP_KEEPINTVL 5
#define TCP_KEEPCNT 6
#define TCP_USER_TIMEOUT 18

/* The project's licence; no helper used here is GPL-only. */
char LICENSE[] SEC("license") = "MIT";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kbpf_conf);
} kashim_conf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KBPF_MAX_RULES + 1);
	__type(key, __u32);
	__type(value, struct kbpf_values);
} kashim_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KBPF_MAX_SEGS);
	__type(key, __u32);
	__type(value, struct kbpf_seg);
} kashim_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, KBPF_MAX_HOSTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct kbpf_host_key);
	__type(value, __u64);
} kashim_hosts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, KBPF_MAX_PROGS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct kbpf_prog_key);
	__type(value, __u64);
} kashim_progs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct kbpf_sk);
} kashim_sk SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KBPF_NSTATS);
	__type(key, __u32);
	__type(value, __u64);
} kashim_stats SEC(".maps");

/* The settings in force; NULL never happens for an array's entry 0. */
static __always_inline const struct kbpf_conf *conf(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&kashim_conf, &zero);
}

/* Add one to counter n of this CPU. */
static __always_inline void count(__u32 n)
{
	__u64 *c = bpf_map_lookup_elem(&kashim_stats, &n);

	if (c)
		*c += 1;
}

/* The lowest bit set in m (m != 0), in six halving steps. */
static __always_inline __u32 lowest_bit(__u64 m)
{
	__u32 n = 0;

	if (!(m & 0xffffffffull)) {
		n += 32;
		m >>= 32;
	}
	if (!(m & 0xffffull)) {
		n += 16;
		m >>= 16;
	}
	if (!(m & 0xffull)) {
		n += 8;
		m >>= 8;
	}
	if (!(m & 0xfull)) {
		n += 4;
		m >>= 4;
	}
	if (!(m & 0x3ull)) {
		n += 2;
		m >>= 2;
	}
	if (!(m & 0x1ull))
		n += 1;
	return n;
}

/* Rules whose ports hold port: binary search for its segment. */
static __always_inline __u64 port_mask(const struct kbpf_conf *c, __u32 port)
{
	__u32 lo = 0, hi = c->nseg, mid;
	struct kbpf_seg *seg;

	if (hi > KBPF_MAX_SEGS)
		return 0;
	/* Invariant: seg[lo].start <= port < seg[hi].start; 11 steps. */
	for (int i = 0; i < 11 && hi - lo > 1; i++) {
		mid = (lo + hi) / 2;
		seg = bpf_map_lookup_elem(&kashim_ports, &mid);
		if (!seg)
			return 0;
		if (seg->start <= port)
			lo = mid;
		else
			hi = mid;
	}
	seg = bpf_map_lookup_elem(&kashim_ports, &lo);
	return seg ? seg->mask : 0;
}

/* Rules whose hosts hold the peer of ops, or that have no hosts. */
static __always_inline __u64 host_mask(const struct kbpf_conf *c,
				       const struct bpf_sock_ops *ops)
{
	struct kbpf_host_key key = {.prefixlen = 128};
	__u32 *w = (__u32 *)key.addr;
	/* Every field read up front: the verifier refuses a context
	 * pointer the compiler would otherwise offset once for both. */
	__u32 family = ops->family, ip4 = ops->remote_ip4;
	__u32 a0 = ops->remote_ip6[0], a1 = ops->remote_ip6[1];
	__u32 a2 = ops->remote_ip6[2], a3 = ops->remote_ip6[3];
	__u64 *m;

	if (family == AF_INET) {
		w[2] = bpf_htonl(0xffff);
		w[3] = ip4;
	} else {
		w[0] = a0;
		w[1] = a1;
		w[2] = a2;
		w[3] = a3;
	}
	m = bpf_map_lookup_elem(&kashim_hosts, &key);
	return c->hosts_any | (m ? *m : 0);
}

/* Rules whose programs name the maker of the socket, or that have none. */
static __always_inline __u64 prog_mask(const struct kbpf_conf *c,
				       const struct kbpf_sk *st)
{
	if (st && st->prog_known && st->gen == c->gen)
		return c->progs_any | st->prog_mask;
	return c->progs_any;
}

/* Set one option; count a refusal. */
static __always_inline void set_opt(struct bpf_sock_ops *ops, int level,
				    int name, int value)
{
	if (bpf_setsockopt(ops, level, name, &value, sizeof(value)))
		count(KBPF_ST_REFUSED);
}

/*
 * Put values v on the socket as the plan for own (the options the program
 * set itself) says. Returns the number of options set.
 */
static __always_inline int apply(struct bpf_sock_ops *ops,
				 const struct kbpf_values *v, __u32 own)
{
	__u32 plan = v->plan[own & (KBPF_NPLANS - 1)];

	if (plan & KBPF_OPT_IDLE)
		set_opt(ops, SOL_TCP, TCP_KEEPIDLE, v->idle);
	if (plan & KBPF_OPT_INTVL)
		set_opt(ops, SOL_TCP, TCP_KEEPINTVL, v->intvl);
	if (plan & KBPF_OPT_CNT)
		set_opt(ops, SOL_TCP, TCP_KEEPCNT, v->cnt);
	if (plan & KBPF_OPT_UTO)
		set_opt(ops, SOL_TCP, TCP_USER_TIMEOUT, v->uto);
	if (plan & KBPF_OPT_KA)
		set_opt(ops, SOL_SOCKET, SO_KEEPALIVE, 1);
	return plan != 0;
}

/* A new connection in direction dir with port (host order). */
static __always_inline void connection(struct bpf_sock_ops *ops, __u32 dir,
				       __u32 port)
{
	const struct kbpf_conf *c = conf();
	const struct kbpf_values *v;
	struct kbpf_sk *st = NULL;
	__u64 mask;
	__u32 idx;

	if (!c || !c->enable)
		return;
	if (ops->sk)
		st = bpf_sk_storage_get(&kashim_sk, ops->sk, 0, 0);
	mask = c->dir_mask[dir - 1] & prog_mask(c, st) & port_mask(c, port);
	if (mask & ~c->hosts_any) /* some candidate names hosts: look up */
		mask &= host_mask(c, ops);
	if (!mask) {
		count(KBPF_ST_NO_RULE);
		return;
	}
	idx = lowest_bit(mask);
	v = bpf_map_lookup_elem(&kashim_rules, &idx);
	if (!v || !(v->flags & KBPF_V_ENABLE)) {
		count(KBPF_ST_DISABLED);
		return;
	}
	count(apply(ops, v, st ? st->own : 0) ? KBPF_ST_SET : KBPF_ST_OWN);
}

SEC("sockops")
int kashim_sockops(struct bpf_sock_ops *ops)
{
	switch (ops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		connection(ops, KBPF_DIR_OUT, bpf_ntohl(ops->remote_port));
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		connection(ops, KBPF_DIR_IN, ops->local_port);
		break;
	}
	return 1;
}

/* The KBPF_OPT_* bit of a keep-alive option, 0 for any other. */
static __always_inline __u32 own_bit(int level, int name)
{
	if (level == SOL_SOCKET)
		return name == SO_KEEPALIVE ? KBPF_OPT_KA : 0;
	if (level != SOL_TCP)
		return 0;
	switch (name) {
	case TCP_KEEPIDLE:
		return KBPF_OPT_IDLE;
	case TCP_KEEPINTVL:
		return KBPF_OPT_INTVL;
	case TCP_KEEPCNT:
		return KBPF_OPT_CNT;
	case TCP_USER_TIMEOUT:
		return KBPF_OPT_UTO;
	}
	return 0;
}

/* Note a keep-alive option the program sets; the call itself goes on. */
SEC("cgroup/setsockopt")
int kashim_setsockopt(struct bpf_sockopt *ctx)
{
	__u32 bit = own_bit(ctx->level, ctx->optname);
	struct bpf_sock *sk = ctx->sk;
	struct kbpf_sk *st;

	if (!bit || !sk || sk->type != SOCK_STREAM || sk->protocol != SOL_TCP)
		return 1;
	st = bpf_sk_storage_get(&kashim_sk, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (st)
		st->own |= bit;
	return 1;
}

/* Note which rules' programs name the thread making a TCP socket. */
SEC("cgroup/sock_create")
int kashim_sock_create(struct bpf_sock *sk)
{
	const struct kbpf_conf *c = conf();
	struct kbpf_prog_key key = {.prefixlen = 8 * KBPF_COMM_LEN};
	struct kbpf_sk *st;
	__u64 *m;

	if (!c || !c->use_programs || sk->type != SOCK_STREAM ||
	    sk->protocol != SOL_TCP)
		return 1;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	m = bpf_map_lookup_elem(&kashim_progs, &key);
	st = bpf_sk_storage_get(&kashim_sk, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (st) {
		st->prog_mask = m ? *m : 0;
		st->gen = c->gen;
		st->prog_known = 1;
	}
	return 1;
}
