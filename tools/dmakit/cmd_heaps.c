/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_heaps.c - `dmakit heaps [PREFIX] [--json]`: heap statistics of a
 * running primary process (instance PREFIX, else $DMAKIT_PREFIX, else
 * "dmakit"; runtime directory $DMAKIT_RUNTIME_DIR, else the default).
 *
 * Uses dk_heap_stats_peek and dk_instance_procs_peek: reads the primary's
 * shared config without locking or mapping its memory, so the primary is
 * not disturbed. Then the processes that hold the instance, the primary
 * first. The tool
 * does not call dk_init for this command.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

#define MAX_SHOWN DK_MAX_HEAPS
#define MAX_PROCS 64

int cli_cmd_heaps(const struct cli_command *cmd, int argc, char **argv)
{
	bool json;
	const char *pos[1] = {NULL};
	int n = cli_parse_args(cmd, argc, argv, &json, pos, 1);
	if (n == CLI_ARGS_HELP)
		return CLI_EXIT_OK;
	if (n < 0)
		return CLI_EXIT_USAGE;
	struct dk_heap_stats st[MAX_SHOWN];
	int rc = dk_heap_stats_peek(pos[0], NULL, st, MAX_SHOWN);
	if (rc < 0) {
		/* The library logged the details and the fix. */
		cli_err("heaps: no statistics (%s)", strerror(-rc));
		return CLI_EXIT_ERROR;
	}
	unsigned int count = (unsigned int)rc < MAX_SHOWN ? (unsigned int)rc : MAX_SHOWN;
	/* The processes holding the instance: the primary first. */
	int pids[MAX_PROCS];
	int np = dk_instance_procs_peek(pos[0], NULL, pids, MAX_PROCS);
	if (np > MAX_PROCS)
		np = MAX_PROCS;
	if (json) {
		struct cli_json j;
		cli_json_init(&j, stdout);
		cli_json_obj_begin(&j);
		cli_json_kv_int(&j, "version", 1);
		cli_json_key(&j, "heaps");
		cli_json_arr_begin(&j);
		for (unsigned int i = 0; i < count; i++) {
			cli_json_obj_begin(&j);
			cli_json_kv_str(&j, "name", st[i].name);
			cli_json_kv_int(&j, "socket", st[i].socket_id);
			cli_json_kv_bool(&j, "external", st[i].socket_id >= DK_EXTERNAL_SOCKET_BASE);
			cli_json_kv_int(&j, "heap_bytes", (long long)st[i].heap_bytes);
			cli_json_kv_int(&j, "alloc_bytes", (long long)st[i].alloc_bytes);
			cli_json_kv_int(&j, "free_bytes", (long long)st[i].free_bytes);
			cli_json_kv_int(&j, "greatest_free_at_least", (long long)st[i].greatest_free);
			cli_json_kv_int(&j, "alloc_count", (long long)st[i].alloc_count);
			cli_json_obj_end(&j);
		}
		cli_json_arr_end(&j);
		cli_json_key(&j, "processes");
		cli_json_arr_begin(&j);
		for (int i = 0; i < np; i++) {
			cli_json_obj_begin(&j);
			cli_json_kv_int(&j, "pid", pids[i]);
			cli_json_kv_bool(&j, "primary", i == 0);
			cli_json_obj_end(&j);
		}
		cli_json_arr_end(&j);
		cli_json_obj_end(&j);
		return cli_json_done(&j);
	}
	printf("%-24s %7s %14s %14s %14s %14s %10s\n", "HEAP", "SOCKET", "SIZE", "ALLOCATED",
	       "FREE", "LARGEST_FREE>=", "BLOCKS");
	for (unsigned int i = 0; i < count; i++)
		printf("%-24s %7d %14" PRIu64 " %14" PRIu64 " %14" PRIu64 " %14" PRIu64
		       " %10" PRIu64 "\n",
		       st[i].name, st[i].socket_id, st[i].heap_bytes, st[i].alloc_bytes,
		       st[i].free_bytes, st[i].greatest_free, st[i].alloc_count);
	printf("PROCESSES:");
	for (int i = 0; i < np; i++)
		printf(" %d%s", pids[i], i == 0 ? " (primary)" : "");
	printf("\n");
	return CLI_EXIT_OK;
}
