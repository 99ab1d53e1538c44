/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for src/cdev: class registration, the common driver's probe with
 * its rollback, probing again, remove, devargs errors and the VFIO
 * registration operation. VFIO is replaced through the layer's ops hook,
 * so fake devices of the sysfs fixture are probed on any host.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <dmakit/dmakit.h>

#include "cdev/cdev_internal.h"
#include "fixture.h"
#include "tap.h"

/* ---- fake VFIO and MR creation (with failures to inject) ---------------- */

static int g_open, g_close, g_mr_create, g_mr_destroy, g_map, g_unmap;
static int g_fail_open, g_fail_mr;
static const struct dk_mr_ops *g_mr_ops;
static void *g_mr_ctx;
static void *g_map_va, *g_unmap_va;
static uint64_t g_map_iova, g_unmap_iova;
static size_t g_map_len, g_unmap_len;

static int fake_open(struct dk_pci_device *dev)
{
	(void)dev;
	if (g_fail_open)
		return g_fail_open;
	g_open++;
	return 0;
}

static int fake_close(struct dk_pci_device *dev)
{
	(void)dev;
	g_close++;
	return 0;
}

static struct dk_mr_cache *fake_mr_create(const struct dk_mr_ops *ops, void *ctx)
{
	if (g_fail_mr) {
		errno = g_fail_mr;
		return NULL;
	}
	g_mr_create++;
	g_mr_ops = ops;
	g_mr_ctx = ctx;
	return dk_mr_cache_create(ops, ctx);
}

static void fake_mr_destroy(struct dk_mr_cache *c)
{
	g_mr_destroy++;
	dk_mr_cache_destroy(c);
}

/* Picks IOVAs unlike the VAs (as mode remap does), 1 MiB apart. */
#define FAKE_IOVA0 0x40000000u
static int fake_map(struct dk_device *dev, void *va, size_t len, uint64_t *iova)
{
	(void)dev;
	g_map_iova = FAKE_IOVA0 + ((uint64_t)g_map << 20);
	g_map++;
	g_map_va = va;
	g_map_len = len;
	*iova = g_map_iova;
	return 0;
}

static int fake_unmap(struct dk_device *dev, void *va, uint64_t iova, size_t len)
{
	(void)dev;
	g_unmap++;
	g_unmap_va = va;
	g_unmap_iova = iova;
	g_unmap_len = len;
	return 0;
}

static const struct dk__cdev_ops g_fake = {
	.open = fake_open, .close = fake_close, .mr_create = fake_mr_create,
	.mr_destroy = fake_mr_destroy, .dma_map = fake_map, .dma_unmap = fake_unmap,
};

/* ---- class drivers recording their calls -------------------------------- */

static char g_calls[512];
static const char *g_fail_probe, *g_fail_remove;

static void record(const char *what, const char *cls)
{
	size_t n = strlen(g_calls);
	snprintf(g_calls + n, sizeof(g_calls) - n, "%s%s%s", n ? " " : "", what, cls);
}

