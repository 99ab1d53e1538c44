/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_iommu.c - `dmakit iommu [--json]`: the VFIO backend in use (and why),
 * and its IOMMU: IOVA page sizes, usable IOVA ranges and, for a container,
 * the DMA mappings still available. A container or an IOAS has an IOMMU
 * only with a member, so the command opens every device bound to vfio-pci
 * the way the library would: its IOMMU group in the default container
 * (backend container, each group once), or the device itself in the
 * default IOAS (backend iommufd). Devices that cannot be opened are
 * reported and skipped; when devices use both backends, both are shown.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

#define MAX_MEMBERS 256

/* What one backend holds open. */
struct side {
	int backend;
	char why[256];
	struct dk_vfio_container *c;
	struct dk_vfio_group *groups[MAX_MEMBERS];
	struct dk_vfio_device *devs[MAX_MEMBERS];
	int n;
	struct dk_vfio_iommu_info info;
	int rc;
};

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

static const char *type_name(uint32_t t)
{
	return t == DK_VFIO_IOMMU_IOAS ? "iommufd" : t == 3 ? "type1v2" : "type1";
}

/* Open d in side s (its group, or the device). */
static void side_add(struct side *s, const struct dk_pci_device *d)
{
	if (s->n >= MAX_MEMBERS)
		return;
	if (s->backend == DK_VFIO_BACKEND_IOMMUFD) {
		struct dk_vfio_device *vd = dk_vfio_device_open(NULL, d->iommu_group, d->device.name);
		if (!vd) {
			cli_err("skipping %s (iommufd): %s", d->device.name, strerror(errno));
			return;
		}
		s->c = dk_vfio_device_container(vd);
		s->devs[s->n++] = vd;
		return;
	}
	for (int k = 0; k < s->n; k++)
		if (dk_vfio_group_number(s->groups[k]) == d->iommu_group)
			return;
	struct dk_vfio_group *g = dk_vfio_group_open(NULL, d->iommu_group);
	if (!g) {
		cli_err("skipping IOMMU group %d of %s: %s", d->iommu_group, d->device.name,
			strerror(errno));
		return;
	}
	s->c = dk_vfio_container_default();
	s->groups[s->n++] = g;
}

static void side_close(struct side *s)
{
	for (int k = 0; k < s->n; k++) {
		if (s->backend == DK_VFIO_BACKEND_IOMMUFD)
			dk_vfio_device_close(s->devs[k]);
		else
			dk_vfio_group_close(s->groups[k]);
	}
}

static void side_json(struct cli_json *j, const struct side *s)
{
	cli_json_kv_str(j, "backend", dk_vfio_backend_name(s->backend));
	cli_json_kv_str(j, "backend_reason", s->why);
	cli_json_kv_str(j, "iommu_type", type_name(s->info.iommu_type));
	cli_json_key(j, s->backend == DK_VFIO_BACKEND_IOMMUFD ? "devices" : "groups");
	cli_json_arr_begin(j);
	for (int k = 0; k < s->n; k++) {
		if (s->backend == DK_VFIO_BACKEND_IOMMUFD)
			cli_json_str(j, dk_vfio_device_name(s->devs[k]));
		else
			cli_json_int(j, dk_vfio_group_number(s->groups[k]));
	}
	cli_json_arr_end(j);
	cli_json_kv_uint(j, "iova_pgsizes", s->info.iova_pgsizes);
	cli_json_key(j, "iova_ranges");
	cli_json_arr_begin(j);
	for (uint32_t i = 0; i < s->info.nr_ranges; i++) {
		cli_json_obj_begin(j);
		cli_json_kv_uint(j, "start", s->info.ranges[i].start);
		cli_json_kv_uint(j, "end", s->info.ranges[i].end);
		cli_json_obj_end(j);
	}
	cli_json_arr_end(j);
	if (s->info.flags & DK_VFIO_IOMMU_DMA_AVAIL)
		cli_json_kv_uint(j, "dma_avail", s->info.dma_avail);
	else
		cli_json_kv_null(j, "dma_avail");
}

