/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MR caches across processes (src/mr/mr_mp.c): a primary shares a cache
 * with fake operations that count their calls; secondaries (this binary
 * exec'd with DK_MP_CHILD=<scenario>, as in tests/mem/test_mp.c) attach to
 * it. They talk through the memzone "mrmp_box". Child exit status: 0
 * passed, else the line of the failed check (modulo 250, printed on stderr).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dmakit/dmakit.h>
#include <dmakit/mr.h>

#include "child.h"
#include "tap.h"

#define BIG (2u << 20)
#define PG ((uintptr_t)4096)
#define IOVA_OFF 0x100000000000ull
#define NAME "mr_t"

struct box {
	uint64_t magic;
	unsigned char *p;    /* heap block of the primary */
	unsigned char *x;    /* external memory registered in the primary only */
	unsigned char *slow; /* a block whose registration the primary delays */
	unsigned char *big;  /* a heap block whose region the primary gives back */
	uint32_t c_key;      /* what the secondary's lookup of p returned */
	dk_iova_t c_iova;
	volatile int step;
};
#define BOX_MAGIC 0x786f62706d726dull

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- fake device operations (counting, with a delay on request) ---------- */

struct fake {
	pthread_mutex_t lock;
	unsigned int regs, deregs, next_key;
	uintptr_t delay_va; /* reg of a run holding it sleeps delay_ms */
	unsigned int delay_ms;
};

static struct fake g_fake = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int fake_reg(void *ctx, void *va, size_t len, uint32_t *key, dk_iova_t *iova)
{
	struct fake *f = ctx;
	uintptr_t a = (uintptr_t)va;
	pthread_mutex_lock(&f->lock);
	unsigned int delay = f->delay_va - a < len ? f->delay_ms : 0;
	pthread_mutex_unlock(&f->lock);
	usleep(delay * 1000);
	pthread_mutex_lock(&f->lock);
	f->regs++;
	*key = ++f->next_key;
	pthread_mutex_unlock(&f->lock);
	*iova = (dk_iova_t)a + IOVA_OFF;
	return 0;
}

static void fake_dereg(void *ctx, void *va, size_t len, uint32_t key)
{
	(void)va, (void)len, (void)key;
	struct fake *f = ctx;
	pthread_mutex_lock(&f->lock);
	f->deregs++;
	pthread_mutex_unlock(&f->lock);
}

static const struct dk_mr_ops g_fake_ops = {fake_reg, fake_dereg};

/* ---- the child side ------------------------------------------------------ */


static void child_init(void)
{
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_SCAN;
	C_CHECK(dk_init(&p) == 0);
}

static struct box *child_box(void)
{
	const struct dk_memzone *mz = dk_memzone_lookup("mrmp_box");
	C_CHECK(mz != NULL);
	struct box *b = mz->addr;
	C_CHECK(b->magic == BOX_MAGIC);
	return b;
}

static void wait_step(struct box *b, int step)
{
	int64_t end = now_ms() + 10000;
	while (__atomic_load_n(&b->step, __ATOMIC_ACQUIRE) < step) {
		C_CHECK(now_ms() < end);
		usleep(1000);
	}
}

static void set_step(struct box *b, int step)
{
	__atomic_store_n(&b->step, step, __ATOMIC_RELEASE);
}

/* Lookups of the primary's heap block: one request, then hits. */
static void scen_lookup(void)
{
	child_init();
	struct box *b = child_box();
	struct dk_mr_cache *c = dk_mr_cache_attach(NAME, 0);
	C_CHECK(c != NULL);
	struct dk_mr_ctrl q;
	C_CHECK(dk_mr_ctrl_init(&q, c) == 0);
	uint32_t key = 0, key2 = 0;
	dk_iova_t iova = 0, iova2 = 0;
	C_CHECK(dk_mr_lookup(&q, b->p, 64, &key, &iova) == 0);
	b->c_key = key;
	b->c_iova = iova;
	C_CHECK(iova == (uintptr_t)b->p + IOVA_OFF);
	/* Hits without asking: the MRU, then the global level through a new queue. */
	C_CHECK(dk_mr_lookup(&q, b->p + 4096, 64, &key2, &iova2) == 0);
	C_CHECK(key2 == key && iova2 == iova + 4096);
	struct dk_mr_ctrl q2;
	C_CHECK(dk_mr_ctrl_init(&q2, c) == 0);
	C_CHECK(dk_mr_lookup(&q2, b->p + BIG - 64, 64, &key2, &iova2) == 0);
	C_CHECK(key2 == key && iova2 == iova + BIG - 64);
	C_CHECK(dk_mr_register(c, b->p, BIG) == 0);
	struct dk_mr_stats st;
	C_CHECK(dk_mr_cache_stats(c, &st) == 0);
	C_CHECK(st.misses == 1 && st.registrations == 1 && st.live == 1);

	/* Memory the primary does not know: -ENOENT naming the fix. */
	static char here[8192];
	dk_test_log_capture_start();
	C_CHECK(dk_mr_lookup(&q, here, 8, &key2, &iova2) == -ENOENT);
	C_CHECK(strstr(dk_test_log_captured(), "attach or register it in the primary") != NULL);
	dk_test_log_capture_stop();

	/* Only the primary shares. */
	C_CHECK(dk_mr_cache_share(c, "other") == -EPERM);
	errno = 0;
	C_CHECK(dk_mr_cache_attach("no_such_cache", 0) == NULL && errno == ENOENT);
	C_CHECK(dk_mr_cache_attach("bad/name", 0) == NULL && errno == EINVAL);
	dk_mr_ctrl_fini(&q);
	dk_mr_ctrl_fini(&q2);
	dk_mr_cache_destroy(c);
	dk_cleanup();
}

/* The primary drops a registration (its memory goes): this secondary,
 * which hears no event for it, stops returning it. */
static void scen_stale(void)
{
	child_init();
	struct box *b = child_box();
	struct dk_mr_cache *c = dk_mr_cache_attach(NAME, 0);
	C_CHECK(c != NULL);
	struct dk_mr_ctrl q;
	C_CHECK(dk_mr_ctrl_init(&q, c) == 0);
	uint32_t key;
	dk_iova_t iova;
	C_CHECK(dk_mr_lookup(&q, b->x, 64, &key, &iova) == 0);
	C_CHECK(iova == (uintptr_t)b->x + IOVA_OFF);
	C_CHECK(dk_mr_lookup(&q, b->x, 64, &key, &iova) == 0); /* now in the MRU */
	set_step(b, 1);
	wait_step(b, 2); /* the primary unregistered x */
	key = 0;
	C_CHECK(dk_mr_lookup(&q, b->x, 64, &key, &iova) == -ENOENT);
	C_CHECK(dk_mr_register(c, b->x, 64) == -ENOENT);
	/* Its heap block still translates (asked again: the copies went). */
	C_CHECK(dk_mr_lookup(&q, b->p, 64, &key, &iova) == 0);
	C_CHECK(iova == (uintptr_t)b->p + IOVA_OFF);
	dk_mr_cache_destroy(c);
	dk_cleanup();
}

/* The primary frees heap memory (its region goes back: a FREE event in
 * every process): once dk_free returned, no translation of it is left. */
static void scen_heap_free(void)
{
	child_init();
	struct box *b = child_box();
	struct dk_mr_cache *c = dk_mr_cache_attach(NAME, 0);
	C_CHECK(c != NULL);
	struct dk_mr_ctrl q;
	C_CHECK(dk_mr_ctrl_init(&q, c) == 0);
	uint32_t key;
	dk_iova_t iova;
	C_CHECK(dk_mr_lookup(&q, b->big, 64, &key, &iova) == 0);
	C_CHECK(dk_mr_lookup(&q, b->big, 64, &key, &iova) == 0);
	set_step(b, 1);
	wait_step(b, 2);
	dk_test_log_capture_start();
	C_CHECK(dk_mr_lookup(&q, b->big, 64, &key, &iova) == -ENOENT);
	dk_test_log_capture_stop();
	struct dk_mr_stats st;
	C_CHECK(dk_mr_cache_stats(c, &st) == 0);
	C_CHECK(st.live == 0);
	dk_mr_cache_destroy(c);
	dk_cleanup();
}

/* The primary is slow to register: -ETIMEDOUT within the timeout. */
static void scen_timeout(void)
{
	child_init();
	struct box *b = child_box();
	struct dk_mr_cache *c = dk_mr_cache_attach(NAME, 200);
	C_CHECK(c != NULL);
	struct dk_mr_ctrl q;
	C_CHECK(dk_mr_ctrl_init(&q, c) == 0);
	uint32_t key;
	dk_iova_t iova;
	dk_test_log_capture_start();
	int64_t t0 = now_ms();
	C_CHECK(dk_mr_lookup(&q, b->slow, 64, &key, &iova) == -ETIMEDOUT);
	int64_t took = now_ms() - t0;
	C_CHECK(took >= 150 && took < 700);
	C_CHECK(strstr(dk_test_log_captured(), "did not answer") != NULL);
	dk_test_log_capture_stop();
	dk_mr_cache_destroy(c); /* gone before the answer comes */
	dk_cleanup();
}

/* The primary destroys the cache: copies go, misses fail at once. */
static void scen_unshared(void)
{
	child_init();
	struct box *b = child_box();
	struct dk_mr_cache *c = dk_mr_cache_attach(NAME, 0);
	C_CHECK(c != NULL);
	struct dk_mr_ctrl q;
	C_CHECK(dk_mr_ctrl_init(&q, c) == 0);
	uint32_t key;
	dk_iova_t iova;
	C_CHECK(dk_mr_lookup(&q, b->p, 64, &key, &iova) == 0);
	set_step(b, 1);
	wait_step(b, 2);
	dk_test_log_capture_start();
	int64_t t0 = now_ms();
	C_CHECK(dk_mr_lookup(&q, b->p, 64, &key, &iova) == -ENOTCONN);
	C_CHECK(now_ms() - t0 < 500);
	C_CHECK(strstr(dk_test_log_captured(), "no primary serves it") != NULL);
	dk_test_log_capture_stop();
	errno = 0;
	C_CHECK(dk_mr_cache_attach(NAME, 0) == NULL && errno == ENOENT);
	dk_mr_cache_destroy(c);
	dk_cleanup();
}

/* Connect to the cache's socket (<instance dir>/mr.<FNV-1a of the name>.sock,
 * dmakit/mr.h), say so on DK_FD_OUT and hang. */
static void scen_hang(void)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const char *n = NAME; *n; n++)
		h = (h ^ (unsigned char)*n) * 0x100000001b3ull;
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int k = snprintf(a.sun_path, sizeof(a.sun_path), "%s/%s/mr.%016llx.sock",
			 getenv("DMAKIT_RUNTIME_DIR"), getenv("DMAKIT_PREFIX"), (unsigned long long)h);
	C_CHECK(k > 0 && (size_t)k < sizeof(a.sun_path));
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	C_CHECK(fd >= 0);
	C_CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	char one = 1;
	C_CHECK(write(atoi(getenv("DK_FD_OUT")), &one, 1) == 1);
	for (;;)
		pause();
}

