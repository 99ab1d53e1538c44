/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests for src/mem/memzone.c: named reservations. */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dmakit/dmakit.h>

#include "tap.h"

#define PG 4096u
#define NAME31 "abcdefghijklmnopqrstuvwxyz01234"
#define NAME32 "abcdefghijklmnopqrstuvwxyz012345"

static int start(void)
{
	dk_cleanup(); /* a test that ended early may have left the library up */
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_SCAN;
	p.huge = DK_HUGE_NEVER;
	return dk_init(&p);
}

static int count_cb(const struct dk_memzone *mz, void *arg)
{
	(void)mz;
	(*(int *)arg)++;
	return 0;
}

static int live_memzones(void)
{
	int n = 0;
	if (dk_memzone_walk(count_cb, &n) < 0)
		return -1;
	return n;
}

DK_TEST(before_init_is_enodev)
{
	dk_cleanup();
	errno = 0;
	CHECK(dk_memzone_reserve("early", 64, DK_SOCKET_ANY, 0, 0) == NULL);
	CHECK_INT_EQ(errno, ENODEV);
	errno = 0;
	CHECK(dk_memzone_lookup("early") == NULL);
	CHECK_INT_EQ(errno, ENOENT);
}

DK_TEST(reserve_lookup_free)
{
	REQUIRE_INT_EQ(start(), 0);
	CHECK_INT_EQ(live_memzones(), 0);
	const struct dk_memzone *mz = dk_memzone_reserve("ring0", 1000, DK_SOCKET_ANY, 0, 0);
	REQUIRE(mz != NULL);
	CHECK_STR_EQ(mz->name, "ring0");
	CHECK(mz->addr != NULL);
	CHECK_INT_EQ(mz->len, 1000);
	CHECK_INT_EQ((uintptr_t)mz->addr % 64, 0); /* default alignment */
	CHECK_INT_EQ(mz->flags, 0);
	CHECK_INT_EQ(dk_iova_mode(), DK_IOVA_MODE_VA);
	CHECK_INT_EQ(mz->iova, (uintptr_t)mz->addr);
	CHECK_INT_EQ(mz->iova, dk_mem_virt2iova(mz->addr));
	CHECK_INT_EQ(dk_heap_socket_is_external(mz->socket_id), 0);
	CHECK(dk_malloc_usable_size(mz->addr) >= 1000);
	memset(mz->addr, 0x3c, 1000);
	CHECK(dk_memzone_lookup("ring0") == mz);
	CHECK_INT_EQ(live_memzones(), 1);

	/* Two zones do not overlap. */
	const struct dk_memzone *mz2 = dk_memzone_reserve("ring1", 1000, 0, 0, 0);
	REQUIRE(mz2 != NULL);
	CHECK_INT_EQ(mz2->socket_id, 0);
	uintptr_t a = (uintptr_t)mz->addr, b = (uintptr_t)mz2->addr;
	CHECK(a + 1000 <= b || b + 1000 <= a);
	CHECK(dk_memzone_lookup("ring1") == mz2);
	CHECK_INT_EQ(live_memzones(), 2);

	CHECK_INT_EQ(dk_memzone_free(mz), 0);
	errno = 0;
	CHECK(dk_memzone_lookup("ring0") == NULL);
	CHECK_INT_EQ(errno, ENOENT);
	CHECK(dk_memzone_lookup("ring1") == mz2);
	CHECK_INT_EQ(live_memzones(), 1);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_memzone_free(mz), -ENOENT); /* freed twice */
	CHECK_STR_CONTAINS(dk_test_log_captured(), "not a live memzone");
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_memzone_free(NULL), -EINVAL);
	/* The name can be reserved again. */
	const struct dk_memzone *again = dk_memzone_reserve("ring0", 64, DK_SOCKET_ANY, 0, 0);
	CHECK(again != NULL);
	CHECK_INT_EQ(dk_memzone_free(again), 0);
	CHECK_INT_EQ(dk_memzone_free(mz2), 0);
	CHECK_INT_EQ(live_memzones(), 0);
	dk_malloc_thread_flush();
	struct dk_heap_stats st;
	REQUIRE_INT_EQ(dk_malloc_get_stats(0, &st), 0);
	CHECK_INT_EQ(st.alloc_count, 0); /* the blocks went back */
	dk_cleanup();
}

