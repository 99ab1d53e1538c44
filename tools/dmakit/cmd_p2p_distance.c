/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_p2p_distance.c - `dmakit p2p distance PROVIDER CLIENT... [--json]`:
 * for each client the distance to the provider's memory, the map type and,
 * when not bus_addr, the reason and its fix (dk_p2p_path). docs/cli.md has
 * the output and the JSON schema.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmakit/p2p.h>

#include "commands.h"

/* One client's result. */
struct dist_row {
	const struct dk_pci_device *client;
	struct dk_p2p_path path;
	int distance; /* dk_p2p_distance: -1 when not_supported */
	unsigned int unread;
	char unread_list[DK_P2P_ACS_LIST_LEN];
};

static bool has_mem_bar(const struct dk_pci_device *d)
{
	for (int i = 0; i < DK_PCI_NUM_BARS; i++)
		if ((d->bars[i].flags & DK_PCI_BAR_MEM) && d->bars[i].len)
			return true;
	return false;
}

/* NULL after saying why name cannot be used (as the provider when provider). */
static const struct dk_pci_device *find_dev(const char *name, bool provider)
{
	const struct dk_pci_device *d = dk_pci_find(name);
	if (!d) {
		cli_err("no PCI device %s (see `dmakit devices`)", name);
		return NULL;
	}
	if (d->kind != DK_PCI_KIND_FUNCTION) {
		cli_err("%s is a mediated device, not in the PCI topology: give its parent PCI function",
			name);
		return NULL;
	}
	if (!provider)
		return d;
	if (dk_pci_is_bridge(d)) {
		cli_err("provider %s is a bridge: its memory windows belong to the devices below it; "
			"give an endpoint function with a memory BAR", name);
		return NULL;
	}
	if (!has_mem_bar(d)) {
		cli_err("provider %s has no memory BAR to lend (the kernel's p2pdma takes memory BARs "
			"only): give a function with one (see `dmakit show %s`)", name, name);
		return NULL;
	}
	return d;
}

/* A ';'-separated list as a JSON array of strings. */
static void json_list(struct cli_json *j, const char *key, const char *list)
{
	cli_json_key(j, key);
	cli_json_arr_begin(j);
	for (const char *p = list; *p;) {
		const char *semi = strchr(p, ';');
		size_t n = semi ? (size_t)(semi - p) : strlen(p);
		char name[64];
		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		cli_json_str(j, name);
		p += n + (semi ? 1 : 0);
	}
	cli_json_arr_end(j);
}

static int print_json(const struct dk_pci_device *prov, const struct dist_row *rows, int n)
{
	struct cli_json j;
	cli_json_init(&j, stdout);
	cli_json_arr_begin(&j);
	for (int i = 0; i < n; i++) {
		const struct dist_row *r = &rows[i];
		bool bus = r->path.map_type == DK_P2P_MAP_BUS_ADDR;
		cli_json_obj_begin(&j);
		cli_json_kv_str(&j, "client", r->client->device.name);
		cli_json_kv_str(&j, "provider", prov->device.name);
		cli_json_kv_int(&j, "distance", r->distance);
		cli_json_kv_int(&j, "hops", r->path.distance);
		cli_json_kv_str(&j, "map_type", dk_p2p_map_type_name(r->path.map_type));
		cli_json_kv_str(&j, "reason", bus ? NULL : r->path.reason_text);
		json_list(&j, "acs_redirect", r->path.acs_list);
		if (r->path.reason == DK_P2P_REASON_ACS_REDIRECT) {
			char fix[DK_P2P_ACS_LIST_LEN + 32];
			snprintf(fix, sizeof(fix), "pci=disable_acs_redir=%s", r->path.acs_list);
			cli_json_kv_str(&j, "fix", fix);
		} else {
			cli_json_kv_null(&j, "fix");
		}
		json_list(&j, "acs_unread", r->unread_list);
		cli_json_obj_end(&j);
	}
	cli_json_arr_end(&j);
	return cli_json_done(&j);
}

