/*
 * arena.c - memory of kashim's own for parsing the environment.
 *
 * The first TCP connect of a process may be made in a signal handler
 * that interrupted malloc(); reading the environment there must not call
 * malloc() again. The parsers' lists come from here instead: a first
 * block in .bss (backed only once used), then blocks from mmap(). Nothing
 * is handed back: the settings live as long as the process.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "arena.h"
#include "common/settings.h"

#define FIRST_SIZE 4096
#define BLOCK_SIZE ((size_t)64 * 1024)
#define ALIGN 16

/* An mmap()ed block: its header, then its memory. */
struct block {
	struct block *next;
	size_t size;
};

static unsigned char first[FIRST_SIZE] __attribute__((aligned(ALIGN)));
static struct block *blocks; /* mmap()ed, newest first */
static unsigned char *cur;   /* free memory of the current block, NULL: first */
static size_t left;	     /* bytes left at cur */

/* Map a block of at least want bytes and make it current. */
static bool new_block(size_t want)
{
	size_t size = want + ALIGN > BLOCK_SIZE ? want + ALIGN : BLOCK_SIZE;
	struct block *b;

	size = (size + 4095) & ~(size_t)4095;
	b = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		return false;
	b->next = blocks;
	b->size = size;
	blocks = b;
	cur = (unsigned char *)b + ALIGN;
	left = size - ALIGN;
	return true;
}

/* calloc() for the parsers: zeroed, aligned, never from malloc(). */
static void *arena_calloc(size_t n, size_t each)
{
	size_t want;
	void *p;

	if (each && n > (SIZE_MAX - ALIGN) / each)
		return NULL;
	want = (n * each + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (!cur) {
		cur = first;
		left = sizeof(first);
	}
	if (want > left && !new_block(want))
		return NULL;
	p = cur;
	cur += want;
	left -= want;
	return memset(p, 0, want);
}

/* Is p memory of the arena? */
static bool owns(const void *p)
{
	const unsigned char *c = p;

	if (c >= first && c < first + sizeof(first))
		return true;
	for (const struct block *b = blocks; b; b = b->next)
		if (c > (const unsigned char *)b &&
		    c < (const unsigned char *)b + b->size)
			return true;
	return false;
}

/*
 * free() for the parsers: the arena's memory stays; a list a config
 * module parsed with malloc() and the environment replaces goes back.
 */
static void arena_free(void *p)
{
	if (p && !owns(p))
		free(p);
}

void kashim_arena_use(void)
{
	cur = NULL; /* a fork child taking over a read starts afresh */
	left = 0;
	kashim_settings_mem.calloc = arena_calloc;
	kashim_settings_mem.free = arena_free;
}
