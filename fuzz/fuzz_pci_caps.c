/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the PCI capability walker (src/bus/pci/pci_caps.c).
 * The input is a config space (first 4096 bytes used). Besides the
 * sanitizers, it checks the walker's promises: the return code, entry
 * offsets inside the right region and inside len, decoded structures
 * that are listed, and lookups that agree with the list.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <dmakit/pci.h>

#include "bus/pci/pci_caps.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* 1 when a listed entry has this offset, id and kind. */
static int listed(const struct dk_pci_caps *c, uint16_t off, uint16_t id, int ext)
{
	for (unsigned int i = 0; i < c->n; i++)
		if (c->list[i].offset == off && c->list[i].id == id && c->list[i].extended == ext)
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dk_pci_caps caps;
	size_t len = size < 4096 ? size : 4096;
	int rc = dk__pci_caps_parse(data, len, &caps);
	if (len < 64) {
		REQUIRE(rc == -EINVAL);
		REQUIRE(caps.n == 0 && caps.flags == 0);
		return 0;
	}
	REQUIRE(rc == 0);
	REQUIRE(caps.config_len == len);
	REQUIRE(caps.n <= DK_PCI_MAX_CAPS);
	REQUIRE(!!(caps.flags & DK_PCI_CAPS_NO_EXTENDED) == (len < 4096));
	REQUIRE(caps.header_type == (data[0x0e] & 0x7f));

	for (unsigned int i = 0; i < caps.n; i++) {
		const struct dk_pci_cap_entry *e = &caps.list[i];
		REQUIRE(e->offset % 4 == 0);
		if (e->extended) {
			REQUIRE(e->offset >= 0x100 && e->offset + 4u <= len);
			REQUIRE(e->version <= 0xf);
		} else {
			REQUIRE(e->offset >= 0x40 && e->offset < 0x100 && e->offset + 2u <= len);
			REQUIRE(e->id == data[e->offset] && e->version == 0);
		}
		/* entries are listed once */
		for (unsigned int j = 0; j < i; j++)
			REQUIRE(caps.list[j].offset != e->offset);
		/* find returns the first entry of that id */
		const struct dk_pci_cap_entry *f = dk_pci_caps_find(&caps, e->id, e->extended);
		REQUIRE(f != NULL && f <= e && f->id == e->id && f->extended == e->extended);
		(void)dk_pci_cap_name(e->id, e->extended);
	}

	if (caps.pcie.offset) {
		REQUIRE(listed(&caps, caps.pcie.offset, DK_PCI_CAP_ID_EXP, 0));
		REQUIRE(caps.pcie.offset + 0x14u <= len);
	}
	if (caps.msi.offset) {
		REQUIRE(listed(&caps, caps.msi.offset, DK_PCI_CAP_ID_MSI, 0));
		REQUIRE(caps.msi.max_vectors >= 1 && caps.msi.max_vectors <= 32);
	}
	if (caps.msix.offset) {
		REQUIRE(listed(&caps, caps.msix.offset, DK_PCI_CAP_ID_MSIX, 0));
		REQUIRE(caps.msix.table_size >= 1 && caps.msix.table_size <= 2048);
		REQUIRE(caps.msix.table_bar < 8 && caps.msix.pba_bar < 8);
	}
	if (caps.acs.offset)
		REQUIRE(listed(&caps, caps.acs.offset, DK_PCI_EXT_CAP_ID_ACS, 1));
	if (caps.sriov.offset) {
		REQUIRE(listed(&caps, caps.sriov.offset, DK_PCI_EXT_CAP_ID_SRIOV, 1));
		REQUIRE(caps.sriov.offset + 0x40u <= len);
	}

	static const uint16_t std_ids[] = {DK_PCI_CAP_ID_PM, DK_PCI_CAP_ID_MSI, DK_PCI_CAP_ID_VNDR,
					   DK_PCI_CAP_ID_EXP, DK_PCI_CAP_ID_MSIX};
	static const uint16_t ext_ids[] = {DK_PCI_EXT_CAP_ID_AER, DK_PCI_EXT_CAP_ID_ACS,
					   DK_PCI_EXT_CAP_ID_ARI, DK_PCI_EXT_CAP_ID_SRIOV};
	for (size_t i = 0; i < sizeof(std_ids) / sizeof(std_ids[0]); i++) {
		const struct dk_pci_cap_entry *e = dk_pci_caps_find(&caps, std_ids[i], 0);
		REQUIRE(!e || (e->id == std_ids[i] && !e->extended));
	}
	for (size_t i = 0; i < sizeof(ext_ids) / sizeof(ext_ids[0]); i++) {
		const struct dk_pci_cap_entry *e = dk_pci_caps_find(&caps, ext_ids[i], 1);
		REQUIRE(!e || (e->id == ext_ids[i] && e->extended));
	}
	/* a decoded capability is findable (the decoded one is the first of
	 * its id whose structure fits, so find may return an earlier one) */
	REQUIRE(!caps.pcie.offset || dk_pci_caps_find(&caps, DK_PCI_CAP_ID_EXP, 0));
	REQUIRE(!caps.acs.offset || dk_pci_caps_find(&caps, DK_PCI_EXT_CAP_ID_ACS, 1));
	REQUIRE(!caps.sriov.offset || dk_pci_caps_find(&caps, DK_PCI_EXT_CAP_ID_SRIOV, 1));
	return 0;
}
