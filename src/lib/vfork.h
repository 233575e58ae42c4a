/*
 * vfork.h - is the caller a vfork() child? Such a child runs in its
 * parent's memory until it execs or exits; whatever it closes or
 * duplicates must not change the parent's fd state (fdstate.h).
 */
#ifndef KASHIM_VFORK_H
#define KASHIM_VFORK_H

#include <stdbool.h>

#include "export.h"

/* The vfork() calls under way; only then is the thread asked who it is. */
KASHIM_HIDDEN extern int kashim_vforks;
bool kashim_vfork_child_slow(void);

/* Is the caller a vfork() child? One load when no vfork() is under way. */
static inline bool kashim_vfork_child(void)
{
	return __builtin_expect(__atomic_load_n(&kashim_vforks,
						__ATOMIC_RELAXED) != 0, 0) &&
	       kashim_vfork_child_slow();
}

/*
 * The vfork hook's two halves (hooks.c calls them from assembly): before
 * the real vfork() (ret: the caller's return address; returns the
 * function to call), and after it, in the child and then in the parent
 * (returns where to jump back to).
 */
void *kashim_vfork_enter(void *ret);
void *kashim_vfork_leave(int rc);

#endif
