/*
 * print.c - the settings written back as a config file would hold them,
 * for `kashim --check`, the fuzzers and the reader's round trips
 * (tests/unit/test_conf.c): beside the reader, as its quoting mirrors the
 * reader's lexical rules. Never linked into the library.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "print.h"

/*
 * s in double quotes, as the config reader reads it back: '"' and '\\'
 * escaped, control characters and the '$' of "${" (an error in the
 * file) written as \xHH.
 */
static void print_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f || (c == '$' && s[1] == '{'))
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void print_list_ports(FILE *f, const struct kashim_match *m)
{
	fputs("{", f);
	for (size_t i = 0; i < m->nports; i++) {
		const struct kashim_port_range *p = &m->ports[i];

		if (p->lo == p->hi)
			fprintf(f, "%s%u", i ? ", " : "", p->lo);
		else
			fprintf(f, "%s\"%u-%u\"", i ? ", " : "", p->lo, p->hi);
	}
	fputs("}", f);
}

static void print_list_hosts(FILE *f, const struct kashim_match *m)
{
	char buf[INET6_ADDRSTRLEN];

	fputs("{", f);
	for (size_t i = 0; i < m->nhosts; i++) {
		const struct kashim_cidr *c = &m->hosts[i];
		static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
		bool v4 = memcmp(c->addr, mapped, 12) == 0 && c->prefix >= 96;

		if (v4)
			inet_ntop(AF_INET, &c->addr[12], buf, sizeof(buf));
		else
			inet_ntop(AF_INET6, c->addr, buf, sizeof(buf));
		fprintf(f, "%s\"%s/%u\"", i ? ", " : "", buf,
			(unsigned)(v4 ? c->prefix - 96 : c->prefix));
	}
	fputs("}", f);
}

static void print_list_programs(FILE *f, const struct kashim_match *m)
{
	fputs("{", f);
	for (size_t i = 0; i < m->nprograms; i++) {
		fputs(i ? ", " : "", f);
		print_string(f, m->programs[i]);
	}
	fputs("}", f);
}

/* Print the keys of r; a rule shows its match keys only where it set them. */
static void print_rule(FILE *f, const struct kashim_rule *r, const char *ind,
		       bool top)
{
	const struct kashim_values *v = &r->v;

	fprintf(f, "%senable = %s\n", ind, v->enable ? "true" : "false");
	fprintf(f, "%sidle = %d\n", ind, v->idle);
	fprintf(f, "%sinterval = %d\n", ind, v->interval);
	fprintf(f, "%scount = %d\n", ind, v->count);
	if (v->user_timeout == KASHIM_USER_TIMEOUT_AUTO)
		fprintf(f, "%suser_timeout = auto    # %d ms\n", ind,
			kashim_user_timeout_ms(v));
	else
		fprintf(f, "%suser_timeout = %d\n", ind, v->user_timeout);
	fprintf(f, "%soverride = %s\n", ind, v->override ? "true" : "false");
	if (top || r->m.nports) {
		fprintf(f, "%sports = ", ind);
		print_list_ports(f, &r->m);
		fputs("\n", f);
	}
	if (top || r->m.nhosts) {
		fprintf(f, "%shosts = ", ind);
		print_list_hosts(f, &r->m);
		fputs("\n", f);
	}
	if (top || r->m.nprograms) {
		fprintf(f, "%sprograms = ", ind);
		print_list_programs(f, &r->m);
		fputs("\n", f);
	}
	if (top || r->m.direction != KASHIM_DIR_BOTH)
		fprintf(f, "%sdirection = %s\n", ind,
			kashim_direction_name(r->m.direction));
}

void kashim_settings_print(const struct kashim_settings *s, FILE *f)
{
	fprintf(f, "log_level = %s\n", kashim_log_level_name(s->log_level));
	fputs("log_target = ", f);
	print_string(f, s->log_target);
	fputs("\n", f);
	fprintf(f, "listener = %s\n", s->listener ? "true" : "false");
	print_rule(f, &s->top, "", true);
	for (size_t i = 0; i < s->nrules; i++) {
		fputs("\nrule ", f);
		print_string(f, s->rules[i].name);
		fputs(" {\n", f);
		print_rule(f, &s->rules[i], "  ", false);
		fputs("}\n", f);
	}
}
