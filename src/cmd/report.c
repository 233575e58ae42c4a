/*
 * report.c - the answer of `kashim --status`, printed: one table row per
 * TCP socket (aligned for a terminal, tab-separated for scripts), one
 * JSON document, or the Prometheus text exposition format; and the
 * closing summary, which is the table's last line.
 */
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "text.h"

static const char *const tcp_states[] = {
	[TCP_ESTABLISHED] = "ESTABLISHED", [TCP_SYN_SENT] = "SYN_SENT",
	[TCP_SYN_RECV] = "SYN_RECV",       [TCP_FIN_WAIT1] = "FIN_WAIT1",
	[TCP_FIN_WAIT2] = "FIN_WAIT2",     [TCP_TIME_WAIT] = "TIME_WAIT",
	[TCP_CLOSE] = "CLOSE",             [TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCP_LAST_ACK] = "LAST_ACK",       [TCP_LISTEN] = "LISTEN",
	[TCP_CLOSING] = "CLOSING",
};

const char *kashim_tcp_state_name(unsigned state)
{
	if (state >= sizeof(tcp_states) / sizeof(*tcp_states) ||
	    !tcp_states[state])
		return "?";
	return tcp_states[state];
}

bool kashim_conn_counts(const struct conn *c)
{
	return c->state != TCP_LISTEN && c->state != TCP_CLOSE && c->state;
}

bool kashim_conn_cut(const struct conn *c, int limit)
{
	return limit > 0 && c->state == TCP_ESTABLISHED &&
	       (c->v.keepalive != 1 || c->v.idle < 0 || c->v.idle >= limit);
}

void kashim_status_sum(const struct status *st, struct status_sum *sum)
{
	memset(sum, 0, sizeof(*sum));
	sum->processes = st->nprocs;
	for (size_t p = 0; p < st->nprocs; p++) {
		for (size_t k = 0; k < st->procs[p].n; k++) {
			const struct conn *c = &st->procs[p].conn[k];

			sum->listening += c->state == TCP_LISTEN;
			if (!kashim_conn_counts(c))
				continue;
			sum->connections++;
			sum->keepalive += c->v.keepalive == 1;
			sum->without += c->v.keepalive != 1;
			sum->cut += kashim_conn_cut(c, st->opts->limit);
		}
	}
}

/* ---- text helpers ---- */

/*
 * The length of the valid UTF-8 sequence at s (1 to 4), or 0 when the
 * byte at s does not start one (a stray continuation byte, an overlong
 * form, a surrogate, past U+10FFFF, or cut short).
 */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

const char *kashim_name_text(const char *name, char *buf)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t i = 0, o = 0;

	while (i < 15 && s[i]) {
		size_t n = utf8_len(s + i);

		/* C0, DEL and C1 controls, and bytes that are not UTF-8. */
		if (n == 0 || s[i] < 0x20 || s[i] == 0x7f ||
		    (s[i] == 0xc2 && s[i + 1] < 0xa0) || i + n > 15) {
			buf[o++] = '?';
			i++;
			continue;
		}
		memcpy(buf + o, s + i, n);
		o += n;
		i += n;
	}
	buf[o] = '\0';
	return buf[0] ? buf : "?";
}

/* How many columns text takes on a terminal: its UTF-8 characters. */
static int text_width(const char *text)
{
	int w = 0;

	for (; *text; text++)
		w += ((unsigned char)*text & 0xc0) != 0x80;
	return w;
}

/* ---- the table ---- */

enum { NCOL = 12, CELL = 64 };

static const struct {
	const char *head;
	bool right;
} cols[NCOL] = {
	{ "PID", true },       { "NAME", false },     { "FD", true },
	{ "LOCAL", false },    { "PEER", false },     { "STATE", false },
	{ "KEEPALIVE", false }, { "IDLE", true },     { "INTERVAL", true },
	{ "COUNT", true },     { "USER_TIMEOUT", true }, { "LIMIT", false },
};

/* The LIMIT column: "-" without --path-limit or for a socket it does
 * not judge (not established), else "ok" or "CUT". */
static const char *limit_cell(const struct conn *c, int limit)
{
	if (!limit || c->state != TCP_ESTABLISHED)
		return "-";
	return kashim_conn_cut(c, limit) ? "CUT" : "ok";
}

