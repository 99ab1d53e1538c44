/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for src/bus/pci/pci_caps.c: the capability walker on hand-built
 * config spaces, its limits on malformed chains, and the lookup helpers.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <dmakit/pci.h>

#include "bus/pci/pci_caps.h"
#include "tap.h"

/* ---- config-space builder ------------------------------------------------ */

struct cfgb {
	uint8_t b[4096];
	size_t last_std; /* offset of the last standard cap, 0: none yet */
	size_t last_ext; /* offset of the last extended cap, 0: none yet */
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* A type-0 (or other) header with the capability-list bit set. */
static void cfg_init(struct cfgb *c, uint8_t header_type)
{
	memset(c, 0, sizeof(*c));
	put16(c->b + 0x00, 0x1b36); /* vendor */
	put16(c->b + 0x02, 0x0010); /* device */
	put16(c->b + 0x06, 0x0010); /* status: capability list */
	c->b[0x0b] = 0x01;          /* class: mass storage */
	c->b[0x0a] = 0x08;
	c->b[0x09] = 0x02;
	c->b[0x0e] = header_type;
}

/* Append standard cap id at off, linking it from the previous one. */
static uint8_t *std_add(struct cfgb *c, size_t off, uint8_t id)
{
	if (c->last_std)
		c->b[c->last_std + 1] = (uint8_t)off;
	else
		c->b[(c->b[0x0e] & 0x7f) == 2 ? 0x14 : 0x34] = (uint8_t)off;
	c->b[off] = id;
	c->b[off + 1] = 0;
	c->last_std = off;
	return c->b + off;
}

/* Append extended cap id (version ver) at off, linking it from the previous one. */
static uint8_t *ext_add(struct cfgb *c, size_t off, uint16_t id, uint8_t ver)
{
	if (c->last_ext) {
		uint32_t prev = (uint32_t)c->b[c->last_ext] | (uint32_t)c->b[c->last_ext + 1] << 8 |
				(uint32_t)c->b[c->last_ext + 2] << 16;
		put32(c->b + c->last_ext, prev | (uint32_t)off << 20);
	}
	put32(c->b + off, (uint32_t)id | (uint32_t)(ver & 0xf) << 16);
	c->last_ext = off;
	return c->b + off;
}

/* Set the raw next field of the extended cap at off. */
static void ext_set_next(struct cfgb *c, size_t off, uint32_t next_field)
{
	uint32_t h = (uint32_t)c->b[off] | (uint32_t)c->b[off + 1] << 8 |
		     (uint32_t)(c->b[off + 2] & 0x0f) << 16;
	put32(c->b + off, h | next_field << 20);
}

static void add_pcie(struct cfgb *c, size_t off, uint16_t flags, uint32_t devcap, uint32_t lnkcap,
		     uint16_t lnksta)
{
	uint8_t *p = std_add(c, off, DK_PCI_CAP_ID_EXP);
	put16(p + 2, flags);
	put32(p + 4, devcap);
	put32(p + 0x0c, lnkcap);
	put16(p + 0x12, lnksta);
}

static void add_msi(struct cfgb *c, size_t off, uint16_t ctrl)
{
	uint8_t *p = std_add(c, off, DK_PCI_CAP_ID_MSI);
	put16(p + 2, ctrl);
}

static void add_msix(struct cfgb *c, size_t off, uint16_t ctrl, uint32_t table, uint32_t pba)
{
	uint8_t *p = std_add(c, off, DK_PCI_CAP_ID_MSIX);
	put16(p + 2, ctrl);
	put32(p + 4, table);
	put32(p + 8, pba);
}

static void add_acs(struct cfgb *c, size_t off, uint16_t cap, uint16_t ctrl)
{
	uint8_t *p = ext_add(c, off, DK_PCI_EXT_CAP_ID_ACS, 1);
	put16(p + 4, cap);
	put16(p + 6, ctrl);
}

static void add_sriov(struct cfgb *c, size_t off)
{
	uint8_t *p = ext_add(c, off, DK_PCI_EXT_CAP_ID_SRIOV, 1);
	put16(p + 0x08, 0x0019); /* VF enable, MSE, ARI */
	put16(p + 0x0c, 16);     /* initial */
	put16(p + 0x0e, 64);     /* total */
	put16(p + 0x10, 7);      /* num */
	put16(p + 0x14, 0x80);   /* first VF offset */
	put16(p + 0x16, 2);      /* stride */
	put16(p + 0x1a, 0x10f2); /* VF device id */
}

/* An NVMe-like endpoint: PM, MSI, PCIe, MSI-X; AER, ACS, ARI, SR-IOV, DSN. */
static void build_endpoint(struct cfgb *c)
{
	cfg_init(c, 0x80);
	std_add(c, 0x40, DK_PCI_CAP_ID_PM);
	add_msi(c, 0x50, 0x0187); /* enabled, 8 vectors (log2 3), 64-bit, masking */
	add_pcie(c, 0x70, 0x0162, 0x10008fe2, 0x00473c44, 0x1043);
	add_msix(c, 0xb0, 0x803f, 0x00002000, 0x00003004);
	std_add(c, 0xc0, DK_PCI_CAP_ID_VNDR);
	ext_add(c, 0x100, DK_PCI_EXT_CAP_ID_AER, 2);
	add_acs(c, 0x148,
		DK_PCI_ACS_SV | DK_PCI_ACS_TB | DK_PCI_ACS_RR | DK_PCI_ACS_CR | DK_PCI_ACS_UF,
		DK_PCI_ACS_RR | DK_PCI_ACS_CR);
	ext_add(c, 0x158, DK_PCI_EXT_CAP_ID_ARI, 1);
	add_sriov(c, 0x160);
	ext_add(c, 0x1a0, 0x0003, 1); /* serial number */
}

static struct dk_pci_caps g_caps; /* big: keep it off the stack */

static int parse(const struct cfgb *c, size_t len)
{
	memset(&g_caps, 0xa5, sizeof(g_caps));
	return dk__pci_caps_parse(c->b, len, &g_caps);
}

/* ---- tests ---------------------------------------------------------------- */

DK_TEST(short_config_is_einval_and_zeroes)
{
	struct cfgb c;
	build_endpoint(&c);
	CHECK_INT_EQ(parse(&c, 63), -EINVAL);
	CHECK_INT_EQ(g_caps.n, 0);
	CHECK_INT_EQ(g_caps.flags, 0);
	CHECK_INT_EQ(g_caps.config_len, 0);
	CHECK_INT_EQ(g_caps.pcie.offset, 0);
	CHECK_INT_EQ(parse(&c, 0), -EINVAL);
	memset(&g_caps, 0xa5, sizeof(g_caps));
	CHECK_INT_EQ(dk__pci_caps_parse(NULL, 4096, &g_caps), -EINVAL);
	CHECK_INT_EQ(g_caps.n, 0);
	CHECK_INT_EQ(dk__pci_caps_parse(c.b, 4096, NULL), -EINVAL);
	/* exactly one header: fine, the cap pointer 0x40 is beyond len: a
	 * short read (TRUNCATED), not a malformed chain */
	CHECK_INT_EQ(parse(&c, 64), 0);
	CHECK_INT_EQ(g_caps.config_len, 64);
	CHECK_INT_EQ(g_caps.n, 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_NO_EXTENDED | DK_PCI_CAPS_TRUNCATED);
}

DK_TEST(no_capability_list_bit)
{
	struct cfgb c;
	build_endpoint(&c);
	put16(c.b + 0x06, 0x0000);
	CHECK_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.n, 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_NO_EXTENDED);
	CHECK_INT_EQ(g_caps.config_len, 256);
	CHECK_INT_EQ(g_caps.pcie.offset, 0);
	CHECK_INT_EQ(g_caps.msi.offset, 0);
	CHECK_INT_EQ(g_caps.msix.offset, 0);
	/* other status bits do not count */
	put16(c.b + 0x06, 0xffef);
	CHECK_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.n, 0);
	/* the extended chain does not depend on the bit */
	CHECK_INT_EQ(parse(&c, 4096), 0);
	CHECK_INT_EQ(g_caps.flags, 0);
	CHECK_INT_EQ(g_caps.n, 5);
	CHECK_INT_EQ(g_caps.list[0].offset, 0x100);
	CHECK_INT_EQ(g_caps.acs.offset, 0x148);
}

