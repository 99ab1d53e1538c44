/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VM test: DMA. The IOVA mode dk_init picks for the VM's IOMMU (va with
 * aw-bits 48, remap with 39), heap memory mapped into the container through
 * memory events, edu DMA round trips (drivers/edu) from internal heap memory
 * and from an external heap, dk_dev_dma_map of non-heap memory, and the bad
 * inputs of DMA mapping. edu is bound to vfio-pci before dk_init, so the
 * IOVA mode is chosen from the IOMMU's ranges.
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include <dmakit/edu.h>

#include "dma/dma_domain.h"
#include "vm_common.h"

#define TMO 5000

static struct dk_pci_device *g_dev;
static struct dk_edu *g_edu;

/* Bind edu, start the library with the edu driver registered. */
static void start(void)
{
	if (!getenv("DK_VM"))
		SKIP("not in the dmakit test VM (run it with tests/vm/run.sh)");
	vm_start_edu(&g_dev, &g_edu);
}

DK_TEST(iova_mode_follows_the_iommu_width)
{
	start();
	if (vm_aw_bits() == 48) {
		CHECK_INT_EQ(dk_iova_mode(), DK_IOVA_MODE_VA);
	} else {
		CHECK_INT_EQ(dk_iova_mode(), DK_IOVA_MODE_REMAP);
	}
	void *p = dk_malloc(NULL, 4096, 4096);
	REQUIRE(p != NULL);
	dk_iova_t io = dk_mem_virt2iova(p);
	if (vm_aw_bits() == 48) {
		CHECK_INT_EQ(io, (uintptr_t)p);
	} else {
		CHECK(io != DK_BAD_IOVA);
		CHECK(io + 4096 <= ((uint64_t)1 << 39));
		CHECK(io < 0xfee00000 || io >= 0xfef00000); /* not in the MSI window */
	}
	dk_free(p);
}

DK_TEST(driver_probed_and_registers_work)
{
	start();
	uint32_t v;
	CHECK_INT_EQ(dk_edu_id(g_edu, &v), 0);
	CHECK_INT_EQ(v, DK_EDU_ID_VALUE);
	CHECK_INT_EQ(dk_edu_liveness(g_edu, 0x12345678, &v), 0);
	CHECK_INT_EQ(v, ~0x12345678u);
	CHECK_INT_EQ(dk_edu_factorial(g_edu, 10, &v, TMO), 0);
	CHECK_INT_EQ(v, 3628800);
	CHECK_INT_EQ(dk_edu_uses_irq(g_edu), 1);
}

static void roundtrip(unsigned char *a, unsigned char *b, uint32_t len, unsigned int seed)
{
	for (uint32_t i = 0; i < len; i++)
		a[i] = (unsigned char)(i * 13 + seed);
	memset(b, 0, len);
	CHECK_INT_EQ(dk_edu_dma_va(g_edu, 1, a, 8, len, TMO), 0);
	CHECK_INT_EQ(dk_edu_dma_va(g_edu, 0, b, 8, len, TMO), 0);
	CHECK(memcmp(a, b, len) == 0);
}

DK_TEST(dma_round_trip_internal_heap)
{
	start();
	uint64_t irqs = dk_edu_irq_count(g_edu);
	unsigned char *a = dk_malloc(NULL, 3000, 64), *b = dk_malloc(NULL, 3000, 64);
	REQUIRE(a && b);
	roundtrip(a, b, 3000, 1);
	CHECK(dk_edu_irq_count(g_edu) >= irqs + 2); /* completion came by MSI */
	/* A block from a fresh heap region (the heap grows: an ALLOC event maps it). */
	unsigned char *big = dk_malloc(NULL, 48u << 20, 4096);
	REQUIRE(big != NULL);
	roundtrip(big + (40u << 20), b, 2000, 2);
	dk_free(big);
	dk_free(a);
	dk_free(b);
}

/* Without MSI the driver polls the status registers: same results. */
DK_TEST(polling_fallback_completes)
{
	start();
	REQUIRE_INT_EQ(dk_edu_set_polling(g_edu, 1), 0);
	CHECK_INT_EQ(dk_edu_uses_irq(g_edu), 0);
	uint64_t irqs = dk_edu_irq_count(g_edu);
	uint32_t v;
	CHECK_INT_EQ(dk_edu_factorial(g_edu, 12, &v, TMO), 0);
	CHECK_INT_EQ(v, 479001600);
	unsigned char *a = dk_malloc(NULL, 1500, 64), *b = dk_malloc(NULL, 1500, 64);
	REQUIRE(a && b);
	roundtrip(a, b, 1500, 9);
	CHECK_INT_EQ(dk_edu_irq_count(g_edu), irqs); /* no interrupt was used */
	dk_free(a);
	dk_free(b);
	CHECK_INT_EQ(dk_edu_set_polling(g_edu, 0), 0);
	CHECK_INT_EQ(dk_edu_uses_irq(g_edu), 1);
}

