/* SPDX-License-Identifier: BSD-3-Clause */
/* Process-shared locks and intent records (contract: src/core/pshared.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/pshared.h"

#define DK_LOG_COMPONENT "pshared"
#include "core/log_internal.h"

int dk__mutex_init_pshared(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	int rc = -pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	return rc;
}

int dk__pmutex_lock(pthread_mutex_t *m)
{
	int rc = pthread_mutex_lock(m);
	if (rc == 0)
		return 0;
	if (rc == EOWNERDEAD)
		return DK__PLOCK_REPAIR;
	DK_ERR("cannot take a process-shared lock (%s): the structure it guards was left unrepaired; restart the instance (primary and secondaries)",
	       strerror(rc));
	return -rc;
}

int dk__pmutex_trylock(pthread_mutex_t *m)
{
	int rc = pthread_mutex_trylock(m);
	if (rc == 0 || rc == EBUSY)
		return -rc;
	if (rc == EOWNERDEAD)
		return DK__PLOCK_REPAIR;
	DK_ERR("cannot take a process-shared lock (%s): the structure it guards was left unrepaired; restart the instance (primary and secondaries)",
	       strerror(rc));
	return -rc;
}

void dk__pmutex_consistent(pthread_mutex_t *m)
{
	int rc = pthread_mutex_consistent(m);
	if (rc != 0)
		DK_DEBUG("pthread_mutex_consistent: %s", strerror(rc));
}

static int32_t g_self_pid; /* 0: not read yet (or a fork happened since) */
static pthread_once_t g_self_pid_once = PTHREAD_ONCE_INIT;

static void self_pid_forget(void)
{
	__atomic_store_n(&g_self_pid, 0, __ATOMIC_RELAXED);
}

static void self_pid_register(void)
{
	pthread_atfork(NULL, NULL, self_pid_forget);
}

int32_t dk__self_pid(void)
{
	int32_t pid = __atomic_load_n(&g_self_pid, __ATOMIC_RELAXED);
	if (__builtin_expect(pid != 0, 1))
		return pid;
	pthread_once(&g_self_pid_once, self_pid_register);
	pid = (int32_t)getpid();
	__atomic_store_n(&g_self_pid, pid, __ATOMIC_RELAXED);
	return pid;
}

void dk__intent_begin(struct dk__intent *in, uint32_t op, uint64_t a, uint64_t b, uint64_t c)
{
	/* Atomic stores: a reaper reads a record whose lock it does not hold. */
	__atomic_store_n(&in->a, a, __ATOMIC_RELAXED);
	__atomic_store_n(&in->b, b, __ATOMIC_RELAXED);
	__atomic_store_n(&in->c, c, __ATOMIC_RELAXED);
	__atomic_store_n(&in->pid, dk__self_pid(), __ATOMIC_RELAXED);
	__atomic_store_n(&in->op, op, __ATOMIC_RELEASE);
	/* The change's stores must not reach memory before the record. */
	dk__store_fence();
}

void dk__intent_end(struct dk__intent *in)
{
	__atomic_store_n(&in->op, 0, __ATOMIC_RELEASE);
}
