/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_mmio: cost of a 32-bit register read through the BAR mapping
 * against the same read through pread() on the VFIO device fd, in the test
 * VM (tests/vm/run.sh; bench/mmio.sh builds and boots it).
 *
 *   1. edu (0000:03:00.0, bound to vfio-pci with dk_pci_bind): its ID
 *      register (BAR0 0x00) read N times (a) with a plain volatile load from
 *      the mapping, (b) with dk_pci_mmio_read32 through the mapping, (c) with
 *      dk_pci_mmio_read32 forced onto pread (the internal force_rw switch of
 *      pci_internal.h), (d) with a bare pread() on the device fd.
 *   2. dk_sparse (an instance made with dk_mdev_create, opened with
 *      dk_pci_mdev_open): dk_pci_mmio_read32 of a word of mapped area 1
 *      (the mapping: kernel memory, no device emulation) and of the trapped
 *      ID register (pread into the mdev driver).
 *
 * Each case: one untimed warm-up of N/10, then --runs timed runs of N reads
 * (CLOCK_MONOTONIC); reported: the median and best ns per read, and the
 * ratios pread / mapping (above 1: the mapping is faster). Every value read
 * is checked against the register's known contents.
 *
 * Under TCG (the suite's QEMU has no KVM) a mapped read of edu is a trip
 * into QEMU's device model and pread adds the guest's syscall and vfio-pci
 * on top: the absolute times are emulation costs, only the ratios say
 * something. Output: TAP (one case per device; "1..0 # SKIP" outside the
 * VM) with '# ' result lines. Exit status 0, 1 on a wrong value or setup
 * failure, 2 usage.
 * usage: bench_mmio [--reads N] [--runs N]   (in the VM: defaults 20000, 5)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dmakit/dmakit.h>

#include "bus/pci/pci_internal.h"

#define EDU          "0000:03:00.0"
#define EDU_ID_VALUE 0x010000edu
#define DKS_ID_VALUE 0x50536b64u /* tests/vm/kmod/dk_sparse_regs.h */
#define DKS_AREA1    0x4000u
#define MAX_RUNS     51

static unsigned int g_reads = 20000, g_runs = 5;

enum method { M_LOAD, M_MMIO, M_FORCED, M_PREAD };
static const char *const method_name[] = {
    "volatile load from the mapping", "dk_pci_mmio_read32, mapping",
    "dk_pci_mmio_read32, forced pread", "pread() on the device fd"};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* n reads of BAR0 offset off by method m; 0, or -1 on a wrong value. */
static int reads(struct dk_pci_device *d, enum method m, uint64_t off, uint32_t expect,
		 unsigned int n)
{
	struct dk__pci_dev *in = dk__pci_dev(d);
	struct dk_pci_region r;
	if (dk_pci_region_info(d, 0, &r) < 0)
		return -1;
	in->vfio->force_rw = m == M_FORCED;
	volatile uint32_t *p = NULL;
	if (m == M_LOAD) {
		const struct dk_pci_map_area *a =
		    dk__pci_region_area(&in->vfio->regions[0], off, 4);
		if (!a)
			return -1;
		p = (volatile uint32_t *)((uint8_t *)a->addr + (off - a->offset));
	}
	int fd = in->vfio->fd;
	off_t pos = (off_t)(r.fd_offset + off);
	uint32_t bad = 0;
	for (unsigned int i = 0; i < n; i++) {
		uint32_t v = 0;
		switch (m) {
		case M_LOAD:
			v = *p;
			break;
		case M_MMIO:
		case M_FORCED:
			if (dk_pci_mmio_read32(d, 0, off, &v) < 0)
				v = ~expect;
			break;
		case M_PREAD:
			if (pread(fd, &v, 4, pos) != 4)
				v = ~expect;
			break;
		}
		bad |= v ^ expect;
	}
	in->vfio->force_rw = 0;
	return bad ? -1 : 0;
}

/* Median and best ns per read; -1 on a wrong value. */
static int measure(struct dk_pci_device *d, enum method m, uint64_t off, uint32_t expect,
		   double *median, double *best)
{
	uint64_t t[MAX_RUNS];
	if (reads(d, m, off, expect, g_reads / 10 + 1) < 0)
		return -1;
	for (unsigned int i = 0; i < g_runs; i++) {
		uint64_t t0 = now_ns();
		if (reads(d, m, off, expect, g_reads) < 0)
			return -1;
		t[i] = now_ns() - t0;
	}
	qsort(t, g_runs, sizeof(t[0]), cmp_u64);
	*median = (double)t[g_runs / 2] / g_reads;
	*best = (double)t[0] / g_reads;
	return 0;
}

static int bench_edu(void)
{
	int rc = dk_pci_bind(EDU, "vfio-pci");
	struct dk_pci_device *d = dk_pci_find(EDU);
	if (rc < 0 || !d || dk_pci_vfio_open(d) < 0) {
		printf("not ok 1 - edu: cannot bind/open " EDU " through VFIO\n");
		return 1;
	}
	double med[4], best[4];
	for (int m = M_LOAD; m <= M_PREAD; m++) {
		if (measure(d, (enum method)m, 0, EDU_ID_VALUE, &med[m], &best[m]) < 0) {
			printf("not ok 1 - edu: %s read a wrong ID\n", method_name[m]);
			dk_pci_vfio_close(d);
			dk_pci_unbind(EDU);
			return 1;
		}
	}
	printf("ok 1 - edu: ID register, %u reads x %u runs per method\n", g_reads, g_runs);
	for (int m = M_LOAD; m <= M_PREAD; m++)
		printf("# edu %-34s %10.1f ns/read (best %.1f)\n", method_name[m], med[m], best[m]);
	printf("# edu ratio pread/mapping (dk_pci_mmio_read32 forced / mapped): %.2f\n",
	       med[M_FORCED] / med[M_MMIO]);
	printf("# edu ratio pread()/volatile load (raw): %.2f\n", med[M_PREAD] / med[M_LOAD]);
	dk_pci_vfio_close(d);
	dk_pci_unbind(EDU);
	return 0;
}

static int bench_sparse(void)
{
	struct stat st;
	char uuid[DK_MDEV_UUID_LEN];
	if (stat("/sys/class/mdev_bus/dk_sparse", &st) != 0) {
		printf("ok 2 - dk_sparse # SKIP dk_sparse.ko not loaded\n");
		return 0;
	}
	struct dk_pci_device *d = NULL;
	if (dk_mdev_create("dk_sparse", "dk_sparse-1", NULL, uuid) < 0 ||
	    dk_pci_mdev_open(uuid, 0, &d) < 0) {
		printf("not ok 2 - dk_sparse: cannot create/open an instance\n");
		if (uuid[0])
			dk_mdev_remove(uuid);
		return 1;
	}
	int fail = dk_pci_mmio_write32(d, 0, DKS_AREA1, 0x600dcafe) < 0;
	double mm = 0, mb = 0, tm = 0, tb = 0;
	fail = fail || measure(d, M_MMIO, DKS_AREA1, 0x600dcafe, &mm, &mb) < 0 ||
	       measure(d, M_MMIO, 0, DKS_ID_VALUE, &tm, &tb) < 0;
	dk_pci_mdev_close(d);
	dk_mdev_remove(uuid);
	if (fail) {
		printf("not ok 2 - dk_sparse: a wrong value\n");
		return 1;
	}
	printf("ok 2 - dk_sparse: mapped area word vs trapped ID register, dk_pci_mmio_read32\n");
	printf("# dk_sparse mapped area (kernel page)  %10.1f ns/read (best %.1f)\n", mm, mb);
	printf("# dk_sparse trapped register (pread)   %10.1f ns/read (best %.1f)\n", tm, tb);
	printf("# dk_sparse ratio trapped/mapped: %.1f\n", tm / mm);
	return 0;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--reads") == 0)
			g_reads = (unsigned int)strtoul(argv[++i], NULL, 0);
		else if (i + 1 < argc && strcmp(argv[i], "--runs") == 0)
			g_runs = (unsigned int)strtoul(argv[++i], NULL, 0);
		else {
			fprintf(stderr, "usage: bench_mmio [--reads N] [--runs N]\n");
			return 2;
		}
	}
	if (g_reads == 0 || g_runs == 0 || g_runs > MAX_RUNS) {
		fprintf(stderr, "bench_mmio: --reads must be > 0 and --runs 1..%d\n", MAX_RUNS);
		return 2;
	}
	if (!getenv("DK_VM")) {
		printf("1..0 # SKIP not in the dmakit test VM (run bench/mmio.sh)\n");
		return 0;
	}
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_PROBE | DK_INIT_IN_MEMORY;
	if (dk_init(&p) < 0) {
		printf("1..0 # SKIP dk_init failed\n");
		return 1;
	}
	printf("1..2\n");
	int rc = bench_edu();
	rc |= bench_sparse();
	dk_cleanup();
	return rc;
}