#define CLASS_CB(cls)                                                        \
	static int probe_##cls(struct dk_cdev *c)                            \
	{                                                                    \
		(void)c;                                                     \
		if (g_fail_probe && strcmp(g_fail_probe, #cls) == 0)         \
			return -EIO;                                         \
		record("+", #cls);                                           \
		return 0;                                                    \
	}                                                                    \
	static int remove_##cls(struct dk_cdev *c)                           \
	{                                                                    \
		(void)c;                                                     \
		if (g_fail_remove && strcmp(g_fail_remove, #cls) == 0)       \
			return -EBUSY;                                       \
		record("-", #cls);                                           \
		return 0;                                                    \
	}
CLASS_CB(dma)
CLASS_CB(compute)
CLASS_CB(eth)
CLASS_CB(vdpa)

static const struct dk_pci_id_match edu_ids[] = { DK_PCI_DEVICE(0x1234, 0x11e8), { 0 } };
static const char *const dma_keys[] = { "queues", NULL };
static const char *const compute_keys[] = { "threads", NULL };

static struct dk_class_driver g_dma = { .name = "dma", .id_table = edu_ids,
	.devargs_keys = dma_keys, .dma_addr_bits = 40, .probe = probe_dma, .remove = remove_dma };
static struct dk_class_driver g_compute = { .name = "compute", .id_table = edu_ids,
	.devargs_keys = compute_keys, .probe = probe_compute, .remove = remove_compute };
static struct dk_class_driver g_eth = { .name = "eth", .id_table = edu_ids,
	.flags = DK_CLASS_DRV_PROBE_AGAIN, .probe = probe_eth, .remove = remove_eth };
static struct dk_class_driver g_vdpa = { .name = "vdpa", .id_table = edu_ids,
	.probe = probe_vdpa, .remove = remove_vdpa };

/* Registered before dk_init, like the edu driver's classes; once. */
static void ensure_registered(void)
{
	static int done;
	if (done)
		return;
	REQUIRE_INT_EQ(dk_class_driver_register(&g_dma), 0);
	REQUIRE_INT_EQ(dk_class_driver_register(&g_compute), 0);
	REQUIRE_INT_EQ(dk_class_driver_register(&g_eth), 0);
	REQUIRE_INT_EQ(dk_class_driver_register(&g_vdpa), 0);
	done = 1;
}

/* ---- fixture: edu functions on vfio-pci (00:03.0, 00:05.0) and on nvme --- */

static struct dk_fx *g_fx;

static void reset(void)
{
	g_open = g_close = g_mr_create = g_mr_destroy = g_map = g_unmap = 0;
	g_fail_open = g_fail_mr = 0;
	g_fail_probe = g_fail_remove = NULL;
	g_calls[0] = 0;
}

/* dk_init on a fresh tree with allow (NULL-terminated) and the fake ops. */
static int start(const char *const *allow)
{
	ensure_registered();
	reset();
	g_fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.vendor = 0x1234;
	s.device = 0x11e8;
	s.class_code = 0x00ff00;
	s.driver = "vfio-pci";
	dk_fx_add(g_fx, "0000:00:03.0", NULL, &s);
	s.driver = "nvme";
	dk_fx_add(g_fx, "0000:00:04.0", NULL, &s);
	s.driver = "vfio-pci";
	dk_fx_add(g_fx, "0000:00:05.0", NULL, &s);
	dk__cdev_set_ops(&g_fake);
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.sysfs_root = dk_fx_root(g_fx);
	p.allow = allow;
	return dk_init(&p);
}

static void stop(void)
{
	dk_cleanup();
	dk__cdev_set_ops(NULL);
	dk_fx_free(g_fx);
	g_fx = NULL;
}

static int ncontexts(void)
{
	int n = 0;
	for (struct dk_cdev *c = dk_cdev_next(NULL); c; c = dk_cdev_next(c))
		n++;
	return n;
}

static struct dk_devargs da_of(const char *s)
{
	struct dk_devargs da;
	if (dk_devargs_parse(s, &da) < 0)
		memset(&da, 0, sizeof(da));
	return da;
}

/* ---- tests ---------------------------------------------------------------- */

DK_TEST(register_checks)
{
	struct dk_class_driver no_probe = { .name = "x", .id_table = edu_ids };
	struct dk_class_driver colon = { .name = "a:b", .id_table = edu_ids, .probe = probe_dma };
	struct dk_class_driver same = { .name = "dma", .id_table = edu_ids, .probe = probe_dma };
	ensure_registered();
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_class_driver_register(NULL), -EINVAL);
	CHECK_INT_EQ(dk_class_driver_register(&no_probe), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "id_table and probe are required");
	CHECK_INT_EQ(dk_class_driver_register(&colon), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "without ':'");
	CHECK_INT_EQ(dk_class_driver_register(&same), -EEXIST);
	CHECK_INT_EQ(dk_class_driver_register(&g_dma), -EEXIST);
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_class_driver_unregister(&no_probe), -ENOENT);
}

DK_TEST(default_class_is_first_registered_match)
{
	REQUIRE_INT_EQ(start(NULL), 0);
	/* Two devices on vfio-pci probed (dma, the first class); the nvme one not. */
	CHECK_STR_EQ(g_calls, "+dma +dma");
	CHECK_INT_EQ(ncontexts(), 2);
	struct dk_pci_device *d = dk_pci_find("0000:00:03.0");
	struct dk_cdev *c = dk_cdev_of(d);
	REQUIRE(c != NULL);
	CHECK(c->pci == d);
	CHECK(d->device.driver_data == c);
	CHECK_STR_EQ(d->device.driver->name, "cdev");
	CHECK(dk_cdev_has_class(c, "dma"));
	CHECK(!dk_cdev_has_class(c, "compute"));
	CHECK_INT_EQ(c->attr.id.vendor_id, 0x1234);
	CHECK_INT_EQ(c->attr.dma_addr_bits, 40);
	CHECK(dk_cdev_of(dk_pci_find("0000:00:04.0")) == NULL);
	CHECK_INT_EQ(g_open, 2);
	CHECK_INT_EQ(g_mr_create, 2);
	stop();
	CHECK_STR_EQ(g_calls, "+dma +dma -dma -dma");
	CHECK_INT_EQ(g_close, 2);
	CHECK_INT_EQ(g_mr_destroy, 2);
	CHECK_INT_EQ(ncontexts(), 0);
}

DK_TEST(classes_probe_in_order_and_remove_in_reverse)
{
	const char *allow[] = { "0000:00:03.0,class=compute:dma,queues=4,threads=2", NULL };
	REQUIRE_INT_EQ(start(allow), 0);
	CHECK_STR_EQ(g_calls, "+dma +compute");
	struct dk_pci_device *d = dk_pci_find("0000:00:03.0");
	struct dk_cdev *c = dk_cdev_of(d);
	REQUIRE(c != NULL);
	CHECK_STR_EQ(dk_devargs_get(dk_cdev_devargs(c), "queues"), "4");
	CHECK(dk_devargs_get(dk_cdev_devargs(c), "class") == NULL);
	g_calls[0] = 0;
	CHECK_INT_EQ(dk_cdev_remove(d), 0);
	CHECK_STR_EQ(g_calls, "-compute -dma");
	CHECK(dk_cdev_of(d) == NULL);
	CHECK(d->device.driver == NULL);
	CHECK_INT_EQ(g_open, 1);
	CHECK_INT_EQ(g_close, 1);
	CHECK_INT_EQ(dk_cdev_remove(d), -ENODEV);
	stop();
}

/* A failing class probe removes only the classes this probe loaded. */
DK_TEST(rollback_at_each_class)
{
	static const char *const expect[] = { "", "+dma -dma", "+dma +compute -compute -dma" };
	static const char *const fail[] = { "dma", "compute", "eth" };
	const char *allow[] = { "0000:00:03.0,class=dma:compute:eth", NULL };
	for (int k = 0; k < 3; k++) {
		REQUIRE_INT_EQ(start(allow), 0);
		struct dk_pci_device *d = dk_pci_find("0000:00:03.0");
		CHECK_INT_EQ(dk_cdev_remove(d), 0);
		reset();
		g_fail_probe = fail[k];
		dk_test_log_capture_start();
		CHECK_INT_EQ(dk_pci_probe_device(d), -EIO);
		CHECK_STR_CONTAINS(dk_test_log_captured(), "failed");
		dk_test_log_capture_stop();
		CHECK_STR_EQ(g_calls, expect[k]);
		CHECK(dk_cdev_of(d) == NULL);
		CHECK_INT_EQ(g_open, 1);
		CHECK_INT_EQ(g_close, 1);
		CHECK_INT_EQ(g_mr_create, g_mr_destroy);
		stop();
	}
}

DK_TEST(context_and_mr_failures_probe_nothing)
{
	const char *allow[] = { "0000:00:03.0,class=dma", NULL };
	REQUIRE_INT_EQ(start(allow), 0);
	struct dk_pci_device *d = dk_pci_find("0000:00:03.0");
	CHECK_INT_EQ(dk_cdev_remove(d), 0);
	reset();
	g_fail_open = -EACCES;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_probe_device(d), -EACCES);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "cannot open the device through VFIO");
	CHECK_INT_EQ(g_mr_create, 0);
	g_fail_open = 0;
	g_fail_mr = ENOMEM;
	CHECK_INT_EQ(dk_pci_probe_device(d), -ENOMEM);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "cannot create the device's MR cache");
	dk_test_log_capture_stop();
	CHECK_STR_EQ(g_calls, "");
	CHECK_INT_EQ(g_open, 1);
	CHECK_INT_EQ(g_close, 1);
	CHECK(dk_cdev_of(d) == NULL);
	g_fail_mr = 0;
	CHECK_INT_EQ(dk_pci_probe_device(d), 0);
	CHECK_STR_EQ(g_calls, "+dma");
	stop();
}

DK_TEST(failed_remove_keeps_context_until_retried)
{
	const char *allow[] = { "0000:00:03.0,class=dma:compute", NULL };
	REQUIRE_INT_EQ(start(allow), 0);
	struct dk_pci_device *d = dk_pci_find("0000:00:03.0");
	g_calls[0] = 0;
	g_fail_remove = "compute";
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_cdev_remove(d), -EBUSY);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "retry with dk_cdev_remove");
	dk_test_log_capture_stop();
	CHECK_STR_EQ(g_calls, "-dma");
	struct dk_cdev *c = dk_cdev_of(d);
	REQUIRE(c != NULL);
	CHECK(dk_cdev_has_class(c, "compute"));
	CHECK(!dk_cdev_has_class(c, "dma"));
	CHECK_INT_EQ(g_close, 0);
	/* Retried while it still fails, then for good. */
	CHECK_INT_EQ(dk_cdev_remove(d), -EBUSY);
	g_fail_remove = NULL;
	CHECK_INT_EQ(dk_cdev_remove(d), 0);
	CHECK_STR_EQ(g_calls, "-dma -compute");
	CHECK(dk_cdev_of(d) == NULL);
	CHECK_INT_EQ(g_close, 1);
	stop();
}

