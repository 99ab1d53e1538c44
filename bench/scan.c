/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_scan: how long a PCI scan of a large machine takes, dmakit against
 * lspci, on the same sysfs tree.
 *
 * The tree (built with the test fixture builder in a temporary directory)
 * holds 4096 PCI functions: 4 domains, each with 2 root ports; each root
 * port leads to a switch (upstream port and 8 downstream ports) and each
 * downstream port to one bus of endpoint functions. Even buses carry a
 * 4-port SR-IOV NIC whose first two PFs have their VFs enabled; odd buses
 * carry 8-function NVMe devices. Config spaces are complete (PCIe, MSI,
 * MSI-X, ACS, SR-IOV capabilities) and every function has a driver, an
 * IOMMU group and a NUMA node.
 *
 * Timed, in the same run, each best and median of --runs runs after one
 * untimed warm-up run (which is also the correctness check):
 *   1. dk_pci_scan() in this process (after dk_init with DK_INIT_NO_SCAN);
 *   2. lspci -A linux-sysfs -O sysfs.path=<root>/bus/pci, plain (with names
 *      from pci.ids), -n, -nn and -D, as child processes with stdout on
 *      /dev/null;
 *   3. `dmakit devices` (names from the PCI ID database, as lspci's plain
 *      run) and `dmakit devices -n` as child processes with
 *      DMAKIT_SYSFS_ROOT=<root>, if the CLI is found (--cli PATH, else next
 *      to this binary in the build tree, else build* /tools/dmakit/dmakit
 *      below the working directory).
 * The ratios are lspci / dmakit: above 1 means dmakit is faster; names
 * against names (lspci / dmakit devices) and numbers against numbers
 * (lspci -n / dmakit devices -n).
 *
 * Exit status: 0; 1 when a count is wrong (dk_pci_scan() or dk_pci_count()
 * is not 4096, lspci or the CLI do not list 4096 functions) or a tool
 * fails; 2 on a usage error. Missing lspci or CLI are reported and skipped.
 *
 * The tree goes to --tmpdir DIR, else $TMPDIR, else /dev/shm when writable
 * (memory-backed like sysfs, and much faster to build), else /tmp.
 *
 * usage: bench_scan [--runs N] [--cli PATH] [--lspci PATH] [--tmpdir DIR] [--keep]
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dmakit/dmakit.h>

#include "fixture.h"

#define TARGET   4096u
#define NDOMAINS 4u
#define NROOT    2u /* root ports per domain */
#define NDOWN    8u /* downstream ports per switch */
#define MAX_RUNS 1000

struct stats {
	unsigned int bridges, pfs, vfs, others, groups;
};

struct result {
	char name[96];
	double best, median; /* ms */
	int ran;
};

/* ---- tree ------------------------------------------------------------------ */

struct builder {
	struct dk_fx *fx;
	struct stats st;
	uint64_t mmio;
	int group;
};

static void set_bar(struct dk_fx_spec *s, int i, struct builder *b, uint64_t len, int prefetch)
{
	s->bars[i].start = b->mmio;
	s->bars[i].len = len;
	/* IORESOURCE_MEM | MEM_64 | SIZEALIGN (| PREFETCH), low bits as the BAR's. */
	s->bars[i].flags = 0x140204ull | (prefetch ? 0x2008ull : 0);
	b->mmio += len < 0x100000 ? 0x100000 : len;
}

static void fmt_bdf(char *buf, size_t len, uint32_t dom, unsigned int bus, unsigned int k)
{
	snprintf(buf, len, "%04x:%02x:%02x.%x", dom, bus, k / 8, k % 8);
}

