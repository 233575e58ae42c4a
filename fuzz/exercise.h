/*
 * exercise.h - what both fuzz harnesses do with settings they accepted:
 * match them against peers of each kind and direction, and print them
 * (to /dev/null). ASan and UBSan watch every read; one promise is
 * checked outright: a listener's rule, when the peer does not matter, is
 * what matching gives for any peer (abort() otherwise, a crash to the
 * fuzzer).
 */
#ifndef KASHIM_FUZZ_EXERCISE_H
#define KASHIM_FUZZ_EXERCISE_H

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/settings.h"
#include "conf/print.h"

static void exercise(const struct kashim_settings *s)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	static FILE *sink;

	in.sin_addr.s_addr = htonl(0x0a000001);
	inet_pton(AF_INET6, "::ffff:192.168.1.7", &in6.sin6_addr);
	for (unsigned dir = KASHIM_DIR_OUTGOING; dir <= KASHIM_DIR_INCOMING;
	     dir++) {
		kashim_rule_for(s, dir, 1883, (const struct sockaddr *)&in);
		kashim_rule_for(s, dir, 9050, (const struct sockaddr *)&in6);
		kashim_rule_for(s, dir, 5432, (const struct sockaddr *)&in);
		kashim_rule_for(s, dir, 0, NULL);
	}
	for (unsigned p = 0; p <= 65535; p += 4093) {
		uint16_t port = (uint16_t)p;
		bool peer;
		const struct kashim_rule *r = kashim_rule_for_listener(s, port, &peer);

		if (!peer &&
		    (r != kashim_rule_for(s, KASHIM_DIR_INCOMING, port,
					  (const struct sockaddr *)&in) ||
		     r != kashim_rule_for(s, KASHIM_DIR_INCOMING, port,
					  (const struct sockaddr *)&in6)))
			abort();
	}
	if (!sink)
		sink = fopen("/dev/null", "w");
	if (sink)
		kashim_settings_print(s, sink);
}

#endif
