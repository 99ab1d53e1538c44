/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_malloc: dk_malloc/dk_free against glibc malloc/free, mimalloc,
 * jemalloc and, when DPDK is installed (Debian libdpdk-dev),
 * rte_malloc/rte_free, side by side in one run on the same machine.
 *
 * Processes: dmakit, glibc and DPDK run in this process. Debian's mimalloc
 * and jemalloc both export malloc/free (linking either replaces the malloc of
 * the whole process), so each runs in a child of its own: this same program
 * started with `--serve NAME` and LD_PRELOAD of the library meson found
 * (-Dbench_mimalloc, -Dbench_jemalloc), which measures malloc/free there and
 * answers one line per cell over a pipe. The glibc column stays glibc. A
 * library missing at `meson setup` time, or that the child cannot load, is
 * reported in one line and its column left out.
 *
 * Patterns, every size a power of two from 64 B to 1 MiB (--sizes picks
 * fewer); figures in ns per alloc+free pair:
 *   tight:   alloc + free of one size in a loop;
 *   batch:   B blocks of the size (B = 16, 64, 256, 1024, 4096, capped so
 *            that a batch holds at most 256 MiB), then freed in the same
 *            order (fifo), in reverse order (lifo) or at random (rand: one
 *            permutation per cell, the same for every allocator);
 *   xthread: one thread allocates, another frees, the blocks handed over a
 *            single-producer single-consumer ring of 256 slots (a submit and
 *            a completion thread): ns per block;
 *   threads: T threads (T = 1, 2 and the number of CPUs) each doing the
 *            tight loop on the same allocator at once: ns per pair per thread
 *            (the slowest thread), and one thread's ns / T threads' ns (per-
 *            thread throughput relative to one thread alone, 1.00 = no loss);
 *   overhead: N = 100000 live blocks of 64 B, 256 B, 4 KiB; metadata per
 *            block = (bytes the heap counts as allocated - N * size) / N
 *            (dmakit, glibc and DPDK, which report it).
 * Every block gets an 8-byte tag at its start (its address mixed with its
 * index), checked before it is freed; --check (and --quick) also tags its
 * last byte. A NULL or a wrong tag fails the allocator's cells.
 *
 * Each cell is the best (minimum) of --runs runs (default 5; 3 for sizes
 * above 64 KiB) after one untimed warm-up of 1024 pairs (or one batch) that
 * also sets the pairs of the timed runs, per allocator: about 16 ms of work,
 * at least one batch or 256 pairs, at most 2^20 pairs up to 4 KiB, 2^18 to
 * 64 KiB, 2^15 above (so that glibc's slow cells, microseconds per pair,
 * keep the whole run within minutes). --quick: one run of about 0.3 ms per
 * cell, a smoke run whose figures mean nothing. Noise (other processes, the host)
 * only ever adds time, so the minimum is the closest to the allocator's own
 * cost, and the allocators take turns within every run of every cell, so a
 * noisy second hurts them alike. Timing is clock_gettime(CLOCK_MONOTONIC).
 *
 * Ratios: dk/mimalloc, dk/glibc, dk/jemalloc (< 1: dmakit faster; issue 14's
 * goal is <= 1.0 in every cell against mimalloc and glibc) and rte/dk (> 1:
 * dmakit faster). The last table lists, for every cell, whether dk/mimalloc
 * and dk/glibc are <= 1.0, and counts the cells that fail.
 *
 * Alignment: dk_malloc and the general allocators give 16 bytes, rte_malloc
 * 64 (its minimum).
 *
 * dmakit: dk_init with DK_INIT_NO_SCAN and DK_HUGE_NEVER (4 KiB pages), or
 * DK_HUGE_ALWAYS with --huge. DPDK: rte_eal_init with --no-huge -m 512
 * --no-pci --no-telemetry --no-shconf --log-level=lib.eal:error (with
 * --huge: hugepages and --in-memory instead). The EAL pins the main thread to
 * its first lcore; the CPU mask is restored after rte_eal_init so that the
 * thread patterns run on every CPU.
 *
 * Instruction counts: `--cg ALLOC PATTERN SIZE` runs one hot path for a fixed
 * number of pairs with callgrind collection on (CALLGRIND_TOGGLE_COLLECT)
 * around the measured loop only, the allocator called through a function
 * pointer; ALLOC is dk, malloc (glibc, or the library in LD_PRELOAD) or null
 * (a static block, no allocation: the loop's own cost, subtracted).
 * bench/malloc_callgrind.sh drives it under valgrind and prints instructions
 * per pair; `--preload NAME` prints the library path meson found.
 *
 * Exit status: 0; 1 when dmakit, glibc, mimalloc or jemalloc returns NULL or
 * a corrupted block, or dmakit cannot start; 2 on a usage error. DPDK that
 * fails is reported and left out. With --inject null|overlap a deliberately
 * faulty allocator ("faulty": NULL after 1000 blocks, or every fourth block
 * handed out twice) joins the run, and the exit status is 0 only when the
 * bench caught exactly that fault (the smoke test of the checks).
 *
 * usage: bench_malloc [--runs N] [--quick] [--check] [--huge] [--no-dpdk]
 *                     [--sizes S,S,...] [--only PART,PART,...]
 *                     [--inject null|overlap]
 *        bench_malloc --cg dk|malloc|null PATTERN SIZE
 *        bench_malloc --preload mimalloc|jemalloc
 *   PART: tight, batch, xthread, threads, overhead (single = tight,batch).
 *   S: 64 .. 1048576, a power of two (suffixes K and M allowed); --quick
 *   without --sizes takes 64 B, 4 KiB, 64 KiB and 1 MiB.
 *   PATTERN (--cg): tight, batch512-fifo, batch512-lifo, batch512-rand, xthread.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
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
#ifdef DK_BENCH_HAVE_CALLGRIND
#include <valgrind/callgrind.h>
#endif

#ifndef DK_BENCH_MIMALLOC_SO
#define DK_BENCH_MIMALLOC_SO ""
#endif
#ifndef DK_BENCH_JEMALLOC_SO
#define DK_BENCH_JEMALLOC_SO ""
#endif

#define MAX_RUNS 100
#define BATCH_BYTES_MAX (256u << 20)
#define OVERHEAD_N 100000
#define RING 256
#define MAX_THREADS 64

enum { A_DK, A_GLIBC, A_MI, A_JE, A_RTE, A_BAD, A_COUNT };
static const char *const g_alloc_name[A_COUNT] = { "dmakit",   "glibc", "mimalloc",
						   "jemalloc", "rte",   "faulty" };

enum { P_TIGHT, P_BATCH, P_XTHREAD, P_THREADS };
enum { O_FIFO, O_LIFO, O_RAND };
static const char *const g_order_name[] = { "fifo", "lifo", "rand" };
static const unsigned int g_batch_b[] = { 16, 64, 256, 1024, 4096 };
#define N_BATCH_B (sizeof(g_batch_b) / sizeof(g_batch_b[0]))

/* Results of a measurement: ns per pair (>= 0) or one of these. */
#define R_NULL (-1.0)
#define R_CORRUPT (-2.0)
#define R_DOWN (-3.0) /* a child allocator process stopped answering */

static int g_runs = 5;
static int g_runs_set;
static double g_target_ns = 16e6; /* per timed run of a cell (--quick: 0.3 ms) */
static int g_quick;
static int g_check;
static int g_inject; /* 0, 1 null, 2 overlap */
static int g_enabled[A_COUNT];
static int g_failed;
static int g_caught; /* faults of the faulty allocator caught (--inject) */
static char g_version[A_COUNT][64];

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
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

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p) {
		fprintf(stderr, "bench_malloc: out of memory (%zu bytes for the bench itself)\n", n);
		exit(1);
	}
	return p;
}

