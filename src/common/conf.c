/*
 * conf.c - read kashim.conf with libconfuse.
 *
 * Built into kashim-conf.so, which the library dlopen()s privately, and
 * linked into the `kashim` command. Every value is checked by the parsers
 * of settings.c, from validation callbacks, so an error carries its line.
 */
#include <confuse.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

/* Where the error callback leaves its message; the load runs once. */
static struct {
	char *buf;
	size_t len;
} errout;

/* libconfuse's error callback: "FILE:LINE: message". */
static void on_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	int n;

	if (!errout.buf || errout.buf[0]) /* keep the first message */
		return;
	n = snprintf(errout.buf, errout.len, "%s:%d: ",
		     cfg->filename ? cfg->filename : "?", cfg->line);
	if (n > 0 && (size_t)n < errout.len)
		vsnprintf(errout.buf + n, errout.len - (size_t)n, fmt, ap);
}

/* The value of option opt as text: a list joins its items with ','. */
static char *opt_text(cfg_opt_t *opt)
{
	size_t n = cfg_opt_size(opt), len = 1;
	char *text;

	for (size_t i = 0; i < n; i++)
		len += strlen(cfg_opt_getnstr(opt, (unsigned)i)) + 1;
	text = calloc(1, len);
	for (size_t i = 0; text && i < n; i++) {
		if (i)
			strcat(text, ",");
		strcat(text, cfg_opt_getnstr(opt, (unsigned)i));
	}
	return text;
}

/* Validation callback: the value must pass the key's own parser. */
static int validate(cfg_t *cfg, cfg_opt_t *opt)
{
	const struct kashim_key_def *key = kashim_key_by_name(opt->name);
	struct kashim_settings scratch;
	char msg[300];
	char *text = opt_text(opt);
	int rc = -1;

	if (!key || !text) {
		cfg_error(cfg, "%s: cannot check this value", opt->name);
		goto out;
	}
	kashim_settings_defaults(&scratch);
	rc = kashim_set(&scratch, &scratch.top, (enum kashim_key)(key - kashim_keys),
			text, msg, sizeof(msg));
	kashim_settings_free(&scratch);
	if (rc < 0)
		cfg_error(cfg, "%s", msg);
out:
	free(text);
	return rc;
}

/* One libconfuse option per key; rules take the KASHIM_KF_RULE ones. */
static void fill_opts(cfg_opt_t *opts, bool rule)
{
	size_t n = 0;

	for (size_t k = 0; k < KASHIM_NKEYS; k++) {
		const struct kashim_key_def *key = &kashim_keys[k];
		cfg_opt_t o = CFG_STR((char *)key->name, NULL, CFGF_NODEFAULT);
		cfg_opt_t l = CFG_STR_LIST((char *)key->name, NULL, CFGF_NODEFAULT);

		if (rule && !(key->flags & KASHIM_KF_RULE))
			continue;
		opts[n] = key->flags & KASHIM_KF_LIST ? l : o;
		opts[n].validcb = validate;
		n++;
	}
	opts[n] = (cfg_opt_t)CFG_END();
}

