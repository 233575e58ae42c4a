/*
 * status.c - `kashim --status PID|NAME... | --all`: what the kernel holds
 * for each TCP socket of live processes.
 *
 * Which processes: PIDs, process names (/proc/PID/comm, as pgrep -x),
 * or every process. Each one is scanned by kashim_scan_process()
 * (scan.c), the scans spread over the CPUs by parallel.c. No other
 * program is run. report.c prints the answer. `--apply` (apply.c) picks
 * its processes and runs its scan through kashim_status_scan() too.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "status.h"
#include "report.h"
#include "procfs.h"

/*
 * The name of process pid (/proc/PID/comm) into name[16]: the bytes the
 * process set, a newline among them kept (only the one the kernel adds
 * is dropped).
 */
static int read_comm(pid_t pid, char *name)
{
	char path[64], buf[17];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	n = kashim_read_text(path, buf, sizeof(buf));
	if (n <= 0)
		return -1;
	if (buf[n - 1] == '\n')
		n--;
	if (n > 15)
		n = 15;
	memcpy(name, buf, (size_t)n);
	name[n] = '\0';
	return 0;
}

/* A PID operand: digits only, above 0. Returns it or -1. */
static pid_t parse_pid(const char *text)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || *end || v <= 0 || v > 0x7fffffff)
		return -1;
	return (pid_t)v;
}

/* Is pid among the processes to scan already (a PID given twice)? */
static bool seen(const struct cands *c, pid_t pid)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].pid == pid)
			return true;
	return false;
}

/* Add pid to the processes to scan. Returns 0 or -ENOMEM. */
static int add_cand(struct cands *c, pid_t pid, const char *name, bool asked)
{
	struct cand *k;

	if (kashim_grow(&c->v, &c->cap, c->n + 1, sizeof(*k)) < 0)
		return -ENOMEM;
	k = &c->v[c->n++];
	memset(k, 0, sizeof(*k));
	k->pid = pid;
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->asked = asked;
	return 0;
}

/* The mode's option, for messages. */
static const char *mode_name(const struct kashim_status_opts *o)
{
	return o->apply ? "--apply" : "--status";
}

/* The PID operands, in the order given; a missing one is named.
 * Returns 0, 1 (one missing) or -ENOMEM. */
static int pick_pids(const struct kashim_status_opts *o, struct cands *c)
{
	int rc = 0;

	for (int i = 0; i < o->ntargets; i++) {
		pid_t pid = parse_pid(o->targets[i]);
		char name[16];

		if (pid < 0 || seen(c, pid))
			continue;
		if (read_comm(pid, name) == 0) {
			if (add_cand(c, pid, name, true) < 0)
				return -ENOMEM;
			continue;
		}
		fprintf(stderr, "kashim: %s: no process with PID %d\n",
			mode_name(o), (int)pid);
		rc = 1;
	}
	return rc;
}

/* Does operand match comm as pgrep -x does? A name longer than the 15
 * characters the kernel keeps is compared on its first 15. */
static bool comm_matches(const char *operand, const char *comm)
{
	if (strlen(operand) <= 15)
		return strcmp(operand, comm) == 0;
	return strlen(comm) == 15 && strncmp(operand, comm, 15) == 0;
}

/* Is comm one of the NAME operands? Marks each one it matches. */
static bool name_wanted(const struct kashim_status_opts *o, const char *comm,
			bool *found)
{
	bool any = false;

	for (int i = 0; i < o->ntargets; i++) {
		if (parse_pid(o->targets[i]) < 0 &&
		    comm_matches(o->targets[i], comm)) {
			found[i] = true;
			any = true;
		}
	}
	return any;
}

/*
 * Every process of /proc: all of them (--all, but for this one) or
 * those whose name is a NAME operand. Returns 0 or -errno.
 */
static int pick_proc_dir(const struct kashim_status_opts *o, struct cands *c,
			 bool *found)
{
	bool dedup = c->n > 0; /* PID operands came first */
	DIR *d = opendir("/proc");
	struct dirent *e;
	int rc = 0;

	if (!d)
		return -errno;
	while (rc == 0 && (e = readdir(d))) {
		pid_t pid = parse_pid(e->d_name);
		char name[16];

		if (pid < 0 || pid == getpid() || read_comm(pid, name) < 0)
			continue;
		if (!o->all && !name_wanted(o, name, found))
			continue;
		if (!dedup || !seen(c, pid))
			rc = add_cand(c, pid, name, false);
	}
	closedir(d);
	return rc;
}

/* NAME operands that matched no process: say so. Returns 1 if any. */
static int names_missing(const struct kashim_status_opts *o, const bool *found)
{
	int rc = 0;

	for (int i = 0; i < o->ntargets; i++) {
		if (parse_pid(o->targets[i]) >= 0 || found[i])
			continue;
		fprintf(stderr, "kashim: %s: no process named '%s'\n",
			mode_name(o), o->targets[i]);
		rc = 1;
	}
	return rc;
}

/* Does any operand name a process rather than a PID? */
static bool has_names(const struct kashim_status_opts *o)
{
	for (int i = 0; i < o->ntargets; i++)
		if (parse_pid(o->targets[i]) < 0)
			return true;
	return false;
}

