/*
 * text.h - a line of output built in a buffer of the caller's and then
 * written whole: the rows of `--status` and `--apply`, thousands of them
 * on a busy host, cost a few copies each instead of a printf() per
 * field. An endpoint is written here, the one way the command shows it.
 */
#ifndef KASHIM_CMD_TEXT_H
#define KASHIM_CMD_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct endpoint;

/* Text in b[cap], n bytes of it used; always ends with a NUL. What does
 * not fit is cut. */
struct kashim_text {
	char *b;
	size_t n, cap;
};

/* An empty text over buf[cap] (cap > 0). */
static inline struct kashim_text kashim_text_over(char *buf, size_t cap)
{
	buf[0] = '\0';
	return (struct kashim_text){ buf, 0, cap };
}

void kashim_text_str(struct kashim_text *t, const char *s);
void kashim_text_char(struct kashim_text *t, char c);
void kashim_text_uint(struct kashim_text *t, unsigned long v);

/* An option's value: the number, or "?" when it is unknown (< 0). */
void kashim_text_opt(struct kashim_text *t, int v);

/* SO_KEEPALIVE's value: on or off, or "?" when it is unknown (< 0). */
void kashim_text_onoff(struct kashim_text *t, int v);

/* An address (no port), as inet_ntop() writes it. */
void kashim_text_addr(struct kashim_text *t, const struct endpoint *e,
		      bool v6);

/* An endpoint: "ADDR:PORT", "[ADDR6]:PORT", or "*" when not known. */
void kashim_text_ep(struct kashim_text *t, const struct endpoint *e, bool v6);

/* Write t to f (stdout's lock held by the caller or not). */
void kashim_text_write(const struct kashim_text *t, FILE *f);

#endif
