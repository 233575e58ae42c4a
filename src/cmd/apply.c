/*
 * apply.c - `kashim --apply PID|NAME... | --all`: kashim's settings put
 * on the TCP sockets processes already hold, from outside, no restart.
 *
 * It rides on the scan of --status (status.c): each fd is duplicated
 * into this process with pidfd_getfd(), and a socket is known by the
 * duplicate's own inode (an fd closed and reused meanwhile is taken for
 * what it holds now, never for what it held); its options are read.
 * Here the rule is found as the library finds it (incoming when the
 * local port is one the namespace listens on, else outgoing), and the
 * options the rule's plan holds are set on the duplicate, which changes
 * the one socket both processes share. The program's own choice is kept unless
 * override: from outside it is keep-alive already on, a user timeout
 * set, or an idle, interval or count that differs from the namespace's
 * sysctl (what an option never set reads back as).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "status.h"

/* The settings as read, and a finished copy per executable name. */
struct kashim_apply {
	struct kashim_settings base;
	pthread_mutex_t lock;
	struct per_exe {
		char exe[NAME_MAX + 1]; /* empty: not known */
		struct kashim_settings s;
	} **v;
	size_t n;
};

/* The base name of process pid's executable into exe (empty if none). */
static void exe_of(pid_t pid, char *exe, size_t len)
{
	char path[64], link[PATH_MAX];
	ssize_t n;
	const char *base;

	exe[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return;
	link[n] = '\0';
	if (n > 10 && strcmp(link + n - 10, " (deleted)") == 0)
		link[n - 10] = '\0';
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	if (strlen(base) < len)
		memcpy(exe, base, strlen(base) + 1);
}

/*
 * A copy of base finished for exe: the rules copied (their program_ok
 * and plans are per executable), their lists and index shared.
 */
static struct per_exe *finish_for(const struct kashim_settings *base,
				  const char *exe)
{
	struct per_exe *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	snprintf(p->exe, sizeof(p->exe), "%s", exe);
	p->s = *base;
	if (base->nrules) {
		p->s.rules = calloc(base->nrules, sizeof(*p->s.rules));
		if (!p->s.rules) {
			free(p);
			return NULL;
		}
		memcpy(p->s.rules, base->rules,
		       base->nrules * sizeof(*p->s.rules));
	}
	kashim_settings_finish(&p->s, exe[0] ? exe : NULL);
	return p;
}

const struct kashim_settings *kashim_apply_settings(const struct status *st,
						    pid_t pid)
{
	struct kashim_apply *a = st->opts->settings;
	struct per_exe *p = NULL, **v;
	char exe[NAME_MAX + 1];

	exe_of(pid, exe, sizeof(exe));
	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < a->n && !p; i++)
		if (strcmp(a->v[i]->exe, exe) == 0)
			p = a->v[i];
	/* An array of pointers: the size of a pointer is meant. */
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	if (!p && (v = realloc(a->v, (a->n + 1) * sizeof(*v)))) {
		a->v = v;
		p = finish_for(&a->base, exe);
		if (p)
			a->v[a->n++] = p;
	}
	pthread_mutex_unlock(&a->lock);
	return p ? &p->s : NULL;
}

/* Leave c alone for reason why. */
static void left(struct conn *c, unsigned char result, const char *why)
{
	c->ap.result = result;
	c->ap.why = why;
}

/* The peer of c as a socket address, for the rules' hosts. */
static const struct sockaddr *peer_addr(const struct conn *c,
					struct sockaddr_in6 *sa)
{
	struct sockaddr_in *in = (struct sockaddr_in *)sa;

	memset(sa, 0, sizeof(*sa));
	if (!c->peer.known)
		return NULL;
	if (c->v6) {
		sa->sin6_family = AF_INET6;
		memcpy(&sa->sin6_addr, c->peer.addr, 16);
		sa->sin6_port = htons(c->peer.port);
	} else {
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, c->peer.addr, 4);
		in->sin_port = htons(c->peer.port);
	}
	return (const struct sockaddr *)sa;
}

/*
 * The rule for c, its direction into c->ap; NULL with c->ap.why set
 * when the socket is to be left alone.
 */
