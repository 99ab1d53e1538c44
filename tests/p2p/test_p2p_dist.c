/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for src/p2p/p2p_topo.c and p2p_dist.c through the public API
 * (dmakit/p2p.h): distance and map type on fixture topologies, the host
 * bridge rule with CPU files of our own (DMAKIT_CPUINFO), the ACS list, the
 * cache and its invalidation, bad input.
 *
 * The expected values are worked out here by hand from the kernel's rules
 * (drivers/pci/p2pdma.c, calc_map_type_and_dist), written next to each case:
 * the chain of a function is itself then its bridges; the first provider-side
 * element found in the client's chain is the common one; distance = hops on
 * both sides; ACS RR/CR/EC on the provider side up to and including the
 * common element, or on the client side below it, means "through the host
 * bridge"; no common element: distance = both chain lengths, through the
 * host bridge.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dmakit/dmakit.h>

#include "fixture_p2p.h"
#include "tap.h"

/* ---- helpers ------------------------------------------------------------------ */

static int init_at(struct dk_fx *fx)
{
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.sysfs_root = dk_fx_root(fx);
	p.flags = DK_INIT_NO_PROBE;
	p.log_level = DK_LOG_ERR;
	return dk_init(&p);
}

static void done(struct dk_fx *fx)
{
	dk_cleanup();
	dk_fx_free(fx);
}

enum cpu { CPU_INTEL, CPU_AMD_16, CPU_AMD_17, CPU_AMD_19, CPU_ARM };

/* Point DMAKIT_CPUINFO at a file of our own: two processors, the rule reads
 * the first one only (the second says the opposite). */
static void use_cpu(enum cpu c)
{
	static const char *first[] = {
		[CPU_INTEL] = "vendor_id\t: GenuineIntel\ncpu family\t: 6\n",
		[CPU_AMD_16] = "vendor_id\t: AuthenticAMD\ncpu family\t: 22\n",
		[CPU_AMD_17] = "vendor_id\t: AuthenticAMD\ncpu family\t: 23\n",
		[CPU_AMD_19] = "vendor_id\t: AuthenticAMD\ncpu family\t: 25\n",
		[CPU_ARM] = "CPU implementer\t: 0x41\nCPU architecture: 8\n",
	};
	const char *second = c == CPU_AMD_17 || c == CPU_AMD_19
				     ? "vendor_id\t: GenuineIntel\ncpu family\t: 6\n"
				     : "vendor_id\t: AuthenticAMD\ncpu family\t: 25\n";
	char text[512];
	snprintf(text, sizeof(text), "processor\t: 0\n%smodel\t\t: 1\n\nprocessor\t: 1\n%s\n",
		 first[c], second);
	dk_fx_p2p_cpuinfo(text);
}

static struct dk_fx_spec ep(void)
{
	return dk_fx_spec_endpoint();
}

static struct dk_fx_spec with_acs(struct dk_fx_spec s, uint16_t ctrl)
{
	s.has_acs = 1;
	s.acs_cap = DK_PCI_ACS_SV | DK_PCI_ACS_RR | DK_PCI_ACS_CR | DK_PCI_ACS_UF | DK_PCI_ACS_EC;
	s.acs_ctrl = ctrl;
	return s;
}

static struct dk_pci_device *dev(const char *name)
{
	struct dk_pci_device *d = dk_pci_find(name);
	if (!d)
		dk_test_fail(__FILE__, __LINE__, "no device %s in the scan", name);
	return d;
}

/* Compare dk_p2p_path, dk_p2p_distance and dk_p2p_distance_many of one pair
 * against the expected map type, distance and ACS list. */
#define EXPECT(prov, cli, map, dist, acs) expect_at(__LINE__, prov, cli, map, dist, acs)
static void expect_at(int line, const char *prov, const char *cli, enum dk_p2p_map_type map,
		      int dist, const char *acs)
{
	struct dk_pci_device *p = dk_pci_find(prov), *c = dk_pci_find(cli);
	if (!p || !c) {
		dk_test_fail(__FILE__, line, "device %s or %s missing", prov, cli);
		return;
	}
	struct dk_p2p_path path;
	if (dk_p2p_path(p, c, &path) != 0) {
		dk_test_fail(__FILE__, line, "dk_p2p_path(%s, %s) failed", prov, cli);
		return;
	}
	if (path.map_type != map || path.distance != dist || strcmp(path.acs_list, acs) != 0)
		dk_test_fail(__FILE__, line, "%s -> %s: %s %d \"%s\", expected %s %d \"%s\" (%s)",
			     cli, prov, dk_p2p_map_type_name(path.map_type), path.distance,
			     path.acs_list, dk_p2p_map_type_name(map), dist, acs, path.reason_text);
	int want = map == DK_P2P_MAP_NOT_SUPPORTED ? -1 : dist;
	int got = dk_p2p_distance(p, c, false);
	const struct dk_pci_device *one[1] = { c };
	int many = dk_p2p_distance_many(p, one, 1, false);
	if (got != want || many != want)
		dk_test_fail(__FILE__, line, "%s -> %s: distance %d, many %d, expected %d", cli, prov,
			     got, many, want);
	if ((map == DK_P2P_MAP_BUS_ADDR) != (path.reason_text[0] == '\0'))
		dk_test_fail(__FILE__, line, "reason text \"%s\" for %s", path.reason_text,
			     dk_p2p_map_type_name(map));
}

/* ---- names ---------------------------------------------------------------------- */

DK_TEST(map_type_names_are_the_kernels)
{
	CHECK_STR_EQ(dk_p2p_map_type_name(DK_P2P_MAP_NOT_SUPPORTED), "not_supported");
	CHECK_STR_EQ(dk_p2p_map_type_name(DK_P2P_MAP_BUS_ADDR), "bus_addr");
	CHECK_STR_EQ(dk_p2p_map_type_name(DK_P2P_MAP_THRU_HOST_BRIDGE), "thru_host_bridge");
	CHECK_STR_EQ(dk_p2p_map_type_name(DK_P2P_MAP_UNKNOWN), "unknown");
	CHECK_STR_EQ(dk_p2p_map_type_name((enum dk_p2p_map_type)42), "unknown");
}