/* A primary of its own that shares a cache and waits to be killed. */
static void scen_primary_die(void)
{
	child_init();
	C_CHECK(dk_process_type() == DK_PROC_PRIMARY);
	struct dk_mr_cache *c = dk_mr_cache_create(&g_fake_ops, &g_fake);
	C_CHECK(c != NULL);
	C_CHECK(dk_mr_cache_share(c, "gone") == 0);
	unsigned char *p = dk_malloc(NULL, BIG, 0);
	C_CHECK(p != NULL);
	C_CHECK(write(atoi(getenv("DK_FD_OUT")), &p, sizeof(p)) == sizeof(p));
	for (;;)
		pause();
}

/* Attached to "gone": once its primary is killed, a miss fails at once. */
static void scen_secondary_gone(void)
{
	child_init();
	unsigned char *p = (unsigned char *)strtoull(getenv("DK_P"), NULL, 0);
	struct dk_mr_cache *c = dk_mr_cache_attach("gone", 300);
	C_CHECK(c != NULL);
	struct dk_mr_ctrl q;
	C_CHECK(dk_mr_ctrl_init(&q, c) == 0);
	uint32_t key;
	dk_iova_t iova;
	C_CHECK(dk_mr_lookup(&q, p, 64, &key, &iova) == 0);
	char one = 1;
	C_CHECK(write(atoi(getenv("DK_FD_OUT")), &one, 1) == 1);
	C_CHECK(read(atoi(getenv("DK_FD_IN")), &one, 1) == 1); /* the primary is dead */
	static char unknown[8192];
	dk_test_log_capture_start();
	int64_t t0 = now_ms();
	int rc = dk_mr_lookup(&q, unknown, 64, &key, &iova);
	C_CHECK(rc == -ENOTCONN);
	C_CHECK(now_ms() - t0 < 300);
	C_CHECK(strstr(dk_test_log_captured(), "restart the primary") != NULL);
	dk_test_log_capture_stop();
	dk_mr_cache_destroy(c);
	_exit(0); /* no dk_cleanup: the instance's primary is gone */
}

