/* SPDX-License-Identifier: BSD-3-Clause */
/* Memory event callbacks (src/mem/mem_event.c). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

#include <dmakit/memory.h>

#include "mem/mem_event.h"
#include "mem/memseg.h"
#include "tap.h"

#define BAD DK_BAD_IOVA

struct call {
	char who;
	enum dk_mem_event ev;
	const void *va;
	size_t len;
	void *arg;
	dk_iova_t iova; /* dk_mem_virt2iova(va) during the call */
};

static struct call g_calls[256];
static int g_n;

static void record(char who, enum dk_mem_event ev, const void *va, size_t len, void *arg)
{
	if (g_n < 256)
		g_calls[g_n] = (struct call){who, ev, va, len, arg, dk_mem_virt2iova(va)};
	g_n++;
}

static void cb_a(enum dk_mem_event ev, const void *va, size_t len, void *arg)
{
	record('a', ev, va, len, arg);
}

static void cb_b(enum dk_mem_event ev, const void *va, size_t len, void *arg)
{
	record('b', ev, va, len, arg);
}

static void cb_c(enum dk_mem_event ev, const void *va, size_t len, void *arg)
{
	record('c', ev, va, len, arg);
}

static void reset(void)
{
	dk__mem_event_cleanup();
	dk__memseg_cleanup();
	g_n = 0;
}

DK_TEST(register_errors)
{
	reset();
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_mem_event_callback_register(NULL, cb_a, NULL), -EINVAL);
	CHECK_INT_EQ(dk_mem_event_callback_register("", cb_a, NULL), -EINVAL);
	CHECK_INT_EQ(dk_mem_event_callback_register("x", NULL, NULL), -EINVAL);
	CHECK_INT_EQ(dk_mem_event_callback_register("0123456789012345678901234567890X", cb_a, NULL),
		     -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "1 to 31 characters");
	/* 31 characters is the longest name. */
	CHECK_INT_EQ(dk_mem_event_callback_register("0123456789012345678901234567890", cb_a, NULL),
		     0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(
	    dk_mem_event_callback_register("0123456789012345678901234567890", cb_b, (void *)1),
	    -EEXIST);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "registered already");
	reset();
}

DK_TEST(register_enospc_at_65)
{
	reset();
	char name[32];
	for (int i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "cb%d", i);
		REQUIRE_INT_EQ(dk_mem_event_callback_register(name, cb_a, NULL), 0);
	}
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_mem_event_callback_register("one-too-many", cb_a, NULL), -ENOSPC);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "unregister callbacks");
	CHECK_INT_EQ(dk_mem_event_callback_unregister("cb17", NULL), 0);
	CHECK_INT_EQ(dk_mem_event_callback_register("one-too-many", cb_a, NULL), 0);
	reset();
}

DK_TEST(fire_in_registration_order_with_args)
{
	reset();
	int x;
	REQUIRE_INT_EQ(dk_mem_event_callback_register("b-first", cb_b, &x), 0);
	REQUIRE_INT_EQ(dk_mem_event_callback_register("a-second", cb_a, NULL), 0);
	REQUIRE_INT_EQ(dk_mem_event_callback_register("c-third", cb_c, (void *)0x42), 0);
	dk__mem_event_fire(DK_MEM_EVENT_ALLOC, (void *)0x1000, 0x2000);
	dk__mem_event_fire(DK_MEM_EVENT_FREE, (void *)0x5000, 0x3000);
	REQUIRE_INT_EQ(g_n, 6);
	const char *order = "bacbac";
	for (int i = 0; i < 6; i++) {
		CHECK_INT_EQ(g_calls[i].who, order[i]);
		CHECK_INT_EQ(g_calls[i].ev, i < 3 ? DK_MEM_EVENT_ALLOC : DK_MEM_EVENT_FREE);
		CHECK(g_calls[i].va == (void *)(uintptr_t)(i < 3 ? 0x1000 : 0x5000));
		CHECK_INT_EQ(g_calls[i].len, i < 3 ? 0x2000 : 0x3000);
	}
	CHECK(g_calls[0].arg == &x);
	CHECK(g_calls[1].arg == NULL);
	CHECK(g_calls[2].arg == (void *)0x42);
	reset();
}