/* ---- one switch ------------------------------------------------------------------ */

/*
 *   00:1c.0 root port
 *     01:00.0 switch upstream port
 *       02:01.0 downstream -> 03:00.0 endpoint (A)
 *       02:02.0 downstream -> 04:00.0 endpoint (B)
 * Host bridge 00:00.0 is 8086:1237 (i440FX: not whitelisted).
 * rp/usp/dsa/dsb: ACS Control of each port.
 */
static struct dk_fx *one_switch(uint16_t rp, uint16_t usp, uint16_t dsa, uint16_t dsb)
{
	struct dk_fx *fx = dk_fx_new();
	dk_fx_p2p_host_dev(fx, "0000:00:00.0", 0x8086, 0x1237);
	struct dk_fx_spec s = with_acs(dk_fx_p2p_port(DK_PCIE_TYPE_ROOT_PORT), rp);
	struct dk_fx_dev *r = dk_fx_add(fx, "0000:00:1c.0", NULL, &s);
	s = dk_fx_p2p_port(DK_PCIE_TYPE_UPSTREAM);
	if (usp)
		s = with_acs(s, usp);
	struct dk_fx_dev *u = dk_fx_add(fx, "0000:01:00.0", r, &s);
	s = with_acs(dk_fx_p2p_port(DK_PCIE_TYPE_DOWNSTREAM), dsa);
	struct dk_fx_dev *da = dk_fx_add(fx, "0000:02:01.0", u, &s);
	s = with_acs(dk_fx_p2p_port(DK_PCIE_TYPE_DOWNSTREAM), dsb);
	struct dk_fx_dev *db = dk_fx_add(fx, "0000:02:02.0", u, &s);
	s = ep();
	dk_fx_add(fx, "0000:03:00.0", da, &s);
	dk_fx_add(fx, "0000:04:00.0", db, &s);
	return fx;
}

#define A "0000:03:00.0"
#define B "0000:04:00.0"
#define RR DK_PCI_ACS_RR
#define CR DK_PCI_ACS_CR
#define EC DK_PCI_ACS_EC
#define NS DK_P2P_MAP_NOT_SUPPORTED
#define BUS DK_P2P_MAP_BUS_ADDR
#define THRU DK_P2P_MAP_THRU_HOST_BRIDGE

DK_TEST(same_switch_is_distance_4_bus_addr)
{
	use_cpu(CPU_INTEL);
	struct dk_fx *fx = one_switch(0, 0, 0, 0);
	REQUIRE(init_at(fx) >= 0);
	/* A -> 02:01.0 -> 01:00.0 (common) <- 02:02.0 <- B: 2 + 2. */
	EXPECT(A, B, BUS, 4, "");
	EXPECT(B, A, BUS, 4, "");
	/* Same function: the provider is the common element, 0 hops. */
	EXPECT(A, A, BUS, 0, "");
	/* Endpoint to its own downstream port: the port is in A's chain, 1 hop;
	 * to the root port: 3 hops. */
	EXPECT("0000:02:01.0", A, BUS, 1, "");
	EXPECT("0000:00:1c.0", A, BUS, 3, "");
	done(fx);
}

/* ACS at each position of the one-switch path. CPU Intel, host bridge not
 * whitelisted: any redirect makes it not_supported; AMD Zen: thru_host_bridge.
 * The distance never changes (4). */
struct acs_case {
	uint16_t rp, usp, dsa, dsb;
	const char *acs_a_to_b; /* provider A, client B */
	const char *acs_b_to_a; /* provider B, client A */
};

static const struct acs_case acs_cases[] = {
	/* Nothing set. */
	{ 0, 0, 0, 0, "", "" },
	/* Bits that do not redirect (SV, UF): still bus_addr. */
	{ DK_PCI_ACS_SV, DK_PCI_ACS_SV | DK_PCI_ACS_UF, DK_PCI_ACS_SV | DK_PCI_ACS_UF,
	  DK_PCI_ACS_SV, "", "" },
	/* Above the common element (the root port): not on the path. */
	{ RR | CR | EC, 0, 0, 0, "", "" },
	/* Provider's port RR: provider side, both directions. */
	{ 0, 0, RR, 0, "0000:02:01.0", "0000:02:01.0" },
	/* Client's port CR. */
	{ 0, 0, 0, CR, "0000:02:02.0", "0000:02:02.0" },
	/* EC alone on one port. */
	{ 0, 0, EC, 0, "0000:02:01.0", "0000:02:01.0" },
	/* The common element itself: the kernel checks it on the provider walk. */
	{ 0, EC, 0, 0, "0000:01:00.0", "0000:01:00.0" },
	{ 0, RR, 0, 0, "0000:01:00.0", "0000:01:00.0" },
	/* Everything: provider side upwards (port, common), then client side. */
	{ RR, CR, RR | CR, RR | CR, "0000:02:01.0;0000:01:00.0;0000:02:02.0",
	  "0000:02:02.0;0000:01:00.0;0000:02:01.0" },
};

DK_TEST(acs_redirect_at_each_position)
{
	for (size_t i = 0; i < sizeof(acs_cases) / sizeof(acs_cases[0]); i++) {
		const struct acs_case *k = &acs_cases[i];
		struct dk_fx *fx = one_switch(k->rp, k->usp, k->dsa, k->dsb);
		REQUIRE(init_at(fx) >= 0);
		int redirected = k->acs_a_to_b[0] != '\0';
		use_cpu(CPU_INTEL);
		EXPECT(A, B, redirected ? NS : BUS, 4, k->acs_a_to_b);
		EXPECT(B, A, redirected ? NS : BUS, 4, k->acs_b_to_a);
		done(fx);
		/* Same tree with an AMD Zen: allowed through the host bridge. */
		fx = one_switch(k->rp, k->usp, k->dsa, k->dsb);
		REQUIRE(init_at(fx) >= 0);
		use_cpu(CPU_AMD_17);
		EXPECT(A, B, redirected ? THRU : BUS, 4, k->acs_a_to_b);
		struct dk_p2p_path p;
		REQUIRE(dk_p2p_path(dev(A), dev(B), &p) == 0);
		CHECK_INT_EQ(p.reason, redirected ? DK_P2P_REASON_ACS_REDIRECT : DK_P2P_REASON_NONE);
		CHECK_INT_EQ(p.host, redirected ? DK_P2P_HOST_CPU : DK_P2P_HOST_UNUSED);
		if (redirected) {
			char fix[300];
			snprintf(fix, sizeof(fix), "pci=disable_acs_redir=%s", k->acs_a_to_b);
			CHECK_STR_CONTAINS(p.reason_text, fix);
		}
		done(fx);
	}
}

