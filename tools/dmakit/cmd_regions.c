/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_regions.c - `dmakit regions ADDR [--json]`: the VFIO region table of
 * one device (BARs, ROM, config, VGA, device-specific regions) with flags,
 * offsets in the device fd, sparse mmap areas and region capabilities,
 * plus the IRQ indexes and their vector counts.
 *
 * The device is opened with dk_pci_vfio_open(), so it must be bound to
 * vfio-pci; the library says how to fix that, and this file adds one
 * "dmakit: cannot open ..." line with the command to run.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const char *region_name(unsigned int i, char *buf, size_t len)
{
	if (i < DK_PCI_NUM_BARS)
		snprintf(buf, len, "BAR%u", i);
	else if (i == DK_PCI_REGION_ROM)
		snprintf(buf, len, "ROM");
	else if (i == DK_PCI_REGION_CONFIG)
		snprintf(buf, len, "config");
	else if (i == DK_PCI_REGION_VGA)
		snprintf(buf, len, "VGA");
	else
		snprintf(buf, len, "region%u", i);
	return buf;
}

static const char *mode_name(enum dk_pci_map_mode m)
{
	switch (m) {
	case DK_PCI_MAP_WHOLE:
		return "whole";
	case DK_PCI_MAP_RESERVED:
		return "reserved";
	case DK_PCI_MAP_SPLIT:
		return "split";
	default:
		return "none";
	}
}

static const char *irq_name(unsigned int i)
{
	static const char *const names[] = {"INTx", "MSI", "MSI-X", "ERR", "REQ"};
	return i < DK_ARRAY_SIZE(names) ? names[i] : "other";
}

static void flags_text(uint32_t f, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s%s", f & DK_PCI_REGION_READ ? "r" : "-",
		 f & DK_PCI_REGION_WRITE ? "w" : "-", f & DK_PCI_REGION_MMAP ? "m" : "-",
		 f & DK_PCI_REGION_SPARSE ? " sparse" : "",
		 f & DK_PCI_REGION_MSIX_MAPPABLE ? " msix-mappable" : "",
		 f & DK_PCI_REGION_TYPED ? " typed" : "");
}

static void print_text(const struct dk_pci_device *dev)
{
	int n = dk_pci_region_count(dev);
	printf("%s regions (through VFIO):\n", dev->device.name);
	printf("  %-8s %-12s %-18s %-28s %s\n", "REGION", "SIZE", "FD OFFSET", "FLAGS", "MAPPED");
	for (int i = 0; i < n; i++) {
		struct dk_pci_region r;
		char name[24], fl[64];
		if (dk_pci_region_info(dev, (unsigned int)i, &r) < 0 || r.size == 0)
			continue;
		flags_text(r.flags, fl, sizeof(fl));
		printf("  %-8s 0x%-10" PRIx64 " 0x%-16" PRIx64 " %-28s %s\n",
		       region_name((unsigned int)i, name, sizeof(name)), r.size, r.fd_offset, fl,
		       mode_name(r.mode));
		if (r.flags & DK_PCI_REGION_TYPED)
			printf("           type 0x%08x subtype 0x%08x\n", r.type, r.subtype);
		if (r.flags & DK_PCI_REGION_SPARSE)
			for (uint32_t k = 0; k < r.nr_areas; k++)
				printf("           area 0x%" PRIx64 "-0x%" PRIx64 "%s\n", r.areas[k].offset,
				       r.areas[k].offset + r.areas[k].len - 1,
				       r.areas[k].addr ? "" : " (not mapped)");
	}
	struct dk_vfio_device *v = dk_pci_vfio_device(dev);
	struct dk_vfio_device_info di;
	if (dk_vfio_device_info(v, &di) < 0)
		return;
	printf("IRQs:\n");
	for (uint32_t i = 0; i < di.num_irqs; i++) {
		struct dk_vfio_irq_info ii;
		if (dk_vfio_irq_info(v, i, &ii) < 0)
			continue;
		printf("  %-6s %u vector%s%s%s\n", irq_name(i), ii.count, ii.count == 1 ? "" : "s",
		       ii.flags & DK_VFIO_IRQ_MASKABLE ? ", maskable" : "",
		       ii.flags & DK_VFIO_IRQ_AUTOMASKED ? ", automasked" : "");
	}
	printf("reset: %s\n", di.flags & DK_VFIO_DEVICE_RESET ? "supported" : "not supported");
}

