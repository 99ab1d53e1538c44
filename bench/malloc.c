/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_malloc: dk_malloc/dk_free against glibc malloc/free and, when DPDK
 * is installed (Debian libdpdk-dev), rte_malloc/rte_free, side by side in
 * one run on the same machine.
 *
 * Measured, each cell the best of --runs runs (default 5) after one untimed
 * warm-up run, with clock_gettime(CLOCK_MONOTONIC):
 *   1. tight: alloc + touch one byte + free of one size, in a loop;
 *   2. batch: allocate B blocks of random sizes in [size/2, size] (the
 *      "class range"), touching one byte each, then free them in random
 *      order; B = 1000, capped so that a batch holds at most 256 MiB
 *      (DPDK gets -m 512). The same sizes and order for every allocator;
 *   3. threads: the tight loop in one thread alone, then in two threads at
 *      once (same heap, started together); per-thread throughput with two
 *      threads relative to one thread alone; each cell the best of 3 x
 *      --runs trials of a few milliseconds, the sizes taking turns so that
 *      the trials of one size are spread over the whole part;
 *   4. overhead: N = 100000 live blocks of 64 B, 256 B, 4 KiB; metadata per
 *      block = (bytes the heap counts as allocated - N * size) / N, from
 *      dk_malloc_get_stats (alloc_bytes), rte_malloc_get_socket_stats
 *      (heap_allocsz_bytes) and glibc's mallinfo2 (uordblks).
 * Sizes: 64 B, 256 B, 1 KiB, 4 KiB, 64 KiB, 256 KiB, 1 MiB. Figures are ns
 * per alloc+free pair and ratios: rte/dk (> 1: dmakit faster; goals >= 3
 * up to 4 KiB, >= 10 from 64 KiB) and dk/glibc (< 1: dmakit faster; goal
 * <= 1.5 up to 4 KiB).
 *
 * Alignment: dk_malloc and glibc give 16 bytes, rte_malloc 64 (its minimum).
 *
 * dmakit: dk_init with DK_INIT_NO_SCAN and DK_HUGE_NEVER (4 KiB pages), or
 * DK_HUGE_ALWAYS with --huge. DPDK: rte_eal_init with --no-huge -m 512
 * --no-pci --no-telemetry --no-shconf --log-level=lib.eal:error (with
 * --huge: hugepages and --in-memory instead). The EAL pins the main thread to
 * its first lcore; the CPU mask is restored after rte_eal_init so that the
 * threads test runs on every CPU.
 *
 * Exit status: 0; 1 when dmakit or glibc fails an allocation or cannot
 * start; 2 on a usage error. DPDK that fails to start is reported and left
 * out.
 *
 * usage: bench_malloc [--runs N] [--quick] [--huge] [--no-dpdk]
 *                     [--only single|threads|overhead]
 *   --only runs one part (1+2, 3 or 4) and skips the others.
 */
#include <errno.h>
#include <gnu/libc-version.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dmakit/dmakit.h>

#ifdef DK_BENCH_HAVE_DPDK
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_version.h>
#endif

#define MAX_RUNS 100
#define BATCH_MAX 1000
#define BATCH_BYTES_MAX (256u << 20)
#define OVERHEAD_N 100000

enum { A_DK, A_GLIBC, A_RTE, A_COUNT };
static const char *const g_alloc_name[A_COUNT] = { "dmakit", "glibc", "rte" };

static const size_t g_sizes[] = { 64, 256, 1024, 4096, 65536, 262144, 1048576 };
#define N_SIZES (sizeof(g_sizes) / sizeof(g_sizes[0]))

static int g_runs = 5;
static int g_quick;
static int g_have_rte;
static int g_failed;

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
	/* xorshift64* */
	g_rng ^= g_rng >> 12;
	g_rng ^= g_rng << 25;
	g_rng ^= g_rng >> 27;
	return g_rng * 0x2545f4914f6cdd1dull;
}

static const char *size_name(size_t s, char *buf, size_t len)
{
	if (s >= (1u << 20))
		snprintf(buf, len, "%zu MiB", s >> 20);
	else if (s >= 1024)
		snprintf(buf, len, "%zu KiB", s >> 10);
	else
		snprintf(buf, len, "%zu B", s);
	return buf;
}

