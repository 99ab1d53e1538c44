/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Registered external memory (dk_extmem_*, contract in dmakit/memory.h) and
 * the external-list helpers heap_ext.c shares (src/mem/extmem.h).
 *
 * dk_extmem_* serialise on one mutex, held while their events fire: memory
 * event callbacks must not register or unregister external memory.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include <dmakit/memory.h>

#include "mem/extmem.h"
#include "core/lock_assert.h"
#include "mem/mem_event.h"
#include "mem/memseg.h"

#define DK_LOG_COMPONENT "extmem"
#include "core/log_internal.h"

#define VA_LIMIT ((uintptr_t)1 << (DK__IOVA_L1_SHIFT + DK__IOVA_L1_BITS))

static pthread_mutex_t g_ext_lock = PTHREAD_MUTEX_INITIALIZER;

int dk__extmem_check_args(const char *what, void *va, size_t len, const dk_iova_t *iova,
			  unsigned int n_pages, size_t page_sz)
{
	if (!va || !len) {
		DK_ERR("%s: %s: give the start and length of the memory", what,
		       !va ? "NULL address" : "zero length");
		return -EINVAL;
	}
	if (page_sz < 4096 || page_sz > ((size_t)1 << 30) || (page_sz & (page_sz - 1))) {
		DK_ERR("%s(%p, %zu): page size %zu is not a power of two from 4096 to 1 GiB: give the size of the pages backing the memory (4096, 2 MiB, 1 GiB)",
		       what, va, len, page_sz);
		return -EINVAL;
	}
	if (((uintptr_t)va & (page_sz - 1)) || (len & (page_sz - 1))) {
		DK_ERR("%s(%p, %zu): address and length must be multiples of the page size %zu: align the memory to its pages (mmap or aligned_alloc)",
		       what, va, len, page_sz);
		return -EINVAL;
	}
	if ((uintptr_t)va >= VA_LIMIT || len > VA_LIMIT - (uintptr_t)va) {
		DK_ERR("%s(%p, %zu): the range ends above 2^47, beyond the IOVA lookup table: use memory below 0x%lx",
		       what, va, len, (unsigned long)VA_LIMIT);
		return -EINVAL;
	}
	if (iova && (size_t)n_pages != len / page_sz) {
		DK_ERR("%s(%p, %zu): the IOVA table has %u entries but the range has %zu pages of %zu bytes: give one IOVA per page",
		       what, va, len, n_pages, len / page_sz, page_sz);
		return -EINVAL;
	}
	return 0;
}

/* Is the table one IOVA-contiguous run (page i at iova[0] + i * page_sz)? */
static int table_contig(const dk_iova_t *iova, unsigned int n, size_t page_sz)
{
	if (iova[0] == DK_BAD_IOVA || iova[0] > UINT64_MAX - (uint64_t)n * page_sz)
		return 0;
	for (unsigned int i = 1; i < n; i++)
		if (iova[i] != iova[0] + (uint64_t)i * page_sz)
			return 0;
	return 1;
}

int dk__extmem_add_list(void *va, size_t len, const dk_iova_t *iova, unsigned int n_pages,
			size_t page_sz, int socket_id, uint32_t flags, int heap_idx,
			struct dk__memseg_list **out)
{
	struct dk__memseg_spec s = {.base = (uintptr_t)va, .len = len, .page_sz = page_sz,
				    .socket_id = socket_id, .flags = flags, .heap_idx = heap_idx};
	if (iova && table_contig(iova, n_pages, page_sz)) {
		s.iova_contig = 1;
		s.delta = (int64_t)(iova[0] - (uintptr_t)va);
	} else {
		s.iova = iova;
	}
	struct dk__memseg_list *l;
	int rc = dk__memseg_list_create(&s, &l);
	if (rc < 0)
		return rc;
	dk__mem_event_fire(DK_MEM_EVENT_ALLOC, va, len);
	if (out)
		*out = l;
	return 0;
}