DK_TEST(standard_chain_decoded)
{
	struct cfgb c;
	build_endpoint(&c);
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_NO_EXTENDED);
	CHECK_INT_EQ(g_caps.config_len, 256);
	CHECK_INT_EQ(g_caps.header_type, 0);
	CHECK_INT_EQ(g_caps.multifunction, 1);
	REQUIRE_INT_EQ(g_caps.n, 5);
	static const uint16_t ids[] = {0x01, 0x05, 0x10, 0x11, 0x09};
	static const uint16_t offs[] = {0x40, 0x50, 0x70, 0xb0, 0xc0};
	for (unsigned int i = 0; i < 5; i++) {
		CHECK_INT_EQ(g_caps.list[i].id, ids[i]);
		CHECK_INT_EQ(g_caps.list[i].offset, offs[i]);
		CHECK_INT_EQ(g_caps.list[i].extended, 0);
		CHECK_INT_EQ(g_caps.list[i].version, 0);
	}

	CHECK_INT_EQ(g_caps.pcie.offset, 0x70);
	CHECK_INT_EQ(g_caps.pcie.version, 2);
	CHECK_INT_EQ(g_caps.pcie.port_type, DK_PCIE_TYPE_DOWNSTREAM);
	CHECK_INT_EQ(g_caps.pcie.slot_implemented, 1);
	CHECK_INT_EQ(g_caps.pcie.dev_cap, 0x10008fe2);
	CHECK_INT_EQ(g_caps.pcie.link_cap, 0x00473c44);
	CHECK_INT_EQ(g_caps.pcie.max_link_speed, 4);
	CHECK_INT_EQ(g_caps.pcie.max_link_width, 4);
	CHECK_INT_EQ(g_caps.pcie.link_status, 0x1043);
	CHECK_INT_EQ(g_caps.pcie.link_speed, 3);
	CHECK_INT_EQ(g_caps.pcie.link_width, 4);

	CHECK_INT_EQ(g_caps.msi.offset, 0x50);
	CHECK_INT_EQ(g_caps.msi.ctrl, 0x0187);
	CHECK_INT_EQ(g_caps.msi.enabled, 1);
	CHECK_INT_EQ(g_caps.msi.is_64bit, 1);
	CHECK_INT_EQ(g_caps.msi.per_vector_mask, 1);
	CHECK_INT_EQ(g_caps.msi.max_vectors, 8);

	CHECK_INT_EQ(g_caps.msix.offset, 0xb0);
	CHECK_INT_EQ(g_caps.msix.ctrl, 0x803f);
	CHECK_INT_EQ(g_caps.msix.enabled, 1);
	CHECK_INT_EQ(g_caps.msix.table_size, 64);
	CHECK_INT_EQ(g_caps.msix.table_bar, 0);
	CHECK_INT_EQ(g_caps.msix.table_offset, 0x2000);
	CHECK_INT_EQ(g_caps.msix.pba_bar, 4);
	CHECK_INT_EQ(g_caps.msix.pba_offset, 0x3000);

	CHECK_INT_EQ(g_caps.acs.offset, 0);
	CHECK_INT_EQ(g_caps.sriov.offset, 0);
}

