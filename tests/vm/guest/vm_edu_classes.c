/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VM test: edu as two class drivers on one common device context
 * (dmakit/edu.h, dmakit/cdev.h) sharing one MR cache (dmakit/mr.h). Both
 * classes are probed on one edu by dk_init from the allow list
 * "0000:03:00.0,class=dma:compute"; factorial through compute; DMA round
 * trips through two dma queues from internal heap memory, an external heap
 * and registered external memory (with and without IOVAs), each run of
 * memory registered once for both queues; memory removed and its
 * translation gone before the FREE event returns; bad input.
 */
#include <sys/mman.h>

#include <dmakit/edu.h>

#include "vm_common.h"

#define TMO 5000
#define LEN 3000u

static struct dk_pci_device *g_dev;
static struct dk_cdev *g_cdev;
static struct dk_edu_dma *g_dma;
static struct dk_edu_compute *g_comp;

/* Bind edu, register the classes, dk_init with the class devarg. */
static void start(void)
{
	if (!getenv("DK_VM"))
		SKIP("not in the dmakit test VM (run it with tests/vm/run.sh)");
	if (dk_initialized())
		return;
	REQUIRE_INT_EQ(dk_pci_bind(VM_EDU, "vfio-pci"), 0);
	static int registered; /* registrations outlive dk_cleanup */
	if (!registered)
		REQUIRE_INT_EQ(dk_edu_classes_register(), 0);
	registered = 1;
	static const char *const allow[] = {VM_EDU ",class=dma:compute", NULL};
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_IN_MEMORY;
	p.allow = allow;
	REQUIRE_INT_EQ(dk_init(&p), 0);
	g_dev = dk_pci_find(VM_EDU);
	REQUIRE(g_dev != NULL);
	g_cdev = dk_cdev_of(g_dev);
	REQUIRE(g_cdev != NULL);
	g_dma = dk_edu_dma_get(g_dev);
	g_comp = dk_edu_compute_get(g_dev);
	REQUIRE(g_dma && g_comp);
	REQUIRE(g_cdev->mr != NULL);
}

static uint64_t regs(void)
{
	struct dk_mr_stats st;
	REQUIRE_INT_EQ(dk_mr_cache_stats(g_cdev->mr, &st), 0);
	return st.registrations;
}

/* a -> device through q1, device -> b through q2; compare. */
static void roundtrip(struct dk_edu_dmaq *q1, struct dk_edu_dmaq *q2, unsigned char *a,
		      unsigned char *b, uint32_t len, unsigned int seed)
{
	for (uint32_t i = 0; i < len; i++)
		a[i] = (unsigned char)(i * 7 + seed);
	memset(b, 0, len);
	CHECK_INT_EQ(dk_edu_dmaq_copy(q1, 1, a, 8, len, TMO), 0);
	CHECK_INT_EQ(dk_edu_dmaq_copy(q2, 0, b, 8, len, TMO), 0);
	CHECK(memcmp(a, b, len) == 0);
}

/* Both ways through both queues: q1 then q2 see a and b; one registration. */
static void roundtrips_register_once(unsigned char *a, unsigned char *b, unsigned int seed)
{
	struct dk_edu_dmaq *q1 = dk_edu_dmaq_create(g_dma), *q2 = dk_edu_dmaq_create(g_dma);
	REQUIRE(q1 && q2);
	uint64_t before = regs();
	roundtrip(q1, q2, a, b, LEN, seed);
	roundtrip(q2, q1, b, a, LEN, seed + 1);
	CHECK_INT_EQ(regs() - before, 1); /* per-queue or per-class caches: 2 or more */
	dk_edu_dmaq_destroy(q1);
	dk_edu_dmaq_destroy(q2);
}

DK_TEST(both_classes_on_one_context)
{
	start();
	CHECK_INT_EQ(dk_cdev_has_class(g_cdev, "dma"), 1);
	CHECK_INT_EQ(dk_cdev_has_class(g_cdev, "compute"), 1);
	CHECK(dk_edu_dma_cdev(g_dma) == g_cdev);
	CHECK(dk_edu_compute_cdev(g_comp) == g_cdev);
	CHECK(dk_edu_dma_of(g_cdev) == g_dma);
	CHECK(dk_edu_compute_of(g_cdev) == g_comp);
	/* One engine for both, the edu PCI driver has no instance. */
	CHECK(dk_edu_dma_engine(g_dma) == dk_edu_compute_engine(g_comp));
	CHECK(dk_edu_get(g_dev) == NULL);
	uint32_t v = 0;
	CHECK_INT_EQ(dk_edu_compute_factorial(g_comp, 10, &v, TMO), 0);
	CHECK_INT_EQ(v, 3628800);
	CHECK_INT_EQ(dk_edu_uses_irq(dk_edu_compute_engine(g_comp)), 1);
}