/* A 4-port X710 on bus: PFs 0..3, VFs of PF0 and PF1 after them. */
static void populate_nic(struct builder *b, const struct dk_fx_dev *port, uint32_t dom,
			 unsigned int bus, unsigned int n, int node)
{
	char bdf[32];
	unsigned int nvf = n - 4, v[2] = {nvf / 2, nvf - nvf / 2};
	struct dk_fx_dev *pf[4];
	for (unsigned int k = 0; k < 4; k++) {
		struct dk_fx_spec s = dk_fx_spec_endpoint();
		s.vendor = 0x8086;
		s.device = 0x1572;
		s.subsys_vendor = 0x8086;
		s.subsys_device = 0x0007;
		s.class_code = 0x020000;
		s.revision = 0x02;
		s.multifunction = 1;
		s.msi_vectors = 1;
		s.msix_vectors = 129;
		s.msix_bar = 3;
		s.has_acs = 1;
		s.acs_cap = DK_PCI_ACS_SV | DK_PCI_ACS_RR | DK_PCI_ACS_CR | DK_PCI_ACS_UF;
		s.acs_ctrl = s.acs_cap;
		if (k < 2) {
			s.sriov_total_vfs = 64;
			s.sriov_num_vfs = (uint16_t)v[k];
			s.sriov_vf_device = 0x154c;
		}
		s.numa_node = node;
		s.iommu_group = b->group++;
		s.driver = "i40e";
		memset(s.bars, 0, sizeof(s.bars));
		set_bar(&s, 0, b, 0x800000, 1);
		set_bar(&s, 3, b, 0x8000, 1);
		fmt_bdf(bdf, sizeof(bdf), dom, bus, k);
		pf[k] = dk_fx_add(b->fx, bdf, port, &s);
		b->st.pfs++;
	}
	unsigned int k = 4;
	for (unsigned int p = 0; p < 2; p++) {
		for (unsigned int i = 0; i < v[p]; i++, k++) {
			struct dk_fx_spec s = dk_fx_spec_endpoint();
			s.vendor = 0x8086;
			s.device = 0x154c;
			s.subsys_vendor = 0x8086;
			s.subsys_device = 0x0000;
			s.class_code = 0x020000;
			s.revision = 0x02;
			s.msix_vectors = 5;
			s.msix_bar = 3;
			s.numa_node = node;
			s.iommu_group = b->group++;
			s.driver = i % 2 ? "vfio-pci" : "iavf";
			memset(s.bars, 0, sizeof(s.bars));
			set_bar(&s, 0, b, 0x10000, 1);
			set_bar(&s, 3, b, 0x4000, 1);
			fmt_bdf(bdf, sizeof(bdf), dom, bus, k);
			dk_fx_add_vf(b->fx, pf[p], i, bdf, &s);
			b->st.vfs++;
		}
	}
}

/* NVMe controllers, 8 functions per device (one IOMMU group per device). */
static void populate_nvme(struct builder *b, const struct dk_fx_dev *port, uint32_t dom,
			  unsigned int bus, unsigned int n, int node)
{
	char bdf[32];
	int group = -1;
	for (unsigned int k = 0; k < n; k++) {
		struct dk_fx_spec s = dk_fx_spec_endpoint();
		s.vendor = 0x144d;
		s.device = 0xa80a;
		s.subsys_vendor = 0x144d;
		s.subsys_device = 0xa801;
		s.class_code = 0x010802;
		s.revision = 0x00;
		s.multifunction = (k % 8 == 0 && k + 1 < n) || k % 8 != 0;
		s.msi_vectors = 32;
		s.msix_vectors = 33;
		s.msix_bar = 0;
		s.numa_node = node;
		if (k % 8 == 0)
			group = b->group++;
		s.iommu_group = group;
		s.driver = "nvme";
		memset(s.bars, 0, sizeof(s.bars));
		set_bar(&s, 0, b, 0x4000, 0);
		fmt_bdf(bdf, sizeof(bdf), dom, bus, k);
		dk_fx_add(b->fx, bdf, port, &s);
		b->st.others++;
	}
}

