/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Translation maps (contract: dmakit/dma.h; internals: src/dma/tmap.h).
 *
 * A map is a VA radix (src/mem/va_radix.h) whose every published window
 * has its own slot covering the whole window, with a table of one entry per
 * page holding value ^ default (so a fresh zero-filled table reads as the
 * default). Windows are created on the first set and live until the map is
 * destroyed.
 *
 * Maps with a notify function are kept in a list in creation order; one
 * memory-event callback, registered while the list is not empty, hands each
 * event to every map of the list under g_follow_lock (which therefore
 * serialises all notify calls, creation replays included).
 *
 * Lock order: g_follow_lock, then a map's lock; notify functions may take
 * what their owners document below that (dma_domain.c: its lock, then a
 * container's).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmakit/dma.h>

#include "dma/tmap.h"
#include "mem/va_radix.h"

#define DK_LOG_COMPONENT "dma"
#include "core/log_internal.h"

#define EVENT_NAME "dmakit-tmap"

struct window {
	struct dk__iova_slot slot; /* first: the radix points here */
	struct window *next;
};

struct dk_tmap {
	struct dk__tmap_head head; /* first: read by dk_tmap_get */
	unsigned int page_shift;
	pthread_mutex_t lock; /* set, clear, window creation */
	struct window *windows;
	dk_tmap_notify_fn notify;
	void *ctx;
	struct dk_tmap *next_follow;
};

static pthread_mutex_t g_follow_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dk_tmap *g_follow; /* creation order */
static int g_cb_registered;

/* ---- windows and values (map lock held) ---------------------------------- */

static size_t table_bytes(const struct dk_tmap *m)
{
	return (DK__VA_WINDOW_SIZE >> m->page_shift) * sizeof(uint64_t);
}

static struct window *window_get(struct dk_tmap *m, size_t w, int create)
{
	const struct dk__iova_slot *s = dk__va_radix_slot(m->head.l1, w << DK__IOVA_L1_SHIFT);
	if (s || !create)
		return (struct window *)(uintptr_t)s;
	struct window *win = calloc(1, sizeof(*win));
	uint64_t *table = win ? dk__va_table_new(table_bytes(m)) : NULL;
	if (!table) {
		free(win);
		return NULL;
	}
	win->slot.base = w << DK__IOVA_L1_SHIFT;
	win->slot.end = win->slot.base + DK__VA_WINDOW_SIZE;
	win->slot.iova = table;
	win->slot.page_shift = m->page_shift;
	win->next = m->windows;
	m->windows = win;
	dk__va_radix_store(m->head.l1, w, &win->slot);
	return win;
}

/* Store (v + k * step) ^ dflt into the k-th page of [a, end) (step 0: one
 * value for all); windows are created when create. */
static int fill(struct dk_tmap *m, uintptr_t a, uintptr_t end, uint64_t v, uint64_t step,
		uint64_t dflt, int create)
{
	while (a < end) {
		size_t w = a >> DK__IOVA_L1_SHIFT;
		uintptr_t wend = (uintptr_t)(w + 1) << DK__IOVA_L1_SHIFT;
		uintptr_t stop = end < wend ? end : wend;
		struct window *win = window_get(m, w, create);
		if (win) {
			uint64_t *t = (uint64_t *)(uintptr_t)win->slot.iova;
			for (uintptr_t p = a; p < stop; p += (uintptr_t)1 << m->page_shift, v += step)
				__atomic_store_n(&t[(p - win->slot.base) >> m->page_shift], v ^ dflt,
						 __ATOMIC_RELEASE);
		} else if (create) {
			DK_ERR("translation map: no memory for the table of VA window %#lx: free memory",
			       (unsigned long)(w << DK__IOVA_L1_SHIFT));
			return -ENOMEM;
		} else {
			v += ((stop - a) >> m->page_shift) * step; /* clear: nothing to skip */
		}
		a = stop;
	}
	return 0;
}

static int range_check(const struct dk_tmap *m, const void *va, size_t len, const char *what)
{
	uintptr_t a = (uintptr_t)va, mask = ((uintptr_t)1 << (m ? m->page_shift : 12)) - 1;
	if (!m || !len || (a & mask) || (len & mask) || a >= DK__VA_LIMIT ||
	    len > DK__VA_LIMIT - a) {
		DK_ERR("%s(%p, +%#zx): %s", what, va, len,
		       !m    ? "NULL map"
		       : !len ? "length 0: give the range to change"
			      : "the range must be page aligned for the map and below 2^47");
		return -EINVAL;
	}
	return 0;
}

int dk_tmap_set(struct dk_tmap *m, const void *va, size_t len, uint64_t value)
{
	int rc = range_check(m, va, len, "dk_tmap_set");
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&m->lock);
	rc = fill(m, (uintptr_t)va, (uintptr_t)va + len, value, 0, m->head.dflt, 1);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int dk__tmap_set_step(struct dk_tmap *m, const void *va, size_t len, uint64_t value,
		      uint64_t step)
{
	int rc = range_check(m, va, len, "dk__tmap_set_step");
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&m->lock);
	rc = fill(m, (uintptr_t)va, (uintptr_t)va + len, value, step, m->head.dflt, 1);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int dk_tmap_clear(struct dk_tmap *m, const void *va, size_t len)
{
	int rc = range_check(m, va, len, "dk_tmap_clear");
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&m->lock);
	fill(m, (uintptr_t)va, (uintptr_t)va + len, m->head.dflt, 0, m->head.dflt, 0);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

unsigned int dk_tmap_page_shift(const struct dk_tmap *m)
{
	return m ? m->page_shift : 0;
}

uintptr_t dk__tmap_next_set(const struct dk_tmap *m, uintptr_t a, uintptr_t end)
{
	uintptr_t page = (uintptr_t)1 << m->page_shift;
	while (a < end) {
		const struct dk__iova_slot *s = dk__va_radix_slot(m->head.l1, a);
		if (!s) { /* an empty window: skip it whole */
			a = ((a >> DK__IOVA_L1_SHIFT) + 1) << DK__IOVA_L1_SHIFT;
			continue;
		}
		if (__atomic_load_n(&s->iova[(a - s->base) >> m->page_shift], __ATOMIC_RELAXED))
			return a;
		a += page;
	}
	return end;
}

/* ---- following memory ---------------------------------------------------- */

static void on_event(enum dk_mem_event ev, const void *va, size_t len, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&g_follow_lock);
	for (struct dk_tmap *m = g_follow; m; m = m->next_follow)
		m->notify(m->ctx, m, ev, (void *)(uintptr_t)va, len);
	pthread_mutex_unlock(&g_follow_lock);
}