static void child_main(const char *scen)
{
	dk_test_scen = scen;
	static const struct {
		const char *name;
		void (*fn)(void);
	} scens[] = {{"lookup", scen_lookup},	  {"stale", scen_stale},
		     {"heap_free", scen_heap_free},
		     {"timeout", scen_timeout},	  {"unshared", scen_unshared},
		     {"hang", scen_hang},	  {"primary_die", scen_primary_die},
		     {"secondary_gone", scen_secondary_gone}};
	for (size_t i = 0; i < sizeof(scens) / sizeof(scens[0]); i++)
		if (!strcmp(scen, scens[i].name)) {
			scens[i].fn();
			_exit(0);
		}
	fprintf(stderr, "# unknown scenario %s\n", scen);
	_exit(99);
}

__attribute__((constructor)) static void maybe_child(void)
{
	const char *s = getenv("DK_MP_CHILD");
	if (s)
		child_main(s);
}

/* ---- the primary side ---------------------------------------------------- */

static int run_child(const char *scen)
{
	return dk_test_wait(dk_test_spawn(scen, NULL));
}

static struct dk_mr_cache *g_c;
static struct box *g_b;

/* A primary with a shared cache of fake operations and the box. */
static int setup(void)
{
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_SCAN;
	p.proc_type = DK_PROC_PRIMARY;
	if (dk_init(&p) < 0)
		return -1;
	pthread_mutex_lock(&g_fake.lock);
	g_fake.regs = g_fake.deregs = g_fake.next_key = 0;
	g_fake.delay_va = 0;
	pthread_mutex_unlock(&g_fake.lock);
	g_c = dk_mr_cache_create(&g_fake_ops, &g_fake);
	const struct dk_memzone *mz = dk_memzone_reserve("mrmp_box", sizeof(struct box),
							 DK_SOCKET_ANY, 0, 0);
	if (!g_c || !mz || dk_mr_cache_share(g_c, NAME) < 0)
		return -1;
	g_b = mz->addr;
	memset(g_b, 0, sizeof(*g_b));
	g_b->magic = BOX_MAGIC;
	g_b->p = dk_malloc(NULL, BIG, 0);
	return g_b->p ? 0 : -1;
}

