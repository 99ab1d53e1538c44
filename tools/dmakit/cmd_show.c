/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_show.c - `dmakit show ADDR [-n] [--json]`: one device in detail, with
 * names from the PCI ID database unless -n.
 *
 * Everything comes from the library's scan (struct dk_pci_device and its
 * parsed capabilities): IDs, driver, IOMMU group, NUMA node, the upstream
 * bridge chain, BARs, the capability list, and decoded PCIe, ACS, SR-IOV,
 * MSI and MSI-X capabilities. ADDR is a PCI address (DDDD:BB:DD.F or
 * BB:DD.F) or, for a mediated device, its UUID.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

/* Longest possible upstream chain worth printing (256 buses). */
#define SHOW_MAX_CHAIN 256

static const struct {
	uint16_t bit;
	const char *name;
} g_acs_bits[] = {
    {DK_PCI_ACS_SV, "SV"}, {DK_PCI_ACS_TB, "TB"}, {DK_PCI_ACS_RR, "RR"}, {DK_PCI_ACS_CR, "CR"},
    {DK_PCI_ACS_UF, "UF"}, {DK_PCI_ACS_EC, "EC"}, {DK_PCI_ACS_DT, "DT"},
};

static const char *port_type_name(unsigned int t)
{
	switch (t) {
	case DK_PCIE_TYPE_ENDPOINT:
		return "endpoint";
	case DK_PCIE_TYPE_LEGACY_ENDPOINT:
		return "legacy endpoint";
	case DK_PCIE_TYPE_ROOT_PORT:
		return "root port";
	case DK_PCIE_TYPE_UPSTREAM:
		return "switch upstream port";
	case DK_PCIE_TYPE_DOWNSTREAM:
		return "switch downstream port";
	case DK_PCIE_TYPE_PCIE_TO_PCI:
		return "PCIe-to-PCI bridge";
	case DK_PCIE_TYPE_PCI_TO_PCIE:
		return "PCI-to-PCIe bridge";
	case DK_PCIE_TYPE_RC_INTEGRATED:
		return "root complex integrated endpoint";
	case DK_PCIE_TYPE_RC_EVENT_COLLECTOR:
		return "root complex event collector";
	default:
		return "unknown";
	}
}

/* Link speed code (1 = 2.5 GT/s ...) as text, into buf. */
static const char *speed_name(unsigned int code, char *buf, size_t len)
{
	static const char *const names[] = {NULL,      "2.5 GT/s", "5 GT/s", "8 GT/s",
					    "16 GT/s", "32 GT/s",  "64 GT/s"};
	if (code < DK_ARRAY_SIZE(names) && names[code])
		return names[code];
	snprintf(buf, len, "unknown speed %u", code);
	return buf;
}

/* "16 KiB" when size is a whole number of KiB/MiB/GiB/TiB, else bytes. */
static const char *size_name(uint64_t size, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	unsigned int u = 0;
	while (u + 1 < DK_ARRAY_SIZE(units) && size >= 1024 && size % 1024 == 0) {
		size /= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 " %s", size, units[u]);
	return buf;
}

static const char *bar_name(unsigned int i, char *buf, size_t len)
{
	if (i == DK_PCI_ROM_INDEX)
		snprintf(buf, len, "ROM");
	else
		snprintf(buf, len, "BAR%u", i);
	return buf;
}

/* 1 when s looks like an mdev UUID (8-4-4-4-12 hex digits). */
static int looks_like_uuid(const char *s)
{
	static const int groups[] = {8, 4, 4, 4, 12};
	for (size_t g = 0; g < DK_ARRAY_SIZE(groups); g++) {
		for (int k = 0; k < groups[g]; k++, s++)
			if (!isxdigit((unsigned char)*s))
				return 0;
		if (g + 1 < DK_ARRAY_SIZE(groups) && *s++ != '-')
			return 0;
	}
	return *s == '\0';
}

/* ---- text --------------------------------------------------------------- */

static void print_acs_bits(const char *label, uint16_t v)
{
	printf("  %-15s", label);
	int any = 0;
	for (size_t i = 0; i < DK_ARRAY_SIZE(g_acs_bits); i++) {
		if (v & g_acs_bits[i].bit) {
			printf(" %s", g_acs_bits[i].name);
			any = 1;
		}
	}
	printf("%s  (0x%04x)\n", any ? "" : " none", v);
}