/* ---- the loops, one copy per allocator (direct calls, no indirection) ---- */

static void *dk_alloc_(size_t s)
{
	return dk_malloc(NULL, s, 0);
}

static void *glibc_alloc_(size_t s)
{
	return malloc(s);
}

#ifdef DK_BENCH_HAVE_DPDK
static void *rte_alloc_(size_t s)
{
	return rte_malloc(NULL, s, 0);
}
#endif

struct batch {
	unsigned int n;      /* blocks per batch */
	unsigned int reps;   /* batches per measurement */
	size_t *size;        /* n sizes */
	unsigned int *order; /* n indexes: free order */
	void **ptr;
};

#define DEFINE_LOOPS(tag, ALLOC, FREE)                                                  \
	static double tight_##tag(size_t size, long iters)                              \
	{                                                                               \
		double t0 = now_ns();                                                   \
		for (long i = 0; i < iters; i++) {                                      \
			void *p = ALLOC(size);                                          \
			if (!p)                                                         \
				return -1;                                              \
			*(volatile char *)p = (char)i;                                  \
			FREE(p);                                                        \
		}                                                                       \
		return (now_ns() - t0) / (double)iters;                                 \
	}                                                                               \
	static double batch_##tag(const struct batch *b)                                \
	{                                                                               \
		double t0 = now_ns();                                                   \
		for (unsigned int r = 0; r < b->reps; r++) {                            \
			for (unsigned int i = 0; i < b->n; i++) {                       \
				void *p = ALLOC(b->size[i]);                            \
				if (!p) {                                               \
					for (unsigned int k = 0; k < i; k++)            \
						FREE(b->ptr[k]);                        \
					return -1;                                      \
				}                                                       \
				*(volatile char *)p = (char)i;                          \
				b->ptr[i] = p;                                          \
			}                                                               \
			for (unsigned int i = 0; i < b->n; i++)                         \
				FREE(b->ptr[b->order[i]]);                              \
		}                                                                       \
		return (now_ns() - t0) / ((double)b->n * b->reps);                      \
	}

DEFINE_LOOPS(dk, dk_alloc_, dk_free)
DEFINE_LOOPS(glibc, glibc_alloc_, free)
#ifdef DK_BENCH_HAVE_DPDK
DEFINE_LOOPS(rte, rte_alloc_, rte_free)
#endif

static double run_tight(int a, size_t size, long iters)
{
	switch (a) {
	case A_DK:
		return tight_dk(size, iters);
	case A_GLIBC:
		return tight_glibc(size, iters);
#ifdef DK_BENCH_HAVE_DPDK
	case A_RTE:
		return tight_rte(size, iters);
#endif
	default:
		return -1;
	}
}

static double run_batch(int a, const struct batch *b)
{
	switch (a) {
	case A_DK:
		return batch_dk(b);
	case A_GLIBC:
		return batch_glibc(b);
#ifdef DK_BENCH_HAVE_DPDK
	case A_RTE:
		return batch_rte(b);
#endif
	default:
		return -1;
	}
}

static int enabled(int a)
{
	return a != A_RTE || g_have_rte;
}

static void report_failure(int a, const char *what, size_t size)
{
	fprintf(stderr, "bench_malloc: %s: %s allocation of class %zu failed\n", g_alloc_name[a],
		what, size);
	if (a != A_RTE)
		g_failed = 1;
}

/* ---- 1 + 2: single-thread tables ------------------------------------------ */

static long tight_iters(size_t size)
{
	long n = size <= 4096 ? 200000 : size <= 65536 ? 50000 : 10000;
	return g_quick ? n / 10 : n;
}

static void make_batch(struct batch *b, size_t size)
{
	unsigned int n = BATCH_MAX;
	if ((size_t)n * size > BATCH_BYTES_MAX)
		n = (unsigned int)(BATCH_BYTES_MAX / size);
	b->n = n;
	b->reps = size <= 4096 ? 100 : size <= 65536 ? 10 : 2;
	if (g_quick)
		b->reps = (b->reps + 9) / 10;
	b->size = malloc(n * sizeof(*b->size));
	b->order = malloc(n * sizeof(*b->order));
	b->ptr = malloc(n * sizeof(*b->ptr));
	if (!b->size || !b->order || !b->ptr) {
		fprintf(stderr, "bench_malloc: out of memory\n");
		exit(1);
	}
	size_t lo = size / 2;
	for (unsigned int i = 0; i < n; i++) {
		b->size[i] = lo + (size_t)(rng() % (size - lo + 1));
		b->order[i] = i;
	}
	for (unsigned int i = n - 1; i > 0; i--) { /* Fisher-Yates */
		unsigned int j = (unsigned int)(rng() % (i + 1));
		unsigned int t = b->order[i];
		b->order[i] = b->order[j];
		b->order[j] = t;
	}
}

