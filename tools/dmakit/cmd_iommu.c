/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_iommu.c - `dmakit iommu [--json]`: the type1 IOMMU of the library's
 * default VFIO container: IOVA page sizes, usable IOVA ranges and the DMA
 * mappings still available. The container needs a group, so the command
 * opens the IOMMU group of every device bound to vfio-pci (one per group);
 * groups that cannot be opened are reported and skipped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

#define MAX_GROUPS 256

static void pgsizes_text(uint64_t bm, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	size_t o = 0;
	buf[0] = '\0';
	for (int b = 0; b < 64 && o < len; b++) {
		if (!(bm & (1ull << b)))
			continue;
		o += (size_t)snprintf(buf + o, len - o, "%s%llu %s", o ? ", " : "",
				      1ull << (b % 10), units[b / 10]);
	}
}

int cli_cmd_iommu(const struct cli_command *cmd, int argc, char **argv)
{
	bool json;
	int rc = cli_begin(cmd, argc, argv, &json);
	if (rc != CLI_GO_ON)
		return rc;
	struct dk_vfio_group *groups[MAX_GROUPS];
	int ngroups = 0, nvfio = 0;
	for (unsigned int i = 0; i < dk_pci_count() && ngroups < MAX_GROUPS; i++) {
		const struct dk_pci_device *d = dk_pci_get(i);
		if (!d || strncmp(d->kernel_driver, "vfio", 4) != 0 || d->iommu_group < 0)
			continue;
		nvfio++;
		int dup = 0;
		for (int k = 0; k < ngroups; k++)
			dup |= dk_vfio_group_number(groups[k]) == d->iommu_group;
		if (dup)
			continue;
		struct dk_vfio_group *g = dk_vfio_group_open(NULL, d->iommu_group);
		if (!g) {
			cli_err("skipping IOMMU group %d of %s: %s", d->iommu_group, d->device.name,
				strerror(errno));
			continue;
		}
		groups[ngroups++] = g;
	}
	if (nvfio == 0) {
		cli_err("no device is bound to vfio-pci, so there is no VFIO IOMMU to show: bind one with `dmakit bind ADDR`");
		return CLI_EXIT_ERROR;
	}
	struct dk_vfio_iommu_info info;
	rc = ngroups ? dk_vfio_iommu_info(NULL, &info) : -ENXIO;
	if (rc < 0) {
		cli_err("cannot read the IOMMU information: %s", ngroups ? strerror(-rc)
				: "no IOMMU group of a vfio-pci device could be opened");
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	if (json) {
		struct cli_json j;
		cli_json_init(&j, stdout);
		cli_json_obj_begin(&j);
		cli_json_kv_int(&j, "version", 1);
		cli_json_kv_str(&j, "iommu_type", info.iommu_type == 3 ? "type1v2" : "type1");
		cli_json_key(&j, "groups");
		cli_json_arr_begin(&j);
		for (int k = 0; k < ngroups; k++)
			cli_json_int(&j, dk_vfio_group_number(groups[k]));
		cli_json_arr_end(&j);
		cli_json_kv_uint(&j, "iova_pgsizes", info.iova_pgsizes);
		cli_json_key(&j, "iova_ranges");
		cli_json_arr_begin(&j);
		for (uint32_t i = 0; i < info.nr_ranges; i++) {
			cli_json_obj_begin(&j);
			cli_json_kv_uint(&j, "start", info.ranges[i].start);
			cli_json_kv_uint(&j, "end", info.ranges[i].end);
			cli_json_obj_end(&j);
		}
		cli_json_arr_end(&j);
		if (info.flags & DK_VFIO_IOMMU_DMA_AVAIL)
			cli_json_kv_uint(&j, "dma_avail", info.dma_avail);
		else
			cli_json_kv_null(&j, "dma_avail");
		cli_json_obj_end(&j);
		rc = cli_json_done(&j);
		goto out;
	}
	char pg[256];
	pgsizes_text(info.iova_pgsizes, pg, sizeof(pg));
	printf("IOMMU           %s\n", info.iommu_type == 3 ? "type1v2" : "type1");
	printf("groups         ");
	for (int k = 0; k < ngroups; k++)
		printf(" %d", dk_vfio_group_number(groups[k]));
	printf("\npage sizes      %s\n", pg);
	printf("IOVA ranges%s\n", info.flags & DK_VFIO_IOMMU_IOVA_RANGES ? "" : " (not reported: all)");
	for (uint32_t i = 0; i < info.nr_ranges; i++)
		printf("  0x%016" PRIx64 "-0x%016" PRIx64 "\n", info.ranges[i].start,
		       info.ranges[i].end);
	if (info.flags & DK_VFIO_IOMMU_DMA_AVAIL)
		printf("DMA mappings    %u available\n", info.dma_avail);
	else
		printf("DMA mappings    not reported\n");
	rc = CLI_EXIT_OK;
out:
	for (int k = 0; k < ngroups; k++)
		dk_vfio_group_close(groups[k]);
	return rc;
}
