/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_p2p.c - `dmakit p2p SUBCOMMAND ...`: the dispatcher of the peer-to-peer
 * commands, and the helpers they share with `dmakit topo` (commands.h).
 * Each subcommand lives in a file of its own (cmd_p2p_list.c, the default;
 * cmd_p2p_distance.c).
 */
#include <string.h>

#include "commands.h"

int cli_cmd_p2p(const struct cli_command *cmd, int argc, char **argv)
{
	/* no subcommand: list (the issue's `dmakit p2p`: providers and their stats) */
	if (argc < 2)
		return cli_p2p_list(cmd, argc, argv);
	const char *sub = argv[1];
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0)
		return cli_parse_args(cmd, argc, argv, NULL, NULL, 0) == CLI_ARGS_HELP
			   ? CLI_EXIT_OK
			   : CLI_EXIT_USAGE;
	if (sub[0] == '-') /* options only: list's (--json) */
		return cli_p2p_list(cmd, argc, argv);
	if (strcmp(sub, "list") == 0)
		return cli_p2p_list(cmd, argc - 1, argv + 1);
	if (strcmp(sub, "distance") == 0)
		return cli_p2p_distance(cmd, argc - 1, argv + 1);
	return cli_usage_error(cmd, "p2p: unknown subcommand \"%s\"", sub);
}

/* The next element of a function's upstream chain (a VF goes on from its PF's
 * upstream bridge, as the distance rules do). */
static const struct dk_pci_device *chain_next(const struct dk_pci_device *d)
{
	if (d->upstream)
		return d->upstream;
	return d->physfn ? d->physfn->upstream : NULL;
}

static bool in_chain(const struct dk_pci_device *start, const struct dk_pci_device *d)
{
	for (const struct dk_pci_device *e = start; e; e = chain_next(e))
		if (e == d)
			return true;
	return false;
}

unsigned int cli_p2p_acs_unread(const struct dk_pci_device *provider,
				const struct dk_pci_device *client, char *buf, size_t len)
{
	const struct dk_pci_device *ends[2] = {provider, client};
	unsigned int count = 0;
	size_t o = 0;
	if (len)
		buf[0] = '\0';
	for (int side = 0; side < 2; side++) {
		for (const struct dk_pci_device *d = ends[side]; d; d = chain_next(d)) {
			if (!(d->caps.flags & DK_PCI_CAPS_TRUNCATED) ||
			    (side == 1 && in_chain(provider, d)))
				continue;
			count++;
			size_t need = strlen(d->device.name) + (o ? 1 : 0);
			if (o + need < len)
				o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ";" : "",
						      d->device.name);
		}
	}
	return count;
}

bool cli_p2p_is_endpoint(const struct dk_pci_device *d)
{
	return d->kind == DK_PCI_KIND_FUNCTION && !dk_pci_is_bridge(d) &&
	       (d->id.class_id >> 16) != 0x06;
}
