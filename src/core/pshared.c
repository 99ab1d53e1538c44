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

/* The caller's pid without a system call: a SIGKILL lands mostly where a
 * process enters or leaves the kernel, and a system call between a change
 * and the record announcing it (getpid here) made that window the likeliest
 * place to die. Refreshed in the child of a fork. */
static int32_t g_pid;
static pthread_once_t g_pid_once = PTHREAD_ONCE_INIT;

static void pid_refresh(void)
{
	__atomic_store_n(&g_pid, (int32_t)getpid(), __ATOMIC_RELAXED);
}

static void pid_init(void)
{
	pid_refresh();
	pthread_atfork(NULL, NULL, pid_refresh);
}

void dk__intent_begin(struct dk__intent *in, uint32_t op, uint64_t a, uint64_t b, uint64_t c)
{
	pthread_once(&g_pid_once, pid_init);
	/* Atomic stores: a reaper reads a record whose lock it does not hold. */
	__atomic_store_n(&in->a, a, __ATOMIC_RELAXED);
	__atomic_store_n(&in->b, b, __ATOMIC_RELAXED);
	__atomic_store_n(&in->c, c, __ATOMIC_RELAXED);
	__atomic_store_n(&in->pid, __atomic_load_n(&g_pid, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
	__atomic_store_n(&in->op, op, __ATOMIC_RELEASE);
	/* The change's stores must not reach memory before the record. */
	dk__store_fence();
}

void dk__intent_end(struct dk__intent *in)
{
	__atomic_store_n(&in->op, 0, __ATOMIC_RELEASE);
}
