/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DMA addresses for clients (src/p2p/p2p_dma.c) under dk_init on a fixture:
 * a resource is registered memory with IOVAs from dk_p2p_add_resource to
 * dk_p2p_remove (the ALLOC/FREE memory events the DMA domains follow fire,
 * dk_mem_virt2iova answers: the VA in IOVA mode va, the bus address in mode
 * pa), dk_p2p_dma_addr gives a client without VFIO the bus address, refuses
 * a client that cannot reach the provider (-EXDEV with the reason) and
 * memory that is no provider's; an MR cache resolves a P2P buffer like
 * other registered memory (one registration of the resource's run, the
 * IOVA of its memory) and drops it when the provider goes.
 *
 *   00:00.0 host bridge 8086:1237 (not whitelisted); the CPU file says Intel
 *   00:1c.0 root port -> 01:00.0 switch upstream port
 *       02:01.0 -> 03:00.0 provider P (BAR2 register 0x9_0000_0000, CPU 0x8_0000_0000)
 *       02:02.0 -> 04:00.0 client C (distance 4, bus_addr)
 *   00:1d.0 root port -> 06:00.0 client X (not_supported)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dmakit/dmakit.h>
#include <dmakit/mr.h>

#include "fixture_p2p.h"
#include "tap.h"

#define P "0000:03:00.0"
#define C "0000:04:00.0"
#define X "0000:06:00.0"
#define BAR_LEN 0x10000ull
#define BAR_BUS 0x900000000ull

static struct dk_fx *g_fx;

static void provider_dev(const char *bdf, const struct dk_fx_dev *parent)
{
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.bars[2] = (struct dk_fx_bar){0x800000000ull, BAR_LEN, 0x200 | 0x2000 | 0x100000};
	struct dk_fx_dev *d = dk_fx_add(g_fx, bdf, parent, &s);
	/* the BAR register as the bus sees it: 64-bit prefetchable at BAR_BUS */
	uint8_t cfg[256];
	REQUIRE(dk_fx_read(d, "config", (char *)cfg, sizeof(cfg)) >= 0x20);
	uint32_t lo = (uint32_t)BAR_BUS | 0xc, hi = (uint32_t)(BAR_BUS >> 32);
	memcpy(cfg + 0x18, &lo, 4);
	memcpy(cfg + 0x1c, &hi, 4);
	dk_fx_write(d, "config", cfg, sizeof(cfg));
	dk_fx_p2p_bar_file(d, 2, BAR_LEN);
}

static struct dk_pci_device *dev(const char *name)
{
	struct dk_pci_device *d = dk_pci_find(name);
	REQUIRE(d);
	return d;
}

static void setup(int iova_mode)
{
	dk_fx_p2p_cpu_intel();

	g_fx = dk_fx_new();
	dk_fx_p2p_host_dev(g_fx, "0000:00:00.0", 0x8086, 0x1237);
	struct dk_fx_spec s = dk_fx_p2p_port(DK_PCIE_TYPE_ROOT_PORT);
	struct dk_fx_dev *r = dk_fx_add(g_fx, "0000:00:1c.0", NULL, &s);
	s = dk_fx_p2p_port(DK_PCIE_TYPE_UPSTREAM);
	struct dk_fx_dev *u = dk_fx_add(g_fx, "0000:01:00.0", r, &s);
	s = dk_fx_p2p_port(DK_PCIE_TYPE_DOWNSTREAM);
	struct dk_fx_dev *d1 = dk_fx_add(g_fx, "0000:02:01.0", u, &s);
	struct dk_fx_dev *d2 = dk_fx_add(g_fx, "0000:02:02.0", u, &s);
	provider_dev(P, d1);
	struct dk_fx_spec e = dk_fx_spec_endpoint();
	dk_fx_add(g_fx, C, d2, &e);
	s = dk_fx_p2p_port(DK_PCIE_TYPE_ROOT_PORT);
	struct dk_fx_dev *r2 = dk_fx_add(g_fx, "0000:00:1d.0", NULL, &s);
	dk_fx_add(g_fx, X, r2, &e);

	struct dk_init_params p;
	dk_init_params_default(&p);
	p.sysfs_root = dk_fx_root(g_fx);
	p.flags = DK_INIT_NO_PROBE;
	p.log_level = DK_LOG_ERR;
	p.iova_mode = iova_mode;
	REQUIRE_INT_EQ(dk_init(&p), 0);
}

static void teardown(void)
{
	dk_cleanup();
	dk_fx_free(g_fx);
	unsetenv("DMAKIT_CPUINFO");
}

struct evs {
	int alloc, free;
	const void *va;
	size_t len;
	dk_iova_t iova_at_alloc;
};