static void print_text(const struct dk_pci_device *prov, const struct dist_row *rows, int n)
{
	printf("provider %s\n", prov->device.name);
	printf("%-14s %-9s %s\n", "CLIENT", "DISTANCE", "MAP TYPE");
	for (int i = 0; i < n; i++) {
		const struct dist_row *r = &rows[i];
		printf("%-14s %-9d %s\n", r->client->device.name, r->distance,
		       dk_p2p_map_type_name(r->path.map_type));
		if (r->path.map_type != DK_P2P_MAP_BUS_ADDR)
			printf("  reason: %s\n", r->path.reason_text);
		else if (r->unread)
			printf("  note: the ACS redirect bits of %s could not be read (config space "
			       "cut short: non-root reads see 64 bytes); the kernel may not answer "
			       "bus_addr: run as root for the real answer\n",
			       r->unread_list);
	}
}

/* Compute every row; CLI_EXIT_OK or CLI_EXIT_ERROR after a message. */
static int compute(const struct dk_pci_device *prov, struct dist_row *rows, int n)
{
	for (int i = 0; i < n; i++) {
		struct dist_row *r = &rows[i];
		int rc = dk_p2p_path(prov, r->client, &r->path);
		if (rc < 0) {
			cli_err("cannot compute the path from %s to %s: %s", r->client->device.name,
				prov->device.name, strerror(-rc));
			return CLI_EXIT_ERROR;
		}
		r->distance = r->path.map_type == DK_P2P_MAP_NOT_SUPPORTED ? -1 : r->path.distance;
		r->unread = cli_p2p_acs_unread(prov, r->client, r->unread_list,
					       sizeof(r->unread_list));
	}
	return CLI_EXIT_OK;
}

/* Parse the addresses into names (DK_PCI_ADDR_STR_LEN each); 0 or -1 after a usage error. */
static int parse_names(const struct cli_command *cmd, const char **pos, int n, char (*names)[64])
{
	for (int i = 0; i < n; i++)
		if (cli_parse_addr(cmd, pos[i], names[i], sizeof(names[i])) < 0)
			return -1;
	return 0;
}

/* Look every device up (reporting each that is wrong); CLI_EXIT_OK or CLI_EXIT_ERROR. */
static int lookup(char (*names)[64], int n, const struct dk_pci_device **prov,
		  struct dist_row *rows)
{
	int rc = CLI_EXIT_OK;
	*prov = find_dev(names[0], true);
	if (!*prov)
		rc = CLI_EXIT_ERROR;
	for (int i = 1; i < n; i++) {
		rows[i - 1].client = find_dev(names[i], false);
		if (!rows[i - 1].client)
			rc = CLI_EXIT_ERROR;
	}
	return rc;
}

int cli_p2p_distance(const struct cli_command *cmd, int argc, char **argv)
{
	bool json;
	const char **pos = calloc((size_t)argc + 1, sizeof(*pos));
	char(*names)[64] = calloc((size_t)argc + 1, sizeof(*names));
	struct dist_row *rows = calloc((size_t)argc + 1, sizeof(*rows));
	int rc = CLI_EXIT_ERROR;
	if (!pos || !names || !rows) {
		cli_err("out of memory");
		goto free_all;
	}
	int n = cli_parse_args(cmd, argc, argv, &json, pos, argc);
	rc = n == CLI_ARGS_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (n < 0)
		goto free_all;
	if (n < 2) {
		rc = cli_usage_error(cmd, "p2p distance: give the provider and at least one client: "
					  "p2p distance PROVIDER CLIENT...");
		goto free_all;
	}
	if (parse_names(cmd, pos, n, names) < 0)
		goto free_all;
	rc = cli_open(DK_INIT_NO_PROBE);
	if (rc != CLI_EXIT_OK)
		goto free_all;
	const struct dk_pci_device *prov;
	rc = lookup(names, n, &prov, rows);
	if (rc == CLI_EXIT_OK)
		rc = compute(prov, rows, n - 1);
	if (rc != CLI_EXIT_OK)
		goto free_all;
	if (json) {
		rc = print_json(prov, rows, n - 1);
	} else {
		print_text(prov, rows, n - 1);
		rc = CLI_EXIT_OK;
	}
free_all:
	free(rows);
	free(names);
	free(pos);
	return rc;
}
