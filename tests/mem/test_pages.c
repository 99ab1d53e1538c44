/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Page backing of the internal heaps (src/mem/pages.c): 4 KiB pages always;
 * real hugepages and physical addresses as root (the hugepage test reserves
 * pages through /proc/sys/vm/nr_hugepages and gives back as many as it
 * added, also at exit); the non-root PA failure in a child that drops to nobody.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dmakit/memory.h>

#include "mem/mem_event.h"
#include "mem/memseg.h"
#include "mem/pages.h"
#include "hugepages.h"
#include "tap.h"

#define KiB4 ((size_t)4096)
#define MiB  ((size_t)1 << 20)
#define GiB  ((size_t)1 << 30)
#define BAD  DK_BAD_IOVA

static void reset(void)
{
	dk__mem_pages_cleanup();
	dk__memseg_cleanup();
	dk__mem_event_cleanup();
}

static int init(enum dk__huge_policy huge, size_t hsz, enum dk_iova_mode mode, uint64_t limit,
		uint64_t va_per_list)
{
	struct dk__pages_config c = {.huge = huge,
				     .huge_page_sz = hsz,
				     .iova_mode = mode,
				     .mem_limit = limit,
				     .va_per_list = va_per_list};
	return dk__mem_pages_init(&c);
}

/* Physical address of va as the test reads it itself. */
static uint64_t test_pa(const void *va)
{
	FILE *f = fopen("/proc/self/pagemap", "r");
	uint64_t e = 0;
	if (!f)
		return 0;
	if (fseeko(f, (off_t)((uintptr_t)va / KiB4 * 8), SEEK_SET) != 0 || fread(&e, 8, 1, f) != 1)
		e = 0;
	fclose(f);
	if (!(e >> 63))
		return 0;
	return (e & (((uint64_t)1 << 55) - 1)) * KiB4 + ((uintptr_t)va & (KiB4 - 1));
}

static int resident(const void *va)
{
	unsigned char v = 0;
	if (mincore((void *)((uintptr_t)va & ~(KiB4 - 1)), KiB4, &v) != 0)
		return -1;
	return v & 1;
}

/* File offset of the mapping that starts at va, from /proc/self/maps. */
static long long map_offset(const void *va, char *name, size_t name_len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	long long off = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		unsigned long long o;
		char perm[8];
		int n = 0;
		if (sscanf(line, "%lx-%lx %7s %llx %*s %*s %n", &lo, &hi, perm, &o, &n) >= 4 &&
		    lo == (uintptr_t)va) {
			off = (long long)o;
			snprintf(name, name_len, "%s", n ? line + n : "");
			break;
		}
	}
	fclose(f);
	return off;
}