DK_TEST(pcie_fields_other_values)
{
	struct cfgb c;
	cfg_init(&c, 0x01);
	/* v1 root port, no slot; x16 at 32 GT/s capable, running x1 at 2.5 GT/s */
	add_pcie(&c, 0x40, 0x0041, 0xffffffff, 0xffff0105, 0x0011);
	add_msi(&c, 0x60, 0x0000); /* disabled, 1 vector, 32-bit, no masking */
	add_msix(&c, 0x80, 0x07ff, 0xfffffffd, 0x00000007);
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.header_type, 1);
	CHECK_INT_EQ(g_caps.multifunction, 0);
	CHECK_INT_EQ(g_caps.pcie.version, 1);
	CHECK_INT_EQ(g_caps.pcie.port_type, DK_PCIE_TYPE_ROOT_PORT);
	CHECK_INT_EQ(g_caps.pcie.slot_implemented, 0);
	CHECK_INT_EQ(g_caps.pcie.dev_cap, 0xffffffff);
	CHECK_INT_EQ(g_caps.pcie.max_link_speed, 5);
	CHECK_INT_EQ(g_caps.pcie.max_link_width, 16);
	CHECK_INT_EQ(g_caps.pcie.link_speed, 1);
	CHECK_INT_EQ(g_caps.pcie.link_width, 1);
	CHECK_INT_EQ(g_caps.msi.offset, 0x60);
	CHECK_INT_EQ(g_caps.msi.enabled, 0);
	CHECK_INT_EQ(g_caps.msi.is_64bit, 0);
	CHECK_INT_EQ(g_caps.msi.per_vector_mask, 0);
	CHECK_INT_EQ(g_caps.msi.max_vectors, 1);
	CHECK_INT_EQ(g_caps.msix.enabled, 0);
	CHECK_INT_EQ(g_caps.msix.table_size, 2048);
	CHECK_INT_EQ(g_caps.msix.table_bar, 5);
	CHECK_INT_EQ(g_caps.msix.table_offset, 0xfffffff8u);
	CHECK_INT_EQ(g_caps.msix.pba_bar, 7);
	CHECK_INT_EQ(g_caps.msix.pba_offset, 0);
	/* x32 is the widest encoded width (bits 9:4 = 0x20) */
	put32(c.b + 0x40 + 0x0c, 0x00000203);
	put16(c.b + 0x40 + 0x12, 0x0206);
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.pcie.max_link_speed, 3);
	CHECK_INT_EQ(g_caps.pcie.max_link_width, 32);
	CHECK_INT_EQ(g_caps.pcie.link_speed, 6);
	CHECK_INT_EQ(g_caps.pcie.link_width, 32);
}

DK_TEST(msi_vector_counts)
{
	static const struct {
		uint16_t ctrl;
		uint8_t vectors;
	} cases[] = {{0x0002, 2},
		     {0x0004, 4},
		     {0x0008, 16},
		     {0x000a, 32},
		     /* reserved encodings 6 and 7 clamp to the maximum */
		     {0x000c, 32},
		     {0x000e, 32}};
	for (size_t i = 0; i < DK_ARRAY_SIZE(cases); i++) {
		struct cfgb c;
		cfg_init(&c, 0);
		add_msi(&c, 0x40, cases[i].ctrl);
		REQUIRE_INT_EQ(parse(&c, 256), 0);
		CHECK_INT_EQ(g_caps.msi.max_vectors, cases[i].vectors);
	}
}

DK_TEST(extended_chain_acs_sriov)
{
	struct cfgb c;
	build_endpoint(&c);
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	CHECK_INT_EQ(g_caps.flags, 0);
	CHECK_INT_EQ(g_caps.config_len, 4096);
	REQUIRE_INT_EQ(g_caps.n, 10);
	static const uint16_t ids[] = {0x0001, 0x000d, 0x000e, 0x0010, 0x0003};
	static const uint16_t offs[] = {0x100, 0x148, 0x158, 0x160, 0x1a0};
	static const uint8_t vers[] = {2, 1, 1, 1, 1};
	for (unsigned int i = 0; i < 5; i++) {
		CHECK_INT_EQ(g_caps.list[5 + i].id, ids[i]);
		CHECK_INT_EQ(g_caps.list[5 + i].offset, offs[i]);
		CHECK_INT_EQ(g_caps.list[5 + i].extended, 1);
		CHECK_INT_EQ(g_caps.list[5 + i].version, vers[i]);
	}
	CHECK_INT_EQ(g_caps.acs.offset, 0x148);
	CHECK_INT_EQ(g_caps.acs.cap,
		     DK_PCI_ACS_SV | DK_PCI_ACS_TB | DK_PCI_ACS_RR | DK_PCI_ACS_CR | DK_PCI_ACS_UF);
	CHECK_INT_EQ(g_caps.acs.cap, 0x1f);
	CHECK_INT_EQ(g_caps.acs.ctrl, DK_PCI_ACS_RR | DK_PCI_ACS_CR);
	CHECK(!(g_caps.acs.ctrl & DK_PCI_ACS_SV));

	CHECK_INT_EQ(g_caps.sriov.offset, 0x160);
	CHECK_INT_EQ(g_caps.sriov.ctrl, 0x0019);
	CHECK_INT_EQ(g_caps.sriov.initial_vfs, 16);
	CHECK_INT_EQ(g_caps.sriov.total_vfs, 64);
	CHECK_INT_EQ(g_caps.sriov.num_vfs, 7);
	CHECK_INT_EQ(g_caps.sriov.first_vf_offset, 0x80);
	CHECK_INT_EQ(g_caps.sriov.vf_stride, 2);
	CHECK_INT_EQ(g_caps.sriov.vf_device_id, 0x10f2);
	/* the standard part is the same as with 256 bytes */
	CHECK_INT_EQ(g_caps.pcie.offset, 0x70);
	CHECK_INT_EQ(g_caps.msix.table_size, 64);
}