static unsigned int build_tree(struct dk_fx *fx, struct stats *st)
{
	struct builder b = {.fx = fx, .mmio = 0x38000000000ull, .group = 0};
	const unsigned int bridges = NDOMAINS * NROOT * (2 + NDOWN);
	const unsigned int nbuses = NDOMAINS * NROOT * NDOWN;
	const unsigned int eps = TARGET - bridges;
	unsigned int bus_index = 0;
	char bdf[32];
	for (uint32_t dom = 0; dom < NDOMAINS; dom++) {
		int node = (int)(dom / 2);
		for (unsigned int r = 0; r < NROOT; r++) {
			unsigned int b0 = 1 + r * 0x20;
			struct dk_fx_spec s = dk_fx_spec_bridge(DK_PCIE_TYPE_ROOT_PORT);
			s.numa_node = node;
			s.iommu_group = b.group++;
			snprintf(bdf, sizeof(bdf), "%04x:00:%02x.0", dom, r + 1);
			struct dk_fx_dev *rp = dk_fx_add(fx, bdf, NULL, &s);
			s = dk_fx_spec_bridge(DK_PCIE_TYPE_UPSTREAM);
			s.numa_node = node;
			s.iommu_group = b.group++;
			snprintf(bdf, sizeof(bdf), "%04x:%02x:00.0", dom, b0);
			struct dk_fx_dev *up = dk_fx_add(fx, bdf, rp, &s);
			b.st.bridges += 2;
			for (unsigned int j = 0; j < NDOWN; j++) {
				s = dk_fx_spec_bridge(DK_PCIE_TYPE_DOWNSTREAM);
				s.numa_node = node;
				s.iommu_group = b.group++;
				snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.0", dom, b0 + 1, j);
				struct dk_fx_dev *dn = dk_fx_add(fx, bdf, up, &s);
				b.st.bridges++;
				unsigned int n = eps / nbuses + (bus_index < eps % nbuses);
				if (bus_index % 2 == 0)
					populate_nic(&b, dn, dom, b0 + 2 + j, n, node);
				else
					populate_nvme(&b, dn, dom, b0 + 2 + j, n, node);
				bus_index++;
			}
		}
	}
	b.st.groups = (unsigned int)b.group;
	*st = b.st;
	return b.st.bridges + b.st.pfs + b.st.vfs + b.st.others;
}

/* ---- timing ------------------------------------------------------------------ */

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void summarize(double *t, int n, struct result *r)
{
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	r->best = t[0];
	r->median = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
	r->ran = 1;
}

/* 1 if line starts with a PCI address ("BB:DD.F" or "DDDD:BB:DD.F"). */
static int is_device_line(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
		i++;
	if (i < 2 || i >= len || s[i] != ':')
		return 0;
	return i + 3 < len && (s[i + 3] == ':' || s[i + 3] == '.');
}

/*
 * Run argv (with env, "NAME=value" strings, added) with stdout on /dev/null,
 * or, when lines is non-NULL, on a pipe whose device lines are counted.
 * Returns the elapsed ms, or -1 when the program failed (message printed).
 */