/* KernelPageSize of the mapping containing va, from /proc/self/smaps. */
static size_t kernel_page_size(const void *va)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0;
	size_t kb = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) /* a mapping's first line */
			in = (uintptr_t)va >= lo && (uintptr_t)va < hi;
		if (in && sscanf(line, "KernelPageSize: %zu kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb << 10;
}

/* ---- events ------------------------------------------------------------- */

struct ev_rec {
	int n;
	enum dk_mem_event ev[16];
	const void *va[16];
	size_t len[16];
	dk_iova_t iova[16];
	int first_byte[16];
};
static struct ev_rec g_ev;

static void ev_cb(enum dk_mem_event ev, const void *va, size_t len, void *arg)
{
	(void)arg;
	int i = g_ev.n++;
	if (i >= 16)
		return;
	g_ev.ev[i] = ev;
	g_ev.va[i] = va;
	g_ev.len[i] = len;
	g_ev.iova[i] = dk_mem_virt2iova(va);
	g_ev.first_byte[i] = *(const volatile unsigned char *)va; /* still mapped */
}

/* ---- tests -------------------------------------------------------------- */

DK_TEST(init_validation)
{
	reset();
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk__mem_pages_init(NULL), -EINVAL);
	CHECK_INT_EQ(init((enum dk__huge_policy)7, 0, DK_IOVA_MODE_VA, 0, 0), -EINVAL);
	CHECK_INT_EQ(init(DK__HUGE_AUTO, 3 * MiB, DK_IOVA_MODE_VA, 0, 0), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "use 2M or 1G");
	CHECK_INT_EQ(init(DK__HUGE_AUTO, 0, DK_IOVA_MODE_AUTO, 0, 0), -EINVAL);
	CHECK_INT_EQ(init(DK__HUGE_AUTO, 0, (enum dk_iova_mode)9, 0, 0), -EINVAL);
	CHECK_INT_EQ(init(DK__HUGE_AUTO, 0, DK_IOVA_MODE_VA, 0, GiB + KiB4), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "multiple of 1 GiB");
	/* Not set up: nothing maps, page size 0. */
	void *va;
	size_t ml;
	CHECK_INT_EQ(dk__mem_pages_map(0, 0, KiB4, 0, &va, &ml), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "call dk_init first");
	CHECK_INT_EQ(dk__mem_pages_size(0), 0);
	REQUIRE_INT_EQ(init(DK__HUGE_NEVER, 0, DK_IOVA_MODE_VA, 0, 0), 0);
	CHECK_INT_EQ(init(DK__HUGE_NEVER, 0, DK_IOVA_MODE_VA, 0, 0), -EBUSY);
	CHECK_INT_EQ(dk__mem_pages_size(0), KiB4);
	CHECK_INT_EQ(dk_iova_mode(), DK_IOVA_MODE_VA);
	CHECK_INT_EQ(dk__mem_pages_map(0, 0, 0, 0, &va, &ml), -EINVAL);
	CHECK_INT_EQ(dk__mem_pages_map(0, 0, KiB4, 0, NULL, &ml), -EINVAL);
	reset();
	/* Cleanup makes init possible again. */
	CHECK_INT_EQ(init(DK__HUGE_NEVER, 0, DK_IOVA_MODE_VA, 0, 0), 0);
	reset();
}

DK_TEST(map_unmap_4k)
{
	reset();
	REQUIRE_INT_EQ(init(DK__HUGE_NEVER, 0, DK_IOVA_MODE_VA, 0, 0), 0);
	void *va;
	size_t ml;
	REQUIRE_INT_EQ(dk__mem_pages_map(0, 0, 10000, 0, &va, &ml), 0);
	CHECK_INT_EQ(ml, 3 * KiB4);
	CHECK(((uintptr_t)va & (KiB4 - 1)) == 0);
	CHECK_INT_EQ(dk__mem_pages_mapped(), 3 * KiB4);
	/* Usable memory, IOVA = VA. */
	memset(va, 0x5a, ml);
	CHECK(((unsigned char *)va)[ml - 1] == 0x5a);
	CHECK(dk_mem_virt2iova((char *)va + 5000) == (uintptr_t)va + 5000);
	CHECK_INT_EQ(resident(va), 1);
	CHECK_INT_EQ(kernel_page_size(va), KiB4);
	struct dk_memseg ms;
	REQUIRE_INT_EQ(dk_mem_virt2memseg(va, &ms), 0);
	CHECK_INT_EQ(ms.len, KiB4);
	CHECK_INT_EQ(ms.flags, DK_MEMSEG_HEAP);
	CHECK_INT_EQ(ms.socket_id, 0);
	struct dk__memseg_list *l = dk__memseg_list_find(va);
	REQUIRE(l);
	CHECK_INT_EQ(l->heap_idx, 0);
	CHECK((l->base & (GiB - 1)) == 0);
	CHECK_INT_EQ(l->len, 64 * GiB);
	/* The page's offset in the backing file is its offset in the list. */
	char name[256];
	CHECK_INT_EQ(map_offset(va, name, sizeof(name)), (long long)((uintptr_t)va - l->base));
	CHECK_STR_CONTAINS(name, "memfd:dmakit");
	/* Outside the mapped pages nothing is known. */
	CHECK(dk_mem_virt2iova((char *)va + ml) == BAD);
	CHECK_INT_EQ(dk_mem_virt2memseg((char *)va + ml, &ms), -ENOENT);

	REQUIRE_INT_EQ(dk__mem_pages_unmap(va, ml), 0);
	CHECK_INT_EQ(dk__mem_pages_mapped(), 0);
	CHECK(dk_mem_virt2iova(va) == BAD);
	CHECK_INT_EQ(dk_mem_virt2memseg(va, &ms), -ENOENT);
	CHECK_INT_EQ(resident(va), 0); /* still reserved, nothing behind it */
	CHECK(map_offset(va, name, sizeof(name)) == 0 || !strstr(name, "memfd"));
	/* First fit: the hole is reused. */
	void *va2;
	REQUIRE_INT_EQ(dk__mem_pages_map(0, 0, KiB4, 0, &va2, &ml), 0);
	CHECK(va2 == va);
	CHECK(*(volatile unsigned char *)va2 == 0); /* fresh page, old content gone */
	reset();
}