/* The cells of one row. */
static void row_cells(const struct status *st, const struct proc *p,
		      const struct conn *c, char cell[NCOL][CELL])
{
	char name[16];
	struct kashim_text t[NCOL];

	for (int i = 0; i < NCOL; i++)
		t[i] = kashim_text_over(cell[i], CELL);
	kashim_text_uint(&t[0], (unsigned long)p->pid);
	kashim_text_str(&t[1], kashim_name_text(p->name, name));
	kashim_text_uint(&t[2], (unsigned long)c->fd);
	kashim_text_ep(&t[3], &c->local, c->v6);
	kashim_text_ep(&t[4], &c->peer, c->v6);
	kashim_text_str(&t[5], kashim_tcp_state_name(c->state));
	kashim_text_onoff(&t[6], c->v.keepalive);
	kashim_text_opt(&t[7], c->v.idle);
	kashim_text_opt(&t[8], c->v.interval);
	kashim_text_opt(&t[9], c->v.count);
	kashim_text_opt(&t[10], c->v.user_timeout);
	kashim_text_str(&t[11], limit_cell(c, st->opts->limit));
}

/*
 * Print one row: aligned to widths w (padded on the side cols[] says,
 * the last column not padded), or separated by tabs (w NULL). Written
 * as one line.
 */
static void print_row(char cell[NCOL][CELL], const int *w)
{
	char buf[NCOL * (CELL + 1) + 256];
	struct kashim_text t = kashim_text_over(buf, sizeof(buf));

	for (int i = 0; i < NCOL; i++) {
		int pad = w && i < NCOL - 1 ? w[i] - text_width(cell[i]) : 0;

		for (; cols[i].right && pad > 0; pad--)
			kashim_text_char(&t, ' ');
		kashim_text_str(&t, cell[i]);
		for (; pad > 0; pad--)
			kashim_text_char(&t, ' ');
		kashim_text_str(&t, i == NCOL - 1 ? "\n" : w ? " " : "\t");
	}
	kashim_text_write(&t, stdout);
}

/* The header row as cells. */
static void head_cells(char cell[NCOL][CELL])
{
	for (int i = 0; i < NCOL; i++)
		snprintf(cell[i], CELL, "%s", cols[i].head);
}

/* Column widths for the terminal: the widest cell of each. */
static void widths(const struct status *st, int *w)
{
	char cell[NCOL][CELL];

	head_cells(cell);
	for (int i = 0; i < NCOL; i++)
		w[i] = (int)strlen(cell[i]);
	for (size_t p = 0; p < st->nprocs; p++) {
		const struct proc *pr = &st->procs[p];

		for (size_t k = 0; k < pr->n; k++) {
			row_cells(st, pr, &pr->conn[k], cell);
			for (int i = 0; i < NCOL; i++)
				if (text_width(cell[i]) > w[i])
					w[i] = text_width(cell[i]);
		}
	}
}

/* The closing line: what was found, and what the limit would cut. */
static void print_summary(const struct status *st)
{
	struct status_sum s;

	kashim_status_sum(st, &s);
	printf("summary: %zu process%s, %zu connection%s, %zu with keep-alive, "
	       "%zu without",
	       s.processes, s.processes == 1 ? "" : "es", s.connections,
	       s.connections == 1 ? "" : "s", s.keepalive, s.without);
	if (st->opts->limit && st->opts->limit_name)
		printf(", %zu cut by the %s path limit (%d s)", s.cut,
		       st->opts->limit_name, st->opts->limit);
	else if (st->opts->limit)
		printf(", %zu cut by a path limit of %d s", s.cut,
		       st->opts->limit);
	printf(", %zu not inspectable\n", st->nrefused);
}

/* The table: header, one row per socket, the summary. */
static void print_table(const struct status *st)
{
	char cell[NCOL][CELL];
	int w[NCOL];
	const int *pw = st->opts->aligned ? w : NULL;

	if (pw)
		widths(st, w);
	head_cells(cell);
	print_row(cell, pw);
	for (size_t p = 0; p < st->nprocs; p++) {
		const struct proc *pr = &st->procs[p];

		for (size_t k = 0; k < pr->n; k++) {
			row_cells(st, pr, &pr->conn[k], cell);
			print_row(cell, pw);
		}
	}
	print_summary(st);
}

/* ---- JSON ---- */

/*
 * A JSON string, escaped: always valid UTF-8. Control characters are
 * written as \\u00XX, and each byte that is not part of valid UTF-8
 * (a process name is whatever bytes the process wrote) as \\ufffd, the
 * replacement character.
 */
