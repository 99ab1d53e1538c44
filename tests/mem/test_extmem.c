/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Registered external memory (src/mem/extmem.c). The memory is 4 KiB
 * anonymous mmap memory: it must exist, registering does not touch it.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <dmakit/memory.h>

#include "mem/extmem.h"
#include "mem/mem_event.h"
#include "mem/memseg.h"
#include "mem/pages.h"
#include "tap.h"

#define PG  ((size_t)4096)
#define BAD DK_BAD_IOVA

static char *g_mem;
static size_t g_mem_len;

static void reset(void)
{
	dk__mem_pages_cleanup();
	dk__memseg_cleanup();
	dk__mem_event_cleanup();
}

/* n pages of fresh anonymous memory (released by the next call). */
static char *mem(size_t n)
{
	if (g_mem)
		munmap(g_mem, g_mem_len);
	g_mem_len = n * PG;
	g_mem = mmap(NULL, g_mem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g_mem == MAP_FAILED)
		g_mem = NULL;
	return g_mem;
}

struct evs {
	int n;
	enum dk_mem_event ev[8];
	const void *va[8];
	size_t len[8];
	dk_iova_t iova[8];
};
static struct evs g_ev;

static void ev_cb(enum dk_mem_event ev, const void *va, size_t len, void *arg)
{
	(void)arg;
	int i = g_ev.n++;
	if (i < 8) {
		g_ev.ev[i] = ev;
		g_ev.va[i] = va;
		g_ev.len[i] = len;
		g_ev.iova[i] = dk_mem_virt2iova(va);
	}
}

DK_TEST(register_einval)
{
	reset();
	char *m = mem(8);
	REQUIRE(m);
	dk_iova_t t[8] = {0};
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_extmem_register(NULL, PG, NULL, 0, PG), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "dk_extmem_register: NULL address");
	CHECK_INT_EQ(dk_extmem_register(m, 0, NULL, 0, PG), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "zero length");
	CHECK_INT_EQ(dk_extmem_register(m, PG, NULL, 0, 0), -EINVAL);
	CHECK_INT_EQ(dk_extmem_register(m, 3 * PG, NULL, 0, 3 * PG), -EINVAL);
	CHECK_INT_EQ(dk_extmem_register(m, PG, NULL, 0, 1024), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "is not a power of two");
	CHECK_INT_EQ(dk_extmem_register(m + 8, PG, NULL, 0, PG), -EINVAL);
	CHECK_INT_EQ(dk_extmem_register(m, PG + 8, NULL, 0, PG), -EINVAL);
	/* 4 KiB memory is not 2 MiB aligned. */
	if ((uintptr_t)m & ((2u << 20) - 1))
		CHECK_INT_EQ(dk_extmem_register(m, 2u << 20, NULL, 0, 2u << 20), -EINVAL);
	else
		CHECK_INT_EQ(dk_extmem_register(m + PG, 2u << 20, NULL, 0, 2u << 20), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "align the memory to its pages");
	CHECK_INT_EQ(dk_extmem_register(m, 8 * PG, t, 7, PG), -EINVAL);
	CHECK_INT_EQ(dk_extmem_register(m, 8 * PG, t, 9, PG), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "has 7 entries but the range has 8 pages");
	/* Above 2^47. */
	CHECK_INT_EQ(dk_extmem_register((void *)((uintptr_t)1 << 47), PG, NULL, 0, PG), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "2^47");
	/* Without a table n_pages is not checked. */
	CHECK_INT_EQ(dk_extmem_register(m, 8 * PG, NULL, 123, PG), 0);
	reset();
}

DK_TEST(check_args_shared_helper)
{
	char *m = mem(2);
	REQUIRE(m);
	dk_iova_t t[2] = {0x1000, 0x2000};
	CHECK_INT_EQ(dk__extmem_check_args("my_caller", m, 2 * PG, t, 2, PG), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk__extmem_check_args("my_caller", m, 2 * PG, t, 1, PG), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "my_caller(");
}

