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
 *
 * A fourth, iter/tcp, runs once per network namespace right after
 * attach, over the connections the cgroup already holds (existing.c).
 * It is built only into a second object (-DKBPF_ITER) with kernel
 * structures read through CO-RE, so the first one still loads on a
 * kernel without BTF or iter/tcp.
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

/*
 * The project's licence; no helper the cgroup programs use is GPL-only.
 * The iter/tcp program reads kernel structures through BTF, which the
 * kernel grants only to a GPL-compatible program: its object is offered
 * under MIT or GPL (still MIT for this project).
 */
#ifdef KBPF_ITER
char LICENSE[] SEC("license") = "Dual MIT/GPL";
#else
char LICENSE[] SEC("license") = "MIT";
#endif

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

/* What the pass over the connections already open did (KBPF_ST_*). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KBPF_EX_N);
	__type(key, __u32);
	__type(value, __u64);
} kashim_existing SEC(".maps");

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

/* A context field read exactly once, where it stands. */
#define CTX_READ(x) (*(volatile __u32 *)&(x))

/* The peer of ops as a hosts key (IPv4 in its IPv4-mapped form). */
static __always_inline void ops_peer(const struct bpf_sock_ops *ops,
				     struct kbpf_host_key *key)
{
	__u32 *w = (__u32 *)key->addr;
	/* Every field read up front: the verifier refuses a context
	 * pointer the compiler would otherwise offset once for both. */
	__u32 family = CTX_READ(ops->family), ip4 = CTX_READ(ops->remote_ip4);
	__u32 a0 = CTX_READ(ops->remote_ip6[0]);
	__u32 a1 = CTX_READ(ops->remote_ip6[1]);
	__u32 a2 = CTX_READ(ops->remote_ip6[2]);
	__u32 a3 = CTX_READ(ops->remote_ip6[3]);

	key->prefixlen = 128;
	if (family == AF_INET) {
		w[0] = 0;
		w[1] = 0;
		w[2] = bpf_htonl(0xffff);
		w[3] = ip4;
	} else {
		w[0] = a0;
		w[1] = a1;
		w[2] = a2;
		w[3] = a3;
	}
}

