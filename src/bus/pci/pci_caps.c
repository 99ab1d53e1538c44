/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PCI capability walker: the standard chain (config offset 0x40..0xff) and
 * the PCIe extended chain (0x100..0xfff) of a config-space byte buffer.
 * Contract in pci_caps.h; public lookup helpers in dmakit/pci.h.
 *
 * Choices beyond the contract, written down so tests can hold them:
 *  - Only the first 4096 bytes are looked at (config_len = min(len, 4096)).
 *  - Header types other than 0, 1 and 2 have no known capability pointer:
 *    the standard chain is not walked (no flag).
 *  - Standard capabilities are decoded only when their structure lies in
 *    the first 256 bytes as well as in len; extended ones within 4096.
 *  - PCIe: decoded when bytes up to the link status register (+0x14) are
 *    present (the brief asks only for the bytes that are decoded); MSI:
 *    the whole structure as sized by its control register; MSI-X: 12
 *    bytes; ACS: 8 bytes; SR-IOV: 0x40 bytes.
 *  - When a capability id occurs twice, the first one whose structure fits
 *    is decoded.
 *  - An extended header of 0 or 0xffffffff ends the extended chain wherever
 *    it is met (0xffffffff is what a failed or absent read returns); it is
 *    not listed and sets no flag.
 *  - Once DK_PCI_MAX_CAPS entries are listed, a further capability sets
 *    DK_PCI_CAPS_TOO_MANY and ends the whole walk, so that the list and
 *    the decoded fields always describe the same capabilities.
 */
#include <errno.h>
#include <string.h>

#include <dmakit/pci.h>

#include "bus/pci/pci_caps.h"

/* Config-space registers (PCI Local Bus specification, type 0/1/2 headers). */
#define CFG_STATUS               0x06
#define CFG_STATUS_CAP_LIST      0x10
#define CFG_HEADER_TYPE          0x0e
#define CFG_HEADER_MULTIFUNCTION 0x80
#define CFG_CAP_PTR              0x34
#define CFG_CB_CAP_PTR           0x14 /* CardBus bridge (header type 2) */
#define CFG_HEADER_LEN           64
#define CFG_STD_LEN              256
#define CFG_EXT_LEN              4096

/* PCI Express capability. */
#define EXP_FLAGS       0x02
#define EXP_DEVCAP      0x04
#define EXP_LNKCAP      0x0c
#define EXP_LNKSTA      0x12
#define EXP_DECODED_LEN 0x14

/* MSI capability. */
#define MSI_CTRL        0x02
#define MSI_CTRL_ENABLE 0x0001
#define MSI_CTRL_64BIT  0x0080
#define MSI_CTRL_PVM    0x0100

/* MSI-X capability. */
#define MSIX_CTRL        0x02
#define MSIX_TABLE       0x04
#define MSIX_PBA         0x08
#define MSIX_LEN         0x0c
#define MSIX_CTRL_QSIZE  0x07ff
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_BIR_MASK    0x7u

/* ACS extended capability. */
#define ACS_CAP  0x04
#define ACS_CTRL 0x06
#define ACS_LEN  0x08

/* SR-IOV extended capability. */
#define SRIOV_CTRL       0x08
#define SRIOV_INITIAL_VF 0x0c
#define SRIOV_TOTAL_VF   0x0e
#define SRIOV_NUM_VF     0x10
#define SRIOV_VF_OFFSET  0x14
#define SRIOV_VF_STRIDE  0x16
#define SRIOV_VF_DID     0x1a
#define SRIOV_LEN        0x40

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (unsigned int)p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* 1 when [off, off + size) lies in [0, limit). */
static int fits(size_t off, size_t size, size_t limit)
{
	return off <= limit && size <= limit - off;
}

/* Append an entry; 0, or -1 when the list is full (TOO_MANY is set). */
static int add_entry(struct dk_pci_caps *caps, uint16_t id, size_t off, int ext, uint8_t ver)
{
	if (caps->n >= DK_PCI_MAX_CAPS) {
		caps->flags |= DK_PCI_CAPS_TOO_MANY;
		return -1;
	}
	struct dk_pci_cap_entry *e = &caps->list[caps->n++];
	e->id = id;
	e->offset = (uint16_t)off;
	e->extended = (uint8_t)(ext != 0);
	e->version = ver;
	return 0;
}

