/* SPDX-License-Identifier: BSD-3-Clause */
/* DMA memory follows the containers (contract: src/vfio/vfio_mem.h). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <dmakit/memory.h>
#include <dmakit/vfio.h>

#include "vfio/vfio_mem.h"

#define DK_LOG_COMPONENT "vfio"
#include "core/log_internal.h"

#define EVENT_NAME "dmakit-vfio-dma"

struct map {
	uint64_t va, iova, len;
	int user;
};

struct ctab {
	struct dk_vfio_container *c;
	struct map *m; /* sorted by va */
	unsigned int n, cap;
	struct ctab *next;
};

/* An IOVA-contiguous run of memory to map. */
struct run {
	uint64_t va, iova, len;
};

struct runs {
	struct run *r;
	unsigned int n, cap;
	int oom;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ctab *g_tabs;
static int g_cb_registered;

static void runs_add(struct runs *rs, uint64_t va, uint64_t iova, uint64_t len)
{
	if (rs->n == rs->cap) {
		unsigned int cap = rs->cap ? 2 * rs->cap : 16;
		struct run *r = realloc(rs->r, cap * sizeof(*r));
		if (!r) {
			rs->oom = 1;
			return;
		}
		rs->r = r;
		rs->cap = cap;
	}
	rs->r[rs->n++] = (struct run){va, iova, len};
}

/* ---- tables (g_lock held) ------------------------------------------------ */

static struct ctab *tab_of(const struct dk_vfio_container *c)
{
	for (struct ctab *t = g_tabs; t; t = t->next)
		if (t->c == c)
			return t;
	return NULL;
}

static int tab_insert(struct ctab *t, struct map m)
{
	if (t->n == t->cap) {
		unsigned int cap = t->cap ? 2 * t->cap : 32;
		struct map *nm = realloc(t->m, cap * sizeof(*nm));
		if (!nm)
			return -ENOMEM;
		t->m = nm;
		t->cap = cap;
	}
	unsigned int i = t->n;
	while (i > 0 && t->m[i - 1].va > m.va)
		i--;
	memmove(&t->m[i + 1], &t->m[i], (t->n - i) * sizeof(t->m[0]));
	t->m[i] = m;
	t->n++;
	return 0;
}

static void tab_remove(struct ctab *t, unsigned int i)
{
	memmove(&t->m[i], &t->m[i + 1], (t->n - i - 1) * sizeof(t->m[0]));
	t->n--;
}

static int overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Map one piece and record it. */
static int map_piece(struct ctab *t, uint64_t va, uint64_t iova, uint64_t len, int user)
{
	int rc = dk_vfio_dma_map(t->c, (const void *)(uintptr_t)va, iova, len);
	if (rc < 0)
		return rc;
	rc = tab_insert(t, (struct map){va, iova, len, user});
	if (rc < 0) {
		dk_vfio_dma_unmap(t->c, iova, len);
		DK_ERR("no memory to track a DMA mapping of %" PRIu64 " bytes: free memory", len);
	}
	return rc;
}

/* Map the parts of run r that no mapping of t covers yet (by VA). */
static int map_uncovered(struct ctab *t, const struct run *r)
{
	uint64_t cur = r->va, end = r->va + r->len;
	for (unsigned int i = 0; i < t->n && cur < end; i++) {
		uint64_t mva = t->m[i].va, mlen = t->m[i].len; /* map_piece moves the array */
		if (mva + mlen <= cur)
			continue;
		if (mva >= end)
			break;
		if (mva > cur) {
			int rc = map_piece(t, cur, r->iova + (cur - r->va), mva - cur, 0);
			if (rc < 0)
				return rc;
			i++; /* the piece went in before this mapping */
		}
		cur = mva + mlen;
	}
	if (cur < end)
		return map_piece(t, cur, r->iova + (cur - r->va), end - cur, 0);
	return 0;
}

/* Unmap the heap mappings of t inside [va, va+len); a mapping reaching
 * outside is unmapped whole and its outer parts are mapped again. */
static void unmap_range(struct ctab *t, uint64_t va, uint64_t len)
{
	for (unsigned int i = 0; i < t->n;) {
		struct map m = t->m[i];
		if (m.user || !overlap(m.va, m.len, va, len)) {
			i++;
			continue;
		}
		int rc = dk_vfio_dma_unmap(t->c, m.iova, m.len);
		if (rc < 0)
			DK_WARN("unmapping IOVA [%#" PRIx64 ", +%#" PRIx64 ") failed (%s): the device may still reach that memory",
				m.iova, m.len, strerror(-rc));
		tab_remove(t, i);
		if (m.va < va)
			map_piece(t, m.va, m.iova, va - m.va, 0);
		if (m.va + m.len > va + len)
			map_piece(t, va + len, m.iova + (va + len - m.va), m.va + m.len - (va + len),
				  0);
		i = 0; /* the table changed: start over (few entries overlap) */
	}
}

/* ---- what to map --------------------------------------------------------- */

/* The IOVA-contiguous runs with IOVAs inside [va, va+len). */
static void runs_of(const void *va, size_t len, struct runs *rs)
{
	uintptr_t p = (uintptr_t)va, end = p + len;
	while (p < end && !rs->oom) {
		void *start;
		size_t clen;
		dk_iova_t iova;
		if (dk_mem_contig_chunk((void *)p, &start, &clen, &iova) < 0) {
			struct dk_memseg ms;
			if (dk_mem_virt2memseg((void *)p, &ms) < 0 || !ms.len)
				return; /* not in the layout at all */
			p = (uintptr_t)ms.addr + ms.len;
			continue;
		}
		uintptr_t cend = (uintptr_t)start + clen;
		if (cend > end)
			cend = end;
		runs_add(rs, p, iova + (p - (uintptr_t)start), cend - p);
		p = cend;
	}
}

static int walk_cb(const struct dk_memseg *first, size_t len, void *arg)
{
	if (first->iova != DK_BAD_IOVA)
		runs_add(arg, (uintptr_t)first->addr, first->iova, len);
	return 0;
}

static void on_event(enum dk_mem_event ev, const void *va, size_t len, void *arg)
{
	(void)arg;
	struct runs rs = {0};
	if (ev == DK_MEM_EVENT_ALLOC) {
		runs_of(va, len, &rs);
		if (rs.oom)
			DK_ERR("no memory to plan the DMA mapping of [%p, +%zu): devices cannot reach it",
			       va, len);
	}
	pthread_mutex_lock(&g_lock);
	for (struct ctab *t = g_tabs; t; t = t->next) {
		if (ev == DK_MEM_EVENT_FREE) {
			unmap_range(t, (uintptr_t)va, len);
			continue;
		}
		for (unsigned int i = 0; i < rs.n; i++) {
			if (map_uncovered(t, &rs.r[i]) < 0) {
				/* Nothing half-mapped: take back what this event mapped. */
				unmap_range(t, (uintptr_t)va, len);
				break;
			}
		}
	}
	pthread_mutex_unlock(&g_lock);
	free(rs.r);
}

/* ---- entry points -------------------------------------------------------- */

int dk__vfio_mem_container_ready(struct dk_vfio_container *c)
{
	pthread_mutex_lock(&g_lock);
	/* Registered until dk__vfio_mem_cleanup (every teardown of the library
	 * runs it before the memory layer drops its callbacks). */
	if (!g_cb_registered) {
		int reg = dk_mem_event_callback_register(EVENT_NAME, on_event, NULL);
		if (reg < 0) {
			pthread_mutex_unlock(&g_lock);
			DK_ERR("cannot follow memory events (%s): heap memory will not be DMA-mapped",
			       strerror(-reg));
			return reg;
		}
		g_cb_registered = 1;
	}
	struct ctab *t = tab_of(c);
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t) {
			pthread_mutex_unlock(&g_lock);
			return -ENOMEM;
		}
		t->c = c;
		t->next = g_tabs;
		g_tabs = t;
	}
	pthread_mutex_unlock(&g_lock);

	/* What exists already (events cover what comes from now on; the table
	 * skips what an event mapped meanwhile). */
	struct runs rs = {0};
	dk_memseg_contig_walk(walk_cb, &rs);
	int rc = rs.oom ? -ENOMEM : 0;
	pthread_mutex_lock(&g_lock);
	t = tab_of(c);
	for (unsigned int i = 0; t && i < rs.n && rc == 0; i++)
		rc = map_uncovered(t, &rs.r[i]);
	pthread_mutex_unlock(&g_lock);
	free(rs.r);
	return rc;
}