static void cpu_relax(unsigned int *spins)
{
	if (++*spins < 128) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	} else {
		*spins = 0;
		sched_yield(); /* 2 vCPUs shared with others: let the peer run */
	}
}

/* ---- block tags ------------------------------------------------------------ */

static inline uint64_t tag_of(const void *p, long i)
{
	return ((uint64_t)(uintptr_t)p ^ (uint64_t)i) * 0x9e3779b97f4a7c15ull;
}

static inline void put_tag(void *p, size_t size, long i)
{
	uint64_t t = tag_of(p, i);
	*(volatile uint64_t *)p = t;
	if (g_check)
		((volatile unsigned char *)p)[size - 1] = (unsigned char)(t >> 56);
}

static inline int tag_ok(void *p, size_t size, long i)
{
	uint64_t t = tag_of(p, i);
	if (*(volatile uint64_t *)p != t)
		return 0;
	return !g_check || ((volatile unsigned char *)p)[size - 1] == (unsigned char)(t >> 56);
}

/* ---- the allocators' entry points ------------------------------------------- */

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

/* The faulty allocator (--inject): a bump arena, free does nothing. */
static unsigned char *g_bad_arena;
static size_t g_bad_off;
static unsigned long g_bad_count;
#define BAD_ARENA (1ul << 30)

static void *bad_alloc_(size_t s)
{
	g_bad_count++;
	if (g_inject == 1 && g_bad_count > 1000)
		return NULL;
	if (g_bad_off + s > BAD_ARENA)
		g_bad_off = 0;
	void *p = g_bad_arena + g_bad_off;
	if (g_inject != 2 || g_bad_count % 4 != 0)
		g_bad_off += (s + 15) & ~(size_t)15; /* overlap: every 4th block given twice */
	return p;
}

static void bad_free_(void *p)
{
	(void)p;
}

static void no_flush(void)
{
}

/* ---- the loops, one copy per allocator (direct calls, no indirection) ---- */

struct batch {
	unsigned int n;      /* blocks per batch */
	unsigned int reps;   /* batches per measurement */
	size_t size;
	unsigned int *order; /* n indexes: free order */
	void **ptr;
};

/* The handover ring: head written by the producer, tail by the consumer. */
struct ring {
	_Alignas(64) atomic_ulong head;
	_Alignas(64) atomic_ulong tail;
	_Alignas(64) atomic_int ready;
	atomic_int go;
	size_t size;
	long n;
	_Alignas(64) void *slot[RING];
};

#define DEFINE_LOOPS(tag, ALLOC, FREE, FLUSH)                                           \
	static double tight_##tag(size_t size, long pairs)                              \
	{                                                                               \
		double t0 = now_ns();                                                   \
		for (long i = 0; i < pairs; i++) {                                      \
			void *p = ALLOC(size);                                          \
			if (!p)                                                         \
				return R_NULL;                                          \
			put_tag(p, size, i);                                            \
			if (!tag_ok(p, size, i))                                        \
				return R_CORRUPT;                                       \
			FREE(p);                                                        \
		}                                                                       \
		return (now_ns() - t0) / (double)pairs;                                 \
	}                                                                               \
	static double batch_##tag(const struct batch *b)                                \
	{                                                                               \
		int bad = 0;                                                            \
		double t0 = now_ns();                                                   \
		for (unsigned int r = 0; r < b->reps; r++) {                            \
			for (unsigned int i = 0; i < b->n; i++) {                       \
				void *p = ALLOC(b->size);                               \
				if (!p) {                                               \
					for (unsigned int k = 0; k < i; k++)            \
						FREE(b->ptr[k]);                        \
					return R_NULL;                                  \
				}                                                       \
				put_tag(p, b->size, i);                                 \
				b->ptr[i] = p;                                          \
			}                                                               \
			for (unsigned int i = 0; i < b->n; i++) {                       \
				unsigned int k = b->order[i];                           \
				bad |= !tag_ok(b->ptr[k], b->size, k);                  \
				FREE(b->ptr[k]);                                        \
			}                                                               \
			if (bad)                                                        \
				return R_CORRUPT;                                       \
		}                                                                       \
		return (now_ns() - t0) / ((double)b->n * b->reps);                      \
	}                                                                               \
	static void *producer_##tag(void *arg)                                          \
	{                                                                               \
		struct ring *r = arg;                                                   \
		unsigned long head = 0, tail = 0;                                       \
		unsigned int spins = 0;                                                 \
		tight_##tag(r->size, 64); /* warm this thread */                        \
		atomic_store(&r->ready, 1);                                             \
		while (!atomic_load_explicit(&r->go, memory_order_acquire))             \
			cpu_relax(&spins);                                              \
		for (long i = 0; i < r->n; i++) {                                       \
			void *p = ALLOC(r->size);                                       \
			if (p)                                                          \
				put_tag(p, r->size, i);                                 \
			while (head - tail >= RING) {                                   \
				tail = atomic_load_explicit(&r->tail,                   \
							    memory_order_acquire);      \
				if (head - tail >= RING)                                \
					cpu_relax(&spins);                              \
			}                                                               \
			r->slot[head % RING] = p;                                       \
			atomic_store_explicit(&r->head, ++head, memory_order_release);  \
			if (!p)                                                         \
				break;                                                  \
		}                                                                       \
		FLUSH();                                                                \
		return NULL;                                                            \
	}                                                                               \
	static double consumer_##tag(struct ring *r)                                    \
	{                                                                               \
		unsigned long head = 0, tail = 0;                                       \
		unsigned int spins = 0;                                                 \
		int bad = 0;                                                            \
		for (long i = 0; i < r->n; i++) {                                       \
			while (tail == head) {                                          \
				head = atomic_load_explicit(&r->head,                   \
							    memory_order_acquire);      \
				if (tail == head)                                       \
					cpu_relax(&spins);                              \
			}                                                               \
			void *p = r->slot[tail % RING];                                 \
			atomic_store_explicit(&r->tail, ++tail, memory_order_release);  \
			if (!p)                                                         \
				return R_NULL;                                          \
			bad |= !tag_ok(p, r->size, i);                                  \
			FREE(p);                                                        \
		}                                                                       \
		return bad ? R_CORRUPT : 0;                                             \
	}