/* A rollback whose remove fails keeps the context too. */
DK_TEST(failed_rollback_keeps_context)
{
	const char *allow[] = { "0000:00:03.0,class=dma:compute", NULL };
	REQUIRE_INT_EQ(start(allow), 0);
	struct dk_pci_device *d = dk_pci_find("0000:00:03.0");
	CHECK_INT_EQ(dk_cdev_remove(d), 0);
	reset();
	g_fail_probe = "compute";
	g_fail_remove = "dma";
	CHECK_INT_EQ(dk_pci_probe_device(d), -EIO);
	struct dk_cdev *c = dk_cdev_of(d);
	REQUIRE(c != NULL);
	CHECK(dk_cdev_has_class(c, "dma"));
	CHECK_INT_EQ(g_close, 0);
	g_fail_remove = NULL;
	CHECK_INT_EQ(dk_cdev_remove(d), 0);
	CHECK_STR_EQ(g_calls, "+dma -dma");
	CHECK_INT_EQ(g_close, 1);
	stop();
}

DK_TEST(probe_again)
{
	const char *allow[] = { "0000:00:03.0,class=dma,queues=4", NULL };
	REQUIRE_INT_EQ(start(allow), 0);
	struct dk_pci_device *d = dk_pci_find("0000:00:03.0");
	struct dk_cdev *c = dk_cdev_of(d);
	REQUIRE(c != NULL);
	g_calls[0] = 0;
	CHECK_INT_EQ(dk_pci_probe_device(d), -EALREADY);

	struct dk_devargs da = da_of("0000:00:03.0,class=eth,queues=4");
	CHECK_INT_EQ(dk_cdev_probe(d, &da), 0);
	CHECK(dk_cdev_of(d) == c);
	CHECK(dk_cdev_has_class(c, "eth"));
	CHECK_INT_EQ(dk_cdev_probe(d, &da), 0); /* eth may probe again */
	CHECK_STR_EQ(g_calls, "+eth +eth");

	dk_test_log_capture_start();
	da = da_of("0000:00:03.0,class=dma");
	CHECK_INT_EQ(dk_cdev_probe(d, &da), -EEXIST);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "cannot be probed again");
	da = da_of("0000:00:03.0,class=compute,queues=8");
	CHECK_INT_EQ(dk_cdev_probe(d, &da), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "queues=8 contradicts the device context (queues=4)");
	da = da_of("0000:00:03.0,class=compute,threads=2");
	CHECK_INT_EQ(dk_cdev_probe(d, &da), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "created without it");
	dk_test_log_capture_stop();

	/* A failing class of a second probe: only it goes, the context stays. */
	g_fail_probe = "compute";
	da = da_of("0000:00:03.0,class=compute");
	CHECK_INT_EQ(dk_cdev_probe(d, &da), -EIO);
	CHECK(dk_cdev_of(d) == c);
	CHECK(dk_cdev_has_class(c, "dma") && dk_cdev_has_class(c, "eth"));
	g_fail_probe = NULL;
	CHECK_INT_EQ(dk_cdev_probe(d, &da), 0);
	CHECK_STR_EQ(g_calls, "+eth +eth +compute");
	CHECK_INT_EQ(g_open, 1);
	g_calls[0] = 0;
	stop();
	CHECK_STR_EQ(g_calls, "-eth -compute -dma");
	CHECK_INT_EQ(g_close, 1);
}