DK_TEST(len_256_has_no_extended)
{
	struct cfgb c;
	build_endpoint(&c);
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_NO_EXTENDED);
	CHECK_INT_EQ(g_caps.n, 5);
	for (unsigned int i = 0; i < g_caps.n; i++)
		CHECK_INT_EQ(g_caps.list[i].extended, 0);
	CHECK_INT_EQ(g_caps.acs.offset, 0);
	CHECK_INT_EQ(g_caps.sriov.offset, 0);
	CHECK(dk_pci_caps_find(&g_caps, DK_PCI_EXT_CAP_ID_ACS, 1) == NULL);
	/* anything short of 4096 is the same */
	REQUIRE_INT_EQ(parse(&c, 4095), 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_NO_EXTENDED);
	CHECK_INT_EQ(g_caps.n, 5);
	CHECK_INT_EQ(g_caps.config_len, 4095);
}

DK_TEST(longer_than_4096_is_capped)
{
	static uint8_t big[8192];
	struct cfgb c;
	build_endpoint(&c);
	memcpy(big, c.b, sizeof(c.b));
	memset(big + 4096, 0xff, 4096);
	memset(&g_caps, 0xa5, sizeof(g_caps));
	REQUIRE_INT_EQ(dk__pci_caps_parse(big, sizeof(big), &g_caps), 0);
	CHECK_INT_EQ(g_caps.config_len, 4096);
	CHECK_INT_EQ(g_caps.flags, 0);
	CHECK_INT_EQ(g_caps.n, 10);
	/* an SR-IOV structure that would need bytes past 4096 is not decoded */
	put32(big + 0x1a0, 0x0003 | 1u << 16 | 0xfd0u << 20);
	put32(big + 0xfd0, DK_PCI_EXT_CAP_ID_SRIOV | 1u << 16);
	put16(big + 0xfd0 + 0x10, 3);
	put16(big + 0x160, 0x0001); /* turn the real SR-IOV into AER */
	REQUIRE_INT_EQ(dk__pci_caps_parse(big, sizeof(big), &g_caps), 0);
	CHECK_INT_EQ(g_caps.n, 11);
	CHECK_INT_EQ(g_caps.list[10].offset, 0xfd0);
	CHECK_INT_EQ(g_caps.sriov.offset, 0);
}

DK_TEST(standard_loop)
{
	struct cfgb c;
	cfg_init(&c, 0);
	std_add(&c, 0x40, DK_PCI_CAP_ID_PM);
	add_msi(&c, 0x50, 0);
	std_add(&c, 0x60, DK_PCI_CAP_ID_VNDR);
	c.b[0x61] = 0x50; /* back to MSI */
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_NO_EXTENDED | DK_PCI_CAPS_LOOP);
	REQUIRE_INT_EQ(g_caps.n, 3);
	CHECK_INT_EQ(g_caps.list[0].offset, 0x40);
	CHECK_INT_EQ(g_caps.list[1].offset, 0x50);
	CHECK_INT_EQ(g_caps.list[2].offset, 0x60);
	CHECK_INT_EQ(g_caps.msi.offset, 0x50);
	/* a capability pointing at itself */
	c.b[0x61] = 0x60;
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_NO_EXTENDED | DK_PCI_CAPS_LOOP);
	CHECK_INT_EQ(g_caps.n, 3);
	/* a loop with masked low bits is the same loop */
	c.b[0x61] = 0x43;
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_NO_EXTENDED | DK_PCI_CAPS_LOOP);
	CHECK_INT_EQ(g_caps.n, 3);
	/* the extended chain is still walked after a standard loop */
	ext_add(&c, 0x100, DK_PCI_EXT_CAP_ID_AER, 1);
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_LOOP);
	CHECK_INT_EQ(g_caps.n, 4);
	CHECK_INT_EQ(g_caps.list[3].offset, 0x100);
}

DK_TEST(extended_loop)
{
	struct cfgb c;
	cfg_init(&c, 0);
	ext_add(&c, 0x100, DK_PCI_EXT_CAP_ID_AER, 2);
	add_acs(&c, 0x140, DK_PCI_ACS_RR, 0);
	ext_add(&c, 0x150, DK_PCI_EXT_CAP_ID_ARI, 1);
	ext_set_next(&c, 0x150, 0x100);
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_LOOP);
	REQUIRE_INT_EQ(g_caps.n, 3);
	CHECK_INT_EQ(g_caps.list[0].offset, 0x100);
	CHECK_INT_EQ(g_caps.list[1].offset, 0x140);
	CHECK_INT_EQ(g_caps.list[2].offset, 0x150);
	CHECK_INT_EQ(g_caps.acs.offset, 0x140);
	/* self loop */
	ext_set_next(&c, 0x150, 0x150);
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_LOOP);
	CHECK_INT_EQ(g_caps.n, 3);
}

DK_TEST(pointer_below_0x40)
{
	struct cfgb c;
	cfg_init(&c, 0);
	c.b[0x34] = 0x3c;
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_NO_EXTENDED | DK_PCI_CAPS_BAD_POINTER);
	CHECK_INT_EQ(g_caps.n, 0);
	/* mid-chain: the entries before it stay */
	cfg_init(&c, 0);
	std_add(&c, 0x40, DK_PCI_CAP_ID_PM);
	std_add(&c, 0x48, DK_PCI_CAP_ID_VNDR);
	c.b[0x49] = 0x04;
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_NO_EXTENDED | DK_PCI_CAPS_BAD_POINTER);
	CHECK_INT_EQ(g_caps.n, 2);
	/* 0x40 itself is fine */
	c.b[0x34] = 0x40;
	c.b[0x49] = 0x00;
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_NO_EXTENDED);
}

