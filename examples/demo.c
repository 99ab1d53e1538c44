/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * demo: dmakit end to end on the VM testbed (tests/vm/run.sh, docs/vm.md):
 * an Intel IOMMU, a PCIe switch, QEMU's edu DMA engine and an NVMe
 * controller with a controller memory buffer (CMB) in BAR2. Public API only.
 *
 *   1. scan PCI and show the path from the host bridge to edu and NVMe;
 *   2. bind both to vfio-pci, register the edu driver, start the library:
 *      the VFIO backend in use (iommufd or the container) and why; the IOVA
 *      mode follows the IOMMU (its IOVA ranges and page sizes);
 *   3. open NVMe through VFIO and look at its CMB (BAR2);
 *   4. the edu driver probed edu: registers, a factorial;
 *   5. DMA round trip through edu from internal heap memory (dk_malloc);
 *   6. peer-to-peer: the NVMe's CMB becomes a P2P provider (drivers/nvme_cmb),
 *      dk_p2p_find_many picks it for edu (distance and map type shown), and
 *      edu copies host memory into CMB memory and back, the data checked
 *      through the CMB mapping;
 *   7. an external heap over memory of our own, with an IOVA table, and a
 *      DMA round trip from it;
 *   8. heap statistics;
 *   9. a mediated device: create an instance of the kernel's mtty sample, the
 *      mdev bus finds it, plugs it into the PCI bus, the mtty driver probes
 *      it; bytes through its serial port and back, with the receive interrupt;
 *      remove it (skipped with a note when the mtty module is not loaded);
 *  10. two driver classes on one device context: the library restarted with
 *      edu's "dma" and "compute" class drivers and the allow-list devarg
 *      class=dma:compute; both classes share one context, one engine and one
 *      MR cache: a factorial, DMA through two queues of the dma class, one
 *      registration for both;
 *  11. clean up and give the devices back to their drivers (steps 1-9's
 *      memory and heap were released by step 10's restart).
 *
 * Usage: demo [EDU_ADDR [NVME_ADDR]]   (default: the first edu and NVMe found)
 * Runs as root on a machine with both devices; scripts/demo.sh boots the VM
 * and runs it there. Exit status 0 when every step worked, 1 otherwise (the
 * library's messages on stderr say why).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <dmakit/dmakit.h>
#include <dmakit/edu.h>
#include <dmakit/mtty.h>
#include <dmakit/nvme_cmb.h>

#define NSTEPS         11
#define TMO_MS         5000
#define DMA_LEN        3000u      /* bytes per transfer (the edu buffer holds 4 KiB) */
#define EXT_LEN        (2u << 20) /* the external heap's memory */
#define EXT_PAGE       4096u
#define REMAP_EXT_IOVA 0x7000000000ull /* external IOVAs when IOVA != VA (see step 7) */
#define NVME_CLASS     0x010802u

struct demo {
	const char *edu_name, *nvme_name;
	char edu_addr[DK_PCI_ADDR_STR_LEN], nvme_addr[DK_PCI_ADDR_STR_LEN];
	char edu_drv[32], nvme_drv[32]; /* kernel drivers before the demo */
	int edu_bound, nvme_bound, edu_registered, initialized;
	struct dk_pci_device *edu_dev, *nvme_dev;
	struct dk_edu *edu;
	unsigned char *a, *b; /* internal heap blocks */
	int int_socket;
	unsigned char *ext; /* mmapped memory of the external heap */
	dk_iova_t *ext_iova;
	int heap_created, ext_added, ext_socket;
	unsigned char *xa, *xb; /* external heap blocks */
	int classes_registered;
	int cmb_attached;     /* step 6: the CMB is a P2P resource */
	unsigned char *cmb; /* step 6's CMB block */
	struct dk_edu_dmaq *q1, *q2; /* step 10's dma queues */
	unsigned char *ca, *cb;     /* step 10's blocks */
};

static int g_step;

static void step(const char *fmt, ...) DK_PRINTF(1, 2);
static void step(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("\n[%d/%d] ", ++g_step, NSTEPS);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

/* A detail line of the current step. */
static void say(const char *fmt, ...) DK_PRINTF(1, 2);
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("      ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

/* Report a failed call; returns -1 for `return fail(...)`. */
static int fail(const char *what, int rc)
{
	fflush(stdout);
	if (rc)
		fprintf(stderr, "demo: step %d failed: %s: %s\n", g_step, what,
			strerror(rc < 0 ? -rc : rc));
	else
		fprintf(stderr, "demo: step %d failed: %s\n", g_step, what);
	return -1;
}

static const char *mode_name(enum dk_iova_mode m)
{
	switch (m) {
	case DK_IOVA_MODE_VA:
		return "va";
	case DK_IOVA_MODE_PA:
		return "pa";
	case DK_IOVA_MODE_REMAP:
		return "remap";
	default:
		return "auto";
	}
}

static void size_text(uint64_t v, char *buf, size_t len)
{
	if (v >= (1ull << 30) && !(v & ((1ull << 30) - 1)))
		snprintf(buf, len, "%" PRIu64 " GiB", v >> 30);
	else if (v >= (1ull << 20) && !(v & ((1ull << 20) - 1)))
		snprintf(buf, len, "%" PRIu64 " MiB", v >> 20);
	else if (v >= 1024 && !(v & 1023))
		snprintf(buf, len, "%" PRIu64 " KiB", v >> 10);
	else
		snprintf(buf, len, "%" PRIu64 " B", v);
}

/* ---- 1. scan and topology ------------------------------------------------- */

static const char *role(const struct dk_pci_device *d, const struct demo *st)
{
	if (d->id.vendor_id == DK_EDU_VENDOR && d->id.device_id == DK_EDU_DEVICE)
		return "edu (QEMU's DMA teaching device)";
	if (d->id.class_id == NVME_CLASS)
		return d == st->nvme_dev ? "NVMe controller (CMB in BAR2)" : "NVMe controller";
	if (d->caps.pcie.offset) {
		switch (d->caps.pcie.port_type) {
		case DK_PCIE_TYPE_ROOT_PORT:
			return "PCIe root port";
		case DK_PCIE_TYPE_UPSTREAM:
			return "switch upstream port";
		case DK_PCIE_TYPE_DOWNSTREAM:
			return "switch downstream port";
		default:
			break;
		}
	}
	return dk_pci_is_bridge(d) ? "bridge" : "device";
}

/* 1 when d is one of the demo's devices or on the path above one. */
static int on_path(const struct dk_pci_device *d, const struct demo *st)
{
	const struct dk_pci_device *ends[2] = {st->edu_dev, st->nvme_dev};
	for (int k = 0; k < 2; k++)
		for (const struct dk_pci_device *u = ends[k]; u; u = u->upstream)
			if (u == d)
				return 1;
	return 0;
}

/* Print the devices on the path below parent (NULL: the host bridge hb). */
static void print_subtree(const struct demo *st, const struct dk_pci_device *parent, const char *hb,
			  const char *indent)
{
	const struct dk_pci_device *kids[32];
	unsigned int n = 0;
	for (unsigned int i = 0; i < dk_pci_count() && n < 32; i++) {
		const struct dk_pci_device *d = dk_pci_get(i);
		if (!d->has_addr || d->upstream != parent || !on_path(d, st))
			continue;
		if (!parent && strcmp(d->host_bridge, hb) != 0)
			continue;
		kids[n++] = d;
	}
	for (unsigned int k = 0; k < n; k++) {
		const struct dk_pci_device *d = kids[k];
		int last = k + 1 == n;
		char grp[16] = "none";
		if (d->iommu_group >= 0)
			snprintf(grp, sizeof(grp), "%d", d->iommu_group);
		printf("      %s%s %s  %04x:%04x  %-34s driver %-9s IOMMU group %s\n", indent,
		       last ? "\\-" : "+-", d->device.name, d->id.vendor_id, d->id.device_id,
		       role(d, st), d->kernel_driver[0] ? d->kernel_driver : "-", grp);
		char sub[64];
		snprintf(sub, sizeof(sub), "%s%s", indent, last ? "   " : "|  ");
		print_subtree(st, d, hb, sub);
	}
}

static int step_scan(struct demo *st)
{
	step("scan: dk_init() reads the PCI functions from sysfs (no driver probed yet)");
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_PROBE | DK_INIT_IN_MEMORY;
	int rc = dk_init(&p);
	if (rc < 0)
		return fail("dk_init", rc);
	for (unsigned int i = 0; i < dk_pci_count(); i++) {
		struct dk_pci_device *d = dk_pci_get(i);
		if (!d->has_addr)
			continue;
		int is_edu = d->id.vendor_id == DK_EDU_VENDOR && d->id.device_id == DK_EDU_DEVICE;
		int is_nvme = d->id.class_id == NVME_CLASS;
		if (st->edu_name ? strcmp(d->device.name, st->edu_name) == 0
				 : is_edu && !st->edu_dev)
			st->edu_dev = d;
		if (st->nvme_name ? strcmp(d->device.name, st->nvme_name) == 0
				  : is_nvme && !st->nvme_dev)
			st->nvme_dev = d;
	}
	say("%u PCI functions under %s/bus/pci/devices", dk_pci_count(), dk_sysfs_root());
	if (!st->edu_dev || !st->nvme_dev) {
		dk_cleanup();
		fprintf(stderr,
			"demo: no %s%s%s: this demo needs the dmakit VM testbed "
			"(scripts/demo.sh boots it; docs/vm.md)\n",
			st->edu_dev ? "" : "edu device (1234:11e8)",
			!st->edu_dev && !st->nvme_dev ? " and no " : "",
			st->nvme_dev ? "" : "NVMe controller (class 010802)");
		return -1;
	}
	if (st->edu_dev->id.vendor_id != DK_EDU_VENDOR ||
	    st->edu_dev->id.device_id != DK_EDU_DEVICE || st->nvme_dev->id.class_id != NVME_CLASS) {
		dk_cleanup();
		return fail(
		    "EDU_ADDR must be an edu device (1234:11e8), NVME_ADDR an NVMe controller "
		    "(class 010802)",
		    0);
	}
	snprintf(st->edu_addr, sizeof(st->edu_addr), "%s", st->edu_dev->device.name);
	snprintf(st->nvme_addr, sizeof(st->nvme_addr), "%s", st->nvme_dev->device.name);
	snprintf(st->edu_drv, sizeof(st->edu_drv), "%s", st->edu_dev->kernel_driver);
	snprintf(st->nvme_drv, sizeof(st->nvme_drv), "%s", st->nvme_dev->kernel_driver);
	say("the path from the host bridge to edu and NVMe (upstream links of dk_pci_device):");
	say("%s", st->edu_dev->host_bridge);
	print_subtree(st, NULL, st->edu_dev->host_bridge, "");
	if (strcmp(st->nvme_dev->host_bridge, st->edu_dev->host_bridge) != 0) {
		say("%s", st->nvme_dev->host_bridge);
		print_subtree(st, NULL, st->nvme_dev->host_bridge, "");
	}
	const struct dk_pci_device *ue = st->edu_dev->upstream, *un = st->nvme_dev->upstream;
	if (ue && un && ue->upstream && ue->upstream == un->upstream)
		say("edu and NVMe sit below one switch (%s): peers, %u bridges deep",
		    ue->upstream->device.name, dk_pci_depth(st->edu_dev));
	dk_cleanup();
	st->edu_dev = st->nvme_dev = NULL; /* device pointers end with dk_cleanup */
	return 0;
}

/* ---- 2. bind, start the library, the IOMMU -------------------------------- */

static int bind_vfio(const char *addr, const char *was, int *bound)
{
	if (strcmp(was, "vfio-pci") == 0) {
		say("%s is bound to vfio-pci already", addr);
		return 0;
	}
	int rc = dk_pci_bind(addr, "vfio-pci");
	if (rc < 0)
		return fail("dk_pci_bind", rc);
	*bound = 1;
	say("%s: %s -> vfio-pci", addr, was[0] ? was : "(no driver)");
	return 0;
}

static int step_bind(struct demo *st)
{
	step("bind edu and NVMe to vfio-pci, register the edu driver, dk_init() again");
	if (bind_vfio(st->edu_addr, st->edu_drv, &st->edu_bound) < 0 ||
	    bind_vfio(st->nvme_addr, st->nvme_drv, &st->nvme_bound) < 0)
		return -1;
	int rc = dk_edu_driver_register();
	if (rc < 0)
		return fail("dk_edu_driver_register", rc);
	st->edu_registered = 1;
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_IN_MEMORY;
	rc = dk_init(&p);
	if (rc < 0)
		return fail("dk_init", rc);
	st->initialized = 1;
	st->edu_dev = dk_pci_find(st->edu_addr);
	st->nvme_dev = dk_pci_find(st->nvme_addr);
	if (!st->edu_dev || !st->nvme_dev)
		return fail("dk_pci_find", ENOENT);

	/* edu's container: the default VFIO container, or the default IOAS (iommufd). */
	struct dk_vfio_container *c = dk_vfio_device_container(dk_pci_vfio_device(st->edu_dev));
	char why[256];
	int backend = dk_vfio_backend_select(st->edu_addr, why, sizeof(why));
	say("VFIO backend: %s (%s)", dk_vfio_backend_name(dk_vfio_container_backend(c)),
	    backend < 0 ? "the choice was refused: see above" : why);
	struct dk_vfio_iommu_info info;
	rc = dk_vfio_iommu_info(c, &info);
	if (rc < 0)
		return fail("dk_vfio_iommu_info", rc);
	if (info.iommu_type == DK_VFIO_IOMMU_IOAS) {
		say("the edu driver opened edu through its cdev at dk_init, so the default IOAS has "
		    "an IOMMU:");
		say("  type iommufd (no limit on the number of DMA mappings)");
	} else {
		say("the edu driver opened edu through VFIO at dk_init, so the default container "
		    "has an IOMMU:");
		say("  type %s, %u more DMA mappings allowed",
		    info.iommu_type == 3 ? "type1v2" : "type1", info.dma_avail);
	}
	char sizes[128] = "";
	size_t o = 0;
	for (int bit = 0; bit < 64 && o < sizeof(sizes); bit++) {
		if (!(info.iova_pgsizes & (1ull << bit)))
			continue;
		char s[24];
		size_text(1ull << bit, s, sizeof(s));
		o += (size_t)snprintf(sizes + o, sizeof(sizes) - o, "%s%s", o ? ", " : "", s);
	}
	say("  IOVA page sizes: %s", sizes);
	say("  usable IOVA ranges (%u):", info.nr_ranges);
	for (uint32_t i = 0; i < info.nr_ranges; i++)
		say("    0x%012" PRIx64 " - 0x%012" PRIx64, info.ranges[i].start,
		    info.ranges[i].end);
	uint64_t top = info.nr_ranges ? info.ranges[info.nr_ranges - 1].end : 0;
	enum dk_iova_mode m = dk_iova_mode();
	say("IOVA mode: %s", mode_name(m));
	if (m == DK_IOVA_MODE_VA)
		say("  (the ranges reach 0x%" PRIx64 ": every user address fits, so IOVA = VA)",
		    top);
	else if (m == DK_IOVA_MODE_REMAP)
		say("  (the ranges end at 0x%" PRIx64 ", below user addresses such as 0x7f...: "
		    "dmakit hands out IOVAs itself)",
		    top);
	return 0;
}

/* ---- 3. NVMe and its CMB --------------------------------------------------- */

static int step_nvme(struct demo *st)
{
	step("open NVMe %s through VFIO: BAR2 is its controller memory buffer", st->nvme_addr);
	int rc = dk_pci_vfio_open(st->nvme_dev);
	if (rc < 0)
		return fail("dk_pci_vfio_open", rc);
	struct dk_pci_region r;
	rc = dk_pci_region_info(st->nvme_dev, 2, &r);
	if (rc < 0)
		return fail("dk_pci_region_info", rc);
	if (r.size == 0)
		return fail("BAR2 is empty: this NVMe controller has no CMB "
			    "(QEMU: -device nvme,cmb_size_mb=16)",
			    0);
	static const char *const modes[] = {"not mapped", "mapped whole", "reserved + areas",
					    "area by area"};
	char sz[24];
	size_text(r.size, sz, sizeof(sz));
	say("BAR2: %s, flags %s%s%s%s, fd offset 0x%" PRIx64 ", %s at %p", sz,
	    r.flags & DK_PCI_REGION_READ ? "r" : "-", r.flags & DK_PCI_REGION_WRITE ? "w" : "-",
	    r.flags & DK_PCI_REGION_MMAP ? "m" : "-",
	    r.flags & DK_PCI_REGION_SPARSE ? " sparse" : "", r.fd_offset,
	    r.mode <= DK_PCI_MAP_SPLIT ? modes[r.mode] : "?", r.base);
	uint64_t cap = 0;
	uint32_t vs = 0;
	if ((rc = dk_pci_mmio_read64(st->nvme_dev, 0, 0x0, &cap)) < 0 ||
	    (rc = dk_pci_mmio_read32(st->nvme_dev, 0, 0x8, &vs)) < 0)
		return fail("dk_pci_mmio_read (BAR0 registers)", rc);
	say("BAR0 registers: NVMe version %u.%u, CAP 0x%016" PRIx64 " (CMBS, CMB supported: %s)",
	    vs >> 16, (vs >> 8) & 0xff, cap, (cap >> 57) & 1 ? "yes" : "no");
	/* The CMB is memory: a word written through the mapping reads back. */
	uint64_t pat = 0xd3a1c0de5eedf00dull, back = 0;
	if ((rc = dk_pci_mmio_write64(st->nvme_dev, 2, 0, pat)) < 0 ||
	    (rc = dk_pci_mmio_read64(st->nvme_dev, 2, 0, &back)) < 0)
		return fail("dk_pci_mmio_write/read (BAR2)", rc);
	if (back != pat)
		return fail("the CMB did not keep a written word", 0);
	say("wrote 0x%016" PRIx64 " at CMB offset 0 and read it back: it is memory", back);
	say("(step 6 routes edu DMA peer-to-peer into this CMB)");
	return 0;
}

/* ---- 4. the edu driver ----------------------------------------------------- */

static int step_edu(struct demo *st)
{
	step("the edu driver probed %s at dk_init: registers and a factorial", st->edu_addr);
	st->edu = dk_edu_get(st->edu_dev);
	if (!st->edu)
		return fail("dk_edu_get: the edu driver did not probe edu (see the messages above)",
			    0);
	const struct dk_driver *drv = st->edu_dev->device.driver;
	say("driver \"%s\" on %s; completion by %s", drv ? drv->name : "?", st->edu_addr,
	    dk_edu_uses_irq(st->edu) ? "MSI through an eventfd" : "polling");
	uint32_t id = 0, live = 0, fact = 0;
	int rc;
	if ((rc = dk_edu_id(st->edu, &id)) < 0)
		return fail("dk_edu_id", rc);
	if ((rc = dk_edu_liveness(st->edu, 0x12345678, &live)) < 0)
		return fail("dk_edu_liveness", rc);
	say("ID register 0x%08x, liveness: wrote 0x12345678, read 0x%08x (its complement)", id,
	    live);
	if (id != DK_EDU_ID_VALUE || live != ~0x12345678u)
		return fail("edu registers read wrong values", 0);
	if ((rc = dk_edu_factorial(st->edu, 10, &fact, TMO_MS)) < 0)
		return fail("dk_edu_factorial", rc);
	say("the device computed 10! = %u", fact);
	if (fact != 3628800u)
		return fail("the device computed a wrong 10! (3628800)", 0);
	return 0;
}

/* ---- 5./6. DMA round trips ------------------------------------------------- */

/* memory a -> edu buffer -> memory b, then compare. */
static int round_trip(struct demo *st, unsigned char *a, unsigned char *b, unsigned int seed)
{
	for (uint32_t i = 0; i < DMA_LEN; i++)
		a[i] = (unsigned char)(i * 7 + seed);
	memset(b, 0, DMA_LEN);
	int rc = dk_edu_dma_va(st->edu, 1, a, 0, DMA_LEN, TMO_MS);
	if (rc < 0)
		return fail("dk_edu_dma_va (memory to device)", rc);
	say("DMA %u bytes  A (IOVA 0x%" PRIx64 ") -> edu buffer", DMA_LEN, dk_mem_virt2iova(a));
	rc = dk_edu_dma_va(st->edu, 0, b, 0, DMA_LEN, TMO_MS);
	if (rc < 0)
		return fail("dk_edu_dma_va (device to memory)", rc);
	say("DMA %u bytes  edu buffer -> B (IOVA 0x%" PRIx64 ")", DMA_LEN, dk_mem_virt2iova(b));
	if (memcmp(a, b, DMA_LEN) != 0)
		return fail("B differs from A after the round trip", 0);
	say("verified: B == A, all %u bytes", DMA_LEN);
	return 0;
}

static void show_block(const char *tag, const void *p)
{
	struct dk_memseg ms;
	char pg[24] = "?";
	if (dk_mem_virt2memseg(p, &ms) == 0)
		size_text(ms.len, pg, sizeof(pg));
	say("%s: VA %p  IOVA 0x%" PRIx64 "  (%s page%s)", tag, p, dk_mem_virt2iova(p), pg,
	    dk_iova_mode() == DK_IOVA_MODE_VA ? ", IOVA = VA" : "");
}

static int step_dma_internal(struct demo *st)
{
	step("DMA through edu from internal heap memory (dk_malloc)");
	st->a = dk_malloc("demo", DMA_LEN, 64);
	st->b = dk_malloc("demo", DMA_LEN, 64);
	if (!st->a || !st->b)
		return fail("dk_malloc", errno);
	struct dk_memseg ms;
	int rc = dk_mem_virt2memseg(st->a, &ms);
	if (rc < 0)
		return fail("dk_mem_virt2memseg", rc);
	st->int_socket = ms.socket_id;
	show_block("A", st->a);
	show_block("B", st->b);
	say("(the heap's memory was mapped into the container when it joined the heap: "
	    "a memory event)");
	return round_trip(st, st->a, st->b, 1);
}

/* ---- 6. peer-to-peer: edu -> the NVMe CMB -> host --------------------------- */

#define CMB_LEN 8192u

static int p2p_show_provider(struct demo *st)
{
	struct dk_nvme_cmb_layout l;
	int rc = dk_nvme_cmb_attach(st->nvme_dev, NULL, &l);
	if (rc < 0)
		return fail("dk_nvme_cmb_attach", rc);
	st->cmb_attached = 1;
	char sz[24];
	size_text(l.size, sz, sizeof(sz));
	say("dk_nvme_cmb_attach: CAP.CMBS %s, CMBSZ 0x%08x, CMBLOC 0x%08x: %s at BAR %u + 0x%" PRIx64
	    "; reads and writes of data: %s",
	    l.cmbs ? "set (CMBMSC.CRE written first)" : "clear", l.cmbsz, l.cmbloc, sz, l.bar,
	    l.offset, l.publish ? "yes, so it is published" : "no, so it stays private");
	const struct dk_pci_device *clients[1] = {st->edu_dev};
	struct dk_pci_device *p = dk_p2p_find_many(clients, 1);
	if (p != st->nvme_dev)
		return fail("dk_p2p_find_many did not pick the NVMe for edu", errno);
	struct dk_p2p_path path;
	if ((rc = dk_p2p_path(p, st->edu_dev, &path)) < 0)
		return fail("dk_p2p_path", rc);
	say("dk_p2p_find_many({edu}) -> %s: distance %d, map type %s (two ports of one switch)",
	    p->device.name, path.distance, dk_p2p_map_type_name(path.map_type));
	return 0;
}

/* CPU writes in src reach dst through edu: src -> edu buffer -> dst. */
static int edu_copy(struct demo *st, uint64_t src, uint64_t dst)
{
	int rc = dk_edu_dma(st->edu, 1, src, 0, DMA_LEN, TMO_MS);
	if (rc == 0)
		rc = dk_edu_dma(st->edu, 0, dst, 0, DMA_LEN, TMO_MS);
	return rc < 0 ? fail("dk_edu_dma", rc) : 0;
}

static int p2p_copy(struct demo *st)
{
	uint64_t cmb_dma;
	int how = dk_p2p_dma_addr(st->edu_dev, st->cmb, &cmb_dma);
	if (how < 0)
		return fail("dk_p2p_dma_addr", how);
	say("CMB block %p: edu reaches it at 0x%" PRIx64 " (%s; bus address 0x%" PRIx64 ")",
	    (void *)st->cmb, cmb_dma,
	    how == DK_P2P_DMA_IOVA ? "its IOVA in the container" : "the bus address",
	    dk_p2p_virt_to_bus(st->nvme_dev, st->cmb));
	for (uint32_t i = 0; i < DMA_LEN; i++)
		st->a[i] = (unsigned char)(i * 11 + 5);
	memset(st->cmb, 0, DMA_LEN);
	if (edu_copy(st, dk_mem_virt2iova(st->a), cmb_dma) < 0)
		return -1;
	if (memcmp(st->cmb, st->a, DMA_LEN) != 0)
		return fail("the CMB does not hold A after the DMA", 0);
	say("DMA %u bytes  A -> edu buffer -> CMB: read through the CMB mapping, equal to A",
	    DMA_LEN);
	memset(st->b, 0, DMA_LEN);
	if (edu_copy(st, cmb_dma, dk_mem_virt2iova(st->b)) < 0)
		return -1;
	if (memcmp(st->b, st->cmb, DMA_LEN) != 0)
		return fail("B differs from the CMB after the DMA", 0);
	say("DMA %u bytes  CMB -> edu buffer -> B: B == CMB == A", DMA_LEN);
	return 0;
}

/* Free the CMB block and drop the provider; safe after a failure at any point. */
static int p2p_release(struct demo *st, int verbose)
{
	int status = 0, rc;
	if (st->cmb) {
		if ((rc = dk_p2p_free(st->nvme_dev, st->cmb, CMB_LEN)) < 0)
			status = fail("dk_p2p_free", rc);
		st->cmb = NULL;
		struct dk_p2p_stats s;
		if (verbose && status == 0 && dk_p2p_stats(st->nvme_dev, &s) == 0)
			say("dk_p2p_free: available back to 0x%" PRIx64 " of 0x%" PRIx64, s.available,
			    s.size);
	}
	if (st->cmb_attached) {
		if ((rc = dk_p2p_remove(st->nvme_dev)) < 0)
			status = fail("dk_p2p_remove", rc);
		else if (verbose)
			say("dk_p2p_remove: the CMB leaves the container and the provider list");
		st->cmb_attached = 0;
	}
	return status;
}

static int step_p2p(struct demo *st)
{
	step("peer-to-peer DMA: edu copies host memory into the NVMe's CMB and back");
	if (p2p_show_provider(st) < 0)
		return -1;
	st->cmb = dk_p2p_alloc(st->nvme_dev, CMB_LEN);
	if (!st->cmb)
		return fail("dk_p2p_alloc", errno);
	struct dk_p2p_stats s;
	int rc = dk_p2p_stats(st->nvme_dev, &s);
	if (rc < 0)
		return fail("dk_p2p_stats", rc);
	say("dk_p2p_alloc(%u): available 0x%" PRIx64 " of 0x%" PRIx64, CMB_LEN, s.available,
	    s.size);
	if (p2p_copy(st) < 0)
		return -1;
	return p2p_release(st, 1);
}

/* 1 when [iova, iova + len) lies inside one usable IOVA range. */
static int iova_usable(uint64_t iova, uint64_t len)
{
	struct dk_vfio_iommu_info info;
	if (dk_vfio_iommu_info(dk_vfio_container_default(), &info) < 0)
		return 0;
	for (uint32_t i = 0; i < info.nr_ranges; i++)
		if (iova >= info.ranges[i].start && iova + len - 1 <= info.ranges[i].end)
			return 1;
	return 0;
}

static int step_dma_external(struct demo *st)
{
	step("an external heap over memory of our own, DMA through edu from it");
	st->ext = mmap(NULL, EXT_LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (st->ext == MAP_FAILED) {
		st->ext = NULL;
		return fail("mmap", errno);
	}
	unsigned int n = EXT_LEN / EXT_PAGE;
	st->ext_iova = calloc(n, sizeof(*st->ext_iova));
	if (!st->ext_iova)
		return fail("calloc", errno);
	uint64_t base;
	if (dk_iova_mode() == DK_IOVA_MODE_VA) {
		base = (uintptr_t)st->ext;
		say("mmap'ed %u KiB at %p; IOVA mode va, so each page's IOVA is its VA",
		    EXT_LEN >> 10, (void *)st->ext);
	} else {
		base = REMAP_EXT_IOVA;
		say("mmap'ed %u KiB at %p: %s, so in IOVA mode %s", EXT_LEN >> 10, (void *)st->ext,
		    iova_usable((uintptr_t)st->ext, EXT_LEN) ? "a usable IOVA too"
							     : "above the IOMMU's last IOVA",
		    mode_name(dk_iova_mode()));
		say("its VA is not its IOVA. Our IOVA table starts at 0x%" PRIx64
		    " instead: inside",
		    base);
		say("the IOMMU's usable range, far from the IOVAs dmakit hands out for its own "
		    "heaps");
		say("from the low end (A of step 5 is at 0x%" PRIx64 ")", dk_mem_virt2iova(st->a));
		if (!iova_usable(base, EXT_LEN))
			return fail("0x7000000000 is outside the IOMMU's usable IOVA ranges",
				    ERANGE);
	}
	for (unsigned int i = 0; i < n; i++)
		st->ext_iova[i] = base + (uint64_t)i * EXT_PAGE;
	int rc = dk_heap_create("demo_ext");
	if (rc < 0)
		return fail("dk_heap_create", rc);
	st->heap_created = 1;
	rc = dk_heap_memory_add("demo_ext", st->ext, EXT_LEN, st->ext_iova, n, EXT_PAGE);
	if (rc < 0)
		return fail("dk_heap_memory_add", rc);
	st->ext_added = 1;
	st->ext_socket = dk_heap_get_socket("demo_ext");
	if (st->ext_socket < 0)
		return fail("dk_heap_get_socket", st->ext_socket);
	say("heap \"demo_ext\" (socket id %d): %u pages of 4 KiB with IOVAs 0x%" PRIx64
	    " - 0x%" PRIx64 ",",
	    st->ext_socket, n, base, base + EXT_LEN - 1);
	say("mapped into the container by the library (memory event ALLOC)");
	st->xa = dk_malloc_socket("demo", DMA_LEN, 64, st->ext_socket);
	st->xb = dk_malloc_socket("demo", DMA_LEN, 64, st->ext_socket);
	if (!st->xa || !st->xb)
		return fail("dk_malloc_socket", errno);
	show_block("A", st->xa);
	show_block("B", st->xb);
	if (dk_mem_virt2iova(st->xa) != base + (uint64_t)(st->xa - st->ext))
		return fail("the block's IOVA is not the one of our table", 0);
	return round_trip(st, st->xa, st->xb, 2);
}

/* ---- 7. statistics ----------------------------------------------------------- */

static int print_stats(int socket)
{
	struct dk_heap_stats s;
	int rc = dk_malloc_get_stats(socket, &s);
	if (rc < 0)
		return fail("dk_malloc_get_stats", rc);
	say("%-10s socket %3d  %9" PRIu64 " bytes, %7" PRIu64 " allocated in %" PRIu64
	    " blocks, %9" PRIu64 " free (largest %" PRIu64 ")",
	    s.name, s.socket_id, s.heap_bytes, s.alloc_bytes, s.alloc_count, s.free_bytes,
	    s.greatest_free);
	return 0;
}

static int step_stats(struct demo *st)
{
	step("heap statistics (dk_malloc_get_stats), the four blocks still allocated");
	if (print_stats(st->int_socket) < 0 || print_stats(st->ext_socket) < 0)
		return -1;
	return 0;
}

/* ---- 8. a mediated device ------------------------------------------------------ */

static int mtty_exchange(struct dk_mtty *m)
{
	static const char msg[] = "hello, mdev";
	char back[32] = "";
	int rc = dk_mtty_send(m, 0, msg, sizeof(msg) - 1);
	if (rc < 0)
		return fail("dk_mtty_send", rc);
	say("port 0: wrote \"%s\" to the transmitter (pwrite on BAR0 through VFIO)", msg);
	if ((rc = dk_mtty_wait_rx(m, 0, TMO_MS)) < 0)
		return fail("dk_mtty_wait_rx", rc);
	say("the receive interrupt arrived on its eventfd (%s)",
	    dk_mtty_irq_mode(m) == DK_MTTY_IRQ_MSI ? "MSI" : "INTx");
	rc = dk_mtty_recv(m, 0, back, sizeof(msg) - 1, TMO_MS);
	if (rc < 0)
		return fail("dk_mtty_recv", rc);
	say("read back \"%.*s\" from the receiver: %s", rc, back,
	    rc == (int)sizeof(msg) - 1 && memcmp(back, msg, sizeof(msg) - 1) == 0 ? "the same bytes"
										 : "DIFFERENT");
	return rc == (int)sizeof(msg) - 1 && memcmp(back, msg, sizeof(msg) - 1) == 0
		       ? 0
		       : fail("the mtty loopback returned other bytes", 0);
}

static int step_mdev(struct demo *st)
{
	(void)st;
	step("a mediated device: an mtty instance, found by the mdev bus, probed as a PCI device");
	if (!dk_mdev_parent_find("mtty")) {
		say("no mdev parent \"mtty\" (load the kernel's mtty sample module): step skipped");
		return 0;
	}
	char uuid[DK_MDEV_UUID_LEN];
	int rc = dk_mtty_driver_register();
	if (rc < 0 && rc != -EEXIST)
		return fail("dk_mtty_driver_register", rc);
	rc = dk_mdev_create("mtty", "mtty-2", NULL, uuid);
	if (rc < 0) {
		dk_mtty_driver_unregister();
		return fail("dk_mdev_create", rc);
	}
	say("dk_mdev_create(\"mtty\", \"mtty-2\"): instance %s", uuid);
	rc = dk_mdev_scan();
	struct dk_pci_device *d = rc < 0 ? NULL : dk_pci_find(uuid);
	struct dk_mtty *m = d ? dk_mtty_get(d) : NULL;
	if (!m) {
		rc = fail("the mtty driver did not probe the new instance", rc < 0 ? rc : -ENODEV);
	} else {
		const struct dk_mdev_device *md = dk_mdev_find(uuid);
		say("dk_mdev_scan: the mdev bus found it (device_api %s, IOMMU group %d), opened it "
		    "through VFIO and plugged it into the PCI bus as %04x:%04x, class %06x",
		    md ? md->device_api : "?", md ? md->iommu_group : -1, d->id.vendor_id,
		    d->id.device_id, d->id.class_id & 0xffffffu);
		say("the mtty driver probed it by its ID table: %d ports, I/O BARs of 8 bytes, "
		    "never mapped", dk_mtty_port_count(m));
		rc = mtty_exchange(m);
	}
	int rrc = dk_mdev_remove(uuid);
	if (rrc < 0)
		rc = fail("dk_mdev_remove", rrc);
	else
		say("dk_mdev_remove: driver removed, instance unplugged and removed");
	dk_mtty_driver_unregister();
	return rc < 0 ? -1 : 0;
}

/* ---- 10. clean up -------------------------------------------------------------- */

static int give_back(const char *addr, const char *was)
{
	int rc;
	if (was[0] && strcmp(was, "vfio-pci") != 0) {
		rc = dk_pci_bind(addr, was);
		if (rc == 0)
			say("%s: vfio-pci -> %s (its driver before the demo)", addr, was);
	} else {
		rc = dk_pci_unbind(addr);
		if (rc == 0)
			say("%s: unbound from vfio-pci", addr);
	}
	return rc < 0 ? fail(was[0] ? "dk_pci_bind (back)" : "dk_pci_unbind", rc) : 0;
}

/* Undo what step 10 set up (before dk_cleanup). */
static void release_classes(struct demo *st, int verbose)
{
	if (verbose && (st->q1 || st->q2 || st->ca || st->cb))
		say("dk_edu_dmaq_destroy: both queues (a class with queues cannot be removed); "
		    "dk_free: the two blocks");
	dk_edu_dmaq_destroy(st->q1);
	dk_edu_dmaq_destroy(st->q2);
	st->q1 = st->q2 = NULL;
	dk_free(st->ca);
	dk_free(st->cb);
	st->ca = st->cb = NULL;
}

/* Free the memory, stop the library, unregister the drivers; safe after a
 * failure at any point. The devices stay bound to vfio-pci. */
static int release_library(struct demo *st, int verbose)
{
	int status = p2p_release(st, verbose), rc;
	release_classes(st, verbose);
	if (st->xa || st->xb || st->a || st->b) {
		dk_free(st->xa);
		dk_free(st->xb);
		dk_free(st->a);
		dk_free(st->b);
		st->xa = st->xb = st->a = st->b = NULL;
		if (verbose)
			say("dk_free: the four blocks");
	}
	if (st->ext_added) {
		if ((rc = dk_heap_memory_remove("demo_ext", st->ext, EXT_LEN)) < 0)
			status = fail("dk_heap_memory_remove", rc);
		else if (verbose)
			say("dk_heap_memory_remove: the 2 MiB leave the heap and the container "
			    "(memory event FREE)");
		st->ext_added = 0;
	}
	if (st->heap_created) {
		if ((rc = dk_heap_destroy("demo_ext")) < 0)
			status = fail("dk_heap_destroy", rc);
		else if (verbose)
			say("dk_heap_destroy(\"demo_ext\")");
		st->heap_created = 0;
	}
	if (st->ext && !st->ext_added) {
		munmap(st->ext, EXT_LEN);
		st->ext = NULL;
	}
	free(st->ext_iova);
	st->ext_iova = NULL;
	if (st->initialized) {
		dk_cleanup(); /* removes the edu driver, closes NVMe and the container */
		st->initialized = 0;
		if (verbose)
			say("dk_cleanup: driver%s removed, devices closed, container gone",
			    st->classes_registered ? "s (both classes, then the context)" : "");
	}
	if (st->edu_registered) {
		dk_edu_driver_unregister();
		st->edu_registered = 0;
	}
	if (st->classes_registered) {
		dk_edu_classes_unregister();
		st->classes_registered = 0;
	}
	return status;
}

/* Undo whatever was done; safe after a failure at any point. */
static int cleanup(struct demo *st, int verbose)
{
	int status = release_library(st, verbose);
	if (st->edu_bound && give_back(st->edu_addr, st->edu_drv) < 0)
		status = -1;
	if (st->nvme_bound && give_back(st->nvme_addr, st->nvme_drv) < 0)
		status = -1;
	st->edu_bound = st->nvme_bound = 0;
	return status;
}

/* ---- 9. two classes, one context, one registration -------------------------- */

static int restart_with_classes(struct demo *st)
{
	if (release_library(st, 0) < 0)
		return -1;
	say("dk_cleanup; the edu PCI driver unregistered; edu's class drivers \"dma\" and "
	    "\"compute\" registered instead");
	int rc = dk_edu_classes_register();
	if (rc < 0)
		return fail("dk_edu_classes_register", rc);
	st->classes_registered = 1;
	char entry[DK_PCI_ADDR_STR_LEN + 32];
	snprintf(entry, sizeof(entry), "%s,class=dma:compute", st->edu_addr);
	const char *allow[] = {entry, NULL};
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_IN_MEMORY;
	p.allow = allow;
	rc = dk_init(&p);
	if (rc < 0)
		return fail("dk_init", rc);
	st->initialized = 1;
	say("dk_init with the allow list \"%s\": the common driver creates one context for edu",
	    entry);
	say("and probes both classes on it, in registration order");
	st->edu_dev = dk_pci_find(st->edu_addr);
	st->nvme_dev = dk_pci_find(st->nvme_addr);
	if (!st->edu_dev)
		return fail("dk_pci_find", ENOENT);
	return 0;
}

/* a -> edu through qa, edu -> b through qb, compare. */
static int queue_trip(struct dk_edu_dmaq *qa, struct dk_edu_dmaq *qb, unsigned char *a,
		      unsigned char *b, unsigned int seed)
{
	for (uint32_t i = 0; i < DMA_LEN; i++)
		a[i] = (unsigned char)(i * 11 + seed);
	memset(b, 0, DMA_LEN);
	int rc = dk_edu_dmaq_copy(qa, 1, a, 0, DMA_LEN, TMO_MS);
	if (rc == 0)
		rc = dk_edu_dmaq_copy(qb, 0, b, 0, DMA_LEN, TMO_MS);
	if (rc < 0)
		return fail("dk_edu_dmaq_copy", rc);
	if (memcmp(a, b, DMA_LEN) != 0)
		return fail("the copy differs after the round trip", 0);
	return 0;
}

static int mr_registrations(struct dk_cdev *cdev, uint64_t *n)
{
	struct dk_mr_stats ms;
	int rc = dk_mr_cache_stats(cdev->mr, &ms);
	if (rc < 0)
		return fail("dk_mr_cache_stats", rc);
	*n = ms.registrations;
	return 0;
}

static int step_classes(struct demo *st)
{
	step("two driver classes on one device context, sharing one MR cache");
	if (restart_with_classes(st) < 0)
		return -1;
	struct dk_cdev *cdev = dk_cdev_of(st->edu_dev);
	struct dk_edu_dma *dma = dk_edu_dma_get(st->edu_dev);
	struct dk_edu_compute *comp = dk_edu_compute_get(st->edu_dev);
	if (!cdev || !dma || !comp || !cdev->mr)
		return fail("the classes did not probe edu (see the messages above)", 0);
	say("context %p: class dma -> %p, class compute -> %p (one context, one engine: %s)",
	    (void *)cdev, (void *)dk_edu_dma_cdev(dma), (void *)dk_edu_compute_cdev(comp),
	    dk_edu_dma_engine(dma) == dk_edu_compute_engine(comp) ? "yes" : "NO");
	uint32_t fact = 0;
	int rc = dk_edu_compute_factorial(comp, 12, &fact, TMO_MS);
	if (rc < 0)
		return fail("dk_edu_compute_factorial", rc);
	say("class compute: 12! = %u", fact);
	if (fact != 479001600u)
		return fail("the device computed a wrong 12! (479001600)", 0);

	st->q1 = dk_edu_dmaq_create(dma);
	st->q2 = dk_edu_dmaq_create(dma);
	st->ca = dk_malloc("demo", DMA_LEN, 64);
	st->cb = dk_malloc("demo", DMA_LEN, 64);
	if (!st->q1 || !st->q2 || !st->ca || !st->cb)
		return fail("dk_edu_dmaq_create / dk_malloc", errno);
	uint64_t before = 0, after = 0;
	if (mr_registrations(cdev, &before) < 0)
		return -1;
	if (queue_trip(st->q1, st->q2, st->ca, st->cb, 3) < 0 ||
	    queue_trip(st->q2, st->q1, st->cb, st->ca, 4) < 0)
		return -1;
	if (mr_registrations(cdev, &after) < 0)
		return -1;
	say("class dma: two queues, A -> edu -> B and back, %u bytes each way: verified", DMA_LEN);
	struct dk_mr_ctrl probe;
	uint32_t key = 0;
	dk_iova_t iova = 0;
	dk_mr_ctrl_init(&probe, cdev->mr);
	rc = dk_mr_lookup(&probe, st->ca, DMA_LEN, &key, &iova);
	dk_mr_ctrl_fini(&probe);
	if (rc < 0)
		return fail("dk_mr_lookup", rc);
	say("A translates to key %u, IOVA 0x%" PRIx64 " in the context's MR cache", key, iova);
	say("registrations for both queues (and any class of the context): %" PRIu64
	    " (per-class or per-queue caches would register it twice)",
	    after - before);
	if (after - before != 1)
		return fail("the memory run was not registered exactly once", 0);
	return 0;
}

int main(int argc, char **argv)
{
	struct demo st;
	memset(&st, 0, sizeof(st));
	if (argc > 3 || (argc > 1 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: %s [EDU_ADDR [NVME_ADDR]]\n", argv[0]);
		return 2;
	}
	st.edu_name = argc > 1 ? argv[1] : NULL;
	st.nvme_name = argc > 2 ? argv[2] : NULL;
	setvbuf(stdout, NULL, _IOLBF, 0); /* keep our lines in order with the library's */
	printf("dmakit %s demo: userspace DMA through VFIO and an IOMMU, step by step\n",
	       dk_version());

	if (step_scan(&st) < 0 || step_bind(&st) < 0 || step_nvme(&st) < 0 || step_edu(&st) < 0 ||
	    step_dma_internal(&st) < 0 || step_p2p(&st) < 0 || step_dma_external(&st) < 0 || step_stats(&st) < 0 ||
	    step_mdev(&st) < 0 || step_classes(&st) < 0) {
		cleanup(&st, 0);
		fprintf(stderr, "demo: FAILED (step %d of %d)\n", g_step, NSTEPS);
		return 1;
	}
	step("clean up: destroy the queues, free, dk_cleanup, give the devices back");
	if (cleanup(&st, 1) < 0) {
		fprintf(stderr, "demo: FAILED (clean-up)\n");
		return 1;
	}
	printf("\ndemo: all %d steps done\n", NSTEPS);
	return 0;
}