static void teardown(void)
{
	dk_free(g_b->p);
	dk_mr_cache_destroy(g_c);
	g_c = NULL;
	dk_cleanup();
}

static unsigned int regs(void)
{
	pthread_mutex_lock(&g_fake.lock);
	unsigned int n = g_fake.regs;
	pthread_mutex_unlock(&g_fake.lock);
	return n;
}

static void wait_step_main(int step)
{
	int64_t end = now_ms() + 10000;
	while (__atomic_load_n(&g_b->step, __ATOMIC_ACQUIRE) < step && now_ms() < end)
		usleep(1000);
}

DK_TEST(secondary_lookup_is_registered_once_by_the_primary)
{
	REQUIRE_INT_EQ(setup(), 0);
	CHECK_INT_EQ(run_child("lookup"), 0);
	CHECK_INT_EQ(regs(), 1);
	/* The primary's own lookup: same registration, no new one. */
	struct dk_mr_ctrl q;
	REQUIRE_INT_EQ(dk_mr_ctrl_init(&q, g_c), 0);
	uint32_t key;
	dk_iova_t iova;
	REQUIRE_INT_EQ(dk_mr_lookup(&q, g_b->p, 64, &key, &iova), 0);
	CHECK_INT_EQ(key, g_b->c_key);
	CHECK_INT_EQ(iova, g_b->c_iova);
	CHECK_INT_EQ(regs(), 1);
	teardown();
}