DK_TEST(fixture_default_ports_redirect)
{
	/* dk_fx_spec_bridge leaves RR|CR on, as the kernel does with an IOMMU:
	 * both downstream ports are on the path. */
	use_cpu(CPU_INTEL);
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_bridge(DK_PCIE_TYPE_ROOT_PORT);
	struct dk_fx_dev *r = dk_fx_add(fx, "0000:00:1c.0", NULL, &s);
	s = dk_fx_spec_bridge(DK_PCIE_TYPE_UPSTREAM);
	struct dk_fx_dev *u = dk_fx_add(fx, "0000:01:00.0", r, &s);
	s = dk_fx_spec_bridge(DK_PCIE_TYPE_DOWNSTREAM);
	struct dk_fx_dev *da = dk_fx_add(fx, "0000:02:01.0", u, &s);
	struct dk_fx_dev *db = dk_fx_add(fx, "0000:02:02.0", u, &s);
	s = ep();
	dk_fx_add(fx, A, da, &s);
	dk_fx_add(fx, B, db, &s);
	REQUIRE(init_at(fx) >= 0);
	/* Host bridge: no 00.0; the first function of the root bus is the root
	 * port 00:1c.0 (1b36:000c), which is not whitelisted. */
	EXPECT(A, B, NS, 4, "0000:02:01.0;0000:02:02.0");
	struct dk_p2p_path p;
	REQUIRE(dk_p2p_path(dev(A), dev(B), &p) == 0);
	CHECK_INT_EQ(p.host, DK_P2P_HOST_NOT_LISTED);
	CHECK_INT_EQ(p.host_vendor, 0x1b36);
	CHECK_INT_EQ(p.host_device, 0x000c);
	CHECK_STR_EQ(p.host_bridge, "pci0000:00");
	CHECK_INT_EQ(p.acs_count, 2);
	done(fx);
}

/* ---- nested switches, functions, VFs ---------------------------------------------- */

DK_TEST(different_switches_under_one_root_port)
{
	/*
	 * 00:1c.0 root port -> 01:00.0 switch X upstream
	 *   02:01.0 X down -> 03:00.0 switch Y upstream -> 04:00.0 Y down -> 05:00.0 (P)
	 *   02:02.0 X down -> 06:00.0 switch Z upstream -> 07:00.0 Z down -> 08:00.0 (C)
	 * Common: 01:00.0. P: 05 -> 04 -> 03 -> 02:01 -> 01 = 4 hops; C the same: 8.
	 */
	use_cpu(CPU_INTEL);
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_p2p_port(DK_PCIE_TYPE_ROOT_PORT);
	struct dk_fx_dev *r = dk_fx_add(fx, "0000:00:1c.0", NULL, &s);
	s = dk_fx_p2p_port(DK_PCIE_TYPE_UPSTREAM);
	struct dk_fx_dev *x = dk_fx_add(fx, "0000:01:00.0", r, &s);
	s = dk_fx_p2p_port(DK_PCIE_TYPE_DOWNSTREAM);
	struct dk_fx_dev *x1 = dk_fx_add(fx, "0000:02:01.0", x, &s);
	struct dk_fx_dev *x2 = dk_fx_add(fx, "0000:02:02.0", x, &s);
	s = dk_fx_p2p_port(DK_PCIE_TYPE_UPSTREAM);
	struct dk_fx_dev *y = dk_fx_add(fx, "0000:03:00.0", x1, &s);
	struct dk_fx_dev *z = dk_fx_add(fx, "0000:06:00.0", x2, &s);
	s = dk_fx_p2p_port(DK_PCIE_TYPE_DOWNSTREAM);
	struct dk_fx_dev *y1 = dk_fx_add(fx, "0000:04:00.0", y, &s);
	struct dk_fx_dev *z1 = dk_fx_add(fx, "0000:07:00.0", z, &s);
	s = ep();
	dk_fx_add(fx, "0000:05:00.0", y1, &s);
	dk_fx_add(fx, "0000:08:00.0", z1, &s);
	REQUIRE(init_at(fx) >= 0);
	EXPECT("0000:05:00.0", "0000:08:00.0", BUS, 8, "");
	EXPECT("0000:08:00.0", "0000:05:00.0", BUS, 8, "");
	/* P to switch Z's upstream port: its chain is 06:00.0, 02:02.0, 01:00.0:
	 * common 01:00.0 again, 4 + 2. */
	EXPECT("0000:05:00.0", "0000:06:00.0", BUS, 6, "");
	/* P to switch X's downstream port above it: 02:01.0 is in P's chain, 3 + 0. */
	EXPECT("0000:02:01.0", "0000:05:00.0", BUS, 3, "");
	done(fx);
}

DK_TEST(functions_of_one_device_and_vfs)
{
	/*
	 * 00:1c.0 root port -> 01:00.0 (PF, 2 VFs 01:00.2 01:00.3) and 01:00.1
	 * Functions of one device: F -> 00:1c.0 <- G: 2. A VF's chain goes on from
	 * its PF's bridge (00:1c.0), not through the PF: VF <-> PF 2, VF <-> VF 2.
	 */
	use_cpu(CPU_INTEL);
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_p2p_port(DK_PCIE_TYPE_ROOT_PORT);
	struct dk_fx_dev *r = dk_fx_add(fx, "0000:00:1c.0", NULL, &s);
	s = ep();
	s.multifunction = 1;
	s.sriov_total_vfs = 4;
	s.sriov_num_vfs = 2;
	struct dk_fx_dev *pf = dk_fx_add(fx, "0000:01:00.0", r, &s);
	s.sriov_total_vfs = s.sriov_num_vfs = 0;
	dk_fx_add(fx, "0000:01:00.1", r, &s);
	struct dk_fx_spec v = ep();
	dk_fx_add_vf(fx, pf, 0, "0000:01:00.2", &v);
	dk_fx_add_vf(fx, pf, 1, "0000:01:00.3", &v);
	REQUIRE(init_at(fx) >= 0);
	REQUIRE(dev("0000:01:00.2")->physfn == dev("0000:01:00.0"));
	EXPECT("0000:01:00.0", "0000:01:00.1", BUS, 2, "");
	EXPECT("0000:01:00.1", "0000:01:00.0", BUS, 2, "");
	EXPECT("0000:01:00.0", "0000:01:00.2", BUS, 2, "");
	EXPECT("0000:01:00.2", "0000:01:00.0", BUS, 2, "");
	EXPECT("0000:01:00.2", "0000:01:00.3", BUS, 2, "");
	EXPECT("0000:01:00.3", "0000:01:00.1", BUS, 2, "");
	EXPECT("0000:01:00.2", "0000:01:00.2", BUS, 0, "");
	done(fx);
}

