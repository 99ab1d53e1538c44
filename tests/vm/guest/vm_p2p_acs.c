/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VM test of the P2P ACS rule (issue 12, item 10): the two functions of the
 * pci-testdev device (1b36:0005, 06:00.0 and 06:00.1) below the machine's
 * second pcie-root-port (1b36:000c, run.sh). QEMU 7.2's root port has an
 * ACS capability and the guest kernel (intel_iommu=on) sets SV RR CR UF in
 * its control at boot, so the path between the functions (common device:
 * the root port, on the provider's side) is redirected: through the host
 * bridge. That is allowed with an AMD CPU of family 0x17 or later (run.sh
 * --cpu EPYC: thru_host_bridge), not with -cpu max (AuthenticAMD family 15)
 * and the q35 host bridge 8086:29c0, on no whitelist: not_supported. Either
 * way distance 2 and the ACS reason naming the root port. Clearing RR, CR
 * and EC in the port's ACS Control through dk_pci_config_write gives
 * bus_addr; the original value is written back at the end.
 */
#include <stdio.h>

#include "vm_common.h"

#define diag(...) (printf("# "), printf(__VA_ARGS__), printf("\n"))

#define ACS_CTRL 6 /* ACS Control, from the ACS capability */
#define REDIRECT (DK_PCI_ACS_RR | DK_PCI_ACS_CR | DK_PCI_ACS_EC)

/* The functions 0 and 1 of the pci-testdev device. */
static void testdev(struct dk_pci_device **f0, struct dk_pci_device **f1)
{
	*f0 = *f1 = NULL;
	for (unsigned int i = 0; i < dk_pci_count(); i++) {
		struct dk_pci_device *d = dk_pci_get(i);
		if (d->kind != DK_PCI_KIND_FUNCTION || d->id.vendor_id != 0x1b36 ||
		    d->id.device_id != 0x0005)
			continue;
		if (d->addr.func == 0 && !*f0)
			*f0 = d;
		else if (d->addr.func == 1 && !*f1)
			*f1 = d;
	}
	if (!*f0 || !*f1)
		dk_test_fail(__FILE__, __LINE__, "no two-function pci-testdev 1b36:0005: is the VM "
			     "the machine of tests/vm/run.sh (second root port)?");
	REQUIRE(*f0 && *f1);
}

/* 1 when the first processor is AuthenticAMD of family >= 0x17; family out. */
static int cpu_is_zen(long *family)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	REQUIRE(f != NULL);
	char line[512];
	int amd = 0;
	*family = -1;
	while (fgets(line, sizeof(line), f) && line[0] != '\n') {
		if (strncmp(line, "vendor_id", 9) == 0)
			amd = strstr(line, "AuthenticAMD") != NULL;
		else if (strncmp(line, "cpu family", 10) == 0 && strchr(line, ':'))
			*family = strtol(strchr(line, ':') + 1, NULL, 10);
	}
	fclose(f);
	return amd && *family >= 0x17;
}

static uint16_t acs_ctrl(const struct dk_pci_device *port)
{
	uint8_t b[2] = { 0, 0 };
	REQUIRE_INT_EQ(dk_pci_config_read(port, b, 2, port->caps.acs.offset + ACS_CTRL), 2);
	return (uint16_t)(b[0] | b[1] << 8);
}

static void set_acs_ctrl(const struct dk_pci_device *port, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	REQUIRE_INT_EQ(dk_pci_config_write(port, b, 2, port->caps.acs.offset + ACS_CTRL), 2);
}