static void print_caps_flags(const struct dk_pci_caps *c)
{
	if (c->flags & DK_PCI_CAPS_NO_EXTENDED) {
		if (c->config_len < 256)
			printf("  (only %u bytes of config space readable: run as root to see all "
			       "capabilities)\n",
			       c->config_len);
		else
			printf("  (no extended config space: extended capabilities not visible)\n");
	}
	if (c->flags & DK_PCI_CAPS_LOOP)
		printf("  (the capability chain loops: walk stopped)\n");
	if (c->flags & DK_PCI_CAPS_BAD_POINTER)
		printf("  (a capability pointer is out of range: walk stopped)\n");
	if (c->flags & DK_PCI_CAPS_TOO_MANY)
		printf("  (more than %d capabilities: list cut short)\n", DK_PCI_MAX_CAPS);
}

/* "  name" after the numbers (nothing for NULL), then the newline. */
static void print_name(const char *name)
{
	if (name)
		printf("  %s", name);
	putchar('\n');
}

/* "  Class name (prog-if Name)", as lspci -v shows the prog-if when it is known. */
static void print_class_name(uint32_t class_id)
{
	char cls[CLI_NAME_LEN], pif[CLI_NAME_LEN];
	if (cli_names_on()) {
		printf("  %s", cli_name_class(class_id, cls));
		if (cli_name_progif(class_id, pif))
			printf(" (prog-if %s)", pif);
	}
	putchar('\n');
}