DEFINE_LOOPS(dk, dk_alloc_, dk_free, dk_malloc_thread_flush)
DEFINE_LOOPS(glibc, glibc_alloc_, free, no_flush)
DEFINE_LOOPS(bad, bad_alloc_, bad_free_, no_flush)
#ifdef DK_BENCH_HAVE_DPDK
DEFINE_LOOPS(rte, rte_alloc_, rte_free, no_flush)
#endif

struct ops {
	double (*tight)(size_t size, long pairs);
	double (*batch)(const struct batch *b);
	void *(*producer)(void *ring);
	double (*consumer)(struct ring *r);
	void (*flush)(void);
};

#define OPS(tag, FLUSH) { tight_##tag, batch_##tag, producer_##tag, consumer_##tag, FLUSH }
static const struct ops g_ops_dk = OPS(dk, dk_malloc_thread_flush);
static const struct ops g_ops_glibc = OPS(glibc, no_flush);
static const struct ops g_ops_bad = OPS(bad, no_flush);
#ifdef DK_BENCH_HAVE_DPDK
static const struct ops g_ops_rte = OPS(rte, no_flush);
#endif

/* ---- the cells ---------------------------------------------------------------- */

struct cell {
	int pat;
	size_t size;
	unsigned int b;  /* batch: blocks (capped); threads: T */
	int order;       /* batch */
};

static long cell_pairs(size_t size)
{
	long n = size <= 4096 ? 1l << 20 : size <= 65536 ? 1l << 18 : 1l << 15;
	return g_quick ? n / 128 : n;
}

static unsigned int batch_blocks(unsigned int b, size_t size)
{
	if ((size_t)b * size > BATCH_BYTES_MAX)
		b = (unsigned int)(BATCH_BYTES_MAX / size);
	return b;
}

/* The free order of a cell, the same in every process: seeded by the cell. */
static void make_order(unsigned int *order, unsigned int n, int kind, size_t size)
{
	uint64_t s = 0x9e3779b97f4a7c15ull ^ ((uint64_t)size << 20) ^ n;
	for (unsigned int i = 0; i < n; i++)
		order[i] = kind == O_LIFO ? n - 1 - i : i;
	if (kind != O_RAND)
		return;
	for (unsigned int i = n - 1; i > 0; i--) { /* Fisher-Yates */
		unsigned int j = (unsigned int)(rng_next(&s) % (i + 1));
		unsigned int t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

static double run_batch(const struct ops *o, const struct cell *c, long pairs)
{
	struct batch b = { .n = c->b, .size = c->size };
	b.reps = (unsigned int)(pairs / c->b);
	if (b.reps == 0)
		b.reps = 1;
	b.order = xmalloc(b.n * sizeof(*b.order));
	b.ptr = xmalloc(b.n * sizeof(*b.ptr));
	make_order(b.order, b.n, c->order, c->size);
	double t = o->batch(&b);
	free(b.order);
	free(b.ptr);
	return t;
}

static double run_xthread(const struct ops *o, size_t size, long n)
{
	struct ring *r = aligned_alloc(64, sizeof(*r));
	if (!r) {
		fprintf(stderr, "bench_malloc: out of memory (the ring)\n");
		exit(1);
	}
	memset(r, 0, sizeof(*r));
	r->size = size;
	r->n = n;
	pthread_t th;
	if (pthread_create(&th, NULL, o->producer, r) != 0) {
		fprintf(stderr, "bench_malloc: pthread_create failed: too many threads?\n");
		exit(1);
	}
	unsigned int spins = 0;
	while (!atomic_load(&r->ready))
		cpu_relax(&spins);
	double t0 = now_ns();
	atomic_store_explicit(&r->go, 1, memory_order_release);
	double rc = o->consumer(r);
	double t = (now_ns() - t0) / (double)n;
	pthread_join(th, NULL);
	free(r);
	o->flush();
	return rc < 0 ? rc : t;
}

struct thr {
	const struct ops *o;
	size_t size;
	long pairs;
	pthread_barrier_t *bar;
	double ns; /* per pair, this thread */
};

static void *thr_main(void *argp)
{
	struct thr *t = argp;
	t->o->tight(t->size, t->pairs / 20 + 1); /* warm this thread */
	pthread_barrier_wait(t->bar);
	t->ns = t->o->tight(t->size, t->pairs);
	t->o->flush();
	return NULL;
}

/* n threads at once, each the tight loop; the slowest thread's ns per pair. */
static double run_threads(const struct ops *o, size_t size, long pairs, unsigned int n)
{
	pthread_t th[MAX_THREADS];
	struct thr t[MAX_THREADS];
	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, n);
	for (unsigned int i = 0; i < n; i++) {
		t[i] = (struct thr){ o, size, pairs, &bar, 0 };
		if (pthread_create(&th[i], NULL, thr_main, &t[i]) != 0) {
			fprintf(stderr, "bench_malloc: pthread_create failed: too many threads?\n");
			exit(1);
		}
	}
	double worst = 0;
	for (unsigned int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		if (t[i].ns < 0)
			worst = t[i].ns;
		else if (worst >= 0 && t[i].ns > worst)
			worst = t[i].ns;
	}
	pthread_barrier_destroy(&bar);
	return worst;
}

static double run_cell_local(const struct ops *o, const struct cell *c, long pairs)
{
	switch (c->pat) {
	case P_TIGHT:
		return o->tight(c->size, pairs);
	case P_BATCH:
		return run_batch(o, c, pairs);
	case P_XTHREAD:
		return run_xthread(o, c->size, pairs);
	case P_THREADS:
		return run_threads(o, c->size, pairs, c->b);
	default:
		return R_NULL;
	}
}

/* ---- allocators in a child process (LD_PRELOAD) --------------------------------- */

struct remote {
	pid_t pid;
	FILE *to, *from;
};
static struct remote g_remote[A_COUNT];

/* The child: check that the preloaded library is the one named, then answer
 * "pat size b order pairs check" lines with the cell's result. */
static int serve(const char *name)
{
	char ver[64] = "?";
	if (strcmp(name, "mimalloc") == 0) {
		int (*mi_version)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "mi_version");
		if (!mi_version) {
			printf("ERR mimalloc is not loaded in the child (LD_PRELOAD refused?)\n");
			return 1;
		}
		int v = mi_version();
		snprintf(ver, sizeof(ver), "%d.%d.%d", v / 100, v / 10 % 10, v % 10);
	} else if (strcmp(name, "jemalloc") == 0) {
		int (*mallctl)(const char *, void *, size_t *, void *, size_t) =
			(int (*)(const char *, void *, size_t *, void *, size_t))dlsym(RTLD_DEFAULT,
										  "mallctl");
		const char *v = NULL;
		size_t len = sizeof(v);
		if (!mallctl) {
			printf("ERR jemalloc is not loaded in the child (LD_PRELOAD refused?)\n");
			return 1;
		}
		if (mallctl("version", &v, &len, NULL, 0) == 0 && v)
			snprintf(ver, sizeof(ver), "%.40s", v);
	} else {
		printf("ERR unknown allocator %s\n", name);
		return 2;
	}
	printf("OK %s\n", ver);
	fflush(stdout);
	char line[256];
	while (fgets(line, sizeof(line), stdin)) {
		struct cell c;
		long pairs;
		if (sscanf(line, "%d %zu %u %d %ld %d", &c.pat, &c.size, &c.b, &c.order, &pairs,
			   &g_check) != 6) {
			printf("%.17g\n", R_DOWN);
			return 2;
		}
		printf("%.17g\n", run_cell_local(&g_ops_glibc, &c, pairs));
		fflush(stdout);
	}
	return 0;
}