DK_TEST(register_with_table)
{
	reset();
	char *m = mem(4);
	REQUIRE(m);
	dk_iova_t t[4] = {0x10000, 0x50000, BAD, 0x20000};
	REQUIRE_INT_EQ(dk_extmem_register(m, 4 * PG, t, 4, PG), 0);
	CHECK(dk_mem_virt2iova(m + 5) == 0x10005);
	CHECK(dk_mem_virt2iova(m + PG + 6) == 0x50006);
	CHECK(dk_mem_virt2iova(m + 2 * PG) == BAD);
	CHECK(dk_mem_virt2iova(m + 3 * PG + 7) == 0x20007);
	struct dk__memseg_list *l = dk__memseg_list_find(m);
	REQUIRE(l);
	CHECK(l->iova != NULL);
	CHECK_INT_EQ(l->flags, DK_MEMSEG_EXTERNAL);
	CHECK_INT_EQ(l->heap_idx, -1);
	struct dk_memseg ms;
	REQUIRE_INT_EQ(dk_mem_virt2memseg(m + 2 * PG, &ms), 0);
	CHECK(ms.iova == BAD);
	CHECK_INT_EQ(ms.flags, DK_MEMSEG_EXTERNAL);
	CHECK_INT_EQ(ms.socket_id, -1);
	/* The table was copied: changing ours changes nothing. */
	t[0] = 0x99000;
	CHECK(dk_mem_virt2iova(m) == 0x10000);
	CHECK_INT_EQ(dk_extmem_unregister(m, 4 * PG), 0);
	CHECK(dk_mem_virt2iova(m) == BAD);
	reset();
}

DK_TEST(register_contiguous_table_as_delta)
{
	reset();
	char *m = mem(4);
	REQUIRE(m);
	dk_iova_t t[4] = {0x7000000, 0x7001000, 0x7002000, 0x7003000};
	REQUIRE_INT_EQ(dk_extmem_register(m, 4 * PG, t, 4, PG), 0);
	struct dk__memseg_list *l = dk__memseg_list_find(m);
	REQUIRE(l);
	CHECK(l->iova == NULL);
	CHECK(dk_mem_virt2iova(m + 3 * PG + 9) == 0x7003009);
	void *start;
	size_t len;
	dk_iova_t io;
	REQUIRE_INT_EQ(dk_mem_contig_chunk(m + PG, &start, &len, &io), 0);
	CHECK(start == m && len == 4 * PG && io == 0x7000000);
	reset();
}

DK_TEST(register_without_table)
{
	reset();
	char *m = mem(4);
	REQUIRE(m);
	REQUIRE_INT_EQ(dk_extmem_register(m, 4 * PG, NULL, 0, PG), 0);
	CHECK(dk_mem_virt2iova(m) == BAD);
	CHECK(dk_mem_virt2iova(m + 3 * PG) == BAD);
	struct dk_memseg ms;
	CHECK_INT_EQ(dk_mem_virt2memseg(m + PG, &ms), 0);
	CHECK(ms.iova == BAD);
	CHECK_INT_EQ(dk_mem_contig_chunk(m, NULL, NULL, NULL), -ENOENT);
	/* Registering did not touch the memory. */
	unsigned char v[4];
	REQUIRE(mincore(m, 4 * PG, v) == 0);
	CHECK_INT_EQ(v[0] & 1, 0);
	reset();
}

DK_TEST(overlap_eexist)
{
	reset();
	char *m = mem(16);
	REQUIRE(m);
	REQUIRE_INT_EQ(dk_extmem_register(m + 4 * PG, 4 * PG, NULL, 0, PG), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_extmem_register(m, 5 * PG, NULL, 0, PG), -EEXIST);
	CHECK_INT_EQ(dk_extmem_register(m + 7 * PG, 2 * PG, NULL, 0, PG), -EEXIST);
	CHECK_INT_EQ(dk_extmem_register(m + 5 * PG, PG, NULL, 0, PG), -EEXIST);
	CHECK_INT_EQ(dk_extmem_register(m, 16 * PG, NULL, 0, PG), -EEXIST);
	char want[128];
	snprintf(want, sizeof(want), "overlaps external memory [%p, +0x4000)",
		 (void *)(m + 4 * PG));
	CHECK_STR_CONTAINS(dk_test_log_captured(), want);
	CHECK_INT_EQ(dk_extmem_register(m, 4 * PG, NULL, 0, PG), 0);
	CHECK_INT_EQ(dk_extmem_register(m + 8 * PG, 4 * PG, NULL, 0, PG), 0);
	reset();
}

