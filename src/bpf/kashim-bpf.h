/*
 * kashim-bpf.h - what the BPF programs and their loader share: the layout
 * of every map, the counters, and the limits.
 *
 * Included by kashim.bpf.c (compiled for the BPF target) and by the
 * loader, so both sides agree on each byte. Only fixed-size types.
 */
#ifndef KASHIM_BPF_H
#define KASHIM_BPF_H

#include <linux/types.h>

/*
 * A socket's rule is the lowest bit set in the AND of four masks: the
 * direction's, the port's, the peer address's and the program's. Bit i
 * is rule i; the top level is bit nrules, tried last.
 */
#define KBPF_MAX_RULES 63   /* plus the top level: 64 bits */
#define KBPF_MAX_SEGS 1024  /* port segments */
#define KBPF_MAX_HOSTS 1024 /* address blocks, all rules together */
#define KBPF_MAX_PROGS 1024 /* program names, all rules together */
#define KBPF_COMM_LEN 16    /* the kernel's comm, NUL included */
#define KBPF_PATH_LEN 256   /* the cgroup path kept for `status` */
#define KBPF_NAME_LEN 64    /* a rule's name, for `status` */
#define KBPF_MAX_DEPTH 64   /* cgroup levels the pass climbs from a socket */

/* Directions, as in settings.h. */
#define KBPF_DIR_OUT 1u
#define KBPF_DIR_IN 2u

/*
 * The options, as bits: of kbpf_sk.own (those the program set itself)
 * and of a plan (those kashim sets). Bit n is the library's option n
 * (enum kashim_opt in common/rules.h; image.c checks that they agree).
 */
#define KBPF_OPT_IDLE 1u
#define KBPF_OPT_INTVL 2u
#define KBPF_OPT_CNT 4u
#define KBPF_OPT_UTO 8u
#define KBPF_OPT_KA 16u
#define KBPF_NPLANS 32 /* one plan for each set of own options */

/* Bits of kbpf_values.flags. */
#define KBPF_V_ENABLE 1u
#define KBPF_V_OVERRIDE 2u

/*
 * The values a rule puts on a socket (uto in ms), and which of them: for
 * a socket whose program set the options own itself, the program sets
 * those of plan[own]. The plans are the library's (kashim_plan_make()),
 * made in user space; the program only follows them.
 */
struct kbpf_values {
	__u32 flags;
	__u32 idle;
	__u32 intvl;
	__u32 cnt;
	__u32 uto;
	__u32 pad;
	__u8 plan[KBPF_NPLANS];
	char name[KBPF_NAME_LEN]; /* for `status` only */
};

/* The one entry of the conf map. */
struct kbpf_conf {
	__u32 enable;	    /* the master switch */
	__u32 nrules;	    /* the top level is entry nrules of the rules map */
	__u32 nseg;	    /* entries of the ports map in use */
	__u32 use_programs; /* some rule names programs */
	__u64 gen;	   /* this attachment: a socket's program mask is its */
	__u64 dir_mask[2]; /* [0] outgoing, [1] incoming */
	__u64 hosts_any;   /* rules and top level without hosts */
	__u64 progs_any;   /* rules and top level without programs */
	char cgroup[KBPF_PATH_LEN];
};

/* The port line from start up to the next segment's start. */
struct kbpf_seg {
	__u32 start;
	__u32 pad;
	__u64 mask; /* rules whose ports hold these ports (or that have none) */
};

/* An address block, IPv4 in its IPv4-mapped IPv6 form. */
struct kbpf_host_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/*
 * A program name: the comm with its NUL (prefixlen covers it) for an
 * exact name, or the bytes before a trailing '*' for a prefix.
 */
struct kbpf_prog_key {
	__u32 prefixlen;
	char comm[KBPF_COMM_LEN];
};

/* Socket-local storage; created only where something must be kept. */
struct kbpf_sk {
	__u64 gen;	 /* the attachment prog_mask was computed for */
	__u64 prog_mask; /* rules whose programs name this socket's maker */
	__u32 own;	 /* KBPF_OPT_* */
	__u32 prog_known;
};

/* Counters, per CPU. */
enum kbpf_stat {
	KBPF_ST_SET,	 /* sockets given at least one option */
	KBPF_ST_OWN,	 /* matched, but the program's own choice covered all */
	KBPF_ST_NO_RULE, /* no rule and not the top level: left alone */
	KBPF_ST_DISABLED, /* matched a rule with enable = false */
	KBPF_ST_REFUSED,  /* a bpf_setsockopt the kernel refused */
	KBPF_NSTATS
};

/*
 * The kashim_existing map: the pass over the connections already open
 * counts into entries KBPF_ST_SET to KBPF_ST_DISABLED (refusals go to
 * the shared counter); the loader writes how many network namespaces it
 * passed, and 1 into KBPF_EX_DONE (0: no pass, as with --no-existing).
 */
#define KBPF_EX_NETNS KBPF_NSTATS
#define KBPF_EX_DONE (KBPF_NSTATS + 1)
#define KBPF_EX_N (KBPF_NSTATS + 2)

#endif