int dk__extmem_remove_list(struct dk__memseg_list *l)
{
	if (dk__memseg_list_attached(l))
		dk__mem_event_fire(DK_MEM_EVENT_FREE, (void *)l->base, l->len);
	dk__memseg_list_destroy(l);
	return 0;
}

int dk_extmem_register(void *va, size_t len, const dk_iova_t iova[], unsigned int n_pages,
		       size_t page_sz)
{
	int rc = dk__extmem_check_args("dk_extmem_register", va, len, iova, n_pages, page_sz);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&g_ext_lock);
	rc = dk__extmem_add_list(va, len, iova, n_pages, page_sz, -1, DK_MEMSEG_EXTERNAL, -1, NULL);
	pthread_mutex_unlock(&g_ext_lock);
	return rc;
}

/*
 * The registered (heap-less external) list of exactly [va, va+len), or NULL
 * with a message that says what va is instead. Extmem lock held.
 */
static struct dk__memseg_list *registered(const char *what, void *va, size_t len)
{
	DK__ASSERT_LOCKED(&g_ext_lock);
	struct dk__memseg_list *l = dk__memseg_list_find_exact((uintptr_t)va, len);
	if (l && (l->flags & DK_MEMSEG_EXTERNAL) && l->heap_idx < 0)
		return l;
	if (l && (l->flags & DK_MEMSEG_EXTERNAL)) {
		DK_ERR("%s(%p, %zu): this range is a chunk of an external heap: use dk_heap_memory_remove/attach/detach",
		       what, va, len);
		return NULL;
	}
	if (l) {
		DK_ERR("%s(%p, %zu): this range is dmakit's own heap memory, not registered memory: free blocks with dk_free",
		       what, va, len);
		return NULL;
	}
	struct dk__memseg_list *in = dk__memseg_list_find(va);
	if (in)
		DK_ERR("%s(%p, %zu): the address is inside [%p, +%zu), which is what was registered: give exactly that range",
		    what, va, len, (void *)in->base, in->len);
	else
		DK_ERR("%s(%p, %zu): no memory is registered at this address: give a range passed to dk_extmem_register",
		       what, va, len);
	return NULL;
}

static int check_range(const char *what, void *va, size_t len)
{
	if (!va || !len) {
		DK_ERR("%s: %s: give exactly a registered range", what,
		       !va ? "NULL address" : "zero length");
		return -EINVAL;
	}
	return 0;
}

int dk_extmem_unregister(void *va, size_t len)
{
	int rc = check_range("dk_extmem_unregister", va, len);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&g_ext_lock);
	struct dk__memseg_list *l = registered("dk_extmem_unregister", va, len);
	rc = l ? dk__extmem_remove_list(l) : -ENOENT;
	pthread_mutex_unlock(&g_ext_lock);
	return rc;
}

int dk_extmem_attach(void *va, size_t len)
{
	int rc = check_range("dk_extmem_attach", va, len);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&g_ext_lock);
	struct dk__memseg_list *l = registered("dk_extmem_attach", va, len);
	if (!l) {
		rc = -ENOENT;
	} else {
		rc = dk__memseg_list_attach(l);
		if (rc == -EEXIST)
			DK_ERR("dk_extmem_attach(%p, %zu): already attached in this process (registered here, or attached before): nothing to do",
			       va, len);
		else
			dk__mem_event_fire(DK_MEM_EVENT_ALLOC, va, len);
	}
	pthread_mutex_unlock(&g_ext_lock);
	return rc;
}

int dk_extmem_detach(void *va, size_t len)
{
	int rc = check_range("dk_extmem_detach", va, len);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&g_ext_lock);
	struct dk__memseg_list *l = registered("dk_extmem_detach", va, len);
	if (!l) {
		rc = -ENOENT;
	} else if (!dk__memseg_list_attached(l)) {
		DK_ERR("dk_extmem_detach(%p, %zu): not attached in this process: attach it first (dk_extmem_attach)",
		       va, len);
		rc = -ENOENT;
	} else {
		dk__mem_event_fire(DK_MEM_EVENT_FREE, va, len);
		dk__memseg_list_detach(l);
	}
	pthread_mutex_unlock(&g_ext_lock);
	return rc;
}