DK_TEST(pointer_beyond_truncated_config)
{
	struct cfgb c;
	cfg_init(&c, 0);
	std_add(&c, 0x40, DK_PCI_CAP_ID_PM);
	add_msi(&c, 0x4c, 0x0000); /* 10-byte structure: needs up to 0x56 */
	c.b[0x4d] = 0x50;          /* next lies at len */
	/* len 0x50: MSI header fits and is listed, its structure does not */
	REQUIRE_INT_EQ(parse(&c, 0x50), 0);
	CHECK_INT_EQ(g_caps.config_len, 0x50);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_NO_EXTENDED | DK_PCI_CAPS_TRUNCATED);
	REQUIRE_INT_EQ(g_caps.n, 2);
	CHECK_INT_EQ(g_caps.list[1].id, DK_PCI_CAP_ID_MSI);
	CHECK_INT_EQ(g_caps.list[1].offset, 0x4c);
	CHECK_INT_EQ(g_caps.msi.offset, 0);
	CHECK_INT_EQ(g_caps.msi.max_vectors, 0);
	/* a pointer 0x4e means 0x4c (low bits masked): listed with len 0x50 */
	cfg_init(&c, 0);
	std_add(&c, 0x40, DK_PCI_CAP_ID_PM);
	std_add(&c, 0x4e, DK_PCI_CAP_ID_VNDR);
	c.b[0x4c] = DK_PCI_CAP_ID_VNDR;
	REQUIRE_INT_EQ(parse(&c, 0x50), 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_NO_EXTENDED);
	REQUIRE_INT_EQ(g_caps.n, 2);
	CHECK_INT_EQ(g_caps.list[1].offset, 0x4c);
	/* a header at 0x4c: its two bytes fit in 0x4e exactly, not in 0x4d */
	REQUIRE_INT_EQ(parse(&c, 0x4e), 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_NO_EXTENDED);
	CHECK_INT_EQ(g_caps.n, 2);
	REQUIRE_INT_EQ(parse(&c, 0x4d), 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_NO_EXTENDED | DK_PCI_CAPS_TRUNCATED);
	CHECK_INT_EQ(g_caps.n, 1);
	/* a pointer to 0x50 with len 0x50: header beyond len */
	c.b[0x41] = 0x50;
	REQUIRE_INT_EQ(parse(&c, 0x50), 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_NO_EXTENDED | DK_PCI_CAPS_TRUNCATED);
	CHECK_INT_EQ(g_caps.n, 1);
	/* the 64-byte header-only config sysfs gives non-root users */
	REQUIRE_INT_EQ(parse(&c, 64), 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_NO_EXTENDED | DK_PCI_CAPS_TRUNCATED);
	CHECK_INT_EQ(g_caps.n, 0);
}

DK_TEST(extended_next_below_0x100)
{
	struct cfgb c;
	cfg_init(&c, 0);
	ext_add(&c, 0x100, DK_PCI_EXT_CAP_ID_AER, 2);
	ext_set_next(&c, 0x100, 0x0fc);
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_BAD_POINTER);
	REQUIRE_INT_EQ(g_caps.n, 1);
	CHECK_INT_EQ(g_caps.list[0].id, DK_PCI_EXT_CAP_ID_AER);
	CHECK_INT_EQ(g_caps.list[0].version, 2);
	/* a next field of 1..3 masks to 0: end of chain, not an error */
	cfg_init(&c, 0);
	ext_add(&c, 0x100, DK_PCI_EXT_CAP_ID_AER, 2);
	ext_set_next(&c, 0x100, 0x003);
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	CHECK_INT_EQ(g_caps.flags, 0);
	CHECK_INT_EQ(g_caps.n, 1);
}

DK_TEST(extended_header_all_ones_or_zero)
{
	struct cfgb c;
	build_endpoint(&c);
	put32(c.b + 0x100, 0xffffffff);
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	CHECK_INT_EQ(g_caps.flags, 0);
	CHECK_INT_EQ(g_caps.n, 5);
	CHECK_INT_EQ(g_caps.acs.offset, 0);
	put32(c.b + 0x100, 0);
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	CHECK_INT_EQ(g_caps.flags, 0);
	CHECK_INT_EQ(g_caps.n, 5);
	/* mid-chain all-ones also ends the chain and is not listed */
	build_endpoint(&c);
	put32(c.b + 0x158, 0xffffffff);
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	CHECK_INT_EQ(g_caps.flags, 0);
	CHECK_INT_EQ(g_caps.n, 7);
	CHECK_INT_EQ(g_caps.list[6].offset, 0x148);
	CHECK_INT_EQ(g_caps.sriov.offset, 0);
	/* a zero id with a next pointer is a real (null) capability only
	 * when the header is not all zero */
	build_endpoint(&c);
	put32(c.b + 0x100, 0x14800000);
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	CHECK_INT_EQ(g_caps.flags, 0);
	CHECK_INT_EQ(g_caps.n, 10);
	CHECK_INT_EQ(g_caps.list[5].id, 0);
	CHECK_INT_EQ(g_caps.list[5].offset, 0x100);
}

