/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VM test: mtty, the kernel's sample mdev (loaded by run.sh from linux-source-<series>),
 * driven by drivers/mtty. An mtty-2 instance created with dk_mdev_create is found by
 * dk_init's mdev bus scan, opened through VFIO by the bus's vfio-pci driver, plugged into
 * the PCI bus and probed by the mtty PCI driver (registered before dk_init) by its ID
 * table; on both ports: line status, scratch register, bytes sent through the
 * transmitter and read back from the receiver (the sample loops them), the receive
 * interrupt through an eventfd (MSI on the first open of an instance); dk_cleanup
 * unplugs it. A second open of the same instance, by UUID with dk_mtty_open,
 * falls back to INTx (the sample takes an MSI eventfd once per instance) and carries the
 * bad input: accesses beyond the 8-byte I/O BARs, a port out of range, a receive and a
 * wait with nothing sent, a full FIFO. Then a create of an unknown type, the removal,
 * and a second instance made by mdevctl (mdevctl start) while the library runs, probed by
 * a rescan (dk_mdev_scan), used the same way, and stopped by mdevctl after dk_cleanup.
 * The harness's dk_cleanup after each test closes every mdev.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dmakit/mtty.h>

#include "vm_common.h"

#define PARENT "mtty"
#define TYPE "mtty-2"

static char g_uuid[DK_MDEV_UUID_LEN];

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static int mdev_exists(const char *uuid)
{
	char dir[128];
	snprintf(dir, sizeof(dir), "/sys/bus/mdev/devices/%s", uuid);
	return exists(dir);
}

static void need_parent(void)
{
	vm_init();
	if (!exists("/sys/class/mdev_bus/" PARENT))
		SKIP("no mdev parent " PARENT " (mtty.ko not loaded: run.sh --no-mtty?)");
}

/* Start the library with probing: the mtty driver (registered by the caller) must
 * have probed instance uuid through the mdev bus -> PCI bus path. */
static void start_probing(void)
{
	if (!getenv("DK_VM"))
		SKIP("not in the dmakit test VM (run it with tests/vm/run.sh)");
	if (dk_initialized())
		dk_cleanup();
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_IN_MEMORY;
	REQUIRE_INT_EQ(dk_init(&p), 0);
}

/* The PCI device of kind mdev that the mdev bus plugged in for uuid, probed by mtty. */
static struct dk_mtty *probed_mtty(const char *uuid, struct dk_pci_device **dev)
{
	const struct dk_mdev_device *md = dk_mdev_find(uuid);
	REQUIRE(md != NULL);
	CHECK_STR_EQ(md->device_api, "vfio-pci");
	CHECK_STR_EQ(md->type_id, TYPE);
	struct dk_pci_device *d = dk_pci_find(uuid);
	REQUIRE(d != NULL);
	CHECK(md->pci == d);
	*dev = d;
	CHECK_INT_EQ(d->kind, DK_PCI_KIND_MDEV);
	CHECK_INT_EQ(d->id.vendor_id, DK_MTTY_VENDOR);
	CHECK_INT_EQ(d->id.device_id, DK_MTTY_DEVICE);
	CHECK_INT_EQ(d->id.class_id, 0x070002);
	CHECK_STR_EQ(d->device.driver ? d->device.driver->name : "", "mtty");
	struct dk_mtty *m = dk_mtty_get(d);
	REQUIRE(m != NULL);
	return m;
}

/* The I/O BARs: 8 bytes each, read/write, never mapped. */
static void check_bars(struct dk_pci_device *d)
{
	for (unsigned int bar = 0; bar < 2; bar++) {
		struct dk_pci_region r;
		REQUIRE_INT_EQ(dk_pci_region_info(d, bar, &r), 0);
		CHECK_INT_EQ(r.size, 8);
		CHECK_INT_EQ(r.flags & DK_PCI_REGION_MMAP, 0);
		CHECK_INT_EQ(r.mode, DK_PCI_MAP_NONE);
		CHECK(r.base == NULL);
	}
}

static uint8_t lsr(struct dk_mtty *m, unsigned int port)
{
	uint8_t v = 0xee;
	CHECK_INT_EQ(dk_mtty_line_status(m, port, &v), 0);
	return v;
}

/* The loopback exchange on one port, with its receive interrupt. */
static void exchange(struct dk_mtty *m, unsigned int port)
{
	char msg[32], back[64];
	int len = snprintf(msg, sizeof(msg), "dk port %u", port);
	uint64_t irqs = dk_mtty_irq_count(m);
	CHECK_INT_EQ(lsr(m, port), DK_MTTY_LSR_THRE | DK_MTTY_LSR_TEMT);
	CHECK_INT_EQ(dk_mtty_scratch_test(m, port), 0);
	CHECK_INT_EQ(dk_mtty_send(m, port, msg, (size_t)len), len);
	CHECK_INT_EQ(lsr(m, port), DK_MTTY_LSR_DR);
	CHECK_INT_EQ(lsr(m, port ^ 1u), DK_MTTY_LSR_THRE | DK_MTTY_LSR_TEMT); /* ports apart */
	CHECK_INT_EQ(dk_mtty_wait_rx(m, port, 2000), 0);
	CHECK_INT_EQ(dk_mtty_irq_count(m), irqs + 1); /* the first byte into an empty FIFO */
	memset(back, 0, sizeof(back));
	CHECK_INT_EQ(dk_mtty_recv(m, port, back, sizeof(back), 1000), len);
	CHECK(memcmp(back, msg, (size_t)len) == 0);
	CHECK_INT_EQ(lsr(m, port), DK_MTTY_LSR_THRE | DK_MTTY_LSR_TEMT);
	printf("# port %u: sent and received \"%.*s\", interrupts %llu\n", port, len, back,
	       (unsigned long long)dk_mtty_irq_count(m));
}

