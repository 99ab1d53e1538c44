/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for src/core/parse.c: the pure sysfs value parsers. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "core/parse.h"
#include "tap.h"

/* Parse a NUL-terminated string whole. */
static int u64(const char *s, int base, uint64_t *out)
{
	return dk__parse_u64(s, strlen(s), base, out);
}

static int i64(const char *s, int64_t *out)
{
	return dk__parse_i64(s, strlen(s), out);
}

/* ---- dk__parse_u64 ------------------------------------------------------ */

DK_TEST(u64_base10)
{
	uint64_t v = 7;
	CHECK_INT_EQ(u64("0", 10, &v), 0);
	CHECK_INT_EQ(v, 0);
	CHECK_INT_EQ(u64("4096", 10, &v), 0);
	CHECK_INT_EQ(v, 4096);
	/* Leading zeros are plain decimal in base 10. */
	CHECK_INT_EQ(u64("010", 10, &v), 0);
	CHECK_INT_EQ(v, 10);
	/* A hex prefix is not decimal. */
	v = 7;
	CHECK_INT_EQ(u64("0x10", 10, &v), -EINVAL);
	CHECK_INT_EQ(v, 7);
	CHECK_INT_EQ(u64("ff", 10, &v), -EINVAL);
}

DK_TEST(u64_base16)
{
	uint64_t v = 0;
	CHECK_INT_EQ(u64("ff", 16, &v), 0);
	CHECK_INT_EQ(v, 0xff);
	CHECK_INT_EQ(u64("0xff", 16, &v), 0);
	CHECK_INT_EQ(v, 0xff);
	CHECK_INT_EQ(u64("0XAbCd", 16, &v), 0);
	CHECK_INT_EQ(v, 0xabcd);
	CHECK_INT_EQ(u64("0x0000004000000000", 16, &v), 0);
	CHECK(v == 0x4000000000ull);
	CHECK_INT_EQ(u64("10", 16, &v), 0);
	CHECK_INT_EQ(v, 16);
	CHECK_INT_EQ(u64("0x", 16, &v), -EINVAL);
	CHECK_INT_EQ(u64("0xg", 16, &v), -EINVAL);
	CHECK_INT_EQ(u64("0x0x1", 16, &v), -EINVAL);
}

DK_TEST(u64_base8)
{
	uint64_t v = 0;
	CHECK_INT_EQ(u64("17", 8, &v), 0);
	CHECK_INT_EQ(v, 15);
	CHECK_INT_EQ(u64("017", 8, &v), 0);
	CHECK_INT_EQ(v, 15);
	CHECK_INT_EQ(u64("8", 8, &v), -EINVAL);
	CHECK_INT_EQ(u64("0x10", 8, &v), -EINVAL);
	/* 2^64 - 1 is 1777777777777777777777 in octal; 2^64 is 2000000000000000000000. */
	CHECK_INT_EQ(u64("1777777777777777777777", 8, &v), 0);
	CHECK(v == UINT64_MAX);
	CHECK_INT_EQ(u64("2000000000000000000000", 8, &v), -ERANGE);
}

DK_TEST(u64_base0_auto)
{
	uint64_t v = 0;
	CHECK_INT_EQ(u64("0x1f", 0, &v), 0);
	CHECK_INT_EQ(v, 0x1f);
	CHECK_INT_EQ(u64("0X1F", 0, &v), 0);
	CHECK_INT_EQ(v, 0x1f);
	CHECK_INT_EQ(u64("010", 0, &v), 0);
	CHECK_INT_EQ(v, 8);
	CHECK_INT_EQ(u64("0", 0, &v), 0);
	CHECK_INT_EQ(v, 0);
	CHECK_INT_EQ(u64("00", 0, &v), 0);
	CHECK_INT_EQ(v, 0);
	CHECK_INT_EQ(u64("123", 0, &v), 0);
	CHECK_INT_EQ(v, 123);
	/* Leading 0 means octal, so 8 and 9 are not digits. */
	CHECK_INT_EQ(u64("08", 0, &v), -EINVAL);
	CHECK_INT_EQ(u64("0x", 0, &v), -EINVAL);
	CHECK_INT_EQ(u64("1f", 0, &v), -EINVAL);
}

