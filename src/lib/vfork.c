/*
 * vfork.c - telling a vfork() child from its parent without a system
 * call on the way of every hook.
 *
 * The child of vfork() shares the parent's memory and, in user space,
 * the parent thread's thread pointer (its TLS and TCB) until it calls
 * exec or _exit; the parent thread is suspended meanwhile. The vfork hook
 * (hooks.c, a few instructions of assembly: no C frame of kashim's may
 * live across the call, the child would overwrite it) calls
 * kashim_vfork_enter() before the real vfork() and kashim_vfork_leave()
 * after it, in the child and then in the parent. In between, a slot
 * holds the thread pointer of the thread under vfork(): a hook running
 * on that thread pointer is the child. Other threads of the parent go on
 * as usual. A vfork() from inside a vfork child (which may only exec or
 * _exit) is not provided for.
 */
#include <errno.h>
#include <sched.h>
#include <stddef.h>

#include "real.h"
#include "vfork.h"

#if defined(__x86_64__) && !defined(__CET__) /* as hooks.c */

#define SLOTS 16

/* A vfork() under way: the thread under it and where it returns to. */
static struct {
	void *tp;
	void *ret;
} slots[SLOTS];
int kashim_vforks;

/* This thread's thread pointer (the TCB's address on glibc and musl). */
static inline void *thread_self(void)
{
	void *tp;

	__asm__("mov %%fs:0, %0" : "=r"(tp));
	return tp;
}

/* The slot of this thread, or -1. */
static int my_slot(void)
{
	void *tp = thread_self();

	for (int i = 0; i < SLOTS; i++)
		if (__atomic_load_n(&slots[i].tp, __ATOMIC_ACQUIRE) == tp)
			return i;
	return -1;
}

bool kashim_vfork_child_slow(void)
{
	return my_slot() >= 0;
}

/*
 * Before the real vfork(): take a slot for this thread, keep ret (the
 * caller's return address) in it, and return the function to call: the
 * real vfork(), or one that fails with ENOSYS.
 */
void *kashim_vfork_enter(void *ret)
{
	void *tp = thread_self();
	int saved = errno;

	for (;;) {
		for (int i = 0; i < SLOTS; i++) {
			void *none = NULL;

			if (__atomic_compare_exchange_n(&slots[i].tp, &none, tp,
							false, __ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE)) {
				slots[i].ret = ret;
				__atomic_fetch_add(&kashim_vforks, 1,
						   __ATOMIC_RELEASE);
				errno = saved;
				return kashim_real_vfork();
			}
		}
		sched_yield(); /* SLOTS threads in vfork() at once: rare */
	}
}

/*
 * After the real vfork() returned rc: the return address kept for this
 * thread. The child (rc 0) keeps the slot; the parent frees it. Keeps
 * errno (vfork()'s own when it failed).
 */
void *kashim_vfork_leave(int rc)
{
	int i = my_slot();
	void *ret = slots[i].ret;

	if (rc != 0) {
		__atomic_store_n(&slots[i].tp, NULL, __ATOMIC_RELEASE);
		__atomic_fetch_sub(&kashim_vforks, 1, __ATOMIC_RELEASE);
	}
	return ret;
}

#else /* no vfork hook on this architecture: see kashim(8), LIMITATIONS */

int kashim_vforks;

bool kashim_vfork_child_slow(void)
{
	return false;
}

#endif