static void remote_stop(int a)
{
	struct remote *r = &g_remote[a];
	if (!r->pid)
		return;
	fclose(r->to);
	fclose(r->from);
	waitpid(r->pid, NULL, 0);
	r->pid = 0;
}

static void remote_start(int a, const char *path)
{
	const char *name = g_alloc_name[a];
	if (!path[0]) {
		printf("%s: not found at meson setup time (apt-get install lib%s-dev, then "
		       "meson setup --reconfigure): column left out\n", name, name);
		return;
	}
	if (access(path, R_OK) != 0) {
		printf("%s: %s: %s (install lib%s-dev or reconfigure): column left out\n", name,
		       path, strerror(errno), name);
		return;
	}
	int down[2], up[2];
	if (pipe2(down, O_CLOEXEC) != 0 || pipe2(up, O_CLOEXEC) != 0) {
		printf("%s: pipe: %s: column left out\n", name, strerror(errno));
		return;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(down[0], 0);
		dup2(up[1], 1);
		close(down[0]);
		close(down[1]);
		close(up[0]);
		close(up[1]);
		setenv("LD_PRELOAD", path, 1);
		execl("/proc/self/exe", "bench_malloc", "--serve", name, (char *)NULL);
		printf("ERR exec /proc/self/exe: %s\n", strerror(errno));
		_exit(1);
	}
	close(down[0]);
	close(up[1]);
	if (pid < 0) {
		printf("%s: fork: %s: column left out\n", name, strerror(errno));
		close(down[1]);
		close(up[0]);
		return;
	}
	struct remote *r = &g_remote[a];
	r->pid = pid;
	r->to = fdopen(down[1], "w");
	r->from = fdopen(up[0], "r");
	char line[256] = "";
	if (!r->to || !r->from || !fgets(line, sizeof(line), r->from) ||
	    strncmp(line, "OK ", 3) != 0) {
		line[strcspn(line, "\n")] = '\0';
		printf("%s: the child with LD_PRELOAD=%s did not start (%s): column left out\n", name,
		       path, line[0] ? line : "no answer");
		remote_stop(a);
		return;
	}
	line[strcspn(line, "\n")] = '\0';
	snprintf(g_version[a], sizeof(g_version[a]), "%.60s", line + 3);
	g_enabled[a] = 1;
}

static double run_cell_remote(int a, const struct cell *c, long pairs)
{
	struct remote *r = &g_remote[a];
	char line[64];
	double v;
	if (!r->pid)
		return R_DOWN;
	if (fprintf(r->to, "%d %zu %u %d %ld %d\n", c->pat, c->size, c->b, c->order, pairs,
		    g_check) < 0 ||
	    fflush(r->to) != 0 || !fgets(line, sizeof(line), r->from) ||
	    sscanf(line, "%lf", &v) != 1) {
		fprintf(stderr, "bench_malloc: %s: the child process stopped answering (crashed? "
				"its messages are above): its cells fail\n", g_alloc_name[a]);
		remote_stop(a);
		g_failed = 1;
		return R_DOWN;
	}
	return v;
}

static double run_cell(int a, const struct cell *c, long pairs)
{
	switch (a) {
	case A_DK:
		return run_cell_local(&g_ops_dk, c, pairs);
	case A_GLIBC:
		return run_cell_local(&g_ops_glibc, c, pairs);
	case A_BAD:
		return run_cell_local(&g_ops_bad, c, pairs);
#ifdef DK_BENCH_HAVE_DPDK
	case A_RTE:
		return run_cell_local(&g_ops_rte, c, pairs);
#endif
	case A_MI:
	case A_JE:
		return run_cell_remote(a, c, pairs);
	default:
		return R_DOWN;
	}
}

/* ---- the measurement ------------------------------------------------------------ */

#define MAX_SIZES 15
#define MAX_CELLS_PER_SIZE (1 + N_BATCH_B * 3 + 1 + 3)
static size_t g_sizes[MAX_SIZES];
static unsigned int g_n_sizes;
static unsigned int g_thr_t[3];
static unsigned int g_n_thr;
enum { PART_TIGHT = 1, PART_BATCH = 2, PART_XTHREAD = 4, PART_THREADS = 8, PART_OVERHEAD = 16 };
static unsigned int g_parts = 31;

struct result {
	struct cell c;
	double ns[A_COUNT];  /* best; 1e300 none yet; < 0 failed */
	long pairs[A_COUNT]; /* per timed run, from the warm-up */
};
static struct result g_res[MAX_SIZES][MAX_CELLS_PER_SIZE];
static unsigned int g_n_cells[MAX_SIZES];

static void cell_name(const struct cell *c, char *buf, size_t len)
{
	switch (c->pat) {
	case P_TIGHT:
		snprintf(buf, len, "tight");
		break;
	case P_BATCH:
		snprintf(buf, len, "batch %u %s", c->b, g_order_name[c->order]);
		break;
	case P_XTHREAD:
		snprintf(buf, len, "xthread");
		break;
	default:
		snprintf(buf, len, "threads %u", c->b);
		break;
	}
}

static void build_cells(void)
{
	for (unsigned int s = 0; s < g_n_sizes; s++) {
		size_t size = g_sizes[s];
		unsigned int n = 0;
		struct result *r = g_res[s];
		if (g_parts & PART_TIGHT)
			r[n++].c = (struct cell){ P_TIGHT, size, 0, 0 };
		/* A B capped to the same block count as the B before it is the same
		 * cell: measured once, shown as "cap" in the goal table. */
		for (int o = O_FIFO; (g_parts & PART_BATCH) && o <= O_RAND; o++)
			for (size_t k = 0; k < N_BATCH_B; k++)
				if (k == 0 || batch_blocks(g_batch_b[k], size) !=
						      batch_blocks(g_batch_b[k - 1], size))
					r[n++].c = (struct cell){ P_BATCH, size,
								  batch_blocks(g_batch_b[k], size),
								  o };
		if (g_parts & PART_XTHREAD)
			r[n++].c = (struct cell){ P_XTHREAD, size, 0, 0 };
		if (g_parts & PART_THREADS)
			for (unsigned int k = 0; k < g_n_thr; k++)
				r[n++].c = (struct cell){ P_THREADS, size, g_thr_t[k], 0 };
		for (unsigned int i = 0; i < n; i++)
			for (int a = 0; a < A_COUNT; a++)
				r[i].ns[a] = 1e300;
		g_n_cells[s] = n;
	}
}