static void print_text(const struct dk_pci_device *dev)
{
	const struct dk_pci_caps *c = &dev->caps;
	char buf[CLI_NAME_LEN], buf2[64];

	printf("%s (%s)\n", dev->device.name, cli_kind_name(dev));
	printf("  %-15s %04x:%04x", "vendor:device", dev->id.vendor_id, dev->id.device_id);
	print_name(cli_names_on() ? cli_name_pair(dev->id.vendor_id, dev->id.device_id, buf)
				  : NULL);
	printf("  %-15s %04x:%04x", "subsystem", dev->id.subsystem_vendor_id,
	       dev->id.subsystem_device_id);
	print_name(cli_names_on() ? cli_name_subsys_pair(dev, buf) : NULL);
	printf("  %-15s %06x", "class", dev->id.class_id & 0xffffffu);
	print_class_name(dev->id.class_id);
	printf("  %-15s %02x\n", "revision", dev->revision);
	printf("  %-15s %s\n", "driver", dev->kernel_driver[0] ? dev->kernel_driver : "-");
	if (dev->iommu_group >= 0)
		printf("  %-15s %d\n", "iommu group", dev->iommu_group);
	else
		printf("  %-15s -\n", "iommu group");
	printf("  %-15s %d\n", "numa node", dev->device.numa_node);
	printf("  %-15s %s\n", "host bridge", dev->host_bridge[0] ? dev->host_bridge : "-");
	printf("  %-15s", "upstream");
	unsigned int n = 0;
	for (const struct dk_pci_device *u = dev->upstream; u && n < SHOW_MAX_CHAIN;
	     u = u->upstream, n++)
		printf(" %s ->", u->device.name);
	printf(" %s\n", dev->host_bridge[0] ? dev->host_bridge : "-");
	if (dev->physfn)
		printf("  %-15s %s\n", "physfn", dev->physfn->device.name);

	printf("BARs:\n");
	int nbars = 0;
	for (unsigned int i = 0; i < DK_PCI_NUM_RESOURCES; i++) {
		const struct dk_pci_bar *b = &dev->bars[i];
		if (b->len == 0)
			continue;
		nbars++;
		printf("  %-5s 0x%016" PRIx64 "  %-9s %s%s%s\n", bar_name(i, buf2, sizeof(buf2)),
		       b->phys_addr, size_name(b->len, buf, sizeof(buf)),
		       (b->flags & DK_PCI_BAR_IO) ? "io" : "mem",
		       (b->flags & DK_PCI_BAR_MEM64) ? " 64" : "",
		       (b->flags & DK_PCI_BAR_PREFETCH) ? " prefetch" : "");
	}
	if (!nbars)
		printf("  none\n");

	printf("capabilities:\n");
	for (unsigned int i = 0; i < c->n; i++) {
		const struct dk_pci_cap_entry *e = &c->list[i];
		const char *name = dk_pci_cap_name(e->id, e->extended);
		if (e->extended)
			printf("  0x%03x  ext 0x%04x  %s (version %u)\n", e->offset, e->id,
			       name ? name : "unknown", e->version);
		else
			printf("  0x%03x  std 0x%02x    %s\n", e->offset, e->id,
			       name ? name : "unknown");
	}
	if (!c->n)
		printf("  none\n");
	print_caps_flags(c);

	if (c->pcie.offset) {
		printf("PCIe:\n");
		printf("  %-15s %s\n", "port type", port_type_name(c->pcie.port_type));
		if (c->pcie.max_link_width) {
			printf("  %-15s x%u @ %s", "link", c->pcie.link_width,
			       speed_name(c->pcie.link_speed, buf, sizeof(buf)));
			printf(" (max x%u @ %s)\n", c->pcie.max_link_width,
			       speed_name(c->pcie.max_link_speed, buf2, sizeof(buf2)));
		}
		if (c->pcie.slot_implemented)
			printf("  %-15s implemented\n", "slot");
	}
	if (c->acs.offset) {
		printf("ACS:\n");
		print_acs_bits("capability", c->acs.cap);
		print_acs_bits("control", c->acs.ctrl);
	}
	if (c->sriov.offset) {
		printf("SR-IOV:\n");
		printf("  %-15s %u total, %u initial, %u enabled (sysfs: %u of %u)\n", "VFs",
		       c->sriov.total_vfs, c->sriov.initial_vfs, c->sriov.num_vfs,
		       dev->sriov_numvfs, dev->sriov_totalvfs);
		printf("  %-15s %04x\n", "VF device", c->sriov.vf_device_id);
		printf("  %-15s offset %u, stride %u\n", "first VF", c->sriov.first_vf_offset,
		       c->sriov.vf_stride);
		printf("  %-15s", "VF functions");
		int any = 0;
		for (unsigned int i = 0; i < dk_pci_count(); i++) {
			const struct dk_pci_device *vf = dk_pci_get(i);
			if (vf && vf->physfn == dev) {
				printf(" %s", vf->device.name);
				any = 1;
			}
		}
		printf("%s\n", any ? "" : " none");
	}
	if (c->msi.offset) {
		printf("MSI:\n");
		printf("  %u vector%s, %s address%s, %s\n", c->msi.max_vectors,
		       c->msi.max_vectors == 1 ? "" : "s", c->msi.is_64bit ? "64-bit" : "32-bit",
		       c->msi.per_vector_mask ? ", per-vector mask" : "",
		       c->msi.enabled ? "enabled" : "disabled");
	}
	if (c->msix.offset) {
		printf("MSI-X:\n");
		printf("  table size %u, table BAR%u + 0x%x, PBA BAR%u + 0x%x, %s\n",
		       c->msix.table_size, c->msix.table_bar, c->msix.table_offset, c->msix.pba_bar,
		       c->msix.pba_offset, c->msix.enabled ? "enabled" : "disabled");
	}
}

/* ---- JSON --------------------------------------------------------------- */

static void json_acs_bits(struct cli_json *j, const char *key, uint16_t v)
{
	cli_json_key(j, key);
	cli_json_arr_begin(j);
	for (size_t i = 0; i < DK_ARRAY_SIZE(g_acs_bits); i++)
		if (v & g_acs_bits[i].bit)
			cli_json_str(j, g_acs_bits[i].name);
	cli_json_arr_end(j);
}

