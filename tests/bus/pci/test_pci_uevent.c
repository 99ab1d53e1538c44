/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests for src/bus/pci/pci_uevent.c. */
#include <errno.h>

#include <dmakit/common.h>

#include "bus/pci/pci_uevent.h"
#include "tap.h"

static int parse(const char *s, struct dk__pci_uevent *u)
{
	return dk__pci_parse_uevent(s, strlen(s), u);
}

DK_TEST(real_kernel_file)
{
	struct dk__pci_uevent u;
	const char *s = "DRIVER=virtio-pci\nPCI_CLASS=FFFF00\nPCI_ID=1AF4:1045\n"
			"PCI_SUBSYS_ID=1AF4:1045\nPCI_SLOT_NAME=0000:00:01.0\n"
			"MODALIAS=pci:v00001AF4d00001045sv00001AF4sd00001045bcFFscFFi00\n";
	REQUIRE_INT_EQ(parse(s, &u), 0);
	CHECK_INT_EQ(u.have, DK__UEV_DRIVER | DK__UEV_CLASS | DK__UEV_ID | DK__UEV_SUBSYS |
				     DK__UEV_SLOT);
	CHECK_STR_EQ(u.driver, "virtio-pci");
	CHECK_INT_EQ(u.class_id, 0xffff00);
	CHECK_INT_EQ(u.vendor_id, 0x1af4);
	CHECK_INT_EQ(u.device_id, 0x1045);
	CHECK_INT_EQ(u.subsystem_vendor_id, 0x1af4);
	CHECK_INT_EQ(u.subsystem_device_id, 0x1045);
	CHECK_STR_EQ(u.slot, "0000:00:01.0");
}

DK_TEST(unbound_host_bridge_short_class)
{
	struct dk__pci_uevent u;
	REQUIRE_INT_EQ(parse("PCI_CLASS=60000\nPCI_ID=8086:0D57\nPCI_SUBSYS_ID=0000:0000\n", &u), 0);
	CHECK_INT_EQ(u.have & DK__UEV_DRIVER, 0);
	CHECK_STR_EQ(u.driver, "");
	CHECK_INT_EQ(u.class_id, 0x060000);
	CHECK_INT_EQ(u.device_id, 0x0d57);
}

DK_TEST(length_bounded_and_no_final_newline)
{
	struct dk__pci_uevent u;
	const char *s = "PCI_ID=1B36:0010\nPCI_CLASS=10802XXXXXXXX";
	REQUIRE_INT_EQ(dk__pci_parse_uevent(s, strlen(s) - 8, &u), 0);
	CHECK_INT_EQ(u.class_id, 0x010802);
	CHECK_INT_EQ(u.vendor_id, 0x1b36);
	CHECK_INT_EQ(dk__pci_parse_uevent("", 0, &u), 0);
	CHECK_INT_EQ(u.have, 0);
}

DK_TEST(malformed_fields_are_einval)
{
	struct dk__pci_uevent u;
	const char *bad[] = { "PCI_ID=1B36\n", "PCI_ID=:0010\n", "PCI_ID=1B36:\n",
			      "PCI_ID=1B36:10000\n", "PCI_ID=zz:0010\n", "PCI_CLASS=\n",
			      "PCI_CLASS=1000000\n", "PCI_CLASS=xyz\n", "DRIVER=\n",
			      "DRIVER=a b\n", "DRIVER=../x\n", "no equals\n", "=value\n",
			      "DRIVER=0123456789012345678901234567890123\n" };
	for (size_t i = 0; i < DK_ARRAY_SIZE(bad); i++)
		if (parse(bad[i], &u) != -EINVAL)
			dk_test_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
	CHECK_INT_EQ(dk__pci_parse_uevent(NULL, 0, &u), -EINVAL);
}

DK_TEST(unknown_keys_and_blank_lines_ignored)
{
	struct dk__pci_uevent u;
	REQUIRE_INT_EQ(parse("\nFOO=bar\nPCI_ID=1234:11E8\n\nOF_NAME=x=y\n", &u), 0);
	CHECK_INT_EQ(u.have, DK__UEV_ID);
	CHECK_INT_EQ(u.device_id, 0x11e8);
}
