/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_iova: cost of dk_mem_virt2iova(), the inline radix lookup, against
 * the binary search over sorted segments that a naive layout would do.
 *
 * Layout (nothing is touched: the VA is a PROT_NONE NORESERVE reservation):
 *   A: 16 GiB registered with dk_extmem_register in 2 MiB pages with a
 *      per-page IOVA table (a shuffled, scattered table: 8192 entries);
 *   B: 16 GiB registered with an IOVA-contiguous table (stored as a delta).
 * Peer: a sorted array of the same layout as (va, len, iova) segments, one
 * per page of A and one for B (8193), searched with a plain binary search.
 *
 * The addresses (--lookups, default 10M) are drawn at random over A and B
 * once, before timing. Each run sums the IOVAs so nothing is optimised away;
 * both methods must give the same sum (the correctness check). Reported:
 * best and median ns per lookup over --runs runs (default 7) after one
 * untimed warm-up, for A only, B only and both mixed, and the ratio
 * binary search / radix (above 1: the radix lookup is faster).
 *
 * Then the translation map of dmakit/dma.h on the same radix: a map that
 * follows memory (its notify stores each 2 MiB page's IOVA), looked up on
 * the mixed addresses (dk_tmap_get + the offset in the page), against
 * dk_mem_virt2iova in the same run; the sums must agree.
 *
 * Then, for information: lookups that take the slow path (two small lists
 * in one 1 GiB window), without a peer.
 *
 * Exit status: 0; 1 when a lookup is wrong or the setup fails; 2 usage.
 * usage: bench_iova [--runs N] [--lookups N]
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <dmakit/dma.h>
#include <dmakit/memory.h>

#define GiB      ((uint64_t)1 << 30)
#define PAGE     ((uint64_t)2 << 20)
#define LIST_LEN (16 * GiB)
#define N_PAGES  ((unsigned int)(LIST_LEN / PAGE))
#define MAX_RUNS 101

struct seg {
	uintptr_t va;
	uint64_t len;
	dk_iova_t iova;
};

static struct seg *g_segs;
static unsigned int g_nsegs;

/* The naive lookup: binary search for the last segment starting <= va. */
static inline dk_iova_t bsearch_iova(uintptr_t va)
{
	unsigned int lo = 0, hi = g_nsegs;
	while (hi - lo > 1) {
		unsigned int mid = (lo + hi) / 2;
		if (g_segs[mid].va <= va)
			lo = mid;
		else
			hi = mid;
	}
	const struct seg *s = &g_segs[lo];
	if (va < s->va || va - s->va >= s->len)
		return DK_BAD_IOVA;
	return s->iova + (va - s->va);
}

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	g_rng ^= g_rng << 13;
	g_rng ^= g_rng >> 7;
	g_rng ^= g_rng << 17;
	return g_rng;
}

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/*
 * len bytes of reserved VA aligned to 1 GiB, so that each list owns its
 * 1 GiB windows (the shared-window slow path is measured on its own).
 */
static void *reserve(uint64_t len)
{
	char *p =
	    mmap(NULL, len + GiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	return (void *)(((uintptr_t)p + GiB - 1) & ~(uintptr_t)(GiB - 1));
}

static __attribute__((noinline)) uint64_t run_radix(const uintptr_t *a, size_t n)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += dk_mem_virt2iova((const void *)a[i]);
	return sum;
}

static __attribute__((noinline)) uint64_t run_bsearch(const uintptr_t *a, size_t n)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += bsearch_iova(a[i]);
	return sum;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

struct result {
	double best, median;
};

static int measure(const char *what, const uintptr_t *a, size_t n, int runs, struct result *radix,
		   struct result *bs)
{
	double tr[MAX_RUNS] = { 0 }, tb[MAX_RUNS] = { 0 };
	uint64_t sr = run_radix(a, n), sb = run_bsearch(a, n); /* warm-up + check */
	if (sr != sb) {
		fprintf(stderr, "%s: sums differ: radix %#llx, binary search %#llx\n", what,
			(unsigned long long)sr, (unsigned long long)sb);
		return -1;
	}
	for (int r = 0; r < runs; r++) {
		double t0 = now_ns();
		uint64_t s1 = run_radix(a, n);
		double t1 = now_ns();
		uint64_t s2 = run_bsearch(a, n);
		double t2 = now_ns();
		if (s1 != sr || s2 != sb)
			return -1;
		tr[r] = (t1 - t0) / (double)n;
		tb[r] = (t2 - t1) / (double)n;
	}
	qsort(tr, (size_t)runs, sizeof(double), cmp_double);
	qsort(tb, (size_t)runs, sizeof(double), cmp_double);
	radix->best = tr[0];
	radix->median = tr[runs / 2];
	bs->best = tb[0];
	bs->median = tb[runs / 2];
	printf("| %-28s | %6.2f | %6.2f | %7.2f | %7.2f | %5.1fx | %5.1fx |\n", what, radix->best,
	       radix->median, bs->best, bs->median, bs->best / radix->best,
	       bs->median / radix->median);
	return 0;
}

