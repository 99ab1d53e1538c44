/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * External heaps (dmakit/malloc.h): heaps over memory the application
 * brought. Each added chunk is an external memseg list (extmem.h) tagged with
 * the heap, zeroed, and given to the heap's allocator as one region.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <dmakit/malloc.h>

#include "mem/extmem.h"
#include "mem/heap.h"
#include "mem/mem_event.h"
#include "mem/memseg.h"

#define DK_LOG_COMPONENT "heap"
#include "core/log_internal.h"

/* Resolve an external heap by name for an operation; logs and returns -errno. */
static int ext_heap(const char *name, const char *what)
{
	int idx = dk__heap_by_name(name, what);
	if (idx == -ENOENT)
		DK_ERR("%s: no heap named \"%s\": create it with dk_heap_create", what, name);
	if (idx < 0)
		return idx;
	if (!dk__heap_at(idx)->external) {
		DK_ERR("%s: \"%s\" is an internal heap: only external heaps take this", what, name);
		return -EPERM;
	}
	return idx;
}

int dk_heap_create(const char *name)
{
	/* The name's checks; whether it is taken is decided under the lock. */
	int idx = dk__heap_by_name(name, "dk_heap_create");
	if (idx < 0 && idx != -ENOENT)
		return idx;
	return dk__heap_ext_new(name);
}

int dk_heap_destroy(const char *name)
{
	int idx = ext_heap(name, "dk_heap_destroy");
	if (idx < 0)
		return idx;
	return dk__heap_ext_free(idx, name);
}

int dk_heap_memory_add(const char *name, void *va, size_t len, const dk_iova_t iova[],
		       unsigned int n_pages, size_t page_sz)
{
	int idx = ext_heap(name, "dk_heap_memory_add");
	if (idx < 0)
		return idx;
	int rc = dk__extmem_check_args("dk_heap_memory_add", va, len, iova, n_pages, page_sz);
	if (rc < 0)
		return rc;
	struct dk__heap *h = dk__heap_at(idx);
	if ((rc = dk__heap_lock(h)) < 0)
		return rc;
	struct dk__memseg_list *l;
	/* The list first: it refuses memory that overlaps known memory, which
	 * must never be zeroed. Nothing can allocate from the chunk before it
	 * is a region of the heap, so zeroing after ALLOC is safe. */
	rc = dk__extmem_add_list(va, len, iova, n_pages, page_sz, h->socket_id,
				 DK_MEMSEG_EXTERNAL | DK_MEMSEG_HEAP, idx, &l);
	if (rc == 0) {
		memset(va, 0, len);
		rc = dk__tlsf_add_region(&h->tlsf, va, len);
		if (rc < 0) {
			DK_ERR("dk_heap_memory_add(\"%s\"): chunk of %zu bytes is too small for a heap region",
			       name, len);
			dk__extmem_remove_list(l);
		} else {
			h->n_chunks++;
		}
	}
	dk__heap_unlock(h);
	return rc;
}

/* The chunk [va, va+len) of heap idx, or NULL (logged). */
static struct dk__memseg_list *heap_chunk(int idx, const char *name, void *va, size_t len,
					  const char *what)
{
	struct dk__memseg_list *l = dk__memseg_list_find_exact((uintptr_t)va, len);
	if (!l || l->heap_idx != idx) {
		DK_ERR("%s(\"%s\"): no chunk [%p, +%zu) in this heap: give exactly a range that was added",
		       what, name, va, len);
		return NULL;
	}
	return l;
}

int dk_heap_memory_remove(const char *name, void *va, size_t len)
{
	int idx = ext_heap(name, "dk_heap_memory_remove");
	if (idx < 0)
		return idx;
	if (!va || !len) {
		DK_ERR("dk_heap_memory_remove(\"%s\"): NULL address or zero length", name);
		return -EINVAL;
	}
	struct dk__heap *h = dk__heap_at(idx);
	int lrc = dk__heap_lock(h);
	if (lrc < 0)
		return lrc;
	struct dk__memseg_list *l = heap_chunk(idx, name, va, len, "dk_heap_memory_remove");
	int rc = -ENOENT;
	if (l) {
		rc = dk__tlsf_remove_region(&h->tlsf, va, len);
		if (rc == -EBUSY)
			DK_ERR("dk_heap_memory_remove(\"%s\"): blocks in [%p, +%zu) are still allocated: free them first",
			       name, va, len);
		if (rc == 0) {
			dk__extmem_remove_list(l);
			h->n_chunks--;
		}
	}
	dk__heap_unlock(h);
	return rc;
}

static int attach_detach(const char *name, void *va, size_t len, int attach)
{
	const char *what = attach ? "dk_heap_memory_attach" : "dk_heap_memory_detach";
	int idx = ext_heap(name, what);
	if (idx < 0)
		return idx;
	if (!va || !len) {
		DK_ERR("%s(\"%s\"): NULL address or zero length", what, name);
		return -EINVAL;
	}
	struct dk__memseg_list *l = heap_chunk(idx, name, va, len, what);
	if (!l)
		return -ENOENT;
	if (attach) {
		if (dk__memseg_list_attached(l)) {
			DK_ERR("%s(\"%s\"): [%p, +%zu) is already attached in this process", what,
			       name, va, len);
			return -EEXIST;
		}
		int rc = dk__memseg_list_attach(l);
		if (rc == 0)
			dk__mem_event_fire(DK_MEM_EVENT_ALLOC, va, len);
		return rc;
	}
	if (!dk__memseg_list_attached(l)) {
		DK_ERR("%s(\"%s\"): [%p, +%zu) is not attached in this process", what, name, va,
		       len);
		return -ENOENT;
	}
	dk__mem_event_fire(DK_MEM_EVENT_FREE, va, len);
	dk__memseg_list_detach(l);
	return 0;
}

int dk_heap_memory_attach(const char *name, void *va, size_t len)
{
	return attach_detach(name, va, len, 1);
}

int dk_heap_memory_detach(const char *name, void *va, size_t len)
{
	return attach_detach(name, va, len, 0);
}

int dk_heap_get_socket(const char *name)
{
	int idx = dk__heap_by_name(name, "dk_heap_get_socket");
	if (idx < 0)
		return idx;
	return dk__heap_at(idx)->socket_id;
}

int dk_heap_socket_is_external(int socket)
{
	int idx = dk__heap_by_socket(socket);
	if (idx < 0)
		return -ENOENT;
	return dk__heap_at(idx)->external;
}
