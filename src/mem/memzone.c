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
#include "mem/heap.h"
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

/* Intent records of the table lock: a reservation into slot a; a free of
 * slot a whose block is b (c: 1 once the block went back to its heap). The
 * slot's addr is the block's only record: dk__malloc_to sets it and
 * dk__free_from clears it under the heap lock (heap.h). */
enum { MZ_RESERVE = 1, MZ_FREE = 2 };

/*
 * The previous owner of the table lock died. A reservation it made is
 * undone unless the slot was marked used (its block, when it got one, goes
 * back); a free it made is finished (its block goes back unless it already
 * did). dk__free_from settles both: after the heap's own repair, the slot's
 * addr names the block if and only if the block is still live.
 */
static void zt_repair(void)
{
	struct dk__intent *in = &zt()->intent;
	uint32_t op = __atomic_load_n(&in->op, __ATOMIC_ACQUIRE);
	DK_WARN("process %d died while changing the memzone table: repairing it", (int)in->pid);
	if (in->a < DK_MAX_MEMZONES) {
		struct dk_memzone *mz = &zt()->zones[in->a];
		if (op == MZ_RESERVE && !zt()->used[in->a]) {
			dk__free_from(&mz->addr, "memzone repair");
			memset(mz, 0, sizeof(*mz));
		} else if (op == MZ_FREE) {
			dk__free_from(&mz->addr, "memzone repair");
			zt()->used[in->a] = 0;
			memset(mz, 0, sizeof(*mz));
		}
	}
	unsigned int n = 0;
	for (unsigned int i = 0; i < DK_MAX_MEMZONES; i++)
		n += zt()->used[i] != 0;
	zt()->n = n;
	dk__intent_end(in);
}

static void zt_lock(void)
{
	if (dk__pmutex_lock(&zt()->lock) == DK__PLOCK_REPAIR) {
		zt_repair();
		dk__pmutex_consistent(&zt()->lock);
	}
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
	zt_lock();
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
	struct dk_memzone *mz = &zt()->zones[slot];
	memset(mz, 0, sizeof(*mz));
	dk__intent_begin(&zt()->intent, MZ_RESERVE, (uint64_t)slot, 0, 0);
	void *p = dk__malloc_to(&mz->addr, len, align, socket, flags);
	DK__MEM_TEST_POINT("memzone_reserve");
	if (!p) {
		int err = errno;
		dk__intent_end(&zt()->intent);
		pthread_mutex_unlock(&zt()->lock);
		DK_ERR("dk_memzone_reserve(\"%s\"): cannot allocate %zu bytes on socket %d: %s", name,
		       len, socket, strerror(err));
		errno = err;
		return NULL;
	}
	snprintf(mz->name, sizeof(mz->name), "%s", name);
	mz->iova = dk_malloc_virt2iova(p);
	mz->len = len;
	struct dk_memseg ms;
	mz->socket_id = dk_mem_virt2memseg(p, &ms) == 0 ? ms.socket_id : socket;
	mz->flags = flags;
	zt()->used[slot] = 1;
	zt()->n++;
	dk__intent_end(&zt()->intent);
	pthread_mutex_unlock(&zt()->lock);
	return mz;
}

const struct dk_memzone *dk_memzone_lookup(const char *name)
{
	if (check_name(name, "dk_memzone_lookup") < 0) {
		errno = EINVAL;
		return NULL;
	}
	zt_lock();
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
	zt_lock();
	if ((uintptr_t)mz < (uintptr_t)zt()->zones || off % sizeof(zt()->zones[0]) ||
	    i >= DK_MAX_MEMZONES || !zt()->used[i]) {
		pthread_mutex_unlock(&zt()->lock);
		DK_ERR("dk_memzone_free(%p): not a live memzone (freed twice?)", (const void *)mz);
		return -ENOENT;
	}
	/* The block goes back under the lock (table lock -> heap lock, as in
	 * reserve), so a repair knows whether it did. */
	void *p = zt()->zones[i].addr;
	dk__intent_begin(&zt()->intent, MZ_FREE, i, (uintptr_t)p, 0);
	dk__free_from(&zt()->zones[i].addr, "dk_memzone_free");
	__atomic_store_n(&zt()->intent.c, 1, __ATOMIC_RELEASE);
	zt()->used[i] = 0;
	zt()->n--;
	memset(&zt()->zones[i], 0, sizeof(zt()->zones[i]));
	dk__intent_end(&zt()->intent);
	pthread_mutex_unlock(&zt()->lock);
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
	zt_lock();
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
	zt_lock();
	memset(zt()->zones, 0, sizeof(zt()->zones));
	memset(zt()->used, 0, sizeof(zt()->used));
	zt()->n = 0;
	pthread_mutex_unlock(&zt()->lock);
}
