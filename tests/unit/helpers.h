/*
 * helpers.h - small pieces the unit tests share: a fake environment and
 * socket addresses built from text.
 */
#ifndef KASHIM_TEST_HELPERS_H
#define KASHIM_TEST_HELPERS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* A fake environment: NULL-terminated pairs, read by fake_getenv(). */
static const char *const *fake_env;

static char *fake_getenv(const char *name)
{
	for (const char *const *p = fake_env; p && p[0]; p += 2)
		if (strcmp(p[0], name) == 0)
			return (char *)p[1];
	return NULL;
}

/* An IPv4 or IPv6 socket address for text and port. */
static const struct sockaddr *addr_of(const char *text, uint16_t port,
				      struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
	} else {
		inet_pton(AF_INET6, text, &in6->sin6_addr);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
	}
	return (const struct sockaddr *)ss;
}

#endif
