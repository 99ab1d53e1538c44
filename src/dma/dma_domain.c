/* SPDX-License-Identifier: BSD-3-Clause */
/* DMA domains: memory follows the containers (contract: src/dma/dma_domain.h). */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <dmakit/dma.h>
#include <dmakit/memory.h>
#include <dmakit/vfio.h>

#include "core/lock_assert.h"
#include "dma/dma_domain.h"
#include "dma/tmap.h"
#include "vfio/vfio_hooks.h"

#define DK_LOG_COMPONENT "dma"
#include "core/log_internal.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE ((uint64_t)1 << PAGE_SHIFT)

struct mapping {
	uint64_t va, iova, len;
	int user; /* dk_dev_dma_map's, not the heaps' */
	struct mapping *prev, *next;
};

struct domain {
	struct dk_vfio_container *c;
	struct dk_tmap *map; /* VA page -> struct mapping * (0: none) */
	struct mapping *head;
	unsigned int n;
	struct domain *next;
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
static struct domain *g_domains;

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

/* ---- mappings (g_lock held) ---------------------------------------------- */

static struct domain *domain_of(const struct dk_vfio_container *c)
{
	for (struct domain *d = g_domains; d; d = d->next)
		if (d->c == c)
			return d;
	return NULL;
}

static struct mapping *mapping_at(const struct domain *d, uint64_t va)
{
	return (struct mapping *)(uintptr_t)dk_tmap_get(d->map, (const void *)(uintptr_t)va);
}

static int overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Map one piece into the container and record it. */
static int map_piece(struct domain *d, uint64_t va, uint64_t iova, uint64_t len, int user)
{
	DK__ASSERT_LOCKED(&g_lock);
	int rc = dk_vfio_dma_map(d->c, (const void *)(uintptr_t)va, iova, len);
	if (rc < 0)
		return rc;
	struct mapping *m = malloc(sizeof(*m));
	rc = m ? dk_tmap_set(d->map, (const void *)(uintptr_t)va, len, (uintptr_t)m) : -ENOMEM;
	if (rc < 0) {
		free(m);
		dk_vfio_dma_unmap(d->c, iova, len);
		DK_ERR("no memory to track a DMA mapping of %" PRIu64 " bytes: free memory", len);
		return rc;
	}
	*m = (struct mapping){va, iova, len, user, NULL, d->head};
	if (d->head)
		d->head->prev = m;
	d->head = m;
	d->n++;
	return 0;
}

static void mapping_drop(struct domain *d, struct mapping *m)
{
	DK__ASSERT_LOCKED(&g_lock);
	assert(d->n > 0 && mapping_at(d, m->va) == m && mapping_at(d, m->va + m->len - 1) == m);
	dk_tmap_clear(d->map, (const void *)(uintptr_t)m->va, m->len);
	if (m->prev)
		m->prev->next = m->next;
	else
		d->head = m->next;
	if (m->next)
		m->next->prev = m->prev;
	d->n--;
	free(m);
}

/* Map the parts of run r that no mapping of d covers yet (by VA). */
static int map_uncovered(struct domain *d, const struct run *r)
{
	uint64_t cur = r->va, end = r->va + r->len;
	while (cur < end) {
		struct mapping *m = mapping_at(d, cur);
		if (m) {
			assert(m->va <= cur && cur - m->va < m->len); /* the map is exact */
			cur = m->va + m->len;
			continue;
		}
		uint64_t next = dk__tmap_next_set(d->map, cur, end);
		int rc = map_piece(d, cur, r->iova + (cur - r->va), next - cur, 0);
		if (rc < 0)
			return rc;
		cur = next;
	}
	return 0;
}

/* Unmap the heap mappings of d inside [va, va+len); a mapping reaching
 * outside is unmapped whole and its outer parts are mapped again. */
static void unmap_range(struct domain *d, uint64_t va, uint64_t len)
{
	uint64_t end = va + len;
	for (uint64_t cur = va; (cur = dk__tmap_next_set(d->map, cur, end)) < end;) {
		struct mapping *m = mapping_at(d, cur);
		assert(m && m->va <= cur && cur - m->va < m->len);
		struct mapping was = *m;
		cur = was.va + was.len;
		if (was.user)
			continue;
		int rc = dk_vfio_dma_unmap(d->c, was.iova, was.len);
		if (rc < 0)
			DK_WARN("unmapping IOVA [%#" PRIx64 ", +%#" PRIx64 ") failed (%s): the device may still reach that memory",
				was.iova, was.len, strerror(-rc));
		mapping_drop(d, m);
		if (was.va < va)
			map_piece(d, was.va, was.iova, va - was.va, 0);
		if (cur > end)
			map_piece(d, end, was.iova + (end - was.va), cur - end, 0);
	}
}

/* ---- what to map ----------------------------------------------------------- */

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

/* The domain's translation map follows memory: this is its notify. */
static int on_event(void *ctx, struct dk_tmap *map, enum dk_mem_event ev, void *va, size_t len)
{
	struct domain *d = ctx;
	struct runs rs = {0};
	int rc = 0;
	if (ev == DK_MEM_EVENT_ALLOC) {
		runs_of(va, len, &rs);
		if (rs.oom) {
			DK_ERR("no memory to plan the DMA mapping of [%p, +%zu): devices cannot reach it",
			       va, len);
			rc = -ENOMEM;
		}
	}
	pthread_mutex_lock(&g_lock);
	d->map = map; /* the creation replay runs before dk_tmap_create returns */
	if (ev == DK_MEM_EVENT_FREE)
		unmap_range(d, (uintptr_t)va, len);
	for (unsigned int i = 0; i < rs.n && rc == 0; i++)
		rc = map_uncovered(d, &rs.r[i]);
	if (rc < 0) /* nothing half-mapped: take back what this event mapped */
		unmap_range(d, (uintptr_t)va, len);
	pthread_mutex_unlock(&g_lock);
	free(rs.r);
	return rc;
}

/* ---- VFIO hooks ------------------------------------------------------------ */

static void domain_free(struct domain *d)
{
	dk_tmap_destroy(d->map); /* no event reaches d after this */
	while (d->head) {
		struct mapping *m = d->head;
		d->head = m->next;
		free(m);
	}
	free(d);
}

static int iommu_ready(struct dk_vfio_container *c)
{
	pthread_mutex_lock(&g_lock);
	int have = domain_of(c) != NULL;
	pthread_mutex_unlock(&g_lock);
	if (have)
		return 0;
	struct domain *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->c = c;
	/* Maps what exists already, then follows memory events. */
	struct dk_tmap *map = dk_tmap_create(PAGE_SHIFT, 0, on_event, d);
	if (!map) {
		int rc = -errno;
		free(d);
		return rc;
	}
	pthread_mutex_lock(&g_lock);
	d->map = map; /* an empty layout replays nothing: on_event did not set it */
	d->next = g_domains;
	g_domains = d;
	pthread_mutex_unlock(&g_lock);
	return 0;
}

static void iommu_gone(struct dk_vfio_container *c)
{
	pthread_mutex_lock(&g_lock);
	struct domain **pp = &g_domains;
	while (*pp && (*pp)->c != c)
		pp = &(*pp)->next;
	struct domain *d = *pp;
	if (d)
		*pp = d->next;
	pthread_mutex_unlock(&g_lock);
	if (d)
		domain_free(d);
}

static const struct dk__vfio_hooks g_hooks = {
	.iommu_ready = iommu_ready,
	.iommu_gone = iommu_gone,
};

void dk__dma_domains_enable(void)
{
	dk__vfio_set_hooks(&g_hooks);
}

void dk__dma_domains_disable(void)
{
	dk__vfio_set_hooks(NULL);
	pthread_mutex_lock(&g_lock);
	struct domain *list = g_domains;
	g_domains = NULL;
	pthread_mutex_unlock(&g_lock);
	while (list) {
		struct domain *d = list;
		list = d->next;
		domain_free(d);
	}
}

/* ---- user mappings ----------------------------------------------------------- */

/* The mapping of d overlapping [va, va+len) in VA or in IOVA, or NULL. */
static const struct mapping *user_conflict(const struct domain *d, uint64_t va, uint64_t iova,
					   uint64_t len)
{
	if (!len)
		return NULL;
	uint64_t first = va & ~(PAGE_SIZE - 1), end = (va + len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	uint64_t hit = dk__tmap_next_set(d->map, first, end);
	if (hit < end)
		return mapping_at(d, hit);
	for (const struct mapping *m = d->head; m; m = m->next)
		if (overlap(m->iova, m->len, iova, len))
			return m;
	return NULL;
}

int dk__dma_domain_user_map(struct dk_vfio_container *c, const void *va, uint64_t iova,
			    uint64_t len)
{
	pthread_mutex_lock(&g_lock);
	struct domain *d = domain_of(c);
	const struct mapping *m = d ? user_conflict(d, (uintptr_t)va, iova, len) : NULL;
	int rc;
	if (!d) {
		DK_ERR("DMA map of [%p, +%#" PRIx64 "): the device's container has no IOMMU yet: open the device through VFIO first",
		       va, len);
		rc = -ENXIO;
	} else if (m) {
		DK_ERR("DMA map of VA [%p, +%#" PRIx64 ") at IOVA %#" PRIx64
		       ": overlaps the %s mapping VA %#" PRIx64 " IOVA [%#" PRIx64
		       ", +%#" PRIx64 "): unmap it first, or map another range (heap memory is mapped already)",
		       va, len, iova, m->user ? "application's" : "heap's", m->va, m->iova, m->len);
		rc = -EEXIST;
	} else {
		rc = map_piece(d, (uintptr_t)va, iova, len, 1);
	}
	pthread_mutex_unlock(&g_lock);
	return rc;
}

int dk__dma_domain_user_unmap(struct dk_vfio_container *c, const void *va, uint64_t iova,
			      uint64_t len)
{
	pthread_mutex_lock(&g_lock);
	struct domain *d = domain_of(c);
	struct mapping *m = d ? mapping_at(d, (uintptr_t)va) : NULL;
	int rc = -ENOENT;
	if (m && m->user && m->va == (uintptr_t)va && m->iova == iova && m->len == len) {
		rc = dk_vfio_dma_unmap(c, iova, len);
		if (rc == 0)
			mapping_drop(d, m);
	}
	if (rc == -ENOENT)
		DK_ERR("DMA unmap of VA [%p, +%#" PRIx64 ") at IOVA %#" PRIx64
		       ": no such mapping made with dk_dev_dma_map: pass the same va, iova and len",
		       va, len, iova);
	pthread_mutex_unlock(&g_lock);
	return rc;
}

int dk__dma_domain_lookup(struct dk_vfio_container *c, const void *va, uint64_t len,
			  uint64_t *iova)
{
	uint64_t a = (uint64_t)(uintptr_t)va;
	pthread_mutex_lock(&g_lock);
	struct domain *d = domain_of(c);
	const struct mapping *m = d ? mapping_at(d, a) : NULL;
	int rc = !d ? -ENXIO : m && len - 1 < m->va + m->len - a ? 0 : -ENOENT;
	if (rc == 0)
		*iova = m->iova + (a - m->va);
	pthread_mutex_unlock(&g_lock);
	return rc;
}

unsigned int dk__dma_domain_count(const struct dk_vfio_container *c)
{
	pthread_mutex_lock(&g_lock);
	struct domain *d = domain_of(c);
	unsigned int n = d ? d->n : 0;
	pthread_mutex_unlock(&g_lock);
	return n;
}