DK_TEST(acs_on_the_functions_themselves)
{
	/*
	 * A multi-function device whose functions have ACS (as real ones do):
	 * the kernel checks every element of the path that has an ACS capability,
	 * endpoints included. Provider F (RR), client G (CR), below a root port
	 * without redirect; Intel, 00:00.0 not whitelisted.
	 */
	use_cpu(CPU_INTEL);
	struct dk_fx *fx = dk_fx_new();
	dk_fx_p2p_host_dev(fx, "0000:00:00.0", 0x8086, 0x1237);
	struct dk_fx_spec s = dk_fx_p2p_port(DK_PCIE_TYPE_ROOT_PORT);
	struct dk_fx_dev *r = dk_fx_add(fx, "0000:00:1c.0", NULL, &s);
	s = with_acs(ep(), RR);
	s.multifunction = 1;
	dk_fx_add(fx, "0000:01:00.0", r, &s);
	s = with_acs(ep(), CR);
	s.multifunction = 1;
	dk_fx_add(fx, "0000:01:00.1", r, &s);
	s = with_acs(ep(), 0);
	dk_fx_add(fx, "0000:01:00.2", r, &s);
	REQUIRE(init_at(fx) >= 0);
	EXPECT("0000:01:00.0", "0000:01:00.1", NS, 2, "0000:01:00.0;0000:01:00.1");
	EXPECT("0000:01:00.1", "0000:01:00.0", NS, 2, "0000:01:00.1;0000:01:00.0");
	EXPECT("0000:01:00.2", "0000:01:00.0", NS, 2, "0000:01:00.0");
	/* Same function: the provider is checked before it is found in the
	 * client's chain, so a function with RR set does not reach itself
	 * directly. */
	EXPECT("0000:01:00.0", "0000:01:00.0", NS, 0, "0000:01:00.0");
	EXPECT("0000:01:00.2", "0000:01:00.2", BUS, 0, "");
	done(fx);
}

/* ---- the host bridge rule --------------------------------------------------------- */

/*
 * Two root ports 00:1c.0 and 00:1d.0, endpoints 01:00.0 and 02:00.0 below
 * them: no common element. Chains: 01:00.0, 00:1c.0 (2) and 02:00.0, 00:1d.0
 * (2): distance 4. hb_vendor 0: no 00.0 function.
 */
static struct dk_fx *two_root_ports(uint16_t hb_vendor, uint16_t hb_device)
{
	struct dk_fx *fx = dk_fx_new();
	if (hb_vendor)
		dk_fx_p2p_host_dev(fx, "0000:00:00.0", hb_vendor, hb_device);
	struct dk_fx_spec s = dk_fx_p2p_port(DK_PCIE_TYPE_ROOT_PORT);
	struct dk_fx_dev *r1 = dk_fx_add(fx, "0000:00:1c.0", NULL, &s);
	struct dk_fx_dev *r2 = dk_fx_add(fx, "0000:00:1d.0", NULL, &s);
	s = ep();
	dk_fx_add(fx, "0000:01:00.0", r1, &s);
	dk_fx_add(fx, "0000:02:00.0", r2, &s);
	return fx;
}

struct host_case {
	enum cpu cpu;
	uint16_t vendor, device; /* host bridge 00:00.0; vendor 0: none */
	enum dk_p2p_map_type map;
	enum dk_p2p_host host;
};

static const struct host_case host_cases[] = {
	/* AMD family 0x17 (Zen) and later route P2P whatever the host bridge. */
	{ CPU_AMD_17, 0x1022, 0x1450, THRU, DK_P2P_HOST_CPU },
	{ CPU_AMD_19, 0x1022, 0x14d8, THRU, DK_P2P_HOST_CPU },
	/* Family 0x16 is older: only the whitelist counts. */
	{ CPU_AMD_16, 0x1022, 0x1566, NS, DK_P2P_HOST_NOT_LISTED },
	{ CPU_AMD_16, 0x8086, 0x2020, THRU, DK_P2P_HOST_WHITELIST },
	/* Intel CPUs: the whitelist. */
	{ CPU_INTEL, 0x8086, 0x1237, NS, DK_P2P_HOST_NOT_LISTED },
	{ CPU_INTEL, 0x8086, 0x2020, THRU, DK_P2P_HOST_WHITELIST },
	{ CPU_INTEL, 0x8086, 0x09a2, THRU, DK_P2P_HOST_WHITELIST },
	{ CPU_INTEL, 0x8086, 0x4948, THRU, DK_P2P_HOST_WHITELIST },
	/* Same-host-bridge-only entries: both devices are under this one. */
	{ CPU_INTEL, 0x8086, 0x3c00, THRU, DK_P2P_HOST_WHITELIST },
	{ CPU_INTEL, 0x8086, 0x2f01, THRU, DK_P2P_HOST_WHITELIST },
	{ CPU_INTEL, 0x1d17, 0x1003, THRU, DK_P2P_HOST_WHITELIST },
	/* Any Google device. */
	{ CPU_INTEL, 0x1ae0, 0x1234, THRU, DK_P2P_HOST_WHITELIST },
	{ CPU_INTEL, 0x10de, 0x2f96, THRU, DK_P2P_HOST_WHITELIST },
	{ CPU_INTEL, 0x10de, 0x2f94, NS, DK_P2P_HOST_NOT_LISTED },
	/* No 00.0: the first function of the root bus is root port 00:1c.0
	 * (1b36:000c), taken as the host bridge device, not listed. */
	{ CPU_INTEL, 0, 0, NS, DK_P2P_HOST_NOT_LISTED },
	/* Not x86: no CPU rule. */
	{ CPU_ARM, 0x8086, 0x1237, NS, DK_P2P_HOST_NOT_LISTED },
	{ CPU_ARM, 0x8086, 0x2031, THRU, DK_P2P_HOST_WHITELIST },
};

