/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The P2P page pool (src/p2p/p2p_pool.c: segregated free runs, boundary
 * tags) against a first-fit bitmap pool written here as a model of the
 * kernel's genalloc with one bit per page (what p2pdma uses): find the first
 * zero bit, check the next n bits, restart after a set bit; word at a time.
 * Both run the same sequence of alloc/free operations on a pool of 1 GiB of
 * 4 KiB pages (262144 pages) in three workloads: small (1..16 pages),
 * mixed (mostly small, some up to 300 pages) and large (64..1024 pages),
 * each with a steady population of live allocations (random slot
 * replaced). Figures in ns per operation (an alloc or a free), best of
 * --runs, and the ratio dmakit / model (docs/performance.md).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "p2p/p2p_pool.h"

#define NPAGES (1u << 18)
#define OPS 400000u

/* ---- the model ------------------------------------------------------------- */

struct bm {
	uint64_t *w;
	uint32_t npages;
};

static uint32_t next_zero(const struct bm *b, uint32_t i)
{
	while (i < b->npages) {
		uint64_t v = ~b->w[i / 64] >> (i % 64);
		if (v)
			return i + (uint32_t)__builtin_ctzll(v);
		i = (i / 64 + 1) * 64;
	}
	return b->npages;
}

static uint32_t next_set(const struct bm *b, uint32_t i, uint32_t end)
{
	while (i < end) {
		uint64_t v = b->w[i / 64] >> (i % 64);
		if (v)
			return i + (uint32_t)__builtin_ctzll(v);
		i = (i / 64 + 1) * 64;
	}
	return end;
}

static void set_range(struct bm *b, uint32_t s, uint32_t n, int on)
{
	for (uint32_t i = s; i < s + n;) {
		uint32_t bit = i % 64, k = 64 - bit < s + n - i ? 64 - bit : s + n - i;
		uint64_t m = (k == 64 ? ~0ull : ((1ull << k) - 1)) << bit;
		b->w[i / 64] = on ? b->w[i / 64] | m : b->w[i / 64] & ~m;
		i += k;
	}
}

static int64_t bm_alloc(struct bm *b, uint32_t n)
{
	uint32_t s = 0;
	for (;;) {
		s = next_zero(b, s);
		if ((uint64_t)s + n > b->npages)
			return -1;
		uint32_t set = next_set(b, s, s + n);
		if (set == s + n) {
			set_range(b, s, n, 1);
			return s;
		}
		s = set + 1;
	}
}

/* ---- workloads -------------------------------------------------------------- */

struct op {
	uint32_t slot;
	uint32_t n;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint32_t size_of(int wl, uint64_t *s)
{
	if (wl == 0)
		return 1 + (uint32_t)(rnd(s) % 16);
	if (wl == 1) {
		uint64_t r = rnd(s) % 100;
		return r < 80 ? 1 + (uint32_t)(rnd(s) % 8) : 1 + (uint32_t)(rnd(s) % 300);
	}
	return 64 + (uint32_t)(rnd(s) % 961);
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

struct live {
	int64_t first;
	uint32_t n;
};

/* ns per operation; *fails counts requests that found no room */
static double run_dmakit(const struct op *ops, uint32_t slots, uint64_t *fails)
{
	struct dk__p2p_pool p;
	struct live *l = calloc(slots, sizeof(*l));
	if (!l || dk__p2p_pool_init(&p, NPAGES) < 0)
		abort();
	for (uint32_t i = 0; i < slots; i++)
		l[i].first = -1;
	uint64_t nops = 0;
	double t0 = now();
	for (uint32_t i = 0; i < OPS; i++) {
		struct live *x = &l[ops[i].slot];
		if (x->first >= 0) {
			dk__p2p_pool_free(&p, (uint64_t)x->first, x->n, NULL);
			nops++;
		}
		x->n = ops[i].n;
		x->first = dk__p2p_pool_alloc(&p, x->n);
		*fails += x->first < 0;
		nops++;
	}
	double t = (now() - t0) / (double)nops;
	dk__p2p_pool_fini(&p);
	free(l);
	return t;
}

static double run_model(const struct op *ops, uint32_t slots, uint64_t *fails)
{
	struct bm b = {calloc(NPAGES / 64, 8), NPAGES};
	struct live *l = calloc(slots, sizeof(*l));
	if (!l || !b.w)
		abort();
	for (uint32_t i = 0; i < slots; i++)
		l[i].first = -1;
	uint64_t nops = 0;
	double t0 = now();
	for (uint32_t i = 0; i < OPS; i++) {
		struct live *x = &l[ops[i].slot];
		if (x->first >= 0) {
			set_range(&b, (uint32_t)x->first, x->n, 0);
			nops++;
		}
		x->n = ops[i].n;
		x->first = bm_alloc(&b, x->n);
		*fails += x->first < 0;
		nops++;
	}
	double t = (now() - t0) / (double)nops;
	free(b.w);
	free(l);
	return t;
}

int main(int argc, char **argv)
{
	int runs = 5;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			runs = atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: %s [--runs N]\n", argv[0]);
			return 2;
		}
	}
	static const char *const names[] = {"small", "mixed", "large"};
	/* live allocations: about half the pool in use on average */
	static const uint32_t slots[] = {16384, 4096, 256};
	struct op *ops = malloc(OPS * sizeof(*ops));
	if (!ops)
		return 1;
	printf("pool of %u pages; ns per operation (alloc or free), best of %d runs\n", NPAGES,
	       runs);
	printf("%-7s %6s %10s %10s %7s %14s\n", "sizes", "live", "dmakit", "bitmap", "ratio",
	       "no-room d/m");
	for (int wl = 0; wl < 3; wl++) {
		uint64_t seed = 0x2545f4914f6cdd1dull + (uint64_t)wl;
		for (uint32_t i = 0; i < OPS; i++)
			ops[i] = (struct op){(uint32_t)(rnd(&seed) % slots[wl]), size_of(wl, &seed)};
		double d = 1e30, m = 1e30;
		uint64_t fd = 0, fm = 0;
		for (int r = 0; r < runs; r++) {
			uint64_t a = 0, b = 0;
			double x = run_dmakit(ops, slots[wl], &a), y = run_model(ops, slots[wl], &b);
			d = x < d ? x : d;
			m = y < m ? y : m;
			fd = a;
			fm = b;
		}
		printf("%-7s %6u %10.1f %10.1f %7.3f %7llu/%-6llu\n", names[wl], slots[wl], d, m,
		       d / m, (unsigned long long)fd, (unsigned long long)fm);
	}
	free(ops);
	return 0;
}