static double run_child(char *const argv[], char *const env[], long *lines)
{
	int pfd[2] = {-1, -1};
	if (lines && pipe(pfd) < 0) {
		perror("bench_scan: pipe");
		return -1;
	}
	fflush(stdout);
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid < 0) {
		perror("bench_scan: fork");
		return -1;
	}
	if (pid == 0) {
		int out = lines ? pfd[1] : open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (out < 0 || dup2(out, 1) < 0)
			_exit(126);
		if (!lines) {
			/* Timed runs: silence stderr too; the counted run shows it. */
			int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
			if (null < 0 || dup2(null, 2) < 0)
				_exit(126);
		}
		if (lines)
			close(pfd[0]);
		for (int i = 0; env && env[i]; i++)
			if (putenv(env[i]) != 0)
				_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	if (lines) {
		close(pfd[1]);
		char buf[65536], line[512];
		size_t ll = 0;
		ssize_t n;
		*lines = 0;
		while ((n = read(pfd[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
			for (ssize_t i = 0; i < n; i++) {
				if (buf[i] == '\n') {
					*lines += is_device_line(line, ll);
					ll = 0;
				} else if (ll < sizeof(line)) {
					line[ll++] = buf[i];
				}
			}
		}
		close(pfd[0]);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("bench_scan: waitpid");
			return -1;
		}
	}
	double t = now_ms() - t0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_scan: %s failed (%s %d)\n", argv[0],
			WIFEXITED(status) ? "exit status" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -1;
	}
	return t;
}

/* Time a program: one counted warm-up, then runs timed runs. 0, or -1 on failure. */
static int time_child(const char *label, char *const argv[], char *const env[], int runs,
		      struct result *r)
{
	long lines = 0;
	snprintf(r->name, sizeof(r->name), "%s", label);
	if (run_child(argv, env, &lines) < 0)
		return -1;
	if (lines != (long)TARGET) {
		fprintf(stderr, "bench_scan: %s listed %ld functions, expected %u\n", label, lines,
			TARGET);
		return -1;
	}
	double t[MAX_RUNS];
	for (int i = 0; i < runs; i++) {
		t[i] = run_child(argv, env, NULL);
		if (t[i] < 0)
			return -1;
	}
	summarize(t, runs, r);
	return 0;
}

/* ---- the library ------------------------------------------------------------- */

/* A few facts of the tree the scan must have found (a wrong scan is not worth timing). */
static int check_scan(void)
{
	int bad = 0;
	const struct dk_pci_device *ep = dk_pci_find("0000:03:00.0");
	const struct dk_pci_device *vf = dk_pci_find("0000:03:00.4");
	const struct dk_pci_device *nv = dk_pci_find("0003:24:00.3");
	if (!ep || ep->id.vendor_id != 0x8086 || ep->id.device_id != 0x1572 ||
	    dk_pci_depth(ep) != 3 || !ep->caps.sriov.offset) {
		fprintf(stderr, "bench_scan: 0000:03:00.0 (X710 PF, depth 3) scanned wrong\n");
		bad = 1;
	}
	if (!vf || vf->physfn != ep || vf->id.device_id != 0x154c) {
		fprintf(stderr, "bench_scan: 0000:03:00.4 (VF of 0000:03:00.0) scanned wrong\n");
		bad = 1;
	}
	if (!nv || nv->id.vendor_id != 0x144d || strcmp(nv->kernel_driver, "nvme") != 0 ||
	    nv->device.numa_node != 1) {
		fprintf(stderr, "bench_scan: 0003:24:00.3 (NVMe, node 1) scanned wrong\n");
		bad = 1;
	}
	return bad ? -1 : 0;
}

static int time_library(const char *root, int runs, struct result *r)
{
	snprintf(r->name, sizeof(r->name), "dk_pci_scan() (in process)");
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.sysfs_root = root;
	p.flags = DK_INIT_NO_SCAN | DK_INIT_IN_MEMORY; /* a benchmark shares nothing */
	p.log_level = DK_LOG_ERR;
	int rc = dk_init(&p);
	if (rc < 0) {
		fprintf(stderr, "bench_scan: dk_init: %s\n", strerror(-rc));
		return -1;
	}
	double t[MAX_RUNS];
	int ret = 0;
	for (int i = -1; i < runs; i++) { /* run -1: warm-up and check */
		double t0 = now_ms();
		rc = dk_pci_scan();
		double dt = now_ms() - t0;
		if (rc != (int)TARGET || dk_pci_count() != TARGET) {
			fprintf(
			    stderr,
			    "bench_scan: dk_pci_scan() = %d, dk_pci_count() = %u, expected %u\n",
			    rc, dk_pci_count(), TARGET);
			ret = -1;
			break;
		}
		if (i < 0 && check_scan() < 0) {
			ret = -1;
			break;
		}
		if (i >= 0)
			t[i] = dt;
	}
	if (ret == 0)
		summarize(t, runs, r);
	dk_cleanup();
	return ret;
}

/* ---- main ---------------------------------------------------------------------- */

static int executable(const char *path)
{
	return path && access(path, X_OK) == 0;
}

/* The CLI next to this binary in a meson build tree, else build* below cwd. */
static const char *find_cli(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		int w = snprintf(buf, len, "%s/../tools/dmakit/dmakit", dirname(self));
		if (w > 0 && (size_t)w < len && executable(buf))
			return buf;
	}
	glob_t g;
	const char *found = NULL;
	if (glob("build*/tools/dmakit/dmakit", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc && !found; i++) {
			if (executable(g.gl_pathv[i]) && strlen(g.gl_pathv[i]) < len) {
				snprintf(buf, len, "%s", g.gl_pathv[i]);
				found = buf;
			}
		}
		globfree(&g);
	}
	return found;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_scan [--runs N] [--cli PATH] [--lspci PATH] [--tmpdir DIR] [--keep]\n"
		"  --runs N      timed runs per tool after one warm-up (default 10)\n"
		"  --cli PATH    the dmakit CLI (default: found in the build tree)\n"
		"  --lspci PATH  lspci to compare with (default /usr/bin/lspci)\n"
		"  --tmpdir DIR  where to build the tree (default $TMPDIR, else /dev/shm)\n"
		"  --keep        leave the generated sysfs tree in place\n");
}

