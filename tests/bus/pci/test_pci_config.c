/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests for src/bus/pci/pci_config.c: config access and refresh. */
#include <errno.h>

#include <dmakit/dmakit.h>

#include "fixture.h"
#include "tap.h"

static struct dk_fx *g_fx;
static struct dk_fx_dev *g_dev;

static struct dk_pci_device *setup(unsigned int config_len)
{
	g_fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.config_len = config_len;
	g_dev = dk_fx_add(g_fx, "0000:00:02.0", NULL, &s);
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.sysfs_root = dk_fx_root(g_fx);
	p.flags = DK_INIT_NO_PROBE;
	if (dk_init(&p) != 0)
		return NULL;
	return dk_pci_find("0000:00:02.0");
}

static void teardown(void)
{
	dk_cleanup();
	dk_fx_free(g_fx);
	g_fx = NULL;
}

DK_TEST(read_header_bytes)
{
	struct dk_pci_device *d = setup(0);
	REQUIRE(d != NULL);
	uint8_t hdr[4];
	CHECK_INT_EQ(dk_pci_config_read(d, hdr, 4, 0), 4);
	CHECK_INT_EQ(hdr[0] | hdr[1] << 8, 0x1b36);
	CHECK_INT_EQ(hdr[2] | hdr[3] << 8, 0x0010);
	uint8_t last;
	CHECK_INT_EQ(dk_pci_config_read(d, &last, 1, 4095), 1);
	CHECK_INT_EQ(dk_pci_config_read(d, hdr, 0, 0), 0);
	teardown();
}

DK_TEST(out_of_range_is_einval_with_message)
{
	struct dk_pci_device *d = setup(0);
	REQUIRE(d != NULL);
	uint8_t buf[8];
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_config_read(d, buf, 8, 4092), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "beyond the 4096-byte config space");
	CHECK_INT_EQ(dk_pci_config_read(d, buf, 1, 4096), -EINVAL);
	CHECK_INT_EQ(dk_pci_config_read(d, buf, 1, (size_t)-1), -EINVAL);
	CHECK_INT_EQ(dk_pci_config_read(NULL, buf, 1, 0), -EINVAL);
	CHECK_INT_EQ(dk_pci_config_read(d, NULL, 1, 0), -EINVAL);
	CHECK_INT_EQ(dk_pci_config_write(d, buf, 8, 4090), -EINVAL);
	teardown();
}

DK_TEST(short_config_reports_eio)
{
	struct dk_pci_device *d = setup(256);
	REQUIRE(d != NULL);
	uint8_t buf[16];
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_config_read(d, buf, 16, 0x100), -EIO);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "0 of 16 bytes");
	teardown();
}

DK_TEST(write_then_read_back_and_refresh)
{
	struct dk_pci_device *d = setup(0);
	REQUIRE(d != NULL);
	uint8_t v = 0x5a;
	CHECK_INT_EQ(dk_pci_config_write(d, &v, 1, 0x3c), 1);
	uint8_t r = 0;
	CHECK_INT_EQ(dk_pci_config_read(d, &r, 1, 0x3c), 1);
	CHECK_INT_EQ(r, 0x5a);
	/* Clear the capability-list bit: refresh must drop every capability. */
	CHECK(d->caps.n > 0);
	uint8_t status = 0;
	CHECK_INT_EQ(dk_pci_config_write(d, &status, 1, 6), 1);
	CHECK_INT_EQ(dk_pci_device_refresh(d), 0);
	CHECK_INT_EQ(d->caps.n, 0);
	CHECK_INT_EQ(d->caps.pcie.offset, 0);
	teardown();
}

DK_TEST(vanished_device_is_enodev)
{
	struct dk_pci_device *d = setup(0);
	REQUIRE(d != NULL);
	dk_fx_remove(g_dev, "config");
	uint8_t b;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_config_read(d, &b, 1, 0), -ENODEV);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "0000:00:02.0: config read via sysfs");
	CHECK_INT_EQ(dk_pci_device_refresh(d), -ENODEV);
	teardown();
}