DK_TEST(explicit_alignment)
{
	REQUIRE_INT_EQ(start(), 0);
	char name[DK_MEMZONE_NAME_MAX];
	const struct dk_memzone *mz[16];
	int n = 0;
	for (unsigned int align = 1; align <= (1u << 21); align <<= 1) {
		snprintf(name, sizeof(name), "al%u", align);
		const struct dk_memzone *z = dk_memzone_reserve(name, 100, DK_SOCKET_ANY, 0, align);
		REQUIRE(z != NULL);
		CHECK_INT_EQ((uintptr_t)z->addr % align, 0);
		CHECK_INT_EQ(z->iova % (align < 4096 ? align : 4096), 0);
		/* Never less than the default. */
		CHECK_INT_EQ((uintptr_t)z->addr % 16, 0);
		if (n < 16)
			mz[n++] = z;
		else
			CHECK_INT_EQ(dk_memzone_free(z), 0);
	}
	for (int i = 0; i < n; i++)
		CHECK_INT_EQ(dk_memzone_free(mz[i]), 0);
	dk_cleanup();
}

DK_TEST(bad_arguments_are_einval)
{
	REQUIRE_INT_EQ(start(), 0);
	const char *bad[] = { NULL, "", NAME32 };
	for (size_t i = 0; i < DK_ARRAY_SIZE(bad); i++) {
		dk_test_log_capture_start();
		errno = 0;
		CHECK(dk_memzone_reserve(bad[i], 64, DK_SOCKET_ANY, 0, 0) == NULL);
		CHECK_INT_EQ(errno, EINVAL);
		CHECK_STR_CONTAINS(dk_test_log_captured(), "1..31 characters");
		dk_test_log_capture_stop();
		errno = 0;
		CHECK(dk_memzone_lookup(bad[i]) == NULL);
		CHECK_INT_EQ(errno, EINVAL);
	}
	const struct dk_memzone *mz = dk_memzone_reserve(NAME31, 64, DK_SOCKET_ANY, 0, 0);
	CHECK(mz != NULL);
	CHECK(dk_memzone_lookup(NAME31) == mz);
	CHECK_INT_EQ(dk_memzone_free(mz), 0);

	struct {
		size_t len;
		int socket;
		unsigned int flags, align;
	} c[] = {
		{ 0, DK_SOCKET_ANY, 0, 0 },                    /* len 0 */
		{ 64, DK_SOCKET_ANY, 0, 3 },                   /* align not a power of two */
		{ 64, DK_SOCKET_ANY, 0, 48 },
		{ 64, DK_SOCKET_ANY, 0, 0x80000001u },
		{ 64, DK_SOCKET_ANY, 1u << 1, 0 },             /* unknown flag */
		{ 64, DK_SOCKET_ANY, 1u << 31, 0 },
		{ 64, DK_MAX_HEAPS, 0, 0 },                    /* no such node */
		{ 64, DK_EXTERNAL_SOCKET_BASE + 7, 0, 0 },     /* no such external heap */
		{ 64, -2, 0, 0 },
	};
	for (size_t i = 0; i < DK_ARRAY_SIZE(c); i++) {
		dk_test_log_capture_start();
		errno = 0;
		const struct dk_memzone *z = dk_memzone_reserve("bad", c[i].len, c[i].socket,
								c[i].flags, c[i].align);
		if (z || errno != EINVAL)
			dk_test_fail(__FILE__, __LINE__,
				     "case %zu (len %zu socket %d flags %#x align %u): %p errno %d, want NULL EINVAL",
				     i, c[i].len, c[i].socket, c[i].flags, c[i].align, (const void *)z,
				     errno);
		CHECK(dk_test_log_captured()[0] != '\0');
		dk_test_log_capture_stop();
		if (z)
			dk_memzone_free(z);
	}
	errno = 0;
	CHECK(dk_memzone_lookup("bad") == NULL);
	CHECK_INT_EQ(errno, ENOENT);
	CHECK_INT_EQ(dk_memzone_walk(NULL, NULL), -EINVAL);
	CHECK_INT_EQ(live_memzones(), 0);
	dk_cleanup();
}