/* The list of node 0's heap prefers node 0 (a shared policy of its memfd). */
DK_TEST(pages_prefer_the_heaps_numa_node)
{
	reset();
	REQUIRE_INT_EQ(init(DK__HUGE_NEVER, 0, DK_IOVA_MODE_VA, 0, 0), 0);
	void *va;
	size_t ml;
	REQUIRE_INT_EQ(dk__mem_pages_map(0, 0, 4 * KiB4, 0, &va, &ml), 0);
	FILE *f = fopen("/proc/self/numa_maps", "r");
	if (!f) {
		reset();
		SKIP("no /proc/self/numa_maps (kernel without NUMA)");
	}
	char line[512], want[32];
	snprintf(want, sizeof(want), "%lx ", (unsigned long)dk__memseg_list_find(va)->base);
	int found = 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, want, strlen(want)) == 0) {
			found = 1;
			CHECK_STR_CONTAINS(line, "prefer:0");
		}
	fclose(f);
	CHECK(found);
	reset();
}

DK_TEST(first_fit_and_partial_unmap)
{
	reset();
	REQUIRE_INT_EQ(init(DK__HUGE_NEVER, 0, DK_IOVA_MODE_VA, 0, 0), 0);
	void *a, *b, *c, *d;
	size_t ml;
	REQUIRE_INT_EQ(dk__mem_pages_map(0, 0, 3 * KiB4, 0, &a, &ml), 0);
	REQUIRE_INT_EQ(dk__mem_pages_map(0, 0, KiB4, 0, &b, &ml), 0);
	CHECK((char *)b == (char *)a + 3 * KiB4);
	REQUIRE_INT_EQ(dk__mem_pages_unmap(a, 3 * KiB4), 0);
	REQUIRE_INT_EQ(dk__mem_pages_map(0, 0, 4 * KiB4, 0, &c, &ml), 0);
	CHECK((char *)c == (char *)b + KiB4); /* does not fit the 3-page hole */
	REQUIRE_INT_EQ(dk__mem_pages_map(0, 0, 2 * KiB4, 0, &d, &ml), 0);
	CHECK(d == a);
	/* Unmap the middle two pages of c; its ends stay. */
	REQUIRE_INT_EQ(dk__mem_pages_unmap((char *)c + KiB4, 2 * KiB4), 0);
	CHECK(dk_mem_virt2iova(c) == (uintptr_t)c);
	CHECK(dk_mem_virt2iova((char *)c + KiB4) == BAD);
	CHECK(dk_mem_virt2iova((char *)c + 3 * KiB4) == (uintptr_t)c + 3 * KiB4);
	CHECK_INT_EQ(dk__mem_pages_mapped(), (2 + 1 + 2) * KiB4);
	/* Another heap gets its own list. */
	void *e;
	REQUIRE_INT_EQ(dk__mem_pages_map(1, 0, KiB4, 0, &e, &ml), 0);
	struct dk__memseg_list *le = dk__memseg_list_find(e);
	REQUIRE(le);
	CHECK_INT_EQ(le->heap_idx, 1);
	CHECK(le != dk__memseg_list_find(a));
	reset();
}

DK_TEST(unmap_errors)
{
	reset();
	REQUIRE_INT_EQ(init(DK__HUGE_NEVER, 0, DK_IOVA_MODE_VA, 0, 0), 0);
	void *va;
	size_t ml;
	REQUIRE_INT_EQ(dk__mem_pages_map(0, 0, 2 * KiB4, 0, &va, &ml), 0);
	int local;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk__mem_pages_unmap(NULL, KiB4), -EINVAL);
	CHECK_INT_EQ(dk__mem_pages_unmap(va, 0), -EINVAL);
	CHECK_INT_EQ(dk__mem_pages_unmap(&local, KiB4), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "not internal page memory");
	CHECK_INT_EQ(dk__mem_pages_unmap((char *)va + 1, KiB4), -EINVAL);
	CHECK_INT_EQ(dk__mem_pages_unmap(va, KiB4 + 1), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "not whole pages");
	CHECK_INT_EQ(dk__mem_pages_unmap(va, 3 * KiB4), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "is not mapped");
	CHECK_INT_EQ(dk__mem_pages_unmap(va, 2 * KiB4), 0);
	CHECK_INT_EQ(dk__mem_pages_unmap(va, 2 * KiB4), -EINVAL);
	reset();
}

