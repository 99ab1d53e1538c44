/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_tree.c - `dmakit tree [-n] [--json]`: the PCI topology as the library
 * sees it, with vendor and device names (as `lspci -tv`) unless -n. Host bridges are the roots; every function hangs below its upstream
 * bridge (struct dk_pci_device.upstream), in address order, so VFs appear
 * next to their PF below the same bridge, as in `lspci -tv`.
 *
 *   pci0000:00
 *   +-0000:00:00.0  8086:0d57  -
 *   \-0000:00:1c.0  8086:a110  pcieport
 *     \-0000:01:00.0  ...
 *
 * Functions without a host bridge (mediated devices, or a sysfs layout the
 * library could not place) are listed last under "(no host bridge)".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

/* Deeper than any real hierarchy (256 buses); guards against a cycle. */
#define TREE_MAX_DEPTH 300

/* Roots: one per distinct host bridge, in order of first appearance. */
struct roots {
	const char **names; /* "" stands for "no host bridge" */
	unsigned int n;
};

static int collect_roots(struct roots *r)
{
	unsigned int count = dk_pci_count();
	r->n = 0;
	r->names = calloc(count + 1, sizeof(*r->names));
	if (!r->names)
		return -1;
	bool orphans = false;
	for (unsigned int i = 0; i < count; i++) {
		const struct dk_pci_device *dev = dk_pci_get(i);
		if (!dev)
			continue;
		if (!dev->host_bridge[0]) {
			orphans = true;
			continue;
		}
		bool seen = false;
		for (unsigned int k = 0; k < r->n && !seen; k++)
			seen = strcmp(r->names[k], dev->host_bridge) == 0;
		if (!seen)
			r->names[r->n++] = dev->host_bridge;
	}
	if (orphans)
		r->names[r->n++] = "";
	return 0;
}

/* 1 when dev is a direct child of parent (NULL: of the root named hb). */
static int is_child(const struct dk_pci_device *dev, const struct dk_pci_device *parent,
		    const char *hb)
{
	if (parent)
		return dev->upstream == parent;
	return dev->upstream == NULL && strcmp(dev->host_bridge, hb) == 0;
}

/* Index of the next child of parent after index start, or count. */
static unsigned int next_child(unsigned int start, const struct dk_pci_device *parent,
			       const char *hb)
{
	unsigned int count = dk_pci_count();
	for (unsigned int i = start; i < count; i++) {
		const struct dk_pci_device *dev = dk_pci_get(i);
		if (dev && is_child(dev, parent, hb))
			return i;
	}
	return count;
}

/* ---- text --------------------------------------------------------------- */

static void print_children(const struct dk_pci_device *parent, const char *hb, char *prefix,
			   size_t plen, unsigned int depth)
{
	unsigned int count = dk_pci_count();
	if (depth >= TREE_MAX_DEPTH) {
		printf("%s\\-(deeper levels left out)\n", prefix);
		return;
	}
	for (unsigned int i = next_child(0, parent, hb); i < count;) {
		const struct dk_pci_device *dev = dk_pci_get(i);
		unsigned int next = next_child(i + 1, parent, hb);
		bool last = next == count;
		printf("%s%s%s  %04x:%04x  %s", prefix, last ? "\\-" : "+-", dev->device.name,
		       dev->id.vendor_id, dev->id.device_id,
		       dev->kernel_driver[0] ? dev->kernel_driver : "-");
		if (cli_names_on()) {
			char vd[CLI_NAME_LEN];
			printf("  %s", cli_name_pair(dev->id.vendor_id, dev->id.device_id, vd));
		}
		if (dev->physfn)
			printf("  [VF of %s]", dev->physfn->device.name);
		putchar('\n');
		/* Children are indented by two columns; "| " continues this level. */
		if (plen + 3 <= 2 * TREE_MAX_DEPTH + 2) {
			memcpy(prefix + plen, last ? "  " : "| ", 3);
			print_children(dev, dev->host_bridge, prefix, plen + 2, depth + 1);
			prefix[plen] = '\0';
		}
		i = next;
	}
}

static int print_text(const struct roots *r)
{
	char prefix[2 * TREE_MAX_DEPTH + 3] = "";
	for (unsigned int k = 0; k < r->n; k++) {
		const char *hb = r->names[k];
		puts(hb[0] ? hb : "(no host bridge)");
		print_children(NULL, hb, prefix, 0, 0);
	}
	return CLI_EXIT_OK;
}

/* ---- JSON --------------------------------------------------------------- */

static void json_children(struct cli_json *j, const struct dk_pci_device *parent, const char *hb,
			  unsigned int depth)
{
	unsigned int count = dk_pci_count();
	cli_json_key(j, "children");
	cli_json_arr_begin(j);
	if (depth < TREE_MAX_DEPTH) {
		for (unsigned int i = next_child(0, parent, hb); i < count;
		     i = next_child(i + 1, parent, hb)) {
			const struct dk_pci_device *dev = dk_pci_get(i);
			cli_json_obj_begin(j);
			cli_json_kv_str(j, "address", dev->device.name);
			cli_json_kv_str(j, "kind", cli_kind_name(dev));
			cli_json_kv_hex(j, "vendor", dev->id.vendor_id, 4);
			cli_json_kv_hex(j, "device", dev->id.device_id, 4);
			cli_json_kv_hex(j, "class", dev->id.class_id, 6);
			cli_json_kv_str(j, "driver",
					dev->kernel_driver[0] ? dev->kernel_driver : NULL);
			cli_json_kv_str(j, "physfn", dev->physfn ? dev->physfn->device.name : NULL);
			cli_json_name_fields(j, dev, false);
			json_children(j, dev, dev->host_bridge, depth + 1);
			cli_json_obj_end(j);
		}
	}
	cli_json_arr_end(j);
}

static int print_json(const struct roots *r)
{
	struct cli_json j;
	cli_json_init(&j, stdout);
	cli_json_obj_begin(&j);
	cli_json_kv_int(&j, "version", 1);
	cli_json_key(&j, "host_bridges");
	cli_json_arr_begin(&j);
	for (unsigned int k = 0; k < r->n; k++) {
		const char *hb = r->names[k];
		cli_json_obj_begin(&j);
		cli_json_kv_str(&j, "name", hb[0] ? hb : NULL);
		json_children(&j, NULL, hb, 0);
		cli_json_obj_end(&j);
	}
	cli_json_arr_end(&j);
	cli_json_obj_end(&j);
	return cli_json_done(&j);
}

int cli_cmd_tree(const struct cli_command *cmd, int argc, char **argv)
{
	bool json;
	int rc = cli_begin(cmd, argc, argv, &json);
	if (rc != CLI_GO_ON)
		return rc;
	struct roots r;
	if (collect_roots(&r) < 0) {
		cli_err("out of memory");
		return CLI_EXIT_ERROR;
	}
	rc = json ? print_json(&r) : print_text(&r);
	free(r.names);
	return rc;
}
