/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VM test: limits of DMA. A driver whose device reaches only 32 address bits
 * makes dk_init pick IOVA mode remap under both IOMMU widths, with every IOVA
 * below 4 GiB, and DMA through edu still works. The kernel's limit of DMA
 * mappings per container (vfio_iommu_type1 dma_entry_limit, lowered for the
 * test) gives -ENOSPC with a message naming the fix.
 */
#include <stdio.h>
#include <sys/mman.h>

#include <dmakit/edu.h>

#include "vm_common.h"

#define TMO 5000
#define LIMIT_PARAM "/sys/module/vfio_iommu_type1/parameters/dma_entry_limit"

static int probed;

static int narrow_probe(struct dk_pci_driver *drv, struct dk_pci_device *dev)
{
	(void)drv;
	(void)dev;
	probed++;
	return 0;
}

static const struct dk_pci_id_match g_ids[] = {
	DK_PCI_DEVICE(DK_EDU_VENDOR, DK_EDU_DEVICE),
	{.vendor_id = 0},
};

static struct dk_pci_driver g_narrow = {
	.driver = {.name = "narrow32"},
	.id_table = g_ids,
	.flags = DK_PCI_DRV_NEED_VFIO,
	.probe = narrow_probe,
	.dma_addr_bits = 32,
};

static void start(unsigned int flags)
{
	if (!getenv("DK_VM"))
		SKIP("not in the dmakit test VM (run it with tests/vm/run.sh)");
	REQUIRE_INT_EQ(dk_pci_bind(VM_EDU, "vfio-pci"), 0);
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_IN_MEMORY | flags;
	REQUIRE_INT_EQ(dk_init(&p), 0);
}

DK_TEST(a_32_bit_device_gets_iovas_below_4_gib)
{
	int rc = dk_pci_driver_register(&g_narrow);
	REQUIRE(rc == 0 || rc == -EEXIST);
	probed = 0;
	start(0);
	CHECK_INT_EQ(probed, 1);
	CHECK_INT_EQ(dk_iova_mode(), DK_IOVA_MODE_REMAP);
	unsigned char *a = dk_malloc(NULL, 3000, 64), *b = dk_malloc(NULL, 3000, 64);
	REQUIRE(a && b);
	unsigned char *big = dk_malloc(NULL, 64u << 20, 4096); /* a second page list */
	REQUIRE(big != NULL);
	CHECK(dk_mem_virt2iova(a) + 3000 <= 0x100000000ull);
	CHECK(dk_mem_virt2iova(big) + (64u << 20) <= 0x100000000ull);
	CHECK(dk_mem_virt2iova(a) < 0xfee00000 || dk_mem_virt2iova(a) >= 0xfef00000);
	struct dk_pci_device *d = dk_pci_find(VM_EDU);
	REQUIRE(d != NULL);
	struct dk_edu *e;
	REQUIRE_INT_EQ(dk_edu_open(d, &e), 0);
	for (int i = 0; i < 3000; i++)
		a[i] = (unsigned char)(i * 3 + 1);
	memset(b, 0, 3000);
	CHECK_INT_EQ(dk_edu_dma_va(e, 1, a, 0, 3000, TMO), 0);
	CHECK_INT_EQ(dk_edu_dma_va(e, 0, b, 0, 3000, TMO), 0);
	CHECK(memcmp(a, b, 3000) == 0);
	dk_edu_close(e);
	dk_free(big);
	dk_free(a);
	dk_free(b);
	dk_cleanup();
	CHECK_INT_EQ(dk_pci_driver_unregister(&g_narrow), 0);
}

static long read_param(void)
{
	FILE *f = fopen(LIMIT_PARAM, "r");
	long v = -1;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int write_param(long v)
{
	FILE *f = fopen(LIMIT_PARAM, "w");
	if (!f)
		return -1;
	fprintf(f, "%ld\n", v);
	return fclose(f);
}

DK_TEST(mapping_limit_is_enospc)
{
	if (!getenv("DK_VM"))
		SKIP("not in the dmakit test VM (run it with tests/vm/run.sh)");
	long old = read_param();
	REQUIRE(old > 0);
	REQUIRE_INT_EQ(write_param(8), 0); /* read when a container gets its IOMMU */
	/* The limit is type1's; an IOAS has none: on a kernel with iommufd, ask for the
	 * container (vm_iommufd covers the IOAS). */
	setenv("DMAKIT_VFIO_BACKEND", "container", 1);
	start(DK_INIT_NO_PROBE);
	unsetenv("DMAKIT_VFIO_BACKEND");
	struct dk_pci_device *d = dk_pci_find(VM_EDU);
	int rc = d ? dk_pci_vfio_open(d) : -ENODEV;
	if (rc < 0)
		write_param(old);
	REQUIRE_INT_EQ(rc, 0);
	size_t n = 16;
	unsigned char *mem = mmap(NULL, n * 8192, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	REQUIRE(mem != MAP_FAILED);
	/* Pages two apart: no two mappings touch, each takes an entry. */
	uint64_t iova = dk_iova_mode() == DK_IOVA_MODE_VA ? (uintptr_t)mem : 0x7200000000ull;
	dk_test_log_capture_start();
	size_t done = 0;
	for (; done < n; done++) {
		rc = dk_dev_dma_map(&d->device, mem + done * 8192, iova + done * 8192, 4096);
		if (rc < 0)
			break;
	}
	CHECK_INT_EQ(rc, -ENOSPC);
	CHECK(done >= 1 && done <= 8);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "dma_entry_limit");
	dk_test_log_capture_stop();
	for (size_t i = 0; i < done; i++)
		CHECK_INT_EQ(dk_dev_dma_unmap(&d->device, mem + i * 8192, iova + i * 8192, 4096), 0);
	/* The entries are back: one more map works. */
	CHECK_INT_EQ(dk_dev_dma_map(&d->device, mem, iova, 4096), 0);
	CHECK_INT_EQ(dk_dev_dma_unmap(&d->device, mem, iova, 4096), 0);
	munmap(mem, n * 8192);
	dk_cleanup();
	CHECK_INT_EQ(write_param(old), 0);
	dk_pci_unbind(VM_EDU);
}