static void json_caps(struct cli_json *j, const struct dk_pci_device *dev)
{
	const struct dk_pci_caps *c = &dev->caps;

	cli_json_key(j, "capabilities");
	cli_json_arr_begin(j);
	for (unsigned int i = 0; i < c->n; i++) {
		const struct dk_pci_cap_entry *e = &c->list[i];
		cli_json_obj_begin(j);
		cli_json_kv_uint(j, "offset", e->offset);
		cli_json_kv_uint(j, "id", e->id);
		cli_json_kv_str(j, "name", dk_pci_cap_name(e->id, e->extended));
		cli_json_kv_bool(j, "extended", e->extended != 0);
		if (e->extended)
			cli_json_kv_uint(j, "version", e->version);
		cli_json_obj_end(j);
	}
	cli_json_arr_end(j);
	cli_json_kv_uint(j, "config_len", c->config_len);
	cli_json_key(j, "capability_walk");
	cli_json_arr_begin(j);
	if (c->flags & DK_PCI_CAPS_NO_EXTENDED)
		cli_json_str(j, "no_extended");
	if (c->flags & DK_PCI_CAPS_LOOP)
		cli_json_str(j, "loop");
	if (c->flags & DK_PCI_CAPS_BAD_POINTER)
		cli_json_str(j, "bad_pointer");
	if (c->flags & DK_PCI_CAPS_TOO_MANY)
		cli_json_str(j, "too_many");
	cli_json_arr_end(j);

	cli_json_key(j, "pcie");
	if (c->pcie.offset) {
		cli_json_obj_begin(j);
		cli_json_kv_uint(j, "offset", c->pcie.offset);
		cli_json_kv_uint(j, "version", c->pcie.version);
		cli_json_kv_uint(j, "port_type_id", c->pcie.port_type);
		cli_json_kv_str(j, "port_type", port_type_name(c->pcie.port_type));
		cli_json_kv_bool(j, "slot_implemented", c->pcie.slot_implemented != 0);
		if (c->pcie.max_link_width) {
			char buf[64];
			cli_json_kv_str(j, "link_speed",
					speed_name(c->pcie.link_speed, buf, sizeof(buf)));
			cli_json_kv_uint(j, "link_width", c->pcie.link_width);
			cli_json_kv_str(j, "max_link_speed",
					speed_name(c->pcie.max_link_speed, buf, sizeof(buf)));
			cli_json_kv_uint(j, "max_link_width", c->pcie.max_link_width);
		} else {
			cli_json_kv_null(j, "link_speed");
			cli_json_kv_null(j, "link_width");
			cli_json_kv_null(j, "max_link_speed");
			cli_json_kv_null(j, "max_link_width");
		}
		cli_json_obj_end(j);
	} else {
		cli_json_null(j);
	}

	cli_json_key(j, "acs");
	if (c->acs.offset) {
		cli_json_obj_begin(j);
		cli_json_kv_uint(j, "offset", c->acs.offset);
		json_acs_bits(j, "cap", c->acs.cap);
		json_acs_bits(j, "ctrl", c->acs.ctrl);
		cli_json_kv_uint(j, "cap_raw", c->acs.cap);
		cli_json_kv_uint(j, "ctrl_raw", c->acs.ctrl);
		cli_json_obj_end(j);
	} else {
		cli_json_null(j);
	}

	cli_json_key(j, "sriov");
	if (c->sriov.offset) {
		cli_json_obj_begin(j);
		cli_json_kv_uint(j, "offset", c->sriov.offset);
		cli_json_kv_uint(j, "total_vfs", c->sriov.total_vfs);
		cli_json_kv_uint(j, "initial_vfs", c->sriov.initial_vfs);
		cli_json_kv_uint(j, "num_vfs", c->sriov.num_vfs);
		cli_json_kv_uint(j, "first_vf_offset", c->sriov.first_vf_offset);
		cli_json_kv_uint(j, "vf_stride", c->sriov.vf_stride);
		cli_json_kv_hex(j, "vf_device", c->sriov.vf_device_id, 4);
		cli_json_kv_uint(j, "sysfs_totalvfs", dev->sriov_totalvfs);
		cli_json_kv_uint(j, "sysfs_numvfs", dev->sriov_numvfs);
		cli_json_key(j, "vfs");
		cli_json_arr_begin(j);
		for (unsigned int i = 0; i < dk_pci_count(); i++) {
			const struct dk_pci_device *vf = dk_pci_get(i);
			if (vf && vf->physfn == dev)
				cli_json_str(j, vf->device.name);
		}
		cli_json_arr_end(j);
		cli_json_obj_end(j);
	} else {
		cli_json_null(j);
	}

	cli_json_key(j, "msi");
	if (c->msi.offset) {
		cli_json_obj_begin(j);
		cli_json_kv_uint(j, "offset", c->msi.offset);
		cli_json_kv_bool(j, "enabled", c->msi.enabled != 0);
		cli_json_kv_uint(j, "max_vectors", c->msi.max_vectors);
		cli_json_kv_bool(j, "64bit", c->msi.is_64bit != 0);
		cli_json_kv_bool(j, "per_vector_mask", c->msi.per_vector_mask != 0);
		cli_json_obj_end(j);
	} else {
		cli_json_null(j);
	}

	cli_json_key(j, "msix");
	if (c->msix.offset) {
		cli_json_obj_begin(j);
		cli_json_kv_uint(j, "offset", c->msix.offset);
		cli_json_kv_bool(j, "enabled", c->msix.enabled != 0);
		cli_json_kv_uint(j, "table_size", c->msix.table_size);
		cli_json_kv_uint(j, "table_bar", c->msix.table_bar);
		cli_json_kv_uint(j, "table_offset", c->msix.table_offset);
		cli_json_kv_uint(j, "pba_bar", c->msix.pba_bar);
		cli_json_kv_uint(j, "pba_offset", c->msix.pba_offset);
		cli_json_obj_end(j);
	} else {
		cli_json_null(j);
	}
}