DK_TEST(explicit_probe_of_an_unprobed_device)
{
	const char *allow[] = { "0000:00:03.0,class=vdpa", NULL };
	REQUIRE_INT_EQ(start(allow), 0);
	struct dk_pci_device *d = dk_pci_find("0000:00:03.0");
	CHECK_STR_EQ(g_calls, "+vdpa");
	CHECK_INT_EQ(dk_cdev_remove(d), 0);
	struct dk_devargs da = da_of("0000:00:03.0,class=compute");
	CHECK_INT_EQ(dk_cdev_probe(d, &da), 0);
	CHECK_STR_EQ(d->device.driver->name, "cdev");
	CHECK(dk_cdev_has_class(dk_cdev_of(d), "compute"));
	CHECK_INT_EQ(dk_cdev_probe(NULL, &da), -EINVAL);
	stop();
}

static void devargs_error(const char *devargs, int rc, const char *msg)
{
	const char *allow[] = { devargs, NULL };
	REQUIRE_INT_EQ(start(allow), 0);
	struct dk_pci_device *d = dk_pci_find("0000:00:03.0");
	CHECK(dk_cdev_of(d) == NULL);
	CHECK(d->device.driver == NULL);
	dk_test_log_capture_start();
	int got = dk_cdev_probe(d, NULL);
	/* -ENODEV from the class driver is the bus's "no driver took it". */
	CHECK_INT_EQ(got, rc);
	CHECK_STR_CONTAINS(dk_test_log_captured(), msg);
	dk_test_log_capture_stop();
	CHECK_INT_EQ(g_open, 0);
	CHECK_STR_EQ(g_calls, "");
	stop();
}