static void side_text(const struct side *s)
{
	char pg[256];
	pgsizes_text(s->info.iova_pgsizes, pg, sizeof(pg));
	printf("backend         %s (%s)\n", dk_vfio_backend_name(s->backend), s->why);
	printf("IOMMU           %s\n", type_name(s->info.iommu_type));
	printf(s->backend == DK_VFIO_BACKEND_IOMMUFD ? "devices        " : "groups         ");
	for (int k = 0; k < s->n; k++) {
		if (s->backend == DK_VFIO_BACKEND_IOMMUFD)
			printf(" %s", dk_vfio_device_name(s->devs[k]));
		else
			printf(" %d", dk_vfio_group_number(s->groups[k]));
	}
	printf("\npage sizes      %s%s\n", pg,
	       s->backend == DK_VFIO_BACKEND_IOMMUFD ? " (the IOAS's IOVA alignment)" : "");
	printf("IOVA ranges%s\n", s->info.flags & DK_VFIO_IOMMU_IOVA_RANGES ? "" : " (not reported: all)");
	for (uint32_t i = 0; i < s->info.nr_ranges; i++)
		printf("  0x%016" PRIx64 "-0x%016" PRIx64 "\n", s->info.ranges[i].start,
		       s->info.ranges[i].end);
	if (s->info.flags & DK_VFIO_IOMMU_DMA_AVAIL)
		printf("DMA mappings    %u available\n", s->info.dma_avail);
	else
		printf("DMA mappings    not reported%s\n",
		       s->backend == DK_VFIO_BACKEND_IOMMUFD ? " (iommufd has no such limit)" : "");
}

/* Sort the vfio-pci devices into the two sides; the number of such devices,
 * or -1 when the backend choice itself fails for one. */
static int collect(struct side sides[2])
{
	int nvfio = 0;
	for (unsigned int i = 0; i < dk_pci_count(); i++) {
		const struct dk_pci_device *d = dk_pci_get(i);
		if (!d || strncmp(d->kernel_driver, "vfio", 4) != 0 || d->iommu_group < 0)
			continue;
		nvfio++;
		char why[256];
		int b = dk_vfio_backend_select(d->device.name, why, sizeof(why));
		if (b < 0) {
			cli_err("%s: no VFIO backend: %s", d->device.name, why);
			return -1;
		}
		struct side *s = &sides[b == DK_VFIO_BACKEND_IOMMUFD];
		if (!s->why[0])
			snprintf(s->why, sizeof(s->why), "%s", why);
		side_add(s, d);
	}
	return nvfio;
}

int cli_cmd_iommu(const struct cli_command *cmd, int argc, char **argv)
{
	bool json;
	int rc = cli_begin(cmd, argc, argv, &json);
	if (rc != CLI_GO_ON)
		return rc;
	static struct side sides[2];
	memset(sides, 0, sizeof(sides));
	sides[0].backend = DK_VFIO_BACKEND_CONTAINER;
	sides[1].backend = DK_VFIO_BACKEND_IOMMUFD;
	int nvfio = collect(sides);
	if (nvfio == 0) {
		cli_err("no device is bound to vfio-pci, so there is no VFIO IOMMU to show: bind one with `dmakit bind ADDR`");
		return CLI_EXIT_ERROR;
	}
	rc = CLI_EXIT_ERROR;
	if (nvfio < 0)
		goto out;
	struct side *shown[2];
	int nshown = 0;
	for (int k = 1; k >= 0; k--) { /* iommufd first */
		struct side *s = &sides[k];
		if (!s->n)
			continue;
		s->rc = dk_vfio_iommu_info(s->c, &s->info);
		if (s->rc < 0) {
			cli_err("cannot read the IOMMU information (%s): %s",
				dk_vfio_backend_name(s->backend), strerror(-s->rc));
			goto out;
		}
		shown[nshown++] = s;
	}
	if (!nshown) {
		cli_err("cannot read the IOMMU information: no vfio-pci device (or its IOMMU group) could be opened");
		goto out;
	}
	if (json) {
		struct cli_json j;
		cli_json_init(&j, stdout);
		cli_json_obj_begin(&j);
		cli_json_kv_int(&j, "version", 1);
		side_json(&j, shown[0]);
		cli_json_key(&j, "backends");
		cli_json_arr_begin(&j);
		for (int k = 0; k < nshown; k++) {
			cli_json_obj_begin(&j);
			side_json(&j, shown[k]);
			cli_json_obj_end(&j);
		}
		cli_json_arr_end(&j);
		cli_json_obj_end(&j);
		rc = cli_json_done(&j);
		goto out;
	}
	for (int k = 0; k < nshown; k++) {
		if (k)
			printf("\n");
		side_text(shown[k]);
	}
	rc = CLI_EXIT_OK;
out:
	side_close(&sides[0]);
	side_close(&sides[1]);
	return rc;
}