DK_TEST(u64_bad_base_and_args)
{
	uint64_t v = 0;
	CHECK_INT_EQ(u64("1", 2, &v), -EINVAL);
	CHECK_INT_EQ(u64("1", 36, &v), -EINVAL);
	CHECK_INT_EQ(u64("1", -1, &v), -EINVAL);
	CHECK_INT_EQ(dk__parse_u64(NULL, 1, 10, &v), -EINVAL);
	CHECK_INT_EQ(dk__parse_u64("1", 1, 10, NULL), -EINVAL);
}

DK_TEST(u64_whitespace)
{
	uint64_t v = 0;
	CHECK_INT_EQ(u64("42\n", 10, &v), 0);
	CHECK_INT_EQ(v, 42);
	CHECK_INT_EQ(u64("  0x2a \t\r\n", 0, &v), 0);
	CHECK_INT_EQ(v, 42);
	CHECK_INT_EQ(u64("\t52\n", 8, &v), 0);
	CHECK_INT_EQ(v, 42);
	/* Whitespace inside the number is garbage. */
	CHECK_INT_EQ(u64("4 2", 10, &v), -EINVAL);
	CHECK_INT_EQ(u64("0x 2a", 0, &v), -EINVAL);
}

DK_TEST(u64_empty)
{
	uint64_t v = 99;
	CHECK_INT_EQ(u64("", 10, &v), -EINVAL);
	CHECK_INT_EQ(u64("", 0, &v), -EINVAL);
	CHECK_INT_EQ(u64("", 16, &v), -EINVAL);
	CHECK_INT_EQ(u64(" \n", 10, &v), -EINVAL);
	CHECK_INT_EQ(u64("\n", 0, &v), -EINVAL);
	CHECK_INT_EQ(dk__parse_u64("123", 0, 10, &v), -EINVAL);
	CHECK_INT_EQ(v, 99);
}

DK_TEST(u64_sign_and_garbage)
{
	uint64_t v = 5;
	CHECK_INT_EQ(u64("-1", 10, &v), -EINVAL);
	CHECK_INT_EQ(u64("-1", 0, &v), -EINVAL);
	CHECK_INT_EQ(u64("-0x1", 16, &v), -EINVAL);
	CHECK_INT_EQ(u64("+1", 10, &v), -EINVAL);
	CHECK_INT_EQ(u64("12abc", 10, &v), -EINVAL);
	CHECK_INT_EQ(u64("abc", 10, &v), -EINVAL);
	CHECK_INT_EQ(u64("1.5", 10, &v), -EINVAL);
	CHECK_INT_EQ(u64("0x12z", 0, &v), -EINVAL);
	CHECK_INT_EQ(u64("max", 0, &v), -EINVAL);
	CHECK_INT_EQ(v, 5);
}

DK_TEST(u64_limits)
{
	uint64_t v = 0;
	CHECK_INT_EQ(u64("18446744073709551615", 10, &v), 0);
	CHECK(v == UINT64_MAX);
	CHECK_INT_EQ(u64("18446744073709551615", 0, &v), 0);
	CHECK(v == UINT64_MAX);
	CHECK_INT_EQ(u64("0xffffffffffffffff", 0, &v), 0);
	CHECK(v == UINT64_MAX);
	CHECK_INT_EQ(u64("FFFFFFFFFFFFFFFF", 16, &v), 0);
	CHECK(v == UINT64_MAX);
	/* Leading zeros do not count toward overflow. */
	CHECK_INT_EQ(u64("0x00000000000000000001", 16, &v), 0);
	CHECK_INT_EQ(v, 1);

	v = 3;
	CHECK_INT_EQ(u64("18446744073709551616", 10, &v), -ERANGE); /* 2^64 */
	CHECK_INT_EQ(u64("18446744073709551620", 10, &v), -ERANGE);
	CHECK_INT_EQ(u64("99999999999999999999", 10, &v), -ERANGE);
	CHECK_INT_EQ(u64("0x10000000000000000", 0, &v), -ERANGE);
	CHECK_INT_EQ(u64("10000000000000000", 16, &v), -ERANGE);
	CHECK_INT_EQ(u64("02000000000000000000000", 0, &v), -ERANGE);
	CHECK_INT_EQ(v, 3);
}