DK_TEST(structure_cut_by_len_not_decoded)
{
	struct cfgb c;
	/* PCIe needs +0x14: at 0xec it ends at 0x100 exactly, at 0xf0 it does not */
	cfg_init(&c, 0);
	add_pcie(&c, 0xec, 0x0002, 1, 0x11, 0x11);
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.pcie.offset, 0xec);
	cfg_init(&c, 0);
	add_pcie(&c, 0xf0, 0x0002, 1, 0x11, 0x11);
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.n, 1);
	CHECK_INT_EQ(g_caps.list[0].id, DK_PCI_CAP_ID_EXP);
	CHECK_INT_EQ(g_caps.pcie.offset, 0);
	CHECK_INT_EQ(g_caps.pcie.version, 0);
	/* standard structures must lie in the first 256 bytes even when
	 * the buffer is longer */
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	CHECK_INT_EQ(g_caps.pcie.offset, 0);
	/* ... and within len */
	cfg_init(&c, 0);
	add_pcie(&c, 0x40, 0x0002, 1, 0x11, 0x11);
	REQUIRE_INT_EQ(parse(&c, 0x54), 0);
	CHECK_INT_EQ(g_caps.pcie.offset, 0x40);
	REQUIRE_INT_EQ(parse(&c, 0x53), 0);
	CHECK_INT_EQ(g_caps.n, 1);
	CHECK_INT_EQ(g_caps.pcie.offset, 0);

	/* MSI 64-bit with masking is 0x18 bytes */
	cfg_init(&c, 0);
	add_msi(&c, 0xe8, 0x0180);
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.msi.offset, 0xe8);
	cfg_init(&c, 0);
	add_msi(&c, 0xec, 0x0180);
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.n, 1);
	CHECK_INT_EQ(g_caps.msi.offset, 0);
	/* a 32-bit MSI without masking (10 bytes) fits at 0xf4 */
	cfg_init(&c, 0);
	add_msi(&c, 0xf4, 0x0000);
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.msi.offset, 0xf4);

	/* MSI-X is 12 bytes */
	cfg_init(&c, 0);
	add_msix(&c, 0xf4, 0x0001, 0, 0);
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.msix.offset, 0xf4);
	cfg_init(&c, 0);
	add_msix(&c, 0xf8, 0x0001, 0, 0);
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.n, 1);
	CHECK_INT_EQ(g_caps.msix.offset, 0);
	CHECK_INT_EQ(g_caps.msix.table_size, 0);

	/* ACS (8 bytes) at 0xff8 fits, at 0xffc does not */
	cfg_init(&c, 0);
	ext_add(&c, 0x100, DK_PCI_EXT_CAP_ID_AER, 1);
	add_acs(&c, 0xff8, 0x7f, 0x1);
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	CHECK_INT_EQ(g_caps.flags, 0);
	CHECK_INT_EQ(g_caps.n, 2);
	CHECK_INT_EQ(g_caps.acs.offset, 0xff8);
	CHECK_INT_EQ(g_caps.acs.cap, 0x7f);
	put32(c.b + 0xffc, DK_PCI_EXT_CAP_ID_ACS | 1u << 16);
	ext_set_next(&c, 0x100, 0xffc);
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	CHECK_INT_EQ(g_caps.flags, 0);
	REQUIRE_INT_EQ(g_caps.n, 2);
	CHECK_INT_EQ(g_caps.list[1].offset, 0xffc);
	CHECK_INT_EQ(g_caps.list[1].id, DK_PCI_EXT_CAP_ID_ACS);
	CHECK_INT_EQ(g_caps.acs.offset, 0);

	/* SR-IOV (0x40 bytes) at 0xfc0 fits, at 0xfc4 does not */
	cfg_init(&c, 0);
	ext_add(&c, 0x100, DK_PCI_EXT_CAP_ID_AER, 1);
	add_sriov(&c, 0xfc0);
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	CHECK_INT_EQ(g_caps.sriov.offset, 0xfc0);
	CHECK_INT_EQ(g_caps.sriov.vf_device_id, 0x10f2);
	cfg_init(&c, 0);
	ext_add(&c, 0x100, DK_PCI_EXT_CAP_ID_AER, 1);
	add_sriov(&c, 0xfc4);
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	CHECK_INT_EQ(g_caps.n, 2);
	CHECK_INT_EQ(g_caps.list[1].id, DK_PCI_EXT_CAP_ID_SRIOV);
	CHECK_INT_EQ(g_caps.sriov.offset, 0);
	CHECK_INT_EQ(g_caps.sriov.total_vfs, 0);
}

DK_TEST(first_duplicate_is_decoded)
{
	struct cfgb c;
	cfg_init(&c, 0);
	add_msix(&c, 0x40, 0x0003, 0x1000, 0x2000);
	add_msix(&c, 0x50, 0x0007, 0x5000, 0x6000);
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.n, 2);
	CHECK_INT_EQ(g_caps.msix.offset, 0x40);
	CHECK_INT_EQ(g_caps.msix.table_size, 4);
	CHECK_INT_EQ(dk_pci_caps_find(&g_caps, DK_PCI_CAP_ID_MSIX, 0)->offset, 0x40);
	/* same for extended capabilities; versions use all four bits */
	ext_add(&c, 0x100, DK_PCI_EXT_CAP_ID_ACS, 0xf);
	put16(c.b + 0x104, DK_PCI_ACS_SV);
	add_acs(&c, 0x200, DK_PCI_ACS_DT, DK_PCI_ACS_DT);
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	REQUIRE_INT_EQ(g_caps.n, 4);
	CHECK_INT_EQ(g_caps.list[2].version, 15);
	CHECK_INT_EQ(g_caps.list[3].version, 1);
	CHECK_INT_EQ(g_caps.acs.offset, 0x100);
	CHECK_INT_EQ(g_caps.acs.cap, DK_PCI_ACS_SV);
	CHECK_INT_EQ(g_caps.acs.ctrl, 0);
	/* and for PCIe, MSI and SR-IOV */
	cfg_init(&c, 0);
	add_pcie(&c, 0x40, 0x0002, 0, 0x13, 0x13);
	add_pcie(&c, 0x60, 0x0052, 0, 0x24, 0x24);
	add_msi(&c, 0x80, 0x0001);
	add_msi(&c, 0x98, 0x0000);
	ext_add(&c, 0x100, DK_PCI_EXT_CAP_ID_SRIOV, 1);
	add_sriov(&c, 0x140);
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	CHECK_INT_EQ(g_caps.n, 6);
	CHECK_INT_EQ(g_caps.pcie.offset, 0x40);
	CHECK_INT_EQ(g_caps.pcie.port_type, DK_PCIE_TYPE_ENDPOINT);
	CHECK_INT_EQ(g_caps.pcie.link_width, 1);
	CHECK_INT_EQ(g_caps.msi.offset, 0x80);
	CHECK_INT_EQ(g_caps.msi.enabled, 1);
	CHECK_INT_EQ(g_caps.sriov.offset, 0x100);
	CHECK_INT_EQ(g_caps.sriov.total_vfs, 0);
}