DK_TEST(host_bridge_rule_different_root_ports)
{
	for (size_t i = 0; i < sizeof(host_cases) / sizeof(host_cases[0]); i++) {
		const struct host_case *k = &host_cases[i];
		use_cpu(k->cpu);
		struct dk_fx *fx = two_root_ports(k->vendor, k->device);
		REQUIRE(init_at(fx) >= 0);
		EXPECT("0000:01:00.0", "0000:02:00.0", k->map, 4, "");
		struct dk_p2p_path p;
		REQUIRE(dk_p2p_path(dev("0000:01:00.0"), dev("0000:02:00.0"), &p) == 0);
		if (p.host != k->host || p.reason != DK_P2P_REASON_NO_COMMON_BRIDGE)
			dk_test_fail(__FILE__, __LINE__, "case %zu: host %d reason %d (%s)", i,
				     p.host, p.reason, p.reason_text);
		done(fx);
	}
}

DK_TEST(host_bridge_skylake_root_port_first)
{
	/* Skylake-E: no 00.0, the first function of the root bus is a root port
	 * that is on the whitelist (8086:2030). A non-root-port first function
	 * (00:02.0, an endpoint) leaves no host bridge device: refused. */
	use_cpu(CPU_INTEL);
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_p2p_port(DK_PCIE_TYPE_ROOT_PORT);
	s.vendor = 0x8086;
	s.device = 0x2030;
	struct dk_fx_dev *r1 = dk_fx_add(fx, "0000:00:1c.0", NULL, &s);
	struct dk_fx_dev *r2 = dk_fx_add(fx, "0000:00:1d.0", NULL, &s);
	s = ep();
	dk_fx_add(fx, "0000:01:00.0", r1, &s);
	dk_fx_add(fx, "0000:02:00.0", r2, &s);
	REQUIRE(init_at(fx) >= 0);
	EXPECT("0000:01:00.0", "0000:02:00.0", THRU, 4, "");
	done(fx);

	fx = two_root_ports(0, 0);
	s = ep();
	dk_fx_add(fx, "0000:00:02.0", NULL, &s);
	REQUIRE(init_at(fx) >= 0);
	EXPECT("0000:01:00.0", "0000:02:00.0", NS, 4, "");
	struct dk_p2p_path p;
	REQUIRE(dk_p2p_path(dev("0000:01:00.0"), dev("0000:02:00.0"), &p) == 0);
	CHECK_INT_EQ(p.host, DK_P2P_HOST_NO_DEVICE);
	CHECK_STR_CONTAINS(p.reason_text, "pci0000:00");
	/* An endpoint on the root bus to one below a root port: chains of 1 and 2. */
	EXPECT("0000:00:02.0", "0000:02:00.0", NS, 3, "");
	done(fx);
}

/*
 * Two host bridges: pci0000:00 and pci0000:80 with host bridge devices 00:00.0
 * and 80:00.0 and an endpoint on each root bus (00:03.0, 80:03.0): chains of
 * one each, distance 2.
 */
struct two_hb_case {
	enum cpu cpu;
	uint16_t dev_a, dev_b; /* Intel device IDs of 00:00.0 and 80:00.0 */
	enum dk_p2p_map_type map;
	enum dk_p2p_host host;
	const char *refused; /* host bridge named in the refusal */
};

static const struct two_hb_case two_hb_cases[] = {
	{ CPU_INTEL, 0x2020, 0x2020, THRU, DK_P2P_HOST_WHITELIST, "" },
	{ CPU_INTEL, 0x2020, 0x2032, THRU, DK_P2P_HOST_WHITELIST, "" },
	/* Same-host-bridge-only entries across two host bridges. */
	{ CPU_INTEL, 0x3c00, 0x3c00, NS, DK_P2P_HOST_SAME_BRIDGE_ONLY, "pci0000:00" },
	{ CPU_INTEL, 0x2020, 0x2f00, NS, DK_P2P_HOST_SAME_BRIDGE_ONLY, "pci0000:80" },
	{ CPU_INTEL, 0x2f01, 0x2020, NS, DK_P2P_HOST_SAME_BRIDGE_ONLY, "pci0000:00" },
	{ CPU_INTEL, 0x2020, 0x1237, NS, DK_P2P_HOST_NOT_LISTED, "pci0000:80" },
	/* The provider's host bridge is checked first. */
	{ CPU_INTEL, 0x1237, 0x3c00, NS, DK_P2P_HOST_NOT_LISTED, "pci0000:00" },
	{ CPU_AMD_17, 0x3c00, 0x1237, THRU, DK_P2P_HOST_CPU, "" },
};

DK_TEST(host_bridge_rule_two_host_bridges)
{
	for (size_t i = 0; i < sizeof(two_hb_cases) / sizeof(two_hb_cases[0]); i++) {
		const struct two_hb_case *k = &two_hb_cases[i];
		use_cpu(k->cpu);
		struct dk_fx *fx = dk_fx_new();
		dk_fx_p2p_host_dev(fx, "0000:00:00.0", 0x8086, k->dev_a);
		dk_fx_p2p_host_dev(fx, "0000:80:00.0", 0x8086, k->dev_b);
		struct dk_fx_spec s = ep();
		dk_fx_add(fx, "0000:00:03.0", NULL, &s);
		dk_fx_add(fx, "0000:80:03.0", NULL, &s);
		REQUIRE(init_at(fx) >= 0);
		EXPECT("0000:00:03.0", "0000:80:03.0", k->map, 2, "");
		struct dk_p2p_path p;
		REQUIRE(dk_p2p_path(dev("0000:00:03.0"), dev("0000:80:03.0"), &p) == 0);
		if (p.host != k->host || strcmp(p.host_bridge, k->refused) != 0)
			dk_test_fail(__FILE__, __LINE__, "case %zu: host %d \"%s\" (%s)", i, p.host,
				     p.host_bridge, p.reason_text);
		/* The host bridge devices themselves: same host bridge as their endpoint. */
		done(fx);
	}
}