DK_TEST(u64_length_respected)
{
	uint64_t v = 0;
	/* The buffer is not NUL-terminated at len: digits after len are ignored. */
	CHECK_INT_EQ(dk__parse_u64("123456", 3, 10, &v), 0);
	CHECK_INT_EQ(v, 123);
	CHECK_INT_EQ(dk__parse_u64("0x1fff", 3, 0, &v), 0);
	CHECK_INT_EQ(v, 1);
	CHECK_INT_EQ(dk__parse_u64("42garbage", 2, 10, &v), 0);
	CHECK_INT_EQ(v, 42);
	/* A prefix cut before the digits leaves nothing. */
	CHECK_INT_EQ(dk__parse_u64("0x1f", 2, 0, &v), -EINVAL);

	/* A buffer with no NUL at all, followed by a guard byte. */
	char buf[8];
	memcpy(buf, "7777777", 7);
	buf[7] = '9';
	CHECK_INT_EQ(dk__parse_u64(buf, 7, 8, &v), 0);
	CHECK_INT_EQ(v, 07777777);
	CHECK_INT_EQ(dk__parse_u64(buf, 8, 8, &v), -EINVAL);

	/* A sysfs read of "10\n" into a buffer that holds stale bytes after. */
	char stale[] = { '1', '0', '\n', '9', '9' };
	CHECK_INT_EQ(dk__parse_u64(stale, 3, 10, &v), 0);
	CHECK_INT_EQ(v, 10);
}

/* ---- dk__parse_i64 ------------------------------------------------------ */

DK_TEST(i64_values)
{
	int64_t v = 7;
	CHECK_INT_EQ(i64("-1", &v), 0);
	CHECK_INT_EQ(v, -1);
	CHECK_INT_EQ(i64("-1\n", &v), 0);
	CHECK_INT_EQ(v, -1);
	CHECK_INT_EQ(i64("0", &v), 0);
	CHECK_INT_EQ(v, 0);
	CHECK_INT_EQ(i64("-0", &v), 0);
	CHECK_INT_EQ(v, 0);
	CHECK_INT_EQ(i64("+5", &v), 0);
	CHECK_INT_EQ(v, 5);
	CHECK_INT_EQ(i64("  -42 \n", &v), 0);
	CHECK_INT_EQ(v, -42);
	CHECK_INT_EQ(i64("1234567", &v), 0);
	CHECK_INT_EQ(v, 1234567);
}

DK_TEST(i64_limits)
{
	int64_t v = 0;
	CHECK_INT_EQ(i64("9223372036854775807", &v), 0);
	CHECK(v == INT64_MAX);
	CHECK_INT_EQ(i64("-9223372036854775808", &v), 0);
	CHECK(v == INT64_MIN);
	CHECK_INT_EQ(i64("-9223372036854775807", &v), 0);
	CHECK(v == -INT64_MAX);

	v = 11;
	CHECK_INT_EQ(i64("9223372036854775808", &v), -ERANGE);
	CHECK_INT_EQ(i64("-9223372036854775809", &v), -ERANGE);
	CHECK_INT_EQ(i64("18446744073709551615", &v), -ERANGE);
	CHECK_INT_EQ(i64("-18446744073709551616", &v), -ERANGE);
	CHECK_INT_EQ(i64("99999999999999999999999", &v), -ERANGE);
	CHECK_INT_EQ(v, 11);
}

