/*
 * apply.c - `kashim --apply PID|NAME... | --all`: kashim's settings put
 * on the TCP sockets processes already hold, from outside, no restart.
 *
 * It rides on the scan of --status (kashim_status_scan(), status.c):
 * each fd is duplicated into this process with pidfd_getfd(), and each
 * TCP socket is given what its rule says by applysock.c. Here the
 * settings are read, and what was done is printed, as a table or JSON.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"
#include "report.h"
#include "status.h"
#include "text.h"

/* What the summary counts, by enum kashim_apply_result. */
struct apply_sum {
	size_t n[KASHIM_APPLY_FAILED + 1];
	size_t sockets;
	size_t timers; /* keep-alive timers started anew (see burst_note()) */
};

/* Did --apply start c's keep-alive timer anew: keep-alive turned on, or
 * its idle changed while on? A listener has no such timer. */
static bool timer_started(const struct conn *c)
{
	return c->ap.result == KASHIM_APPLY_SET && c->state != TCP_LISTEN &&
	       c->ap.v.keepalive == 1 &&
	       (c->v.keepalive != 1 || c->v.idle != c->ap.v.idle);
}

static void sum_up(const struct status *st, struct apply_sum *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (size_t p = 0; p < st->nprocs; p++) {
		for (size_t k = 0; k < st->procs[p].n; k++) {
			sum->n[st->procs[p].conn[k].ap.result]++;
			sum->timers += timer_started(&st->procs[p].conn[k]);
		}
	}
	sum->sockets = st->nconns;
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

/* One value ("?" when unknown; keep-alive as on/off). */
static void val(struct kashim_text *t, int v, bool onoff)
{
	if (onoff)
		kashim_text_onoff(t, v);
	else
		kashim_text_opt(t, v);
}

/* The detail column: before -> after of what changed, the values
 * held, or why the socket was left alone. */
static void detail(const struct conn *c, struct kashim_text *t)
{
	const struct optvals *b = &c->v, *a = &c->ap.v;
	const int before[] = { b->keepalive, b->idle, b->interval, b->count,
			       b->user_timeout };
	const int after[] = { a->keepalive, a->idle, a->interval, a->count,
			      a->user_timeout };
	static const char *const name[] = { "keepalive", "idle", "interval",
					    "count", "user_timeout" };
	bool first = true;

	if (c->ap.result == KASHIM_APPLY_FAILED) {
		kashim_text_str(t, c->ap.why);
		kashim_text_str(t, ": ");
		kashim_text_str(t, strerror(c->ap.err));
		return;
	}
	if (c->ap.result != KASHIM_APPLY_SET &&
	    c->ap.result != KASHIM_APPLY_ALREADY) {
		kashim_text_str(t, c->ap.why ? c->ap.why : "-");
		return;
	}
	for (int i = 0; i < 5; i++) {
		if (c->ap.result == KASHIM_APPLY_SET && before[i] == after[i])
			continue;
		kashim_text_str(t, first ? "" : ", ");
		kashim_text_str(t, name[i]);
		kashim_text_char(t, ' ');
		if (c->ap.result == KASHIM_APPLY_SET) {
			val(t, before[i], i == 0);
			kashim_text_str(t, " -> ");
		}
		val(t, after[i], i == 0);
		first = false;
	}
}

/* One socket's line of the table: tab-separated fields. */
static void print_line(const struct status *st, const struct proc *pr,
		       const struct conn *c)
{
	char buf[1024], name[16];
	struct kashim_text t = kashim_text_over(buf, sizeof(buf));

	kashim_text_uint(&t, (unsigned long)pr->pid);
	kashim_text_char(&t, '\t');
	kashim_text_str(&t, kashim_name_text(pr->name, name));
	kashim_text_char(&t, '\t');
	kashim_text_uint(&t, (unsigned long)c->fd);
	kashim_text_char(&t, '\t');
	kashim_text_ep(&t, &c->local, c->v6);
	kashim_text_char(&t, '\t');
	kashim_text_ep(&t, &c->peer, c->v6);
	kashim_text_char(&t, '\t');
	kashim_text_str(&t, kashim_tcp_state_name(c->state));
	kashim_text_char(&t, '\t');
	kashim_text_str(&t, dir_name(c->ap.direction));
	kashim_text_char(&t, '\t');
	kashim_text_str(&t, c->ap.rule ? c->ap.rule : "-");
	kashim_text_char(&t, '\t');
	kashim_text_str(&t, result_name(st, c->ap.result));
	kashim_text_char(&t, '\t');
	detail(c, &t);
	kashim_text_char(&t, '\n');
	kashim_text_write(&t, stdout);
}

/* One line per socket, tab-separated, then the summary. */
static void print_text(const struct status *st, const struct apply_sum *sum)
{
	printf("PID\tNAME\tFD\tLOCAL\tPEER\tSTATE\tDIRECTION\tRULE\tRESULT\tDETAIL\n");
	for (size_t p = 0; p < st->nprocs; p++)
		for (size_t k = 0; k < st->procs[p].n; k++)
			print_line(st, &st->procs[p], &st->procs[p].conn[k]);
	printf("summary: %zu process%s, %zu socket%s: %zu %s, %zu already set, "
	       "%zu left alone, %zu failed, %zu not inspectable\n",
	       st->nprocs, st->nprocs == 1 ? "" : "es", sum->sockets,
	       sum->sockets == 1 ? "" : "s", sum->n[KASHIM_APPLY_SET],
	       st->opts->dry_run ? "would be set" : "set",
	       sum->n[KASHIM_APPLY_ALREADY], sum->n[KASHIM_APPLY_LEFT],
	       sum->n[KASHIM_APPLY_FAILED], st->nrefused);
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
static void json_opts(const struct optvals *v)
{
	putchar('{');
	json_val("keepalive", v->keepalive, true, ", ");
	json_val("idle", v->idle, false, ", ");
	json_val("interval", v->interval, false, ", ");
	json_val("count", v->count, false, ", ");
	json_val("user_timeout", v->user_timeout, false, "}");
}

/* One socket as a JSON object. */
static void json_conn(const struct status *st, const struct conn *c)
{
	char d[256];
	struct kashim_text t = kashim_text_over(d, sizeof(d));

	printf("{\"fd\": %d, \"family\": \"%s\", \"local\": ", c->fd,
	       c->v6 ? "ipv6" : "ipv4");
	kashim_report_json_ep(&c->local, c->v6);
	printf(", \"peer\": ");
	kashim_report_json_ep(&c->peer, c->v6);
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
	if (c->ap.result == KASHIM_APPLY_SET ||
	    c->ap.result == KASHIM_APPLY_ALREADY) {
		printf("null");
	} else {
		detail(c, &t);
		kashim_report_json_str(d);
	}
	printf(", \"before\": ");
	json_opts(&c->v);
	printf(", \"after\": ");
	json_opts(&c->ap.v);
	putchar('}');
}

/* The whole answer as one JSON document. */
static void print_json(const struct status *st, const struct apply_sum *sum)
{
	printf("{\"dry_run\": %s, \"processes\": [",
	       st->opts->dry_run ? "true" : "false");
	for (size_t p = 0; p < st->nprocs; p++) {
		printf("%s\n  ", p ? "," : "");
		kashim_report_json_proc(st, &st->procs[p], json_conn);
	}
	printf("%s],\n\"summary\": {\"processes\": %zu, \"sockets\": %zu, "
	       "\"set\": %zu, \"already_set\": %zu, \"left_alone\": %zu, "
	       "\"failed\": %zu, \"not_inspectable\": %zu}}\n",
	       st->nprocs ? "\n" : "", st->nprocs, sum->sockets,
	       sum->n[KASHIM_APPLY_SET], sum->n[KASHIM_APPLY_ALREADY],
	       sum->n[KASHIM_APPLY_LEFT], sum->n[KASHIM_APPLY_FAILED],
	       st->nrefused);
}

/*
 * The sockets set in one run start their keep-alive timers in the same
 * instant, so while their connections stay idle they send their probes
 * together, every idle seconds. Packets sent over loopback or veth wait
 * in a queue of net.core.netdev_max_backlog packets per CPU, and what
 * does not fit is dropped: 20,000 loopback sockets set at once with the
 * default 1,000 lost all but 1,508 of their connections to unanswered
 * probes (measured; none with 50,000). Say so when more timers started
 * than that queue holds.
 */
static void burst_note(const struct apply_sum *sum)
{
	char buf[32];
	long backlog;

	if (kashim_read_text("/proc/sys/net/core/netdev_max_backlog", buf,
			     sizeof(buf)) < 0)
		return;
	backlog = strtol(buf, NULL, 10);
	if (backlog <= 0 || sum->timers <= (size_t)backlog)
		return;
	fprintf(stderr,
		"kashim: --apply: %zu sockets now send their keep-alive probes "
		"together, more than net.core.netdev_max_backlog (%ld): over "
		"loopback or veth the probes beyond it are dropped and those "
		"connections may be cut; raise it: sysctl -w "
		"net.core.netdev_max_backlog=%zu\n",
		sum->timers, backlog, 2 * sum->timers);
}

/* --apply's answer: printed; exit status 1 when an option failed (or,
 * kashim_status_run() adds, a PID or name was missing, or a process asked
 * for could not be read). */
static int apply_answer(const struct status *st)
{
	struct apply_sum sum;

	sum_up(st, &sum);
	if (st->opts->format == KASHIM_STATUS_JSON)
		print_json(st, &sum);
	else
		print_text(st, &sum);
	if (!st->opts->dry_run)
		burst_note(&sum);
	return sum.n[KASHIM_APPLY_FAILED] > 0;
}

int kashim_cmd_apply(struct kashim_status_opts *o)
{
	struct kashim_apply a = { .v = NULL };
	struct kashim_load_result res;
	int rc;

	if (kashim_cmd_load(NULL, &a.base, &res) < 0) {
		fprintf(stderr, "kashim: %s\n", kashim_cmd_load_error(&res));
		return KASHIM_EXIT_USAGE;
	}
	pthread_mutex_init(&a.lock, NULL);
	o->settings = &a;
	rc = kashim_status_run(o, apply_answer);
	kashim_apply_free(&a);
	pthread_mutex_destroy(&a.lock);
	kashim_settings_free(&a.base);
	o->settings = NULL;
	return rc;
}
