/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests for src/bus/bus.c: registration, cross-bus find, allow/deny policy, dk_dev_log. */
#include <errno.h>

#include <dmakit/bus.h>

#include "bus/bus_internal.h"
#include "tap.h"

static struct dk_device g_fake_devs[3] = {
	{ .name = "fake0", .numa_node = -1 },
	{ .name = "fake1", .numa_node = -1 },
	{ .name = "fake2", .numa_node = -1 },
};

static int fake_scan(void)
{
	return 3;
}
static int fake_probe(void)
{
	return 0;
}
static struct dk_device *fake_find(const struct dk_device *start, dk_dev_cmp_fn cmp,
				   const void *data)
{
	int i = start ? (int)(start - g_fake_devs) + 1 : 0;
	for (; i < 3; i++)
		if (!cmp || cmp(&g_fake_devs[i], data) == 0)
			return &g_fake_devs[i];
	return NULL;
}
static int fake_parse(const char *name, char *out, size_t len)
{
	(void)out;
	(void)len;
	return strncmp(name, "fake", 4) == 0 ? 0 : -EINVAL;
}

static struct dk_bus g_fake = {
	.name = "fake", .scan = fake_scan, .probe = fake_probe, .find = fake_find,
	.parse_name = fake_parse,
};

DK_TEST(register_checks_arguments_and_duplicates)
{
	struct dk_bus incomplete = { .name = "x", .scan = fake_scan };
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_bus_register(NULL), -EINVAL);
	CHECK_INT_EQ(dk_bus_register(&incomplete), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "parse_name are required");
	REQUIRE_INT_EQ(dk_bus_register(&g_fake), 0);
	CHECK_INT_EQ(dk_bus_register(&g_fake), -EEXIST);
	struct dk_bus same_name = g_fake;
	CHECK_INT_EQ(dk_bus_register(&same_name), -EEXIST);
	CHECK(dk_bus_find_by_name("fake") == &g_fake);
	CHECK(dk_bus_find_by_name("nope") == NULL);
	CHECK_INT_EQ(errno, ENOENT);
	CHECK_INT_EQ(dk_bus_unregister(&g_fake), 0);
	CHECK_INT_EQ(dk_bus_unregister(&g_fake), -ENOENT);
	CHECK(dk_bus_find_by_name("fake") == NULL);
}

DK_TEST(find_device_walks_from_start)
{
	for (int i = 0; i < 3; i++)
		g_fake_devs[i].bus = &g_fake;
	REQUIRE_INT_EQ(dk_bus_register(&g_fake), 0);
	struct dk_device *d = dk_bus_find_device(NULL, dk_dev_cmp_name, "fake1");
	CHECK(d == &g_fake_devs[1]);
	d = dk_bus_find_device(NULL, NULL, NULL);
	CHECK(d == &g_fake_devs[0]);
	d = dk_bus_find_device(d, NULL, NULL);
	CHECK(d == &g_fake_devs[1]);
	CHECK(dk_bus_find_device(&g_fake_devs[2], NULL, NULL) == NULL);
	CHECK(dk_bus_find_device(NULL, dk_dev_cmp_name, "fake9") == NULL);
	dk_bus_unregister(&g_fake);
}

DK_TEST(policy_allow_list)
{
	const char *allow[] = { "0000:03:00.0,class=dma:compute", "04:00.0", NULL };
	REQUIRE_INT_EQ(dk__bus_policy_set(allow, NULL), 0);
	const struct dk_devargs *da = NULL;
	CHECK_INT_EQ(dk_bus_device_policy("0000:03:00.0", &da), DK_DEV_POLICY_PROBE);
	REQUIRE(da != NULL);
	CHECK_STR_EQ(dk_devargs_get(da, "class"), "dma:compute");
	CHECK_INT_EQ(dk_bus_device_policy("0000:04:00.0", &da), DK_DEV_POLICY_PROBE);
	CHECK(da != NULL);
	CHECK_INT_EQ(dk_bus_device_policy("0000:05:00.0", &da), DK_DEV_POLICY_SKIP);
	CHECK(da == NULL);
	dk__bus_policy_clear();
	CHECK_INT_EQ(dk_bus_device_policy("0000:05:00.0", NULL), DK_DEV_POLICY_PROBE);
}

DK_TEST(policy_deny_list)
{
	const char *deny[] = { "0000:03:00.0", NULL };
	REQUIRE_INT_EQ(dk__bus_policy_set(NULL, deny), 0);
	CHECK_INT_EQ(dk_bus_device_policy("0000:03:00.0", NULL), DK_DEV_POLICY_SKIP);
	CHECK_INT_EQ(dk_bus_device_policy("0000:03:00.1", NULL), DK_DEV_POLICY_PROBE);
	dk__bus_policy_clear();
}

DK_TEST(policy_rejects_bad_lists_and_keeps_nothing)
{
	const char *allow[] = { "0000:03:00.0", NULL };
	const char *deny[] = { "0000:04:00.0", NULL };
	const char *bad[] = { "0000:03:00.0,,x", NULL };
	const char *dup[] = { "0000:03:00.0", "03:00.0,x=1", NULL };
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk__bus_policy_set(allow, deny), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "use one of them");
	CHECK_INT_EQ(dk__bus_policy_set(bad, NULL), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "allow list entry 0");
	CHECK_INT_EQ(dk__bus_policy_set(dup, NULL), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "twice");
	/* Nothing kept: every device may be probed. */
	CHECK_INT_EQ(dk_bus_device_policy("0000:09:00.0", NULL), DK_DEV_POLICY_PROBE);
}

DK_TEST(policy_limits_entries)
{
	static char names[70][16];
	const char *many[71];
	for (int i = 0; i < 70; i++) {
		snprintf(names[i], sizeof(names[i]), "0000:%02x:00.0", i);
		many[i] = names[i];
	}
	many[70] = NULL;
	CHECK_INT_EQ(dk__bus_policy_set(many, NULL), -E2BIG);
}

/* ---- dk_dev_log --------------------------------------------------------- */

DK_TEST(dev_log_prefixes_the_device_name)
{
	dk_test_log_capture_start();
	dk_log_set_level(DK_LOG_INFO);
#define DK_LOG_COMPONENT "drv"
	DK_DEV_ERR(&g_fake_devs[1], "register %#x reads %u", 0x20u, 7u);
	DK_DEV_DEBUG(&g_fake_devs[1], "above the threshold: dropped");
#undef DK_LOG_COMPONENT
	dk_dev_log(DK_LOG_WARNING, "drv", NULL, "no device");
	CHECK_STR_EQ(dk_test_log_captured(),
		     "err: drv: fake1: register 0x20 reads 7\nwarning: drv: no device\n");
}

DK_TEST(dev_log_component_defaults_to_driver_then_bus)
{
	static const struct dk_driver drv = {.name = "mydrv"};
	struct dk_device dev = {.name = "dev0", .bus = &g_fake, .numa_node = -1};
	dk_test_log_capture_start();
	dk_dev_log(DK_LOG_ERR, NULL, &dev, "on the bus");
	dev.driver = &drv;
	dk_dev_log(DK_LOG_ERR, NULL, &dev, "probed");
	dev.driver = NULL;
	dev.bus = NULL;
	dk_dev_log(DK_LOG_ERR, NULL, &dev, "alone");
	CHECK_STR_EQ(dk_test_log_captured(), "err: fake: dev0: on the bus\n"
					     "err: mydrv: dev0: probed\n"
					     "err: dmakit: dev0: alone\n");
}
