/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MR cache lookups (dk_mr_lookup) vs a model of mlx5's lookup written here
 * (MRU, 8-entry linear per-queue cache, per-queue sorted table of 256,
 * global sorted table under a pthread rwlock, branchy binary search), on the
 * same N one-page registrations (N = 8, 64, 512, 4096, 32768, 65536, or the
 * counts given as arguments): MRU hit, any hit (random registration), and
 * two threads at once. Then a miss that registers a run of 4 KiB pages
 * (4 KiB, 2 MiB, 64 MiB, 1 GiB; the reg operation does no device work) next
 * to pinning the same run with mlock + munlock, the least a
 * VFIO_IOMMU_MAP_DMA of it does (it pins every page). Figures in ns (wall
 * clock, and the threads' CPU time, which a machine shared with other work
 * disturbs less) and as ratios (docs/performance.md). Usage: bench_mr [N ...] (N 0: misses only).
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include <dmakit/memory.h>
#include <dmakit/mr.h>

#include "mr/mr_cache.h"

#define PG ((uintptr_t)4096)
#define NADDR 4096
#define ITERS 20000000u

static int reg(void *ctx, void *va, size_t len, uint32_t *key, dk_iova_t *iova)
{
	(void)ctx;
	(void)len;
	*key = 1;
	*iova = (uintptr_t)va;
	return 0;
}

static void dereg(void *ctx, void *va, size_t len, uint32_t key)
{
	(void)ctx, (void)va, (void)len, (void)key;
}

/* ---- the model ------------------------------------------------------------ */

struct ment {
	uintptr_t start, end;
	uint32_t key;
};

struct mtable {
	struct ment *e;
	unsigned int n;
};

struct mglobal {
	pthread_rwlock_t lock;
	struct mtable t;
};

struct mq {
	struct mglobal *g;
	unsigned int mru, head;
	struct ment cache[8];
	struct ment local_e[256];
	struct mtable local;
};

static int msearch(const struct mtable *t, uintptr_t a, struct ment *out)
{
	unsigned int lo = 0, hi = t->n;
	while (lo < hi) { /* branchy on purpose */
		unsigned int mid = (lo + hi) / 2;
		if (a < t->e[mid].start)
			hi = mid;
		else if (a >= t->e[mid].end)
			lo = mid + 1;
		else {
			*out = t->e[mid];
			return 1;
		}
	}
	return 0;
}

static void mlocal_insert(struct mq *q, const struct ment *e)
{
	if (q->local.n == 256)
		q->local.n = 0; /* full: mlx5 flushes and starts again */
	unsigned int i = q->local.n++;
	while (i > 0 && q->local.e[i - 1].start > e->start) {
		q->local.e[i] = q->local.e[i - 1];
		i--;
	}
	q->local.e[i] = *e;
}

static __attribute__((noinline)) uint32_t model_slow(struct mq *q, uintptr_t a)
{
	for (unsigned int i = 0; i < 8; i++)
		if (a >= q->cache[i].start && a < q->cache[i].end) {
			q->mru = i;
			return q->cache[i].key;
		}
	struct ment e;
	if (!msearch(&q->local, a, &e)) {
		pthread_rwlock_rdlock(&q->g->lock);
		int ok = msearch(&q->g->t, a, &e);
		pthread_rwlock_unlock(&q->g->lock);
		if (!ok)
			return UINT32_MAX;
		mlocal_insert(q, &e);
	}
	q->cache[q->head] = e;
	q->mru = q->head;
	q->head = (q->head + 1) % 8;
	return e.key;
}

static inline uint32_t model_lookup(struct mq *q, uintptr_t a)
{
	const struct ment *m = &q->cache[q->mru];
	if (a >= m->start && a < m->end)
		return m->key;
	return model_slow(q, a);
}

/* ---- runs ----------------------------------------------------------------- */

struct job {
	struct dk_mr_cache *c;
	struct mglobal *g;
	const uintptr_t *addr;
	int model;
	double ns, cpu_ns; /* per lookup: wall clock, and the thread's CPU time */
	double t0, t1;     /* wall clock span of the lookups */
};