static void report_failure(int a, const struct cell *c, double v)
{
	char nm[32], cn[32];
	if (v == R_DOWN)
		return; /* said when it happened */
	cell_name(c, cn, sizeof(cn));
	fprintf(stderr, "bench_malloc: %s: %s %s: %s\n", g_alloc_name[a], cn,
		size_name(c->size, nm, sizeof(nm)),
		v == R_NULL ? "an allocation returned NULL"
			    : "a block was corrupted (its tag changed between allocation and free: "
			      "overlapping blocks?)");
	if (a == A_BAD) {
		if ((g_inject == 1 && v == R_NULL) || (g_inject == 2 && v == R_CORRUPT))
			g_caught = 1;
		else
			g_failed = 1;
	} else if (a != A_RTE) {
		g_failed = 1;
	}
}

static int size_runs(size_t size)
{
	if (g_quick)
		return 1;
	if (!g_runs_set && size > 65536)
		return 3;
	return g_runs;
}

/* The warm-up run: enough to fill the allocator's caches, short enough for
 * glibc's slow cells (a trimmed heap grown again: microseconds per pair). */
static long warm_pairs(const struct cell *c)
{
	long n = g_quick ? 256 : 1024;
	if (c->pat == P_BATCH && n < (long)c->b)
		n = c->b;
	return n;
}

/* Pairs per timed run: about g_target_ns of work by the warm-up's pace,
 * at least one batch (or 256 pairs), at most cell_pairs(). */
static long timed_pairs(const struct cell *c, double warm_ns)
{
	long most = cell_pairs(c->size);
	long least = c->pat == P_BATCH ? (long)c->b : 256;
	double want = g_target_ns / (warm_ns > 0.1 ? warm_ns : 0.1);
	long n = want > (double)most ? most : (long)want;
	if (n > most)
		n = most;
	return n < least ? least : n;
}

static void measure_size(unsigned int s)
{
	int runs = size_runs(g_sizes[s]);
	for (int run = -1; run < runs; run++) {
		for (unsigned int i = 0; i < g_n_cells[s]; i++) {
			struct result *r = &g_res[s][i];
			for (int a = 0; a < A_COUNT; a++) {
				if (!g_enabled[a] || r->ns[a] < 0)
					continue;
				/* The faulty allocator is not thread-safe. */
				if (a == A_BAD && r->c.pat != P_TIGHT && r->c.pat != P_BATCH)
					continue;
				double t = run_cell(a, &r->c, run < 0 ? warm_pairs(&r->c)
								      : r->pairs[a]);
				if (t < 0) {
					report_failure(a, &r->c, t);
					r->ns[a] = t;
				} else if (run < 0) {
					r->pairs[a] = timed_pairs(&r->c, t);
				} else if (t < r->ns[a]) {
					r->ns[a] = t;
				}
			}
		}
	}
}

/* ---- the tables ------------------------------------------------------------------ */

static int valid(double v)
{
	return v > 0 && v < 1e300;
}

static void print_ns(double v)
{
	if (!valid(v))
		printf(" | %s", v == R_NULL ? "NULL" : v == R_CORRUPT ? "corrupt" : "-");
	else if (v >= 100)
		printf(" | %.0f", v);
	else
		printf(" | %.1f", v);
}

static void print_ratio(double num, double den)
{
	if (!valid(num) || !valid(den))
		printf(" | -");
	else
		printf(" | %.2f", num / den);
}

static const int g_cols[] = { A_DK, A_GLIBC, A_MI, A_JE, A_RTE, A_BAD };
#define N_COLS (sizeof(g_cols) / sizeof(g_cols[0]))

static void print_header(const char *first)
{
	printf("| %s", first);
	for (size_t k = 0; k < N_COLS; k++)
		if (g_enabled[g_cols[k]])
			printf(" | %s", g_alloc_name[g_cols[k]]);
	printf(" | dk/mi | dk/glibc | dk/je | rte/dk |\n|---");
	for (size_t k = 0; k < N_COLS; k++)
		if (g_enabled[g_cols[k]])
			printf("|---");
	printf("|---|---|---|---|\n");
}

static void print_row(const double *ns)
{
	for (size_t k = 0; k < N_COLS; k++)
		if (g_enabled[g_cols[k]])
			print_ns(ns[g_cols[k]]);
	print_ratio(ns[A_DK], ns[A_MI]);
	print_ratio(ns[A_DK], ns[A_GLIBC]);
	print_ratio(ns[A_DK], ns[A_JE]);
	print_ratio(ns[A_RTE], ns[A_DK]);
	printf(" |\n");
}

/* The result of cell (pat, b, order) at size index s, or NULL. */
static const struct result *find(unsigned int s, int pat, unsigned int b, int order)
{
	for (unsigned int i = 0; i < g_n_cells[s]; i++) {
		const struct cell *c = &g_res[s][i].c;
		if (c->pat != pat || (pat == P_THREADS && c->b != b) ||
		    (pat == P_BATCH && (c->order != order ||
					c->b != batch_blocks(b, c->size))))
			continue;
		return &g_res[s][i];
	}
	return NULL;
}

static void print_pattern(const char *title, int pat, unsigned int b, int order)
{
	printf("\n### %s (ns per pair)\n\n", title);
	print_header(pat == P_BATCH ? "size | blocks" : "size");
	for (unsigned int s = 0; s < g_n_sizes; s++) {
		const struct result *r = find(s, pat, b, order);
		char nm[32];
		if (!r)
			continue;
		printf("| %s", size_name(g_sizes[s], nm, sizeof(nm)));
		if (pat == P_BATCH)
			printf(" | %u", r->c.b);
		print_row(r->ns);
	}
}

static void print_scaling(void)
{
	printf("\n### Threads: per-thread throughput with T threads relative to one thread "
	       "alone (ns 1 thread / ns T threads; 1.00 = no loss)\n\n| size | T");
	for (size_t k = 0; k < N_COLS; k++)
		if (g_enabled[g_cols[k]])
			printf(" | %s", g_alloc_name[g_cols[k]]);
	printf(" |\n|---|---");
	for (size_t k = 0; k < N_COLS; k++)
		if (g_enabled[g_cols[k]])
			printf("|---");
	printf("|\n");
	for (unsigned int s = 0; s < g_n_sizes; s++) {
		const struct result *one = find(s, P_THREADS, 1, 0);
		for (unsigned int k = 1; one && k < g_n_thr; k++) {
			const struct result *r = find(s, P_THREADS, g_thr_t[k], 0);
			char nm[32];
			printf("| %s | %u", size_name(g_sizes[s], nm, sizeof(nm)), g_thr_t[k]);
			for (size_t c = 0; c < N_COLS; c++)
				if (g_enabled[g_cols[c]])
					print_ratio(one->ns[g_cols[c]], r->ns[g_cols[c]]);
			printf(" |\n");
		}
	}
}