DK_TEST(i64_malformed)
{
	int64_t v = 11;
	CHECK_INT_EQ(i64("", &v), -EINVAL);
	CHECK_INT_EQ(i64("\n", &v), -EINVAL);
	CHECK_INT_EQ(i64("-", &v), -EINVAL);
	CHECK_INT_EQ(i64("+", &v), -EINVAL);
	CHECK_INT_EQ(i64("--1", &v), -EINVAL);
	CHECK_INT_EQ(i64("- 1", &v), -EINVAL);
	CHECK_INT_EQ(i64("0x10", &v), -EINVAL);
	CHECK_INT_EQ(i64("1-", &v), -EINVAL);
	CHECK_INT_EQ(i64("abc", &v), -EINVAL);
	CHECK_INT_EQ(dk__parse_i64(NULL, 2, &v), -EINVAL);
	CHECK_INT_EQ(dk__parse_i64("1", 1, NULL), -EINVAL);
	CHECK_INT_EQ(v, 11);
	/* Length respected. */
	CHECK_INT_EQ(dk__parse_i64("-12345", 3, &v), 0);
	CHECK_INT_EQ(v, -12);
}

/* ---- dk__parse_resource ------------------------------------------------- */

/*
 * /sys/bus/pci/devices/0000:00:01.0/resource of the machine these tests were
 * written on, verbatim (7 lines: 6 BARs and the ROM; this kernel prints no
 * SR-IOV or bridge windows for it). BAR0 is a 512 KiB 64-bit memory BAR.
 */
static const char real_resource[] =
	"0x0000004000000000 0x000000400007ffff 0x0000000000140204\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n";

/*
 * A 13-line file as a kernel with CONFIG_PCI_IOV prints it for an endpoint
 * (6 BARs, ROM, 6 VF BARs): line 1 is the real BAR0 above; line 3 adds
 * an I/O BAR, line 7 a ROM and line 8 a prefetchable 64-bit VF BAR.
 */
static const char resource13[] =
	"0x0000004000000000 0x000000400007ffff 0x0000000000140204\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x000000000000e000 0x000000000000e01f 0x0000000000040101\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x00000000fe000000 0x00000000fe07ffff 0x0000000000046200\n"
	"0x0000004100000000 0x00000041001fffff 0x000000000014220c\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n";

DK_TEST(resource_real_file)
{
	struct dk__resource_line l[17];
	memset(l, 0xa5, sizeof(l));
	int n = dk__parse_resource(real_resource, strlen(real_resource), l, 17);
	REQUIRE_INT_EQ(n, 7);
	CHECK(l[0].start == 0x4000000000ull);
	CHECK(l[0].end == 0x400007ffffull);
	CHECK(l[0].flags == 0x140204ull);
	CHECK(l[0].flags & DK__IORESOURCE_MEM);
	CHECK(l[0].flags & DK__IORESOURCE_MEM_64);
	CHECK(!(l[0].flags & DK__IORESOURCE_PREFETCH));
	CHECK(!(l[0].flags & DK__IORESOURCE_IO));
	CHECK_INT_EQ(l[0].end - l[0].start + 1, 512 * 1024);
	for (int i = 1; i < 7; i++) {
		CHECK_INT_EQ(l[i].start, 0);
		CHECK_INT_EQ(l[i].end, 0);
		CHECK_INT_EQ(l[i].flags, 0);
	}
	/* Entries past the count are untouched. */
	CHECK(l[7].start == 0xa5a5a5a5a5a5a5a5ull);
}

DK_TEST(resource_13_lines)
{
	struct dk__resource_line l[17];
	int n = dk__parse_resource(resource13, strlen(resource13), l, 17);
	REQUIRE_INT_EQ(n, 13);
	CHECK(l[2].start == 0xe000 && l[2].end == 0xe01f);
	CHECK(l[2].flags & DK__IORESOURCE_IO);
	CHECK(l[6].start == 0xfe000000ull && l[6].end == 0xfe07ffffull);
	CHECK(l[7].start == 0x4100000000ull && l[7].end == 0x41001fffffull);
	CHECK(l[7].flags == 0x14220cull);
	CHECK(l[7].flags & DK__IORESOURCE_PREFETCH);
	CHECK(l[7].flags & DK__IORESOURCE_MEM_64);
	CHECK_INT_EQ(l[12].start, 0);
	CHECK_INT_EQ(l[12].end, 0);
}