static void ev_cb(enum dk_mem_event ev, const void *va, size_t len, void *arg)
{
	struct evs *e = arg;
	if (ev == DK_MEM_EVENT_ALLOC) {
		e->alloc++;
		e->iova_at_alloc = dk_mem_virt2iova(va);
	} else {
		e->free++;
	}
	e->va = va;
	e->len = len;
}

DK_TEST(resource_is_registered_memory_while_it_exists)
{
	setup(DK_IOVA_MODE_VA);
	struct evs e = {0};
	REQUIRE_INT_EQ(dk_mem_event_callback_register("p2p-test", ev_cb, &e), 0);
	REQUIRE_INT_EQ(dk_p2p_add_resource(dev(P), 2, 0, 0), 0);
	uint8_t *buf = dk_p2p_alloc(dev(P), 8192);
	REQUIRE(buf);
	CHECK_INT_EQ(e.alloc, 1);
	CHECK_INT_EQ(e.len, BAR_LEN);
	CHECK_INT_EQ(e.iova_at_alloc, (uint64_t)(uintptr_t)e.va); /* mode va: the VA */
	CHECK_INT_EQ(dk_mem_virt2iova(buf + 4097), (uint64_t)(uintptr_t)(buf + 4097));
	void *start = NULL;
	size_t len = 0;
	CHECK_INT_EQ(dk_mem_contig_chunk(buf, &start, &len, NULL), 0);
	CHECK_INT_EQ(len, BAR_LEN);
	CHECK_INT_EQ(dk_p2p_free(dev(P), buf, 8192), 0);
	CHECK_INT_EQ(dk_p2p_remove(dev(P)), 0);
	CHECK_INT_EQ(e.free, 1);
	CHECK_INT_EQ(dk_mem_virt2iova(start), DK_BAD_IOVA);
	/* added again: registered again (nothing stale blocks it) */
	REQUIRE_INT_EQ(dk_p2p_add_resource(dev(P), 2, 0, 0), 0);
	CHECK_INT_EQ(e.alloc, 2);
	CHECK_INT_EQ(dk_mem_event_callback_unregister("p2p-test", &e), 0);
	teardown();
}

DK_TEST(iova_mode_pa_registers_the_bus_address)
{
	setup(DK_IOVA_MODE_PA);
	REQUIRE_INT_EQ(dk_p2p_add_resource(dev(P), 2, 0x4000, 0x8000), 0);
	uint8_t *buf = dk_p2p_alloc(dev(P), 4096);
	REQUIRE(buf);
	CHECK_INT_EQ(dk_mem_virt2iova(buf + 5), BAR_BUS + 0x8000 + 5);
	CHECK_INT_EQ(dk_p2p_virt_to_bus(dev(P), buf + 5), BAR_BUS + 0x8000 + 5);
	CHECK_INT_EQ(dk_p2p_free(dev(P), buf, 4096), 0);
	teardown();
}

DK_TEST(dma_addr_of_a_client_without_vfio_is_the_bus_address)
{
	setup(DK_IOVA_MODE_VA);
	REQUIRE_INT_EQ(dk_p2p_add_resource(dev(P), 2, 0, 0), 0);
	uint8_t *buf = dk_p2p_alloc(dev(P), 4096);
	REQUIRE(buf);
	uint64_t dma = 0;
	CHECK_INT_EQ(dk_p2p_dma_addr(dev(C), buf + 16, &dma), DK_P2P_DMA_BUS);
	CHECK_INT_EQ(dma, dk_p2p_virt_to_bus(dev(P), buf + 16));
	CHECK_INT_EQ(dma & ~0xffffull, BAR_BUS);
	/* the provider itself is a client too (distance 0) */
	CHECK_INT_EQ(dk_p2p_dma_addr(dev(P), buf, &dma), DK_P2P_DMA_BUS);
	CHECK_INT_EQ(dk_p2p_free(dev(P), buf, 4096), 0);
	teardown();
}