static int print_json(const struct dk_pci_device *dev)
{
	struct cli_json j;
	cli_json_init(&j, stdout);
	cli_json_obj_begin(&j);
	cli_json_kv_int(&j, "version", 1);
	cli_json_kv_str(&j, "address", dev->device.name);
	cli_json_key(&j, "regions");
	cli_json_arr_begin(&j);
	int n = dk_pci_region_count(dev);
	for (int i = 0; i < n; i++) {
		struct dk_pci_region r;
		char name[24];
		if (dk_pci_region_info(dev, (unsigned int)i, &r) < 0)
			continue;
		cli_json_obj_begin(&j);
		cli_json_kv_int(&j, "index", i);
		cli_json_kv_str(&j, "name", region_name((unsigned int)i, name, sizeof(name)));
		cli_json_kv_uint(&j, "size", r.size);
		cli_json_kv_uint(&j, "fd_offset", r.fd_offset);
		cli_json_kv_bool(&j, "read", r.flags & DK_PCI_REGION_READ);
		cli_json_kv_bool(&j, "write", r.flags & DK_PCI_REGION_WRITE);
		cli_json_kv_bool(&j, "mmap", r.flags & DK_PCI_REGION_MMAP);
		cli_json_kv_bool(&j, "sparse", r.flags & DK_PCI_REGION_SPARSE);
		cli_json_kv_bool(&j, "msix_mappable", r.flags & DK_PCI_REGION_MSIX_MAPPABLE);
		if (r.flags & DK_PCI_REGION_TYPED) {
			cli_json_kv_uint(&j, "type", r.type);
			cli_json_kv_uint(&j, "subtype", r.subtype);
		}
		cli_json_kv_str(&j, "mapped", mode_name(r.mode));
		cli_json_key(&j, "areas");
		cli_json_arr_begin(&j);
		for (uint32_t k = 0; k < r.nr_areas; k++) {
			cli_json_obj_begin(&j);
			cli_json_kv_uint(&j, "offset", r.areas[k].offset);
			cli_json_kv_uint(&j, "size", r.areas[k].len);
			cli_json_kv_bool(&j, "mapped", r.areas[k].addr != NULL);
			cli_json_obj_end(&j);
		}
		cli_json_arr_end(&j);
		cli_json_obj_end(&j);
	}
	cli_json_arr_end(&j);
	struct dk_vfio_device *v = dk_pci_vfio_device(dev);
	struct dk_vfio_device_info di = {0};
	dk_vfio_device_info(v, &di);
	cli_json_key(&j, "irqs");
	cli_json_arr_begin(&j);
	for (uint32_t i = 0; i < di.num_irqs; i++) {
		struct dk_vfio_irq_info ii;
		if (dk_vfio_irq_info(v, i, &ii) < 0)
			continue;
		cli_json_obj_begin(&j);
		cli_json_kv_int(&j, "index", i);
		cli_json_kv_str(&j, "name", irq_name(i));
		cli_json_kv_uint(&j, "count", ii.count);
		cli_json_kv_bool(&j, "maskable", ii.flags & DK_VFIO_IRQ_MASKABLE);
		cli_json_kv_bool(&j, "automasked", ii.flags & DK_VFIO_IRQ_AUTOMASKED);
		cli_json_obj_end(&j);
	}
	cli_json_arr_end(&j);
	cli_json_kv_bool(&j, "reset", di.flags & DK_VFIO_DEVICE_RESET);
	cli_json_obj_end(&j);
	return cli_json_done(&j);
}

int cli_cmd_regions(const struct cli_command *cmd, int argc, char **argv)
{
	const char *pos[1];
	bool json;
	int n = cli_parse_args(cmd, argc, argv, &json, pos, 1);
	if (n == CLI_ARGS_HELP)
		return CLI_EXIT_OK;
	if (n < 0)
		return CLI_EXIT_USAGE;
	if (n == 0)
		return cli_usage_error(cmd, "regions: which device? give its address, e.g. 0000:03:00.0");
	char addr[DK_PCI_ADDR_STR_LEN];
	if (cli_parse_addr(cmd, pos[0], addr, sizeof(addr)) < 0)
		return CLI_EXIT_USAGE;
	int rc = cli_open(DK_INIT_NO_PROBE);
	if (rc != CLI_EXIT_OK)
		return rc;
	struct dk_pci_device *dev = dk_pci_find(addr);
	if (!dev) {
		cli_err("no PCI device %s (see `dmakit devices`)", addr);
		return CLI_EXIT_ERROR;
	}
	rc = dk_pci_vfio_open(dev);
	if (rc < 0) {
		if (rc == -ENODEV && strncmp(dev->kernel_driver, "vfio", 4) != 0)
			cli_err("cannot open %s through VFIO: it is bound to %s; run `dmakit bind %s` first",
				addr, dev->kernel_driver[0] ? dev->kernel_driver : "no driver", addr);
		else
			cli_err("cannot open %s through VFIO: %s", addr, strerror(-rc));
		return CLI_EXIT_ERROR;
	}
	rc = json ? print_json(dev) : (print_text(dev), CLI_EXIT_OK);
	dk_pci_vfio_close(dev);
	return rc;
}