DK_TEST(alloc_free_events)
{
	reset();
	memset(&g_ev, 0, sizeof(g_ev));
	REQUIRE_INT_EQ(init(DK__HUGE_NEVER, 0, DK_IOVA_MODE_VA, 0, 0), 0);
	REQUIRE_INT_EQ(dk_mem_event_callback_register("pages-test", ev_cb, NULL), 0);
	void *va;
	size_t ml;
	REQUIRE_INT_EQ(dk__mem_pages_map(0, 0, 2 * KiB4, 0, &va, &ml), 0);
	REQUIRE_INT_EQ(g_ev.n, 1);
	CHECK_INT_EQ(g_ev.ev[0], DK_MEM_EVENT_ALLOC);
	CHECK(g_ev.va[0] == va && g_ev.len[0] == 2 * KiB4);
	CHECK(g_ev.iova[0] == (uintptr_t)va);
	*(unsigned char *)va = 0xc3;
	REQUIRE_INT_EQ(dk__mem_pages_unmap(va, 2 * KiB4), 0);
	REQUIRE_INT_EQ(g_ev.n, 2);
	CHECK_INT_EQ(g_ev.ev[1], DK_MEM_EVENT_FREE);
	CHECK(g_ev.va[1] == va && g_ev.len[1] == 2 * KiB4);
	/* During FREE the IOVA resolved and the memory was still there. */
	CHECK(g_ev.iova[1] == (uintptr_t)va);
	CHECK_INT_EQ(g_ev.first_byte[1], 0xc3);
	/* Cleanup sends FREE for what is still mapped, one per run. */
	void *a, *b;
	REQUIRE_INT_EQ(dk__mem_pages_map(0, 0, KiB4, 0, &a, &ml), 0);
	REQUIRE_INT_EQ(dk__mem_pages_map(0, 0, KiB4, 0, &b, &ml), 0);
	g_ev.n = 0;
	dk__mem_pages_cleanup();
	REQUIRE_INT_EQ(g_ev.n, 1);
	CHECK(g_ev.ev[0] == DK_MEM_EVENT_FREE && g_ev.va[0] == a && g_ev.len[0] == 2 * KiB4);
	CHECK(dk__memseg_list_find(a) == NULL);
	CHECK(dk_mem_virt2iova(a) == BAD);
	reset();
}

DK_TEST(mem_limit_enomem)
{
	reset();
	REQUIRE_INT_EQ(init(DK__HUGE_NEVER, 0, DK_IOVA_MODE_VA, 16 * KiB4, 0), 0);
	void *va, *v2;
	size_t ml;
	REQUIRE_INT_EQ(dk__mem_pages_map(0, 0, 16 * KiB4, 0, &va, &ml), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk__mem_pages_map(0, 0, 1, 0, &v2, &ml), -ENOMEM);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "memory limit reached");
	CHECK_STR_CONTAINS(dk_test_log_captured(), "DMAKIT_MEM_LIMIT");
	REQUIRE_INT_EQ(dk__mem_pages_unmap(va, 4 * KiB4), 0);
	CHECK_INT_EQ(dk__mem_pages_map(0, 0, 4 * KiB4, 0, &v2, &ml), 0);
	reset();
}

DK_TEST(va_per_list_bounds_a_request)
{
	reset();
	REQUIRE_INT_EQ(init(DK__HUGE_NEVER, 0, DK_IOVA_MODE_VA, 0, GiB), 0);
	void *va;
	size_t ml;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk__mem_pages_map(0, 0, GiB + 1, 0, &va, &ml), -ENOMEM);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "reserved per page list");
	REQUIRE_INT_EQ(dk__mem_pages_map(0, 0, KiB4, 0, &va, &ml), 0);
	CHECK_INT_EQ(dk__memseg_list_find(va)->len, GiB);
	reset();
}

