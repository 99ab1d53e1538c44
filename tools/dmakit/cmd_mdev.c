/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_mdev.c - `dmakit mdev types|list|create|remove`: mediated devices,
 * the way administrators know them from mdevctl.
 *
 *   dmakit mdev types [PARENT] [--json]   the parents' mdev types
 *   dmakit mdev list [--json]             the instances that exist
 *   dmakit mdev create PARENT TYPE [UUID] create one (prints its UUID)
 *   dmakit mdev remove UUID               remove one
 *
 * --json prints exactly what `mdevctl types --dumpjson` and `mdevctl list
 * --dumpjson` (mdevctl 1.2.0) print, so scripts work with either tool:
 *   types: [{"<parent>": [{"<type>": {"available_instances": N,
 *           "device_api": "...", "name": "..." (when the type has a name file),
 *           "description": "..." (when it has one)}}, ...]}]
 *   list:  [{"<parent>": [{"<uuid>": {"mdev_type": "...", "start": "manual",
 *           "attrs": []}}, ...]}]
 * Parents sorted by name, types by name, instances by UUID; "[]" when there
 * is nothing; two-space indentation. An instance that exists without a
 * saved mdevctl configuration shows "start": "manual" and "attrs": [] in
 * mdevctl: dmakit keeps no configurations, so every instance shows so.
 *
 * Also here: the mdev part of `dmakit devices` (cli_devices_mdevs_*).
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

/* ---- types ---- */

static void json_type(struct cli_json *j, const struct dk_mdev_type *t)
{
	cli_json_obj_begin(j);
	cli_json_key(j, t->id);
	cli_json_obj_begin(j);
	cli_json_kv_int(j, "available_instances",
			t->available_instances < 0 ? 0 : t->available_instances);
	cli_json_kv_str(j, "device_api", t->device_api);
	if (t->has_name)
		cli_json_kv_str(j, "name", t->name);
	if (t->description[0])
		cli_json_kv_str(j, "description", t->description);
	cli_json_obj_end(j);
	cli_json_obj_end(j);
}

static int types_json(const char *only)
{
	struct cli_json j;
	cli_json_init(&j, stdout);
	cli_json_arr_begin(&j);
	int open = 0;
	for (unsigned int i = 0; i < dk_mdev_parent_count(); i++) {
		const struct dk_mdev_parent *p = dk_mdev_parent_get(i);
		if (only && strcmp(only, p->name) != 0)
			continue;
		if (!open++)
			cli_json_obj_begin(&j);
		cli_json_key(&j, p->name);
		cli_json_arr_begin(&j);
		for (unsigned int k = 0; k < p->ntypes; k++)
			json_type(&j, &p->types[k]);
		cli_json_arr_end(&j);
	}
	if (open)
		cli_json_obj_end(&j);
	cli_json_arr_end(&j);
	return cli_json_done(&j);
}

static int types_text(const char *only)
{
	if (only && !dk_mdev_parent_find(only)) {
		cli_err("no mdev parent %s (dmakit mdev types lists them)", only);
		return CLI_EXIT_ERROR;
	}
	for (unsigned int i = 0; i < dk_mdev_parent_count(); i++) {
		const struct dk_mdev_parent *p = dk_mdev_parent_get(i);
		if (only && strcmp(only, p->name) != 0)
			continue;
		printf("%s\n", p->name);
		for (unsigned int k = 0; k < p->ntypes; k++) {
			const struct dk_mdev_type *t = &p->types[k];
			printf("  %s\n    Available instances: %d\n    Device API: %s\n", t->id,
			       t->available_instances, t->device_api);
			if (t->has_name)
				printf("    Name: %s\n", t->name);
			if (t->description[0])
				printf("    Description: %s\n", t->description);
		}
	}
	return CLI_EXIT_OK;
}

/* ---- list ---- */

static int list_json(void)
{
	struct cli_json j;
	cli_json_init(&j, stdout);
	cli_json_arr_begin(&j);
	const char *parent = NULL;
	for (unsigned int i = 0; i < dk_mdev_count(); i++) { /* sorted by parent, then UUID */
		const struct dk_mdev_device *m = dk_mdev_get(i);
		if (!parent || strcmp(parent, m->parent) != 0) {
			if (parent)
				cli_json_arr_end(&j);
			else
				cli_json_obj_begin(&j);
			parent = m->parent;
			cli_json_key(&j, parent);
			cli_json_arr_begin(&j);
		}
		cli_json_obj_begin(&j);
		cli_json_key(&j, m->uuid);
		cli_json_obj_begin(&j);
		cli_json_kv_str(&j, "mdev_type", m->type_id);
		cli_json_kv_str(&j, "start", "manual");
		cli_json_key(&j, "attrs");
		cli_json_arr_begin(&j);
		cli_json_arr_end(&j);
		cli_json_obj_end(&j);
		cli_json_obj_end(&j);
	}
	if (parent) {
		cli_json_arr_end(&j);
		cli_json_obj_end(&j);
	}
	cli_json_arr_end(&j);
	return cli_json_done(&j);
}

static int list_text(void)
{
	for (unsigned int i = 0; i < dk_mdev_count(); i++) {
		const struct dk_mdev_device *m = dk_mdev_get(i);
		printf("%s %s %s manual\n", m->uuid, m->parent, m->type_id);
	}
	return CLI_EXIT_OK;
}

/* ---- the mdev part of `dmakit devices` ---- */

