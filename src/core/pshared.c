/* SPDX-License-Identifier: BSD-3-Clause */
/* Process-shared locks (contract: src/core/pshared.h). */
#include "core/pshared.h"

int dk__mutex_init_pshared(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	int rc = -pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	return rc;
}

int dk__rwlock_init_pshared(pthread_rwlock_t *l)
{
	pthread_rwlockattr_t a;
	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	int rc = -pthread_rwlock_init(l, &a);
	pthread_rwlockattr_destroy(&a);
	return rc;
}