static void print_row(const struct result *r, const struct result *base)
{
	if (!r->ran)
		return;
	printf("  %-44s %10.2f %10.2f", r->name, r->best, r->median);
	if (base && base->ran && r != base)
		printf("   %6.2fx %6.2fx", r->best / base->best, r->median / base->median);
	printf("\n");
}

int main(int argc, char **argv)
{
	int runs = 10, keep = 0;
	const char *cli = NULL, *lspci = "/usr/bin/lspci", *tmpdir = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 1 || v > MAX_RUNS) {
				fprintf(stderr, "bench_scan: --runs wants 1..%d\n", MAX_RUNS);
				return 2;
			}
			runs = (int)v;
		} else if (strcmp(argv[i], "--cli") == 0 && i + 1 < argc) {
			cli = argv[++i];
		} else if (strcmp(argv[i], "--lspci") == 0 && i + 1 < argc) {
			lspci = argv[++i];
		} else if (strcmp(argv[i], "--tmpdir") == 0 && i + 1 < argc) {
			tmpdir = argv[++i];
		} else if (strcmp(argv[i], "--keep") == 0) {
			keep = 1;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	char clibuf[PATH_MAX];
	if (!cli)
		cli = find_cli(clibuf, sizeof(clibuf));
	else if (!executable(cli))
		fprintf(stderr, "bench_scan: --cli %s is not executable: CLI not timed\n", cli);

	/* The fixture builder puts its tree under $TMPDIR. */
	if (!tmpdir && !getenv("TMPDIR") && access("/dev/shm", W_OK | X_OK) == 0)
		tmpdir = "/dev/shm";
	if (tmpdir && setenv("TMPDIR", tmpdir, 1) != 0) {
		perror("bench_scan: setenv");
		return 2;
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	struct stats st;
	double t0 = now_ms();
	struct dk_fx *fx = dk_fx_new();
	unsigned int n = build_tree(fx, &st);
	const char *root = dk_fx_root(fx);
	printf("# sysfs tree: %u PCI functions in %s (built in %.0f ms)\n", n, root, now_ms() - t0);
	printf("#   %u domains, %u root ports, %u switches x %u downstream ports; %u bridges,\n"
	       "#   %u NIC PFs, %u VFs, %u NVMe functions, %u IOMMU groups\n",
	       NDOMAINS, NDOMAINS * NROOT, NDOMAINS * NROOT, NDOWN, st.bridges, st.pfs, st.vfs,
	       st.others, st.groups);
	int failed = n != TARGET;
	char ids[PATH_MAX];
	if (dk_pci_ids_path(ids, sizeof(ids)) >= 0)
		printf("# PCI ID database: %s (names for lspci and dmakit alike)\n", ids);
	else
		printf("# no PCI ID database: dmakit prints no names (apt-get install pci.ids)\n");

	struct result res[8];
	memset(res, 0, sizeof(res));
	int nres = 0;
	struct result *lib = &res[nres++];
	if (time_library(root, runs, lib) < 0)
		failed = 1;

	char busarg[PATH_MAX + 32];
	snprintf(busarg, sizeof(busarg), "sysfs.path=%s/bus/pci", root);
	struct result *lspci_plain = NULL, *lspci_num = NULL;
	if (executable(lspci)) {
		static const char *const variants[][2] = {{NULL, "lspci (names)"},
							  {"-n", "lspci -n"},
							  {"-nn", "lspci -nn"},
							  {"-D", "lspci -D"}};
		for (int v = 0; v < 4; v++) {
			char *av[8];
			int k = 0;
			av[k++] = (char *)lspci;
			av[k++] = "-A";
			av[k++] = "linux-sysfs";
			av[k++] = "-O";
			av[k++] = busarg;
			if (variants[v][0])
				av[k++] = (char *)variants[v][0];
			av[k] = NULL;
			struct result *r = &res[nres++];
			if (time_child(variants[v][1], av, NULL, runs, r) < 0)
				failed = 1;
			else if (v == 0)
				lspci_plain = r;
			else if (v == 1)
				lspci_num = r;
		}
	} else {
		printf("# %s not found: lspci not timed (apt-get install pciutils)\n", lspci);
	}

	struct result *cli_res = NULL, *cli_num = NULL;
	if (executable(cli)) {
		char envroot[PATH_MAX + 32];
		snprintf(envroot, sizeof(envroot), "DMAKIT_SYSFS_ROOT=%s", root);
		char *env[] = {envroot, "DMAKIT_LOG_LEVEL=err", NULL};
		char *av[] = {(char *)cli, "devices", NULL};
		char *av_n[] = {(char *)cli, "devices", "-n", NULL};
		cli_res = &res[nres++];
		if (time_child("dmakit devices (names)", av, env, runs, cli_res) < 0) {
			failed = 1;
			cli_res = NULL;
		}
		cli_num = &res[nres++];
		if (time_child("dmakit devices -n", av_n, env, runs, cli_num) < 0) {
			failed = 1;
			cli_num = NULL;
		}
	} else {
		printf("# dmakit CLI not found: not timed (pass --cli PATH)\n");
	}

	printf("# %d timed runs each after one warm-up; times in ms; ratio = row / dk_pci_scan()\n",
	       runs);
	printf("  %-44s %10s %10s   %7s %7s\n", "", "best", "median", "best", "median");
	for (int i = 0; i < nres; i++)
		print_row(&res[i], lib);
	if (lib->ran && lspci_plain)
		printf(
		    "lspci/dmakit (in-process scan): best %.2f, median %.2f  (>1: dmakit faster)\n",
		    lspci_plain->best / lib->best, lspci_plain->median / lib->median);
	if (cli_res && cli_res->ran && lspci_plain)
		printf("lspci/dmakit devices, names (process vs process): best %.2f, median %.2f  "
		       "(>1: dmakit faster)\n",
		       lspci_plain->best / cli_res->best, lspci_plain->median / cli_res->median);
	if (cli_num && cli_num->ran && lspci_num)
		printf("lspci -n/dmakit devices -n, numbers (process vs process): best %.2f, median "
		       "%.2f  (>1: dmakit faster)\n",
		       lspci_num->best / cli_num->best, lspci_num->median / cli_num->median);

	if (keep)
		printf("# tree kept in %s\n", root);
	else
		dk_fx_free(fx);
	if (failed)
		printf("# FAILED: see the messages above\n");
	return failed ? 1 : 0;
}