/* The goal table's rows: every cell kind, B not capped. */
static unsigned int goal_rows(struct cell *row)
{
	unsigned int n = 0;
	if (g_parts & PART_TIGHT)
		row[n++] = (struct cell){ P_TIGHT, 0, 0, 0 };
	for (int o = O_FIFO; (g_parts & PART_BATCH) && o <= O_RAND; o++)
		for (size_t k = 0; k < N_BATCH_B; k++)
			row[n++] = (struct cell){ P_BATCH, 0, g_batch_b[k], o };
	if (g_parts & PART_XTHREAD)
		row[n++] = (struct cell){ P_XTHREAD, 0, 0, 0 };
	for (unsigned int k = g_n_thr > 1 ? 1 : 0; (g_parts & PART_THREADS) && k < g_n_thr; k++)
		row[n++] = (struct cell){ P_THREADS, 0, g_thr_t[k], 0 };
	return n;
}

/* One cell of the goal table; counts it in *total and *fail. */
static void print_goal_cell(const struct result *r, unsigned int nominal_b, unsigned int *total,
			    unsigned int *fail)
{
	double dk = r ? r->ns[A_DK] : -1;
	double m = r ? r->ns[A_MI] : -1, g = r ? r->ns[A_GLIBC] : -1;
	if (r && r->c.pat == P_BATCH && r->c.b != nominal_b) {
		printf(" | cap"); /* the row of B = r->c.b has it */
		return;
	}
	if (!valid(dk) || (!valid(m) && !valid(g))) {
		printf(" | %s", r && dk < 0 ? "FAIL" : "-");
		*total += r && dk < 0;
		*fail += r && dk < 0;
		return;
	}
	int mf = valid(m) && dk / m > 1.0, gf = valid(g) && dk / g > 1.0;
	(*total)++;
	if (!mf && !gf) {
		printf(" | ok");
		return;
	}
	(*fail)++;
	printf(" |");
	if (mf)
		printf(" m%.2f", dk / m);
	if (gf)
		printf(" g%.2f", dk / g);
}

static void print_goal(void)
{
	struct cell row[MAX_CELLS_PER_SIZE];
	unsigned int n = goal_rows(row), fail = 0, total = 0;
	printf("\n### Goal: dk/mimalloc <= 1.0 and dk/glibc <= 1.0 in every cell\n\n"
	       "ok: both met; otherwise the ratios that miss (m: dk/mimalloc, g: dk/glibc); "
	       "cap: the batch is capped at 256 MiB, the same cell as a smaller B; "
	       "-: not measured.\n\n| pattern");
	for (unsigned int s = 0; s < g_n_sizes; s++) {
		char nm[32];
		printf(" | %s", size_name(g_sizes[s], nm, sizeof(nm)));
	}
	printf(" |\n|---");
	for (unsigned int s = 0; s < g_n_sizes; s++)
		printf("|---");
	printf("|\n");
	for (unsigned int i = 0; i < n; i++) {
		char cn[32];
		cell_name(&row[i], cn, sizeof(cn));
		printf("| %s", cn);
		for (unsigned int s = 0; s < g_n_sizes; s++)
			print_goal_cell(find(s, row[i].pat, row[i].b, row[i].order), row[i].b,
					&total, &fail);
		printf(" |\n");
	}
	printf("\nCells failing the goal: %u of %u%s\n", fail, total,
	       g_enabled[A_MI] ? "" : " (mimalloc left out: dk/glibc only)");
}

static void print_tables(void)
{
	char title[128];
	if (g_parts & PART_TIGHT)
		print_pattern("Tight loop: alloc + free of one size", P_TIGHT, 0, 0);
	for (int o = O_FIFO; (g_parts & PART_BATCH) && o <= O_RAND; o++)
		for (size_t k = 0; k < N_BATCH_B; k++) {
			snprintf(title, sizeof(title), "Batch of %u blocks, freed %s", g_batch_b[k],
				 o == O_FIFO ? "in the same order (fifo)"
				 : o == O_LIFO ? "in reverse order (lifo)" : "at random");
			print_pattern(title, P_BATCH, g_batch_b[k], o);
		}
	if (g_parts & PART_XTHREAD)
		print_pattern("Cross-thread: one thread allocates, another frees (ring of 256)",
			      P_XTHREAD, 0, 0);
	for (unsigned int k = 0; (g_parts & PART_THREADS) && k < g_n_thr; k++) {
		snprintf(title, sizeof(title),
			 "Threads: %u thread%s each doing the tight loop (per thread, slowest)",
			 g_thr_t[k], g_thr_t[k] > 1 ? "s" : "");
		print_pattern(title, P_THREADS, g_thr_t[k], 0);
	}
	if ((g_parts & PART_THREADS) && g_n_thr > 1)
		print_scaling();
	if (g_parts & (PART_TIGHT | PART_BATCH | PART_XTHREAD | PART_THREADS))
		print_goal();
}

