/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for src/mem/heap_ext.c: external heaps (dk_heap_create/destroy,
 * memory add/remove/attach/detach, socket ids) and what malloc.c does with
 * them (allocations stay inside the chunks, IOVA from the application's
 * table, no fallback, DK_MALLOC_IOVA_CONTIG). Chunks are anonymous 4 KiB
 * pages from mmap.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <dmakit/dmakit.h>

#include "tap.h"

#define PG 4096u
#define NAME31 "abcdefghijklmnopqrstuvwxyz01234"
#define NAME32 "abcdefghijklmnopqrstuvwxyz012345"

static int start_mode(int iova_mode)
{
	dk_cleanup(); /* a test that ended early may have left the library up */
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_SCAN;
	p.huge = DK_HUGE_NEVER;
	p.iova_mode = iova_mode;
	return dk_init(&p);
}

static int start(void)
{
	return start_mode(0);
}

/* n pages of anonymous memory, 8 KiB aligned (so page + 1 is not 8 KiB aligned). */
static unsigned char *map_pages(size_t n)
{
	size_t len = (n + 2) * PG;
	unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	unsigned char *a = (unsigned char *)(((uintptr_t)m + 2 * PG - 1) & ~(uintptr_t)(2 * PG - 1));
	/* Keep exactly [a, a + n * PG) mapped. */
	if (a > m)
		munmap(m, (size_t)(a - m));
	size_t tail = (size_t)(m + len - (a + n * PG));
	if (tail)
		munmap(a + n * PG, tail);
	return a;
}

static void unmap_pages(void *a, size_t n)
{
	if (a)
		munmap(a, n * PG);
}

static int all_bytes(const void *p, size_t n, unsigned char v)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		if (c[i] != v)
			return 0;
	return 1;
}

/*
 * dk_heap_memory_add zeroes the chunk, then the allocator writes its in-band
 * metadata into it (tlsf.c: region descriptor, first block header and free
 * links, end sentinel: 64 bytes). So: nothing of the old contents is left,
 * and at most 64 bytes are not zero.
 */
/* Zeroed apart from the heap's own bookkeeping (at most 64 bytes: region
 * descriptor and block headers, whose address bytes may be anything, 0xab
 * included). The test fills chunks with 0xab before adding them, so memory
 * that was not zeroed shows as thousands of non-zero bytes. */
static int zeroed_chunk(const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t nonzero = 0;
	for (size_t i = 0; i < n; i++)
		nonzero += c[i] != 0;
	return nonzero <= 64;
}

static int n_internal_heaps(void)
{
	int n = 0;
	while (n < DK_MAX_HEAPS && dk_heap_socket_is_external(n) == 0)
		n++;
	return n;
}

static int inside(const void *p, size_t size, const void *va, size_t len)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)va;
	return a >= b && a + size <= b + len;
}

/* Per-page IOVA table: scattered (page i -> base + (n-1-i) * 2 pages), or contiguous. */
static void fill_table(dk_iova_t *t, unsigned int n, int contiguous, dk_iova_t base)
{
	for (unsigned int i = 0; i < n; i++)
		t[i] = contiguous ? base + (dk_iova_t)i * PG : base + (dk_iova_t)(n - 1 - i) * 2 * PG;
}

static uint64_t heap_stat(int socket, int which)
{
	struct dk_heap_stats st;
	if (dk_malloc_get_stats(socket, &st) < 0)
		return UINT64_MAX;
	return which == 0 ? st.heap_bytes : which == 1 ? st.alloc_count : st.alloc_bytes;
}

/* ---- events --------------------------------------------------------------- */

struct ev_rec {
	enum dk_mem_event ev;
	const void *va;
	size_t len;
	dk_iova_t iova; /* dk_mem_virt2iova(va) during the callback */
};
static struct ev_rec g_ev[64];
static int g_nev;

static void record_event(enum dk_mem_event ev, const void *va, size_t len, void *arg)
{
	(void)arg;
	if (g_nev < (int)DK_ARRAY_SIZE(g_ev))
		g_ev[g_nev++] = (struct ev_rec){ ev, va, len, dk_mem_virt2iova(va) };
}

/* Events of type ev touching [va, va+len); *exact counts those equal to it. */
static int events_for(enum dk_mem_event ev, const void *va, size_t len, int *exact,
		      dk_iova_t *iova)
{
	int n = 0;
	*exact = 0;
	for (int i = 0; i < g_nev; i++) {
		uintptr_t a = (uintptr_t)g_ev[i].va, b = (uintptr_t)va;
		if (g_ev[i].ev != ev || a + g_ev[i].len <= b || a >= b + len)
			continue;
		n++;
		if (g_ev[i].va == va && g_ev[i].len == len) {
			(*exact)++;
			if (iova)
				*iova = g_ev[i].iova;
		}
	}
	return n;
}

/* ---- names, sockets, heap table ----------------------------------------- */

DK_TEST(before_init_fails_cleanly)
{
	dk_cleanup();
	unsigned char m[PG] __attribute__((aligned(4096)));
	CHECK(dk_heap_create("x") < 0);
	CHECK(dk_heap_destroy("x") < 0);
	CHECK(dk_heap_memory_add("x", m, PG, NULL, 1, PG) < 0);
	CHECK(dk_heap_memory_remove("x", m, PG) < 0);
	CHECK(dk_heap_get_socket("x") < 0);
	CHECK_INT_EQ(dk_heap_socket_is_external(DK_EXTERNAL_SOCKET_BASE), -ENOENT);
	errno = 0;
	CHECK(dk_malloc_socket(NULL, 64, 0, DK_EXTERNAL_SOCKET_BASE) == NULL);
	CHECK_INT_EQ(errno, ENODEV);
}

DK_TEST(names_must_be_1_to_31_characters)
{
	REQUIRE_INT_EQ(start(), 0);
	unsigned char *m = map_pages(4);
	REQUIRE(m != NULL);
	const char *bad[] = { NULL, "", NAME32, NAME32 "6789" };
	for (size_t i = 0; i < DK_ARRAY_SIZE(bad); i++) {
		dk_test_log_capture_start();
		CHECK_INT_EQ(dk_heap_create(bad[i]), -EINVAL);
		CHECK_STR_CONTAINS(dk_test_log_captured(), "1..31 characters");
		CHECK_INT_EQ(dk_heap_destroy(bad[i]), -EINVAL);
		CHECK_INT_EQ(dk_heap_memory_add(bad[i], m, 4 * PG, NULL, 4, PG), -EINVAL);
		CHECK_INT_EQ(dk_heap_memory_remove(bad[i], m, 4 * PG), -EINVAL);
		CHECK_INT_EQ(dk_heap_memory_attach(bad[i], m, 4 * PG), -EINVAL);
		CHECK_INT_EQ(dk_heap_memory_detach(bad[i], m, 4 * PG), -EINVAL);
		CHECK_INT_EQ(dk_heap_get_socket(bad[i]), -EINVAL);
		dk_test_log_capture_stop();
	}
	CHECK_INT_EQ(dk_heap_create(NAME31), 0);
	CHECK_INT_EQ(dk_heap_get_socket(NAME31), DK_EXTERNAL_SOCKET_BASE);
	CHECK_INT_EQ(dk_heap_create("a"), 0);
	CHECK_INT_EQ(dk_heap_destroy(NAME31), 0);
	CHECK_INT_EQ(dk_heap_destroy("a"), 0);
	unmap_pages(m, 4);
	dk_cleanup();
}