/* The path between the functions both ways, redirected by port. */
static void expect_redirected(struct dk_pci_device *f0, struct dk_pci_device *f1,
			      const struct dk_pci_device *port)
{
	long family;
	int zen = cpu_is_zen(&family);
	diag("CPU family %ld (0x%lx): %s", family, (unsigned long)family,
	     zen ? "AMD Zen rule: thru_host_bridge" : "no CPU rule: the host bridge decides");
	const char *want_cpu = getenv("DK_VM_CPU");
	if (want_cpu && strcmp(want_cpu, "EPYC") == 0)
		CHECK(zen); /* run.sh --cpu EPYC: family 0x17 */
	struct dk_p2p_path p;
	struct dk_pci_device *ends[2][2] = { { f0, f1 }, { f1, f0 } };
	for (int k = 0; k < 2; k++) {
		REQUIRE_INT_EQ(dk_p2p_path(ends[k][0], ends[k][1], &p), 0);
		diag("%s -> %s: %s, distance %d: %s", ends[k][1]->device.name,
		     ends[k][0]->device.name, dk_p2p_map_type_name(p.map_type), p.distance,
		     p.reason_text);
		CHECK_INT_EQ(p.distance, 2);
		CHECK_INT_EQ(p.reason, DK_P2P_REASON_ACS_REDIRECT);
		CHECK_STR_EQ(p.acs_list, port->device.name);
		char fix[64];
		snprintf(fix, sizeof(fix), "pci=disable_acs_redir=%s", port->device.name);
		CHECK_STR_CONTAINS(p.reason_text, fix);
		if (zen) {
			CHECK_INT_EQ(p.map_type, DK_P2P_MAP_THRU_HOST_BRIDGE);
			CHECK_INT_EQ(p.host, DK_P2P_HOST_CPU);
			CHECK_INT_EQ(dk_p2p_distance(ends[k][0], ends[k][1], false), 2);
		} else {
			CHECK_INT_EQ(p.map_type, DK_P2P_MAP_NOT_SUPPORTED);
			CHECK_INT_EQ(p.host, DK_P2P_HOST_NOT_LISTED);
			CHECK_INT_EQ(p.host_vendor, 0x8086);
			CHECK_INT_EQ(p.host_device, 0x29c0);
			CHECK_INT_EQ(dk_p2p_distance(ends[k][0], ends[k][1], false), -1);
		}
	}
}

DK_TEST(functions_below_a_root_port_with_acs_redirect)
{
	vm_init();
	struct dk_pci_device *f0, *f1;
	testdev(&f0, &f1);
	CHECK_STR_EQ(f0->device.name, "0000:06:00.0");
	CHECK_STR_EQ(f1->device.name, "0000:06:00.1");
	const struct dk_pci_device *port = f0->upstream;
	REQUIRE(port != NULL);
	CHECK(f1->upstream == port);
	CHECK_INT_EQ(port->id.vendor_id, 0x1b36);
	CHECK_INT_EQ(port->id.device_id, 0x000c);
	CHECK_INT_EQ(port->caps.pcie.port_type, DK_PCIE_TYPE_ROOT_PORT);
	REQUIRE(port->caps.acs.offset != 0);
	uint16_t ctrl = acs_ctrl(port);
	diag("%s: ACS capability at 0x%x, control 0x%04x", port->device.name,
	     port->caps.acs.offset, ctrl);
	CHECK((ctrl & (DK_PCI_ACS_RR | DK_PCI_ACS_CR)) == (DK_PCI_ACS_RR | DK_PCI_ACS_CR));
	expect_redirected(f0, f1, port);
	/* The functions themselves are the same function: distance 0. */
	CHECK_INT_EQ(dk_p2p_distance(f0, f0, false), 0);
}

DK_TEST(clearing_the_redirect_bits_gives_bus_addr)
{
	vm_init();
	struct dk_pci_device *f0, *f1;
	testdev(&f0, &f1);
	const struct dk_pci_device *port = f0->upstream;
	REQUIRE(port != NULL && port->caps.acs.offset != 0);
	uint16_t ctrl = acs_ctrl(port);
	REQUIRE(ctrl & REDIRECT);
	expect_redirected(f0, f1, port); /* cached now */
	set_acs_ctrl(port, (uint16_t)(ctrl & ~REDIRECT));
	CHECK_INT_EQ(acs_ctrl(port), ctrl & ~REDIRECT);
	struct dk_p2p_path p;
	REQUIRE_INT_EQ(dk_p2p_path(f0, f1, &p), 0);
	diag("RR CR EC cleared: %s, distance %d", dk_p2p_map_type_name(p.map_type), p.distance);
	CHECK_INT_EQ(p.map_type, DK_P2P_MAP_BUS_ADDR);
	CHECK_INT_EQ(p.distance, 2);
	CHECK_STR_EQ(p.acs_list, "");
	CHECK_STR_EQ(p.reason_text, "");
	CHECK_INT_EQ(dk_p2p_distance(f1, f0, false), 2);
	const struct dk_pci_device *both[2] = { f0, f1 };
	CHECK_INT_EQ(dk_p2p_distance_many(f0, both, 2, false), 2);
	/* Back as the kernel left it: redirected again. */
	set_acs_ctrl(port, ctrl);
	CHECK_INT_EQ(acs_ctrl(port), ctrl);
	expect_redirected(f0, f1, port);
}
