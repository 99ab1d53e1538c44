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
 *
 * Then dk_p2p_find_many over 1000 published providers and 8 clients on a
 * fixture (4 root ports, a switch below each with 32 downstream ports, an
 * 8-function device below each port; the clients are the functions of one
 * device, the providers the others; an AMD Zen CPU file so that every
 * provider is reachable, through the host bridge for the other root
 * ports), in microseconds per call: cached (the distance cache warm) and
 * uncached (the topology generation bumped before each call, as a config
 * write or a rescan does), and what reading ACS Control of every device
 * that has it costs alone (an uncached call reads each once).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fcntl.h>
#include <unistd.h>

#include <dmakit/dmakit.h>

#include "bus/pci/pci_internal.h"
#include "bus/pci/pci_topo.h"
#include "core/sysfs.h"
#include "fixture.h"
#include "p2p/p2p_internal.h"
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

/* ---- find_many ------------------------------------------------------------------ */

#define NPROV 1000
#define NCLI 8

static struct dk_fx *build_tree(char names[][16])
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec ep = dk_fx_spec_endpoint();
	ep.bars[2] = (struct dk_fx_bar){0x800000000ull, 0x1000, 0x200 | 0x2000 | 0x100000};
	ep.multifunction = 1;
	unsigned int n = 0;
	for (unsigned int k = 0; k < 4; k++) {
		char bdf[16];
		unsigned int b0 = 1 + k * 34;
		struct dk_fx_spec s = dk_fx_spec_bridge(DK_PCIE_TYPE_ROOT_PORT);
		s.acs_ctrl = 0;
		snprintf(bdf, sizeof(bdf), "0000:00:1c.%u", k);
		struct dk_fx_dev *rp = dk_fx_add(fx, bdf, NULL, &s);
		s = dk_fx_spec_bridge(DK_PCIE_TYPE_UPSTREAM);
		snprintf(bdf, sizeof(bdf), "0000:%02x:00.0", b0);
		struct dk_fx_dev *up = dk_fx_add(fx, bdf, rp, &s);
		for (unsigned int d = 0; d < 32; d++) {
			s = dk_fx_spec_bridge(DK_PCIE_TYPE_DOWNSTREAM);
			s.acs_ctrl = 0;
			snprintf(bdf, sizeof(bdf), "0000:%02x:%02x.0", b0 + 1, d);
			struct dk_fx_dev *dn = dk_fx_add(fx, bdf, up, &s);
			for (unsigned int f = 0; f < 8 && n < NPROV + NCLI; f++, n++) {
				snprintf(names[n], 16, "0000:%02x:00.%u", b0 + 2 + d, f);
				struct dk_fx_dev *e = dk_fx_add(fx, names[n], dn, &ep);
				char path[4096];
				snprintf(path, sizeof(path), "%s/resource2", dk_fx_dev_path(e));
				int fd = open(path, O_RDWR | O_CREAT, 0600);
				if (fd < 0 || ftruncate(fd, 0x1000) != 0)
					abort();
				close(fd);
			}
		}
	}
	return fx;
}

static void bench_find_many(void)
{
	static char names[NPROV + NCLI][16];
	struct dk_fx *fx = build_tree(names);
	char cpu[4200];
	snprintf(cpu, sizeof(cpu), "%s/cpuinfo", dk_fx_root(fx));
	FILE *f = fopen(cpu, "w");
	if (!f)
		abort();
	fputs("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n", f);
	fclose(f);
	setenv("DMAKIT_CPUINFO", cpu, 1);
	dk__sysfs_set_root(dk_fx_root(fx));
	if (dk_pci_scan() < NPROV + NCLI)
		abort();
	const struct dk_pci_device *cl[NCLI];
	for (unsigned int i = 0; i < NCLI; i++)
		cl[i] = dk_pci_find(names[i]);
	for (unsigned int i = NCLI; i < NPROV + NCLI; i++) {
		struct dk_pci_device *d = dk_pci_find(names[i]);
		if (!d || dk_p2p_add_resource(d, 2, 0, 0) < 0 || dk_p2p_publish(d, true) < 0)
			abort();
	}
	if (!dk_p2p_find_many(cl, NCLI)) /* warms the cache */
		abort();
	double best_c = 1e30, best_u = 1e30;
	for (int r = 0; r < 3; r++) {
		double t0 = now();
		for (int i = 0; i < 10; i++)
			dk_p2p_find_many(cl, NCLI);
		double c = (now() - t0) / 10 / 1e3;
		t0 = now();
		for (int i = 0; i < 5; i++) {
			dk__pci_topo_bump();
			dk_p2p_find_many(cl, NCLI);
		}
		double u = (now() - t0) / 5 / 1e3;
		best_c = c < best_c ? c : best_c;
		best_u = u < best_u ? u : best_u;
	}
	/* What an uncached call cannot avoid: ACS Control of every device that has
	 * the capability (all on the paths here), read once. */
	unsigned int nacs = 0;
	double best_r = 1e30;
	for (int r = 0; r < 3; r++) {
		double t0 = now();
		nacs = 0;
		for (unsigned int i = 0; i < dk_pci_count(); i++) {
			const struct dk_pci_device *d = dk_pci_get(i);
			uint8_t b[2];
			if (d->caps.acs.offset &&
			    dk_pci_config_read(d, b, sizeof(b), d->caps.acs.offset + 6u) == 2)
				nacs++;
		}
		double t = (now() - t0) / 1e3;
		best_r = t < best_r ? t : best_r;
	}
	printf("\nfind_many over %u providers, %u clients: cached %.1f us, uncached %.1f us per call\n",
	       NPROV, NCLI, best_c, best_u);
	printf("  (of uncached: reading ACS Control of the %u devices that have it, once each: %.1f us)\n",
	       nacs, best_r);
	dk__p2p_cleanup();
	dk__pci_free_all();
	dk__sysfs_set_root(NULL);
	dk_fx_free(fx);
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
	dk_log_set_level(DK_LOG_ERR);
	bench_find_many();
	return 0;
}