DK_TEST(dma_internal_heap_registered_once)
{
	start();
	unsigned char *a = dk_malloc(NULL, LEN, 64), *b = dk_malloc(NULL, LEN, 64);
	REQUIRE(a && b);
	roundtrips_register_once(a, b, 1);
	/* The compute class shares the engine between the transfers. */
	uint32_t v = 0;
	CHECK_INT_EQ(dk_edu_compute_factorial(g_comp, 12, &v, TMO), 0);
	CHECK_INT_EQ(v, 479001600);
	dk_free(a);
	dk_free(b);
}

/* After the memory left, q's cached translation is gone: -ENOENT, no DMA. */
static void check_gone(struct dk_edu_dmaq *q, const unsigned char *p, uint64_t gen_before)
{
	struct dk_mr_stats st;
	REQUIRE_INT_EQ(dk_mr_cache_stats(g_cdev->mr, &st), 0);
	CHECK(st.generation > gen_before);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_edu_dmaq_copy(q, 1, p, 0, 64, TMO), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "dk_extmem_register");
	dk_test_log_capture_stop();
}

static uint64_t generation(void)
{
	struct dk_mr_stats st;
	REQUIRE_INT_EQ(dk_mr_cache_stats(g_cdev->mr, &st), 0);
	return st.generation;
}

static dk_iova_t *iova_table(unsigned char *mem, size_t len, uint64_t remap_base)
{
	size_t n = len / 4096;
	dk_iova_t *iova = calloc(n, sizeof(*iova));
	REQUIRE(iova != NULL);
	/* va mode: IOVA = VA; remap: IOVAs of our own choosing inside 39 bits. */
	uint64_t base = vm_aw_bits() == 48 ? (uintptr_t)mem : remap_base;
	for (size_t i = 0; i < n; i++)
		iova[i] = base + i * 4096;
	return iova;
}

DK_TEST(dma_external_heap_then_removed)
{
	start();
	size_t len = 2u << 20;
	unsigned char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	REQUIRE(mem != MAP_FAILED);
	dk_iova_t *iova = iova_table(mem, len, 0x7000000000ull);
	REQUIRE_INT_EQ(dk_heap_create("vm_cls"), 0);
	REQUIRE_INT_EQ(dk_heap_memory_add("vm_cls", mem, len, iova, (unsigned int)(len / 4096), 4096),
		       0);
	int sock = dk_heap_get_socket("vm_cls");
	unsigned char *a = dk_malloc_socket(NULL, LEN, 64, sock);
	unsigned char *b = dk_malloc_socket(NULL, LEN, 64, sock);
	REQUIRE(a && b);
	CHECK(a >= mem && a < mem + len);
	roundtrips_register_once(a, b, 3);
	/* A queue that keeps the translation in its MRU while the memory goes. */
	struct dk_edu_dmaq *q = dk_edu_dmaq_create(g_dma);
	REQUIRE(q != NULL);
	CHECK_INT_EQ(dk_edu_dmaq_copy(q, 1, a, 0, 64, TMO), 0);
	dk_free(a);
	dk_free(b);
	uint64_t gen = generation();
	CHECK_INT_EQ(dk_heap_memory_remove("vm_cls", mem, len), 0);
	check_gone(q, a, gen);
	dk_edu_dmaq_destroy(q);
	CHECK_INT_EQ(dk_heap_destroy("vm_cls"), 0);
	free(iova);
	munmap(mem, len);
}

/* Registered external memory; with IOVAs (mapped by the DMA domains) or
 * without (the context's registration maps it at an IOVA the dma layer
 * picks: dk_dev_dma_map_auto). */
static void extmem_case(int with_iova)
{
	size_t len = 1u << 20;
	unsigned char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	REQUIRE(mem != MAP_FAILED);
	dk_iova_t *iova = with_iova ? iova_table(mem, len, 0x7100000000ull) : NULL;
	REQUIRE_INT_EQ(dk_extmem_register(mem, len, iova, iova ? (unsigned int)(len / 4096) : 0,
					  4096),
		       0);
	roundtrips_register_once(mem + 4096, mem + (512u << 10), with_iova ? 5 : 7);
	struct dk_edu_dmaq *q = dk_edu_dmaq_create(g_dma);
	REQUIRE(q != NULL);
	CHECK_INT_EQ(dk_edu_dmaq_copy(q, 1, mem + 100, 0, 64, TMO), 0);
	uint64_t gen = generation();
	CHECK_INT_EQ(dk_extmem_unregister(mem, len), 0);
	check_gone(q, mem + 100, gen);
	dk_edu_dmaq_destroy(q);
	free(iova);
	munmap(mem, len);
}