DK_TEST(iova_contig_va_mode)
{
	reset();
	REQUIRE_INT_EQ(init(DK__HUGE_NEVER, 0, DK_IOVA_MODE_VA, 0, 0), 0);
	void *va;
	size_t ml;
	REQUIRE_INT_EQ(dk__mem_pages_map(0, 0, 64 * KiB4, 1, &va, &ml), 0);
	void *start;
	size_t len;
	dk_iova_t io;
	REQUIRE_INT_EQ(dk_mem_contig_chunk((char *)va + 5 * KiB4, &start, &len, &io), 0);
	CHECK(start == va && len == 64 * KiB4 && io == (uintptr_t)va);
	reset();
}

/* Remap mode: each list gets one IOVA range inside the usable ranges (here
 * a 39-bit IOMMU with the x86 MSI window reserved), so lists stay
 * IOVA-contiguous; the space runs out with a message. */
DK_TEST(remap_mode_assigns_list_iovas_inside_the_ranges)
{
	reset();
	struct dk__pages_config c = {.huge = DK__HUGE_NEVER,
				     .iova_mode = DK_IOVA_MODE_REMAP,
				     .va_per_list = 64 * GiB,
				     .n_iova_ranges = 2,
				     .iova_ranges = {{0, 0xfedfffff}, {0xfef00000, 0x7fffffffff}}};
	REQUIRE_INT_EQ(dk__mem_pages_init(&c), 0);
	CHECK_INT_EQ(dk_iova_mode(), DK_IOVA_MODE_REMAP);
	void *va[8];
	size_t ml;
	/* Different sockets use different lists. */
	REQUIRE_INT_EQ(dk__mem_pages_map(0, 0, 4 * KiB4, 1, &va[0], &ml), 0);
	CHECK_INT_EQ(dk_mem_virt2iova(va[0]), 0xff000000); /* first 2 MiB-aligned fit above the window */
	CHECK_INT_EQ(dk_mem_virt2iova((char *)va[0] + 3 * KiB4 + 5), 0xff000000 + 3 * KiB4 + 5);
	void *more;
	REQUIRE_INT_EQ(dk__mem_pages_map(0, 0, 2 * KiB4, 1, &more, &ml), 0);
	CHECK_INT_EQ(dk_mem_virt2iova(more), 0xff000000 + ((char *)more - (char *)va[0]));
	int n = 1;
	dk_test_log_capture_start();
	while (n < 8 && dk__mem_pages_map(0, n, KiB4, 0, &va[n], &ml) == 0) {
		dk_iova_t io = dk_mem_virt2iova(va[n]);
		CHECK(io != BAD && io + 64 * GiB - 1 <= 0x7fffffffffull);
		CHECK(io >= 0xfef00000);
		n++;
	}
	/* 512 GiB minus the low 4 GiB hold 7 lists of 64 GiB. */
	CHECK_INT_EQ(n, 7);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "no room for another 64 GiB of IOVA space");
	dk_test_log_capture_stop();
	/* Dropping the lists gives their IOVA space back. */
	reset();
	REQUIRE_INT_EQ(dk__mem_pages_init(&c), 0);
	REQUIRE_INT_EQ(dk__mem_pages_map(0, 0, KiB4, 0, &va[0], &ml), 0);
	CHECK_INT_EQ(dk_mem_virt2iova(va[0]), 0xff000000);
	reset();
	/* No usable range: init refuses with a message. */
	c.n_iova_ranges = 1;
	c.iova_ranges[0].start = 0;
	c.iova_ranges[0].end = 0xfffff;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk__mem_pages_init(&c), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "no usable IOVA range above 1 MiB");
	dk_test_log_capture_stop();
	reset();
}

/* IOVA space for device mappings of memory without IOVAs comes from the
 * space the lists use: never inside a list's window, given back exactly;
 * other modes have none to give. */