DK_TEST(duplicate_names_are_eexist)
{
	REQUIRE_INT_EQ(start(), 0);
	REQUIRE_INT_EQ(dk_heap_create("dup"), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_heap_create("dup"), -EEXIST);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "pick another name");
	CHECK_INT_EQ(dk_heap_create("socket_0"), -EEXIST);
	dk_test_log_capture_stop();
	/* The failed attempts took no socket id. */
	CHECK_INT_EQ(dk_heap_create("dup2"), 0);
	CHECK_INT_EQ(dk_heap_get_socket("dup2"), DK_EXTERNAL_SOCKET_BASE + 1);
	/* The name is free again after destroy. */
	CHECK_INT_EQ(dk_heap_destroy("dup"), 0);
	CHECK_INT_EQ(dk_heap_create("dup"), 0);
	CHECK_INT_EQ(dk_heap_get_socket("dup"), DK_EXTERNAL_SOCKET_BASE + 2);
	CHECK_INT_EQ(dk_heap_destroy("dup"), 0);
	CHECK_INT_EQ(dk_heap_destroy("dup2"), 0);
	dk_cleanup();
}

DK_TEST(socket_ids_increase_and_are_never_reused)
{
	REQUIRE_INT_EQ(start(), 0);
	const int base = DK_EXTERNAL_SOCKET_BASE;
	REQUIRE_INT_EQ(dk_heap_create("a"), 0);
	REQUIRE_INT_EQ(dk_heap_create("b"), 0);
	CHECK_INT_EQ(dk_heap_get_socket("a"), base);
	CHECK_INT_EQ(dk_heap_get_socket("b"), base + 1);
	CHECK_INT_EQ(dk_heap_socket_is_external(base), 1);
	CHECK_INT_EQ(dk_heap_socket_is_external(base + 1), 1);
	CHECK_INT_EQ(dk_heap_destroy("a"), 0);
	CHECK_INT_EQ(dk_heap_socket_is_external(base), -ENOENT);
	CHECK_INT_EQ(dk_heap_get_socket("a"), -ENOENT);
	REQUIRE_INT_EQ(dk_heap_create("c"), 0);
	CHECK_INT_EQ(dk_heap_get_socket("c"), base + 2);
	REQUIRE_INT_EQ(dk_heap_create("a"), 0); /* same name, new id */
	CHECK_INT_EQ(dk_heap_get_socket("a"), base + 3);
	CHECK_INT_EQ(dk_heap_socket_is_external(base), -ENOENT);
	CHECK_INT_EQ(dk_heap_destroy("a"), 0);
	CHECK_INT_EQ(dk_heap_destroy("b"), 0);
	CHECK_INT_EQ(dk_heap_destroy("c"), 0);
	REQUIRE_INT_EQ(dk_heap_create("d"), 0);
	CHECK_INT_EQ(dk_heap_get_socket("d"), base + 4);
	/* The old ids do not reach a heap any more. */
	errno = 0;
	CHECK(dk_malloc_socket(NULL, 64, 0, base) == NULL);
	CHECK_INT_EQ(errno, EINVAL);
	CHECK_INT_EQ(dk_heap_destroy("d"), 0);
	dk_cleanup();
}

DK_TEST(heap_table_full_is_enospc)
{
	REQUIRE_INT_EQ(start(), 0);
	int n_int = n_internal_heaps();
	REQUIRE(n_int >= 1);
	char name[DK_HEAP_NAME_MAX];
	int n = 0, rc = 0, last_socket = -1;
	for (n = 0; n < 2 * DK_MAX_HEAPS; n++) {
		snprintf(name, sizeof(name), "ext%d", n);
		rc = dk_heap_create(name);
		if (rc < 0)
			break;
		int s = dk_heap_get_socket(name);
		CHECK_INT_EQ(s, DK_EXTERNAL_SOCKET_BASE + n);
		last_socket = s;
	}
	CHECK_INT_EQ(rc, -ENOSPC);
	CHECK(n >= 32);
	CHECK_INT_EQ(n, DK_MAX_HEAPS - n_int);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_heap_create("one_more"), -ENOSPC);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "destroy a heap");
	dk_test_log_capture_stop();
	/* Freeing a slot makes room; the id is still new. */
	CHECK_INT_EQ(dk_heap_destroy("ext5"), 0);
	CHECK_INT_EQ(dk_heap_create("one_more"), 0);
	CHECK_INT_EQ(dk_heap_get_socket("one_more"), last_socket + 1);
	CHECK_INT_EQ(dk_heap_create("two_more"), -ENOSPC);
	CHECK_INT_EQ(dk_heap_destroy("one_more"), 0);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "ext%d", i);
		if (i != 5)
			CHECK_INT_EQ(dk_heap_destroy(name), 0);
	}
	dk_cleanup();
}

DK_TEST(internal_heaps_are_eperm)
{
	REQUIRE_INT_EQ(start(), 0);
	unsigned char *m = map_pages(4);
	REQUIRE(m != NULL);
	memset(m, 0xab, 4 * PG);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_heap_destroy("socket_0"), -EPERM);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "internal heap");
	CHECK_INT_EQ(dk_heap_memory_add("socket_0", m, 4 * PG, NULL, 4, PG), -EPERM);
	CHECK_INT_EQ(dk_heap_memory_remove("socket_0", m, 4 * PG), -EPERM);
	CHECK_INT_EQ(dk_heap_memory_attach("socket_0", m, 4 * PG), -EPERM);
	CHECK_INT_EQ(dk_heap_memory_detach("socket_0", m, 4 * PG), -EPERM);
	dk_test_log_capture_stop();
	CHECK(all_bytes(m, 4 * PG, 0xab));
	CHECK_INT_EQ(dk_heap_get_socket("socket_0"), 0);
	CHECK_INT_EQ(dk_heap_socket_is_external(0), 0);
	/* The internal heap still works. */
	void *p = dk_malloc_socket(NULL, 100, 0, 0);
	CHECK(p != NULL);
	dk_free(p);
	unmap_pages(m, 4);
	dk_cleanup();
}

