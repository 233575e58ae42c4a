/*
 * report.h - the answer (answer.h) printed: the table, JSON and
 * Prometheus output of `kashim --status`, and the pieces apply.c prints
 * its own answer with (report.c).
 */
#ifndef KASHIM_REPORT_H
#define KASHIM_REPORT_H

#include <stdbool.h>

#include "answer.h"

/* The state's name ("ESTABLISHED"), or "?" */
const char *kashim_tcp_state_name(unsigned state);

/* Is c a connection (not a listener or an unconnected socket)? */
bool kashim_conn_counts(const struct conn *c);

/* Would a middlebox forgetting idle flows after limit seconds cut c? */
bool kashim_conn_cut(const struct conn *c, int limit);

/* Count what the summary line shows. */
void kashim_status_sum(const struct status *st, struct status_sum *sum);

/*
 * A process name (at most 15 bytes) fit for one line or field, into buf
 * (16 bytes): control characters and bytes that are not valid UTF-8
 * become '?'. Returns buf, or "?" for an empty name.
 */
const char *kashim_name_text(const char *name, char *buf);

/* Print st in the format its options ask for. */
void kashim_status_print(const struct status *st);

/* A process and its sockets as a JSON object, each socket by conn (for
 * --status and --apply, whose sockets differ). */
void kashim_report_json_proc(const struct status *st, const struct proc *p,
			     void (*conn)(const struct status *st,
					  const struct conn *c));

/* For apply.c: an endpoint and a string as JSON, printed as report.c
 * prints them. */
void kashim_report_json_ep(const struct endpoint *e, bool v6);
void kashim_report_json_str(const char *s);

#endif
