/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main.c - the dmakit command-line tool: global options, dispatch to the
 * commands (cmd_*.c), and the helpers they share (see commands.h).
 *
 *   dmakit [--sysfs-root DIR] [-v] [-n] COMMAND [ARGS]
 *
 * Global options may also follow the command ("dmakit devices -v"); --help
 * and --version before the command apply to the tool, after it to the
 * command. The sysfs root is --sysfs-root, else $DMAKIT_SYSFS_ROOT, else
 * /sys (the library resolves the last two).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

static struct {
	const char *sysfs_root; /* NULL: the library's default */
	bool verbose;
	bool numeric; /* -n */
} g_opts;

static int cmd_help(const struct cli_command *cmd, int argc, char **argv);

#define CLI_NAMES_HELP                                                                       \
	"names come from the PCI ID database ($DMAKIT_PCI_IDS, else /usr/share/misc/pci.ids,\n"   \
	"else /usr/share/hwdata/pci.ids) when it is installed; -n: numbers only"

static const struct cli_command g_commands[] = {
    {"devices", "[-n] [--json]",
     "list every PCI function with IDs, names, driver, IOMMU group and NUMA node",
     CLI_NAMES_HELP, cli_cmd_devices},
    {"tree", "[-n] [--json]",
     "show the PCI topology: host bridges, bridges and what sits below them", CLI_NAMES_HELP,
     cli_cmd_tree},
    {"show", "ADDR [-n] [--json]",
     "show one device: IDs, upstream chain, BARs, capabilities, PCIe link, ACS, SR-IOV, MSI/MSI-X",
     "ADDR is DDDD:BB:DD.F (e.g. 0000:03:00.0) or BB:DD.F for domain 0\n" CLI_NAMES_HELP,
     cli_cmd_show},
    {"bind", "ADDR [DRIVER]",
     "bind a device to a kernel driver (default vfio-pci) through driver_override",
     "after binding to a vfio driver, reports IOMMU group members that keep the group\n"
     "from being usable by VFIO; binding needs root",
     cli_cmd_bind},
    {"unbind", "ADDR", "unbind a device from its kernel driver and clear driver_override", NULL,
     cli_cmd_unbind},
    {"heaps", "[PREFIX] [--json]",
     "show the heap statistics of a running primary process, without disturbing it",
     "PREFIX names the instance (default: $DMAKIT_PREFIX, else \"dmakit\"); the runtime\n"
     "directory is $DMAKIT_RUNTIME_DIR, else the library's default",
     cli_cmd_heaps},
    {"regions", "ADDR [--json]",
     "open a device through VFIO: regions, flags, sparse areas, capabilities, IRQ counts",
     "the device must be bound to vfio-pci (dmakit bind ADDR); needs access to /dev/vfio",
     cli_cmd_regions},
    {"iommu", "[--json]",
     "the VFIO type1 IOMMU: page sizes, usable IOVA ranges, DMA mappings available",
     "opens the IOMMU groups of the devices bound to vfio-pci in one container", cli_cmd_iommu},
    {"mdev", "SUBCOMMAND ...",
     "mediated devices: types [PARENT] [--json], list [--json], create, remove",
     "mdev types [PARENT] [--json]    the mdev types of every parent (or of PARENT)\n"
     "mdev list [--json]              the mdev instances\n"
     "mdev create PARENT TYPE [UUID]  create an instance (random UUID when none; prints it)\n"
     "mdev remove UUID                remove an instance\n"
     "--json prints what `mdevctl types|list --dumpjson` prints; create and remove need root",
     cli_cmd_mdev},
    {"p2p", "[SUBCOMMAND] ...",
     "peer-to-peer DMA: list [--json] (the default), distance PROVIDER CLIENT... [--json]",
     "p2p [list] [--json]                       providers: kernel p2pmem (size, available,\n"
     "                                          published) and candidates (non-bridge functions\n"
     "                                          with a prefetchable memory BAR); a process's own\n"
     "                                          providers are visible only inside it\n"
     "p2p distance PROVIDER CLIENT... [--json]  for each client: distance, map type and, when\n"
     "                                          not bus_addr, the reason and its fix\n"
     "the CPU rule reads $DMAKIT_CPUINFO, else /proc/cpuinfo; ACS needs root (see docs/p2p.md)",
     cli_cmd_p2p},
    {"topo", "[--json]",
     "peer-to-peer matrix of every PCI endpoint: map type and distance, with a legend",
     "rows are providers, columns clients (by index); the CPU rule reads $DMAKIT_CPUINFO,\n"
     "else /proc/cpuinfo; ACS needs root (see docs/p2p.md)",
     cli_cmd_topo},
    {"help", "[COMMAND]", "show this help, or the help of one command", NULL, cmd_help},
};