DK_TEST(unknown_heaps_and_sockets_are_enoent)
{
	REQUIRE_INT_EQ(start(), 0);
	unsigned char *m = map_pages(4);
	REQUIRE(m != NULL);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_heap_destroy("nope"), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "dk_heap_create");
	CHECK_INT_EQ(dk_heap_memory_add("nope", m, 4 * PG, NULL, 4, PG), -ENOENT);
	CHECK_INT_EQ(dk_heap_memory_remove("nope", m, 4 * PG), -ENOENT);
	CHECK_INT_EQ(dk_heap_memory_attach("nope", m, 4 * PG), -ENOENT);
	CHECK_INT_EQ(dk_heap_memory_detach("nope", m, 4 * PG), -ENOENT);
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_heap_get_socket("nope"), -ENOENT);
	int n_int = n_internal_heaps();
	CHECK_INT_EQ(dk_heap_socket_is_external(n_int), -ENOENT);
	CHECK_INT_EQ(dk_heap_socket_is_external(-1), -ENOENT);
	CHECK_INT_EQ(dk_heap_socket_is_external(DK_EXTERNAL_SOCKET_BASE - 1), -ENOENT);
	CHECK_INT_EQ(dk_heap_socket_is_external(DK_EXTERNAL_SOCKET_BASE), -ENOENT);
	CHECK_INT_EQ(dk_heap_create("h"), 0);
	CHECK_INT_EQ(dk_heap_socket_is_external(DK_EXTERNAL_SOCKET_BASE), 1);
	CHECK_INT_EQ(dk_heap_socket_is_external(DK_EXTERNAL_SOCKET_BASE + 1), -ENOENT);
	CHECK_INT_EQ(dk_heap_destroy("h"), 0);
	unmap_pages(m, 4);
	dk_cleanup();
}

/* ---- memory add ---------------------------------------------------------- */

DK_TEST(memory_add_argument_errors)
{
	REQUIRE_INT_EQ(start(), 0);
	REQUIRE_INT_EQ(dk_heap_create("h"), 0);
	int sock = dk_heap_get_socket("h");
	const unsigned int n = 8;
	unsigned char *m = map_pages(n + 2);
	REQUIRE(m != NULL);
	memset(m, 0xab, (n + 2) * PG);
	dk_iova_t tbl[16];
	fill_table(tbl, 16, 1, 0x100000000ull);
	for (int with_tbl = 0; with_tbl < 2; with_tbl++) {
		const dk_iova_t *t = with_tbl ? tbl : NULL;
		dk_test_log_capture_start();
		CHECK_INT_EQ(dk_heap_memory_add("h", NULL, n * PG, t, n, PG), -EINVAL);
		CHECK(dk_test_log_captured()[0] != '\0'); /* every failure says why */
		CHECK_INT_EQ(dk_heap_memory_add("h", m, 0, t, 0, PG), -EINVAL);
		CHECK_INT_EQ(dk_heap_memory_add("h", m, n * PG, t, n, 0), -EINVAL);
		CHECK_INT_EQ(dk_heap_memory_add("h", m, n * PG, t, n, 3000), -EINVAL);
		CHECK_INT_EQ(dk_heap_memory_add("h", m, n * PG, t, n, 3 * PG), -EINVAL);
		CHECK_INT_EQ(dk_heap_memory_add("h", m + 16, n * PG, t, n, PG), -EINVAL);
		CHECK_INT_EQ(dk_heap_memory_add("h", m + 16, n * PG - 16, t, n, PG), -EINVAL);
		CHECK_INT_EQ(dk_heap_memory_add("h", m, n * PG - 16, t, n, PG), -EINVAL);
		CHECK_INT_EQ(dk_heap_memory_add("h", m, n * PG + 100, t, n, PG), -EINVAL);
		/* 8 KiB pages: m + 4 KiB is not aligned to them; len 3 * 4 KiB is not either. */
		CHECK_INT_EQ(dk_heap_memory_add("h", m + PG, n * PG, t, n / 2, 2 * PG), -EINVAL);
		CHECK_INT_EQ(dk_heap_memory_add("h", m, 3 * PG, t, 1, 2 * PG), -EINVAL);
		if (with_tbl) {
			CHECK_INT_EQ(dk_heap_memory_add("h", m, n * PG, t, n - 1, PG), -EINVAL);
			CHECK_INT_EQ(dk_heap_memory_add("h", m, n * PG, t, n + 1, PG), -EINVAL);
			CHECK_INT_EQ(dk_heap_memory_add("h", m, n * PG, t, 0, PG), -EINVAL);
			CHECK_INT_EQ(dk_heap_memory_add("h", m, n * PG, t, n, 2 * PG), -EINVAL);
		}
		dk_test_log_capture_stop();
		/* Nothing was taken, nothing was touched. */
		CHECK(all_bytes(m, (n + 2) * PG, 0xab));
		CHECK_INT_EQ(heap_stat(sock, 0), 0);
		CHECK_INT_EQ(dk_mem_virt2iova(m), DK_BAD_IOVA);
		struct dk_memseg ms;
		CHECK_INT_EQ(dk_mem_virt2memseg(m, &ms), -ENOENT);
	}
	/* Without a table n_pages is not looked at; 8 KiB pages are fine when aligned. */
	CHECK_INT_EQ(dk_heap_memory_add("h", m, n * PG, NULL, 0, 2 * PG), 0);
	CHECK_INT_EQ(dk_heap_memory_remove("h", m, n * PG), 0);
	CHECK_INT_EQ(dk_heap_memory_add("h", m, n * PG, tbl, n / 2, 2 * PG), 0);
	CHECK_INT_EQ(dk_mem_virt2iova(m + 2 * PG + 5), tbl[1] + 5);
	CHECK_INT_EQ(dk_heap_memory_remove("h", m, n * PG), 0);
	CHECK_INT_EQ(dk_heap_destroy("h"), 0);
	unmap_pages(m, n + 2);
	dk_cleanup();
}

