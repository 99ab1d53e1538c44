/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for src/bus/mdev/mdev.c on a fixture: dk_mdev_create writes a fresh
 * version-4 UUID to the type's create file, dk_mdev_remove writes 1 to the
 * instance's remove file, and every bad input is refused with a message and
 * nothing written. (The fixture has no kernel: no instance appears; the VM
 * suite creates real ones.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dmakit/dmakit.h>

#include "bus/pci/pci_internal.h"
#include "core/sysfs.h"
#include "fixture.h"
#include "tap.h"

#define TYPE_REL "devices/virtual/dk_sparse/dk_sparse/mdev_supported_types/dk_sparse-1"
#define UUID1    "9b1c6a3e-5f0d-4c2b-8a71-0e4f2d6c8b10"

static struct dk_fx *g_fx;

static void setup(void)
{
	g_fx = dk_fx_new();
	dk_fx_mdev_type(g_fx, "dk_sparse", "dk_sparse-1", "vfio-pci", 4);
	dk_fx_mdev_type(g_fx, "dk_sparse", "dk_sparse-2", "vfio-pci", 0);
	dk_fx_mdev(g_fx, "dk_sparse", "dk_sparse-1", UUID1, 12);
	dk__sysfs_set_root(dk_fx_root(g_fx));
}

static void teardown(void)
{
	dk__sysfs_set_root(NULL);
	dk_fx_free(g_fx);
}

static const char *file(const char *rel)
{
	static char buf[256];
	dk_fx_read_rel(g_fx, rel, buf, sizeof(buf));
	return buf;
}

DK_TEST(uuid_valid)
{
	CHECK(dk_mdev_uuid_valid(UUID1));
	CHECK(dk_mdev_uuid_valid("9B1C6A3E-5F0D-4C2B-8A71-0E4F2D6C8B10"));
	CHECK(!dk_mdev_uuid_valid(NULL));
	CHECK(!dk_mdev_uuid_valid(""));
	CHECK(!dk_mdev_uuid_valid(UUID1 "x"));
	CHECK(!dk_mdev_uuid_valid("9b1c6a3e-5f0d-4c2b-8a71-0e4f2d6c8b1"));
	CHECK(!dk_mdev_uuid_valid("9b1c6a3e-5f0d-4c2b-8a71+0e4f2d6c8b10"));
	CHECK(!dk_mdev_uuid_valid("9b1c6a3e-5f0d-4c2b-8a71-0e4f2d6c8b1z"));
}

DK_TEST(create_writes_a_new_v4_uuid)
{
	setup();
	char u1[DK_MDEV_UUID_LEN], u2[DK_MDEV_UUID_LEN];
	REQUIRE_INT_EQ(dk_mdev_create("dk_sparse", "dk_sparse-1", NULL, u1), 0);
	CHECK(dk_mdev_uuid_valid(u1));
	CHECK_STR_EQ(file(TYPE_REL "/create"), u1);
	CHECK_INT_EQ(u1[14], '4');             /* version 4 */
	CHECK(strchr("89ab", u1[19]) != NULL); /* RFC 4122 variant */
	for (const char *p = u1; *p; p++)
		CHECK(!(*p >= 'A' && *p <= 'F')); /* lower case, as the kernel names them */
	REQUIRE_INT_EQ(dk_mdev_create("dk_sparse", "dk_sparse-1", NULL, u2), 0);
	CHECK(strcmp(u1, u2) != 0);
	teardown();
}

DK_TEST(create_refuses_bad_input)
{
	setup();
	char u[DK_MDEV_UUID_LEN] = "x";
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_mdev_create("nope", "dk_sparse-1", NULL, u), -ENOENT);
	CHECK_STR_EQ(u, "");
	CHECK_STR_CONTAINS(dk_test_log_captured(), "no mdev parent nope");
	CHECK_STR_CONTAINS(dk_test_log_captured(), "(parents: dk_sparse)");
	CHECK_INT_EQ(dk_mdev_create("dk_sparse", "dk_sparse-9", NULL, u), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "has no type dk_sparse-9 (its types: ");
	CHECK_STR_CONTAINS(dk_test_log_captured(), "dk_sparse-1");
	CHECK_INT_EQ(dk_mdev_create(NULL, "dk_sparse-1", NULL, u), -EINVAL);
	CHECK_INT_EQ(dk_mdev_create("dk_sparse", "", NULL, u), -EINVAL);
	CHECK_INT_EQ(dk_mdev_create("../dk_sparse", "dk_sparse-1", NULL, u), -EINVAL);
	CHECK_INT_EQ(dk_mdev_create("dk_sparse", "..", NULL, u), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "no '/'");
	CHECK_INT_EQ(dk_mdev_create("dk_sparse", "dk_sparse-1", NULL, NULL), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "NULL uuid_out");
	dk_test_log_capture_stop();
	CHECK_STR_EQ(file(TYPE_REL "/create"), ""); /* nothing written */
	teardown();
}

DK_TEST(remove_writes_1)
{
	setup();
	REQUIRE_INT_EQ(dk_mdev_remove(UUID1), 0);
	CHECK_STR_EQ(file("bus/mdev/devices/" UUID1 "/remove"), "1");
	teardown();
	/* upper case is the same mdev */
	setup();
	REQUIRE_INT_EQ(dk_mdev_remove("9B1C6A3E-5F0D-4C2B-8A71-0E4F2D6C8B10"), 0);
	CHECK_STR_EQ(file("bus/mdev/devices/" UUID1 "/remove"), "1");
	teardown();
}

DK_TEST(remove_refuses_bad_input)
{
	setup();
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_mdev_remove(NULL), -EINVAL);
	CHECK_INT_EQ(dk_mdev_remove("dk_sparse"), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "is not a UUID");
	CHECK_INT_EQ(dk_mdev_remove("11111111-2222-4333-8444-555555555555"), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "nothing to remove");
	dk_test_log_capture_stop();
	CHECK_STR_EQ(file("bus/mdev/devices/" UUID1 "/remove"), "");
	teardown();
}

DK_TEST(remove_refuses_an_open_mdev)
{
	setup();
	/* an entry in the PCI list as dk_pci_mdev_open leaves one */
	struct dk__pci_dev *d = calloc(1, sizeof(*d));
	REQUIRE(d != NULL);
	snprintf(d->name, sizeof(d->name), "%s", UUID1);
	d->cfg_ops = &dk__pci_config_sysfs_ops;
	d->pub.device.name = d->name;
	d->pub.kind = DK_PCI_KIND_MDEV;
	REQUIRE_INT_EQ(dk__pci_list_add(d), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_mdev_remove(UUID1), -EBUSY);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "close it first (dk_pci_mdev_close)");
	dk_test_log_capture_stop();
	CHECK_STR_EQ(file("bus/mdev/devices/" UUID1 "/remove"), "");
	CHECK_INT_EQ(dk_pci_mdev_close(&d->pub), 0);
	CHECK_INT_EQ(dk_mdev_remove(UUID1), 0);
	teardown();
}
