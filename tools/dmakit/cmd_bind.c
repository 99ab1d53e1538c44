/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_bind.c - `dmakit bind ADDR [DRIVER]` and `dmakit unbind ADDR`.
 *
 * Both go through dk_pci_bind() / dk_pci_unbind() (driver_override,
 * unbind, drivers_probe). The library logs what went wrong and how to fix
 * it; this file adds one "dmakit: cannot ..." line with the errno text.
 *
 * After a successful bind to a vfio driver the IOMMU group is checked with
 * dk_pci_group_blockers(): every member that keeps the group from being
 * usable by VFIO is named with the command that fixes it. The bind itself
 * succeeded, so this is reported on stderr without changing the exit code.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

#define DEFAULT_DRIVER "vfio-pci"

struct blocker_ctx {
	int group;
	const char *driver; /* the vfio driver just bound; suggested for the blocker */
};

static void report_blocker(const char *member, const char *driver, void *arg)
{
	const struct blocker_ctx *ctx = arg;
	char member_addr[DK_PCI_ADDR_STR_LEN];
	struct dk_pci_addr a;
	/* Normalize for the suggested command (the group lists long names already). */
	if (dk_pci_addr_parse(member, &a) == 0)
		dk_pci_addr_format(&a, member_addr, sizeof(member_addr));
	else
		snprintf(member_addr, sizeof(member_addr), "%s", member);
	if (strcmp(ctx->driver, DEFAULT_DRIVER) == 0)
		cli_err("group %d is not viable: %s is bound to %s; run `dmakit bind %s`",
			ctx->group, member_addr, driver, member_addr);
	else
		cli_err("group %d is not viable: %s is bound to %s; run `dmakit bind %s %s`",
			ctx->group, member_addr, driver, member_addr, ctx->driver);
}

/* After binding addr to a vfio driver: is its IOMMU group usable? */
static void check_group(const char *addr, const char *driver)
{
	const struct dk_pci_device *dev = dk_pci_find(addr);
	if (!dev)
		return; /* bound, but not in the scan: nothing known about its group */
	if (dev->iommu_group < 0) {
		cli_err("note: %s has no IOMMU group: VFIO needs the IOMMU (boot with "
			"intel_iommu=on or amd_iommu=on) or no-IOMMU mode",
			addr);
		return;
	}
	struct blocker_ctx ctx = {.group = dev->iommu_group, .driver = driver};
	int rc = dk_pci_group_blockers(addr, report_blocker, &ctx);
	if (rc < 0)
		cli_err("cannot check IOMMU group %d of %s: %s", dev->iommu_group, addr,
			strerror(-rc));
}

int cli_cmd_bind(const struct cli_command *cmd, int argc, char **argv)
{
	const char *pos[2];
	int n = cli_parse_args(cmd, argc, argv, NULL, pos, 2);
	if (n == CLI_ARGS_HELP)
		return CLI_EXIT_OK;
	if (n < 0)
		return CLI_EXIT_USAGE;
	if (n == 0)
		return cli_usage_error(cmd,
				       "bind: which device? give its address, e.g. 0000:03:00.0");
	char addr[DK_PCI_ADDR_STR_LEN];
	if (cli_parse_addr(cmd, pos[0], addr, sizeof(addr)) < 0)
		return CLI_EXIT_USAGE;
	const char *driver = n > 1 ? pos[1] : DEFAULT_DRIVER;

	/* Scan too (no probe): the IOMMU group is needed after the bind. */
	int rc = cli_open(DK_INIT_NO_PROBE);
	if (rc != CLI_EXIT_OK)
		return rc;
	rc = dk_pci_bind(addr, driver);
	if (rc < 0) {
		cli_err("cannot bind %s to %s: %s", addr, driver, strerror(-rc));
		/* -EINVAL: the address was checked already, so the driver name is bad. */
		return rc == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_ERROR;
	}
	printf("%s: bound to %s\n", addr, driver);
	if (strncmp(driver, "vfio", 4) == 0)
		check_group(addr, driver);
	return CLI_EXIT_OK;
}

int cli_cmd_unbind(const struct cli_command *cmd, int argc, char **argv)
{
	const char *pos[1];
	int n = cli_parse_args(cmd, argc, argv, NULL, pos, 1);
	if (n == CLI_ARGS_HELP)
		return CLI_EXIT_OK;
	if (n < 0)
		return CLI_EXIT_USAGE;
	if (n == 0)
		return cli_usage_error(cmd,
				       "unbind: which device? give its address, e.g. 0000:03:00.0");
	char addr[DK_PCI_ADDR_STR_LEN];
	if (cli_parse_addr(cmd, pos[0], addr, sizeof(addr)) < 0)
		return CLI_EXIT_USAGE;

	/* Scan (no probe) to say which driver the device left. */
	int rc = cli_open(DK_INIT_NO_PROBE);
	if (rc != CLI_EXIT_OK)
		return rc;
	const struct dk_pci_device *dev = dk_pci_find(addr);
	char was[sizeof(dev->kernel_driver)] = "";
	if (dev)
		snprintf(was, sizeof(was), "%s", dev->kernel_driver);
	rc = dk_pci_unbind(addr);
	if (rc < 0) {
		cli_err("cannot unbind %s: %s", addr, strerror(-rc));
		return CLI_EXIT_ERROR;
	}
	if (was[0])
		printf("%s: unbound from %s\n", addr, was);
	else
		printf("%s: not bound to a driver; driver_override cleared\n", addr);
	return CLI_EXIT_OK;
}