static void add_zeroes_and_allocates_inside(int with_tbl)
{
	REQUIRE_INT_EQ(start(), 0);
	REQUIRE_INT_EQ(dk_heap_create("ext"), 0);
	int sock = dk_heap_get_socket("ext");
	const unsigned int n = 16;
	const size_t len = n * PG;
	unsigned char *m = map_pages(n);
	REQUIRE(m != NULL);
	memset(m, 0xab, len);
	dk_iova_t tbl[16];
	fill_table(tbl, n, 0, 0x4000000000ull); /* scattered pages */
	REQUIRE_INT_EQ(dk_heap_memory_add("ext", m, len, with_tbl ? tbl : NULL, n, PG), 0);
	CHECK(zeroed_chunk(m, len));
	CHECK_INT_EQ(heap_stat(sock, 0), len);
	CHECK_INT_EQ(heap_stat(sock, 1), 0);

	struct dk_memseg ms;
	REQUIRE_INT_EQ(dk_mem_virt2memseg(m + 3 * PG + 1, &ms), 0);
	CHECK(ms.addr == m + 3 * PG);
	CHECK_INT_EQ(ms.len, PG);
	CHECK_INT_EQ(ms.socket_id, sock);
	CHECK((ms.flags & (DK_MEMSEG_EXTERNAL | DK_MEMSEG_HEAP)) == (DK_MEMSEG_EXTERNAL | DK_MEMSEG_HEAP));
	CHECK_INT_EQ(ms.iova, with_tbl ? tbl[3] : DK_BAD_IOVA);

	size_t sizes[] = { 1, 64, 100, 1000, 4096, 9000 };
	void *blk[DK_ARRAY_SIZE(sizes)];
	for (size_t i = 0; i < DK_ARRAY_SIZE(sizes); i++) {
		unsigned char *p = dk_malloc_socket("t", sizes[i], 0, sock);
		blk[i] = p;
		REQUIRE(p != NULL);
		CHECK(inside(p, sizes[i], m, len));
		CHECK(dk_malloc_usable_size(p) >= sizes[i]);
		size_t off = (size_t)(p - m);
		dk_iova_t want = with_tbl ? tbl[off / PG] + off % PG : DK_BAD_IOVA;
		CHECK_INT_EQ(dk_malloc_virt2iova(p), want);
		CHECK_INT_EQ(dk_mem_virt2iova(p), want);
		memset(p, 0x11, sizes[i]);
	}
	CHECK_INT_EQ(heap_stat(sock, 1), DK_ARRAY_SIZE(sizes));
	/* Zeroed and aligned variants stay in the chunk too. */
	unsigned char *z = dk_zmalloc_socket(NULL, 300, 256, sock);
	REQUIRE(z != NULL);
	CHECK(inside(z, 300, m, len));
	CHECK_INT_EQ((uintptr_t)z % 256, 0);
	CHECK(all_bytes(z, 300, 0));
	/* realloc keeps the block on its heap. */
	unsigned char *r = dk_realloc(blk[1], 6000, 0);
	REQUIRE(r != NULL);
	blk[1] = r;
	CHECK(inside(r, 6000, m, len));
	CHECK(all_bytes(r, 64, 0x11));
	/* DK_SOCKET_ANY never picks an external heap. */
	void *any = dk_malloc(NULL, 100, 0);
	REQUIRE(any != NULL);
	CHECK(!inside(any, 1, m, len));
	dk_free(any);

	for (size_t i = 0; i < DK_ARRAY_SIZE(blk); i++)
		dk_free(blk[i]);
	dk_free(z);
	/* External blocks are not thread-cached: the books are exact at once. */
	CHECK_INT_EQ(heap_stat(sock, 1), 0);
	CHECK_INT_EQ(heap_stat(sock, 2), 0);
	CHECK_INT_EQ(dk_heap_memory_remove("ext", m, len), 0);
	CHECK_INT_EQ(heap_stat(sock, 0), 0);
	CHECK_INT_EQ(dk_mem_virt2iova(m), DK_BAD_IOVA);
	CHECK_INT_EQ(dk_mem_virt2memseg(m, &ms), -ENOENT);
	CHECK_INT_EQ(dk_heap_destroy("ext"), 0);
	unmap_pages(m, n);
	dk_cleanup();
}

DK_TEST(add_zeroes_and_allocates_inside_with_table)
{
	add_zeroes_and_allocates_inside(1);
}

DK_TEST(add_zeroes_and_allocates_inside_without_table)
{
	add_zeroes_and_allocates_inside(0);
}

DK_TEST(several_chunks_in_one_heap)
{
	REQUIRE_INT_EQ(start(), 0);
	REQUIRE_INT_EQ(dk_heap_create("multi"), 0);
	int sock = dk_heap_get_socket("multi");
	/* Three VA-adjacent chunks of 4 pages. */
	unsigned char *all = map_pages(12), *m[3];
	REQUIRE(all != NULL);
	for (int i = 0; i < 3; i++) {
		m[i] = all + (size_t)i * 4 * PG;
		REQUIRE_INT_EQ(dk_heap_memory_add("multi", m[i], 4 * PG, NULL, 4, PG), 0);
	}
	CHECK_INT_EQ(heap_stat(sock, 0), 3 * 4 * PG);
	/* Three blocks of 12 KiB need one chunk each. */
	void *b[3];
	int hit[3] = { 0, 0, 0 };
	for (int i = 0; i < 3; i++) {
		b[i] = dk_malloc_socket(NULL, 3 * PG, 0, sock);
		REQUIRE(b[i] != NULL);
		for (int k = 0; k < 3; k++)
			hit[k] += inside(b[i], 3 * PG, m[k], 4 * PG);
	}
	CHECK(hit[0] == 1 && hit[1] == 1 && hit[2] == 1);
	/* No block spans chunks, even VA-adjacent ones. */
	errno = 0;
	CHECK(dk_malloc_socket(NULL, 5 * PG, 0, sock) == NULL);
	CHECK_INT_EQ(errno, ENOMEM);
	for (int i = 0; i < 3; i++)
		dk_free(b[i]);
	/* Removing the middle one leaves the others usable. */
	CHECK_INT_EQ(dk_heap_memory_remove("multi", m[1], 4 * PG), 0);
	CHECK_INT_EQ(heap_stat(sock, 0), 2 * 4 * PG);
	void *q = dk_malloc_socket(NULL, 3 * PG, 0, sock);
	CHECK(q != NULL && !inside(q, 1, m[1], 4 * PG));
	dk_free(q);
	CHECK_INT_EQ(dk_heap_memory_remove("multi", m[0], 4 * PG), 0);
	CHECK_INT_EQ(dk_heap_memory_remove("multi", m[2], 4 * PG), 0);
	unmap_pages(all, 12);
	CHECK_INT_EQ(dk_heap_destroy("multi"), 0);
	dk_cleanup();
}