DK_TEST(remap_iova_space_is_shared_with_the_lists)
{
	reset();
	uint64_t io;
	CHECK_INT_EQ(dk__mem_pages_iova_take(KiB4, KiB4, &io), -ENOTSUP); /* not set up */
	struct dk__pages_config c = {.huge = DK__HUGE_NEVER,
				     .iova_mode = DK_IOVA_MODE_REMAP,
				     .va_per_list = 64 * GiB,
				     .n_iova_ranges = 1,
				     .iova_ranges = {{0, 0x7fffffffff}}};
	REQUIRE_INT_EQ(dk__mem_pages_init(&c), 0);
	void *va;
	size_t ml;
	REQUIRE_INT_EQ(dk__mem_pages_map(0, 0, KiB4, 1, &va, &ml), 0);
	uint64_t lo = dk_mem_virt2iova(va), hi = lo + 64 * GiB; /* the list's window */
	uint64_t a, b;
	REQUIRE_INT_EQ(dk__mem_pages_iova_take(3 * KiB4, KiB4, &a), 0);
	REQUIRE_INT_EQ(dk__mem_pages_iova_take(KiB4, 2u << 20, &b), 0);
	CHECK(a + 3 * KiB4 <= lo || a >= hi);
	CHECK(b + KiB4 <= lo || b >= hi);
	CHECK(b % (2u << 20) == 0);
	CHECK(a + 3 * KiB4 <= b || b + KiB4 <= a);
	CHECK(a + 3 * KiB4 - 1 <= 0x7fffffffffull && b + KiB4 - 1 <= 0x7fffffffffull);
	CHECK_INT_EQ(dk__mem_pages_iova_take(0, KiB4, &io), -EINVAL);
	CHECK_INT_EQ(dk__mem_pages_iova_take(KiB4, 3, &io), -EINVAL);
	CHECK_INT_EQ(dk__mem_pages_iova_give(a, 3 * KiB4), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk__mem_pages_iova_give(a, 3 * KiB4), -EINVAL); /* twice */
	CHECK_STR_CONTAINS(dk_test_log_captured(), "given back twice");
	dk_test_log_capture_stop();
	/* What was given back is handed out again: first fit. */
	CHECK_INT_EQ(dk__mem_pages_iova_take(3 * KiB4, KiB4, &io), 0);
	CHECK(io == a);
	/* More than is left: -ENOSPC with a message. */
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk__mem_pages_iova_take(1ull << 40, KiB4, &io), -ENOSPC);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "no room for");
	dk_test_log_capture_stop();
	reset();
	REQUIRE_INT_EQ(init(DK__HUGE_NEVER, 0, DK_IOVA_MODE_VA, 0, 0), 0);
	CHECK_INT_EQ(dk__mem_pages_iova_take(KiB4, KiB4, &io), -ENOTSUP);
	reset();
}

/* 1 GiB hugepages are not reserved on the test machines: AUTO falls back. */
DK_TEST(auto_falls_back_always_fails)
{
	reset();
	long free1g = dk_test_read_long("/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages");
	if (free1g > 0)
		SKIP("%ld free 1 GiB hugepages: this test needs none free", free1g);
	REQUIRE_INT_EQ(init(DK__HUGE_AUTO, GiB, DK_IOVA_MODE_VA, 0, 0), 0);
	CHECK_INT_EQ(dk__mem_pages_size(0), KiB4);
	void *va;
	size_t ml;
	dk_test_log_capture_start();
	REQUIRE_INT_EQ(dk__mem_pages_map(0, 0, 2 * KiB4, 0, &va, &ml), 0);
	CHECK_INT_EQ(ml, 2 * KiB4);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "info: pages:");
	CHECK_STR_CONTAINS(dk_test_log_captured(), "using 4 KiB pages");
	struct dk_memseg ms;
	REQUIRE_INT_EQ(dk_mem_virt2memseg(va, &ms), 0);
	CHECK_INT_EQ(ms.flags & DK_MEMSEG_HUGE, 0);
	CHECK_INT_EQ(ms.len, KiB4);
	memset(va, 1, ml);
	reset();

	REQUIRE_INT_EQ(init(DK__HUGE_ALWAYS, GiB, DK_IOVA_MODE_VA, 0, 0), 0);
	CHECK_INT_EQ(dk__mem_pages_size(0), GiB);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk__mem_pages_map(0, 0, KiB4, 0, &va, &ml), -ENOMEM);
	const char *log = dk_test_log_captured();
	if (dk_test_read_long("/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages") >= 0) {
		CHECK_STR_CONTAINS(log, "not enough free hugepages of 1 GiB");
		CHECK_STR_CONTAINS(log, "1 needed, 0 of the");
		CHECK_STR_CONTAINS(log,
				   "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages");
		CHECK_STR_CONTAINS(log, "/proc/sys/vm/nr_hugepages");
	} else {
		CHECK_STR_CONTAINS(log, "no hugepages of 1 GiB");
	}
	CHECK_INT_EQ(dk__mem_pages_mapped(), 0);
	reset();
}

