/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * commands.h - what the files of the dmakit CLI share.
 *
 * main.c owns dispatch and the global options (--sysfs-root, --verbose) and
 * offers the helpers every command uses: argument parsing, error messages,
 * library start-up. Each cmd_*.c file implements one command (or a pair,
 * bind/unbind) on top of the public API only (<dmakit/dmakit.h>).
 *
 * Exit codes: CLI_EXIT_OK (0), CLI_EXIT_ERROR (1: the command failed at run
 * time), CLI_EXIT_USAGE (2: the command line is wrong).
 */
#ifndef DMAKIT_CLI_COMMANDS_H
#define DMAKIT_CLI_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#include <dmakit/dmakit.h>

#include "json.h"

enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_ERROR = 1,
	CLI_EXIT_USAGE = 2,
};

struct cli_command {
	const char *name;
	const char *args;    /* argument synopsis, "" for none */
	const char *summary; /* one line */
	const char *details; /* extra help lines, or NULL */
	/* argv[0] is the command name. Returns a CLI_EXIT_* code. */
	int (*run)(const struct cli_command *cmd, int argc, char **argv);
};

/* ---- main.c ------------------------------------------------------------- */

/* "dmakit: <message>\n" on stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "dmakit: <message>" and the command's usage on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Result of cli_parse_args() when --help was given (usage already printed). */
#define CLI_ARGS_HELP (-2)
/*
 * Parse a command's arguments: "-h"/"--help", "--json" (only when json is
 * non-NULL) and up to max_pos positional arguments into pos[]. Options and
 * positionals may come in any order; "--" ends the options. Returns the
 * number of positionals, CLI_ARGS_HELP, or -1 after printing a usage error.
 */
int cli_parse_args(const struct cli_command *cmd, int argc, char **argv, bool *json,
		   const char **pos, int max_pos);

/*
 * Parse a PCI address argument ("0000:03:00.0" or "03:00.0") into its long
 * form (buf of DK_PCI_ADDR_STR_LEN bytes). On bad syntax prints a usage
 * error naming the form DDDD:BB:DD.F and returns -1; 0 on success.
 */
int cli_parse_addr(const struct cli_command *cmd, const char *arg, char *buf, size_t len);

/* 1 when the global option -n (--numeric) was given: numbers only, no names. */
bool cli_numeric(void);

/* cli_begin: the command goes on. */
#define CLI_GO_ON (-1)
/*
 * The start of a command without positional arguments: parse --json/--help
 * (json may be NULL), then cli_open(DK_INIT_NO_PROBE). CLI_GO_ON, or the exit
 * code to return (help printed, usage error, or the library did not start).
 */
int cli_begin(const struct cli_command *cmd, int argc, char **argv, bool *json);

/* Finish a JSON document on stdout: CLI_EXIT_OK, or CLI_EXIT_ERROR after
 * saying the output could not be written. */
int cli_json_done(struct cli_json *j);

/*
 * Start the library with the global options (sysfs root, log level) and
 * flags (DK_INIT_*). Returns CLI_EXIT_OK, or CLI_EXIT_ERROR after printing
 * why. main() calls dk_cleanup() after the command returns.
 */
int cli_open(unsigned int flags);

/* ---- cmd_devices.c ------------------------------------------------------ */

/* "function" or "mdev". */
const char *cli_kind_name(const struct dk_pci_device *dev);
/* The members of one device in the `devices --json` schema (inside an open object). */
void cli_json_device_fields(struct cli_json *j, const struct dk_pci_device *dev);

/* ---- cmd_mdev.c --------------------------------------------------------- */

/* The "mdevs" member of `devices --json` (inside the open document object). */
void cli_devices_mdevs_json(struct cli_json *j);
/* The mdev table printed below the PCI table of `devices` (nothing without mdevs). */
void cli_devices_mdevs_table(void);

/* ---- names.c ------------------------------------------------------------ */

/* lspci's name buffer: names are cut to 255 bytes, ending in "...". */
#define CLI_NAME_LEN 256

/* Names are shown: no -n, and the PCI ID database loaded (dmakit/pci_ids.h). */
bool cli_names_on(void);
/*
 * Names as lspci prints them (names.c's header lists the forms for unknown
 * IDs), written into buf (CLI_NAME_LEN bytes) and returned. The subsystem
 * ones return NULL when the device has no subsystem (vendor 0000 or ffff);
 * cli_name_progif returns NULL when the database has no name.
 */
const char *cli_name_vendor(uint16_t vendor, char *buf);
const char *cli_name_device(uint16_t vendor, uint16_t device, char *buf);
const char *cli_name_subvendor(const struct dk_pci_device *dev, char *buf);
const char *cli_name_subdevice(const struct dk_pci_device *dev, char *buf);
const char *cli_name_class(uint32_t class_id, char *buf);
const char *cli_name_progif(uint32_t class_id, char *buf);
/* "Vendor Device" (lspci's one-line form) of vendor:device, and of the subsystem. */
const char *cli_name_pair(uint16_t vendor, uint16_t device, char *buf);
const char *cli_name_subsys_pair(const struct dk_pci_device *dev, char *buf);
/* When cli_names_on(): vendor_name, device_name, class_name and, with
 * subsystem, subsystem_vendor_name, subsystem_device_name, prog_if_name. */
void cli_json_name_fields(struct cli_json *j, const struct dk_pci_device *dev, bool subsystem);

/* ---- cmd_p2p.c ---------------------------------------------------------- */

/*
 * Devices on the upstream chains of provider and client (each counted once)
 * whose config space was cut short (DK_PCI_CAPS_TRUNCATED: a non-root read of
 * sysfs config sees 64 bytes), so their ACS redirect bits are unknown to the
 * distance. Returns their count; buf gets the names that fit, ';'-separated.
 */
unsigned int cli_p2p_acs_unread(const struct dk_pci_device *provider,
				const struct dk_pci_device *client, char *buf, size_t len);
/* A PCI function that is not a bridge: header type 0 and base class not 0x06
 * (host, ISA and other bridges are left out too). */
bool cli_p2p_is_endpoint(const struct dk_pci_device *d);

/* ---- cmd_p2p_distance.c ------------------------------------------------- */

/* `p2p distance PROVIDER CLIENT... [--json]`; argv[0] is "distance", cmd is p2p's. */
int cli_p2p_distance(const struct cli_command *cmd, int argc, char **argv);

/* ---- cmd_p2p_list.c ----------------------------------------------------- */

/* `p2p [list] [--json]`: kernel p2pmem and candidate providers; argv[0] is
 * "list" or "p2p", cmd is p2p's. */
int cli_p2p_list(const struct cli_command *cmd, int argc, char **argv);

/* ---- commands ----------------------------------------------------------- */

int cli_cmd_devices(const struct cli_command *cmd, int argc, char **argv);
int cli_cmd_tree(const struct cli_command *cmd, int argc, char **argv);
int cli_cmd_show(const struct cli_command *cmd, int argc, char **argv);
int cli_cmd_bind(const struct cli_command *cmd, int argc, char **argv);
int cli_cmd_unbind(const struct cli_command *cmd, int argc, char **argv);
int cli_cmd_heaps(const struct cli_command *cmd, int argc, char **argv);
int cli_cmd_regions(const struct cli_command *cmd, int argc, char **argv);
int cli_cmd_iommu(const struct cli_command *cmd, int argc, char **argv);
int cli_cmd_mdev(const struct cli_command *cmd, int argc, char **argv);
int cli_cmd_p2p(const struct cli_command *cmd, int argc, char **argv);
int cli_cmd_topo(const struct cli_command *cmd, int argc, char **argv);

#endif