DK_TEST(overlapping_memory_is_eexist_and_untouched)
{
	REQUIRE_INT_EQ(start(), 0);
	REQUIRE_INT_EQ(dk_heap_create("A"), 0);
	REQUIRE_INT_EQ(dk_heap_create("B"), 0);
	int sa = dk_heap_get_socket("A"), sb = dk_heap_get_socket("B");
	unsigned char *m = map_pages(64);
	REQUIRE(m != NULL);
	memset(m, 0xab, 64 * PG);
	dk_iova_t tbl[64];
	fill_table(tbl, 64, 1, 0x200000000ull);
	/* Chunk of A: pages 8..15. */
	REQUIRE_INT_EQ(dk_heap_memory_add("A", m + 8 * PG, 8 * PG, tbl + 8, 8, PG), 0);
	unsigned char *blk = dk_malloc_socket(NULL, 1000, 0, sa);
	REQUIRE(blk != NULL);
	memset(blk, 0xcd, 1000);
	/* Registered (non-heap) memory: pages 32..39. */
	REQUIRE_INT_EQ(dk_extmem_register(m + 32 * PG, 8 * PG, NULL, 8, PG), 0);

	struct {
		unsigned int first, n;
	} r[] = {
		{ 8, 8 },  /* the same chunk */
		{ 12, 8 }, /* its tail and beyond */
		{ 4, 8 },  /* before it and its head */
		{ 4, 16 }, /* around it */
		{ 10, 2 }, /* inside it */
		{ 32, 8 }, /* the registered range */
		{ 36, 8 },
		{ 28, 8 },
		{ 34, 1 },
	};
	const char *heaps[] = { "A", "B" };
	for (size_t h = 0; h < 2; h++) {
		for (size_t i = 0; i < DK_ARRAY_SIZE(r); i++) {
			for (int with_tbl = 0; with_tbl < 2; with_tbl++) {
				dk_test_log_capture_start();
				int rc = dk_heap_memory_add(heaps[h], m + r[i].first * PG, r[i].n * PG,
							    with_tbl ? tbl + r[i].first : NULL, r[i].n, PG);
				if (rc != -EEXIST)
					dk_test_fail(__FILE__, __LINE__,
						     "add to %s of pages %u..%u (table %d): %d, want -EEXIST",
						     heaps[h], r[i].first, r[i].first + r[i].n - 1, with_tbl, rc);
				CHECK(dk_test_log_captured()[0] != '\0');
				dk_test_log_capture_stop();
			}
		}
	}
	/* Nothing was zeroed: not the live block, not the registered memory, not
	 * the free pages around. */
	CHECK(all_bytes(blk, 1000, 0xcd));
	CHECK(all_bytes(m, 8 * PG, 0xab));
	CHECK(all_bytes(m + 16 * PG, 48 * PG, 0xab));
	CHECK_INT_EQ(heap_stat(sa, 0), 8 * PG);
	CHECK_INT_EQ(heap_stat(sb, 0), 0);
	CHECK_INT_EQ(dk_mem_virt2iova(m + 8 * PG), tbl[8]);
	CHECK_INT_EQ(dk_mem_virt2iova(m + 32 * PG), DK_BAD_IOVA);

	/* Memory of an internal heap cannot be added either. */
	unsigned char *in = dk_malloc(NULL, 3 * PG, 0);
	REQUIRE(in != NULL);
	memset(in, 0x77, 3 * PG);
	unsigned char *pg_in = (unsigned char *)(((uintptr_t)in + PG - 1) & ~(uintptr_t)(PG - 1));
	CHECK_INT_EQ(dk_heap_memory_add("B", pg_in, PG, NULL, 1, PG), -EEXIST);
	CHECK(all_bytes(in, 3 * PG, 0x77));
	dk_free(in);

	/* Adjacent ranges are fine, in either heap. */
	CHECK_INT_EQ(dk_heap_memory_add("B", m + 16 * PG, 8 * PG, NULL, 8, PG), 0);
	CHECK_INT_EQ(dk_heap_memory_add("A", m, 8 * PG, NULL, 8, PG), 0);
	CHECK_INT_EQ(dk_heap_memory_add("A", m + 40 * PG, 8 * PG, NULL, 8, PG), 0);
	CHECK_INT_EQ(heap_stat(sb, 0), 8 * PG);
	CHECK_INT_EQ(heap_stat(sa, 0), 24 * PG);
	CHECK_INT_EQ(dk_heap_memory_remove("A", m + 40 * PG, 8 * PG), 0);
	CHECK_INT_EQ(dk_heap_memory_remove("A", m, 8 * PG), 0);
	CHECK_INT_EQ(dk_heap_memory_remove("B", m + 16 * PG, 8 * PG), 0);

	dk_free(blk);
	CHECK_INT_EQ(dk_heap_memory_remove("A", m + 8 * PG, 8 * PG), 0);
	CHECK_INT_EQ(dk_extmem_unregister(m + 32 * PG, 8 * PG), 0);
	/* Once gone, the ranges can be added again. */
	CHECK_INT_EQ(dk_heap_memory_add("B", m + 4 * PG, 40 * PG, NULL, 40, PG), 0);
	CHECK_INT_EQ(dk_heap_memory_remove("B", m + 4 * PG, 40 * PG), 0);
	CHECK_INT_EQ(dk_heap_destroy("A"), 0);
	CHECK_INT_EQ(dk_heap_destroy("B"), 0);
	unmap_pages(m, 64);
	dk_cleanup();
}

/* ---- remove, destroy ---------------------------------------------------- */