DK_TEST(share_checks)
{
	dk_test_log_capture_start();
	struct dk_mr_cache *c = dk_mr_cache_create(&g_fake_ops, &g_fake);
	REQUIRE(c != NULL);
	/* Without an instance: nobody to share with. */
	CHECK_INT_EQ(dk_mr_cache_share(c, "x"), -EPERM);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "only the primary process");
	dk_mr_cache_destroy(c);
	REQUIRE_INT_EQ(setup(), 0);
	CHECK_INT_EQ(dk_mr_cache_share(g_c, NAME), -EALREADY);
	CHECK_INT_EQ(dk_mr_cache_share(NULL, NAME), -EINVAL);
	c = dk_mr_cache_create(&g_fake_ops, &g_fake);
	REQUIRE(c != NULL);
	CHECK_INT_EQ(dk_mr_cache_share(c, NAME), -EEXIST);
	CHECK_INT_EQ(dk_mr_cache_share(c, ""), -EINVAL);
	CHECK_INT_EQ(dk_mr_cache_share(c, "a/b"), -EINVAL);
	char longname[DK_MR_NAME_MAX + 1];
	memset(longname, 'a', DK_MR_NAME_MAX);
	longname[DK_MR_NAME_MAX] = 0;
	CHECK_INT_EQ(dk_mr_cache_share(c, longname), -EINVAL);
	longname[DK_MR_NAME_MAX - 1] = 0; /* the longest name: a UUID fits */
	CHECK_INT_EQ(dk_mr_cache_share(c, longname), 0);
	errno = 0;
	CHECK(dk_mr_cache_attach(NAME, 0) == NULL);
	CHECK_INT_EQ(errno, EPERM);
	dk_mr_cache_destroy(c);
	/* A name is free again once its cache is destroyed. */
	dk_mr_cache_destroy(g_c);
	g_c = dk_mr_cache_create(&g_fake_ops, &g_fake);
	REQUIRE(g_c != NULL);
	CHECK_INT_EQ(dk_mr_cache_share(g_c, NAME), 0);
	dk_test_log_capture_stop();
	CHECK_INT_EQ(run_child("lookup"), 0);
	teardown();
}

DK_TEST(primary_invalidation_reaches_the_secondary)
{
	REQUIRE_INT_EQ(setup(), 0);
	size_t len = 16 * PG;
	void *x = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(x != MAP_FAILED);
	REQUIRE_INT_EQ(dk_extmem_register(x, len, NULL, 0, PG), 0);
	g_b->x = x;
	pid_t pid = dk_test_spawn("stale", NULL);
	wait_step_main(1);
	CHECK_INT_EQ(g_b->step, 1);
	unsigned int before = regs();
	CHECK_INT_EQ(dk_extmem_unregister(x, len), 0); /* FREE in the primary only */
	set_step(g_b, 2);
	dk_test_log_capture_start(); /* the primary logs the unknown memory too */
	CHECK_INT_EQ(dk_test_wait(pid), 0);
	dk_test_log_capture_stop();
	CHECK_INT_EQ(regs(), before + 1); /* x once (before), then p */
	struct dk_mr_stats st;
	REQUIRE_INT_EQ(dk_mr_cache_stats(g_c, &st), 0);
	CHECK_INT_EQ(st.invalidations, 1);
	munmap(x, len);
	teardown();
}

DK_TEST(primary_heap_free_reaches_the_secondary)
{
	REQUIRE_INT_EQ(setup(), 0);
	/* Two big blocks in regions of their own: when the second is freed
	 * the first's free region is more than the heap keeps, so the
	 * second's region goes back (as in tests/mem/test_mp.c). */
	unsigned char *big1 = dk_malloc(NULL, 100u << 20, 0);
	unsigned char *big2 = dk_malloc(NULL, 100u << 20, 0);
	REQUIRE(big1 && big2);
	g_b->big = big2;
	pid_t pid = dk_test_spawn("heap_free", NULL);
	wait_step_main(1);
	CHECK_INT_EQ(g_b->step, 1);
	struct dk_mr_stats st;
	REQUIRE_INT_EQ(dk_mr_cache_stats(g_c, &st), 0);
	uint64_t gen = st.generation;
	dk_free(big1);
	dk_free(big2);
	REQUIRE_INT_EQ(dk_mr_cache_stats(g_c, &st), 0);
	CHECK(st.generation > gen); /* the region went: its registration too */
	set_step(g_b, 2);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_test_wait(pid), 0);
	dk_test_log_capture_stop();
	teardown();
}