/* Hugepages this test added to the pool (given back by delta, so that a
 * concurrent change by someone else survives). */
static long g_added_nr;
#define NR_HUGE "/proc/sys/vm/nr_hugepages"

static void restore_nr_hugepages(void)
{
	long now = dk_test_read_long(NR_HUGE);
	if (g_added_nr > 0 && now >= 0 &&
	    dk_test_write_long(NR_HUGE, now > g_added_nr ? now - g_added_nr : 0) == 0)
		g_added_nr = 0;
}

/* Real hugepages of the default size, reserved for the test. */
DK_TEST(hugepages_as_root)
{
	reset();
	if (geteuid() != 0)
		SKIP("needs root to reserve hugepages (echo N > %s)", NR_HUGE);
	size_t hsz = 0;
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long kb;
		if (sscanf(line, "Hugepagesize: %lu kB", &kb) == 1)
			hsz = (size_t)kb << 10;
	}
	if (f)
		fclose(f);
	if (hsz != 2 * MiB)
		SKIP("default hugepage size is %zu kB, the test uses 2 MiB", hsz >> 10);
	char free_path[128];
	snprintf(free_path, sizeof(free_path),
		 "/sys/kernel/mm/hugepages/hugepages-%zukB/free_hugepages", hsz >> 10);
	long old = dk_test_read_long(NR_HUGE);
	REQUIRE(old >= 0);
	long free0 = dk_test_read_long(free_path);
	atexit(restore_nr_hugepages);
	int wrc = dk_test_write_long(NR_HUGE, old + 4);
	long now = dk_test_read_long(NR_HUGE);
	g_added_nr = now > old ? now - old : 0; /* the kernel may grant fewer */
	if (wrc != 0 || dk_test_read_long(free_path) < free0 + 4) {
		restore_nr_hugepages();
		SKIP("could not reserve 4 more hugepages of 2 MiB (memory too fragmented?)");
	}
	long free1 = dk_test_read_long(free_path);
	/* Pool counts are checked only while nobody else (another test
	 * process) changed the pool meanwhile. */
	long nr1 = dk_test_read_long(NR_HUGE);
#define POOL_MINE() (dk_test_read_long(NR_HUGE) == nr1)

	CHECK_INT_EQ(init(DK__HUGE_ALWAYS, 0, DK_IOVA_MODE_VA, 0, 0), 0);
	CHECK_INT_EQ(dk__mem_pages_size(0), 2 * MiB);
	void *va = NULL, *v2 = NULL;
	size_t ml = 0;
	int rc = dk__mem_pages_map(0, 0, 3 * MiB, 0, &va, &ml);
	CHECK_INT_EQ(rc, 0);
	if (rc == 0) {
		CHECK_INT_EQ(ml, 4 * MiB);
		CHECK(((uintptr_t)va & (2 * MiB - 1)) == 0);
		if (POOL_MINE())
			CHECK_INT_EQ(dk_test_read_long(free_path), free1 - 2);
		CHECK_INT_EQ(kernel_page_size(va), 2 * MiB);
		memset(va, 0xa5, ml);
		CHECK(((unsigned char *)va)[ml - 1] == 0xa5);
		struct dk_memseg ms;
		CHECK_INT_EQ(dk_mem_virt2memseg((char *)va + 3 * MiB, &ms), 0);
		CHECK_INT_EQ(ms.flags, DK_MEMSEG_HEAP | DK_MEMSEG_HUGE);
		CHECK_INT_EQ(ms.len, 2 * MiB);
		CHECK(dk_mem_virt2iova((char *)va + 3 * MiB) == (uintptr_t)va + 3 * MiB);
		/* Two more fit, then ALWAYS runs out and says how to reserve more. */
		CHECK_INT_EQ(dk__mem_pages_map(0, 0, 4 * MiB, 0, &v2, &ml), 0);
		dk_test_log_capture_start();
		void *v3;
		if (POOL_MINE() && dk_test_read_long(free_path) == 0) {
			CHECK_INT_EQ(dk__mem_pages_map(0, 0, 2 * MiB, 0, &v3, &ml), -ENOMEM);
			CHECK_STR_CONTAINS(dk_test_log_captured(), "1 needed, 0 of the");
			CHECK_STR_CONTAINS(
			    dk_test_log_captured(),
			    "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
		}
		dk_test_log_capture_stop();
		CHECK_INT_EQ(dk__mem_pages_unmap(va, 4 * MiB), 0);
		CHECK_INT_EQ(dk__mem_pages_unmap(v2, 4 * MiB), 0);
		/* Punched out of the file: back in the pool. */
		if (POOL_MINE())
			CHECK_INT_EQ(dk_test_read_long(free_path), free1);
		CHECK(dk_mem_virt2iova(va) == BAD);
	}
	reset();

	/* PA mode on hugepages: one 2 MiB page is always IOVA-contiguous. */
	CHECK_INT_EQ(init(DK__HUGE_ALWAYS, 0, DK_IOVA_MODE_PA, 0, 0), 0);
	rc = dk__mem_pages_map(0, 0, 2 * MiB, 1, &va, &ml);
	CHECK_INT_EQ(rc, 0);
	if (rc == 0) {
		dk_iova_t io = dk_mem_virt2iova((char *)va + MiB + 8);
		CHECK(io != BAD && io != 0);
		CHECK(io == test_pa((char *)va + MiB + 8));
		CHECK((io & (2 * MiB - 1)) == MiB + 8);
	}
	reset();
	restore_nr_hugepages();
	CHECK_INT_EQ(g_added_nr, 0);
#undef POOL_MINE
}

