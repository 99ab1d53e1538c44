/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for src/p2p/p2p_consumer.c: dk_p2p_find_many (the closest published
 * provider, random among ties, none when a client reaches nothing), the
 * enable-string parser with the kernel's semantics (pci_p2pdma_enable_store
 * and kstrtobool of Linux 6.1), and client sets (-EXDEV with the reason,
 * picking a provider). Runs under dk_init on a fixture, so dk_cleanup drops
 * the providers.
 *
 *   00:00.0 host bridge 8086:1237 (not whitelisted); the CPU file says Intel
 *   00:1c.0 root port
 *     01:00.0 switch upstream port
 *       02:01.0 -> 03:00.0 provider P1
 *       02:02.0 -> 04:00.0 client C, 04:00.1 provider P4 (same device as C)
 *       02:03.0 -> 05:00.0 provider P2
 *   00:1d.0 root port -> 06:00.0 client X (no common bridge with anyone:
 *           through the host bridge, which does not forward: not_supported)
 * No port redirects (ACS control 0).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dmakit/dmakit.h>

#include "fixture_p2p.h"
#include "tap.h"

#define P1 "0000:03:00.0"
#define C "0000:04:00.0"
#define P4 "0000:04:00.1"
#define P2 "0000:05:00.0"
#define X "0000:06:00.0"

static struct dk_fx *g_fx;

static void provider_dev(const char *bdf, const struct dk_fx_dev *parent, int multifunction)
{
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.multifunction = (uint8_t)multifunction;
	s.bars[2] = (struct dk_fx_bar){0x800000000ull, 0x10000, 0x200 | 0x2000 | 0x100000};
	struct dk_fx_dev *d = dk_fx_add(g_fx, bdf, parent, &s);
	dk_fx_p2p_bar_file(d, 2, 0x10000);
}

static struct dk_pci_device *dev(const char *name)
{
	struct dk_pci_device *d = dk_pci_find(name);
	REQUIRE(d);
	return d;
}

static void setup(void)
{
	dk_fx_p2p_cpu_intel();

	g_fx = dk_fx_new();
	dk_fx_p2p_host_dev(g_fx, "0000:00:00.0", 0x8086, 0x1237);
	struct dk_fx_spec s = dk_fx_p2p_port(DK_PCIE_TYPE_ROOT_PORT);
	struct dk_fx_dev *r = dk_fx_add(g_fx, "0000:00:1c.0", NULL, &s);
	s = dk_fx_p2p_port(DK_PCIE_TYPE_UPSTREAM);
	struct dk_fx_dev *u = dk_fx_add(g_fx, "0000:01:00.0", r, &s);
	s = dk_fx_p2p_port(DK_PCIE_TYPE_DOWNSTREAM);
	struct dk_fx_dev *d1 = dk_fx_add(g_fx, "0000:02:01.0", u, &s);
	struct dk_fx_dev *d2 = dk_fx_add(g_fx, "0000:02:02.0", u, &s);
	struct dk_fx_dev *d3 = dk_fx_add(g_fx, "0000:02:03.0", u, &s);
	provider_dev(P1, d1, 0);
	struct dk_fx_spec e = dk_fx_spec_endpoint();
	e.multifunction = 1;
	dk_fx_add(g_fx, C, d2, &e);
	provider_dev(P4, d2, 1);
	provider_dev(P2, d3, 0);
	s = dk_fx_p2p_port(DK_PCIE_TYPE_ROOT_PORT);
	struct dk_fx_dev *r2 = dk_fx_add(g_fx, "0000:00:1d.0", NULL, &s);
	e = dk_fx_spec_endpoint();
	dk_fx_add(g_fx, X, r2, &e);

	struct dk_init_params p;
	dk_init_params_default(&p);
	p.sysfs_root = dk_fx_root(g_fx);
	p.flags = DK_INIT_NO_PROBE;
	p.log_level = DK_LOG_ERR;
	REQUIRE_INT_EQ(dk_init(&p), 0);
	REQUIRE_INT_EQ(dk_p2p_add_resource(dev(P1), 2, 0, 0), 0);
	REQUIRE_INT_EQ(dk_p2p_add_resource(dev(P2), 2, 0, 0), 0);
	REQUIRE_INT_EQ(dk_p2p_add_resource(dev(P4), 2, 0, 0), 0);
}

static void teardown(void)
{
	dk_cleanup();
	dk_fx_free(g_fx);
	unsetenv("DMAKIT_CPUINFO");
}