DK_TEST(devargs_errors)
{
	devargs_error("0000:00:03.0,class=dma:foo", -EINVAL, "unknown class \"foo\"");
	devargs_error("0000:00:03.0,class=crypto", -ENODEV, "no driver of class crypto");
	devargs_error("0000:00:03.0,class=dma,bogus=1", -EINVAL, "unknown devargs key \"bogus\"");
	devargs_error("0000:00:03.0,class=dma,threads=1", -EINVAL, "unknown devargs key \"threads\"");
	devargs_error("0000:00:03.0,class=dma:dma", -EINVAL, "class dma is named twice");
	devargs_error("0000:00:03.0,class=dma:vdpa", -EINVAL,
		      "class vdpa cannot share a device with any other class");
	devargs_error("0000:00:03.0,class", -EINVAL, "bad class= value");
}

DK_TEST(unregister_removes_the_class)
{
	const char *allow[] = { "0000:00:03.0,class=dma:compute", NULL };
	REQUIRE_INT_EQ(start(allow), 0);
	struct dk_pci_device *d = dk_pci_find("0000:00:03.0");
	g_calls[0] = 0;
	REQUIRE_INT_EQ(dk_class_driver_unregister(&g_compute), 0);
	CHECK_STR_EQ(g_calls, "-compute");
	CHECK(dk_cdev_of(d) != NULL);
	REQUIRE_INT_EQ(dk_class_driver_unregister(&g_dma), 0);
	CHECK(dk_cdev_of(d) == NULL);
	CHECK(d->device.driver == NULL);
	CHECK_INT_EQ(g_close, 1);
	/* Registered again, in the original order. */
	REQUIRE_INT_EQ(dk_class_driver_register(&g_dma), 0);
	REQUIRE_INT_EQ(dk_class_driver_register(&g_compute), 0);
	stop();
	REQUIRE_INT_EQ(dk_class_driver_unregister(&g_eth), 0);
	REQUIRE_INT_EQ(dk_class_driver_unregister(&g_vdpa), 0);
	REQUIRE_INT_EQ(dk_class_driver_register(&g_eth), 0);
	REQUIRE_INT_EQ(dk_class_driver_register(&g_vdpa), 0);
}