static void free_batch(struct batch *b)
{
	free(b->size);
	free(b->order);
	free(b->ptr);
}

/* ns[size][alloc], best of runs; < 0: failed. */
static double g_tight[N_SIZES][A_COUNT], g_batch[N_SIZES][A_COUNT];
static unsigned int g_batch_n[N_SIZES];

static void measure_single(void)
{
	for (size_t s = 0; s < N_SIZES; s++) {
		size_t size = g_sizes[s];
		long iters = tight_iters(size);
		struct batch b;
		make_batch(&b, size);
		g_batch_n[s] = b.n;
		for (int a = 0; a < A_COUNT; a++)
			g_tight[s][a] = g_batch[s][a] = 1e300;
		/* Warm-up (untimed), then the runs, allocators interleaved. */
		for (int r = -1; r < g_runs; r++) {
			for (int a = 0; a < A_COUNT; a++) {
				if (!enabled(a) || g_tight[s][a] < 0)
					continue;
				double t = run_tight(a, size, r < 0 ? iters / 10 + 1 : iters);
				if (t < 0) {
					report_failure(a, "tight", size);
					g_tight[s][a] = -1;
				} else if (r >= 0 && t < g_tight[s][a]) {
					g_tight[s][a] = t;
				}
			}
			for (int a = 0; a < A_COUNT; a++) {
				if (!enabled(a) || g_batch[s][a] < 0)
					continue;
				double t = run_batch(a, &b);
				if (t < 0) {
					report_failure(a, "batch", size);
					g_batch[s][a] = -1;
				} else if (r >= 0 && t < g_batch[s][a]) {
					g_batch[s][a] = t;
				}
			}
		}
		free_batch(&b);
		char nm[32];
		fprintf(stderr, "# %s done\n", size_name(size, nm, sizeof(nm)));
	}
}

static void print_ns(double v)
{
	if (v < 0 || v >= 1e300)
		printf(" | -");
	else
		printf(" | %.1f", v);
}

static void print_ratio(double num, double den)
{
	if (num <= 0 || den <= 0 || num >= 1e300 || den >= 1e300)
		printf(" | -");
	else
		printf(" | %.2fx", num / den);
}

static void print_single(const char *title, double (*ns)[A_COUNT], int batch)
{
	printf("\n### %s (ns per alloc+free pair, best of %d)\n\n", title, g_runs);
	printf("| size |%s dmakit | glibc | rte | rte/dk | dk/glibc |\n", batch ? " blocks |" : "");
	printf("|---|%s---|---|---|---|---|\n", batch ? "---|" : "");
	for (size_t s = 0; s < N_SIZES; s++) {
		char nm[32];
		printf("| %s", size_name(g_sizes[s], nm, sizeof(nm)));
		if (batch)
			printf(" | %u", g_batch_n[s]);
		print_ns(ns[s][A_DK]);
		print_ns(ns[s][A_GLIBC]);
		print_ns(g_have_rte ? ns[s][A_RTE] : -1);
		print_ratio(g_have_rte ? ns[s][A_RTE] : -1, ns[s][A_DK]);
		print_ratio(ns[s][A_DK], ns[s][A_GLIBC]);
		printf(" |\n");
	}
}

/* ---- 3: two threads --------------------------------------------------------- */

struct thr {
	int alloc;
	size_t size;
	long iters;
	pthread_barrier_t *bar;
	double ns; /* per pair, this thread */
};

static void *thr_main(void *argp)
{
	struct thr *t = argp;
	/* Warm this thread's caches, then start together. */
	run_tight(t->alloc, t->size, t->iters / 20 + 1);
	if (t->bar)
		pthread_barrier_wait(t->bar);
	t->ns = run_tight(t->alloc, t->size, t->iters);
	return NULL;
}