DK_TEST(remove_must_match_a_chunk_exactly)
{
	REQUIRE_INT_EQ(start(), 0);
	REQUIRE_INT_EQ(dk_heap_create("h"), 0);
	REQUIRE_INT_EQ(dk_heap_create("other"), 0);
	int sock = dk_heap_get_socket("h");
	unsigned char *m = map_pages(24);
	REQUIRE(m != NULL);
	REQUIRE_INT_EQ(dk_heap_memory_add("h", m, 16 * PG, NULL, 16, PG), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_heap_memory_remove("h", m, 8 * PG), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "exactly");
	CHECK_INT_EQ(dk_heap_memory_remove("h", m + 8 * PG, 8 * PG), -ENOENT);
	CHECK_INT_EQ(dk_heap_memory_remove("h", m + 4 * PG, 4 * PG), -ENOENT);
	CHECK_INT_EQ(dk_heap_memory_remove("h", m, 20 * PG), -ENOENT);
	CHECK_INT_EQ(dk_heap_memory_remove("h", m + 16 * PG, 4 * PG), -ENOENT);
	CHECK_INT_EQ(dk_heap_memory_remove("other", m, 16 * PG), -ENOENT);
	CHECK_INT_EQ(dk_heap_memory_remove("h", NULL, 16 * PG), -EINVAL);
	CHECK_INT_EQ(dk_heap_memory_remove("h", m, 0), -EINVAL);
	dk_test_log_capture_stop();
	CHECK_INT_EQ(heap_stat(sock, 0), 16 * PG);
	CHECK_INT_EQ(dk_mem_virt2memseg(m, &(struct dk_memseg){ 0 }), 0);

	/* With an allocation: -EBUSY, and the chunk stays usable. */
	void *p = dk_malloc_socket(NULL, 64, 0, sock);
	REQUIRE(p != NULL);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_heap_memory_remove("h", m, 16 * PG), -EBUSY);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "free them first");
	dk_test_log_capture_stop();
	CHECK_INT_EQ(heap_stat(sock, 0), 16 * PG);
	void *q = dk_malloc_socket(NULL, 64, 0, sock);
	CHECK(q != NULL && inside(q, 64, m, 16 * PG));
	dk_free(q);
	CHECK_INT_EQ(dk_heap_memory_remove("h", m, 16 * PG), -EBUSY);
	dk_free(p);
	/* No thread flush needed: the remove sees the free at once. */
	CHECK_INT_EQ(dk_heap_memory_remove("h", m, 16 * PG), 0);
	CHECK_INT_EQ(dk_heap_memory_remove("h", m, 16 * PG), -ENOENT);
	CHECK_INT_EQ(heap_stat(sock, 0), 0);
	errno = 0;
	CHECK(dk_malloc_socket(NULL, 64, 0, sock) == NULL);
	CHECK_INT_EQ(errno, ENOMEM);
	CHECK_INT_EQ(dk_heap_destroy("h"), 0);
	CHECK_INT_EQ(dk_heap_destroy("other"), 0);
	unmap_pages(m, 24);
	dk_cleanup();
}

DK_TEST(destroy_with_memory_is_ebusy)
{
	REQUIRE_INT_EQ(start(), 0);
	REQUIRE_INT_EQ(dk_heap_create("h"), 0);
	unsigned char *m = map_pages(4);
	REQUIRE(m != NULL);
	REQUIRE_INT_EQ(dk_heap_memory_add("h", m, 4 * PG, NULL, 4, PG), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_heap_destroy("h"), -EBUSY);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "remove its memory");
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_heap_get_socket("h"), DK_EXTERNAL_SOCKET_BASE);
	CHECK_INT_EQ(dk_heap_memory_remove("h", m, 4 * PG), 0);
	CHECK_INT_EQ(dk_heap_destroy("h"), 0);
	CHECK_INT_EQ(dk_heap_destroy("h"), -ENOENT);
	unmap_pages(m, 4);
	dk_cleanup();
}

/* ---- allocation behaviour ------------------------------------------------ */

DK_TEST(external_socket_never_falls_back)
{
	REQUIRE_INT_EQ(start(), 0);
	REQUIRE_INT_EQ(dk_heap_create("small"), 0);
	int sock = dk_heap_get_socket("small");
	/* An empty external heap has nothing to give. */
	errno = 0;
	CHECK(dk_malloc_socket(NULL, 64, 0, sock) == NULL);
	CHECK_INT_EQ(errno, ENOMEM);

	unsigned char *m = map_pages(16);
	REQUIRE(m != NULL);
	REQUIRE_INT_EQ(dk_heap_memory_add("small", m, 16 * PG, NULL, 16, PG), 0);
	void *blk[200];
	int n = 0;
	while (n < (int)DK_ARRAY_SIZE(blk)) {
		void *p = dk_malloc_socket(NULL, 1000, 0, sock);
		if (!p)
			break;
		CHECK(inside(p, 1000, m, 16 * PG));
		blk[n++] = p;
	}
	CHECK(n >= 50);
	CHECK(n < (int)DK_ARRAY_SIZE(blk));
	CHECK_INT_EQ(heap_stat(sock, 1), n);
	errno = 0;
	CHECK(dk_malloc_socket(NULL, 1000, 0, sock) == NULL);
	CHECK_INT_EQ(errno, ENOMEM);
	errno = 0;
	CHECK(dk_zmalloc_socket(NULL, 1000, 0, sock) == NULL);
	CHECK_INT_EQ(errno, ENOMEM);
	errno = 0;
	CHECK(dk_malloc_socket(NULL, 1u << 20, 0, sock) == NULL);
	CHECK_INT_EQ(errno, ENOMEM);
	/* errno describes this failure, whatever it held before the call. */
	errno = EINVAL;
	CHECK(dk_malloc_socket(NULL, 1000, 0, sock) == NULL);
	CHECK_INT_EQ(errno, ENOMEM);
	/* Internal heaps are unaffected. */
	void *any = dk_malloc(NULL, 1000, 0);
	CHECK(any != NULL && !inside(any, 1000, m, 16 * PG));
	dk_free(any);
	for (int i = 0; i < n; i++)
		dk_free(blk[i]);
	CHECK_INT_EQ(heap_stat(sock, 1), 0);
	void *again = dk_malloc_socket(NULL, 1000, 0, sock);
	CHECK(again != NULL);
	dk_free(again);
	CHECK_INT_EQ(dk_heap_memory_remove("small", m, 16 * PG), 0);
	CHECK_INT_EQ(dk_heap_destroy("small"), 0);
	unmap_pages(m, 16);
	dk_cleanup();
}

