/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Memzones: named heap blocks in a fixed table (dmakit/memzone.h). The table
 * is one struct, part of the memory layer's shared state (mem_config.h).
 * Lookups scan the table: memzones are few and looked up at set-up time.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <dmakit/memzone.h>

#include "core/pshared.h"
#include "mem/mem_config.h"
#include "mem/mem_init.h"

#define DK_LOG_COMPONENT "memzone"
#include "core/log_internal.h"

#define DK__MEMZONE_DEFAULT_ALIGN 64u

/* The memzone table: part of the memory layer's shared state (mem_config.h). */
static inline struct dk__memzone_table *zt(void)
{
	return &dk__mem_sh->memzones;
}

void dk__memzone_table_init(struct dk__memzone_table *t)
{
	memset(t, 0, sizeof(*t));
	dk__mutex_init_pshared(&t->lock);
}

static int check_name(const char *name, const char *what)
{
	size_t len = name ? strnlen(name, DK_MEMZONE_NAME_MAX) : 0;
	if (len == 0 || len >= DK_MEMZONE_NAME_MAX) {
		DK_ERR("%s: memzone name %s: use 1..%d characters", what,
		       !name ? "is NULL" : len ? "is too long" : "is empty", DK_MEMZONE_NAME_MAX - 1);
		return -EINVAL;
	}
	return 0;
}

static int find_locked(const char *name)
{
	for (unsigned int i = 0; i < DK_MAX_MEMZONES; i++)
		if (zt()->used[i] && strcmp(zt()->zones[i].name, name) == 0)
			return (int)i;
	return -1;
}

const struct dk_memzone *dk_memzone_reserve(const char *name, size_t len, int socket,
					    unsigned int flags, unsigned int align)
{
	if (check_name(name, "dk_memzone_reserve") < 0) {
		errno = EINVAL;
		return NULL;
	}
	if (len == 0 || (align & (align - 1)) || (flags & ~DK_MEMZONE_IOVA_CONTIG)) {
		DK_ERR("dk_memzone_reserve(\"%s\"): %s", name,
		       len == 0 ? "length 0" : flags & ~DK_MEMZONE_IOVA_CONTIG ? "unknown flags"
										  : "align must be 0 or a power of two");
		errno = EINVAL;
		return NULL;
	}
	if (!align)
		align = DK__MEMZONE_DEFAULT_ALIGN;
	pthread_mutex_lock(&zt()->lock);
	if (find_locked(name) >= 0) {
		pthread_mutex_unlock(&zt()->lock);
		DK_ERR("dk_memzone_reserve: memzone \"%s\" exists: look it up with dk_memzone_lookup",
		       name);
		errno = EEXIST;
		return NULL;
	}
	int slot = -1;
	for (unsigned int i = 0; i < DK_MAX_MEMZONES && slot < 0; i++)
		if (!zt()->used[i])
			slot = (int)i;
	if (slot < 0) {
		pthread_mutex_unlock(&zt()->lock);
		DK_ERR("dk_memzone_reserve(\"%s\"): all %d memzones are in use", name,
		       DK_MAX_MEMZONES);
		errno = ENOSPC;
		return NULL;
	}
	void *p = dk_malloc_flags(name, len, align, 0, socket, flags);
	if (!p) {
		int err = errno;
		pthread_mutex_unlock(&zt()->lock);
		DK_ERR("dk_memzone_reserve(\"%s\"): cannot allocate %zu bytes on socket %d: %s", name,
		       len, socket, strerror(err));
		errno = err;
		return NULL;
	}
	struct dk_memzone *mz = &zt()->zones[slot];
	memset(mz, 0, sizeof(*mz));
	snprintf(mz->name, sizeof(mz->name), "%s", name);
	mz->addr = p;
	mz->iova = dk_malloc_virt2iova(p);
	mz->len = len;
	struct dk_memseg ms;
	mz->socket_id = dk_mem_virt2memseg(p, &ms) == 0 ? ms.socket_id : socket;
	mz->flags = flags;
	zt()->used[slot] = 1;
	zt()->n++;
	pthread_mutex_unlock(&zt()->lock);
	return mz;
}

const struct dk_memzone *dk_memzone_lookup(const char *name)
{
	if (check_name(name, "dk_memzone_lookup") < 0) {
		errno = EINVAL;
		return NULL;
	}
	pthread_mutex_lock(&zt()->lock);
	int i = find_locked(name);
	pthread_mutex_unlock(&zt()->lock);
	if (i < 0) {
		errno = ENOENT;
		return NULL;
	}
	return &zt()->zones[i];
}

int dk_memzone_free(const struct dk_memzone *mz)
{
	if (!mz)
		return -EINVAL;
	/* Compare addresses, not element indexes: mz may point anywhere. */
	uintptr_t off = (uintptr_t)mz - (uintptr_t)zt()->zones;
	size_t i = off / sizeof(zt()->zones[0]);
	pthread_mutex_lock(&zt()->lock);
	if ((uintptr_t)mz < (uintptr_t)zt()->zones || off % sizeof(zt()->zones[0]) ||
	    i >= DK_MAX_MEMZONES || !zt()->used[i]) {
		pthread_mutex_unlock(&zt()->lock);
		DK_ERR("dk_memzone_free(%p): not a live memzone (freed twice?)", (const void *)mz);
		return -ENOENT;
	}
	void *p = zt()->zones[i].addr;
	zt()->used[i] = 0;
	zt()->n--;
	memset(&zt()->zones[i], 0, sizeof(zt()->zones[i]));
	pthread_mutex_unlock(&zt()->lock);
	dk_free(p);
	return 0;
}

int dk_memzone_walk(int (*fn)(const struct dk_memzone *mz, void *arg), void *arg)
{
	if (!fn)
		return -EINVAL;
	/* Indexes under the lock; calls without it: callbacks may reserve,
	 * free, or walk again. */
	unsigned short idx[DK_MAX_MEMZONES];
	unsigned int n = 0;
	pthread_mutex_lock(&zt()->lock);
	for (unsigned int i = 0; i < DK_MAX_MEMZONES; i++)
		if (zt()->used[i])
			idx[n++] = (unsigned short)i;
	pthread_mutex_unlock(&zt()->lock);
	int rc = 0;
	for (unsigned int i = 0; i < n && rc == 0; i++)
		if (zt()->used[idx[i]])
			rc = fn(&zt()->zones[idx[i]], arg);
	return rc;
}

void dk__memzone_cleanup(void)
{
	pthread_mutex_lock(&zt()->lock);
	memset(zt()->zones, 0, sizeof(zt()->zones));
	memset(zt()->used, 0, sizeof(zt()->used));
	zt()->n = 0;
	pthread_mutex_unlock(&zt()->lock);
}