void cli_devices_mdevs_json(struct cli_json *j)
{
	cli_json_key(j, "mdevs");
	cli_json_arr_begin(j);
	for (unsigned int i = 0; i < dk_mdev_count(); i++) {
		const struct dk_mdev_device *m = dk_mdev_get(i);
		cli_json_obj_begin(j);
		cli_json_kv_str(j, "uuid", m->uuid);
		cli_json_kv_str(j, "parent", m->parent);
		cli_json_kv_str(j, "type", m->type_id);
		cli_json_kv_str(j, "device_api", m->device_api[0] ? m->device_api : NULL);
		if (m->iommu_group >= 0)
			cli_json_kv_int(j, "iommu_group", m->iommu_group);
		else
			cli_json_kv_null(j, "iommu_group");
		cli_json_obj_end(j);
	}
	cli_json_arr_end(j);
}

static int width(int w, const char *s)
{
	int n = (int)strlen(s);
	return n > w ? n : w;
}

void cli_devices_mdevs_table(void)
{
	if (!dk_mdev_count())
		return;
	int wp = (int)strlen("PARENT"), wt = (int)strlen("TYPE"), wa = (int)strlen("API");
	for (unsigned int i = 0; i < dk_mdev_count(); i++) {
		const struct dk_mdev_device *m = dk_mdev_get(i);
		wp = width(wp, m->parent);
		wt = width(wt, m->type_id);
		wa = width(wa, m->device_api);
	}
	printf("\n%-36s  %-*s  %-*s  %-*s  %s\n", "MDEV", wp, "PARENT", wt, "TYPE", wa, "API",
	       "GROUP");
	for (unsigned int i = 0; i < dk_mdev_count(); i++) {
		const struct dk_mdev_device *m = dk_mdev_get(i);
		char group[16] = "-";
		if (m->iommu_group >= 0)
			snprintf(group, sizeof(group), "%d", m->iommu_group);
		printf("%-36s  %-*s  %-*s  %-*s  %s\n", m->uuid, wp, m->parent, wt, m->type_id, wa,
		       m->device_api[0] ? m->device_api : "-", group);
	}
}

/* ---- create / remove ---- */

/* 1 when arg is a UUID, else 0 after a usage error. */
static int uuid_ok(const struct cli_command *cmd, const char *arg)
{
	if (dk_mdev_uuid_valid(arg))
		return 1;
	cli_usage_error(cmd, "\"%s\" is not a UUID: expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
			arg);
	return 0;
}

static int create(const struct cli_command *cmd, const char **pos, int n)
{
	if (n < 2)
		return cli_usage_error(cmd, "mdev create: give PARENT and TYPE (dmakit mdev types "
					    "lists them)");
	if (n == 3 && !uuid_ok(cmd, pos[2]))
		return CLI_EXIT_USAGE;
	int rc = cli_open(DK_INIT_NO_PROBE);
	if (rc != CLI_EXIT_OK)
		return rc;
	char uuid[DK_MDEV_UUID_LEN];
	rc = dk_mdev_create(pos[0], pos[1], n == 3 ? pos[2] : NULL, uuid);
	if (rc < 0) {
		cli_err("mdev create %s %s: %s", pos[0], pos[1], strerror(-rc));
		return CLI_EXIT_ERROR;
	}
	printf("%s\n", uuid);
	return CLI_EXIT_OK;
}

static int remove_one(const struct cli_command *cmd, const char **pos, int n)
{
	if (n != 1)
		return cli_usage_error(cmd, "mdev remove: give the UUID (dmakit mdev list)");
	if (!uuid_ok(cmd, pos[0]))
		return CLI_EXIT_USAGE;
	int rc = cli_open(DK_INIT_NO_PROBE);
	if (rc != CLI_EXIT_OK)
		return rc;
	rc = dk_mdev_remove(pos[0]);
	if (rc < 0) {
		cli_err("mdev remove %s: %s", pos[0], strerror(-rc));
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}

int cli_cmd_mdev(const struct cli_command *cmd, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error(cmd, "mdev: give a subcommand: types, list, create or remove");
	const char *sub = argv[1];
	int is_types = strcmp(sub, "types") == 0, is_list = strcmp(sub, "list") == 0;
	int is_create = strcmp(sub, "create") == 0, is_remove = strcmp(sub, "remove") == 0;
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0)
		return cli_parse_args(cmd, argc, argv, NULL, NULL, 0) == CLI_ARGS_HELP
			   ? CLI_EXIT_OK
			   : CLI_EXIT_USAGE;
	if (!is_types && !is_list && !is_create && !is_remove)
		return cli_usage_error(cmd, "mdev: unknown subcommand \"%s\"", sub);
	const char *pos[3];
	bool json = false;
	int max = is_types ? 1 : is_list ? 0 : is_create ? 3 : 1;
	int n = cli_parse_args(cmd, argc - 1, argv + 1, is_types || is_list ? &json : NULL, pos,
			       max);
	if (n == CLI_ARGS_HELP)
		return CLI_EXIT_OK;
	if (n < 0)
		return CLI_EXIT_USAGE;
	if (is_create)
		return create(cmd, pos, n);
	if (is_remove)
		return remove_one(cmd, pos, n);
	int rc = cli_open(DK_INIT_NO_PROBE);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (is_types)
		return json ? types_json(n ? pos[0] : NULL) : types_text(n ? pos[0] : NULL);
	return json ? list_json() : list_text();
}