DK_TEST(a_create_instance)
{
	need_parent();
	dk_test_log_capture_start();
	REQUIRE_INT_EQ(dk_mdev_create(PARENT, TYPE, NULL, g_uuid), 0);
	dk_test_log_capture_stop();
	CHECK(mdev_exists(g_uuid));
	printf("# mdev %s (%s)\n", g_uuid, TYPE);
}

DK_TEST(b_probe_and_exchange_on_both_ports_with_msi)
{
	need_parent();
	if (!g_uuid[0])
		SKIP("no instance (a_create_instance failed)");
	REQUIRE_INT_EQ(dk_mtty_driver_register(), 0);
	start_probing();
	struct dk_pci_device *d = NULL;
	struct dk_mtty *m = probed_mtty(g_uuid, &d);
	check_bars(d);
	CHECK_INT_EQ(dk_mtty_port_count(m), 2);
	CHECK_INT_EQ(dk_mtty_irq_mode(m), DK_MTTY_IRQ_MSI); /* a fresh instance */
	CHECK_INT_EQ(dk_mtty_irq_count(m), 1);               /* the open's test */
	exchange(m, 0);
	exchange(m, 1);
	dk_cleanup(); /* removes the driver, unplugs and closes the instance */
	CHECK_INT_EQ(dk_mtty_driver_unregister(), 0);
}

DK_TEST(c_reopen_falls_back_to_intx_and_bad_input)
{
	need_parent();
	if (!g_uuid[0])
		SKIP("no instance (a_create_instance failed)");
	struct dk_pci_device *d = NULL;
	REQUIRE_INT_EQ(dk_pci_mdev_open(g_uuid, 0, &d), 0);
	struct dk_mtty *m = NULL;
	dk_test_log_capture_start();
	REQUIRE_INT_EQ(dk_mtty_open(d, &m), 0);
	if (vm_kernel_at_least(6, 12)) {
		/* 6.12's sample takes a new MSI eventfd on every open: no fallback */
		dk_test_log_capture_stop();
		CHECK_INT_EQ(dk_mtty_irq_mode(m), DK_MTTY_IRQ_MSI);
	} else {
		CHECK_STR_CONTAINS(dk_test_log_captured(), "MSI enabled but no interrupt arrived");
		dk_test_log_capture_stop();
		CHECK_INT_EQ(dk_mtty_irq_mode(m), DK_MTTY_IRQ_INTX);
	}
	exchange(m, 1);
	exchange(m, 0);

	uint8_t v;
	char buf[32];
	dk_test_log_capture_start();
	/* the I/O BARs are 8 bytes: the library checks the bounds before pread/pwrite */
	CHECK_INT_EQ(dk_pci_mmio_read8(d, 0, 8, &v), -ERANGE);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "beyond BAR0 (0x8 bytes)");
	CHECK_INT_EQ(dk_pci_mmio_write8(d, 1, 8, 0), -ERANGE);
	uint32_t w;
	CHECK_INT_EQ(dk_pci_mmio_read32(d, 1, 6, &w), -ERANGE);
	CHECK_INT_EQ(dk_pci_mmio_read8(d, 2, 0, &v), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "BAR2 is not implemented");
	/* ports 0 and 1 only */
	CHECK_INT_EQ(dk_mtty_send(m, 2, "x", 1), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "port 2 out of range");
	CHECK_INT_EQ(dk_mtty_line_status(m, 5, &v), -EINVAL);
	CHECK_INT_EQ(dk_mtty_send(m, 0, "x", 0), -EINVAL);
	CHECK_INT_EQ(dk_mtty_recv(m, 0, buf, sizeof(buf), -1), -EINVAL);
	/* nothing sent: nothing to receive, no interrupt */
	CHECK_INT_EQ(dk_mtty_recv(m, 0, buf, sizeof(buf), 100), -ETIMEDOUT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "nothing received within 100 ms");
	CHECK_INT_EQ(dk_mtty_wait_rx(m, 1, 100), -ETIMEDOUT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "no receive interrupt");
	/* the driver keeps 15 bytes in the FIFO (16 would read as empty), then refuses */
	char big[DK_MTTY_FIFO_MAX + 4];
	for (unsigned int i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i);
	CHECK_INT_EQ(dk_mtty_send(m, 0, big, 4), 4);
	CHECK_INT_EQ(dk_mtty_send(m, 0, big + 4, sizeof(big) - 4), DK_MTTY_FIFO_MAX - 4);
	CHECK_INT_EQ(lsr(m, 0), DK_MTTY_LSR_DR);
	CHECK_INT_EQ(dk_mtty_send(m, 0, "z", 1), -ENOBUFS);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "the FIFO is full (15 bytes)");
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_mtty_wait_rx(m, 0, 1000), 0); /* the first byte's interrupt */
	CHECK_INT_EQ(dk_mtty_recv(m, 0, buf, 5, 1000), 5); /* part, then the rest */
	CHECK_INT_EQ(dk_mtty_recv(m, 0, buf + 5, sizeof(buf) - 5, 1000), DK_MTTY_FIFO_MAX - 5);
	CHECK(memcmp(buf, big, DK_MTTY_FIFO_MAX) == 0);
	CHECK_INT_EQ(lsr(m, 0), DK_MTTY_LSR_THRE | DK_MTTY_LSR_TEMT);
	CHECK_INT_EQ(dk_mtty_send(m, 0, "k", 1), 1); /* room again */
	CHECK_INT_EQ(dk_mtty_recv(m, 0, buf, 1, 1000), 1);
	CHECK_INT_EQ(buf[0], 'k');
	/* not an mtty, NULL */
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_mtty_open(NULL, &m), -EINVAL);
	CHECK_INT_EQ(dk_mtty_port_count(NULL), -EINVAL);
	struct dk_pci_device *other = dk_pci_find(VM_EDU);
	struct dk_mtty *x = NULL;
	if (other) {
		CHECK_INT_EQ(dk_mtty_open(other, &x), -ENODEV);
		CHECK_STR_CONTAINS(dk_test_log_captured(), "not an mtty device");
	}
	dk_test_log_capture_stop();
	dk_mtty_close(m);
	CHECK_INT_EQ(dk_pci_mdev_close(d), 0);
}

