/*
 * apply.h - putting a rule's values on a TCP socket, and the messages
 * that say what was done or why nothing was.
 */
#ifndef KASHIM_APPLY_H
#define KASHIM_APPLY_H

#include <stdint.h>
#include <sys/socket.h>

#include "common/settings.h"

/*
 * Put rule r's values on TCP socket fd, in state (its KASHIM_FD_OWN_*
 * bits: the options the program chose), connected in direction to peer
 * (NULL for a listener).
 */
void kashim_apply(int fd, const struct kashim_rule *r, uint8_t state,
		  unsigned direction, const struct sockaddr *peer);

/*
 * At debug only: one line saying why TCP socket fd (direction, its port
 * as rules see it, peer or NULL) was left alone. Cold: the connect path
 * is laid out as if it were never called.
 */
void kashim_left_alone(int fd, unsigned direction, uint16_t port,
		       const struct sockaddr *peer) __attribute__((cold));

/*
 * At info and debug only: the line for socket fd (state) that took rule
 * r's values from its listener, as if kashim_apply() had set them.
 */
void kashim_report_inherited(int fd, const struct kashim_rule *r,
			     uint8_t state, const struct sockaddr *peer)
	__attribute__((cold));

#endif