DK_TEST(overlap_with_internal_pages)
{
	reset();
	struct dk__pages_config c = {.huge = DK__HUGE_NEVER, .iova_mode = DK_IOVA_MODE_VA};
	REQUIRE_INT_EQ(dk__mem_pages_init(&c), 0);
	void *va;
	size_t ml;
	REQUIRE_INT_EQ(dk__mem_pages_map(0, 0, 2 * PG, 0, &va, &ml), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_extmem_register(va, 2 * PG, NULL, 0, PG), -EEXIST);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "overlaps internal memory");
	/* Not mapped yet, but inside the internal list's reservation: also refused. */
	CHECK_INT_EQ(dk_extmem_register((char *)va + 100 * PG, PG, NULL, 0, PG), -EEXIST);
	/* Heap memory is not registered memory. */
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_extmem_unregister(va, 2 * PG), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "the address is inside");
	reset();
}

DK_TEST(table_full_enospc)
{
	reset();
	char *m = mem(2 * DK__MAX_MEMSEG_LISTS + 2);
	REQUIRE(m);
	for (int i = 0; i < DK__MAX_MEMSEG_LISTS; i++)
		REQUIRE_INT_EQ(dk_extmem_register(m + 2 * i * PG, PG, NULL, 0, PG), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_extmem_register(m + 2 * DK__MAX_MEMSEG_LISTS * PG, PG, NULL, 0, PG),
		     -ENOSPC);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "memseg lists are in use");
	CHECK_INT_EQ(dk_extmem_unregister(m, PG), 0);
	CHECK_INT_EQ(dk_extmem_register(m + 2 * DK__MAX_MEMSEG_LISTS * PG, PG, NULL, 0, PG), 0);
	reset();
}

DK_TEST(unregister_errors)
{
	reset();
	char *m = mem(8);
	REQUIRE(m);
	REQUIRE_INT_EQ(dk_extmem_register(m, 4 * PG, NULL, 0, PG), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_extmem_unregister(NULL, PG), -EINVAL);
	CHECK_INT_EQ(dk_extmem_unregister(m, 0), -EINVAL);
	CHECK_INT_EQ(dk_extmem_unregister(m + 4 * PG, PG), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "no memory is registered at this address");
	CHECK_INT_EQ(dk_extmem_unregister(m, 2 * PG), -ENOENT);
	CHECK_INT_EQ(dk_extmem_unregister(m + PG, 3 * PG), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "give exactly that range");
	CHECK_INT_EQ(dk_extmem_unregister(m, 4 * PG), 0);
	CHECK_INT_EQ(dk_extmem_unregister(m, 4 * PG), -ENOENT);
	/* A chunk of an external heap is removed through the heap API. */
	struct dk__memseg_list *l;
	REQUIRE_INT_EQ(dk__extmem_add_list(m, 2 * PG, NULL, 0, PG, 256,
					   DK_MEMSEG_EXTERNAL | DK_MEMSEG_HEAP, 3, &l),
		       0);
	CHECK_INT_EQ(l->heap_idx, 3);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_extmem_unregister(m, 2 * PG), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "dk_heap_memory_remove");
	CHECK_INT_EQ(dk_extmem_detach(m, 2 * PG), -ENOENT);
	CHECK_INT_EQ(dk__extmem_remove_list(l), 0);
	CHECK(dk__memseg_list_find(m) == NULL);
	reset();
}