DK_TEST(too_many_caps)
{
	struct cfgb c;
	/* 48 standard capabilities fill every dword from 0x40 to 0xfc */
	cfg_init(&c, 0);
	for (size_t off = 0x40; off < 0x100; off += 4)
		std_add(&c, off, DK_PCI_CAP_ID_VNDR);
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	CHECK_INT_EQ(g_caps.flags, 0);
	CHECK_INT_EQ(g_caps.n, DK_PCI_MAX_CAPS);
	/* one more in the extended chain does not fit */
	add_acs(&c, 0x100, 0x1f, 0x1f);
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_TOO_MANY);
	CHECK_INT_EQ(g_caps.n, DK_PCI_MAX_CAPS);
	CHECK_INT_EQ(g_caps.list[DK_PCI_MAX_CAPS - 1].offset, 0xfc);
	CHECK_INT_EQ(g_caps.acs.offset, 0);
	CHECK(dk_pci_caps_find(&g_caps, DK_PCI_EXT_CAP_ID_ACS, 1) == NULL);
	/* extended only: 60 capabilities */
	cfg_init(&c, 0);
	for (size_t i = 0; i < 60; i++)
		ext_add(&c, 0x100 + i * 0x10, DK_PCI_EXT_CAP_ID_AER, 1);
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_TOO_MANY);
	CHECK_INT_EQ(g_caps.n, DK_PCI_MAX_CAPS);
	CHECK_INT_EQ(g_caps.list[DK_PCI_MAX_CAPS - 1].offset, 0x100 + 47 * 0x10);
}

DK_TEST(low_pointer_bits_masked)
{
	struct cfgb c;
	cfg_init(&c, 0);
	std_add(&c, 0x40, DK_PCI_CAP_ID_PM);
	add_pcie(&c, 0x60, 0x0002, 0, 0x21, 0x21);
	c.b[0x34] = 0x43;
	c.b[0x41] = 0x62;
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_NO_EXTENDED);
	REQUIRE_INT_EQ(g_caps.n, 2);
	CHECK_INT_EQ(g_caps.list[0].offset, 0x40);
	CHECK_INT_EQ(g_caps.list[1].offset, 0x60);
	CHECK_INT_EQ(g_caps.pcie.offset, 0x60);
	CHECK_INT_EQ(g_caps.pcie.link_width, 2);
	/* extended next pointers too */
	ext_add(&c, 0x100, DK_PCI_EXT_CAP_ID_AER, 1);
	add_acs(&c, 0x140, 0x3, 0x1);
	ext_set_next(&c, 0x100, 0x143);
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	CHECK_INT_EQ(g_caps.flags, 0);
	REQUIRE_INT_EQ(g_caps.n, 4);
	CHECK_INT_EQ(g_caps.list[3].offset, 0x140);
	CHECK_INT_EQ(g_caps.acs.offset, 0x140);
	CHECK_INT_EQ(g_caps.acs.ctrl, 1);
}

DK_TEST(header_type_and_multifunction)
{
	struct cfgb c;
	cfg_init(&c, 0x81); /* multifunction bridge */
	std_add(&c, 0x40, DK_PCI_CAP_ID_PM);
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.header_type, 1);
	CHECK_INT_EQ(g_caps.multifunction, 1);
	CHECK_INT_EQ(g_caps.n, 1);
	/* CardBus bridge: the pointer is at 0x14, not 0x34 */
	cfg_init(&c, 0x02);
	std_add(&c, 0x80, DK_PCI_CAP_ID_PM);
	c.b[0x34] = 0x90; /* ignored for type 2 */
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.header_type, 2);
	CHECK_INT_EQ(g_caps.multifunction, 0);
	REQUIRE_INT_EQ(g_caps.n, 1);
	CHECK_INT_EQ(g_caps.list[0].offset, 0x80);
	CHECK_INT_EQ(c.b[0x14], 0x80);
	/* unknown header type: no standard chain */
	cfg_init(&c, 0xff);
	c.b[0x34] = 0x40;
	c.b[0x40] = DK_PCI_CAP_ID_PM;
	REQUIRE_INT_EQ(parse(&c, 256), 0);
	CHECK_INT_EQ(g_caps.header_type, 0x7f);
	CHECK_INT_EQ(g_caps.multifunction, 1);
	CHECK_INT_EQ(g_caps.n, 0);
	CHECK_INT_EQ(g_caps.flags, DK_PCI_CAPS_NO_EXTENDED);
}

DK_TEST(find_standard_and_extended)
{
	struct cfgb c;
	build_endpoint(&c);
	REQUIRE_INT_EQ(parse(&c, 4096), 0);
	/* id 0x10 is PCIe among standard and SR-IOV among extended caps */
	const struct dk_pci_cap_entry *e = dk_pci_caps_find(&g_caps, 0x10, 0);
	REQUIRE(e != NULL);
	CHECK(e == &g_caps.list[2]);
	CHECK_INT_EQ(e->offset, 0x70);
	CHECK_INT_EQ(e->extended, 0);
	e = dk_pci_caps_find(&g_caps, 0x10, 1);
	REQUIRE(e != NULL);
	CHECK(e == &g_caps.list[8]);
	CHECK_INT_EQ(e->offset, 0x160);
	CHECK_INT_EQ(e->extended, 1);
	e = dk_pci_caps_find(&g_caps, DK_PCI_EXT_CAP_ID_ACS, 7); /* any non-zero */
	REQUIRE(e != NULL);
	CHECK_INT_EQ(e->offset, 0x148);
	CHECK_INT_EQ(e->version, 1);
	CHECK(dk_pci_caps_find(&g_caps, DK_PCI_CAP_ID_MSIX, 1) == NULL);
	CHECK(dk_pci_caps_find(&g_caps, DK_PCI_EXT_CAP_ID_AER, 0)->id == DK_PCI_CAP_ID_PM);
	CHECK(dk_pci_caps_find(&g_caps, 0x0002, 0) == NULL);
	CHECK(dk_pci_caps_find(&g_caps, 0xffff, 1) == NULL);
	CHECK(dk_pci_caps_find(NULL, DK_PCI_CAP_ID_PM, 0) == NULL);
	/* entries past n are not searched */
	g_caps.n = 2;
	CHECK(dk_pci_caps_find(&g_caps, DK_PCI_CAP_ID_EXP, 0) == NULL);
	CHECK(dk_pci_caps_find(&g_caps, DK_PCI_CAP_ID_MSI, 0) == &g_caps.list[1]);
}