static const struct kashim_rule *rule_of(const struct tcptab *tab,
					 const struct kashim_settings *set,
					 struct conn *c)
{
	const struct kashim_rule *r, *m;
	struct sockaddr_in6 sa;
	const struct sockaddr *peer;
	unsigned dir;
	uint16_t port;
	bool peer_matters;

	if (c->state == TCP_LISTEN) {
		c->ap.direction = KASHIM_DIR_INCOMING;
		if (!set->listener) {
			left(c, KASHIM_APPLY_LEFT, "a listening socket, and listener = false");
			return NULL;
		}
		r = kashim_rule_for_listener(set, c->local.port, &peer_matters);
		if (peer_matters)
			left(c, KASHIM_APPLY_LEFT,
			     "a listening socket whose rule depends on the peer "
			     "(hosts): the library sets each accepted socket");
		else if (!r)
			left(c, KASHIM_APPLY_LEFT, "no rule matches");
		return r;
	}
	if (c->state != TCP_ESTABLISHED && c->state != TCP_SYN_SENT &&
	    c->state != TCP_SYN_RECV) {
		left(c, KASHIM_APPLY_LEFT, "not connected, or closing");
		return NULL;
	}
	dir = kashim_tcptab_listens(tab, c->local.port) ? KASHIM_DIR_INCOMING
							: KASHIM_DIR_OUTGOING;
	port = dir == KASHIM_DIR_INCOMING ? c->local.port : c->peer.port;
	peer = peer_addr(c, &sa);
	c->ap.direction = (unsigned char)dir;
	r = kashim_rule_for(set, dir, port, peer);
	if (r)
		return r;
	m = kashim_rule_matched(set, dir, port, peer);
	if (!set->top.v.enable)
		left(c, KASHIM_APPLY_LEFT, "enable = false");
	else if (m && !m->v.enable) {
		c->ap.rule = m->name;
		left(c, KASHIM_APPLY_LEFT, "its rule says enable = false");
	} else
		left(c, KASHIM_APPLY_LEFT, "no rule matches");
	return NULL;
}

/* Where option o of struct applied (after) and struct conn (before) is. */
static int *after_of(struct conn *c, enum kashim_opt o)
{
	switch (o) {
	case KASHIM_OPT_IDLE: return &c->ap.idle;
	case KASHIM_OPT_INTVL: return &c->ap.interval;
	case KASHIM_OPT_CNT: return &c->ap.count;
	case KASHIM_OPT_UTO: return &c->ap.user_timeout;
	default: return &c->ap.keepalive;
	}
}

/*
 * The options the program chose itself, as bits (1u << KASHIM_OPT_*),
 * judged from outside against the namespace's sysctls.
 */
static unsigned own_choice(const struct tcptab *tab, const struct conn *c)
{
	int idle, interval, count;
	unsigned own = 0;

	kashim_tcptab_sysctls(tab, &idle, &interval, &count);
	if (c->keepalive == 1)
		own |= 1u << KASHIM_OPT_KA;
	if (c->user_timeout > 0)
		own |= 1u << KASHIM_OPT_UTO;
	if (idle > 0 && c->idle != idle)
		own |= 1u << KASHIM_OPT_IDLE;
	if (interval > 0 && c->interval != interval)
		own |= 1u << KASHIM_OPT_INTVL;
	if (count > 0 && c->count != count)
		own |= 1u << KASHIM_OPT_CNT;
	return own;
}

/* Does c hold every value of plan p already? */
static bool holds(struct conn *c, const struct kashim_plan *p)
{
	for (unsigned i = 0; i < p->n; i++)
		if (*after_of(c, p->o[i].opt) != p->o[i].value)
			return false;
	return true;
}

/* Names of the options, for the reason a set failed. */
static const char *const opt_label[KASHIM_NOPTS] = {
	[KASHIM_OPT_IDLE] = "TCP_KEEPIDLE",   [KASHIM_OPT_INTVL] = "TCP_KEEPINTVL",
	[KASHIM_OPT_CNT] = "TCP_KEEPCNT",     [KASHIM_OPT_UTO] = "TCP_USER_TIMEOUT",
	[KASHIM_OPT_KA] = "SO_KEEPALIVE",
};