DK_TEST(d_create_with_an_unknown_type_or_parent)
{
	need_parent();
	char u[DK_MDEV_UUID_LEN] = "x";
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_mdev_create(PARENT, "mtty-9", NULL, u), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "has no type mtty-9");
	CHECK_STR_CONTAINS(dk_test_log_captured(), TYPE);
	CHECK_STR_EQ(u, "");
	CHECK_INT_EQ(dk_mdev_create("no_such_parent", TYPE, NULL, u), -ENOENT);
	CHECK_INT_EQ(dk_mdev_create(PARENT, TYPE, "not-a-uuid", u), -EINVAL);
	CHECK_INT_EQ(dk_mdev_create(PARENT, TYPE, g_uuid, u), -EEXIST); /* the kernel's answer */
	CHECK_STR_CONTAINS(dk_test_log_captured(), "no mdev parent no_such_parent");
	dk_test_log_capture_stop();
}

DK_TEST(e_remove_instance)
{
	need_parent();
	if (!g_uuid[0])
		SKIP("no instance");
	REQUIRE_INT_EQ(dk_mdev_remove(g_uuid), 0);
	CHECK(!mdev_exists(g_uuid));
}

/* ---- an instance made by mdevctl ---------------------------------------------------- */

static int run(const char *cmd)
{
	printf("# $ %s\n", cmd);
	fflush(stdout);
	int st = system(cmd);
	return st == -1 ? -1 : WEXITSTATUS(st);
}

DK_TEST(f_instance_started_and_stopped_by_mdevctl)
{
	need_parent();
	if (!exists("/usr/bin/mdevctl"))
		SKIP("no mdevctl in the guest (apt-get install mdevctl on the host)");
	char uuid[DK_MDEV_UUID_LEN] = "";
	FILE *f = fopen("/proc/sys/kernel/random/uuid", "r");
	REQUIRE(f != NULL);
	REQUIRE(fgets(uuid, sizeof(uuid), f) != NULL);
	fclose(f);
	REQUIRE(dk_mdev_uuid_valid(uuid));
	REQUIRE_INT_EQ(dk_mtty_driver_register(), 0);
	start_probing();
	CHECK(dk_mdev_find(uuid) == NULL);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "mdevctl start -p %s -t %s -u %s 2>&1", PARENT, TYPE, uuid);
	REQUIRE_INT_EQ(run(cmd), 0);
	CHECK(mdev_exists(uuid));
	/* Created while the library runs: a rescan finds and probes it. */
	REQUIRE(dk_mdev_scan() >= 1);
	struct dk_pci_device *d = NULL;
	struct dk_mtty *m = probed_mtty(uuid, &d);
	CHECK_INT_EQ(dk_mtty_port_count(m), 2);
	CHECK_INT_EQ(dk_mtty_irq_mode(m), DK_MTTY_IRQ_MSI);
	exchange(m, 0);
	exchange(m, 1);
	dk_cleanup(); /* closes the instance: mdevctl's remove would wait for the release */
	CHECK_INT_EQ(dk_mtty_driver_unregister(), 0);

	snprintf(cmd, sizeof(cmd), "mdevctl stop -u %s 2>&1", uuid);
	CHECK_INT_EQ(run(cmd), 0);
	CHECK(!mdev_exists(uuid));
}