static void decode_pcie(struct dk_pci_caps *caps, const uint8_t *cfg, size_t off, size_t limit)
{
	if (caps->pcie.offset || !fits(off, EXP_DECODED_LEN, limit))
		return;
	const uint8_t *c = cfg + off;
	uint16_t flags = rd16(c + EXP_FLAGS);
	uint32_t lnkcap = rd32(c + EXP_LNKCAP);
	uint16_t lnksta = rd16(c + EXP_LNKSTA);
	caps->pcie.offset = (uint16_t)off;
	caps->pcie.version = (uint8_t)(flags & 0xf);
	caps->pcie.port_type = (uint8_t)((flags >> 4) & 0xf);
	caps->pcie.slot_implemented = (uint8_t)((flags >> 8) & 1);
	caps->pcie.dev_cap = rd32(c + EXP_DEVCAP);
	caps->pcie.link_cap = lnkcap;
	caps->pcie.link_status = lnksta;
	caps->pcie.max_link_speed = (uint8_t)(lnkcap & 0xf);
	caps->pcie.max_link_width = (uint8_t)((lnkcap >> 4) & 0x3f);
	caps->pcie.link_speed = (uint8_t)(lnksta & 0xf);
	caps->pcie.link_width = (uint8_t)((lnksta >> 4) & 0x3f);
}

static void decode_msi(struct dk_pci_caps *caps, const uint8_t *cfg, size_t off, size_t limit)
{
	if (caps->msi.offset || !fits(off, MSI_CTRL + 2, limit))
		return;
	uint16_t ctrl = rd16(cfg + off + MSI_CTRL);
	/* id, next, ctrl, address low, data = 10 bytes; +4 for the upper
	 * address; per-vector masking adds 2 reserved, mask and pending. */
	size_t size = 0x0a;
	if (ctrl & MSI_CTRL_64BIT)
		size += 4;
	if (ctrl & MSI_CTRL_PVM)
		size += 10;
	if (!fits(off, size, limit))
		return;
	unsigned int log2 = (ctrl >> 1) & 7;
	if (log2 > 5) /* reserved encodings: clamp to the 32-vector maximum */
		log2 = 5;
	caps->msi.offset = (uint16_t)off;
	caps->msi.ctrl = ctrl;
	caps->msi.enabled = (uint8_t)(ctrl & MSI_CTRL_ENABLE ? 1 : 0);
	caps->msi.is_64bit = (uint8_t)(ctrl & MSI_CTRL_64BIT ? 1 : 0);
	caps->msi.per_vector_mask = (uint8_t)(ctrl & MSI_CTRL_PVM ? 1 : 0);
	caps->msi.max_vectors = (uint8_t)(1u << log2);
}

static void decode_msix(struct dk_pci_caps *caps, const uint8_t *cfg, size_t off, size_t limit)
{
	if (caps->msix.offset || !fits(off, MSIX_LEN, limit))
		return;
	const uint8_t *c = cfg + off;
	uint16_t ctrl = rd16(c + MSIX_CTRL);
	uint32_t table = rd32(c + MSIX_TABLE);
	uint32_t pba = rd32(c + MSIX_PBA);
	caps->msix.offset = (uint16_t)off;
	caps->msix.ctrl = ctrl;
	caps->msix.enabled = (uint8_t)(ctrl & MSIX_CTRL_ENABLE ? 1 : 0);
	caps->msix.table_size = (uint16_t)((ctrl & MSIX_CTRL_QSIZE) + 1);
	caps->msix.table_bar = (uint8_t)(table & MSIX_BIR_MASK);
	caps->msix.table_offset = table & ~MSIX_BIR_MASK;
	caps->msix.pba_bar = (uint8_t)(pba & MSIX_BIR_MASK);
	caps->msix.pba_offset = pba & ~MSIX_BIR_MASK;
}

static void decode_acs(struct dk_pci_caps *caps, const uint8_t *cfg, size_t off, size_t limit)
{
	if (caps->acs.offset || !fits(off, ACS_LEN, limit))
		return;
	caps->acs.offset = (uint16_t)off;
	caps->acs.cap = rd16(cfg + off + ACS_CAP);
	caps->acs.ctrl = rd16(cfg + off + ACS_CTRL);
}