/* The map follows memory: each page's IOVA, as dk_mem_virt2iova gives it. */
static int tmap_notify(void *ctx, struct dk_tmap *m, enum dk_mem_event ev, void *va, size_t len)
{
	(void)ctx;
	if (ev == DK_MEM_EVENT_FREE)
		return dk_tmap_clear(m, va, len);
	for (size_t off = 0; off < len; off += PAGE) {
		int rc = dk_tmap_set(m, (char *)va + off, PAGE, dk_mem_virt2iova((char *)va + off));
		if (rc < 0)
			return rc;
	}
	return 0;
}

static __attribute__((noinline)) uint64_t run_tmap(const struct dk_tmap *m, const uintptr_t *a,
						   size_t n)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += dk_tmap_get(m, (const void *)a[i]) + (a[i] & (PAGE - 1));
	return sum;
}

/* Median ns per lookup of the translation map and of the radix, in turns. */
static int measure_tmap(const struct dk_tmap *m, const uintptr_t *a, size_t n, int runs)
{
	double tt[MAX_RUNS] = { 0 }, tr[MAX_RUNS] = { 0 };
	uint64_t st = run_tmap(m, a, n), sr = run_radix(a, n);
	if (st != sr) {
		fprintf(stderr, "translation map: sums differ: map %#llx, radix %#llx\n",
			(unsigned long long)st, (unsigned long long)sr);
		return -1;
	}
	for (int r = 0; r < runs; r++) {
		double t0 = now_ns();
		run_tmap(m, a, n);
		double t1 = now_ns();
		run_radix(a, n);
		double t2 = now_ns();
		tt[r] = (t1 - t0) / (double)n;
		tr[r] = (t2 - t1) / (double)n;
	}
	qsort(tt, (size_t)runs, sizeof(double), cmp_double);
	qsort(tr, (size_t)runs, sizeof(double), cmp_double);
	printf("translation map (dk_tmap_get, A and B mixed): best %.2f, median %.2f ns/lookup; map/radix median %.2f\n",
	       tt[0], tt[runs / 2], tt[runs / 2] / tr[runs / 2]);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_iova [--runs N (1..%d)] [--lookups N]\n", MAX_RUNS);
}