DK_TEST(dma_addr_refuses_bad_input_and_unreachable_clients)
{
	setup(DK_IOVA_MODE_VA);
	REQUIRE_INT_EQ(dk_p2p_add_resource(dev(P), 2, 0, 0), 0);
	uint8_t *buf = dk_p2p_alloc(dev(P), 4096);
	REQUIRE(buf);
	uint64_t dma = 0x1234;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_p2p_dma_addr(dev(X), buf, &dma), -EXDEV);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "cannot reach provider " P);
	CHECK_INT_EQ(dk_p2p_dma_addr(NULL, buf, &dma), -EINVAL);
	CHECK_INT_EQ(dk_p2p_dma_addr(dev(C), NULL, &dma), -EINVAL);
	CHECK_INT_EQ(dk_p2p_dma_addr(dev(C), buf, NULL), -EINVAL);
	int local = 0;
	CHECK_INT_EQ(dk_p2p_dma_addr(dev(C), &local, &dma), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "in no P2P resource");
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dma, 0x1234); /* untouched by every failure */
	CHECK_INT_EQ(dk_p2p_free(dev(P), buf, 4096), 0);
	CHECK_INT_EQ(dk_p2p_remove(dev(P)), 0);
	/* removed: its memory is no P2P memory any more */
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_p2p_dma_addr(dev(C), buf, &dma), -EINVAL);
	dk_test_log_capture_stop();
	teardown();
}

/* A device context's way: memory with IOVAs is registered at its own IOVAs. */
struct mr_dev {
	unsigned int regs, deregs;
	size_t reg_len, dereg_len;
};

static int mr_reg(void *ctx, void *va, size_t len, uint32_t *key, dk_iova_t *iova)
{
	struct mr_dev *d = ctx;
	d->regs++;
	d->reg_len = len;
	*key = 42;
	*iova = dk_mem_virt2iova(va);
	return *iova == DK_BAD_IOVA ? -EFAULT : 0;
}

static void mr_dereg(void *ctx, void *va, size_t len, uint32_t key)
{
	(void)va;
	(void)key;
	struct mr_dev *d = ctx;
	d->deregs++;
	d->dereg_len += len;
}

DK_TEST(mr_cache_resolves_p2p_buffers)
{
	setup(DK_IOVA_MODE_VA);
	struct mr_dev d = {0};
	const struct dk_mr_ops ops = {mr_reg, mr_dereg};
	struct dk_mr_cache *c = dk_mr_cache_create(&ops, &d);
	REQUIRE(c != NULL);
	struct dk_mr_ctrl q;
	REQUIRE_INT_EQ(dk_mr_ctrl_init(&q, c), 0);
	REQUIRE_INT_EQ(dk_p2p_add_resource(dev(P), 2, 0, 0), 0);
	uint8_t *a = dk_p2p_alloc(dev(P), 4096), *b = dk_p2p_alloc(dev(P), 4096);
	REQUIRE(a && b);
	uint32_t key = 0;
	dk_iova_t io = 0;
	CHECK_INT_EQ(dk_mr_lookup(&q, a + 8, 100, &key, &io), 0);
	CHECK_INT_EQ(key, 42);
	CHECK_INT_EQ(io, dk_mem_virt2iova(a + 8));
	CHECK_INT_EQ(dk_mr_lookup(&q, b, 4096, &key, &io), 0); /* the same run: a hit */
	CHECK_INT_EQ(io, dk_mem_virt2iova(b));
	CHECK_INT_EQ(d.regs, 1);
	CHECK_INT_EQ(d.reg_len, BAR_LEN); /* the resource's whole run */
	CHECK_INT_EQ(dk_p2p_free(dev(P), a, 4096), 0);
	CHECK_INT_EQ(dk_p2p_free(dev(P), b, 4096), 0);
	CHECK_INT_EQ(dk_p2p_remove(dev(P)), 0);
	CHECK_INT_EQ(d.deregs, 1);
	CHECK_INT_EQ(d.dereg_len, BAR_LEN);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_mr_lookup(&q, a, 100, &key, &io), -ENOENT);
	dk_test_log_capture_stop();
	dk_mr_ctrl_fini(&q);
	dk_mr_cache_destroy(c);
	teardown();
}

DK_TEST(memory_decode_off_without_vfio_is_reported)
{
	setup(DK_IOVA_MODE_VA);
	/* the provider's command register with memory decode off (its driver did not enable it) */
	uint8_t cfg[256];
	struct dk_pci_device *p = dev(P);
	uint16_t cmd = 0;
	REQUIRE_INT_EQ(dk_pci_config_read(p, &cmd, 2, 4), 2);
	REQUIRE(cmd & 2);
	char path[4096];
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/config", dk_fx_root(g_fx), P);
	int fd = open(path, O_RDWR);
	REQUIRE(fd >= 0);
	REQUIRE(pread(fd, cfg, sizeof(cfg), 0) >= 64);
	cfg[4] &= (uint8_t)~2u;
	REQUIRE(pwrite(fd, cfg, 64, 0) == 64);
	close(fd);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_p2p_add_resource(p, 2, 0, 0), 0); /* not ours to change: a warning */
	CHECK_STR_CONTAINS(dk_test_log_captured(), "memory decode is off");
	dk_test_log_capture_stop();
	teardown();
}