DK_TEST(slow_primary_times_out_and_its_server_goes_on)
{
	REQUIRE_INT_EQ(setup(), 0);
	unsigned char *s = dk_malloc(NULL, 64u << 20, 0); /* past p's run, likely */
	REQUIRE(s != NULL);
	g_b->slow = s;
	pthread_mutex_lock(&g_fake.lock);
	g_fake.delay_va = (uintptr_t)s;
	g_fake.delay_ms = 600;
	pthread_mutex_unlock(&g_fake.lock);
	CHECK_INT_EQ(run_child("timeout"), 0);
	/* The server answers a client that left, then serves the next. */
	pthread_mutex_lock(&g_fake.lock);
	g_fake.delay_va = 0;
	pthread_mutex_unlock(&g_fake.lock);
	CHECK_INT_EQ(run_child("lookup"), 0);
	dk_free(s);
	teardown();
}

DK_TEST(hung_or_killed_client_does_not_block_the_server)
{
	REQUIRE_INT_EQ(setup(), 0);
	int fds[2];
	REQUIRE_INT_EQ(pipe(fds), 0);
	char fd_out[16];
	snprintf(fd_out, sizeof(fd_out), "%d", fds[1]);
	const char *env[] = {"DK_FD_OUT", fd_out, NULL};
	/* One client connects and hangs; another is killed while connected. */
	pid_t hang = dk_test_spawn("hang", env), killed = dk_test_spawn("hang", env);
	char one;
	CHECK_INT_EQ(read(fds[0], &one, 1), 1);
	CHECK_INT_EQ(read(fds[0], &one, 1), 1);
	kill(killed, SIGKILL);
	CHECK_INT_EQ(dk_test_wait(killed), 128 + SIGKILL);
	int64_t t0 = now_ms();
	CHECK_INT_EQ(run_child("lookup"), 0); /* its 1 s timeout holds */
	CHECK(now_ms() - t0 < 5000);
	kill(hang, SIGKILL);
	CHECK_INT_EQ(dk_test_wait(hang), 128 + SIGKILL);
	close(fds[0]);
	close(fds[1]);
	teardown();
}

DK_TEST(destroyed_cache_fails_secondary_misses_at_once)
{
	REQUIRE_INT_EQ(setup(), 0);
	pid_t pid = dk_test_spawn("unshared", NULL);
	wait_step_main(1);
	CHECK_INT_EQ(g_b->step, 1);
	dk_mr_cache_destroy(g_c);
	g_c = NULL;
	set_step(g_b, 2);
	CHECK_INT_EQ(dk_test_wait(pid), 0);
	teardown();
}

DK_TEST(dead_primary_fails_secondary_misses_at_once)
{
	int a2m[2], b2m[2], m2b[2];
	REQUIRE_INT_EQ(pipe(a2m), 0);
	REQUIRE_INT_EQ(pipe(b2m), 0);
	REQUIRE_INT_EQ(pipe(m2b), 0);
	char fa[16], fb[16], fin[16];
	snprintf(fa, sizeof(fa), "%d", a2m[1]);
	snprintf(fb, sizeof(fb), "%d", b2m[1]);
	snprintf(fin, sizeof(fin), "%d", m2b[0]);
	const char *env_a[] = {"DMAKIT_PROC_TYPE", "primary", "DK_FD_OUT", fa, NULL};
	pid_t a = dk_test_spawn("primary_die", env_a);
	void *p;
	REQUIRE_INT_EQ(read(a2m[0], &p, sizeof(p)), (ssize_t)sizeof(p));
	char sp[32];
	snprintf(sp, sizeof(sp), "%p", p);
	const char *env_b[] = {"DK_P", sp, "DK_FD_OUT", fb, "DK_FD_IN", fin, NULL};
	pid_t b = dk_test_spawn("secondary_gone", env_b);
	char one = 1;
	CHECK_INT_EQ(read(b2m[0], &one, 1), 1);
	kill(a, SIGKILL);
	CHECK_INT_EQ(dk_test_wait(a), 128 + SIGKILL);
	CHECK_INT_EQ(write(m2b[1], &one, 1), 1);
	CHECK_INT_EQ(dk_test_wait(b), 0);
	for (int i = 0; i < 2; i++) {
		close(a2m[i]);
		close(b2m[i]);
		close(m2b[i]);
	}
}
