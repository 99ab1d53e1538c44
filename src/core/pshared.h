/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Locks that live in memory shared by the processes of an instance (the
 * memory config file), and the intent records that make a dead owner's
 * half-done change repairable.
 *
 * dk__mutex_init_pshared: a PTHREAD_PROCESS_SHARED, PTHREAD_MUTEX_ROBUST
 * mutex (the same call serves process-private copies of those structs).
 * 0 or a negative errno of pthread_mutex_init.
 *
 * dk__pmutex_lock: lock m. 0: locked. DK__PLOCK_REPAIR (1): locked, and the
 * previous owner died holding it (EOWNERDEAD): the caller repairs what m
 * guards (from the intent record the owner left), then calls
 * dk__pmutex_consistent before unlocking. When the repair is impossible the
 * caller still marks m consistent and fences its structure (a flag every
 * later call checks): a mutex unlocked without being made consistent would
 * fail every later lock with ENOTRECOVERABLE and no message. A negative
 * errno (-ENOTRECOVERABLE, -EINVAL) is logged and means not locked.
 *
 * Shared rwlocks cannot be robust: there is none (the memory layout lock is
 * a robust mutex, src/mem/memseg.c).
 *
 * Intent records (struct dk__intent): the owner writes what it is about to
 * change (op and arguments, then its pid; release order) right after taking
 * the lock and clears op before unlocking; the repairer reads it. op 0: no
 * change in flight. The meaning of op and a..c belongs to the structure.
 */
#ifndef DK_CORE_PSHARED_H
#define DK_CORE_PSHARED_H

#include <pthread.h>
#include <stdint.h>

#define DK__PLOCK_REPAIR 1

int dk__mutex_init_pshared(pthread_mutex_t *m);
int dk__pmutex_lock(pthread_mutex_t *m);
/* The same without waiting: -EBUSY when another thread holds m. */
int dk__pmutex_trylock(pthread_mutex_t *m);
void dk__pmutex_consistent(pthread_mutex_t *m);

/*
 * The calling process's pid, without a system call (glibc's getpid() is
 * one, and an intent record is written per block a thread cache gives
 * back): read once per process, read again in the child after a fork()
 * (pthread_atfork). Any thread; a child made by a raw clone() without
 * fork() is not covered (dmakit makes none).
 */
int32_t dk__self_pid(void);

struct dk__intent {
	uint32_t op;
	int32_t pid;
	uint64_t a, b, c;
};

/* Record that op (with a, b, c) starts: written before the change. */
/*
 * Order this thread's stores before the fence ahead of its stores after it,
 * as another process sees them, also one that looks after this process
 * died (an intent record must be in memory before the change it announces).
 * x86 keeps stores in program order (TSO): a compiler barrier is enough
 * there, and costs nothing; elsewhere a full fence.
 */
static inline void dk__store_fence(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

void dk__intent_begin(struct dk__intent *in, uint32_t op, uint64_t a, uint64_t b, uint64_t c);
/* Record that the change is complete (op 0), after its last store. */
void dk__intent_end(struct dk__intent *in);

#endif