/* Run n threads (1 or 2) once; the slower thread's ns per pair. */
static double run_threads(int a, size_t size, long iters, int n)
{
	pthread_t th[2];
	struct thr t[2];
	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, (unsigned int)n);
	for (int i = 0; i < n; i++) {
		t[i] = (struct thr){ a, size, iters, n > 1 ? &bar : NULL, 0 };
		if (pthread_create(&th[i], NULL, thr_main, &t[i]) != 0) {
			fprintf(stderr, "bench_malloc: pthread_create failed\n");
			exit(1);
		}
	}
	double worst = 0;
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		if (t[i].ns < 0)
			worst = -1;
		else if (worst >= 0 && t[i].ns > worst)
			worst = t[i].ns;
	}
	pthread_barrier_destroy(&bar);
	if (a == A_DK)
		dk_malloc_thread_flush();
	return worst;
}

static const size_t g_thr_sizes[] = { 64, 1024, 4096, 65536 };
#define N_THR_SIZES (sizeof(g_thr_sizes) / sizeof(g_thr_sizes[0]))

/* Trials per cell: each trial is a few milliseconds, and two threads need
 * both vCPUs undisturbed at once, so the threads part takes more of them
 * than the single-thread tables, spread over the whole part (sizes inside
 * the run loop) so that one noisy second does not spoil every trial of a
 * size. */
#define THR_TRIALS_PER_RUN 3

static void measure_threads(void)
{
	int trials = g_runs * THR_TRIALS_PER_RUN;
	printf("\n### Two threads, same heap (tight loop, best of %d)\n\n", trials);
	printf("Per-thread throughput with two threads running at once, relative to one thread "
	       "alone (1.00 = no loss; goal for dmakit: >= 0.70). glibc keeps per-thread arenas "
	       "and caches, so its column is what the machine itself allows; dk/glibc divides "
	       "the two. ns per pair: one thread / two threads (the slower one).\n\n");
	printf("| size | dmakit | glibc | rte | dk/glibc | dmakit ns 1T / 2T | glibc ns 1T / 2T | rte ns 1T / 2T |\n");
	printf("|---|---|---|---|---|---|---|---|\n");
	static double one[N_THR_SIZES][A_COUNT], two[N_THR_SIZES][A_COUNT];
	for (size_t s = 0; s < N_THR_SIZES; s++)
		for (int a = 0; a < A_COUNT; a++)
			one[s][a] = two[s][a] = 1e300;
	for (int r = 0; r < trials; r++) {
		for (size_t s = 0; s < N_THR_SIZES; s++) {
			size_t size = g_thr_sizes[s];
			long iters = tight_iters(size) * 2;
			for (int a = 0; a < A_COUNT; a++) {
				if (!enabled(a) || one[s][a] < 0)
					continue;
				double t1 = run_threads(a, size, iters, 1);
				double t2 = run_threads(a, size, iters, 2);
				if (t1 < 0 || t2 < 0) {
					report_failure(a, "threads", size);
					one[s][a] = two[s][a] = -1;
					continue;
				}
				if (t1 < one[s][a])
					one[s][a] = t1;
				if (t2 < two[s][a])
					two[s][a] = t2;
			}
		}
	}
	for (size_t s = 0; s < N_THR_SIZES; s++) {
		const double *o = one[s], *t = two[s];
		char nm[32];
		printf("| %s", size_name(g_thr_sizes[s], nm, sizeof(nm)));
		for (int a = 0; a < A_COUNT; a++)
			print_ratio(enabled(a) && o[a] > 0 && o[a] < 1e300 ? o[a] : -1, t[a]);
		if (o[A_DK] > 0 && o[A_DK] < 1e300 && o[A_GLIBC] > 0 && o[A_GLIBC] < 1e300)
			print_ratio(o[A_DK] / t[A_DK], o[A_GLIBC] / t[A_GLIBC]);
		else
			printf(" | -");
		for (int a = 0; a < A_COUNT; a++) {
			if (!enabled(a) || o[a] <= 0 || o[a] >= 1e300)
				printf(" | -");
			else
				printf(" | %.1f / %.1f", o[a], t[a]);
		}
		printf(" |\n");
	}
}