DK_TEST(find_many_closest_published_random_among_ties)
{
	setup();
	const struct dk_pci_device *cl[2] = {dev(C), dev(X)};
	dk_test_log_capture_start();
	errno = 0;
	CHECK(dk_p2p_find_many(cl, 1) == NULL); /* nothing published yet */
	CHECK_INT_EQ(errno, ENODEV);
	dk_test_log_capture_stop();
	REQUIRE_INT_EQ(dk_p2p_distance(dev(P1), dev(C), false), 4);
	REQUIRE_INT_EQ(dk_p2p_distance(dev(P2), dev(C), false), 4);
	REQUIRE_INT_EQ(dk_p2p_distance(dev(P4), dev(C), false), 2);
	CHECK_INT_EQ(dk_p2p_publish(dev(P1), true), 0);
	CHECK_INT_EQ(dk_p2p_publish(dev(P2), true), 0);
	int seen1 = 0, seen2 = 0;
	for (int i = 0; i < 200; i++) {
		struct dk_pci_device *p = dk_p2p_find_many(cl, 1);
		REQUIRE(p == dev(P1) || p == dev(P2));
		seen1 += p == dev(P1);
		seen2 += p == dev(P2);
	}
	CHECK(seen1 > 0 && seen2 > 0); /* both ties chosen (chance of failing: 2^-199) */
	CHECK_INT_EQ(dk_p2p_publish(dev(P4), true), 0);
	for (int i = 0; i < 20; i++)
		CHECK(dk_p2p_find_many(cl, 1) == dev(P4)); /* distance 2 beats 4 */
	CHECK_INT_EQ(dk_p2p_publish(dev(P4), false), 0);
	CHECK(dk_p2p_find_many(cl, 1) != dev(P4)); /* unpublished: not offered */
	dk_test_log_capture_start();
	errno = 0;
	CHECK(dk_p2p_find_many(cl, 2) == NULL); /* X reaches nothing */
	CHECK_INT_EQ(errno, ENODEV);
	CHECK(dk_p2p_find_many(cl, 0) == NULL); /* no clients: the kernel's -1 */
	CHECK_INT_EQ(errno, ENODEV);
	CHECK(dk_p2p_find_many(NULL, 1) == NULL);
	CHECK_INT_EQ(errno, EINVAL);
	const struct dk_pci_device *bad[1] = {NULL};
	CHECK(dk_p2p_find_many(bad, 1) == NULL);
	CHECK_INT_EQ(errno, EINVAL);
	dk_test_log_capture_stop();
	teardown();
}

/* Parse s; returns the rc, with *prov and *use as set (sentinels when not). */
static int parse(const char *s, struct dk_pci_device **prov, int *use)
{
	struct dk_pci_device *sentinel = (struct dk_pci_device *)(uintptr_t)0x1;
	bool b = false;
	*prov = sentinel;
	dk_test_log_capture_start();
	int rc = dk_p2p_enable_parse(s, prov, &b);
	dk_test_log_capture_stop();
	*use = *prov == sentinel ? -1 : b;
	return rc;
}