DK_TEST(cap_names)
{
	CHECK_STR_EQ(dk_pci_cap_name(0x01, 0), "PM");
	CHECK_STR_EQ(dk_pci_cap_name(0x02, 0), "AGP");
	CHECK_STR_EQ(dk_pci_cap_name(0x03, 0), "VPD");
	CHECK_STR_EQ(dk_pci_cap_name(0x04, 0), "Slot ID");
	CHECK_STR_EQ(dk_pci_cap_name(0x05, 0), "MSI");
	CHECK_STR_EQ(dk_pci_cap_name(0x08, 0), "HT");
	CHECK_STR_EQ(dk_pci_cap_name(0x09, 0), "Vendor Specific");
	CHECK_STR_EQ(dk_pci_cap_name(0x0a, 0), "Debug port");
	CHECK_STR_EQ(dk_pci_cap_name(0x0c, 0), "HotPlug");
	CHECK_STR_EQ(dk_pci_cap_name(0x0d, 0), "Subsystem ID");
	CHECK_STR_EQ(dk_pci_cap_name(0x0e, 0), "AGP3");
	CHECK_STR_EQ(dk_pci_cap_name(0x0f, 0), "Secure");
	CHECK_STR_EQ(dk_pci_cap_name(0x10, 0), "PCIe");
	CHECK_STR_EQ(dk_pci_cap_name(0x11, 0), "MSI-X");
	CHECK_STR_EQ(dk_pci_cap_name(0x12, 0), "SATA");
	CHECK_STR_EQ(dk_pci_cap_name(0x13, 0), "AF");
	CHECK(dk_pci_cap_name(0x00, 0) == NULL);
	CHECK(dk_pci_cap_name(0x40, 0) == NULL);
	CHECK(dk_pci_cap_name(0xffff, 0) == NULL);

	CHECK_STR_EQ(dk_pci_cap_name(0x01, 1), "AER");
	CHECK_STR_EQ(dk_pci_cap_name(0x02, 1), "VC");
	CHECK_STR_EQ(dk_pci_cap_name(0x03, 1), "Serial Number");
	CHECK_STR_EQ(dk_pci_cap_name(0x04, 1), "Power Budgeting");
	CHECK_STR_EQ(dk_pci_cap_name(0x0a, 1), "RCRB");
	CHECK_STR_EQ(dk_pci_cap_name(0x0b, 1), "Vendor Specific");
	CHECK_STR_EQ(dk_pci_cap_name(0x0d, 1), "ACS");
	CHECK_STR_EQ(dk_pci_cap_name(0x0e, 1), "ARI");
	CHECK_STR_EQ(dk_pci_cap_name(0x0f, 1), "ATS");
	CHECK_STR_EQ(dk_pci_cap_name(0x10, 1), "SR-IOV");
	CHECK_STR_EQ(dk_pci_cap_name(0x11, 1), "MR-IOV");
	CHECK_STR_EQ(dk_pci_cap_name(0x12, 1), "Multicast");
	CHECK_STR_EQ(dk_pci_cap_name(0x13, 1), "PRI");
	CHECK_STR_EQ(dk_pci_cap_name(0x15, 1), "Resizable BAR");
	CHECK_STR_EQ(dk_pci_cap_name(0x16, 1), "DPA");
	CHECK_STR_EQ(dk_pci_cap_name(0x17, 1), "TPH");
	CHECK_STR_EQ(dk_pci_cap_name(0x18, 1), "LTR");
	CHECK_STR_EQ(dk_pci_cap_name(0x19, 1), "Secondary PCIe");
	CHECK_STR_EQ(dk_pci_cap_name(0x1b, 1), "PASID");
	CHECK_STR_EQ(dk_pci_cap_name(0x1d, 1), "DPC");
	CHECK_STR_EQ(dk_pci_cap_name(0x1e, 1), "L1 PM Substates");
	CHECK_STR_EQ(dk_pci_cap_name(0x1f, 1), "PTM");
	CHECK_STR_EQ(dk_pci_cap_name(0x25, 1), "Data Link Feature");
	CHECK_STR_EQ(dk_pci_cap_name(0x26, 1), "Physical Layer 16 GT/s");
	CHECK_STR_EQ(dk_pci_cap_name(DK_PCI_EXT_CAP_ID_SRIOV, 1), "SR-IOV");
	CHECK(dk_pci_cap_name(0x00, 1) == NULL);
	CHECK(dk_pci_cap_name(0x14, 1) == NULL); /* reserved */
	CHECK(dk_pci_cap_name(0x100, 1) == NULL);
	CHECK(dk_pci_cap_name(0xffff, 1) == NULL);
	/* the flag picks the table, any non-zero value means extended */
	CHECK_STR_EQ(dk_pci_cap_name(0x11, 2), "MR-IOV");
}

DK_TEST(never_reads_past_len)
{
	/* Parse from the very end of a heap buffer sized exactly len, for
	 * every len, over a config whose every byte is a plausible pointer;
	 * under ASan an over-read would fail the run. */
	struct cfgb c;
	build_endpoint(&c);
	for (size_t len = 64; len <= 4096; len += (len < 300 ? 1 : 61)) {
		uint8_t *b = malloc(len);
		REQUIRE(b != NULL);
		memcpy(b, c.b, len);
		memset(&g_caps, 0, sizeof(g_caps));
		CHECK_INT_EQ(dk__pci_caps_parse(b, len, &g_caps), 0);
		CHECK(g_caps.n <= DK_PCI_MAX_CAPS);
		free(b);
	}
}