int main(int argc, char **argv)
{
	int runs = 7;
	size_t n = 10u * 1000 * 1000;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			runs = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--lookups") == 0 && i + 1 < argc) {
			n = strtoull(argv[++i], NULL, 10);
		} else {
			usage();
			return 2;
		}
	}
	if (runs < 1 || runs > MAX_RUNS || n == 0) {
		usage();
		return 2;
	}

	char *a = reserve(LIST_LEN), *b = reserve(LIST_LEN), *c = reserve(GiB);
	dk_iova_t *table = malloc(N_PAGES * sizeof(*table));
	g_segs = malloc((N_PAGES + 1) * sizeof(*g_segs));
	uintptr_t *addr = malloc(n * sizeof(*addr));
	if (!a || !b || !c || !table || !g_segs || !addr) {
		fprintf(stderr, "bench_iova: out of memory or address space\n");
		return 1;
	}
	/* A: page i at a shuffled 2 MiB-aligned IOVA in a 64 GiB space. */
	for (unsigned int i = 0; i < N_PAGES; i++)
		table[i] = (dk_iova_t)i * 4 * PAGE + 0x1000000000ull;
	for (unsigned int i = N_PAGES - 1; i > 0; i--) {
		unsigned int j = (unsigned int)(rnd() % (i + 1));
		dk_iova_t t = table[i];
		table[i] = table[j];
		table[j] = t;
	}
	int rc = dk_extmem_register(a, LIST_LEN, table, N_PAGES, PAGE);
	if (rc < 0) {
		fprintf(stderr, "bench_iova: registering A: %s\n", strerror(-rc));
		return 1;
	}
	/* B: one IOVA-contiguous run. */
	dk_iova_t *ctab = malloc(N_PAGES * sizeof(*ctab));
	if (!ctab)
		return 1;
	for (unsigned int i = 0; i < N_PAGES; i++)
		ctab[i] = 0x4000000000ull + (dk_iova_t)i * PAGE;
	rc = dk_extmem_register(b, LIST_LEN, ctab, N_PAGES, PAGE);
	if (rc < 0) {
		fprintf(stderr, "bench_iova: registering B: %s\n", strerror(-rc));
		return 1;
	}
	free(ctab);

	/* The peer's sorted segments. */
	g_nsegs = 0;
	struct seg sb = {(uintptr_t)b, LIST_LEN, 0x4000000000ull};
	int b_first = (uintptr_t)b < (uintptr_t)a;
	if (b_first)
		g_segs[g_nsegs++] = sb;
	for (unsigned int i = 0; i < N_PAGES; i++)
		g_segs[g_nsegs++] = (struct seg){(uintptr_t)a + i * PAGE, PAGE, table[i]};
	if (!b_first)
		g_segs[g_nsegs++] = sb;

	/* Spot checks against the tables. */
	for (int k = 0; k < 1000; k++) {
		uint64_t off = rnd() % LIST_LEN;
		if (dk_mem_virt2iova(a + off) != table[off / PAGE] + off % PAGE ||
		    dk_mem_virt2iova(b + off) != 0x4000000000ull + off) {
			fprintf(stderr, "bench_iova: wrong IOVA at +%#llx\n",
				(unsigned long long)off);
			return 1;
		}
	}

	printf("bench_iova: %zu random lookups per run, %d runs, 2 x 16 GiB registered (2 MiB pages)\n",
	       n, runs);
	printf("| addresses                    | radix ns/lookup  | bsearch ns/lookup | bsearch/radix  |\n");
	printf("|                              |  best  | median |   best  |  median |  best  | median |\n");
	printf("|------------------------------|--------|--------|---------|---------|--------|--------|\n");
	struct result ra, ba, rb, bb, rm, bm;
	for (size_t i = 0; i < n; i++)
		addr[i] = (uintptr_t)a + rnd() % LIST_LEN;
	if (measure("A: per-page table (8192 pg)", addr, n, runs, &ra, &ba) < 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		addr[i] = (uintptr_t)b + rnd() % LIST_LEN;
	if (measure("B: IOVA-contiguous (delta)", addr, n, runs, &rb, &bb) < 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		addr[i] = (uintptr_t)((rnd() & 1) ? a : b) + rnd() % LIST_LEN;
	if (measure("A and B mixed", addr, n, runs, &rm, &bm) < 0)
		return 1;
	printf("goal < 5 ns per lookup (mixed, median): %s (%.2f ns)\n",
	       rm.median < 5.0 ? "met" : "MISSED", rm.median);

	struct dk_tmap *tm = dk_tmap_create(21, DK_BAD_IOVA, tmap_notify, NULL);
	if (!tm) {
		fprintf(stderr, "bench_iova: dk_tmap_create: %s\n", strerror(errno));
		return 1;
	}
	if (measure_tmap(tm, addr, n, runs) < 0)
		return 1;
	dk_tmap_destroy(tm);

	/*
	 * The slow path: two 1 MiB lists of 4 KiB pages in one 1 GiB window
	 * (the window points to the shared slot; lookups take the read lock
	 * and search the list table). Not compared: for information.
	 */
	dk_iova_t *t1 = malloc(256 * sizeof(*t1));
	if (!t1)
		return 1;
	for (unsigned int i = 0; i < 256; i++)
		t1[i] = 0x8000000000ull + (dk_iova_t)(255 - i) * 4096;
	if (dk_extmem_register(c, 1 << 20, t1, 256, 4096) < 0 ||
	    dk_extmem_register(c + (8 << 20), 1 << 20, NULL, 0, 4096) < 0)
		return 1;
	size_t ns = n / 10;
	for (size_t i = 0; i < ns; i++)
		addr[i] = (uintptr_t)c + ((rnd() & 1) << 23) + rnd() % (1 << 20);
	double ts[MAX_RUNS] = { 0 };
	for (int r = 0; r < runs; r++) {
		double t0 = now_ns();
		run_radix(addr, ns);
		ts[r] = (now_ns() - t0) / (double)ns;
	}
	qsort(ts, (size_t)runs, sizeof(double), cmp_double);
	printf("slow path (two lists share a 1 GiB window): best %.2f, median %.2f ns/lookup\n",
	       ts[0], ts[runs / 2]);
	dk_extmem_unregister(c, 1 << 20);
	dk_extmem_unregister(c + (8 << 20), 1 << 20);
	free(t1);

	dk_extmem_unregister(a, LIST_LEN);
	dk_extmem_unregister(b, LIST_LEN);
	free(addr);
	free(g_segs);
	free(table);
	return 0;
}