DK_TEST(vfio_registration_maps_other_memory)
{
	const char *allow[] = { "0000:00:03.0,class=dma", NULL };
	REQUIRE_INT_EQ(start(allow), 0);
	struct dk_pci_device *d = dk_pci_find("0000:00:03.0");
	struct dk_cdev *c = dk_cdev_of(d);
	REQUIRE(c != NULL && c->mr != NULL);
	REQUIRE(g_mr_ctx == (void *)c);
	/* The primary shared the context's cache under the device's name. */
	CHECK_INT_EQ(dk_mr_cache_share(c->mr, "0000:00:03.0"), -EALREADY);
	char *buf = malloc(3 * 4096);
	REQUIRE(buf != NULL);
	uint32_t k1 = 0, k2 = 0;
	dk_iova_t iova = 0;
	CHECK_INT_EQ(g_mr_ops->reg(g_mr_ctx, buf + 100, 5000, &k1, &iova), 0);
	CHECK_INT_EQ(k1, 1);
	uintptr_t start4k = (uintptr_t)(buf + 100) & ~(uintptr_t)4095;
	CHECK(iova == FAKE_IOVA0 + ((uintptr_t)(buf + 100) - start4k));
	CHECK(g_map_va == (void *)start4k);
	CHECK(g_map_iova == FAKE_IOVA0);
	CHECK(g_map_len % 4096 == 0 && start4k + g_map_len >= (uintptr_t)buf + 5100);
	CHECK_INT_EQ(g_mr_ops->reg(g_mr_ctx, buf, 10, &k2, &iova), 0);
	CHECK_INT_EQ(k2, 2);
	CHECK_INT_EQ(g_mr_ops->reg(g_mr_ctx, NULL, 10, &k2, &iova), -EINVAL);
	g_mr_ops->dereg(g_mr_ctx, buf + 100, 5000, k1);
	CHECK_INT_EQ(g_unmap, 1);
	CHECK(g_unmap_va == (void *)start4k);
	CHECK(g_unmap_iova == FAKE_IOVA0);
	g_mr_ops->dereg(g_mr_ctx, buf + 100, 5000, k1); /* unknown key now: nothing */
	CHECK_INT_EQ(g_unmap, 1);
	stop(); /* the release unmaps the mapping left */
	CHECK_INT_EQ(g_unmap, 2);
	CHECK_INT_EQ(g_map, 2);
	free(buf);
}

/* Memory with IOVAs (here dk_extmem_register with a table) is mapped by the
 * DMA domains already: its IOVA comes back and nothing is mapped; a range
 * whose IOVAs are not contiguous is mapped at an IOVA the dma layer picks. */
DK_TEST(vfio_registration_of_memory_with_iovas)
{
	const size_t pg = 4096;
	const char *allow[] = { "0000:00:03.0,class=dma", NULL };
	REQUIRE_INT_EQ(start(allow), 0);
	char *va = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(va != MAP_FAILED);
	const dk_iova_t iovas[4] = { 0x100000, 0x101000, 0x102000, 0x200000 };
	REQUIRE_INT_EQ(dk_extmem_register(va, 4 * pg, iovas, 4, pg), 0);
	uint32_t key = 0;
	dk_iova_t iova = 0;
	CHECK_INT_EQ(g_mr_ops->reg(g_mr_ctx, va + 10, 2 * pg, &key, &iova), 0);
	CHECK(iova == 0x100000 + 10);
	CHECK_INT_EQ(key, 1);
	CHECK_INT_EQ(g_map, 0);
	g_mr_ops->dereg(g_mr_ctx, va + 10, 2 * pg, key);
	CHECK_INT_EQ(g_unmap, 0);
	CHECK_INT_EQ(g_mr_ops->reg(g_mr_ctx, va + 2 * pg, 2 * pg, &key, &iova), 0);
	CHECK_INT_EQ(g_map, 1);
	CHECK(iova == FAKE_IOVA0);
	CHECK_INT_EQ(key, 2);
	g_mr_ops->dereg(g_mr_ctx, va + 2 * pg, 2 * pg, key);
	CHECK_INT_EQ(g_unmap, 1);
	CHECK_INT_EQ(dk_extmem_unregister(va, 4 * pg), 0);
	stop();
	munmap(va, 4 * pg);
}

DK_TEST(rescan_removes_every_context)
{
	const char *allow[] = { "0000:00:03.0,class=dma", "0000:00:05.0,class=compute", NULL };
	REQUIRE_INT_EQ(start(allow), 0);
	CHECK_INT_EQ(ncontexts(), 2);
	g_calls[0] = 0;
	CHECK(dk_pci_scan() >= 0);
	CHECK_STR_EQ(g_calls, "-compute -dma");
	CHECK_INT_EQ(ncontexts(), 0);
	stop();
}