static double clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double now(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static void *run(void *arg)
{
	struct job *j = arg;
	uint64_t sum = 0;
	double t0, c0;
	if (j->model) {
		static __thread struct mq q;
		q = (struct mq){.g = j->g};
		q.local.e = q.local_e;
		c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		t0 = now();
		for (unsigned int i = 0; i < ITERS; i++)
			sum += model_lookup(&q, j->addr[i & (NADDR - 1)]);
	} else {
		struct dk_mr_ctrl q;
		dk_mr_ctrl_init(&q, j->c);
		c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		t0 = now();
		for (unsigned int i = 0; i < ITERS; i++) {
			uint32_t key;
			dk_iova_t io;
			dk_mr_lookup(&q, (const void *)j->addr[i & (NADDR - 1)], 64, &key, &io);
			sum += key;
		}
	}
	j->t1 = now();
	j->cpu_ns = (clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / ITERS;
	j->t0 = t0;
	j->ns = (j->t1 - t0) / ITERS;
	if (sum == 42)
		puts("");
	return NULL;
}

static double one(struct job *j)
{
	run(j);
	return j->ns;
}

/* Two threads at once: wall ns per lookup (mean of the two); *cpu gets the
 * CPU-time figure and *together the least share of the shorter thread's CPU
 * time during which the other thread must have run too (from the wall span
 * and both CPU times; under 100%: the machine did not give both threads a
 * core all along, and the wall figure counts waiting). */
static double two(struct job *j, double *cpu, double *together)
{
	struct job b = *j;
	pthread_t t;
	pthread_create(&t, NULL, run, &b);
	run(j);
	pthread_join(t, NULL);
	double span = (j->t1 > b.t1 ? j->t1 : b.t1) - (j->t0 < b.t0 ? j->t0 : b.t0);
	double ca = j->cpu_ns * ITERS, cb = b.cpu_ns * ITERS;
	double both = ca + cb - span;
	*together = both <= 0 ? 0 : both / (ca < cb ? ca : cb);
	if (*together > 1)
		*together = 1;
	*cpu = (j->cpu_ns + b.cpu_ns) / 2;
	return (j->ns + b.ns) / 2;
}

/* Hits with n one-page registrations, dmakit and the model side by side. */
static int hits(unsigned int n)
{
	uintptr_t a = (uintptr_t)mmap(NULL, 2 * n * PG, PROT_NONE,
				      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (a == (uintptr_t)MAP_FAILED ||
	    dk_extmem_register((void *)a, 2 * n * PG, NULL, 0, PG) < 0)
		return 1;
	static const struct dk_mr_ops ops = {reg, dereg};
	struct dk_mr_cache *c = dk_mr_cache_create(&ops, NULL);
	dk_mr_register(c, (void *)a, 2 * n * PG);
	for (unsigned int i = 0; i < n; i++) /* n one-page registrations */
		dk__mr_cache_event(c, DK_MEM_EVENT_FREE, (void *)(a + (2 * i + 1) * PG), PG);
	struct mglobal g;
	pthread_rwlock_init(&g.lock, NULL);
	g.t.n = n;
	g.t.e = calloc(n, sizeof(*g.t.e));
	for (unsigned int i = 0; i < n; i++)
		g.t.e[i] = (struct ment){a + 2 * i * PG, a + (2 * i + 1) * PG, 1};
	static uintptr_t same[NADDR], any[NADDR];
	srand(n);
	for (unsigned int i = 0; i < NADDR; i++) {
		same[i] = a + 64;
		any[i] = a + 2 * (rand() % n) * PG + (rand() % 64) * 64;
	}
	struct job d = {.c = c, .g = &g, .addr = same}, m = {.c = c, .g = &g, .addr = same, .model = 1};
	double dm = one(&d), mm = one(&m);
	printf("%-6u %-8s %9.2f %9.2f %7.2f  cpu %.2f / %.2f\n", n, "mru", dm, mm, dm / mm,
	       d.cpu_ns, m.cpu_ns);
	d.addr = m.addr = any;
	double da = one(&d), ma = one(&m);
	double dac = d.cpu_ns, mac = m.cpu_ns;
	printf("%-6u %-8s %9.2f %9.2f %7.2f  cpu %.2f / %.2f\n", n, "any", da, ma, da / ma, dac,
	       mac);
	double dc2, mc2, dt, mt;
	double d2 = two(&d, &dc2, &dt), m2 = two(&m, &mc2, &mt);
	printf("%-6u %-8s %9.2f %9.2f %7.2f  cpu %.2f / %.2f (per-thread rate vs one thread: dmakit %.0f%% [cpu %.0f%%], model %.0f%% [cpu %.0f%%]; threads ran together >= %.0f%% / %.0f%%)\n",
	       n, "2thr-any", d2, m2, d2 / m2, dc2, mc2, 100 * da / d2, 100 * dac / dc2,
	       100 * ma / m2, 100 * mac / mc2, 100 * dt, 100 * mt);
	dk_mr_cache_destroy(c);
	dk_extmem_unregister((void *)a, 2 * n * PG);
	free(g.t.e);
	munmap((void *)a, 2 * n * PG);
	return 0;
}

/* ---- a miss that registers a run, vs pinning it --------------------------- */

/* ns of one dk_mr_lookup that misses on a run of len bytes and registers it
 * (mean of reps after a warm-up; the registration is dropped by a FREE
 * event between lookups, not timed). */
static double miss_ns(struct dk_mr_cache *c, uintptr_t a, size_t len, int reps)
{
	struct dk_mr_ctrl q;
	dk_mr_ctrl_init(&q, c);
	double sum = 0;
	for (int i = -1; i < reps; i++) {
		uint32_t key;
		dk_iova_t io;
		uintptr_t v = a + (len / 2 & ~(PG - 1)) + 64;
		double t0 = now();
		int rc = dk_mr_lookup(&q, (const void *)v, 64, &key, &io);
		double t = now() - t0;
		if (rc != 0 || io != v)
			return -1;
		if (i >= 0)
			sum += t;
		dk__mr_cache_event(c, DK_MEM_EVENT_FREE, (const void *)a, len);
	}
	return sum / reps;
}

/* ns of mlock + munlock of [a, a+len), its pages present (mean, as above). */
static double pin_ns(uintptr_t a, size_t len, int reps)
{
	memset((void *)a, 1, len); /* present, as memory the application uses */
	double sum = 0;
	for (int i = -1; i < reps; i++) {
		double t0 = now();
		if (mlock((void *)a, len) < 0)
			return -1;
		munlock((void *)a, len);
		if (i >= 0)
			sum += now() - t0;
	}
	return sum / reps;
}

static int misses(void)
{
	static const struct {
		size_t len;
		int reps;
	} runs[] = {{4096, 2000}, {2u << 20, 200}, {64u << 20, 20}, {1u << 30, 5}};
	static const struct dk_mr_ops ops = {reg, dereg};
	printf("\n%-8s %12s %12s %7s\n", "run", "miss+reg ns", "mlock ns", "ratio");
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		size_t len = runs[i].len;
		uintptr_t a = (uintptr_t)mmap(NULL, len, PROT_READ | PROT_WRITE,
					      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (a == (uintptr_t)MAP_FAILED ||
		    dk_extmem_register((void *)a, len, NULL, 0, PG) < 0)
			return 1;
		struct dk_mr_cache *c = dk_mr_cache_create(&ops, NULL);
		double m = c ? miss_ns(c, a, len, runs[i].reps) : -1;
		dk_mr_cache_destroy(c);
		dk_extmem_unregister((void *)a, len);
		double p = pin_ns(a, len, runs[i].reps);
		munmap((void *)a, len);
		if (m < 0 || p < 0) {
			fprintf(stderr, "bench_mr: the %zu-byte run failed (%s)\n", len,
				m < 0 ? "lookup" : "mlock: raise RLIMIT_MEMLOCK");
			return 1;
		}
		printf("%-8s %12.0f %12.0f %7.3f\n",
		       len >= 1u << 30 ? "1GiB" : len >= 64u << 20 ? "64MiB"
					 : len >= 2u << 20  ? "2MiB" : "4KiB",
		       m, p, m / p);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned int dflt[] = {8, 64, 512, 4096, 32768, 65536};
	printf("%-6s %-8s %9s %9s %7s\n", "N", "case", "dmakit", "model", "ratio");
	if (argc < 2) {
		for (size_t i = 0; i < sizeof(dflt) / sizeof(dflt[0]); i++)
			if (hits(dflt[i]))
				return 1;
	}
	for (int i = 1; i < argc; i++) {
		unsigned int n = (unsigned int)strtoul(argv[i], NULL, 0);
		if (n && hits(n))
			return 1;
	}
	return misses();
}