static int print_json(const struct dk_pci_device *dev)
{
	struct cli_json j;
	cli_json_init(&j, stdout);
	cli_json_obj_begin(&j);
	cli_json_kv_int(&j, "version", 1);
	cli_json_key(&j, "device");
	cli_json_obj_begin(&j);
	cli_json_device_fields(&j, dev);

	cli_json_key(&j, "upstream_chain");
	cli_json_arr_begin(&j);
	unsigned int n = 0;
	for (const struct dk_pci_device *u = dev->upstream; u && n < SHOW_MAX_CHAIN;
	     u = u->upstream, n++)
		cli_json_str(&j, u->device.name);
	cli_json_arr_end(&j);

	cli_json_key(&j, "bars");
	cli_json_arr_begin(&j);
	for (unsigned int i = 0; i < DK_PCI_NUM_RESOURCES; i++) {
		const struct dk_pci_bar *b = &dev->bars[i];
		if (b->len == 0)
			continue;
		cli_json_obj_begin(&j);
		cli_json_kv_uint(&j, "index", i);
		cli_json_kv_hex(&j, "phys_addr", b->phys_addr, 16);
		cli_json_kv_uint(&j, "size", b->len);
		cli_json_key(&j, "flags");
		cli_json_arr_begin(&j);
		cli_json_str(&j, (b->flags & DK_PCI_BAR_IO) ? "io" : "mem");
		if (b->flags & DK_PCI_BAR_MEM64)
			cli_json_str(&j, "64");
		if (b->flags & DK_PCI_BAR_PREFETCH)
			cli_json_str(&j, "prefetch");
		if (i == DK_PCI_ROM_INDEX)
			cli_json_str(&j, "rom");
		cli_json_arr_end(&j);
		cli_json_obj_end(&j);
	}
	cli_json_arr_end(&j);

	json_caps(&j, dev);
	cli_json_obj_end(&j);
	cli_json_obj_end(&j);
	return cli_json_done(&j);
}

int cli_cmd_show(const struct cli_command *cmd, int argc, char **argv)
{
	bool json;
	const char *pos[1];
	int n = cli_parse_args(cmd, argc, argv, &json, pos, 1);
	if (n == CLI_ARGS_HELP)
		return CLI_EXIT_OK;
	if (n < 0)
		return CLI_EXIT_USAGE;
	if (n == 0)
		return cli_usage_error(cmd,
				       "show: which device? give its address, e.g. 0000:03:00.0");

	char name[64];
	if (looks_like_uuid(pos[0])) {
		snprintf(name, sizeof(name), "%s", pos[0]);
	} else if (cli_parse_addr(cmd, pos[0], name, sizeof(name)) < 0) {
		return CLI_EXIT_USAGE;
	}
	int rc = cli_open(DK_INIT_NO_PROBE);
	if (rc != CLI_EXIT_OK)
		return rc;
	const struct dk_pci_device *dev = dk_pci_find(name);
	if (!dev) {
		cli_err("no PCI device %s (see `dmakit devices`)", name);
		return CLI_EXIT_ERROR;
	}
	if (json)
		return print_json(dev);
	print_text(dev);
	return CLI_EXIT_OK;
}