void kashim_apply_socket(const struct status *st, const struct tcptab *tab,
			 const struct kashim_settings *set, int s,
			 struct conn *c)
{
	const struct kashim_rule *r;
	struct kashim_plan p;
	unsigned changed = 0;

	memset(&c->ap, 0, sizeof(c->ap));
	c->ap.keepalive = c->keepalive;
	c->ap.idle = c->idle;
	c->ap.interval = c->interval;
	c->ap.count = c->count;
	c->ap.user_timeout = c->user_timeout;
	r = rule_of(tab, set, c);
	if (!r)
		return;
	c->ap.rule = r->name;
	if (holds(c, &r->plan)) {
		c->ap.result = KASHIM_APPLY_ALREADY;
		return;
	}
	kashim_plan_make(&r->v, own_choice(tab, c), &p);
	for (unsigned i = 0; i < p.n; i++) {
		int *after = after_of(c, p.o[i].opt);

		if (*after == p.o[i].value)
			continue;
		if (!st->opts->dry_run &&
		    setsockopt(s, p.o[i].level, p.o[i].name, &p.o[i].value,
			       sizeof(p.o[i].value)) < 0) {
			c->ap.err = errno;
			left(c, KASHIM_APPLY_FAILED, opt_label[p.o[i].opt]);
			return;
		}
		*after = p.o[i].value;
		changed++;
	}
	if (changed)
		c->ap.result = KASHIM_APPLY_SET;
	else
		left(c, KASHIM_APPLY_LEFT,
		     c->keepalive == 1 ? "the program set its own keep-alive "
					 "(override = false)"
					 : "the program set its own values "
					   "(override = false)");
}

/* ---- the answer ---- */

/* What the summary counts, by enum kashim_apply_result. */
struct apply_sum {
	size_t n[KASHIM_APPLY_FAILED + 1];
	size_t sockets;
};

static void sum_up(const struct status *st, struct apply_sum *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (size_t i = 0; i < st->nconns; i++) {
		sum->n[st->conns[i].ap.result]++;
		sum->sockets++;
	}
}

/* The name of a result, as the table and JSON show it. */
static const char *result_name(const struct status *st, unsigned r)
{
	static const char *const names[] = {
		[KASHIM_APPLY_NONE] = "not looked at",
		[KASHIM_APPLY_SET] = "set",
		[KASHIM_APPLY_ALREADY] = "already set",
		[KASHIM_APPLY_LEFT] = "left alone",
		[KASHIM_APPLY_FAILED] = "failed",
	};

	if (r == KASHIM_APPLY_SET && st->opts->dry_run)
		return "would set";
	return names[r];
}

static const char *dir_name(unsigned d)
{
	return d == KASHIM_DIR_INCOMING	  ? "incoming"
	       : d == KASHIM_DIR_OUTGOING ? "outgoing"
					  : "-";
}

/* One value as text ("?" when unknown; keep-alive as on/off). */
static void val(char *buf, size_t len, int v, bool onoff)
{
	if (v < 0)
		snprintf(buf, len, "?");
	else if (onoff)
		snprintf(buf, len, "%s", v ? "on" : "off");
	else
		snprintf(buf, len, "%d", v);
}

/* The detail column: before -> after of what changed, the values
 * held, or why the socket was left alone. */
