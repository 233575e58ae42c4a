/*
 * conf.c - read kashim.conf with libconfuse: the config module's room,
 * src/conf/, the only code that names libconfuse (check-rooms). Its
 * interface is conf.h beside it; the shared loader (common/load.h) sees
 * the reader only as a kashim_conf_load_fn.
 *
 * Built into kashim-conf.so, which the library dlopen()s privately, and
 * linked into the `kashim` command and kashim-bpf. Every value is checked
 * by the parsers of settings.c, from validation callbacks, so an error
 * carries its line.
 */
#include <confuse.h>
#include <errno.h>
#include <fcntl.h>
#include <libintl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

/*
 * Where the error callback leaves its message, and the line before the
 * piece of the file being parsed; the load runs once.
 */
static struct {
	char *buf;
	size_t len;
	int line0;
	char *text;    /* the whole file, cleaned */
	size_t n;      /* its length */
	size_t nrules; /* rules in the pieces before this one */
} errout;

/*
 * Settings the validation callback parses values into, set up once per
 * load: each parse replaces (and frees) the list before it.
 */
static struct kashim_settings scratch;

/* The option and number of items validate() checked last. */
static struct {
	const cfg_opt_t *opt;
	size_t n;
} checked;

/* The edit distance of conf.h: a table of prefixes, 32 by 32 at most. */
int kashim_name_distance(const char *a, const char *b)
{
	size_t m = strlen(a), n = strlen(b);
	int d[32][32];

	if (m > 31 || n > 31)
		return 99;
	for (size_t i = 0; i <= m; i++)
		for (size_t j = 0; j <= n; j++) {
			int best = i && j ? d[i - 1][j - 1] +
						    (a[i - 1] != b[j - 1])
					  : (int)(i + j);

			if (i && d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (j && d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[m][n];
}

/*
 * The key closest to word, within KASHIM_NEAR_EDITS, or NULL; at the top
 * level "rule" is a candidate too.
 */
static const char *nearest_key(const char *word, bool in_rule)
{
	const char *best = NULL;
	int best_d = KASHIM_NEAR_EDITS + 1;

	for (size_t k = 0; k <= KASHIM_NKEYS; k++) {
		const char *name =
			k < KASHIM_NKEYS ? kashim_keys[k].name : "rule";
		int d;

		if (k == KASHIM_NKEYS && in_rule)
			break;
		d = kashim_name_distance(word, name);
		if (d < best_d) {
			best_d = d;
			best = name;
		}
	}
	return best;
}

/*
 * Does fmt, which libconfuse passed to the error callback, stand for
 * text? It is text or, under a locale libconfuse is translated for, its
 * translation.
 */
static bool is_message(const char *fmt, const char *text)
{
	return strcmp(fmt, text) == 0 ||
	       strcmp(fmt, dgettext("confuse", text)) == 0;
}

/*
 * libconfuse's "no such option" in kashim's words, into buf: a
 * top-level key in a rule, or a key kashim does not have, with the
 * nearest one it has.
 */
static void unknown_key(char *buf, size_t len, const char *word, bool in_rule)
{
	const struct kashim_key_def *key = kashim_key_by_name(word);
	const char *near;

	if (key && in_rule) {
		snprintf(buf, len,
			 "%s: only at the top level, not inside a rule", word);
		return;
	}
	if (in_rule && strcmp(word, "rule") == 0) {
		snprintf(buf, len, "a rule cannot hold another rule");
		return;
	}
	near = nearest_key(word, in_rule);
	snprintf(buf, len, "unknown key '%s'%s%s%s", word,
		 near ? "; did you mean '" : "", near ? near : "",
		 near ? "'?" : "");
}

/* Two rules of one name: the name, the line of each. */
#define TWICE_NAMED \
	"rule \"%s\" is named twice, lines %d and %d: each rule needs a name of its own"

static int section_line(char *text, size_t n, size_t k);

/*
 * libconfuse's "found duplicate title" in kashim's words, into buf: the
 * rule's name and the lines of both sections (the first is among cfg's
 * rule sections, in the piece being parsed).
 */
static void twice_named(char *buf, size_t len, cfg_t *cfg, const char *title)
{
	cfg_opt_t *sections = cfg_getopt(cfg, "rule");
	size_t k = 0, n = sections ? cfg_opt_size(sections) : 0;

	while (k < n &&
	       strcmp(cfg_title(cfg_opt_getnsec(sections, (unsigned)k)),
		      title) != 0)
		k++;
	snprintf(buf, len, TWICE_NAMED, title,
		 section_line(errout.text, errout.n, errout.nrules + k),
		 errout.line0 + cfg->line);
}

/* libconfuse's error callback: "FILE:LINE: message". */
static void on_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	bool in_rule = cfg->name && strcmp(cfg->name, "rule") == 0;
	va_list arg;
	int n;

	if (!errout.buf || errout.buf[0]) /* keep the first message */
		return;
	n = snprintf(errout.buf, errout.len, "%s:%d: ",
		     cfg->filename ? cfg->filename : "?",
		     errout.line0 + cfg->line);
	if (n <= 0 || (size_t)n >= errout.len)
		return;
	va_copy(arg, ap);
	if (is_message(fmt, "no such option '%s'"))
		unknown_key(errout.buf + n, errout.len - (size_t)n,
			    va_arg(arg, const char *), in_rule);
	else if (is_message(fmt, "found duplicate title '%s'"))
		twice_named(errout.buf + n, errout.len - (size_t)n, cfg,
			    va_arg(arg, const char *));
	else
		vsnprintf(errout.buf + n, errout.len - (size_t)n, fmt, ap);
	va_end(arg);
}

/* The value of option opt as text: a list joins its items with ','. */
static char *opt_text(cfg_opt_t *opt)
{
	size_t n = cfg_opt_size(opt), len = 1, at = 0;
	char *text;

	for (size_t i = 0; i < n; i++)
		len += strlen(cfg_opt_getnstr(opt, (unsigned)i)) + 1;
	text = calloc(1, len);
	for (size_t i = 0; text && i < n; i++) {
		const char *item = cfg_opt_getnstr(opt, (unsigned)i);

		if (i)
			text[at++] = ',';
		memcpy(text + at, item, strlen(item) + 1);
		at += strlen(item);
	}
	return text;
}

/*
 * Is the text of item blank? A list's parser would refuse it as an
 * empty item, but on its own it reads as the empty list.
 */
static bool blank(const char *item)
{
	while (*item == ' ' || (*item >= '\t' && *item <= '\r'))
		item++;
	return *item == '\0';
}

/*
 * Validation callback: the value must pass the key's own parser.
 * libconfuse calls it after each item of a list, and once more at its
 * closing brace, so a list is checked by its newest item alone: each item
 * once, whatever the list's length (take_keys() parses the whole list).
 */
static int validate(cfg_t *cfg, cfg_opt_t *opt)
{
	const struct kashim_key_def *key = kashim_key_by_name(opt->name);
	size_t n = cfg_opt_size(opt);
	const char *text = n ? cfg_opt_getnstr(opt, (unsigned)n - 1) : NULL;
	char msg[300];
	int rc;

	if (opt == checked.opt && n == checked.n && n > 1)
		return 0; /* the closing brace of a list just checked */
	checked.opt = opt;
	checked.n = n;

	if (!key || !text) {
		cfg_error(cfg, "%s: cannot check this value", opt->name);
		return -1;
	}
	if ((key->flags & KASHIM_KF_LIST) && blank(text)) {
		cfg_error(cfg, "%s: empty item in the list", opt->name);
		return -1;
	}
	rc = kashim_set(&scratch, &scratch.top,
			(enum kashim_key)(key - kashim_keys), text, msg,
			sizeof(msg));
	if (rc < 0)
		cfg_error(cfg, "%s", msg);
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

/*
 * Copy the keys given in section sec into rule r of s: set, even to the
 * empty list, so that a later piece of the file overrides an earlier.
 * Walks sec's options: a lookup by name per key would cost a search.
 */
static int take_keys(cfg_t *sec, struct kashim_settings *s,
		     struct kashim_rule *r, char *err, size_t errlen)
{
	for (cfg_opt_t *opt = sec->opts; opt->name; opt++) {
		const struct kashim_key_def *key;
		char *text;
		int rc;

		if (opt->type != CFGT_STR || !(opt->flags & CFGF_MODIFIED))
			continue;
		key = kashim_key_by_name(opt->name);
		if (!key || (r != &s->top && !(key->flags & KASHIM_KF_RULE)))
			continue;
		text = opt_text(opt);
		rc = text ? kashim_set(s, r, (enum kashim_key)(key - kashim_keys),
				       text, err, errlen)
			  : -1;
		free(text);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Room in s->rules for n more rules, zeroed; doubles. Returns 0 or -1. */
static int more_rules(struct kashim_settings *s, size_t n, size_t *cap)
{
	size_t want = *cap ? *cap : 64;
	struct kashim_rule *v;

	while (want < s->nrules + n)
		want *= 2;
	if (want == *cap)
		return 0;
	v = realloc(s->rules, want * sizeof(*v));
	if (!v)
		return -1;
	memset(v + *cap, 0, (want - *cap) * sizeof(*v));
	s->rules = v;
	*cap = want;
	return 0;
}

/* Append the rule sections of cfg to s->rules (cap: its room). */
static int take_rules(cfg_t *cfg, const char *path, struct kashim_settings *s,
		      size_t *cap, char *err, size_t errlen)
{
	cfg_opt_t *sections = cfg_getopt(cfg, "rule");
	size_t n = cfg_opt_size(sections);
	char msg[300];

	if (more_rules(s, n, cap) < 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		cfg_t *sec = cfg_opt_getnsec(sections, (unsigned)i);
		struct kashim_rule *r = &s->rules[s->nrules];
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
	bool esc;	/* in a string: the character at hand is escaped */
	bool star;	/* in a block comment: the last character was '*' */
	int line;	/* of the character at hand */
	int depth;	/* braces open in code */
	int brace_line; /* where the outermost open brace is */
	int start_line; /* where the string or comment at hand began */
};

/* Is st inside a comment? */
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
 * Is c a character that changes nothing in code or in a string (no quote,
 * comment, brace, backslash, '$' or newline)? Most of a file is.
 */
static bool plain(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ' ' ||
	       (c >= 'A' && c <= 'Z') || c == '_' || c == '=' || c == ',' ||
	       c == '-' || c == '.';
}

/*
 * Step over *c (next: the character after it, or 0), blanking it when it
 * belongs to a comment. Returns -1 at a "${" outside single quotes, which
 * libconfuse would replace with an environment variable.
 */
static int scan_step(struct scanner *sc, char *c, char next)
{
	enum scan before = sc->st;

	if (plain(*c) && !sc->esc &&
	    (before == CODE || before == DQUOTE || before == SQUOTE))
		return 0;
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

/* The character at i of text (n bytes), or '\0' past its end. */
static char char_at(const char *text, size_t n, size_t i)
{
	if (i < n)
		return text[i];
	return '\0';
}

/* "FILE:LINE: message" into err; returns -1. */
static int fail_at(char *err, size_t errlen, const char *path, int line,
		   const char *msg)
{
	snprintf(err, errlen, "%s:%d: %s", path, line, msg);
	return -1;
}

/*
 * Rule sections per piece. libconfuse looks for a duplicate title among
 * every section before a new one: quadratic in the rules of a file read
 * whole. Read in pieces of at most this many, the search stays short;
 * duplicates across pieces are found by first_duplicate().
 */
#define PIECE_RULES 64

/*
 * Where the pre-pass cut the file into pieces: each ends after a top-level
 * closing brace (a statement's end), with the lines before its end.
 */
struct pieces {
	struct piece {
		size_t end;
		int lines;
	} *v;
	size_t n, cap;
};

/* Note a top-level closing brace before end; every PIECE_RULES-th cuts. */
static int note_close(struct pieces *p, size_t end, int line, int *closed)
{
	struct piece *v;

	if (++*closed % PIECE_RULES)
		return 0;
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		v = realloc(p->v, p->cap * sizeof(*v));
		if (!v)
			return -1;
		p->v = v;
	}
	p->v[p->n].end = end;
	p->v[p->n++].lines = line - 1;
	return 0;
}

/*
 * Blank the comments of text (n bytes) in place, keeping every newline,
 * and check what libconfuse 3.3 lets through: it miscounts lines after a
 * comment, accepts a file that ends inside a section, and expands
 * ${VARIABLE} (the file is read literally, setuid programs included).
 * Cuts it into pieces on the way. Returns 0, or -1 with "FILE:LINE:
 * message" in err.
 */
static int clean(char *text, size_t n, const char *path, struct pieces *p,
		 char *err, size_t errlen)
{
	struct scanner sc = { .st = CODE, .line = 1 };
	int closed = 0;

	for (size_t i = 0; i < n; i++) {
		int depth = sc.depth;

		if (scan_step(&sc, &text[i], char_at(text, n, i + 1)) < 0)
			return fail_at(err, errlen, path, sc.line,
				       "'${' outside single quotes: the file is read "
				       "literally, no ${VARIABLE} is expanded");
		if (depth == 1 && sc.depth == 0 &&
		    note_close(p, i + 1, sc.line, &closed) < 0) {
			snprintf(err, errlen, "%s: out of memory", path);
			return -1;
		}
	}
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

/* A new libconfuse context for kashim.conf, errors to on_error(). */
static cfg_t *new_cfg(const char *path)
{
	cfg_opt_t rule_opts[KASHIM_NKEYS + 1], opts[KASHIM_NKEYS + 2];
	cfg_t *cfg;

	fill_opts(rule_opts, true);
	fill_opts(opts, false);
	opts[KASHIM_NKEYS] = (cfg_opt_t)CFG_SEC(
		"rule", rule_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES);
	opts[KASHIM_NKEYS + 1] = (cfg_opt_t)CFG_END();
	cfg = cfg_init(opts, CFGF_NONE); /* copies opts */
	if (!cfg)
		return NULL;
	cfg_set_error_function(cfg, on_error);
	free(cfg->filename);
	cfg->filename = strdup(path);
	if (!cfg->filename) {
		cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

/*
 * Parse one piece of the file (n bytes at text, which starts after line
 * line0) into cfg, which keeps the top-level keys of the earlier pieces
 * (as one parse of the whole file would), and append its rules to s.
 * Returns 0 or -1 with err set.
 */
static int parse_piece(cfg_t *cfg, char *text, size_t n, int line0,
		       const char *path, struct kashim_settings *s, size_t *cap,
		       char *err, size_t errlen)
{
	FILE *fp = fmemopen(text, n, "r");
	int rc = -1;

	errout.line0 = line0;
	errout.nrules = s->nrules;
	if (!fp)
		snprintf(err, errlen, "%s: out of memory", path);
	else if (cfg_parse_fp(cfg, fp) != CFG_SUCCESS) {
		if (!err[0])
			snprintf(err, errlen, "%s: cannot be parsed", path);
	} else if (take_rules(cfg, path, s, cap, err, errlen) == 0)
		rc = 0;
	/* The next piece's titles are searched among its own sections only. */
	cfg_free_value(cfg_getopt(cfg, "rule"));
	if (fp)
		fclose(fp);
	return rc;
}

/* For qsort_r: rule numbers by the rules' names, then by number. */
static int by_name(const void *a, const void *b, void *rules)
{
	const struct kashim_rule *r = rules;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = strcmp(r[x].name, r[y].name);

	return c ? c : (x > y) - (x < y);
}

/*
 * The first rule, in the file's order, whose name an earlier rule has:
 * its number in *dup, s->nrules for none. Returns 0, or -1 without memory.
 */
static int first_duplicate(const struct kashim_settings *s, size_t *dup)
{
	uint32_t *order = malloc((s->nrules + 1) * sizeof(*order));

	if (!order)
		return -1;
	for (size_t i = 0; i < s->nrules; i++)
		order[i] = (uint32_t)i;
	qsort_r(order, s->nrules, sizeof(*order), by_name, s->rules);
	*dup = s->nrules;
	for (size_t i = 1; i < s->nrules; i++)
		if (order[i] < *dup && strcmp(s->rules[order[i]].name,
					      s->rules[order[i - 1]].name) == 0)
			*dup = order[i];
	free(order);
	return 0;
}

/* The line of the brace opening rule section number k of cleaned text. */
static int section_line(char *text, size_t n, size_t k)
{
	struct scanner sc = { .st = CODE, .line = 1 };
	char last = 0; /* the last character of code that is not blank */

	for (size_t i = 0; i < n; i++) {
		char c = text[i];
		bool code = sc.st == CODE;
		int depth = sc.depth, line = sc.line;

		scan_step(&sc, &text[i], char_at(text, n, i + 1));
		if (code && c == '{' && depth == 0 && last != '=' && k-- == 0)
			return line;
		if (code && c != ' ' && (c < '\t' || c > '\r'))
			last = c;
	}
	return 0;
}

/* Two rules of one name in different pieces: twice_named()'s message. */
static int check_names(char *text, size_t n, const char *path,
		       const struct kashim_settings *s, char *err,
		       size_t errlen)
{
	size_t dup, first;
	int line;

	if (first_duplicate(s, &dup) < 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	if (dup == s->nrules)
		return 0;
	for (first = 0; first < dup; first++)
		if (strcmp(s->rules[first].name, s->rules[dup].name) == 0)
			break;
	line = section_line(text, n, dup);
	snprintf(err, errlen, "%s:%d: " TWICE_NAMED, path, line,
		 s->rules[dup].name, section_line(text, n, first), line);
	return -1;
}

/*
 * Parse the cleaned text (n bytes) into s, piece by piece (p), with one
 * libconfuse context. Returns 0 or -1 with err set.
 */
static int parse(char *text, size_t n, const struct pieces *p, const char *path,
		 struct kashim_settings *s, char *err, size_t errlen)
{
	cfg_t *cfg = new_cfg(path);
	size_t from = 0, cap = 0;
	int rc = cfg ? 0 : -1;

	if (!cfg)
		snprintf(err, errlen, "%s: out of memory", path);
	errout.buf = err;
	errout.len = errlen;
	errout.text = text;
	errout.n = n;
	err[0] = '\0';
	checked.opt = NULL;
	kashim_settings_defaults(&scratch);
	for (size_t i = 0; rc == 0 && from < n && i <= p->n; i++) {
		size_t end = i < p->n ? p->v[i].end : n;

		rc = parse_piece(cfg, text + from, end - from,
				 i ? p->v[i - 1].lines : 0, path, s, &cap, err,
				 errlen);
		from = end;
	}
	errout.buf = NULL;
	kashim_settings_free(&scratch);
	if (rc == 0)
		rc = take_keys(cfg, s, &s->top, err, errlen);
	if (rc == 0 && p->n > 0)
		rc = check_names(text, n, path, s, err, errlen);
	if (cfg)
		cfg_free(cfg);
	return rc;
}

__attribute__((visibility("default"))) int
kashim_conf_load(const char *path, uid_t ruid, struct kashim_settings *s,
		 char *err, size_t errlen)
{
	struct pieces p = { NULL, 0, 0 };
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
	if (text && n && clean(text, n, path, &p, err, errlen) == 0)
		rc = parse(text, n, &p, path, s, err, errlen);
	free(p.v);
	free(text);
	if (rc < 0) {
		kashim_settings_free(s);
		return KASHIM_CONF_ERROR;
	}
	return KASHIM_CONF_OK;
}