/* An IOVA-contiguous run of the layout, for the creation replay. */
struct run {
	void *va;
	size_t len;
};

struct runs {
	struct run *r;
	size_t n, cap;
	int oom;
};

static int collect(const struct dk_memseg *first, size_t len, void *arg)
{
	struct runs *rs = arg;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? 2 * rs->cap : 32;
		struct run *r = realloc(rs->r, cap * sizeof(*r));
		if (!r) {
			rs->oom = 1;
			return -ENOMEM;
		}
		rs->r = r;
		rs->cap = cap;
	}
	rs->r[rs->n++] = (struct run){first->addr, len};
	return 0;
}

/* Notify ALLOC for what the layout holds now (g_follow_lock held); on a
 * failure, FREE for what was notified, in reverse. */
static int replay(struct dk_tmap *m)
{
	struct runs rs = {0};
	int rc = dk_memseg_contig_walk(collect, &rs);
	if (rs.oom)
		DK_ERR("translation map: no memory to list the memory layout: free memory");
	size_t i = 0;
	for (; rc == 0 && i < rs.n; i++)
		rc = m->notify(m->ctx, m, DK_MEM_EVENT_ALLOC, rs.r[i].va, rs.r[i].len);
	if (rc < 0 && i > 0)
		for (size_t k = i - 1; k-- > 0;) /* the failed run itself was not notified */
			m->notify(m->ctx, m, DK_MEM_EVENT_FREE, rs.r[k].va, rs.r[k].len);
	free(rs.r);
	return rc;
}

static int follow(struct dk_tmap *m)
{
	pthread_mutex_lock(&g_follow_lock);
	int rc = 0;
	if (!g_cb_registered) {
		rc = dk_mem_event_callback_register(EVENT_NAME, on_event, NULL);
		g_cb_registered = rc == 0;
	}
	if (rc == 0)
		rc = replay(m);
	if (rc == 0) {
		struct dk_tmap **pp = &g_follow;
		while (*pp)
			pp = &(*pp)->next_follow;
		*pp = m;
	}
	if (rc < 0 && !g_follow && g_cb_registered) {
		dk_mem_event_callback_unregister(EVENT_NAME, NULL);
		g_cb_registered = 0;
	}
	pthread_mutex_unlock(&g_follow_lock);
	return rc;
}

static void unfollow(struct dk_tmap *m)
{
	pthread_mutex_lock(&g_follow_lock);
	struct dk_tmap **pp = &g_follow;
	while (*pp && *pp != m)
		pp = &(*pp)->next_follow;
	if (*pp)
		*pp = m->next_follow;
	if (!g_follow && g_cb_registered) {
		dk_mem_event_callback_unregister(EVENT_NAME, NULL);
		g_cb_registered = 0;
	}
	pthread_mutex_unlock(&g_follow_lock);
}

/* ---- create / destroy ---------------------------------------------------- */

static void map_free(struct dk_tmap *m)
{
	while (m->windows) {
		struct window *w = m->windows;
		m->windows = w->next;
		dk__va_table_free((void *)(uintptr_t)w->slot.iova, table_bytes(m));
		free(w);
	}
	dk__va_radix_free(m->head.l1);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

struct dk_tmap *dk_tmap_create(unsigned int page_shift, uint64_t default_value,
			       dk_tmap_notify_fn notify, void *ctx)
{
	if (page_shift < 12 || page_shift > DK__IOVA_L1_SHIFT) {
		DK_ERR("dk_tmap_create: page shift %u is out of range: use 12 (4 KiB) to 30 (1 GiB)",
		       page_shift);
		errno = EINVAL;
		return NULL;
	}
	struct dk_tmap *m = calloc(1, sizeof(*m));
	if (!m || !(m->head.l1 = dk__va_radix_new())) {
		free(m);
		DK_ERR("dk_tmap_create: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	m->head.dflt = default_value;
	m->page_shift = page_shift;
	m->notify = notify;
	m->ctx = ctx;
	pthread_mutex_init(&m->lock, NULL);
	int rc = notify ? follow(m) : 0;
	if (rc < 0) {
		map_free(m);
		errno = -rc;
		return NULL;
	}
	return m;
}

void dk_tmap_destroy(struct dk_tmap *m)
{
	if (!m)
		return;
	if (m->notify)
		unfollow(m);
	map_free(m);
}

void dk__tmap_cleanup(void)
{
	pthread_mutex_lock(&g_follow_lock);
	for (struct dk_tmap *m = g_follow; m; m = m->next_follow)
		DK_WARN("a translation map still follows memory at dk_cleanup: destroy it first (it sees no more memory events)");
	g_follow = NULL;
	if (g_cb_registered)
		dk_mem_event_callback_unregister(EVENT_NAME, NULL);
	g_cb_registered = 0;
	pthread_mutex_unlock(&g_follow_lock);
}