static void json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	while (*p) {
		size_t n = utf8_len(p);

		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else if (n == 0)
			printf("\\ufffd");
		else
			fwrite(p, 1, n, stdout);
		p += n ? n : 1;
	}
	putchar('"');
}

/* An int as JSON: the number, or null when unknown. */
static void json_int(const char *name, int v, const char *after)
{
	if (v < 0)
		printf("\"%s\": null%s", name, after);
	else
		printf("\"%s\": %d%s", name, v, after);
}

/* An endpoint as JSON: {"address": …, "port": …} or null. */
static void json_ep(const struct endpoint *e, bool v6)
{
	if (e->known) {
		char a[INET6_ADDRSTRLEN];
		struct kashim_text t = kashim_text_over(a, sizeof(a));

		kashim_text_addr(&t, e, v6);
		printf("{\"address\": \"%s\", \"port\": %u}", a, e->port);
	} else {
		printf("null");
	}
}

/* One socket as a JSON object. */
static void json_conn(const struct status *st, const struct conn *c)
{
	printf("{\"fd\": %d, \"family\": \"%s\", \"local\": ", c->fd,
	       c->v6 ? "ipv6" : "ipv4");
	json_ep(&c->local, c->v6);
	printf(", \"peer\": ");
	json_ep(&c->peer, c->v6);
	printf(", \"state\": \"%s\", \"keepalive\": %s, ",
	       kashim_tcp_state_name(c->state),
	       c->v.keepalive < 0 ? "null" : c->v.keepalive ? "true" : "false");
	json_int("idle", c->v.idle, ", ");
	json_int("interval", c->v.interval, ", ");
	json_int("count", c->v.count, ", ");
	json_int("user_timeout", c->v.user_timeout, ", ");
	printf("\"cut\": %s}", !st->opts->limit || c->state != TCP_ESTABLISHED
				       ? "null"
				       : kashim_conn_cut(c, st->opts->limit)
						 ? "true"
						 : "false");
}

void kashim_report_json_proc(const struct status *st, const struct proc *p,
			     void (*conn)(const struct status *st,
					  const struct conn *c))
{
	printf("{\"pid\": %d, \"name\": ", (int)p->pid);
	json_str(p->name);
	printf(", \"sockets\": [");
	for (size_t k = 0; k < p->n; k++) {
		printf("%s\n    ", k ? "," : "");
		conn(st, &p->conn[k]);
	}
	printf("%s]}", p->n ? "\n  " : "");
}

/* The summary as a JSON object. */
static void json_summary(const struct status *st)
{
	struct status_sum s;

	kashim_status_sum(st, &s);
	printf("\"summary\": {\"processes\": %zu, \"connections\": %zu, "
	       "\"keepalive\": %zu, \"without_keepalive\": %zu, "
	       "\"listening\": %zu, ",
	       s.processes, s.connections, s.keepalive, s.without,
	       s.listening);
	if (st->opts->limit)
		printf("\"cut\": %zu, ", s.cut);
	else
		printf("\"cut\": null, ");
	printf("\"not_inspectable\": %zu}", st->nrefused);
}

/* The whole answer as one JSON document. */
static void print_json(const struct status *st)
{
	printf("{\"processes\": [");
	for (size_t p = 0; p < st->nprocs; p++) {
		printf("%s\n  ", p ? "," : "");
		kashim_report_json_proc(st, &st->procs[p], json_conn);
	}
	printf("%s],\n\"not_inspectable\": [", st->nprocs ? "\n" : "");
	for (size_t i = 0; i < st->nrefused; i++) {
		printf("%s{\"pid\": %d, \"name\": ", i ? ", " : "",
		       (int)st->refused[i].pid);
		json_str(st->refused[i].name);
		printf(", \"error\": ");
		json_str(strerror(st->refused[i].err));
		printf("}");
	}
	printf("],\n\"path_limit\": ");
	if (st->opts->limit) {
		printf("{\"seconds\": %d, \"preset\": ", st->opts->limit);
		if (st->opts->limit_name)
			json_str(st->opts->limit_name);
		else
			printf("null");
		printf("}");
	} else {
		printf("null");
	}
	printf(",\n");
	json_summary(st);
	printf("}\n");
}

/* ---- Prometheus ---- */

/* Counts for one process name. */
struct by_name {
	const char *name;
	size_t with, without, cut;
};