/* ---- 4: memory overhead ------------------------------------------------------ */

static int64_t dk_alloc_bytes(void)
{
	dk_malloc_thread_flush();
	int64_t sum = 0;
	struct dk_heap_stats st;
	for (int s = 0; s < DK_EXTERNAL_SOCKET_BASE; s++)
		if (dk_malloc_get_stats(s, &st) == 0)
			sum += (int64_t)st.alloc_bytes;
	return sum;
}

static int64_t glibc_alloc_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();
	return (int64_t)mi.uordblks + (int64_t)mi.hblkhd;
}

#ifdef DK_BENCH_HAVE_DPDK
static int64_t rte_alloc_bytes(void)
{
	int64_t sum = 0;
	for (unsigned int i = 0; i < rte_socket_count(); i++) {
		struct rte_malloc_socket_stats st;
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			sum += (int64_t)st.heap_allocsz_bytes;
	}
	return sum;
}
#endif

/* Bytes of metadata per block for N blocks of size; *got = blocks allocated. */
static double overhead(int a, size_t size, void **ptr, unsigned int n, unsigned int *got)
{
	int64_t before, after;
	unsigned int i;
	switch (a) {
	case A_DK:
		before = dk_alloc_bytes();
		for (i = 0; i < n && (ptr[i] = dk_malloc(NULL, size, 0)); i++)
			;
		after = dk_alloc_bytes();
		for (unsigned int k = 0; k < i; k++)
			dk_free(ptr[k]);
		break;
	case A_GLIBC:
		before = glibc_alloc_bytes();
		for (i = 0; i < n && (ptr[i] = malloc(size)); i++)
			;
		after = glibc_alloc_bytes();
		for (unsigned int k = 0; k < i; k++)
			free(ptr[k]);
		break;
#ifdef DK_BENCH_HAVE_DPDK
	case A_RTE:
		before = rte_alloc_bytes();
		for (i = 0; i < n && (ptr[i] = rte_malloc(NULL, size, 0)); i++)
			;
		after = rte_alloc_bytes();
		for (unsigned int k = 0; k < i; k++)
			rte_free(ptr[k]);
		break;
#endif
	default:
		return -1;
	}
	*got = i;
	if (i == 0)
		return -1;
	return (double)(after - before - (int64_t)i * (int64_t)size) / (double)i;
}

static void measure_overhead(void)
{
	static const size_t sizes[] = { 64, 256, 4096 };
	void **ptr = malloc(OVERHEAD_N * sizeof(*ptr));
	if (!ptr) {
		fprintf(stderr, "bench_malloc: out of memory\n");
		exit(1);
	}
	printf("\n### Metadata per allocation (bytes; %d live blocks; goal for dmakit: <= 16)\n\n",
	       OVERHEAD_N);
	printf("| size | dmakit | glibc | rte |\n|---|---|---|---|\n");
	for (size_t s = 0; s < DK_ARRAY_SIZE(sizes); s++) {
		char nm[32];
		printf("| %s", size_name(sizes[s], nm, sizeof(nm)));
		for (int a = 0; a < A_COUNT; a++) {
			if (!enabled(a)) {
				printf(" | -");
				continue;
			}
			unsigned int got = 0;
			double o = overhead(a, sizes[s], ptr, OVERHEAD_N, &got);
			if (o < 0 && got == 0) {
				printf(" | failed");
				report_failure(a, "overhead", sizes[s]);
			} else if (got < OVERHEAD_N) {
				printf(" | %.1f (%u blocks fit)", o, got);
			} else {
				printf(" | %.1f", o);
			}
		}
		printf(" |\n");
	}
	free(ptr);
}

/* ---- set-up ------------------------------------------------------------------ */