void dk__vfio_mem_container_gone(struct dk_vfio_container *c)
{
	pthread_mutex_lock(&g_lock);
	for (struct ctab **pp = &g_tabs; *pp; pp = &(*pp)->next) {
		if ((*pp)->c == c) {
			struct ctab *t = *pp;
			*pp = t->next;
			free(t->m);
			free(t);
			break;
		}
	}
	pthread_mutex_unlock(&g_lock);
}

void dk__vfio_mem_cleanup(void)
{
	pthread_mutex_lock(&g_lock);
	if (g_cb_registered)
		dk_mem_event_callback_unregister(EVENT_NAME, NULL);
	g_cb_registered = 0;
	while (g_tabs) {
		struct ctab *t = g_tabs;
		g_tabs = t->next;
		free(t->m);
		free(t);
	}
	pthread_mutex_unlock(&g_lock);
}

int dk__vfio_mem_user_map(struct dk_vfio_container *c, const void *va, uint64_t iova,
			  uint64_t len)
{
	pthread_mutex_lock(&g_lock);
	struct ctab *t = tab_of(c);
	int rc = 0;
	if (!t) {
		DK_ERR("DMA map of [%p, +%#" PRIx64 "): the device's container has no IOMMU yet: open the device through VFIO first",
		       va, len);
		rc = -ENXIO;
	}
	for (unsigned int i = 0; t && i < t->n && rc == 0; i++) {
		const struct map *m = &t->m[i];
		if (len && (overlap(m->va, m->len, (uintptr_t)va, len) ||
			    overlap(m->iova, m->len, iova, len))) {
			DK_ERR("DMA map of VA [%p, +%#" PRIx64 ") at IOVA %#" PRIx64
			       ": overlaps the %s mapping VA %#" PRIx64 " IOVA [%#" PRIx64
			       ", +%#" PRIx64 "): unmap it first, or map another range (heap memory is mapped already)",
			       va, len, iova, m->user ? "application's" : "heap's", m->va, m->iova,
			       m->len);
			rc = -EEXIST;
		}
	}
	if (rc == 0)
		rc = map_piece(t, (uintptr_t)va, iova, len, 1);
	pthread_mutex_unlock(&g_lock);
	return rc;
}

int dk__vfio_mem_user_unmap(struct dk_vfio_container *c, const void *va, uint64_t iova,
			    uint64_t len)
{
	pthread_mutex_lock(&g_lock);
	struct ctab *t = tab_of(c);
	int rc = -ENOENT;
	for (unsigned int i = 0; t && i < t->n; i++) {
		const struct map *m = &t->m[i];
		if (m->user && m->va == (uintptr_t)va && m->iova == iova && m->len == len) {
			rc = dk_vfio_dma_unmap(c, iova, len);
			if (rc == 0)
				tab_remove(t, i);
			break;
		}
	}
	if (rc == -ENOENT)
		DK_ERR("DMA unmap of VA [%p, +%#" PRIx64 ") at IOVA %#" PRIx64
		       ": no such mapping made with dk_dev_dma_map: pass the same va, iova and len",
		       va, len, iova);
	pthread_mutex_unlock(&g_lock);
	return rc;
}

unsigned int dk__vfio_mem_count(const struct dk_vfio_container *c)
{
	pthread_mutex_lock(&g_lock);
	struct ctab *t = tab_of(c);
	unsigned int n = t ? t->n : 0;
	pthread_mutex_unlock(&g_lock);
	return n;
}