static const struct cli_command *find_command(const char *name)
{
	for (size_t i = 0; i < DK_ARRAY_SIZE(g_commands); i++)
		if (strcmp(g_commands[i].name, name) == 0)
			return &g_commands[i];
	return NULL;
}

static void print_command_usage(FILE *f, const struct cli_command *cmd)
{
	fprintf(f, "usage: dmakit %s%s%s\n", cmd->name, cmd->args[0] ? " " : "", cmd->args);
	fprintf(f, "  %s\n", cmd->summary);
	if (cmd->details) {
		const char *p = cmd->details;
		while (*p) {
			const char *nl = strchr(p, '\n');
			int n = nl ? (int)(nl - p) : (int)strlen(p);
			fprintf(f, "  %.*s\n", n, p);
			p += n + (nl ? 1 : 0);
		}
	}
}

static void print_usage(FILE *f)
{
	fputs("usage: dmakit [--sysfs-root DIR] [-v] [-n] COMMAND [ARGS]\n"
	      "       dmakit --help | --version\n"
	      "\n"
	      "commands:\n",
	      f);
	for (size_t i = 0; i < DK_ARRAY_SIZE(g_commands); i++) {
		const struct cli_command *c = &g_commands[i];
		char synopsis[64];
		snprintf(synopsis, sizeof(synopsis), "%s %s", c->name, c->args);
		fprintf(f, "  %-22s %s\n", synopsis, c->summary);
	}
	fputs("\n"
	      "global options:\n"
	      "  --sysfs-root DIR  read sysfs from DIR (default: $DMAKIT_SYSFS_ROOT, else /sys)\n"
	      "  -v, --verbose     log at debug level\n"
	      "  -n, --numeric     numbers only: no names from the PCI ID database\n"
	      "  -h, --help        show this help\n"
	      "  --version         show the version\n"
	      "\n"
	      "exit status: 0 success, 1 runtime error, 2 usage error\n"
	      "JSON output is documented in docs/cli.md (schema \"version\": 1).\n",
	      f);
}

__attribute__((format(printf, 1, 0))) static void vcli_err(const char *fmt, va_list ap)
{
	fflush(stdout);
	fputs("dmakit: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vcli_err(fmt, ap);
	va_end(ap);
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vcli_err(fmt, ap);
	va_end(ap);
	if (cmd)
		print_command_usage(stderr, cmd);
	else
		fputs("run `dmakit help` for the list of commands\n", stderr);
	return CLI_EXIT_USAGE;
}

int cli_parse_args(const struct cli_command *cmd, int argc, char **argv, bool *json,
		   const char **pos, int max_pos)
{
	int npos = 0;
	bool opts_done = false;
	if (json)
		*json = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!opts_done && a[0] == '-' && a[1] != '\0') {
			if (strcmp(a, "--") == 0) {
				opts_done = true;
			} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
				print_command_usage(stdout, cmd);
				return CLI_ARGS_HELP;
			} else if (json && strcmp(a, "--json") == 0) {
				*json = true;

			} else {
				cli_usage_error(cmd, "%s: unknown option %s", cmd->name, a);
				return -1;
			}
			continue;
		}
		if (npos == max_pos) {
			cli_usage_error(cmd, "%s: unexpected argument \"%s\"", cmd->name, a);
			return -1;
		}
		pos[npos++] = a;
	}
	return npos;
}

bool cli_numeric(void)
{
	return g_opts.numeric;
}

int cli_parse_addr(const struct cli_command *cmd, const char *arg, char *buf, size_t len)
{
	struct dk_pci_addr a;
	if (dk_pci_addr_parse(arg, &a) < 0) {
		cli_usage_error(
		    cmd, "\"%s\" is not a PCI address: expected DDDD:BB:DD.F, e.g. 0000:03:00.0",
		    arg);
		return -1;
	}
	dk_pci_addr_format(&a, buf, len);
	return 0;
}

int cli_begin(const struct cli_command *cmd, int argc, char **argv, bool *json)
{
	int n = cli_parse_args(cmd, argc, argv, json, NULL, 0);
	if (n == CLI_ARGS_HELP)
		return CLI_EXIT_OK;
	if (n < 0)
		return CLI_EXIT_USAGE;
	int rc = cli_open(DK_INIT_NO_PROBE);
	return rc == CLI_EXIT_OK ? CLI_GO_ON : rc;
}