/* Copy the keys present in section sec into rule r of s. */
static int take_keys(cfg_t *sec, struct kashim_settings *s,
		     struct kashim_rule *r, char *err, size_t errlen)
{
	for (size_t k = 0; k < KASHIM_NKEYS; k++) {
		cfg_opt_t *opt;
		char *text;
		int rc;

		if (r != &s->top && !(kashim_keys[k].flags & KASHIM_KF_RULE))
			continue;
		opt = cfg_getopt(sec, kashim_keys[k].name);
		if (!opt || cfg_opt_size(opt) == 0)
			continue;
		text = opt_text(opt);
		rc = text ? kashim_set(s, r, (enum kashim_key)k, text, err, errlen)
			  : -1;
		free(text);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int take_rules(cfg_t *cfg, const char *path, struct kashim_settings *s,
		      char *err, size_t errlen)
{
	size_t n = cfg_size(cfg, "rule");
	char msg[300];

	s->rules = n ? calloc(n, sizeof(*s->rules)) : NULL;
	if (n && !s->rules) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		cfg_t *sec = cfg_getnsec(cfg, "rule", (unsigned)i);
		struct kashim_rule *r = &s->rules[i];
		const char *title = cfg_title(sec);

		s->nrules++;
		r->m.direction = KASHIM_DIR_BOTH;
		if (!title || !*title || strlen(title) >= sizeof(r->name)) {
			snprintf(err, errlen, "%s: rule name '%.80s' must be 1 to %d characters",
				 path, title ? title : "", KASHIM_NAME_MAX - 1);
			return -1;
		}
		strcpy(r->name, title);
		if (take_keys(sec, s, r, msg, sizeof(msg)) < 0) {
			snprintf(err, errlen, "%s: rule \"%s\": %s", path,
				 title, msg);
			return -1;
		}
	}
	return 0;
}

int kashim_conf_check_owner(int fd, const char *path, uid_t ruid, char *err,
			    size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen,
			 "%s: refused: writable by %s (mode %04o); run chmod go-w on it",
			 path, st.st_mode & S_IWOTH ? "others" : "its group",
			 (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != ruid) {
		snprintf(err, errlen,
			 "%s: refused: owned by uid %u, neither root nor the user running this program (uid %u)",
			 path, (unsigned)st.st_uid, (unsigned)ruid);
		return -1;
	}
	return 0;
}

#define CONF_MAX_SIZE (1 << 20)

/* What the character at hand belongs to, for the pre-pass. */
enum scan { CODE, LINE_COMMENT, BLOCK_OPEN, BLOCK_COMMENT, DQUOTE, SQUOTE };

/*
 * The pre-pass scanner, with libconfuse's lexical rules: comments from
 * '#' or "//" to the end of the line and from "/" "*" to the next "*" "/"
 * (the opening '*' closes nothing), strings in double or single quotes in
 * which '\' takes the next character whatever it is, and braces in code.
 */
struct scanner {
	enum scan st;
	bool esc;       /* in a string: the character at hand is escaped */
	bool star;      /* in a block comment: the last character was '*' */
	int line;       /* of the character at hand */
	int depth;      /* braces open in code */
	int brace_line; /* where the outermost open brace is */
	int start_line; /* where the string or comment at hand began */
};

static bool is_comment(enum scan st)
{
	return st == LINE_COMMENT || st == BLOCK_OPEN || st == BLOCK_COMMENT;
}

/* In a string closed by quote: the state after c. */
static enum scan in_string(struct scanner *sc, char c, char quote)
{
	if (sc->esc)
		sc->esc = false;
	else if (c == '\\')
		sc->esc = true;
	else if (c == quote)
		return CODE;
	return sc->st;
}

/* In a comment: the state after c. */
static enum scan in_comment(struct scanner *sc, char c)
{
	if (sc->st == LINE_COMMENT)
		return c == '\n' ? CODE : LINE_COMMENT;
	if (sc->st == BLOCK_OPEN) { /* c is the '*' after the '/' */
		sc->star = false;
		return BLOCK_COMMENT;
	}
	if (sc->star && c == '/')
		return CODE;
	sc->star = c == '*';
	return BLOCK_COMMENT;
}

/* In code: the state after c, next being the character after it. */
static enum scan in_code(struct scanner *sc, char c, char next)
{
	if (c == '"')
		return DQUOTE;
	if (c == '\'')
		return SQUOTE;
	if (c == '#' || (c == '/' && next == '/'))
		return LINE_COMMENT;
	if (c == '/' && next == '*')
		return BLOCK_OPEN;
	if (c == '{' && sc->depth++ == 0)
		sc->brace_line = sc->line;
	if (c == '}')
		sc->depth--;
	return CODE;
}

/*
 * Step over *c (next: the character after it, or 0), blanking it when it
 * belongs to a comment. Returns -1 at a "${" outside single quotes, which
 * libconfuse would replace with an environment variable.
 */
static int scan_step(struct scanner *sc, char *c, char next)
{
	enum scan before = sc->st;

	if ((before == CODE || before == DQUOTE) && *c == '$' && next == '{')
		return -1;
	if (before == CODE)
		sc->st = in_code(sc, *c, next);
	else if (before == DQUOTE || before == SQUOTE)
		sc->st = in_string(sc, *c, before == DQUOTE ? '"' : '\'');
	else
		sc->st = in_comment(sc, *c);
	if (before == CODE && sc->st != CODE)
		sc->start_line = sc->line;
	if ((is_comment(before) || is_comment(sc->st)) && *c != '\n')
		*c = ' ';
	sc->line += *c == '\n';
	return 0;
}

/* "FILE:LINE: message" into err; returns -1. */
static int fail_at(char *err, size_t errlen, const char *path, int line,
		   const char *msg)
{
	snprintf(err, errlen, "%s:%d: %s", path, line, msg);
	return -1;
}

/*
 * Blank the comments of text (n bytes) in place, keeping every newline,
 * and check what libconfuse 3.3 lets through: it miscounts lines after a
 * comment, accepts a file that ends inside a section, and expands
 * ${VARIABLE} (the file is read literally, setuid programs included).
 * Returns 0, or -1 with "FILE:LINE: message" in err.
 */
static int clean(char *text, size_t n, const char *path, char *err,
		 size_t errlen)
{
	struct scanner sc = { .st = CODE, .line = 1 };

	for (size_t i = 0; i < n; i++)
		if (scan_step(&sc, &text[i], i + 1 < n ? text[i + 1] : 0) < 0)
			return fail_at(err, errlen, path, sc.line,
				       "'${' outside single quotes: the file is read literally, no ${VARIABLE} is expanded");
	if (sc.st == DQUOTE || sc.st == SQUOTE)
		return fail_at(err, errlen, path, sc.start_line,
			       "string never closed");
	if (sc.st == BLOCK_OPEN || sc.st == BLOCK_COMMENT)
		return fail_at(err, errlen, path, sc.start_line,
			       "comment never closed");
	if (sc.depth > 0)
		return fail_at(err, errlen, path, sc.brace_line,
			       "'{' is never closed");
	return 0;
}

/* Read all of fp (at most CONF_MAX_SIZE) into a new buffer. */
static char *slurp(FILE *fp, const char *path, size_t *n, char *err,
		   size_t errlen)
{
	char *text = malloc(CONF_MAX_SIZE + 1);

	if (!text) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	*n = fread(text, 1, CONF_MAX_SIZE + 1, fp);
	if (ferror(fp) || *n > CONF_MAX_SIZE) {
		snprintf(err, errlen, "%s: %s", path,
			 ferror(fp) ? "read error" : "larger than 1 MiB");
		free(text);
		return NULL;
	}
	return text;
}

/* Parse the open file into s. Returns 0 or -1 with err set. */
static int parse(FILE *fp, const char *path, struct kashim_settings *s,
		 char *err, size_t errlen)
{
	cfg_opt_t rule_opts[KASHIM_NKEYS + 1], opts[KASHIM_NKEYS + 2];
	cfg_t *cfg;
	int rc = -1;

	fill_opts(rule_opts, true);
	fill_opts(opts, false);
	opts[KASHIM_NKEYS] = (cfg_opt_t)CFG_SEC(
		"rule", rule_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES);
	opts[KASHIM_NKEYS + 1] = (cfg_opt_t)CFG_END();
	cfg = cfg_init(opts, CFGF_NONE);
	if (!cfg) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	cfg_set_error_function(cfg, on_error);
	free(cfg->filename);
	cfg->filename = strdup(path);
	errout.buf = err;
	errout.len = errlen;
	err[0] = '\0';
	if (cfg_parse_fp(cfg, fp) != CFG_SUCCESS) {
		if (!err[0])
			snprintf(err, errlen, "%s: cannot be parsed", path);
		goto out;
	}
	if (take_keys(cfg, s, &s->top, err, errlen) < 0 ||
	    take_rules(cfg, path, s, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	errout.buf = NULL;
	cfg_free(cfg);
	return rc;
}

__attribute__((visibility("default"))) int
kashim_conf_load(const char *path, uid_t ruid, struct kashim_settings *s,
		 char *err, size_t errlen)
{
	char *text;
	size_t n;
	FILE *fp;
	int fd, rc;

	/* Non-blocking: a FIFO (or a device) must not stall the program. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		return KASHIM_CONF_MISSING;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return KASHIM_CONF_ERROR;
	}
	if (kashim_conf_check_owner(fd, path, ruid, err, errlen) < 0) {
		close(fd);
		return KASHIM_CONF_ERROR;
	}
	fp = fdopen(fd, "r");
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return KASHIM_CONF_ERROR;
	}
	text = slurp(fp, path, &n, err, errlen);
	fclose(fp);
	rc = text && n == 0 ? 0 : -1; /* an empty file holds the defaults */
	if (text && n && clean(text, n, path, err, errlen) == 0 &&
	    (fp = fmemopen(text, n, "r")) != NULL) {
		rc = parse(fp, path, s, err, errlen);
		fclose(fp);
	}
	free(text);
	if (rc < 0) {
		kashim_settings_free(s);
		return KASHIM_CONF_ERROR;
	}
	return KASHIM_CONF_OK;
}