static void detail(const struct conn *c, char *buf, size_t len)
{
	const int before[] = { c->keepalive, c->idle, c->interval, c->count,
			       c->user_timeout };
	const int after[] = { c->ap.keepalive, c->ap.idle, c->ap.interval,
			      c->ap.count, c->ap.user_timeout };
	static const char *const name[] = { "keepalive", "idle", "interval",
					    "count", "user_timeout" };
	size_t n = 0;

	buf[0] = '\0';
	if (c->ap.result == KASHIM_APPLY_FAILED) {
		snprintf(buf, len, "%s: %s", c->ap.why, strerror(c->ap.err));
		return;
	}
	if (c->ap.result != KASHIM_APPLY_SET &&
	    c->ap.result != KASHIM_APPLY_ALREADY) {
		snprintf(buf, len, "%s", c->ap.why ? c->ap.why : "-");
		return;
	}
	for (int i = 0; i < 5 && n < len; i++) {
		char b[16], a[16];

		if (c->ap.result == KASHIM_APPLY_SET && before[i] == after[i])
			continue;
		val(b, sizeof(b), before[i], i == 0);
		val(a, sizeof(a), after[i], i == 0);
		if (c->ap.result == KASHIM_APPLY_SET)
			n += (size_t)snprintf(buf + n, len - n, "%s%s %s -> %s",
					      n ? ", " : "", name[i], b, a);
		else
			n += (size_t)snprintf(buf + n, len - n, "%s%s %s",
					      n ? ", " : "", name[i], a);
	}
}

/* One line per socket, tab-separated, then the summary. */
static void print_text(const struct status *st)
{
	struct apply_sum sum;

	printf("PID\tNAME\tFD\tLOCAL\tPEER\tSTATE\tDIRECTION\tRULE\tRESULT\tDETAIL\n");
	for (size_t p = 0; p < st->nprocs; p++) {
		const struct proc *pr = &st->procs[p];
		char name[16];

		for (size_t k = pr->first; k < pr->first + pr->n; k++) {
			const struct conn *c = &st->conns[k];
			char l[64], r[64], d[256];

			detail(c, d, sizeof(d));
			printf("%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			       (int)pr->pid, kashim_report_name(pr->name, name),
			       c->fd, kashim_report_ep(&c->local, c->v6, l, sizeof(l)),
			       kashim_report_ep(&c->peer, c->v6, r, sizeof(r)),
			       kashim_tcp_state_name(c->state),
			       dir_name(c->ap.direction),
			       c->ap.rule ? c->ap.rule : "-",
			       result_name(st, c->ap.result), d);
		}
	}
	sum_up(st, &sum);
	printf("summary: %zu process%s, %zu socket%s: %zu %s, %zu already set, "
	       "%zu left alone, %zu failed, %zu not inspectable\n",
	       st->nprocs, st->nprocs == 1 ? "" : "es", sum.sockets,
	       sum.sockets == 1 ? "" : "s", sum.n[KASHIM_APPLY_SET],
	       st->opts->dry_run ? "would be set" : "set",
	       sum.n[KASHIM_APPLY_ALREADY], sum.n[KASHIM_APPLY_LEFT],
	       sum.n[KASHIM_APPLY_FAILED], st->nrefused);
}

/* An int as JSON, null when unknown; keep-alive as a boolean. */
static void json_val(const char *name, int v, bool onoff, const char *after)
{
	if (v < 0)
		printf("\"%s\": null%s", name, after);
	else if (onoff)
		printf("\"%s\": %s%s", name, v ? "true" : "false", after);
	else
		printf("\"%s\": %d%s", name, v, after);
}

/* The five options as a JSON object. */
static void json_opts(int ka, int idle, int interval, int count, int uto)
{
	putchar('{');
	json_val("keepalive", ka, true, ", ");
	json_val("idle", idle, false, ", ");
	json_val("interval", interval, false, ", ");
	json_val("count", count, false, ", ");
	json_val("user_timeout", uto, false, "}");
}

/* An endpoint as JSON, or null. */
static void json_ep(const struct endpoint *e, bool v6)
{
	char a[INET6_ADDRSTRLEN];

	if (!e->known) {
		printf("null");
		return;
	}
	inet_ntop(v6 ? AF_INET6 : AF_INET, e->addr, a, sizeof(a));
	printf("{\"address\": \"%s\", \"port\": %u}", a, e->port);
}

