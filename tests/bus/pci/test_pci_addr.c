/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests for src/bus/pci/pci_addr.c: addresses and ID-table matching. */
#include <errno.h>

#include <dmakit/pci.h>

#include "tap.h"

DK_TEST(parse_long_and_short_forms)
{
	struct dk_pci_addr a;
	CHECK_INT_EQ(dk_pci_addr_parse("0000:03:00.0", &a), 0);
	CHECK_INT_EQ(a.domain, 0);
	CHECK_INT_EQ(a.bus, 3);
	CHECK_INT_EQ(a.dev, 0);
	CHECK_INT_EQ(a.func, 0);
	CHECK_INT_EQ(dk_pci_addr_parse("1f:1d.7", &a), 0);
	CHECK_INT_EQ(a.domain, 0);
	CHECK_INT_EQ(a.bus, 0x1f);
	CHECK_INT_EQ(a.dev, 0x1d);
	CHECK_INT_EQ(a.func, 7);
	CHECK_INT_EQ(dk_pci_addr_parse("10000:ff:1F.3", &a), 0);
	CHECK_INT_EQ(a.domain, 0x10000);
	CHECK_INT_EQ(a.bus, 0xff);
	CHECK_INT_EQ(a.dev, 0x1f);
}

DK_TEST(parse_rejects_bad_syntax)
{
	struct dk_pci_addr a;
	const char *bad[] = { "", "0000:03:00", "0000:03:00.8", "0000:03:20.0", "0000:03:0g.0",
			      "0000:003:00.0", "000000000:03:00.0", "0000:03:00.0 ", "0000:03:00.0x",
			      ":03:00.0", "a:b:c:d.0", "03.00.0", "0000:03:.0" };
	for (size_t i = 0; i < DK_ARRAY_SIZE(bad); i++) {
		if (dk_pci_addr_parse(bad[i], &a) != -EINVAL)
			dk_test_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
	}
	CHECK_INT_EQ(dk_pci_addr_parse(NULL, &a), -EINVAL);
	CHECK_INT_EQ(dk_pci_addr_parse("00:00.0", NULL), -EINVAL);
}

DK_TEST(format_and_compare)
{
	struct dk_pci_addr a = { .domain = 1, .bus = 0xa, .dev = 0x1f, .func = 7 }, b = a;
	char buf[DK_PCI_ADDR_STR_LEN];
	CHECK_INT_EQ(dk_pci_addr_format(&a, buf, sizeof(buf)), 12);
	CHECK_STR_EQ(buf, "0001:0a:1f.7");
	CHECK_INT_EQ(dk_pci_addr_cmp(&a, &b), 0);
	b.func = 6;
	CHECK(dk_pci_addr_cmp(&a, &b) > 0);
	b.domain = 2;
	CHECK(dk_pci_addr_cmp(&a, &b) < 0);
	b = a;
	b.bus = 0xb;
	b.dev = 0;
	CHECK(dk_pci_addr_cmp(&a, &b) < 0);
}

DK_TEST(id_table_matching)
{
	static const struct dk_pci_id_match table[] = {
		DK_PCI_DEVICE(0x1b36, 0x0010),
		{ .vendor_id = 0x8086, .device_id = DK_PCI_ANY_ID, .subsystem_vendor_id = 0x1028,
		  .subsystem_device_id = DK_PCI_ANY_ID },
		DK_PCI_CLASS(0x010802, 0xffffff),
		{ 0 },
	};
	struct dk_pci_id nvme = { 0x1b36, 0x0010, 0x1af4, 0x1100, 0x010802 };
	struct dk_pci_id intel_dell = { 0x8086, 0x1234, 0x1028, 0x0001, 0x020000 };
	struct dk_pci_id intel_other = { 0x8086, 0x1234, 0x17aa, 0x0001, 0x020000 };
	struct dk_pci_id other_nvme = { 0x144d, 0xa808, 0x144d, 0xa801, 0x010802 };
	struct dk_pci_id other_ahci = { 0x144d, 0xa808, 0x144d, 0xa801, 0x010601 };
	CHECK(dk_pci_id_match(table, &nvme) == &table[0]);
	CHECK(dk_pci_id_match(table, &intel_dell) == &table[1]);
	CHECK(dk_pci_id_match(table, &intel_other) == NULL);
	CHECK(dk_pci_id_match(table, &other_nvme) == &table[2]);
	CHECK(dk_pci_id_match(table, &other_ahci) == NULL);
	CHECK(dk_pci_id_match(NULL, &nvme) == NULL);
	CHECK(dk_pci_id_match(table, NULL) == NULL);
}
