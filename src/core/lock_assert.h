/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Debug-build checks of what comments claim about locks (assert(): compiled
 * out with NDEBUG, which meson's b_ndebug sets in release builds). Only for
 * paths that are not hot: a try-lock per check.
 *
 * DK__ASSERT_LOCKED(m): mutex m is held (by someone: a held mutex cannot say
 * by whom). DK__ASSERT_WRLOCKED(l): rwlock l is held for writing (no reader
 * can enter).
 */
#ifndef DK_CORE_LOCK_ASSERT_H
#define DK_CORE_LOCK_ASSERT_H

#include <assert.h>
#include <errno.h>
#include <pthread.h>

#define DK__ASSERT_LOCKED(m)   assert(pthread_mutex_trylock(m) == EBUSY)
#define DK__ASSERT_WRLOCKED(l) assert(pthread_rwlock_tryrdlock(l) != 0)

#endif