DK_TEST(dma_round_trip_external_heap)
{
	start();
	size_t len = 2u << 20, n = len / 4096;
	unsigned char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	REQUIRE(mem != MAP_FAILED);
	dk_iova_t *iova = calloc(n, sizeof(*iova));
	REQUIRE(iova != NULL);
	/* va mode: IOVA = VA; remap: IOVAs of our own choosing inside 39 bits. */
	uint64_t base = vm_aw_bits() == 48 ? (uintptr_t)mem : 0x7000000000ull;
	for (size_t i = 0; i < n; i++)
		iova[i] = base + i * 4096;
	REQUIRE_INT_EQ(dk_heap_create("vm_ext"), 0);
	REQUIRE_INT_EQ(dk_heap_memory_add("vm_ext", mem, len, iova, (unsigned int)n, 4096), 0);
	int sock = dk_heap_get_socket("vm_ext");
	unsigned char *a = dk_malloc_socket(NULL, 3000, 64, sock);
	unsigned char *b = dk_malloc_socket(NULL, 3000, 64, sock);
	REQUIRE(a && b);
	CHECK(a >= mem && a < mem + len);
	CHECK_INT_EQ(dk_mem_virt2iova(a), base + (uint64_t)(a - mem));
	roundtrip(a, b, 3000, 3);
	dk_free(a);
	dk_free(b);
	/* Removing the chunk unmaps it from the container (FREE event). */
	/* edu's container: the default one, or the default IOAS (backend iommufd) */
	struct dk_vfio_container *c = dk_vfio_device_container(dk_pci_vfio_device(g_dev));
	unsigned int before = dk__dma_domain_count(c);
	CHECK_INT_EQ(dk_heap_memory_remove("vm_ext", mem, len), 0);
	CHECK(dk__dma_domain_count(c) < before);
	CHECK_INT_EQ(dk_heap_destroy("vm_ext"), 0);
	free(iova);
	munmap(mem, len);
}

DK_TEST(dev_dma_map_non_heap_memory_and_bad_input)
{
	start();
	size_t len = 64u << 10;
	unsigned char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	REQUIRE(mem != MAP_FAILED);
	uint64_t iova = vm_aw_bits() == 48 ? (uintptr_t)mem : 0x7100000000ull;
	struct dk_device *d = &g_dev->device;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_dev_dma_map(d, mem, iova, 0), -EINVAL);
	CHECK_INT_EQ(dk_dev_dma_map(d, mem + 1, iova + 1, 4096), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "multiples of the IOMMU page size");
	CHECK_INT_EQ(dk_dev_dma_map(NULL, mem, iova, len), -EINVAL);
	uint64_t outside = vm_aw_bits() == 48 ? (1ull << 52) : (1ull << 40);
	CHECK_INT_EQ(dk_dev_dma_map(d, mem, outside, len), -ERANGE);
	struct dk_pci_device *nvme = dk_pci_find(VM_NVME);
	REQUIRE(nvme != NULL);
	CHECK_INT_EQ(dk_dev_dma_map(&nvme->device, mem, iova, len), -ENODEV);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "not open through VFIO");
	/* Heap memory is mapped already. */
	void *h = dk_malloc(NULL, 4096, 4096);
	REQUIRE(h != NULL);
	CHECK_INT_EQ(dk_dev_dma_map(d, h, dk_mem_virt2iova(h), 4096), -EEXIST);
	dk_free(h);
	dk_test_log_capture_stop();

	REQUIRE_INT_EQ(dk_dev_dma_map(d, mem, iova, len), 0);
	CHECK_INT_EQ(dk_dev_dma_map(d, mem, iova, len), -EEXIST); /* overlapping */
	/* The device reaches it by that IOVA. */
	for (size_t i = 0; i < 1024; i++)
		mem[4096 + i] = (unsigned char)(i ^ 0x5a);
	CHECK_INT_EQ(dk_edu_dma(g_edu, 1, iova + 4096, 0, 1024, TMO), 0);
	CHECK_INT_EQ(dk_edu_dma(g_edu, 0, iova + 8192, 0, 1024, TMO), 0);
	CHECK(memcmp(mem + 4096, mem + 8192, 1024) == 0);
	CHECK_INT_EQ(dk_dev_dma_unmap(d, mem, iova, 4096), -ENOENT);
	CHECK_INT_EQ(dk_dev_dma_unmap(d, mem, iova, len), 0);
	CHECK_INT_EQ(dk_dev_dma_unmap(d, mem, iova, len), -ENOENT);
	munmap(mem, len);
}

DK_TEST(bad_dma_requests)
{
	start();
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_edu_dma(g_edu, 1, 0x100000, 0, 0, TMO), -EINVAL);
	CHECK_INT_EQ(dk_edu_dma(g_edu, 1, 0x100000, 0, DK_EDU_BUF_SIZE, TMO), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "full-buffer transfer");
	char stack[64];
	CHECK_INT_EQ(dk_edu_dma_va(g_edu, 1, stack, 0, sizeof(stack), TMO), -EFAULT);
	dk_test_log_capture_stop();
}

/* Without root, /dev/vfio/<group> cannot be opened: -EACCES with the fix. */
DK_TEST(no_permission_is_eacces)
{
	start();
	dk_cleanup(); /* the child starts the library itself */
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(10);
		dk_test_log_capture_start();
		struct dk_init_params p;
		dk_init_params_default(&p);
		p.flags = DK_INIT_IN_MEMORY | DK_INIT_NO_PROBE;
		if (dk_init(&p) < 0)
			_exit(11);
		struct dk_pci_device *d = dk_pci_find(VM_EDU);
		if (!d)
			_exit(12);
		int rc = dk_pci_vfio_open(d);
		const char *log = dk_test_log_captured();
		if (rc != -EACCES)
			_exit(13);
		if (!strstr(log, "root"))
			_exit(14);
		dk_cleanup();
		_exit(0);
	}
	int st = 0;
	REQUIRE(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st));
	CHECK_INT_EQ(WEXITSTATUS(st), 0);
}

DK_TEST(cleanup_unbinds)
{
	start();
	dk_cleanup();
	CHECK_INT_EQ(dk_edu_driver_unregister(), 0);
	CHECK_INT_EQ(dk_pci_unbind(VM_EDU), 0);
}