/* Why processes could not be read, as one hint for the line. */
static const char *refusal_hint(int err)
{
	if (err == EPERM || err == EACCES)
		return "it needs ptrace rights over a process (ptrace "
		       "access mode PTRACE_MODE_ATTACH_REALCREDS): run it as "
		       "root or with CAP_SYS_PTRACE, or as the process's own "
		       "user where ptrace is allowed (kernel.yama.ptrace_scope "
		       "0, or 1 for your own children)";
	if (err == ENOSYS)
		return "it needs pidfd_open() and pidfd_getfd(): Linux "
		       "5.6 or later";
	return strerror(err);
}

void kashim_status_refused(const struct status *st)
{
	if (!st->nrefused)
		return;
	fprintf(stderr, "kashim: %s: %zu process%s not inspectable:",
		mode_name(st->opts), st->nrefused, st->nrefused == 1 ? "" : "es");
	for (size_t i = 0; i < st->nrefused; i++) {
		char name[16];

		fprintf(stderr, "%s %s (%d)", i ? "," : "",
			kashim_name_text(st->refused[i].name, name),
			(int)st->refused[i].pid);
	}
	fprintf(stderr, "; %s\n", refusal_hint(st->refused[0].err));
}


/* A PID operand gone before or during its scan: say so. Returns 1 if any. */
static int pids_gone(const struct cands *c, const char *mode)
{
	int rc = 0;

	for (size_t i = 0; i < c->n; i++) {
		if (!c->v[i].asked ||
		    (c->v[i].rc != -ESRCH && c->v[i].rc != KASHIM_SCAN_GONE))
			continue;
		if (c->v[i].rc == -ESRCH)
			fprintf(stderr, "kashim: %s: no process with PID %d\n",
				mode, (int)c->v[i].pid);
		else
			fprintf(stderr,
				"kashim: %s: process %d went away during the scan\n",
				mode, (int)c->v[i].pid);
		rc = 1;
	}
	return rc;
}

int kashim_status_scan(struct status *st, struct tcptabs *tabs)
{
	const struct kashim_status_opts *o = st->opts;
	bool *found = calloc((size_t)o->ntargets + 1, sizeof(bool));
	struct cands c = { .tabs = tabs };
	int rc = found ? pick_pids(o, &c) : -ENOMEM;

	if (rc >= 0 && (o->all || has_names(o))) {
		int r = pick_proc_dir(o, &c, found);

		rc = r < 0 ? r : rc | names_missing(o, found);
	}
	if (rc >= 0) {
		int r = kashim_scan_parallel(st, &c);

		rc = r < 0 ? r : rc | pids_gone(&c, mode_name(o));
	}
	free(found);
	free(c.v);
	return rc;
}

int kashim_status_run(const struct kashim_status_opts *o,
		      int (*answer)(const struct status *st))
{
	struct status st = { .opts = o };
	struct tcptabs *tabs = kashim_tcptabs_new();
	int rc = tabs ? kashim_status_scan(&st, tabs) : -ENOMEM;

	kashim_tcptabs_free(tabs);
	if (rc < 0) {
		fprintf(stderr, "kashim: %s: %s\n", mode_name(o), strerror(-rc));
		rc = 1;
	} else {
		int earned;

		kashim_status_refused(&st);
		earned = answer(&st);
		rc = rc || (o->ntargets > 0 && st.nrefused) ? 1 : earned;
	}
	kashim_status_free(&st);
	return fflush(stdout) == 0 ? rc : 1;
}

/* --status's answer: printed, and the exit status it earns (see
 * kashim_cmd_status()): KASHIM_EXIT_CUT when a connection would be cut. */
static int status_answer(const struct status *st)
{
	struct status_sum sum;

	kashim_status_print(st);
	kashim_status_sum(st, &sum);
	return sum.cut ? KASHIM_EXIT_CUT : 0;
}

int kashim_cmd_status(const struct kashim_status_opts *o)
{
	return kashim_status_run(o, status_answer);
}

int kashim_cmd_path_limit(const char *text, struct kashim_status_opts *o)
{
	const struct kashim_preset *p = kashim_preset_by_name(text);
	char *end;
	long v;

	if (p && p->limit) {
		o->limit = p->limit;
		o->limit_name = p->name;
		return 0;
	}
	errno = 0;
	v = strtol(text, &end, 10);
	if (isdigit((unsigned char)*text) && !*end && !errno && v >= 1 &&
	    v <= KASHIM_IDLE_MAX) {
		o->limit = (int)v;
		o->limit_name = NULL;
		return 0;
	}
	fprintf(stderr, "kashim: --path-limit: '%s' is neither a number of "
			"seconds from 1 to %d nor a preset with a limit (",
		text, KASHIM_IDLE_MAX);
	for (size_t i = 0, n = 0; i < kashim_npresets; i++)
		if (kashim_presets[i].limit)
			fprintf(stderr, "%s%s %d s", n++ ? ", " : "",
				kashim_presets[i].name, kashim_presets[i].limit);
	fprintf(stderr, ")\n");
	return -1;
}