DK_TEST(enable_string_has_the_kernels_semantics)
{
	setup();
	CHECK_INT_EQ(dk_p2p_publish(dev(P1), true), 0);
	struct dk_pci_device *p;
	int use;
	CHECK_INT_EQ(parse(P1, &p, &use), 0);
	CHECK(p == dev(P1));
	CHECK_INT_EQ(use, 1);
	CHECK_INT_EQ(parse(P1 "\n", &p, &use), 0); /* sysfs_streq: a trailing newline */
	CHECK(p == dev(P1));
	CHECK_INT_EQ(parse(P2, &p, &use), -ENODEV);  /* a provider, not published */
	CHECK_INT_EQ(use, -1);
	CHECK_INT_EQ(parse(C, &p, &use), -ENODEV);   /* no memory at all */
	CHECK_INT_EQ(parse("03:00.0", &p, &use), -ENODEV); /* the full name only; '0' + more */
	CHECK_INT_EQ(parse("0000:99:00.0", &p, &use), -ENODEV); /* never read as "0" */
	CHECK_INT_EQ(parse("10", &p, &use), -ENODEV);
	CHECK_INT_EQ(parse(P1 "x", &p, &use), -ENODEV);
	static const struct {
		const char *s;
		int use;
	} bools[] = {
		{"1", 1}, {"1\n", 1}, {"0", 0}, {"0\n", 0}, {"y", 1}, {"Y", 1}, {"yes", 1},
		{"yellow", 1}, {"n", 0}, {"No", 0}, {"nonsense", 0}, {"on", 1}, {"ON", 1},
		{"oN\n", 1}, {"off", 0}, {"OF", 0},
	};
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		int rc = parse(bools[i].s, &p, &use);
		if (rc != 0 || p != NULL || use != bools[i].use)
			dk_test_fail(__FILE__, __LINE__, "\"%s\": rc %d use %d, expected 0 and %d",
				     bools[i].s, rc, use, bools[i].use);
	}
	static const char *const bad[] = {"", "o", "ox", "t", "true", "\n", " 1", "2"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &p, &use) != -ENODEV || use != -1)
			dk_test_fail(__FILE__, __LINE__, "\"%s\" accepted", bad[i]);
	dk_test_log_capture_start();
	bool b;
	CHECK_INT_EQ(dk_p2p_enable_parse("0000:99:00.0\n", &p, &b), -ENODEV);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "no such PCI device: 0000:99:00.0:");
	CHECK_INT_EQ(dk_p2p_enable_parse(P2, &p, &b), -ENODEV);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "has no published peer-to-peer memory");
	CHECK_INT_EQ(dk_p2p_enable_parse(NULL, &p, &b), -EINVAL);
	CHECK_INT_EQ(dk_p2p_enable_parse("1", NULL, &b), -EINVAL);
	dk_test_log_capture_stop();
	teardown();
}

DK_TEST(client_set_bound_to_a_provider)
{
	setup();
	struct dk_p2p_clients *set = dk_p2p_clients_new(dev(P1));
	REQUIRE(set);
	CHECK(dk_p2p_clients_provider(set) == dev(P1));
	CHECK_INT_EQ(dk_p2p_clients_add(set, dev(C)), 0);
	CHECK_INT_EQ(dk_p2p_clients_add(set, dev(P2)), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_p2p_clients_add(set, dev(X)), -EXDEV);
	CHECK_STR_CONTAINS(dk_test_log_captured(), X " cannot reach the P2P memory of " P1);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "not_supported");
	CHECK_INT_EQ(dk_p2p_clients_add(set, dev(C)), -EEXIST);
	CHECK_INT_EQ(dk_p2p_clients_add(set, NULL), -EINVAL);
	CHECK_INT_EQ(dk_p2p_clients_remove(set, dev(X)), -ENOENT);
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_p2p_clients_count(set), 2);
	CHECK_INT_EQ(dk_p2p_clients_remove(set, dev(C)), 0);
	CHECK_INT_EQ(dk_p2p_clients_count(set), 1);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_p2p_clients_pick(set), -EALREADY);
	errno = 0;
	CHECK(dk_p2p_clients_new(dev(C)) == NULL); /* not a provider */
	CHECK_INT_EQ(errno, ENOENT);
	dk_test_log_capture_stop();
	dk_p2p_clients_free(set);
	dk_p2p_clients_free(NULL);
	CHECK_INT_EQ(dk_p2p_clients_count(NULL), 0);
	teardown();
}

DK_TEST(client_set_picks_its_provider)
{
	setup();
	CHECK_INT_EQ(dk_p2p_publish(dev(P1), true), 0);
	CHECK_INT_EQ(dk_p2p_publish(dev(P4), true), 0);
	struct dk_p2p_clients *set = dk_p2p_clients_new(NULL);
	REQUIRE(set);
	CHECK_INT_EQ(dk_p2p_clients_add(set, dev(C)), 0);
	CHECK_INT_EQ(dk_p2p_clients_add(set, dev(X)), 0); /* no provider yet: any client */
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_p2p_clients_pick(set), -ENODEV); /* X reaches nothing */
	CHECK_STR_CONTAINS(dk_test_log_captured(), "no published provider reaches all 2 clients");
	dk_test_log_capture_stop();
	CHECK(dk_p2p_clients_provider(set) == NULL);
	CHECK_INT_EQ(dk_p2p_clients_remove(set, dev(X)), 0);
	CHECK_INT_EQ(dk_p2p_clients_pick(set), 0);
	CHECK(dk_p2p_clients_provider(set) == dev(P4)); /* 2 beats P1's 4 */
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_p2p_clients_add(set, dev(X)), -EXDEV); /* now bound */
	dk_test_log_capture_stop();
	dk_p2p_clients_free(set);
	teardown();
}