DK_TEST(resource_max_smaller_than_lines)
{
	struct dk__resource_line l[4];
	memset(l, 0xa5, sizeof(l));
	CHECK_INT_EQ(dk__parse_resource(resource13, strlen(resource13), l, 3), 3);
	CHECK(l[0].start == 0x4000000000ull);
	CHECK(l[2].start == 0xe000);
	CHECK(l[3].start == 0xa5a5a5a5a5a5a5a5ull); /* not written past max */
	CHECK_INT_EQ(dk__parse_resource(real_resource, strlen(real_resource), l, 1), 1);
	CHECK(l[0].end == 0x400007ffffull);
	/* max 0 with no storage: nothing parsed, nothing written. */
	CHECK_INT_EQ(dk__parse_resource(real_resource, strlen(real_resource), NULL, 0), 0);
	/* Storage missing although max > 0. */
	CHECK_INT_EQ(dk__parse_resource(real_resource, strlen(real_resource), NULL, 2), -EINVAL);
	CHECK_INT_EQ(dk__parse_resource(NULL, 0, l, 2), -EINVAL);
}

DK_TEST(resource_zero_lines)
{
	struct dk__resource_line l[2];
	CHECK_INT_EQ(dk__parse_resource("", 0, l, 2), 0);
	/* len 0 over a non-empty string: still nothing. */
	CHECK_INT_EQ(dk__parse_resource(real_resource, 0, l, 2), 0);
}

DK_TEST(resource_truncated)
{
	struct dk__resource_line l[17];
	/* Drop the final newline: the last line is partial. */
	CHECK_INT_EQ(dk__parse_resource(real_resource, strlen(real_resource) - 1, l, 17), -EINVAL);
	/* Cut mid-line. */
	CHECK_INT_EQ(dk__parse_resource(real_resource, 70, l, 17), -EINVAL);
	const char *one = "0x0000000000001000 0x0000000000001fff 0x0000000000000200";
	CHECK_INT_EQ(dk__parse_resource(one, strlen(one), l, 17), -EINVAL);
	/* Exactly one full line is fine. */
	CHECK_INT_EQ(dk__parse_resource(real_resource, 57, l, 17), 1);
	CHECK(l[0].end == 0x400007ffffull);
}

DK_TEST(resource_end_before_start)
{
	struct dk__resource_line l[2];
	const char *bad = "0x0000000000002000 0x0000000000001fff 0x0000000000000200\n";
	CHECK_INT_EQ(dk__parse_resource(bad, strlen(bad), l, 2), -EINVAL);
	/* On a later line too. */
	const char *bad2 = "0x0 0x0 0x0\n0x10 0x0f 0x200\n";
	CHECK_INT_EQ(dk__parse_resource(bad2, strlen(bad2), l, 2), -EINVAL);
	/* start == end is a 1-byte resource, fine. */
	const char *one = "0x10 0x10 0x100\n";
	CHECK_INT_EQ(dk__parse_resource(one, strlen(one), l, 2), 1);
	CHECK_INT_EQ(l[0].start, 0x10);
	CHECK_INT_EQ(l[0].end, 0x10);
}

