/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_devices.c - `dmakit devices [-n] [--json]`: every PCI function the
 * library scanned, one per line (or one JSON object each), in address order;
 * with the PCI ID database and without -n, names as lspci prints them; then
 * the mdev instances (cmd_mdev.c: a second table, or the "mdevs" member).
 *
 * The per-device JSON members (cli_json_device_fields) are shared with
 * `dmakit show --json`, so both commands describe a device the same way.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

const char *cli_kind_name(const struct dk_pci_device *dev)
{
	return dev->kind == DK_PCI_KIND_MDEV ? "mdev" : "function";
}

void cli_json_device_fields(struct cli_json *j, const struct dk_pci_device *dev)
{
	cli_json_kv_str(j, "address", dev->device.name);
	cli_json_kv_str(j, "kind", cli_kind_name(dev));
	cli_json_kv_hex(j, "vendor", dev->id.vendor_id, 4);
	cli_json_kv_hex(j, "device", dev->id.device_id, 4);
	cli_json_kv_hex(j, "subsystem_vendor", dev->id.subsystem_vendor_id, 4);
	cli_json_kv_hex(j, "subsystem_device", dev->id.subsystem_device_id, 4);
	cli_json_kv_hex(j, "class", dev->id.class_id, 6);
	cli_json_kv_hex(j, "revision", dev->revision, 2);
	cli_json_kv_str(j, "driver", dev->kernel_driver[0] ? dev->kernel_driver : NULL);
	if (dev->iommu_group >= 0)
		cli_json_kv_int(j, "iommu_group", dev->iommu_group);
	else
		cli_json_kv_null(j, "iommu_group");
	cli_json_kv_int(j, "numa_node", dev->device.numa_node);
	cli_json_kv_str(j, "upstream", dev->upstream ? dev->upstream->device.name : NULL);
	cli_json_kv_str(j, "host_bridge", dev->host_bridge[0] ? dev->host_bridge : NULL);
	cli_json_kv_str(j, "physfn", dev->physfn ? dev->physfn->device.name : NULL);
	cli_json_name_fields(j, dev, true);
}

static int print_json(void)
{
	struct cli_json j;
	cli_json_init(&j, stdout);
	cli_json_obj_begin(&j);
	cli_json_kv_int(&j, "version", 1);
	cli_json_key(&j, "devices");
	cli_json_arr_begin(&j);
	for (unsigned int i = 0; i < dk_pci_count(); i++) {
		const struct dk_pci_device *dev = dk_pci_get(i);
		if (!dev)
			continue;
		cli_json_obj_begin(&j);
		cli_json_device_fields(&j, dev);
		cli_json_obj_end(&j);
	}
	cli_json_arr_end(&j);
	cli_devices_mdevs_json(&j);
	cli_json_obj_end(&j);
	return cli_json_done(&j);
}

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

static int print_table(void)
{
	/* Column widths: at least the header, else the longest value. */
	int w_addr = (int)strlen("ADDRESS"), w_drv = (int)strlen("DRIVER");
	for (unsigned int i = 0; i < dk_pci_count(); i++) {
		const struct dk_pci_device *dev = dk_pci_get(i);
		if (!dev)
			continue;
		w_addr = max_int(w_addr, (int)strlen(dev->device.name));
		w_drv = max_int(w_drv, (int)strlen(dev->kernel_driver));
	}
	bool names = cli_names_on();
	printf("%-*s  %-9s  %-9s  %-6s  %-3s  %-*s  %-5s  %s\n", w_addr, "ADDRESS", "ID",
	       "SUBSYSTEM", "CLASS", "REV", w_drv, "DRIVER", "GROUP",
	       names ? "NUMA  NAME" : "NUMA");
	for (unsigned int i = 0; i < dk_pci_count(); i++) {
		const struct dk_pci_device *dev = dk_pci_get(i);
		if (!dev)
			continue;
		char group[16] = "-", numa[16] = "-";
		if (dev->iommu_group >= 0)
			snprintf(group, sizeof(group), "%d", dev->iommu_group);
		if (dev->device.numa_node >= 0)
			snprintf(numa, sizeof(numa), "%d", dev->device.numa_node);
		printf("%-*s  %04x:%04x  %04x:%04x  %06x  %02x   %-*s  %-5s  ", w_addr,
		       dev->device.name, dev->id.vendor_id, dev->id.device_id,
		       dev->id.subsystem_vendor_id, dev->id.subsystem_device_id,
		       dev->id.class_id & 0xffffffu, dev->revision, w_drv,
		       dev->kernel_driver[0] ? dev->kernel_driver : "-", group);
		if (names) {
			/* lspci's line: "Class: Vendor Device". */
			char cls[CLI_NAME_LEN], vd[CLI_NAME_LEN];
			printf("%-4s  %s: %s\n", numa, cli_name_class(dev->id.class_id, cls),
			       cli_name_pair(dev->id.vendor_id, dev->id.device_id, vd));
		} else {
			printf("%s\n", numa);
		}
	}
	cli_devices_mdevs_table();
	return CLI_EXIT_OK;
}

int cli_cmd_devices(const struct cli_command *cmd, int argc, char **argv)
{
	bool json;
	int rc = cli_begin(cmd, argc, argv, &json);
	if (rc != CLI_GO_ON)
		return rc;
	return json ? print_json() : print_table();
}