DK_TEST(several_domains)
{
	/* Domains 0 and 1, each a root port and an endpoint: no common element,
	 * 2 + 2. Whitelisted 2020 on both: through the host bridges. Different
	 * host bridges even with the same bus numbers. */
	use_cpu(CPU_INTEL);
	struct dk_fx *fx = dk_fx_new();
	dk_fx_p2p_host_dev(fx, "0000:00:00.0", 0x8086, 0x2020);
	dk_fx_p2p_host_dev(fx, "0001:00:00.0", 0x8086, 0x3c01);
	struct dk_fx_spec s = dk_fx_p2p_port(DK_PCIE_TYPE_ROOT_PORT);
	struct dk_fx_dev *r0 = dk_fx_add(fx, "0000:00:1c.0", NULL, &s);
	struct dk_fx_dev *r1 = dk_fx_add(fx, "0001:00:1c.0", NULL, &s);
	s = ep();
	dk_fx_add(fx, "0000:01:00.0", r0, &s);
	dk_fx_add(fx, "0001:01:00.0", r1, &s);
	dk_fx_add(fx, "0001:00:03.0", NULL, &s);
	REQUIRE(init_at(fx) >= 0);
	/* 0001's host bridge is same-host-bridge-only: refused across domains. */
	EXPECT("0000:01:00.0", "0001:01:00.0", NS, 4, "");
	/* Inside domain 1 it is allowed: 01:00.0 -> 00:1c.0 (2), 00:03.0 (1). */
	EXPECT("0001:01:00.0", "0001:00:03.0", THRU, 3, "");
	done(fx);
}

/* ---- distance_many --------------------------------------------------------------- */

DK_TEST(distance_many_sums_or_fails)
{
	use_cpu(CPU_INTEL);
	struct dk_fx *fx = one_switch(0, 0, 0, RR);
	/* And 05:00.0 on the root bus's other root port: no common element. */
	struct dk_fx_spec s = dk_fx_p2p_port(DK_PCIE_TYPE_ROOT_PORT);
	struct dk_fx_dev *r2 = dk_fx_add(fx, "0000:00:1d.0", NULL, &s);
	s = ep();
	dk_fx_add(fx, "0000:05:00.0", r2, &s);
	REQUIRE(init_at(fx) >= 0);
	const struct dk_pci_device *a = dev(A);
	const struct dk_pci_device *ok[] = { dev(A), dev("0000:02:01.0"), dev("0000:01:00.0") };
	/* 0 + 1 + 2. */
	CHECK_INT_EQ(dk_p2p_distance_many(a, ok, 3, false), 3);
	CHECK_INT_EQ(dk_p2p_distance_many(a, ok, 0, false), -1);
	CHECK_INT_EQ(dk_p2p_distance_many(a, NULL, 0, false), -1);
	/* B is behind RR (not supported here), 05:00.0 has no common element. */
	const struct dk_pci_device *bad[] = { dev(A), dev(B), dev("0000:05:00.0") };
	CHECK_INT_EQ(dk_p2p_distance_many(a, bad, 3, false), -1);
	dk_test_log_capture_start();
	dk_log_set_level(DK_LOG_WARNING);
	CHECK_INT_EQ(dk_p2p_distance_many(a, bad, 3, true), -1);
	dk_log_set_level(DK_LOG_ERR);
	const char *log = dk_test_log_captured();
	/* Verbose: every client's reason, the ACS fix included. */
	CHECK_STR_CONTAINS(log, "pci=disable_acs_redir=0000:02:02.0");
	CHECK_STR_CONTAINS(log, "0000:05:00.0: cannot do peer-to-peer DMA");
	CHECK_STR_CONTAINS(log, "share no upstream bridge");
	dk_test_log_capture_stop();
	done(fx);
}

/* ---- cache --------------------------------------------------------------------- */

/* Write ACS Control of dev in the fixture file behind dmakit's back. */
static void poke_acs(struct dk_fx_dev *fxd, unsigned int off, uint16_t ctrl)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/config", dk_fx_dev_path(fxd));
	int fd = open(path, O_WRONLY);
	REQUIRE(fd >= 0);
	uint8_t b[2] = { (uint8_t)ctrl, (uint8_t)(ctrl >> 8) };
	REQUIRE(pwrite(fd, b, 2, off + 6) == 2);
	close(fd);
}

static struct dk_fx *switch_with_handle(struct dk_fx_dev **dsa)
{
	struct dk_fx *fx = dk_fx_new();
	dk_fx_p2p_host_dev(fx, "0000:00:00.0", 0x8086, 0x1237);
	struct dk_fx_spec s = dk_fx_p2p_port(DK_PCIE_TYPE_ROOT_PORT);
	struct dk_fx_dev *r = dk_fx_add(fx, "0000:00:1c.0", NULL, &s);
	s = dk_fx_p2p_port(DK_PCIE_TYPE_UPSTREAM);
	struct dk_fx_dev *u = dk_fx_add(fx, "0000:01:00.0", r, &s);
	s = dk_fx_p2p_port(DK_PCIE_TYPE_DOWNSTREAM);
	*dsa = dk_fx_add(fx, "0000:02:01.0", u, &s);
	struct dk_fx_dev *db = dk_fx_add(fx, "0000:02:02.0", u, &s);
	s = ep();
	dk_fx_add(fx, A, *dsa, &s);
	dk_fx_add(fx, B, db, &s);
	return fx;
}

