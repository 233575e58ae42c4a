/*
 * export.h - what the library shows of itself: only the interposed libc
 * functions are exported; data shared between its units is hidden, and
 * so reached without the GOT.
 */
#ifndef KASHIM_EXPORT_H
#define KASHIM_EXPORT_H

/* Only the interposed libc functions carry this. */
#define KASHIM_EXPORT __attribute__((visibility("default")))
/* Data shared between the library's units. */
#define KASHIM_HIDDEN __attribute__((visibility("hidden")))

#endif
