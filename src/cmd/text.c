/*
 * text.c - lines of output built in a buffer (text.h).
 */
#include <arpa/inet.h>
#include <string.h>

#include "answer.h"
#include "text.h"

/* Append len bytes of s, as many as fit. */
static void put(struct kashim_text *t, const char *s, size_t len)
{
	size_t room = t->cap - 1 - t->n;

	if (len > room)
		len = room;
	memcpy(t->b + t->n, s, len);
	t->n += len;
	t->b[t->n] = '\0';
}

void kashim_text_str(struct kashim_text *t, const char *s)
{
	put(t, s, strlen(s));
}

void kashim_text_char(struct kashim_text *t, char c)
{
	put(t, &c, 1);
}

void kashim_text_uint(struct kashim_text *t, unsigned long v)
{
	char d[24];
	size_t i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(t, d + i, sizeof(d) - i);
}

void kashim_text_opt(struct kashim_text *t, int v)
{
	if (v < 0)
		put(t, "?", 1);
	else
		kashim_text_uint(t, (unsigned long)v);
}

void kashim_text_onoff(struct kashim_text *t, int v)
{
	if (v < 0)
		put(t, "?", 1);
	else
		kashim_text_str(t, v ? "on" : "off");
}

void kashim_text_addr(struct kashim_text *t, const struct endpoint *e, bool v6)
{
	if (v6) { /* the shortest form (RFC 5952) is inet_ntop()'s to write */
		char a[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, e->addr, a, sizeof(a));
		kashim_text_str(t, a);
		return;
	}
	for (int i = 0; i < 4; i++) {
		if (i)
			kashim_text_char(t, '.');
		kashim_text_uint(t, e->addr[i]);
	}
}

void kashim_text_ep(struct kashim_text *t, const struct endpoint *e, bool v6)
{
	if (!e->known) {
		kashim_text_char(t, '*');
		return;
	}
	if (v6)
		kashim_text_char(t, '[');
	kashim_text_addr(t, e, v6);
	kashim_text_str(t, v6 ? "]:" : ":");
	kashim_text_uint(t, e->port);
}

void kashim_text_write(const struct kashim_text *t, FILE *f)
{
	fwrite_unlocked(t->b, 1, t->n, f);
}