DK_TEST(events_register_unregister)
{
	reset();
	memset(&g_ev, 0, sizeof(g_ev));
	char *m = mem(2);
	REQUIRE(m);
	REQUIRE_INT_EQ(dk_mem_event_callback_register("extmem-test", ev_cb, NULL), 0);
	dk_iova_t t[2] = {0x3000, 0x8000};
	REQUIRE_INT_EQ(dk_extmem_register(m, 2 * PG, t, 2, PG), 0);
	REQUIRE_INT_EQ(dk_extmem_unregister(m, 2 * PG), 0);
	REQUIRE_INT_EQ(g_ev.n, 2);
	CHECK(g_ev.ev[0] == DK_MEM_EVENT_ALLOC && g_ev.va[0] == m && g_ev.len[0] == 2 * PG);
	CHECK(g_ev.iova[0] == 0x3000);
	CHECK(g_ev.ev[1] == DK_MEM_EVENT_FREE && g_ev.va[1] == m && g_ev.len[1] == 2 * PG);
	CHECK(g_ev.iova[1] == 0x3000);
	/* Failed registrations fire nothing. */
	CHECK_INT_EQ(dk_extmem_register(m, 2 * PG, t, 3, PG), -EINVAL);
	CHECK_INT_EQ(g_ev.n, 2);
	reset();
}

DK_TEST(attach_detach)
{
	reset();
	memset(&g_ev, 0, sizeof(g_ev));
	char *m = mem(4);
	REQUIRE(m);
	dk_iova_t t[4] = {0x1000, 0x5000, 0x6000, 0x9000};
	REQUIRE_INT_EQ(dk_extmem_register(m, 4 * PG, t, 4, PG), 0);
	REQUIRE_INT_EQ(dk_mem_event_callback_register("extmem-test", ev_cb, NULL), 0);
	dk_test_log_capture_start();
	/* Registered here: attached already. */
	CHECK_INT_EQ(dk_extmem_attach(m, 4 * PG), -EEXIST);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "already attached");
	CHECK_INT_EQ(dk_extmem_attach(NULL, 4 * PG), -EINVAL);
	CHECK_INT_EQ(dk_extmem_attach(m, 2 * PG), -ENOENT);
	CHECK_INT_EQ(dk_extmem_detach(m, 0), -EINVAL);
	CHECK_INT_EQ(dk_extmem_detach(m + PG, PG), -ENOENT);
	CHECK_INT_EQ(g_ev.n, 0);

	REQUIRE_INT_EQ(dk_extmem_detach(m, 4 * PG), 0);
	REQUIRE_INT_EQ(g_ev.n, 1);
	CHECK(g_ev.ev[0] == DK_MEM_EVENT_FREE && g_ev.va[0] == m && g_ev.len[0] == 4 * PG);
	CHECK(g_ev.iova[0] == 0x1000); /* still resolvable during FREE */
	CHECK(dk_mem_virt2iova(m + PG) == BAD);
	struct dk_memseg ms;
	CHECK_INT_EQ(dk_mem_virt2memseg(m, &ms), -ENOENT);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_extmem_detach(m, 4 * PG), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "not attached in this process");
	/* Still in the layout: nobody else may register it. */
	CHECK_INT_EQ(dk_extmem_register(m, PG, NULL, 0, PG), -EEXIST);

	REQUIRE_INT_EQ(dk_extmem_attach(m, 4 * PG), 0);
	REQUIRE_INT_EQ(g_ev.n, 2);
	CHECK(g_ev.ev[1] == DK_MEM_EVENT_ALLOC && g_ev.va[1] == m && g_ev.len[1] == 4 * PG);
	CHECK(g_ev.iova[1] == 0x1000);
	CHECK(dk_mem_virt2iova(m + 3 * PG + 1) == 0x9001);
	CHECK_INT_EQ(dk_extmem_attach(m, 4 * PG), -EEXIST);

	/* Unregistering a detached range fires nothing more here. */
	REQUIRE_INT_EQ(dk_extmem_detach(m, 4 * PG), 0);
	CHECK_INT_EQ(g_ev.n, 3);
	CHECK_INT_EQ(dk_extmem_unregister(m, 4 * PG), 0);
	CHECK_INT_EQ(g_ev.n, 3);
	CHECK(dk__memseg_list_find_exact((uintptr_t)m, 4 * PG) == NULL);
	reset();
}
