/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_p2p_list.c - `dmakit p2p [list] [--json]`: peer-to-peer memory
 * providers (the default subcommand of `p2p`, see cmd_p2p.c).
 *
 * A process's own providers (dk_p2p_add_resource) live in that process, so
 * another process cannot see them. This command lists what any process
 * can see, from sysfs:
 *   kernel     p2pmem the kernel publishes (bus/pci/devices/<dev>/p2pmem/):
 *              size, available, published as the kernel reports them;
 *   candidate  functions that could provide: not a bridge, with a
 *              prefetchable memory BAR of a page or more (size = those
 *              BARs; whether the device lends that memory is up to its
 *              driver).
 * --json prints {"version": 1, "providers": [...]}, each provider an object
 * {"device", "kind", "size", "available", "published", "bars"}; available
 * and published are null for candidates (docs/cli.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

#define KINDS (DK_P2P_KIND_KERNEL | DK_P2P_KIND_CANDIDATE)

static const char *kind_name(unsigned int kind)
{
	return kind == DK_P2P_KIND_KERNEL ? "kernel"
	       : kind == DK_P2P_KIND_DMAKIT ? "dmakit"
					    : "candidate";
}

static const char *human(uint64_t v, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	unsigned int u = 0;
	while (u + 1 < DK_ARRAY_SIZE(units) && v >= 1024 && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 " %s", v, units[u]);
	return buf;
}

static void bars_text(uint32_t bars, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (unsigned int b = 0; b < DK_PCI_NUM_BARS; b++)
		if (bars & (1u << b))
			o += (size_t)snprintf(buf + o, len - o, "%s%u", o ? "," : "", b);
	if (!o)
		snprintf(buf, len, "-");
}

static void list_text(const struct dk_p2p_info *info, int n)
{
	printf("%-10s %-13s %12s %12s %-9s %s\n", "KIND", "DEVICE", "SIZE", "AVAILABLE",
	       "PUBLISHED", "BARS");
	for (int i = 0; i < n; i++) {
		const struct dk_p2p_info *p = &info[i];
		char size[32], avail[32], bars[32];
		bool cand = p->kind == DK_P2P_KIND_CANDIDATE;
		bars_text(p->bars, bars, sizeof(bars));
		printf("%-10s %-13s %12s %12s %-9s %s\n", kind_name(p->kind), p->dev->device.name,
		       human(p->stats.size, size, sizeof(size)),
		       cand ? "-" : human(p->stats.available, avail, sizeof(avail)),
		       cand ? "-" : p->stats.published ? "yes" : "no", bars);
	}
	if (n == 0)
		printf("(none: no kernel p2pmem and no function with a prefetchable memory BAR)\n");
}

static int list_json(const struct dk_p2p_info *info, int n)
{
	struct cli_json j;
	cli_json_init(&j, stdout);
	cli_json_obj_begin(&j);
	cli_json_kv_int(&j, "version", 1);
	cli_json_key(&j, "providers");
	cli_json_arr_begin(&j);
	for (int i = 0; i < n; i++) {
		const struct dk_p2p_info *p = &info[i];
		bool cand = p->kind == DK_P2P_KIND_CANDIDATE;
		cli_json_obj_begin(&j);
		cli_json_kv_str(&j, "device", p->dev->device.name);
		cli_json_kv_str(&j, "kind", kind_name(p->kind));
		cli_json_kv_uint(&j, "size", p->stats.size);
		if (cand) {
			cli_json_kv_null(&j, "available");
			cli_json_kv_null(&j, "published");
		} else {
			cli_json_kv_uint(&j, "available", p->stats.available);
			cli_json_kv_bool(&j, "published", p->stats.published);
		}
		cli_json_key(&j, "bars");
		cli_json_arr_begin(&j);
		for (unsigned int b = 0; b < DK_PCI_NUM_BARS; b++)
			if (p->bars & (1u << b))
				cli_json_uint(&j, b);
		cli_json_arr_end(&j);
		cli_json_obj_end(&j);
	}
	cli_json_arr_end(&j);
	cli_json_obj_end(&j);
	return cli_json_done(&j);
}

int cli_p2p_list(const struct cli_command *cmd, int argc, char **argv)
{
	bool json = false;
	int rc = cli_begin(cmd, argc, argv, &json);
	if (rc != CLI_GO_ON)
		return rc;
	int n = dk_p2p_list(KINDS, NULL, 0);
	if (n < 0) {
		cli_err("cannot list P2P providers: %s", strerror(-n));
		return CLI_EXIT_ERROR;
	}
	struct dk_p2p_info *info = calloc((size_t)n + 1, sizeof(*info));
	if (!info) {
		cli_err("out of memory");
		return CLI_EXIT_ERROR;
	}
	n = dk_p2p_list(KINDS, info, (unsigned int)n);
	if (json) {
		rc = list_json(info, n);
	} else {
		list_text(info, n);
		rc = CLI_EXIT_OK;
	}
	free(info);
	return rc;
}