/* ---- memory overhead --------------------------------------------------------------- */

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
	static const int cols[] = { A_DK, A_GLIBC, A_RTE };
	void **ptr = xmalloc(OVERHEAD_N * sizeof(*ptr));
	printf("\n### Metadata per allocation (bytes; %d live blocks; goal for dmakit: <= 16)\n\n",
	       OVERHEAD_N);
	printf("| size | dmakit | glibc | rte |\n|---|---|---|---|\n");
	for (size_t s = 0; s < DK_ARRAY_SIZE(sizes); s++) {
		char nm[32];
		printf("| %s", size_name(sizes[s], nm, sizeof(nm)));
		for (size_t k = 0; k < DK_ARRAY_SIZE(cols); k++) {
			int a = cols[k];
			if (!g_enabled[a]) {
				printf(" | -");
				continue;
			}
			unsigned int got = 0;
			double o = overhead(a, sizes[s], ptr, OVERHEAD_N, &got);
			if (o < 0 && got == 0) {
				printf(" | failed");
				report_failure(a, &(struct cell){ P_TIGHT, sizes[s], 0, 0 }, R_NULL);
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

/* ---- instruction counts (--cg) ------------------------------------------------------ */

#ifdef DK_BENCH_HAVE_CALLGRIND
#define CG_TOGGLE() CALLGRIND_TOGGLE_COLLECT
#else
#define CG_TOGGLE() do { } while (0)
#endif

struct fnops {
	void *(*alloc)(size_t);
	void (*free)(void *);
};

static _Alignas(64) unsigned char g_null_block[1 << 20];
__attribute__((noinline)) static void *null_alloc_(size_t s)
{
	(void)s;
	return g_null_block;
}
__attribute__((noinline)) static void null_free_(void *p)
{
	(void)p;
}
__attribute__((noinline)) static void *cg_dk_alloc_(size_t s)
{
	return dk_malloc(NULL, s, 0);
}

static void cg_die(const char *what)
{
	fprintf(stderr, "bench_malloc: --cg: %s returned NULL\n", what);
	exit(1);
}

static void cg_tight(const struct fnops *o, size_t size, long n, int collect)
{
	if (collect)
		CG_TOGGLE();
	for (long i = 0; i < n; i++) {
		void *p = o->alloc(size);
		if (!p)
			cg_die("alloc");
		*(volatile char *)p = (char)i;
		o->free(p);
	}
	if (collect)
		CG_TOGGLE();
}

static void cg_batch(const struct fnops *o, size_t size, void **ptr, const unsigned int *order,
		     unsigned int n, unsigned int reps, int collect)
{
	if (collect)
		CG_TOGGLE();
	for (unsigned int r = 0; r < reps; r++) {
		for (unsigned int i = 0; i < n; i++) {
			void *p = o->alloc(size);
			if (!p)
				cg_die("alloc");
			*(volatile char *)p = (char)i;
			ptr[i] = p;
		}
		for (unsigned int i = 0; i < n; i++)
			o->free(ptr[order[i]]);
	}
	if (collect)
		CG_TOGGLE();
}

/* xthread under callgrind, in lock-step so the count does not depend on the
 * scheduling: the producer allocates a round of blocks, then the consumer
 * frees them; only those two loops are collected. */
#define CG_ROUND 256
struct cg_x {
	const struct fnops *o;
	size_t size;
	unsigned int rounds; /* the first one is not collected */
	void *blk[CG_ROUND];
	sem_t full, empty;
};

static void *cg_producer(void *arg)
{
	struct cg_x *x = arg;
	for (unsigned int r = 0; r < x->rounds; r++) {
		sem_wait(&x->empty);
		if (r)
			CG_TOGGLE();
		for (unsigned int i = 0; i < CG_ROUND; i++) {
			void *p = x->o->alloc(x->size);
			if (!p)
				cg_die("alloc");
			*(volatile char *)p = (char)i;
			x->blk[i] = p;
		}
		if (r)
			CG_TOGGLE();
		sem_post(&x->full);
	}
	return NULL;
}

static void cg_xthread(struct cg_x *x)
{
	pthread_t th;
	sem_init(&x->full, 0, 0);
	sem_init(&x->empty, 0, 1);
	if (pthread_create(&th, NULL, cg_producer, x) != 0) {
		fprintf(stderr, "bench_malloc: pthread_create failed\n");
		exit(1);
	}
	for (unsigned int r = 0; r < x->rounds; r++) {
		sem_wait(&x->full);
		if (r)
			CG_TOGGLE();
		for (unsigned int i = 0; i < CG_ROUND; i++)
			x->o->free(x->blk[i]);
		if (r)
			CG_TOGGLE();
		sem_post(&x->empty);
	}
	pthread_join(th, NULL);
}

static int cg_usage(void)
{
	fprintf(stderr, "usage: bench_malloc --cg dk|malloc|null tight|batch512-fifo|"
			"batch512-lifo|batch512-rand|xthread SIZE\n");
	return 2;
}

/* Prints "pairs N": the alloc+free pairs collected. */
static int cg_run(const char *alloc, const char *pat, size_t size)
{
	static const struct fnops dk = { cg_dk_alloc_, dk_free }, sys = { malloc, free },
				  null = { null_alloc_, null_free_ };
	const struct fnops *o = strcmp(alloc, "dk") == 0       ? &dk
				: strcmp(alloc, "malloc") == 0 ? &sys
				: strcmp(alloc, "null") == 0   ? &null
							       : NULL;
	if (!o)
		return cg_usage();
	long pairs;
	if (strcmp(pat, "tight") == 0) {
		pairs = 20000;
		cg_tight(o, size, 2000, 0);
		cg_tight(o, size, pairs, 1);
	} else if (strncmp(pat, "batch512-", 9) == 0) {
		static unsigned int order[512];
		static void *ptr[512];
		int kind = strcmp(pat + 9, "fifo") == 0   ? O_FIFO
			   : strcmp(pat + 9, "lifo") == 0 ? O_LIFO
			   : strcmp(pat + 9, "rand") == 0 ? O_RAND
							  : -1;
		if (kind < 0)
			return cg_usage();
		make_order(order, 512, kind, size);
		cg_batch(o, size, ptr, order, 512, 4, 0);
		cg_batch(o, size, ptr, order, 512, 40, 1);
		pairs = 512 * 40;
	} else if (strcmp(pat, "xthread") == 0) {
		static struct cg_x x;
		x.o = o;
		x.size = size;
		x.rounds = 1 + 80;
		cg_xthread(&x);
		pairs = 80 * CG_ROUND;
	} else {
		return cg_usage();
	}
	printf("pairs %ld\n", pairs);
	return 0;
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
	snprintf(g_version[A_RTE], sizeof(g_version[A_RTE]), "%s", rte_version());
	return 0;
}
#endif

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_malloc [--runs N] [--quick] [--check] [--huge] [--no-dpdk]\n"
		"                    [--sizes S,S,...] [--only tight,batch,xthread,threads,overhead]\n"
		"                    [--inject null|overlap]\n"
		"       bench_malloc --cg dk|malloc|null PATTERN SIZE\n"
		"       bench_malloc --preload mimalloc|jemalloc\n"
		"  S: a power of two from 64 to 1048576 (K and M suffixes allowed)\n");
	exit(2);
}

static size_t parse_size(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	if (end == s || (*end && *end != ',') || v < 64 || v > (1ul << 20) || (v & (v - 1))) {
		fprintf(stderr, "bench_malloc: bad size '%s': give powers of two from 64 to 1M\n", s);
		usage();
	}
	return v;
}

static void parse_sizes(const char *list)
{
	g_n_sizes = 0;
	for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		if (g_n_sizes == MAX_SIZES)
			usage();
		g_sizes[g_n_sizes++] = parse_size(p);
	}
	if (g_n_sizes == 0)
		usage();
}

static void parse_only(const char *list)
{
	static const struct { const char *name; unsigned int bits; } parts[] = {
		{ "tight", PART_TIGHT },	 { "batch", PART_BATCH },
		{ "single", PART_TIGHT | PART_BATCH }, { "xthread", PART_XTHREAD },
		{ "threads", PART_THREADS },	 { "overhead", PART_OVERHEAD },
	};
	g_parts = 0;
	for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		size_t len = strcspn(p, ",");
		size_t k;
		for (k = 0; k < DK_ARRAY_SIZE(parts); k++)
			if (strlen(parts[k].name) == len && strncmp(p, parts[k].name, len) == 0)
				break;
		if (k == DK_ARRAY_SIZE(parts)) {
			fprintf(stderr, "bench_malloc: unknown part '%.*s'\n", (int)len, p);
			usage();
		}
		g_parts |= parts[k].bits;
	}
}