DK_TEST(unregister)
{
	reset();
	REQUIRE_INT_EQ(dk_mem_event_callback_register("a", cb_a, (void *)1), 0);
	REQUIRE_INT_EQ(dk_mem_event_callback_register("b", cb_b, (void *)2), 0);
	REQUIRE_INT_EQ(dk_mem_event_callback_register("c", cb_c, (void *)3), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_mem_event_callback_unregister("b", (void *)3), -ENOENT); /* wrong arg */
	CHECK_INT_EQ(dk_mem_event_callback_unregister("nope", NULL), -ENOENT);
	CHECK_INT_EQ(dk_mem_event_callback_unregister(NULL, NULL), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "no callback \"nope\"");
	CHECK_INT_EQ(dk_mem_event_callback_unregister("b", (void *)2), 0);
	CHECK_INT_EQ(dk_mem_event_callback_unregister("b", (void *)2), -ENOENT);
	dk__mem_event_fire(DK_MEM_EVENT_ALLOC, (void *)0x1000, 0x1000);
	REQUIRE_INT_EQ(g_n, 2);
	CHECK_INT_EQ(g_calls[0].who, 'a');
	CHECK_INT_EQ(g_calls[1].who, 'c');
	/* The name is free again. */
	CHECK_INT_EQ(dk_mem_event_callback_register("b", cb_b, NULL), 0);
	reset();
	g_n = 0;
	dk__mem_event_fire(DK_MEM_EVENT_ALLOC, (void *)0x1000, 0x1000);
	CHECK_INT_EQ(g_n, 0); /* cleanup forgot every callback */
}

/* A callback may unregister itself (and others) while an event is fired. */
static void cb_self(enum dk_mem_event ev, const void *va, size_t len, void *arg)
{
	record('s', ev, va, len, arg);
	CHECK_INT_EQ(dk_mem_event_callback_unregister("self", arg), 0);
	CHECK_INT_EQ(dk_mem_event_callback_unregister("c", NULL), 0);
}

DK_TEST(callback_changes_list_during_fire)
{
	reset();
	REQUIRE_INT_EQ(dk_mem_event_callback_register("self", cb_self, (void *)9), 0);
	REQUIRE_INT_EQ(dk_mem_event_callback_register("c", cb_c, NULL), 0);
	dk__mem_event_fire(DK_MEM_EVENT_ALLOC, (void *)0x1000, 0x1000);
	/* This event went to the snapshot: both ran. */
	REQUIRE_INT_EQ(g_n, 2);
	CHECK_INT_EQ(g_calls[0].who, 's');
	CHECK_INT_EQ(g_calls[1].who, 'c');
	dk__mem_event_fire(DK_MEM_EVENT_ALLOC, (void *)0x1000, 0x1000);
	CHECK_INT_EQ(g_n, 2);
	reset();
}

/* ALLOC comes once the IOVA resolves; FREE while it still does. */
DK_TEST(external_memory_events_and_iova)
{
	reset();
	size_t len = 4 * 4096;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(m != MAP_FAILED);
	dk_iova_t t[4] = {0x100000, 0x101000, 0x200000, 0x201000};
	REQUIRE_INT_EQ(dk_mem_event_callback_register("a", cb_a, (void *)5), 0);
	REQUIRE_INT_EQ(dk_extmem_register(m, len, t, 4, 4096), 0);
	REQUIRE_INT_EQ(g_n, 1);
	CHECK_INT_EQ(g_calls[0].ev, DK_MEM_EVENT_ALLOC);
	CHECK(g_calls[0].va == m && g_calls[0].len == len && g_calls[0].arg == (void *)5);
	CHECK(g_calls[0].iova == 0x100000);
	REQUIRE_INT_EQ(dk_extmem_unregister(m, len), 0);
	REQUIRE_INT_EQ(g_n, 2);
	CHECK_INT_EQ(g_calls[1].ev, DK_MEM_EVENT_FREE);
	CHECK(g_calls[1].va == m && g_calls[1].len == len);
	CHECK(g_calls[1].iova == 0x100000);
	CHECK(dk_mem_virt2iova(m) == BAD);
	munmap(m, len);
	reset();
}