/* Rules whose hosts hold the peer key, or that have no hosts. */
static __always_inline __u64 host_mask(const struct kbpf_conf *c,
				       const struct kbpf_host_key *key)
{
	__u64 *m = bpf_map_lookup_elem(&kashim_hosts, key);

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

/* Set one option on sk (a sock_ops context or a socket); count a refusal. */
static __always_inline void set_opt(void *sk, int level, int name, int value)
{
	if (bpf_setsockopt(sk, level, name, &value, sizeof(value)))
		count(KBPF_ST_REFUSED);
}

/*
 * Put values v on ops (a sock_ops context, or the socket of the pass) as
 * the plan for own (the options the program set itself) says; the plans
 * are made in user space. Returns nonzero when it set any option.
 */
static __always_inline int apply(void *ops, const struct kbpf_values *v,
				 __u32 own)
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

/*
 * The rule for a connection in direction dir with port (host order) and
 * peer, made by a socket with storage st (or none): its values, or NULL
 * with *why set to the counter of why it is left alone.
 */
static __always_inline const struct kbpf_values *
pick(const struct kbpf_conf *c, const struct kbpf_sk *st, __u32 dir, __u32 port,
     const struct kbpf_host_key *peer, __u32 *why)
{
	const struct kbpf_values *v;
	__u64 mask;
	__u32 idx;

	mask = c->dir_mask[dir - 1] & prog_mask(c, st) & port_mask(c, port);
	if (mask & ~c->hosts_any) /* some candidate names hosts: look up */
		mask &= host_mask(c, peer);
	if (!mask) {
		*why = KBPF_ST_NO_RULE;
		return NULL;
	}
	idx = lowest_bit(mask);
	v = bpf_map_lookup_elem(&kashim_rules, &idx);
	if (!v || !(v->flags & KBPF_V_ENABLE)) {
		*why = KBPF_ST_DISABLED;
		return NULL;
	}
	return v;
}

/* A new connection in direction dir with port (host order). */
static __always_inline void connection(struct bpf_sock_ops *ops, __u32 dir,
				       __u32 port)
{
	const struct kbpf_conf *c = conf();
	const struct kbpf_values *v;
	struct kbpf_host_key peer;
	struct kbpf_sk *st = NULL;
	__u32 why = 0;

	if (!c || !c->enable)
		return;
	if (ops->sk)
		st = bpf_sk_storage_get(&kashim_sk, ops->sk, 0, 0);
	ops_peer(ops, &peer);
	v = pick(c, st, dir, port, &peer, &why);
	if (!v) {
		count(why);
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

#ifdef KBPF_ITER
#include <bpf/bpf_core_read.h>

#include "kernel.bpf.h"

/*
 * The pass over the connections already open. The loader sets the cgroup
 * and clears the ports before each network namespace's pass.
 */
__u64 kashim_existing_cgid;
__u32 kashim_listening[65536 / 32]; /* ports listened on, one bit each */

/* Add one to counter n of the pass. */
static __always_inline void count_existing(__u32 n)
{
	__u64 *c = bpf_map_lookup_elem(&kashim_existing, &n);

	if (c)
		__sync_fetch_and_add(c, 1);
}

/* Was sk made in the cgroup of the pass or below it? */
static __always_inline int in_cgroup(const struct sock *sk)
{
	struct cgroup *cg = sk->sk_cgrp_data.cgroup;

	for (int i = 0; i < KBPF_MAX_DEPTH && cg; i++) {
		struct cgroup_subsys_state *up = cg->self.parent;

		if (cg->kn->id == kashim_existing_cgid)
			return 1;
		cg = up ? up->cgroup : NULL;
	}
	return 0;
}

/* The peer of skc as a hosts key, as ops_peer() gives it. */
static __always_inline void sk_peer(const struct sock_common *skc,
				    struct kbpf_host_key *key)
{
	__u32 *w = (__u32 *)key->addr;

	key->prefixlen = 128;
	if (skc->skc_family == AF_INET) {
		w[0] = 0;
		w[1] = 0;
		w[2] = bpf_htonl(0xffff);
		w[3] = skc->skc_daddr;
	} else {
		bpf_probe_read_kernel(key->addr, sizeof(key->addr),
				      &skc->skc_v6_daddr);
	}
}

/*
 * What the program chose itself on an open connection, as KBPF_OPT_* bits
 * that index the same plans sockops follows: the kernel's fields
 * (keep-alive on, a value set, 0 meaning the namespace's sysctl) and what
 * cgroup/setsockopt noted while an earlier attach stood.
 */
static __always_inline __u32 own_choice(const struct tcp_sock *tp,
					const struct kbpf_sk *st)
{
	const struct sock_common *skc = (const void *)tp;
	__u32 own = st ? st->own : 0;

	if (skc->skc_flags &
	    (1ul << bpf_core_enum_value(enum sock_flags, SOCK_KEEPOPEN)))
		own |= KBPF_OPT_KA;
	if (tp->keepalive_time)
		own |= KBPF_OPT_IDLE;
	if (tp->keepalive_intvl)
		own |= KBPF_OPT_INTVL;
	if (tp->keepalive_probes)
		own |= KBPF_OPT_CNT;
	if (tp->inet_conn.icsk_user_timeout)
		own |= KBPF_OPT_UTO;
	return own;
}

/*
 * One socket of the namespace, listeners first (the iterator walks the
 * listening table before the established one): a connection whose local
 * port is listened on is incoming (the rule's port is the local one),
 * any other outgoing, as `kashim --apply` decides. The iterator holds
 * the socket's lock, so bpf_setsockopt works as inside connect().
 */
SEC("iter/tcp")
int kashim_iter_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	const struct kbpf_conf *c = conf();
	const struct kbpf_values *v;
	struct kbpf_host_key peer;
	struct kbpf_sk *st;
	struct tcp_sock *tp;
	__u32 state, lport, dir, port, why = 0;

	if (!skc || !c || !c->enable)
		return 0;
	state = skc->skc_state;
	lport = skc->skc_num & 0xffff;
	if (state == KBPF_TCP_LISTEN) {
		kashim_listening[lport / 32] |= 1u << (lport % 32);
		return 0;
	}
	/* Connected, or connecting (past TCP_CONNECT_CB before attach). */
	tp = state == KBPF_TCP_ESTABLISHED || state == KBPF_TCP_SYN_SENT
		     ? bpf_skc_to_tcp_sock(skc)
		     : NULL;
	if (!tp || !in_cgroup((const struct sock *)tp))
		return 0;
	if (kashim_listening[lport / 32] & (1u << (lport % 32))) {
		dir = KBPF_DIR_IN;
		port = lport;
	} else {
		dir = KBPF_DIR_OUT;
		port = bpf_ntohs(skc->skc_dport);
	}
	st = bpf_sk_storage_get(&kashim_sk, tp, 0, 0);
	sk_peer(skc, &peer);
	v = pick(c, st, dir, port, &peer, &why);
	if (!v)
		count_existing(why);
	else
		count_existing(apply(tp, v, own_choice(tp, st)) ? KBPF_ST_SET
								: KBPF_ST_OWN);
	return 0;
}
#endif /* KBPF_ITER */