static int start_dk(int huge)
{
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_SCAN | DK_INIT_IN_MEMORY; /* a benchmark shares nothing */
	p.huge = huge ? DK_HUGE_ALWAYS : DK_HUGE_NEVER;
	const char *hint = huge ? " (--huge needs free hugepages: echo 1024 > "
				  "/proc/sys/vm/nr_hugepages)" : "";
	int rc = dk_init(&p);
	if (rc < 0) {
		fprintf(stderr, "bench_malloc: dk_init: %s%s\n", strerror(-rc), hint);
		return -1;
	}
	void *probe = dk_malloc(NULL, 64, 0);
	if (!probe) {
		fprintf(stderr, "bench_malloc: dk_malloc: %s%s\n", strerror(errno), hint);
		dk_cleanup();
		return -1;
	}
	dk_free(probe);
	return 0;
}

static void set_threads(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int t = cpus < 2 ? 2 : cpus > MAX_THREADS ? MAX_THREADS : (unsigned int)cpus;
	g_thr_t[0] = 1;
	g_thr_t[1] = 2;
	g_n_thr = 2;
	if (t > 2)
		g_thr_t[g_n_thr++] = t;
}

static void print_intro(int huge)
{
	printf("## bench_malloc: dmakit %s (%s pages), glibc %s", dk_version(),
	       huge ? "huge" : "4 KiB", gnu_get_libc_version());
	for (int a = A_MI; a < A_BAD; a++)
		if (g_enabled[a])
			printf(", %s %s", g_alloc_name[a], g_version[a]);
	FILE *la = fopen("/proc/loadavg", "r");
	char load[64] = "?";
	if (la) {
		if (!fgets(load, sizeof(load), la))
			snprintf(load, sizeof(load), "?");
		fclose(la);
		load[strcspn(load, "\n")] = '\0';
	}
	printf("\n\n%ld CPUs online; /proc/loadavg at start: %s; best of %d runs (%d above 64 KiB)"
	       "%s\n", sysconf(_SC_NPROCESSORS_ONLN), load, g_quick ? 1 : g_runs,
	       size_runs(1u << 20), g_quick ? "; --quick: a smoke run, figures not comparable" : "");
}

static void measure_all(void)
{
	double t0 = now_ns();
	build_cells();
	for (unsigned int s = 0; s < g_n_sizes; s++) {
		char nm[32];
		measure_size(s);
		fprintf(stderr, "# %s done (%.0f s)\n", size_name(g_sizes[s], nm, sizeof(nm)),
			(now_ns() - t0) / 1e9);
	}
	print_tables();
}

int main(int argc, char **argv)
{
	int huge = 0, no_dpdk = 0, sizes_given = 0;
	for (unsigned int s = 0; s < MAX_SIZES; s++)
		g_sizes[s] = (size_t)64 << s;
	g_n_sizes = MAX_SIZES;
	if (argc == 3 && strcmp(argv[1], "--serve") == 0)
		return serve(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--preload") == 0) {
		const char *p = strcmp(argv[2], "mimalloc") == 0   ? DK_BENCH_MIMALLOC_SO
				: strcmp(argv[2], "jemalloc") == 0 ? DK_BENCH_JEMALLOC_SO
								   : NULL;
		if (!p)
			usage();
		if (!p[0])
			fprintf(stderr, "bench_malloc: %s not found at meson setup time "
					"(apt-get install lib%s-dev, then meson setup --reconfigure)\n",
				argv[2], argv[2]);
		else
			printf("%s\n", p);
		return p[0] ? 0 : 1;
	}
	if (argc == 5 && strcmp(argv[1], "--cg") == 0) {
#ifndef DK_BENCH_HAVE_CALLGRIND
		fprintf(stderr, "bench_malloc: --cg: built without valgrind/callgrind.h "
				"(apt-get install valgrind, then meson setup --reconfigure)\n");
		return 1;
#else
		size_t size = parse_size(argv[4]);
		if (strcmp(argv[2], "dk") == 0 && start_dk(0) < 0)
			return 1;
		int rc = cg_run(argv[2], argv[3], size);
		if (strcmp(argv[2], "dk") == 0)
			dk_cleanup();
		return rc;
#endif
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			g_runs = atoi(argv[++i]);
			g_runs_set = 1;
			if (g_runs < 1 || g_runs > MAX_RUNS)
				usage();
		} else if (strcmp(argv[i], "--quick") == 0) {
			g_quick = 1;
			g_check = 1;
			g_target_ns = 3e5;
		} else if (strcmp(argv[i], "--check") == 0) {
			g_check = 1;
		} else if (strcmp(argv[i], "--huge") == 0) {
			huge = 1;
		} else if (strcmp(argv[i], "--no-dpdk") == 0) {
			no_dpdk = 1;
		} else if (strcmp(argv[i], "--sizes") == 0 && i + 1 < argc) {
			parse_sizes(argv[++i]);
			sizes_given = 1;
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			parse_only(argv[++i]);
		} else if (strcmp(argv[i], "--inject") == 0 && i + 1 < argc) {
			i++;
			g_inject = strcmp(argv[i], "null") == 0 ? 1 : strcmp(argv[i], "overlap") == 0 ? 2 : 0;
			if (!g_inject)
				usage();
		} else {
			usage();
		}
	}
	if (g_quick && !sizes_given)
		parse_sizes("64,4K,64K,1M");
	signal(SIGPIPE, SIG_IGN); /* a child allocator that dies is reported, not fatal */
	set_threads();

	if (start_dk(huge) < 0)
		return 1;
	g_enabled[A_DK] = g_enabled[A_GLIBC] = 1;
#ifdef DK_BENCH_HAVE_DPDK
	if (!no_dpdk)
		g_enabled[A_RTE] = start_dpdk(huge) == 0;
	else
		printf("DPDK left out (--no-dpdk)\n");
#else
	(void)no_dpdk;
	printf("rte: DPDK not installed (apt-get install libdpdk-dev, then meson setup "
	       "--reconfigure): column left out\n");
#endif
	remote_start(A_MI, DK_BENCH_MIMALLOC_SO);
	remote_start(A_JE, DK_BENCH_JEMALLOC_SO);
	if (g_inject) {
		g_bad_arena = mmap(NULL, BAD_ARENA, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (g_bad_arena == MAP_FAILED) {
			fprintf(stderr, "bench_malloc: --inject: mmap of the faulty arena: %s\n",
				strerror(errno));
			return 1;
		}
		g_enabled[A_BAD] = 1;
	}

	print_intro(huge);
	if (g_parts & (PART_TIGHT | PART_BATCH | PART_XTHREAD | PART_THREADS))
		measure_all();
	if (g_parts & PART_OVERHEAD)
		measure_overhead();

	remote_stop(A_MI);
	remote_stop(A_JE);
#ifdef DK_BENCH_HAVE_DPDK
	if (g_enabled[A_RTE])
		rte_eal_cleanup();
#endif
	dk_cleanup();
	if (g_inject) {
		if (!g_caught)
			fprintf(stderr, "bench_malloc: --inject %s: the fault was NOT caught\n",
				g_inject == 1 ? "null" : "overlap");
		return g_caught && !g_failed ? 0 : 1;
	}
	return g_failed ? 1 : 0;
}
