/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Memory event callbacks (contracts: dmakit/memory.h, src/mem/mem_event.h).
 *
 * A fixed table of DK__MEM_EVENT_MAX callbacks in registration order under
 * one mutex. Firing copies the table under the mutex and calls the copy with
 * no lock held, so a callback may register or unregister callbacks (the
 * change applies from the next event) and may look up IOVAs or walk.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <dmakit/memory.h>

#include "mem/mem_event.h"

#define DK_LOG_COMPONENT "mem"
#include "core/log_internal.h"

#define DK__MEM_EVENT_MAX      64
#define DK__MEM_EVENT_NAME_MAX 32 /* with the NUL */

struct cb {
	char name[DK__MEM_EVENT_NAME_MAX];
	dk_mem_event_fn fn;
	void *arg;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cb g_cbs[DK__MEM_EVENT_MAX];
static unsigned int g_n;

int dk_mem_event_callback_register(const char *name, dk_mem_event_fn fn, void *arg)
{
	size_t len = name ? strnlen(name, DK__MEM_EVENT_NAME_MAX) : 0;
	if (!name || len == 0 || len >= DK__MEM_EVENT_NAME_MAX || !fn) {
		DK_ERR("dk_mem_event_callback_register: %s: give a name of 1 to %d characters and a function",
		       !fn        ? "NULL function"
		       : !name    ? "NULL name"
		       : len == 0 ? "empty name"
		       : "name too long",
		       DK__MEM_EVENT_NAME_MAX - 1);
		return -EINVAL;
	}
	int rc = 0;
	pthread_mutex_lock(&g_lock);
	for (unsigned int i = 0; i < g_n; i++) {
		if (strcmp(g_cbs[i].name, name) == 0) {
			rc = -EEXIST;
			break;
		}
	}
	if (rc == 0 && g_n == DK__MEM_EVENT_MAX)
		rc = -ENOSPC;
	if (rc == 0) {
		memcpy(g_cbs[g_n].name, name, len + 1);
		g_cbs[g_n].fn = fn;
		g_cbs[g_n].arg = arg;
		g_n++;
	}
	pthread_mutex_unlock(&g_lock);
	if (rc == -EEXIST)
		DK_ERR("dk_mem_event_callback_register: a callback named \"%s\" is registered already: unregister it first or pick another name",
		       name);
	else if (rc == -ENOSPC)
		DK_ERR("dk_mem_event_callback_register(\"%s\"): all %d callback slots are taken: unregister callbacks that are no longer needed",
		       name, DK__MEM_EVENT_MAX);
	return rc;
}

int dk_mem_event_callback_unregister(const char *name, void *arg)
{
	if (!name) {
		DK_ERR("dk_mem_event_callback_unregister: NULL name: give the name used to register");
		return -ENOENT;
	}
	int rc = -ENOENT;
	pthread_mutex_lock(&g_lock);
	for (unsigned int i = 0; i < g_n; i++) {
		if (strcmp(g_cbs[i].name, name) == 0 && g_cbs[i].arg == arg) {
			memmove(&g_cbs[i], &g_cbs[i + 1], (g_n - i - 1) * sizeof(g_cbs[0]));
			g_n--;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&g_lock);
	if (rc < 0)
		DK_ERR("dk_mem_event_callback_unregister: no callback \"%s\" with arg %p is registered: pass the name and arg given to register",
		       name, arg);
	return rc;
}

void dk__mem_event_fire(enum dk_mem_event ev, const void *va, size_t len)
{
	struct cb snap[DK__MEM_EVENT_MAX];
	pthread_mutex_lock(&g_lock);
	unsigned int n = g_n;
	memcpy(snap, g_cbs, n * sizeof(snap[0]));
	pthread_mutex_unlock(&g_lock);
	for (unsigned int i = 0; i < n; i++)
		snap[i].fn(ev, va, len, snap[i].arg);
}

void dk__mem_event_cleanup(void)
{
	pthread_mutex_lock(&g_lock);
	memset(g_cbs, 0, sizeof(g_cbs));
	g_n = 0;
	pthread_mutex_unlock(&g_lock);
}