static int by_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct by_name *)a)->name,
		      ((const struct by_name *)b)->name);
}

/* Count process pr's connections into b. */
static void count_proc(const struct status *st, const struct proc *pr,
		       struct by_name *b)
{
	*b = (struct by_name){ pr->name, 0, 0, 0 };
	for (size_t k = 0; k < pr->n; k++) {
		const struct conn *c = &pr->conn[k];

		if (!kashim_conn_counts(c))
			continue;
		b->with += c->v.keepalive == 1;
		b->without += c->v.keepalive != 1;
		b->cut += kashim_conn_cut(c, st->opts->limit);
	}
}

/*
 * One entry per process name that holds a connection, sorted by name,
 * into v (room for one per process). Returns how many.
 */
static size_t fold_names(const struct status *st, struct by_name *v)
{
	size_t n = 0, j = 0;

	for (size_t p = 0; p < st->nprocs; p++) {
		count_proc(st, &st->procs[p], &v[n]);
		n += v[n].with + v[n].without > 0;
	}
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), by_name_cmp);
	for (size_t i = 1; i < n; i++) { /* equal names into one */
		if (strcmp(v[i].name, v[j].name) != 0) {
			v[++j] = v[i];
			continue;
		}
		v[j].with += v[i].with;
		v[j].without += v[i].without;
		v[j].cut += v[i].cut;
	}
	return j + 1;
}

/*
 * A label value, escaped as the exposition format asks (backslash,
 * double quote, newline), and valid UTF-8: a byte that is not part of
 * it becomes U+FFFD.
 */
static void prom_label(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_len(p);

		if (*p == '\\' || *p == '"')
			printf("\\%c", *p);
		else if (*p == '\n')
			printf("\\n");
		else if (n == 0)
			printf("\xef\xbf\xbd");
		else
			fwrite(p, 1, n, stdout);
		p += n ? n : 1;
	}
}

/* One metric's HELP and TYPE lines. */
static void prom_head(const char *name, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* The per-name series of the connection metrics. */
static void prom_names(const struct status *st, const struct by_name *v,
		       size_t n)
{
	prom_head("kashim_connections",
		  "TCP connections of the inspected processes, by process "
		  "name and whether SO_KEEPALIVE is on.");
	for (size_t i = 0; i < n; i++) {
		printf("kashim_connections{process=\"");
		prom_label(v[i].name);
		printf("\",keepalive=\"on\"} %zu\n", v[i].with);
		printf("kashim_connections{process=\"");
		prom_label(v[i].name);
		printf("\",keepalive=\"off\"} %zu\n", v[i].without);
	}
	if (!st->opts->limit)
		return;
	prom_head("kashim_connections_cut",
		  "Established connections a middlebox with the path limit "
		  "would cut (no keep-alive, or idle at or above the limit), "
		  "by process name.");
	for (size_t i = 0; i < n; i++) {
		printf("kashim_connections_cut{process=\"");
		prom_label(v[i].name);
		printf("\"} %zu\n", v[i].cut);
	}
}

/* The summary for node_exporter's textfile collector. */
static void print_prometheus(const struct status *st)
{
	struct by_name *v = calloc(st->nprocs + 1, sizeof(*v));
	size_t n = v ? fold_names(st, v) : 0;

	prom_names(st, v, n);
	free(v);
	if (st->opts->limit) {
		prom_head("kashim_path_limit_seconds",
			  "The idle timeout --path-limit checked against.");
		printf("kashim_path_limit_seconds %d\n", st->opts->limit);
	}
	prom_head("kashim_processes_inspected",
		  "Processes whose sockets kashim --status read.");
	printf("kashim_processes_inspected %zu\n", st->nprocs);
	prom_head("kashim_processes_not_inspectable",
		  "Processes kashim --status could not read (no ptrace "
		  "rights).");
	printf("kashim_processes_not_inspectable %zu\n", st->nrefused);
}

void kashim_status_print(const struct status *st)
{
	switch (st->opts->format) {
	case KASHIM_STATUS_JSON: print_json(st); break;
	case KASHIM_STATUS_PROMETHEUS: print_prometheus(st); break;
	default: print_table(st); break;
	}
}

void kashim_report_json_ep(const struct endpoint *e, bool v6)
{
	json_ep(e, v6);
}

void kashim_report_json_str(const char *s)
{
	json_str(s);
}