int cli_json_done(struct cli_json *j)
{
	if (cli_json_finish(j) < 0) {
		cli_err("cannot write the JSON output");
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}

int cli_open(unsigned int flags)
{
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.sysfs_root = g_opts.sysfs_root;
	/* The tool looks at devices: it never joins an instance's shared memory. */
	p.flags = flags | DK_INIT_IN_MEMORY;
	/* Nor does it DMA: IOVA mode va, so dk_init never opens an IOMMU group to choose one
	 * (under --sysfs-root a tree's vfio-pci devices have no /dev/vfio node). */
	p.iova_mode = DK_IOVA_MODE_VA;
	if (g_opts.verbose)
		p.log_level = DK_LOG_DEBUG;
	int rc = dk_init(&p);
	if (rc < 0) {
		/* The library has logged the details; add what the user controls. */
		cli_err("cannot read PCI devices under %s: %s (set the root with --sysfs-root DIR "
			"or DMAKIT_SYSFS_ROOT)",
			g_opts.sysfs_root ? g_opts.sysfs_root : dk_sysfs_root(), strerror(-rc));
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}

static int cmd_help(const struct cli_command *cmd, int argc, char **argv)
{
	const char *pos[1];
	int n = cli_parse_args(cmd, argc, argv, NULL, pos, 1);
	if (n == CLI_ARGS_HELP)
		return CLI_EXIT_OK;
	if (n < 0)
		return CLI_EXIT_USAGE;
	if (n == 0) {
		print_usage(stdout);
		return CLI_EXIT_OK;
	}
	const struct cli_command *c = find_command(pos[0]);
	if (!c)
		return cli_usage_error(NULL, "unknown command \"%s\"", pos[0]);
	print_command_usage(stdout, c);
	return CLI_EXIT_OK;
}

/*
 * Take the global option at argv[*i] if it is one: returns 1 when taken
 * (advancing *i past a separate value), 0 when not a global option, -1 on a
 * missing value (usage error printed).
 */
static int take_global(int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
		g_opts.verbose = true;
		return 1;
	}
	if (strcmp(a, "-n") == 0 || strcmp(a, "--numeric") == 0) {
		g_opts.numeric = true;
		return 1;
	}
	if (strcmp(a, "--sysfs-root") == 0) {
		if (*i + 1 >= argc || argv[*i + 1][0] == '\0') {
			cli_usage_error(NULL, "--sysfs-root needs a directory: --sysfs-root DIR");
			return -1;
		}
		g_opts.sysfs_root = argv[++*i];
		return 1;
	}
	if (strncmp(a, "--sysfs-root=", 13) == 0) {
		if (a[13] == '\0') {
			cli_usage_error(NULL, "--sysfs-root needs a directory: --sysfs-root DIR");
			return -1;
		}
		g_opts.sysfs_root = a + 13;
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	/* Command arguments without the global options; argv[0] = command name. */
	char **cargv = calloc((size_t)argc + 1, sizeof(*cargv));
	if (!cargv) {
		cli_err("out of memory");
		return CLI_EXIT_ERROR;
	}
	int cargc = 0, status;
	bool opts_done = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!opts_done && a[0] == '-' && a[1] != '\0') {
			int t = take_global(argc, argv, &i);
			if (t < 0) {
				status = CLI_EXIT_USAGE;
				goto out;
			}
			if (t > 0)
				continue;
			if (strcmp(a, "--") == 0)
				opts_done = true; /* kept: the command sees it too */
			if (cargc == 0) {
				if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
					print_usage(stdout);
					status = CLI_EXIT_OK;
					goto out;
				}
				if (strcmp(a, "--version") == 0) {
					printf("dmakit %s\n", dk_version());
					status = CLI_EXIT_OK;
					goto out;
				}
				if (!opts_done) {
					status = cli_usage_error(NULL, "unknown option %s", a);
					goto out;
				}
				continue;
			}
		}
		cargv[cargc++] = argv[i];
	}
	if (cargc == 0) {
		cli_err("no command given");
		print_usage(stderr);
		status = CLI_EXIT_USAGE;
		goto out;
	}
	const struct cli_command *cmd = find_command(cargv[0]);
	if (!cmd) {
		status = cli_usage_error(NULL, "unknown command \"%s\"", cargv[0]);
		goto out;
	}
	status = cmd->run(cmd, cargc, cargv);
	dk_cleanup();
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_err("cannot write the output: %s", strerror(errno));
		if (status == CLI_EXIT_OK)
			status = CLI_EXIT_ERROR;
	}
out:
	free(cargv);
	return status;
}