#ifdef DK_BENCH_HAVE_DPDK
static int start_dpdk(int huge)
{
	char *argv[16];
	int argc = 0;
	argv[argc++] = (char *)"bench_malloc";
	if (!huge)
		argv[argc++] = (char *)"--no-huge";
	argv[argc++] = (char *)"-m";
	argv[argc++] = (char *)"512";
	argv[argc++] = (char *)"--no-pci";
	argv[argc++] = (char *)"--no-telemetry";
	/* --in-memory would keep /var/run clean but needs hugepages (--no-huge is
	 * legacy memory, which the EAL refuses with it); --no-shconf writes no
	 * files there, only the EAL's empty runtime directory. */
	argv[argc++] = (char *)(huge ? "--in-memory" : "--no-shconf");
	argv[argc++] = (char *)"--log-level=lib.eal:error";
	argv[argc] = NULL;
	cpu_set_t mask;
	int have_mask = sched_getaffinity(0, sizeof(mask), &mask) == 0;
	int rc = rte_eal_init(argc, argv);
	if (have_mask)
		sched_setaffinity(0, sizeof(mask), &mask); /* the EAL pinned us to one CPU */
	if (rc < 0) {
		fprintf(stderr, "bench_malloc: rte_eal_init failed (%s): DPDK left out\n",
			rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}
#endif

static void usage(void)
{
	fprintf(stderr, "usage: bench_malloc [--runs N] [--quick] [--huge] [--no-dpdk] "
			"[--only single|threads|overhead]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int huge = 0, no_dpdk = 0;
	const char *only = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			g_runs = atoi(argv[++i]);
			if (g_runs < 1 || g_runs > MAX_RUNS)
				usage();
		} else if (strcmp(argv[i], "--quick") == 0) {
			g_quick = 1;
		} else if (strcmp(argv[i], "--huge") == 0) {
			huge = 1;
		} else if (strcmp(argv[i], "--no-dpdk") == 0) {
			no_dpdk = 1;
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			only = argv[++i];
			if (strcmp(only, "single") && strcmp(only, "threads") && strcmp(only, "overhead"))
				usage();
		} else {
			usage();
		}
	}

	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_SCAN | DK_INIT_IN_MEMORY; /* a benchmark shares nothing */
	p.huge = huge ? DK_HUGE_ALWAYS : DK_HUGE_NEVER;
	int rc = dk_init(&p);
	if (rc < 0) {
		fprintf(stderr, "bench_malloc: dk_init: %s%s\n", strerror(-rc),
			huge ? " (--huge needs free hugepages: echo 1024 > /proc/sys/vm/nr_hugepages)"
			     : "");
		return 1;
	}

	void *probe = dk_malloc(NULL, 64, 0);
	if (!probe) {
		fprintf(stderr, "bench_malloc: dk_malloc: %s%s\n", strerror(errno),
			huge ? " (--huge needs free hugepages: echo 1024 > /proc/sys/vm/nr_hugepages)"
			     : "");
		dk_cleanup();
		return 1;
	}
	dk_free(probe);

#ifdef DK_BENCH_HAVE_DPDK
	if (!no_dpdk)
		g_have_rte = start_dpdk(huge) == 0;
	const char *dpdk_note = g_have_rte ? rte_version() : "DPDK left out";
#else
	(void)no_dpdk;
	const char *dpdk_note = "DPDK not installed";
	printf("DPDK not installed: apt-get install libdpdk-dev for the comparison\n");
#endif

	printf("## bench_malloc: dmakit %s (%s pages), glibc %s, %s\n", dk_version(),
	       huge ? "huge" : "4 KiB", gnu_get_libc_version(), dpdk_note);
	FILE *la = fopen("/proc/loadavg", "r");
	char load[64] = "?";
	if (la) {
		if (!fgets(load, sizeof(load), la))
			snprintf(load, sizeof(load), "?");
		fclose(la);
		load[strcspn(load, "\n")] = '\0';
	}
	printf("\n%ld CPUs online; /proc/loadavg at start: %s\n", sysconf(_SC_NPROCESSORS_ONLN),
	       load);
	if (!only || strcmp(only, "single") == 0) {
		measure_single();
		print_single("Tight loop: alloc + free of one size", g_tight, 0);
		print_single("Batch: blocks of random sizes in [size/2, size], freed in random order",
			     g_batch, 1);
	}
	if (!only || strcmp(only, "threads") == 0)
		measure_threads();
	if (!only || strcmp(only, "overhead") == 0)
		measure_overhead();

#ifdef DK_BENCH_HAVE_DPDK
	if (g_have_rte)
		rte_eal_cleanup();
#endif
	dk_cleanup();
	return g_failed ? 1 : 0;
}
