/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_topo.c - `dmakit topo [--json]`: the peer-to-peer matrix of every PCI
 * endpoint (functions that are not bridges, cli_p2p_is_endpoint): map type
 * and distance of each provider (row) -> client (column) pair, from
 * dk_p2p_path, with a legend. Columns are endpoint indexes, names are listed
 * on the left, so the matrix stays readable with many endpoints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmakit/p2p.h>

#include "commands.h"

struct cell {
	struct dk_p2p_path path;
	bool unread; /* bus_addr, but ACS bits on a chain could not be read */
};

/* The endpoints of the scan into list (dk_pci_count() entries); their count. */
static unsigned int endpoints(const struct dk_pci_device **list)
{
	unsigned int n = 0;
	for (unsigned int i = 0; i < dk_pci_count(); i++) {
		const struct dk_pci_device *d = dk_pci_get(i);
		if (d && cli_p2p_is_endpoint(d))
			list[n++] = d;
	}
	return n;
}

/* Fill the n x n matrix; 0, or a negative errno after a message. */
static int compute(const struct dk_pci_device **eps, unsigned int n, struct cell *m)
{
	char unread[8];
	for (unsigned int r = 0; r < n; r++) {
		for (unsigned int c = 0; c < n; c++) {
			struct cell *x = &m[r * n + c];
			int rc = dk_p2p_path(eps[r], eps[c], &x->path);
			if (rc < 0) {
				cli_err("cannot compute the path from %s to %s: %s",
					eps[c]->device.name, eps[r]->device.name, strerror(-rc));
				return rc;
			}
			x->unread = x->path.map_type == DK_P2P_MAP_BUS_ADDR && r != c &&
				    cli_p2p_acs_unread(eps[r], eps[c], unread, sizeof(unread)) > 0;
		}
	}
	return 0;
}

/* The short text of a cell: "SELF", "BUS 4", "HB 6*", "X*", "BUS 4?". */
static void cell_text(const struct cell *x, bool self, char *buf, size_t len)
{
	const char *mark = x->path.reason == DK_P2P_REASON_ACS_REDIRECT ? "*"
			   : x->unread					 ? "?"
									 : "";
	if (self)
		snprintf(buf, len, "SELF");
	else if (x->path.map_type == DK_P2P_MAP_BUS_ADDR)
		snprintf(buf, len, "BUS %d%s", x->path.distance, mark);
	else if (x->path.map_type == DK_P2P_MAP_THRU_HOST_BRIDGE)
		snprintf(buf, len, "HB %d%s", x->path.distance, mark);
	else
		snprintf(buf, len, "X%s", mark);
}

static void print_text(const struct dk_pci_device **eps, unsigned int n, const struct cell *m)
{
	bool any_unread = false;
	printf("%-18s", "");
	for (unsigned int c = 0; c < n; c++)
		printf(c + 1 < n ? " %-7u" : " %u", c);
	printf("\n");
	for (unsigned int r = 0; r < n; r++) {
		printf("%3u %-14s", r, eps[r]->device.name);
		for (unsigned int c = 0; c < n; c++) {
			char t[16];
			cell_text(&m[r * n + c], r == c, t, sizeof(t));
			any_unread |= m[r * n + c].unread;
			printf(c + 1 < n ? " %-7s" : " %s", t);
		}
		printf("\n");
	}
	printf("\nLegend (row: provider, column: client; n: distance in hops):\n"
	       "  SELF   the same function\n"
	       "  BUS n  bus_addr: the traffic turns around below a common upstream bridge\n"
	       "  HB n   thru_host_bridge: up through the root complex, which forwards it\n"
	       "  X      not_supported: the root complex is not known to forward it\n"
	       "  *      ACS redirect on the path sends the traffic up: `dmakit p2p distance "
	       "ROW COLUMN` names the fix\n"
	       "  ?      ACS bits on the path could not be read (non-root reads 64 bytes of "
	       "config space): the kernel may answer HB or X; run as root\n");
	if (any_unread)
		printf("\nnote: some cells are marked ?: ACS redirect bits were not readable\n");
}

static void json_cell(struct cli_json *j, const struct cell *x)
{
	static const char *const reasons[] = {
	    [DK_P2P_REASON_NONE] = NULL,
	    [DK_P2P_REASON_ACS_REDIRECT] = "acs_redirect",
	    [DK_P2P_REASON_NO_COMMON_BRIDGE] = "no_common_bridge",
	};
	bool none = x->path.map_type == DK_P2P_MAP_NOT_SUPPORTED;
	cli_json_obj_begin(j);
	cli_json_kv_str(j, "map_type", dk_p2p_map_type_name(x->path.map_type));
	cli_json_kv_int(j, "distance", none ? -1 : x->path.distance);
	cli_json_kv_int(j, "hops", x->path.distance);
	cli_json_kv_str(j, "reason", (unsigned int)x->path.reason < DK_ARRAY_SIZE(reasons)
					 ? reasons[x->path.reason]
					 : NULL);
	cli_json_kv_bool(j, "acs_unread", x->unread);
	cli_json_obj_end(j);
}

static int print_json(const struct dk_pci_device **eps, unsigned int n, const struct cell *m)
{
	struct cli_json j;
	cli_json_init(&j, stdout);
	cli_json_obj_begin(&j);
	cli_json_kv_int(&j, "version", 1);
	cli_json_key(&j, "endpoints");
	cli_json_arr_begin(&j);
	for (unsigned int i = 0; i < n; i++) {
		cli_json_obj_begin(&j);
		cli_json_kv_int(&j, "index", i);
		cli_json_kv_str(&j, "name", eps[i]->device.name);
		cli_json_kv_hex(&j, "vendor", eps[i]->id.vendor_id, 4);
		cli_json_kv_hex(&j, "device", eps[i]->id.device_id, 4);
		cli_json_kv_hex(&j, "class", eps[i]->id.class_id, 6);
		cli_json_obj_end(&j);
	}
	cli_json_arr_end(&j);
	cli_json_key(&j, "matrix");
	cli_json_arr_begin(&j);
	for (unsigned int r = 0; r < n; r++) {
		cli_json_arr_begin(&j);
		for (unsigned int c = 0; c < n; c++)
			json_cell(&j, &m[r * n + c]);
		cli_json_arr_end(&j);
	}
	cli_json_arr_end(&j);
	cli_json_obj_end(&j);
	return cli_json_done(&j);
}

int cli_cmd_topo(const struct cli_command *cmd, int argc, char **argv)
{
	bool json;
	int rc = cli_begin(cmd, argc, argv, &json);
	if (rc != CLI_GO_ON)
		return rc;
	const struct dk_pci_device **eps = calloc(dk_pci_count() + 1, sizeof(*eps));
	if (!eps) {
		cli_err("out of memory");
		return CLI_EXIT_ERROR;
	}
	unsigned int n = endpoints(eps);
	struct cell *m = calloc((size_t)n * n + 1, sizeof(*m));
	rc = CLI_EXIT_ERROR;
	if (!m) {
		cli_err("out of memory for the %ux%u matrix", n, n);
		goto free_eps;
	}
	if (compute(eps, n, m) < 0)
		goto free_matrix;
	if (json) {
		rc = print_json(eps, n, m);
	} else if (n == 0) {
		printf("no PCI endpoints (functions that are not bridges) under %s\n", dk_sysfs_root());
		rc = CLI_EXIT_OK;
	} else {
		print_text(eps, n, m);
		rc = CLI_EXIT_OK;
	}
free_matrix:
	free(m);
free_eps:
	free(eps);
	return rc;
}