DK_TEST(cache_invalidated_by_config_write)
{
	use_cpu(CPU_INTEL);
	struct dk_fx_dev *fdsa;
	struct dk_fx *fx = switch_with_handle(&fdsa);
	REQUIRE(init_at(fx) >= 0);
	const struct dk_pci_device *a = dev(A), *b = dev(B), *dsa = dev("0000:02:01.0");
	REQUIRE(dsa->caps.acs.offset != 0);
	CHECK_INT_EQ(dk_p2p_distance(a, b, false), 4);
	/* Set RR through dmakit: the next answer sees it. */
	uint8_t v[2] = { RR, 0 };
	REQUIRE(dk_pci_config_write(dsa, v, 2, dsa->caps.acs.offset + 6u) == 2);
	CHECK_INT_EQ(dk_p2p_distance(a, b, false), -1);
	EXPECT(A, B, NS, 4, "0000:02:01.0");
	/* Clear it again: bus_addr. */
	v[0] = 0;
	REQUIRE(dk_pci_config_write(dsa, v, 2, dsa->caps.acs.offset + 6u) == 2);
	EXPECT(A, B, BUS, 4, "");
	/* EC alone counts too. */
	v[0] = EC;
	REQUIRE(dk_pci_config_write(dsa, v, 2, dsa->caps.acs.offset + 6u) == 2);
	EXPECT(B, A, NS, 4, "0000:02:01.0");
	done(fx);
}

DK_TEST(cache_kept_until_refresh_or_rescan)
{
	use_cpu(CPU_INTEL);
	struct dk_fx_dev *fdsa;
	struct dk_fx *fx = switch_with_handle(&fdsa);
	REQUIRE(init_at(fx) >= 0);
	struct dk_pci_device *dsa = dev("0000:02:01.0");
	unsigned int off = dsa->caps.acs.offset;
	REQUIRE(off != 0);
	CHECK_INT_EQ(dk_p2p_distance(dev(A), dev(B), false), 4);
	/* Changed outside dmakit: the cached answer stays (as documented)... */
	poke_acs(fdsa, off, RR | CR);
	CHECK_INT_EQ(dk_p2p_distance(dev(A), dev(B), false), 4);
	/* ...until the device is refreshed. */
	REQUIRE(dk_pci_device_refresh(dsa) == 0);
	CHECK_INT_EQ(dk_p2p_distance(dev(A), dev(B), false), -1);
	/* Cleared outside again: a rescan sees it (new device pointers). */
	poke_acs(fdsa, off, 0);
	CHECK_INT_EQ(dk_p2p_distance(dev(A), dev(B), false), -1);
	REQUIRE(dk_pci_scan() >= 0);
	CHECK_INT_EQ(dk_p2p_distance(dev(A), dev(B), false), 4);
	/* A pair not asked before is computed: the cache holds pairs, not devices. */
	poke_acs(fdsa, off, CR);
	CHECK_INT_EQ(dk_p2p_distance(dev("0000:02:02.0"), dev(A), false), -1);
	done(fx);
}

/* ---- the cache holds every pair ---------------------------------------------------- */

/*
 *   00:1c.0 root port -> 01:00.0 switch upstream port
 *     02:0N.0 downstream port N (N < PORTS) -> 0(3+N):00.0-7, 8 functions
 * PORTS * 8 endpoints, (PORTS * 8)^2 pairs: more than the 1024 slots the
 * cache once had. No ACS redirect anywhere at first.
 */
#define PORTS 6
#define EPS (PORTS * 8)

static struct dk_fx *many_functions(struct dk_fx_dev **port0)
{
	struct dk_fx *fx = dk_fx_new();
	dk_fx_p2p_host_dev(fx, "0000:00:00.0", 0x8086, 0x1237);
	struct dk_fx_spec s = with_acs(dk_fx_p2p_port(DK_PCIE_TYPE_ROOT_PORT), 0);
	struct dk_fx_dev *r = dk_fx_add(fx, "0000:00:1c.0", NULL, &s);
	s = dk_fx_p2p_port(DK_PCIE_TYPE_UPSTREAM);
	struct dk_fx_dev *u = dk_fx_add(fx, "0000:01:00.0", r, &s);
	for (int n = 0; n < PORTS; n++) {
		char bdf[16];
		snprintf(bdf, sizeof(bdf), "0000:02:%02x.0", n);
		s = with_acs(dk_fx_p2p_port(DK_PCIE_TYPE_DOWNSTREAM), 0);
		struct dk_fx_dev *d = dk_fx_add(fx, bdf, u, &s);
		if (n == 0)
			*port0 = d;
		for (int f = 0; f < 8; f++) {
			snprintf(bdf, sizeof(bdf), "0000:%02x:00.%d", 3 + n, f);
			s = ep();
			dk_fx_add(fx, bdf, d, &s);
		}
	}
	return fx;
}

static const struct dk_pci_device *ep_at(int i)
{
	char bdf[16];
	snprintf(bdf, sizeof(bdf), "0000:%02x:00.%d", 3 + i / 8, i % 8);
	return dev(bdf);
}

/* Expected distance of endpoints i (provider) and j (client), port 0's
 * ACS redirect on or off. Same function 0; functions below one port 1 + 1;
 * two ports of the switch 2 + 2. Redirect at port 0: on the path of every
 * pair with an end below it (on the provider side up to and including the
 * common port, or on the client side below it) but a function with
 * itself: not supported (Intel CPU, 8086:1237 not listed). */
static int want_many(int i, int j, int redirect0)
{
	if (i == j)
		return 0;
	if (redirect0 && (i / 8 == 0 || j / 8 == 0))
		return -1;
	return i / 8 == j / 8 ? 2 : 4;
}

/* Every pair against want_many: the number of wrong answers. */
static int wrong_pairs(int redirect0)
{
	int wrong = 0;
	for (int i = 0; i < EPS; i++)
		for (int j = 0; j < EPS; j++) {
			int d = dk_p2p_distance(ep_at(i), ep_at(j), false);
			if (d != want_many(i, j, redirect0) && wrong++ < 5)
				fprintf(stderr, "# pair %d -> %d: %d, expected %d\n", j, i, d,
					want_many(i, j, redirect0));
		}
	return wrong;
}