DK_TEST(resource_malformed_lines)
{
	struct dk__resource_line l[4];
	const char *extra = "0x1000 0x1fff 0x200 0x0\n";
	CHECK_INT_EQ(dk__parse_resource(extra, strlen(extra), l, 4), -EINVAL);
	const char *two = "0x1000 0x1fff\n";
	CHECK_INT_EQ(dk__parse_resource(two, strlen(two), l, 4), -EINVAL);
	const char *empty_line = "0x0 0x0 0x0\n\n0x0 0x0 0x0\n";
	CHECK_INT_EQ(dk__parse_resource(empty_line, strlen(empty_line), l, 4), -EINVAL);
	const char *garbage = "0x1000 0x1zzz 0x200\n";
	CHECK_INT_EQ(dk__parse_resource(garbage, strlen(garbage), l, 4), -EINVAL);
	const char *neg = "-0x1 0x1fff 0x200\n";
	CHECK_INT_EQ(dk__parse_resource(neg, strlen(neg), l, 4), -EINVAL);
	const char *big = "0x10000000000000000 0x10000000000000000 0x200\n";
	CHECK_INT_EQ(dk__parse_resource(big, strlen(big), l, 4), -ERANGE);
	/* Extra blanks and tabs between and after tokens are tolerated. */
	const char *spaced = "  0x1000\t0x1fff   0x200  \n";
	CHECK_INT_EQ(dk__parse_resource(spaced, strlen(spaced), l, 4), 1);
	CHECK_INT_EQ(l[0].start, 0x1000);
	CHECK_INT_EQ(l[0].end, 0x1fff);
	CHECK_INT_EQ(l[0].flags, 0x200);
	/* Tokens are hex with or without 0x. */
	const char *bare = "1000 1fff 200\n";
	CHECK_INT_EQ(dk__parse_resource(bare, strlen(bare), l, 4), 1);
	CHECK_INT_EQ(l[0].end, 0x1fff);
}

/* ---- names: PCI addresses and UUIDs ------------------------------------- */

DK_TEST(pci_addr_long_short_and_bad)
{
	struct dk__pci_bdf a;
	char buf[32];
	REQUIRE_INT_EQ(dk__parse_pci_addr("0001:3A:1f.7", &a), 0);
	CHECK_INT_EQ(a.domain, 1);
	CHECK_INT_EQ(a.bus, 0x3a);
	CHECK_INT_EQ(a.dev, 31);
	CHECK_INT_EQ(a.func, 7);
	CHECK_INT_EQ(dk__format_pci_addr(&a, buf, sizeof(buf)), 12);
	CHECK_STR_EQ(buf, "0001:3a:1f.7");
	REQUIRE_INT_EQ(dk__parse_pci_addr("3:0.1", &a), 0);
	CHECK_INT_EQ(a.domain, 0);
	dk__format_pci_addr(&a, buf, sizeof(buf));
	CHECK_STR_EQ(buf, "0000:03:00.1");
	const char *bad[] = {"", "03:00", "03:20.0", "03:00.8", "003:00.0", "0:0:0:0.0",
			     "123456789:00:00.0", " 03:00.0", "03:00.0 ", "03:00.0x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT_EQ(dk__parse_pci_addr(bad[i], &a), -EINVAL);
	CHECK_INT_EQ(dk__parse_pci_addr(NULL, &a), -EINVAL);
}

DK_TEST(uuid_form)
{
	CHECK_INT_EQ(dk__uuid_valid("83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"), 1);
	CHECK_INT_EQ(dk__uuid_valid("83B8F4F2-509F-382F-3C1E-E6BFE0FA1001"), 1);
	CHECK_INT_EQ(dk__uuid_valid("83b8f4f2-509f-382f-3c1e-e6bfe0fa100"), 0);
	CHECK_INT_EQ(dk__uuid_valid("83b8f4f2-509f-382f-3c1e-e6bfe0fa10011"), 0);
	CHECK_INT_EQ(dk__uuid_valid("83b8f4f2_509f-382f-3c1e-e6bfe0fa1001"), 0);
	CHECK_INT_EQ(dk__uuid_valid("83b8f4g2-509f-382f-3c1e-e6bfe0fa1001"), 0);
	CHECK_INT_EQ(dk__uuid_valid(""), 0);
	CHECK_INT_EQ(dk__uuid_valid(NULL), 0);
}
