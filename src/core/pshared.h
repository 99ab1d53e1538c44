/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Locks that live in memory shared by the processes of an instance (the
 * memory config file): initialised PTHREAD_PROCESS_SHARED. The same calls
 * serve process-private copies of those structs.
 * Return 0 or a negative errno of pthread_*_init.
 */
#ifndef DK_CORE_PSHARED_H
#define DK_CORE_PSHARED_H

#include <pthread.h>

int dk__mutex_init_pshared(pthread_mutex_t *m);
int dk__rwlock_init_pshared(pthread_rwlock_t *l);

#endif