static void decode_sriov(struct dk_pci_caps *caps, const uint8_t *cfg, size_t off, size_t limit)
{
	if (caps->sriov.offset || !fits(off, SRIOV_LEN, limit))
		return;
	const uint8_t *c = cfg + off;
	caps->sriov.offset = (uint16_t)off;
	caps->sriov.ctrl = rd16(c + SRIOV_CTRL);
	caps->sriov.initial_vfs = rd16(c + SRIOV_INITIAL_VF);
	caps->sriov.total_vfs = rd16(c + SRIOV_TOTAL_VF);
	caps->sriov.num_vfs = rd16(c + SRIOV_NUM_VF);
	caps->sriov.first_vf_offset = rd16(c + SRIOV_VF_OFFSET);
	caps->sriov.vf_stride = rd16(c + SRIOV_VF_STRIDE);
	caps->sriov.vf_device_id = rd16(c + SRIOV_VF_DID);
}

/* Walk the standard chain; returns -1 when the list filled up. */
static int walk_standard(struct dk_pci_caps *caps, const uint8_t *cfg, size_t len)
{
	size_t start;
	if (!(rd16(cfg + CFG_STATUS) & CFG_STATUS_CAP_LIST))
		return 0;
	switch (caps->header_type) {
	case 0:
	case 1:
		start = CFG_CAP_PTR;
		break;
	case 2:
		start = CFG_CB_CAP_PTR;
		break;
	default:
		return 0;
	}
	size_t limit = len < CFG_STD_LEN ? len : CFG_STD_LEN;
	uint8_t seen[CFG_STD_LEN / 4 / 8] = {0}; /* one bit per dword */
	size_t ptr = cfg[start] & 0xfcu;
	while (ptr) {
		if (ptr < CFG_HEADER_LEN || !fits(ptr, 2, CFG_STD_LEN)) {
			caps->flags |= DK_PCI_CAPS_BAD_POINTER;
			return 0;
		}
		if (!fits(ptr, 2, limit)) {
			/* A valid pointer past what was read (non-root sees 64 bytes). */
			caps->flags |= DK_PCI_CAPS_TRUNCATED;
			return 0;
		}
		size_t dw = ptr / 4;
		if (seen[dw / 8] & (1u << (dw % 8))) {
			caps->flags |= DK_PCI_CAPS_LOOP;
			return 0;
		}
		seen[dw / 8] |= (uint8_t)(1u << (dw % 8));
		uint8_t id = cfg[ptr];
		if (add_entry(caps, id, ptr, 0, 0) < 0)
			return -1;
		switch (id) {
		case DK_PCI_CAP_ID_EXP:
			decode_pcie(caps, cfg, ptr, limit);
			break;
		case DK_PCI_CAP_ID_MSI:
			decode_msi(caps, cfg, ptr, limit);
			break;
		case DK_PCI_CAP_ID_MSIX:
			decode_msix(caps, cfg, ptr, limit);
			break;
		default:
			break;
		}
		ptr = cfg[ptr + 1] & 0xfcu;
	}
	return 0;
}

static void walk_extended(struct dk_pci_caps *caps, const uint8_t *cfg, size_t limit)
{
	uint8_t seen[CFG_EXT_LEN / 4 / 8] = {0};
	size_t off = CFG_STD_LEN;
	for (;;) {
		/* off is >= 0x100 and dword-aligned here; fits() was checked
		 * by the caller for 0x100 and below for every next pointer. */
		size_t dw = off / 4;
		if (seen[dw / 8] & (1u << (dw % 8))) {
			caps->flags |= DK_PCI_CAPS_LOOP;
			return;
		}
		seen[dw / 8] |= (uint8_t)(1u << (dw % 8));
		uint32_t hdr = rd32(cfg + off);
		if (hdr == 0 || hdr == 0xffffffffu)
			return;
		uint16_t id = (uint16_t)(hdr & 0xffff);
		if (add_entry(caps, id, off, 1, (uint8_t)((hdr >> 16) & 0xf)) < 0)
			return;
		switch (id) {
		case DK_PCI_EXT_CAP_ID_ACS:
			decode_acs(caps, cfg, off, limit);
			break;
		case DK_PCI_EXT_CAP_ID_SRIOV:
			decode_sriov(caps, cfg, off, limit);
			break;
		default:
			break;
		}
		size_t next = (hdr >> 20) & 0xffcu;
		if (!next)
			return;
		if (next < CFG_STD_LEN || !fits(next, 4, CFG_EXT_LEN)) {
			caps->flags |= DK_PCI_CAPS_BAD_POINTER;
			return;
		}
		if (!fits(next, 4, limit)) {
			caps->flags |= DK_PCI_CAPS_TRUNCATED;
			return;
		}
		off = next;
	}
}