DK_TEST(cache_holds_every_pair_past_1024)
{
	use_cpu(CPU_INTEL);
	struct dk_fx_dev *fport0;
	struct dk_fx *fx = many_functions(&fport0);
	REQUIRE(init_at(fx) >= 0);
	struct dk_pci_device *port0 = dev("0000:02:00.0");
	unsigned int off = port0->caps.acs.offset;
	REQUIRE(off != 0);
	CHECK_INT_EQ(wrong_pairs(0), 0);
	/* RR set outside dmakit: every one of the 2304 pairs is answered from
	 * the cache (none was evicted and computed again, which would see RR). */
	poke_acs(fport0, off, RR);
	CHECK_INT_EQ(wrong_pairs(0), 0);
	/* A refresh of the port starts a new generation: every pair again. */
	REQUIRE(dk_pci_device_refresh(port0) == 0);
	CHECK_INT_EQ(wrong_pairs(1), 0);
	/* Cleared through dmakit: a new generation too. */
	uint8_t v[2] = { 0, 0 };
	REQUIRE(dk_pci_config_write(port0, v, 2, off + 6u) == 2);
	CHECK_INT_EQ(wrong_pairs(0), 0);
	/* dk_p2p_distance_many over 8 clients sees the same answers. */
	const struct dk_pci_device *cl[8];
	for (int k = 0; k < 8; k++)
		cl[k] = ep_at(8 + k); /* the functions below port 1 */
	CHECK_INT_EQ(dk_p2p_distance_many(ep_at(16), cl, 8, false), 8 * 4);
	CHECK_INT_EQ(dk_p2p_distance_many(ep_at(8), cl, 8, false), 7 * 2);
	REQUIRE(dk_pci_config_write(port0, (uint8_t[2]){ CR, 0 }, 2, off + 6u) == 2);
	CHECK_INT_EQ(dk_p2p_distance_many(ep_at(0), cl, 8, false), -1);
	CHECK_INT_EQ(dk_p2p_distance_many(ep_at(16), cl, 8, false), 8 * 4);
	done(fx);
}

DK_TEST(cache_emptied_by_rescan_and_cleanup)
{
	use_cpu(CPU_INTEL);
	struct dk_fx_dev *fport0;
	struct dk_fx *fx = many_functions(&fport0);
	REQUIRE(init_at(fx) >= 0);
	unsigned int off = dev("0000:02:00.0")->caps.acs.offset;
	CHECK_INT_EQ(wrong_pairs(0), 0);
	/* Set outside, then a rescan: new pointers, new generation. */
	poke_acs(fport0, off, EC);
	REQUIRE(dk_pci_scan() >= 0);
	CHECK_INT_EQ(wrong_pairs(1), 0);
	/* dk_cleanup frees the cache; a new dk_init on the same tree computes
	 * again (the device pointers may be the old ones: no stale hit). */
	dk_cleanup();
	poke_acs(fport0, off, 0);
	REQUIRE(init_at(fx) >= 0);
	CHECK_INT_EQ(wrong_pairs(0), 0);
	done(fx);
}

/* ---- bad input -------------------------------------------------------------------- */

DK_TEST(bad_input_is_einval_with_a_message)
{
	use_cpu(CPU_INTEL);
	struct dk_fx *fx = one_switch(0, 0, 0, 0);
	REQUIRE(init_at(fx) >= 0);
	const struct dk_pci_device *a = dev(A);
	struct dk_p2p_path p;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_p2p_path(NULL, a, &p), -EINVAL);
	CHECK_INT_EQ(dk_p2p_path(a, NULL, &p), -EINVAL);
	CHECK_INT_EQ(dk_p2p_path(a, a, NULL), -EINVAL);
	CHECK_INT_EQ(dk_p2p_distance(NULL, a, true), -EINVAL);
	CHECK_INT_EQ(dk_p2p_distance(a, NULL, false), -EINVAL);
	CHECK_INT_EQ(dk_p2p_distance_many(NULL, &a, 1, false), -EINVAL);
	CHECK_INT_EQ(dk_p2p_distance_many(a, NULL, 2, false), -EINVAL);
	const struct dk_pci_device *with_null[] = { a, NULL };
	CHECK_INT_EQ(dk_p2p_distance_many(a, with_null, 2, false), -EINVAL);
	/* An mdev (kind MDEV, no address): made up here, only its kind matters. */
	struct dk_pci_device m;
	memset(&m, 0, sizeof(m));
	m.kind = DK_PCI_KIND_MDEV;
	m.device.name = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";
	CHECK_INT_EQ(dk_p2p_distance(a, &m, false), -EINVAL);
	CHECK_INT_EQ(dk_p2p_path(&m, a, &p), -EINVAL);
	const struct dk_pci_device *with_mdev[] = { a, &m };
	CHECK_INT_EQ(dk_p2p_distance_many(a, with_mdev, 2, false), -EINVAL);
	const char *log = dk_test_log_captured();
	CHECK_STR_CONTAINS(log, "pass a device from dk_pci_get");
	CHECK_STR_CONTAINS(log, "mediated device");
	CHECK_STR_CONTAINS(log, "pass its parent PCI function");
	dk_test_log_capture_stop();
	/* Nothing was damaged: the answers are the same. */
	EXPECT(A, B, BUS, 4, "");
	done(fx);
}

/* ---- threads ------------------------------------------------------------------------ */

struct pair_job {
	const struct dk_pci_device *p, *c;
	int want;
	int wrong;
};

static void *hammer(void *arg)
{
	struct pair_job *j = arg;
	for (int i = 0; i < 2000; i++)
		if (dk_p2p_distance(j[i % 4].p, j[i % 4].c, false) != j[i % 4].want)
			__atomic_add_fetch(&j[0].wrong, 1, __ATOMIC_RELAXED);
	return NULL;
}

DK_TEST(threads_share_the_cache)
{
	use_cpu(CPU_INTEL);
	struct dk_fx *fx = one_switch(0, 0, 0, RR);
	REQUIRE(init_at(fx) >= 0);
	/* Worked out as in same_switch_is_distance_4_bus_addr; 04:00.0's port has RR. */
	struct pair_job j[4] = {
		{ dev(A), dev(A), 0, 0 },
		{ dev(A), dev("0000:01:00.0"), 2, 0 },
		{ dev(A), dev(B), -1, 0 },
		{ dev("0000:02:01.0"), dev(A), 1, 0 },
	};
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		REQUIRE(pthread_create(&t[i], NULL, hammer, j) == 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK_INT_EQ(j[0].wrong, 0);
	done(fx);
}