/* One IOVA-contig scenario under the IOVA mode the library was started in. */
static void iova_contig_case(void)
{
	REQUIRE_INT_EQ(dk_heap_create("scattered"), 0);
	REQUIRE_INT_EQ(dk_heap_create("contig"), 0);
	REQUIRE_INT_EQ(dk_heap_create("noiova"), 0);
	REQUIRE_INT_EQ(dk_heap_create("pairs"), 0);
	int s_sc = dk_heap_get_socket("scattered"), s_co = dk_heap_get_socket("contig");
	int s_no = dk_heap_get_socket("noiova"), s_pa = dk_heap_get_socket("pairs");
	const unsigned int n = 16;
	unsigned char *m = map_pages(4 * n);
	REQUIRE(m != NULL);
	dk_iova_t sc[16], co[16], pa[16];
	fill_table(sc, n, 0, 0x10000000ull);
	fill_table(co, n, 1, 0x20000000ull);
	/* Pages 2k and 2k+1 are IOVA-adjacent, 2k+1 and 2k+2 are not. */
	for (unsigned int i = 0; i < n; i++)
		pa[i] = 0x30000000ull + (dk_iova_t)(i / 2) * 4 * PG + (i % 2) * PG;
	REQUIRE_INT_EQ(dk_heap_memory_add("scattered", m, n * PG, sc, n, PG), 0);
	REQUIRE_INT_EQ(dk_heap_memory_add("contig", m + n * PG, n * PG, co, n, PG), 0);
	REQUIRE_INT_EQ(dk_heap_memory_add("noiova", m + 2 * n * PG, n * PG, NULL, n, PG), 0);
	REQUIRE_INT_EQ(dk_heap_memory_add("pairs", m + 3 * n * PG, n * PG, pa, n, PG), 0);

	/* Without the flag, a multi-page block is fine anywhere. */
	void *p = dk_malloc_socket(NULL, 3 * PG, 0, s_sc);
	CHECK(p != NULL);
	dk_free(p);
	/* With it: never across scattered pages. */
	errno = 0;
	p = dk_malloc_flags(NULL, 2 * PG, 0, 0, s_sc, DK_MALLOC_IOVA_CONTIG);
	if (p) {
		dk_test_fail(__FILE__, __LINE__,
			     "IOVA_CONTIG block of 8 KiB on scattered pages: %p, iova %#" PRIx64
			     " and %#" PRIx64 " at +4 KiB (mode %d)",
			     p, dk_mem_virt2iova(p), dk_mem_virt2iova((char *)p + PG), dk_iova_mode());
		dk_free(p);
	} else {
		CHECK_INT_EQ(errno, ENOMEM);
	}
	/* Nor on pages without any IOVA. */
	p = dk_malloc_flags(NULL, 2 * PG, 0, 0, s_no, DK_MALLOC_IOVA_CONTIG);
	CHECK(p == NULL);
	dk_free(p);
	/* A block inside one page is always contiguous. */
	p = dk_malloc_flags(NULL, 1000, 0, PG, s_sc, DK_MALLOC_IOVA_CONTIG);
	CHECK(p != NULL);
	if (p)
		CHECK_INT_EQ(dk_mem_virt2iova((char *)p + 999), dk_mem_virt2iova(p) + 999);
	dk_free(p);
	/* The failed attempts left nothing allocated. */
	CHECK_INT_EQ(heap_stat(s_sc, 1), 0);
	/* Contiguous table: multi-page blocks succeed. */
	unsigned char *c = dk_malloc_flags(NULL, 5 * PG, 0, 0, s_co, DK_MALLOC_IOVA_CONTIG);
	CHECK(c != NULL);
	if (c) {
		dk_iova_t io = dk_malloc_virt2iova(c);
		size_t off = (size_t)(c - (m + n * PG));
		CHECK_INT_EQ(io, co[off / PG] + off % PG);
		for (size_t k = 0; k < 5 * PG; k += 1021)
			CHECK_INT_EQ(dk_mem_virt2iova(c + k), io + k);
		CHECK_INT_EQ(dk_mem_virt2iova(c + 5 * PG - 1), io + 5 * PG - 1);
	}
	dk_free(c);
	/* Pairs: an 8 KiB block is found on an IOVA-contiguous pair of pages. */
	c = dk_malloc_flags(NULL, 6000, 2 * PG, 0, s_pa, DK_MALLOC_IOVA_CONTIG);
	CHECK(c != NULL);
	if (c)
		CHECK_INT_EQ(dk_mem_virt2iova(c + 5999), dk_mem_virt2iova(c) + 5999);
	dk_free(c);
	CHECK_INT_EQ(heap_stat(s_pa, 1), 0);
	CHECK_INT_EQ(dk_heap_memory_remove("scattered", m, n * PG), 0);
	CHECK_INT_EQ(dk_heap_memory_remove("contig", m + n * PG, n * PG), 0);
	CHECK_INT_EQ(dk_heap_memory_remove("noiova", m + 2 * n * PG, n * PG), 0);
	CHECK_INT_EQ(dk_heap_memory_remove("pairs", m + 3 * n * PG, n * PG), 0);
	unmap_pages(m, 4 * n);
}

DK_TEST(iova_contig_follows_the_table_in_va_mode)
{
	REQUIRE_INT_EQ(start_mode(DK_IOVA_MODE_VA), 0);
	iova_contig_case();
	dk_cleanup();
}

DK_TEST(iova_contig_follows_the_table_in_pa_mode)
{
	if (geteuid() != 0)
		SKIP("PA mode needs root (CAP_SYS_ADMIN for /proc/self/pagemap)");
	int rc = start_mode(DK_IOVA_MODE_PA);
	if (rc == -ENOTSUP)
		SKIP("no physical addresses here (dk_init: -ENOTSUP)");
	REQUIRE_INT_EQ(rc, 0);
	iova_contig_case();
	dk_cleanup();
}

/* ---- events, attach/detach ------------------------------------------------ */

DK_TEST(add_and_remove_fire_events)
{
	REQUIRE_INT_EQ(start(), 0);
	REQUIRE_INT_EQ(dk_heap_create("ev"), 0);
	unsigned char *m = map_pages(8);
	REQUIRE(m != NULL);
	dk_iova_t tbl[8];
	fill_table(tbl, 8, 0, 0x50000000ull);
	g_nev = 0;
	REQUIRE_INT_EQ(dk_mem_event_callback_register("test_heap_ext", record_event, NULL), 0);
	int exact;
	dk_iova_t io = 0;

	REQUIRE_INT_EQ(dk_heap_memory_add("ev", m, 8 * PG, tbl, 8, PG), 0);
	CHECK_INT_EQ(events_for(DK_MEM_EVENT_ALLOC, m, 8 * PG, &exact, &io), 1);
	CHECK_INT_EQ(exact, 1);
	CHECK_INT_EQ(io, tbl[0]); /* resolvable in the callback */
	CHECK_INT_EQ(events_for(DK_MEM_EVENT_FREE, m, 8 * PG, &exact, NULL), 0);

	/* A failed add fires nothing. */
	g_nev = 0;
	CHECK_INT_EQ(dk_heap_memory_add("ev", m, 8 * PG, tbl, 8, PG), -EEXIST);
	CHECK_INT_EQ(events_for(DK_MEM_EVENT_ALLOC, m, 8 * PG, &exact, NULL), 0);
	/* Allocating from the chunk fires nothing either. */
	void *p = dk_malloc_socket(NULL, 3 * PG, 0, dk_heap_get_socket("ev"));
	CHECK(p != NULL);
	CHECK_INT_EQ(g_nev, 0);
	/* A refused remove fires nothing. */
	CHECK_INT_EQ(dk_heap_memory_remove("ev", m, 8 * PG), -EBUSY);
	CHECK_INT_EQ(events_for(DK_MEM_EVENT_FREE, m, 8 * PG, &exact, NULL), 0);
	dk_free(p);

	g_nev = 0;
	io = 0;
	REQUIRE_INT_EQ(dk_heap_memory_remove("ev", m, 8 * PG), 0);
	CHECK_INT_EQ(events_for(DK_MEM_EVENT_FREE, m, 8 * PG, &exact, &io), 1);
	CHECK_INT_EQ(exact, 1);
	CHECK_INT_EQ(io, tbl[0]); /* still resolvable during FREE */
	CHECK_INT_EQ(events_for(DK_MEM_EVENT_ALLOC, m, 8 * PG, &exact, NULL), 0);
	CHECK_INT_EQ(dk_mem_virt2iova(m), DK_BAD_IOVA);

	CHECK_INT_EQ(dk_mem_event_callback_unregister("test_heap_ext", NULL), 0);
	CHECK_INT_EQ(dk_heap_destroy("ev"), 0);
	unmap_pages(m, 8);
	dk_cleanup();
}