int dk__pci_caps_parse(const uint8_t *cfg, size_t len, struct dk_pci_caps *caps)
{
	if (!caps)
		return -EINVAL;
	memset(caps, 0, sizeof(*caps));
	if (!cfg || len < CFG_HEADER_LEN)
		return -EINVAL;
	if (len > CFG_EXT_LEN)
		len = CFG_EXT_LEN;
	caps->config_len = (uint32_t)len;
	caps->header_type = cfg[CFG_HEADER_TYPE] & 0x7f;
	caps->multifunction = (cfg[CFG_HEADER_TYPE] & CFG_HEADER_MULTIFUNCTION) ? 1 : 0;

	if (walk_standard(caps, cfg, len) < 0)
		return 0;
	if (len < CFG_EXT_LEN) {
		caps->flags |= DK_PCI_CAPS_NO_EXTENDED;
		return 0;
	}
	walk_extended(caps, cfg, len);
	return 0;
}

const struct dk_pci_cap_entry *dk_pci_caps_find(const struct dk_pci_caps *caps, uint16_t id,
						int extended)
{
	if (!caps)
		return NULL;
	uint8_t ext = extended ? 1 : 0;
	unsigned int n = caps->n < DK_PCI_MAX_CAPS ? caps->n : DK_PCI_MAX_CAPS;
	for (unsigned int i = 0; i < n; i++) {
		if (caps->list[i].id == id && caps->list[i].extended == ext)
			return &caps->list[i];
	}
	return NULL;
}

/* Capability names, indexed by id (PCI Local Bus 3.0 / PCI Code and ID
 * Assignment; PCIe Base 6.0 extended capability ids). NULL: reserved. */
static const char *const g_std_names[] = {
    [0x01] = "PM",
    [0x02] = "AGP",
    [0x03] = "VPD",
    [0x04] = "Slot ID",
    [0x05] = "MSI",
    [0x06] = "CompactPCI HotSwap",
    [0x07] = "PCI-X",
    [0x08] = "HT",
    [0x09] = "Vendor Specific",
    [0x0a] = "Debug port",
    [0x0b] = "CompactPCI CRC",
    [0x0c] = "HotPlug",
    [0x0d] = "Subsystem ID",
    [0x0e] = "AGP3",
    [0x0f] = "Secure",
    [0x10] = "PCIe",
    [0x11] = "MSI-X",
    [0x12] = "SATA",
    [0x13] = "AF",
    [0x14] = "EA",
    [0x15] = "FPB",
};

static const char *const g_ext_names[] = {
    [0x01] = "AER",
    [0x02] = "VC",
    [0x03] = "Serial Number",
    [0x04] = "Power Budgeting",
    [0x05] = "RC Link Declaration",
    [0x06] = "RC Internal Link Control",
    [0x07] = "RC Event Collector",
    [0x08] = "MFVC",
    [0x09] = "VC",
    [0x0a] = "RCRB",
    [0x0b] = "Vendor Specific",
    [0x0c] = "Config Access",
    [0x0d] = "ACS",
    [0x0e] = "ARI",
    [0x0f] = "ATS",
    [0x10] = "SR-IOV",
    [0x11] = "MR-IOV",
    [0x12] = "Multicast",
    [0x13] = "PRI",
    [0x15] = "Resizable BAR",
    [0x16] = "DPA",
    [0x17] = "TPH",
    [0x18] = "LTR",
    [0x19] = "Secondary PCIe",
    [0x1a] = "PMUX",
    [0x1b] = "PASID",
    [0x1c] = "LN Requester",
    [0x1d] = "DPC",
    [0x1e] = "L1 PM Substates",
    [0x1f] = "PTM",
    [0x20] = "M-PCIe",
    [0x21] = "FRS Queueing",
    [0x22] = "Readiness Time Reporting",
    [0x23] = "Designated Vendor Specific",
    [0x24] = "VF Resizable BAR",
    [0x25] = "Data Link Feature",
    [0x26] = "Physical Layer 16 GT/s",
    [0x27] = "Lane Margining",
    [0x28] = "Hierarchy ID",
    [0x29] = "NPEM",
    [0x2a] = "Physical Layer 32 GT/s",
    [0x2b] = "Alternate Protocol",
    [0x2e] = "DOE",
};

const char *dk_pci_cap_name(uint16_t id, int extended)
{
	if (extended)
		return id < DK_ARRAY_SIZE(g_ext_names) ? g_ext_names[id] : NULL;
	return id < DK_ARRAY_SIZE(g_std_names) ? g_std_names[id] : NULL;
}