/* One socket as a JSON object. */
static void json_conn(const struct status *st, const struct conn *c)
{
	char d[256];

	printf("{\"fd\": %d, \"family\": \"%s\", \"local\": ", c->fd,
	       c->v6 ? "ipv6" : "ipv4");
	json_ep(&c->local, c->v6);
	printf(", \"peer\": ");
	json_ep(&c->peer, c->v6);
	printf(", \"state\": \"%s\", \"direction\": ",
	       kashim_tcp_state_name(c->state));
	if (c->ap.direction)
		printf("\"%s\"", dir_name(c->ap.direction));
	else
		printf("null");
	printf(", \"rule\": ");
	if (c->ap.rule)
		kashim_report_json_str(c->ap.rule);
	else
		printf("null");
	printf(", \"result\": \"%s\", \"reason\": ",
	       result_name(st, c->ap.result));
	detail(c, d, sizeof(d));
	if (c->ap.result == KASHIM_APPLY_SET ||
	    c->ap.result == KASHIM_APPLY_ALREADY)
		printf("null");
	else
		kashim_report_json_str(d);
	printf(", \"before\": ");
	json_opts(c->keepalive, c->idle, c->interval, c->count,
		  c->user_timeout);
	printf(", \"after\": ");
	json_opts(c->ap.keepalive, c->ap.idle, c->ap.interval, c->ap.count,
		  c->ap.user_timeout);
	putchar('}');
}

/* The whole answer as one JSON document. */
static void print_json(const struct status *st)
{
	struct apply_sum sum;

	printf("{\"dry_run\": %s, \"processes\": [",
	       st->opts->dry_run ? "true" : "false");
	for (size_t p = 0; p < st->nprocs; p++) {
		const struct proc *pr = &st->procs[p];

		printf("%s\n  {\"pid\": %d, \"name\": ", p ? "," : "",
		       (int)pr->pid);
		kashim_report_json_str(pr->name);
		printf(", \"sockets\": [");
		for (size_t k = 0; k < pr->n; k++) {
			printf("%s\n    ", k ? "," : "");
			json_conn(st, &st->conns[pr->first + k]);
		}
		printf("%s]}", pr->n ? "\n  " : "");
	}
	sum_up(st, &sum);
	printf("%s],\n\"summary\": {\"processes\": %zu, \"sockets\": %zu, "
	       "\"set\": %zu, \"already_set\": %zu, \"left_alone\": %zu, "
	       "\"failed\": %zu, \"not_inspectable\": %zu}}\n",
	       st->nprocs ? "\n" : "", st->nprocs, sum.sockets,
	       sum.n[KASHIM_APPLY_SET], sum.n[KASHIM_APPLY_ALREADY],
	       sum.n[KASHIM_APPLY_LEFT], sum.n[KASHIM_APPLY_FAILED],
	       st->nrefused);
}

int kashim_apply_print(const struct status *st)
{
	struct apply_sum sum;

	if (st->opts->format == KASHIM_STATUS_JSON)
		print_json(st);
	else
		print_text(st);
	sum_up(st, &sum);
	return sum.n[KASHIM_APPLY_FAILED] ? 1 : 0;
}

int kashim_cmd_apply(struct kashim_status_opts *o)
{
	struct kashim_apply a = { .v = NULL };
	struct kashim_load_result res;
	struct status st = { .opts = o };
	struct tcptabs *tabs;
	int rc;

	if (kashim_cmd_load(NULL, &a.base, &res) < 0) {
		fprintf(stderr, "kashim: %s\n", kashim_cmd_load_error(&res));
		return KASHIM_EXIT_USAGE;
	}
	pthread_mutex_init(&a.lock, NULL);
	o->settings = &a;
	tabs = kashim_tcptabs_new();
	rc = tabs ? kashim_status_scan(&st, tabs) : -ENOMEM;
	kashim_tcptabs_free(tabs);
	if (rc < 0) {
		fprintf(stderr, "kashim: --apply: %s\n", strerror(-rc));
		rc = 1;
	} else {
		kashim_status_refused(&st);
		rc = kashim_apply_print(&st) | rc |
		     (o->ntargets > 0 && st.nrefused > 0);
	}
	for (size_t i = 0; i < a.n; i++) {
		free(a.v[i]->s.rules);
		free(a.v[i]);
	}
	free(a.v);
	pthread_mutex_destroy(&a.lock);
	kashim_settings_free(&a.base);
	free(st.procs);
	free(st.conns);
	free(st.refused);
	o->settings = NULL;
	return fflush(stdout) == 0 ? rc : 1;
}