DK_TEST(pa_mode_as_root)
{
	reset();
	if (geteuid() != 0)
		SKIP("physical addresses need root (pa_mode_not_root covers the failure)");
	REQUIRE_INT_EQ(init(DK__HUGE_NEVER, 0, DK_IOVA_MODE_PA, 0, 0), 0);
	CHECK_INT_EQ(dk_iova_mode(), DK_IOVA_MODE_PA);
	void *va;
	size_t ml;
	REQUIRE_INT_EQ(dk__mem_pages_map(0, 0, 3 * KiB4, 0, &va, &ml), 0);
	dk_iova_t io[3];
	for (int i = 0; i < 3; i++) {
		char *p = (char *)va + i * KiB4;
		io[i] = dk_mem_virt2iova(p + 100);
		CHECK(io[i] != BAD && io[i] != 0);
		CHECK(io[i] != (uintptr_t)p + 100);
		CHECK(io[i] == test_pa(p + 100));
		CHECK((io[i] & (KiB4 - 1)) == 100);
	}
	CHECK(io[0] != io[1] && io[1] != io[2] && io[0] != io[2]);
	/* IOVA-contiguous request: either granted (and true) or -ENOMEM explained. */
	void *c;
	dk_test_log_capture_start();
	int rc = dk__mem_pages_map(0, 0, 32 * KiB4, 1, &c, &ml);
	if (rc == 0) {
		for (size_t off = 0; off < ml; off += KiB4)
			CHECK(dk_mem_virt2iova((char *)c + off) == dk_mem_virt2iova(c) + off);
	} else {
		CHECK_INT_EQ(rc, -ENOMEM);
		CHECK_STR_CONTAINS(dk_test_log_captured(), "not IOVA-contiguous");
		CHECK_INT_EQ(dk__mem_pages_mapped(), 3 * KiB4);
	}
	reset();
	CHECK_INT_EQ(dk_iova_mode(), DK_IOVA_MODE_VA);
}

DK_TEST(pa_mode_not_root)
{
	reset();
	fflush(stdout);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(99);
		dk_test_log_capture_start();
		int rc = init(DK__HUGE_NEVER, 0, DK_IOVA_MODE_PA, 0, 0);
		int ok =
		    rc == -ENOTSUP &&
		    strstr(dk_test_log_captured(),
			   "physical addresses need root: run as root or use DMAKIT_IOVA_MODE=va");
		_exit(ok ? 0 : 1);
	}
	int st;
	REQUIRE(waitpid(pid, &st, 0) == pid);
	REQUIRE(WIFEXITED(st));
	CHECK_INT_EQ(WEXITSTATUS(st), 0);
}