DK_TEST(dma_extmem_with_iovas_then_unregistered)
{
	start();
	extmem_case(1);
}

/* Both widths: with 48 bits the context maps the memory at IOVA = VA; with
 * 39 bits (mode remap) at IOVA space of the layout's, inside the IOMMU's range. */
DK_TEST(dma_extmem_without_iovas_then_unregistered)
{
	start();
	extmem_case(0);
}

DK_TEST(bad_input)
{
	start();
	struct dk_edu_dmaq *q = dk_edu_dmaq_create(g_dma);
	REQUIRE(q != NULL);
	size_t len = 128u << 10;
	unsigned char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	REQUIRE(mem != MAP_FAILED);
	dk_iova_t *iova = iova_table(mem, len, 0x7200000000ull);
	size_t half = len / 2, np = half / 4096;
	/* Two registrations next to each other: a buffer across both is -ERANGE. */
	REQUIRE_INT_EQ(dk_extmem_register(mem, half, iova, (unsigned int)np, 4096), 0);
	REQUIRE_INT_EQ(dk_extmem_register(mem + half, half, iova + np, (unsigned int)np, 4096), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_edu_dmaq_copy(q, 1, mem + half - 100, 0, 200, TMO), -ERANGE);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "split");
	/* Memory dmakit does not know. */
	char stack[256];
	CHECK_INT_EQ(dk_edu_dmaq_copy(q, 1, stack, 0, sizeof(stack), TMO), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "dk_extmem_register");
	CHECK_INT_EQ(dk_edu_dmaq_copy(q, 1, mem, 0, 0, TMO), -EINVAL);
	CHECK_INT_EQ(dk_edu_dmaq_copy(q, 1, mem, 0, DK_EDU_BUF_SIZE, TMO), -EINVAL);
	CHECK(dk_edu_dmaq_create(NULL) == NULL && errno == EINVAL);
	/* The dma class cannot go while a queue exists. */
	CHECK_INT_EQ(dk_cdev_remove(g_dev), -EBUSY);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "dk_edu_dmaq_destroy");
	dk_test_log_capture_stop();
	dk_edu_dmaq_destroy(q);
	CHECK_INT_EQ(dk_cdev_remove(g_dev), 0); /* the kept context goes now */
	CHECK(dk_cdev_of(g_dev) == NULL);
	CHECK(dk_edu_dma_get(g_dev) == NULL && errno == ENOENT);
	CHECK_INT_EQ(dk_extmem_unregister(mem, half), 0);
	CHECK_INT_EQ(dk_extmem_unregister(mem + half, half), 0);
	free(iova);
	munmap(mem, len);
}

DK_TEST(unknown_class_fails_the_probe)
{
	start();
	REQUIRE_INT_EQ(dk_cdev_remove(g_dev), 0);
	struct dk_devargs da;
	REQUIRE_INT_EQ(dk_devargs_parse(VM_EDU ",class=dma:bogus", &da), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_cdev_probe(g_dev, &da), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "unknown class \"bogus\"");
	dk_test_log_capture_stop();
	CHECK(dk_cdev_of(g_dev) == NULL);
	/* The device is as it was: probing the right classes works. */
	REQUIRE_INT_EQ(dk_devargs_parse(VM_EDU ",class=compute", &da), 0);
	CHECK_INT_EQ(dk_cdev_probe(g_dev, &da), 0);
	struct dk_edu_compute *c = dk_edu_compute_get(g_dev);
	REQUIRE(c != NULL);
	CHECK(dk_edu_dma_get(g_dev) == NULL);
	uint32_t v = 0;
	CHECK_INT_EQ(dk_edu_compute_factorial(c, 5, &v, TMO), 0);
	CHECK_INT_EQ(v, 120);
	/* Probing again adds dma to the same context, sharing the engine. */
	REQUIRE_INT_EQ(dk_devargs_parse(VM_EDU ",class=dma", &da), 0);
	CHECK_INT_EQ(dk_cdev_probe(g_dev, &da), 0);
	struct dk_edu_dma *d = dk_edu_dma_get(g_dev);
	REQUIRE(d != NULL);
	CHECK(dk_edu_dma_engine(d) == dk_edu_compute_engine(c));
}

DK_TEST(cleanup_unbinds)
{
	start();
	dk_cleanup();
	CHECK_INT_EQ(dk_edu_classes_unregister(), 0);
	CHECK_INT_EQ(dk_pci_unbind(VM_EDU), 0);
}