DK_TEST(duplicate_name_is_eexist)
{
	REQUIRE_INT_EQ(start(), 0);
	const struct dk_memzone *mz = dk_memzone_reserve("dup", 128, DK_SOCKET_ANY, 0, 0);
	REQUIRE(mz != NULL);
	dk_test_log_capture_start();
	errno = 0;
	CHECK(dk_memzone_reserve("dup", 128, DK_SOCKET_ANY, 0, 0) == NULL);
	CHECK_INT_EQ(errno, EEXIST);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "dk_memzone_lookup");
	/* Different size, flags or socket do not matter. */
	errno = 0;
	CHECK(dk_memzone_reserve("dup", 4096, 0, DK_MEMZONE_IOVA_CONTIG, 4096) == NULL);
	CHECK_INT_EQ(errno, EEXIST);
	dk_test_log_capture_stop();
	CHECK(dk_memzone_lookup("dup") == mz);
	CHECK_INT_EQ(mz->len, 128);
	CHECK_INT_EQ(live_memzones(), 1);
	CHECK_INT_EQ(dk_memzone_free(mz), 0);
	dk_cleanup();
}

DK_TEST(free_needs_the_memzone_itself)
{
	REQUIRE_INT_EQ(start(), 0);
	const struct dk_memzone *mz = dk_memzone_reserve("whole", 128, DK_SOCKET_ANY, 0, 0);
	REQUIRE(mz != NULL);
	/* A copy of the descriptor is not the memzone. */
	struct dk_memzone copy = *mz;
	CHECK_INT_EQ(dk_memzone_free(&copy), -ENOENT);
	/* Nor is a pointer into the middle of it. Tried in a child process, so
	 * that a crash fails this test only. */
	const struct dk_memzone *inner =
		(const struct dk_memzone *)(const void *)((const char *)mz + 8);
	fflush(stdout);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(dk_memzone_free(inner) == -ENOENT && dk_memzone_lookup("whole") == mz ? 0 : 1);
	int status = 0;
	REQUIRE(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		dk_test_fail(__FILE__, __LINE__,
			     "dk_memzone_free(memzone + 8 bytes): %s %d, want -ENOENT and the zone kept",
			     WIFSIGNALED(status) ? "killed by signal" : "exit status",
			     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	CHECK(dk_memzone_lookup("whole") == mz);
	CHECK_INT_EQ(dk_memzone_free(mz), 0);
	dk_cleanup();
}

struct walk_arg {
	int calls;
	int stop_after;
	int ret;
	char seen[8][DK_MEMZONE_NAME_MAX];
};

static int walk_cb(const struct dk_memzone *mz, void *argp)
{
	struct walk_arg *a = argp;
	if (a->calls < 8)
		snprintf(a->seen[a->calls], DK_MEMZONE_NAME_MAX, "%s", mz->name);
	a->calls++;
	return a->calls == a->stop_after ? a->ret : 0;
}

static int free_cb(const struct dk_memzone *mz, void *arg)
{
	(void)arg;
	return dk_memzone_free(mz) == 0 ? 0 : -1;
}

DK_TEST(walk_counts_and_stops)
{
	REQUIRE_INT_EQ(start(), 0);
	const char *names[] = { "w0", "w1", "w2", "w3", "w4" };
	for (size_t i = 0; i < DK_ARRAY_SIZE(names); i++)
		REQUIRE(dk_memzone_reserve(names[i], 256 * (i + 1), DK_SOCKET_ANY, 0, 0) != NULL);
	struct walk_arg a = { .stop_after = -1 };
	CHECK_INT_EQ(dk_memzone_walk(walk_cb, &a), 0);
	CHECK_INT_EQ(a.calls, 5);
	/* Every zone once. */
	for (size_t i = 0; i < DK_ARRAY_SIZE(names); i++) {
		int found = 0;
		for (int k = 0; k < 5; k++)
			found += strcmp(a.seen[k], names[i]) == 0;
		CHECK_INT_EQ(found, 1);
	}
	memset(&a, 0, sizeof(a));
	a.stop_after = 2;
	a.ret = 7;
	CHECK_INT_EQ(dk_memzone_walk(walk_cb, &a), 7);
	CHECK_INT_EQ(a.calls, 2);
	memset(&a, 0, sizeof(a));
	a.stop_after = 3;
	a.ret = -EIO;
	CHECK_INT_EQ(dk_memzone_walk(walk_cb, &a), -EIO);
	CHECK_INT_EQ(a.calls, 3);
	/* Callbacks may free memzones. */
	CHECK_INT_EQ(dk_memzone_walk(free_cb, NULL), 0);
	CHECK_INT_EQ(live_memzones(), 0);
	for (size_t i = 0; i < DK_ARRAY_SIZE(names); i++)
		CHECK(dk_memzone_lookup(names[i]) == NULL);
	dk_cleanup();
}

static int nested_cb(const struct dk_memzone *mz, void *arg)
{
	(void)mz;
	int inner = 0;
	int rc = dk_memzone_walk(count_cb, &inner);
	*(int *)arg = inner;
	return rc < 0 ? rc : 1;
}

DK_TEST(walk_from_a_walk_callback)
{
	REQUIRE_INT_EQ(start(), 0);
	REQUIRE(dk_memzone_reserve("n0", 64, DK_SOCKET_ANY, 0, 0) != NULL);
	REQUIRE(dk_memzone_reserve("n1", 64, DK_SOCKET_ANY, 0, 0) != NULL);
	/* A callback may walk again (nothing forbids it); a child process with an
	 * alarm, so that a deadlock fails this test only. */
	fflush(stdout);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		alarm(5);
		int inner = -1;
		int rc = dk_memzone_walk(nested_cb, &inner);
		_exit(rc == 1 && inner == 2 ? 0 : 1);
	}
	int status = 0;
	REQUIRE(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		dk_test_fail(__FILE__, __LINE__, "dk_memzone_walk inside a walk callback: %s %d",
			     WIFSIGNALED(status) ? "killed by signal (14: SIGALRM, hung)" : "exit status",
			     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	dk_cleanup();
}

DK_TEST(reserve_on_an_external_heap)
{
	REQUIRE_INT_EQ(start(), 0);
	REQUIRE_INT_EQ(dk_heap_create("mzext"), 0);
	int sock = dk_heap_get_socket("mzext");
	const unsigned int n = 16;
	unsigned char *m = mmap(NULL, n * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				-1, 0);
	REQUIRE(m != MAP_FAILED);
	dk_iova_t tbl[16];
	for (unsigned int i = 0; i < n; i++)
		tbl[i] = 0x7000000000ull + (dk_iova_t)(n - 1 - i) * 2 * PG; /* scattered */
	REQUIRE_INT_EQ(dk_heap_memory_add("mzext", m, n * PG, tbl, n, PG), 0);

	/* Nothing on the heap yet: full chunk minus headers. */
	const struct dk_memzone *mz = dk_memzone_reserve("on_ext", 3000, sock, 0, 128);
	REQUIRE(mz != NULL);
	uintptr_t a = (uintptr_t)mz->addr;
	CHECK(a >= (uintptr_t)m && a + 3000 <= (uintptr_t)m + n * PG);
	CHECK_INT_EQ(a % 128, 0);
	CHECK_INT_EQ(mz->socket_id, sock);
	size_t off = a - (uintptr_t)m;
	CHECK_INT_EQ(mz->iova, tbl[off / PG] + off % PG);
	/* A zone larger than the chunk is refused, not taken from another heap. */
	errno = 0;
	CHECK(dk_memzone_reserve("too_big", (n + 1) * PG, sock, 0, 0) == NULL);
	CHECK_INT_EQ(errno, ENOMEM);
	CHECK(dk_memzone_lookup("too_big") == NULL);
	/* The heap's memory cannot go while the zone lives. */
	CHECK_INT_EQ(dk_heap_memory_remove("mzext", m, n * PG), -EBUSY);
	CHECK_INT_EQ(dk_memzone_free(mz), 0);
	CHECK_INT_EQ(dk_heap_memory_remove("mzext", m, n * PG), 0);
	CHECK_INT_EQ(dk_heap_destroy("mzext"), 0);
	munmap(m, n * PG);
	dk_cleanup();
}

DK_TEST(iova_contig_zones)
{
	REQUIRE_INT_EQ(start(), 0);
	const struct dk_memzone *mz =
		dk_memzone_reserve("contig", 5 * PG + 123, DK_SOCKET_ANY, DK_MEMZONE_IOVA_CONTIG, 0);
	REQUIRE(mz != NULL);
	CHECK_INT_EQ(mz->flags, DK_MEMZONE_IOVA_CONTIG);
	CHECK(mz->iova != DK_BAD_IOVA);
	for (size_t k = 0; k < mz->len; k += 4000)
		CHECK_INT_EQ(dk_mem_virt2iova((char *)mz->addr + k), mz->iova + k);
	CHECK_INT_EQ(dk_mem_virt2iova((char *)mz->addr + mz->len - 1), mz->iova + mz->len - 1);
	CHECK_INT_EQ(dk_memzone_free(mz), 0);

	/* On an external heap with a contiguous table. */
	REQUIRE_INT_EQ(dk_heap_create("ctg"), 0);
	int sock = dk_heap_get_socket("ctg");
	const unsigned int n = 16;
	unsigned char *m = mmap(NULL, n * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				-1, 0);
	REQUIRE(m != MAP_FAILED);
	dk_iova_t tbl[16];
	for (unsigned int i = 0; i < n; i++)
		tbl[i] = 0x8000000000ull + (dk_iova_t)i * PG;
	REQUIRE_INT_EQ(dk_heap_memory_add("ctg", m, n * PG, tbl, n, PG), 0);
	mz = dk_memzone_reserve("ext_contig", 4 * PG, sock, DK_MEMZONE_IOVA_CONTIG, PG);
	REQUIRE(mz != NULL);
	size_t off = (uintptr_t)mz->addr - (uintptr_t)m;
	CHECK_INT_EQ(off % PG, 0);
	CHECK_INT_EQ(mz->iova, tbl[off / PG]);
	CHECK_INT_EQ(dk_mem_virt2iova((char *)mz->addr + 4 * PG - 1), mz->iova + 4 * PG - 1);
	CHECK_INT_EQ(dk_memzone_free(mz), 0);
	CHECK_INT_EQ(dk_heap_memory_remove("ctg", m, n * PG), 0);
	/* Scattered table (page i -> 15 - i): no two pages are IOVA-adjacent, so a
	 * two-page IOVA_CONTIG zone cannot be placed; a one-page one can. */
	for (unsigned int i = 0; i < n; i++)
		tbl[i] = 0x9000000000ull + (dk_iova_t)(n - 1 - i) * PG;
	REQUIRE_INT_EQ(dk_heap_memory_add("ctg", m, n * PG, tbl, n, PG), 0);
	errno = 0;
	mz = dk_memzone_reserve("scattered", 2 * PG, sock, DK_MEMZONE_IOVA_CONTIG, PG);
	if (mz) {
		dk_test_fail(__FILE__, __LINE__,
			     "IOVA_CONTIG zone of 2 pages on scattered pages: iova %#" PRIx64
			     ", %#" PRIx64 " at +4 KiB (IOVA mode %d)",
			     mz->iova, dk_mem_virt2iova((char *)mz->addr + PG), dk_iova_mode());
		dk_memzone_free(mz);
	} else {
		CHECK_INT_EQ(errno, ENOMEM);
	}
	mz = dk_memzone_reserve("one_page", PG, sock, DK_MEMZONE_IOVA_CONTIG, PG);
	CHECK(mz != NULL);
	if (mz) {
		off = (uintptr_t)mz->addr - (uintptr_t)m;
		CHECK_INT_EQ(mz->iova, tbl[off / PG]);
		dk_memzone_free(mz);
	}
	CHECK_INT_EQ(dk_heap_memory_remove("ctg", m, n * PG), 0);
	CHECK_INT_EQ(dk_heap_destroy("ctg"), 0);
	munmap(m, n * PG);
	dk_cleanup();
}

DK_TEST(table_full_is_enospc)
{
	REQUIRE_INT_EQ(start(), 0);
	static const struct dk_memzone *mz[DK_MAX_MEMZONES];
	char name[DK_MEMZONE_NAME_MAX];
	int n;
	for (n = 0; n < DK_MAX_MEMZONES; n++) {
		snprintf(name, sizeof(name), "z%d", n);
		mz[n] = dk_memzone_reserve(name, 64, DK_SOCKET_ANY, 0, 0);
		if (!mz[n])
			break;
	}
	CHECK_INT_EQ(n, DK_MAX_MEMZONES);
	dk_test_log_capture_start();
	errno = 0;
	CHECK(dk_memzone_reserve("one_more", 64, DK_SOCKET_ANY, 0, 0) == NULL);
	CHECK_INT_EQ(errno, ENOSPC);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "memzones are in use");
	dk_test_log_capture_stop();
	/* A name in use is still EEXIST, not ENOSPC. */
	errno = 0;
	CHECK(dk_memzone_reserve("z7", 64, DK_SOCKET_ANY, 0, 0) == NULL);
	CHECK_INT_EQ(errno, EEXIST);
	CHECK_INT_EQ(live_memzones(), n);
	CHECK(n < 1 || dk_memzone_lookup("z0") == mz[0]);
	if (n == DK_MAX_MEMZONES) {
		snprintf(name, sizeof(name), "z%d", DK_MAX_MEMZONES - 1);
		CHECK(dk_memzone_lookup(name) == mz[DK_MAX_MEMZONES - 1]);
		/* One freed, one reserved. */
		CHECK_INT_EQ(dk_memzone_free(mz[100]), 0);
		mz[100] = dk_memzone_reserve("one_more", 64, DK_SOCKET_ANY, 0, 0);
		CHECK(mz[100] != NULL);
	}
	for (int i = 0; i < n; i++)
		if (mz[i])
			CHECK_INT_EQ(dk_memzone_free(mz[i]), 0);
	CHECK_INT_EQ(live_memzones(), 0);
	dk_cleanup();
}

DK_TEST(cleanup_forgets_memzones)
{
	REQUIRE_INT_EQ(start(), 0);
	REQUIRE(dk_memzone_reserve("kept", 64, DK_SOCKET_ANY, 0, 0) != NULL);
	dk_cleanup();
	REQUIRE_INT_EQ(start(), 0);
	errno = 0;
	CHECK(dk_memzone_lookup("kept") == NULL);
	CHECK_INT_EQ(errno, ENOENT);
	const struct dk_memzone *mz = dk_memzone_reserve("kept", 64, DK_SOCKET_ANY, 0, 0);
	CHECK(mz != NULL);
	CHECK_INT_EQ(dk_memzone_free(mz), 0);
	dk_cleanup();
}