DK_TEST(attach_and_detach_in_one_process)
{
	REQUIRE_INT_EQ(start(), 0);
	REQUIRE_INT_EQ(dk_heap_create("mp"), 0);
	REQUIRE_INT_EQ(dk_heap_create("mp2"), 0);
	unsigned char *m = map_pages(8);
	REQUIRE(m != NULL);
	dk_iova_t tbl[8];
	fill_table(tbl, 8, 1, 0x60000000ull);
	REQUIRE_INT_EQ(dk_heap_memory_add("mp", m, 8 * PG, tbl, 8, PG), 0);
	g_nev = 0;
	REQUIRE_INT_EQ(dk_mem_event_callback_register("test_heap_ext", record_event, NULL), 0);
	int exact;
	dk_iova_t io = 0;

	/* Added here means attached here. */
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_heap_memory_attach("mp", m, 8 * PG), -EEXIST);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "already attached");
	dk_test_log_capture_stop();
	CHECK_INT_EQ(g_nev, 0);
	/* Not a chunk of this heap / not exactly a chunk / bad arguments. */
	CHECK_INT_EQ(dk_heap_memory_attach("mp2", m, 8 * PG), -ENOENT);
	CHECK_INT_EQ(dk_heap_memory_detach("mp2", m, 8 * PG), -ENOENT);
	CHECK_INT_EQ(dk_heap_memory_attach("mp", m, 4 * PG), -ENOENT);
	CHECK_INT_EQ(dk_heap_memory_detach("mp", m + 4 * PG, 4 * PG), -ENOENT);
	CHECK_INT_EQ(dk_heap_memory_attach("mp", NULL, 8 * PG), -EINVAL);
	CHECK_INT_EQ(dk_heap_memory_detach("mp", m, 0), -EINVAL);
	CHECK_INT_EQ(g_nev, 0);

	io = 0;
	CHECK_INT_EQ(dk_heap_memory_detach("mp", m, 8 * PG), 0);
	CHECK_INT_EQ(events_for(DK_MEM_EVENT_FREE, m, 8 * PG, &exact, &io), 1);
	CHECK_INT_EQ(exact, 1);
	CHECK_INT_EQ(io, tbl[0]);
	CHECK_INT_EQ(dk_mem_virt2iova(m + 100), DK_BAD_IOVA);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_heap_memory_detach("mp", m, 8 * PG), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "not attached");
	dk_test_log_capture_stop();
	CHECK_INT_EQ(events_for(DK_MEM_EVENT_FREE, m, 8 * PG, &exact, NULL), 1);

	g_nev = 0;
	io = 0;
	CHECK_INT_EQ(dk_heap_memory_attach("mp", m, 8 * PG), 0);
	CHECK_INT_EQ(events_for(DK_MEM_EVENT_ALLOC, m, 8 * PG, &exact, &io), 1);
	CHECK_INT_EQ(exact, 1);
	CHECK_INT_EQ(io, tbl[0]);
	CHECK_INT_EQ(dk_mem_virt2iova(m + 5 * PG + 7), tbl[5] + 7);
	CHECK_INT_EQ(dk_heap_memory_attach("mp", m, 8 * PG), -EEXIST);
	/* Usable again. */
	void *p = dk_malloc_socket(NULL, 100, 0, dk_heap_get_socket("mp"));
	CHECK(p != NULL && inside(p, 100, m, 8 * PG));
	dk_free(p);

	g_nev = 0;
	CHECK_INT_EQ(dk_heap_memory_remove("mp", m, 8 * PG), 0);
	CHECK_INT_EQ(events_for(DK_MEM_EVENT_FREE, m, 8 * PG, &exact, NULL), 1);
	CHECK_INT_EQ(dk_heap_memory_attach("mp", m, 8 * PG), -ENOENT);
	CHECK_INT_EQ(dk_heap_memory_detach("mp", m, 8 * PG), -ENOENT);
	CHECK_INT_EQ(dk_mem_event_callback_unregister("test_heap_ext", NULL), 0);
	CHECK_INT_EQ(dk_heap_destroy("mp"), 0);
	CHECK_INT_EQ(dk_heap_destroy("mp2"), 0);
	unmap_pages(m, 8);
	dk_cleanup();
}

DK_TEST(cleanup_with_live_external_heaps)
{
	REQUIRE_INT_EQ(start(), 0);
	REQUIRE_INT_EQ(dk_heap_create("left"), 0);
	unsigned char *m = map_pages(8);
	REQUIRE(m != NULL);
	REQUIRE_INT_EQ(dk_heap_memory_add("left", m, 8 * PG, NULL, 8, PG), 0);
	void *p = dk_malloc_socket(NULL, 100, 0, dk_heap_get_socket("left"));
	CHECK(p != NULL);
	dk_cleanup(); /* forgets the heap and its chunk; the memory stays the application's */
	memset(m, 0xab, 8 * PG);
	REQUIRE_INT_EQ(start(), 0);
	CHECK_INT_EQ(dk_heap_get_socket("left"), -ENOENT);
	CHECK_INT_EQ(dk_mem_virt2iova(m), DK_BAD_IOVA);
	/* The same memory can go into a new heap, with the first id again. */
	REQUIRE_INT_EQ(dk_heap_create("again"), 0);
	CHECK_INT_EQ(dk_heap_get_socket("again"), DK_EXTERNAL_SOCKET_BASE);
	CHECK_INT_EQ(dk_heap_memory_add("again", m, 8 * PG, NULL, 8, PG), 0);
	CHECK(zeroed_chunk(m, 8 * PG));
	CHECK_INT_EQ(dk_heap_memory_remove("again", m, 8 * PG), 0);
	CHECK_INT_EQ(dk_heap_destroy("again"), 0);
	unmap_pages(m, 8);
	dk_cleanup();
}
