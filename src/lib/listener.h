/*
 * listener.h - incoming settings put on a listening socket once, at its
 * first accept; its sockets accepted later take them from it.
 */
#ifndef KASHIM_LISTENER_H
#define KASHIM_LISTENER_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Called before listen() on TCP socket fd: a new listener, to be set up
 * at its first accept.
 */
void kashim_listener_listen(int fd);

/*
 * The listener's part of an accept dealt with on its own (st: the
 * listener's state, TCP; seen: whether kashim saw it made, else it asks
 * the kernel whether keep-alive is on): it sets a new listener up, or
 * marks one whose queue the kernel now reports empty. It records and
 * returns the listener's state: with KASHIM_FD_DONE when sockets
 * accepted from it later need nothing.
 */
uint8_t kashim_listener_accept(int fd, uint8_t st, bool seen);

#endif
