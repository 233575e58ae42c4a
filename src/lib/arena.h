/*
 * arena.h - memory of kashim's own for parsing the environment, never
 * malloc(): the first connect may come from a signal handler that
 * interrupted malloc().
 */
#ifndef KASHIM_ARENA_H
#define KASHIM_ARENA_H

/*
 * Make the settings parsers take memory from kashim's own arena instead
 * of malloc() (called at the start of every settings read).
 */
void kashim_arena_use(void);

#endif
