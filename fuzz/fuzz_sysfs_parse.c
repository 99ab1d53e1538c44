/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the sysfs value parsers (src/core/parse.h). The
 * input is a sysfs file's contents, not NUL-terminated. Besides the
 * sanitizers, it checks: only the documented errors come back, values
 * survive a format/parse round trip, the signed and unsigned decimal
 * parsers agree, and a smaller line limit gives a prefix of the lines.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/pci/pci_uevent.h"
#include "core/parse.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void check_rc(int rc)
{
	REQUIRE(rc == 0 || rc == -EINVAL || rc == -ERANGE);
}

static void u64_round_trip(uint64_t v)
{
	char buf[32];
	uint64_t w;
	int n = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", v);
	REQUIRE(dk__parse_u64(buf, (size_t)n, 10, &w) == 0 && w == v);
	n = snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	REQUIRE(dk__parse_u64(buf, (size_t)n, 16, &w) == 0 && w == v);
	REQUIRE(dk__parse_u64(buf, (size_t)n, 0, &w) == 0 && w == v);
	n = snprintf(buf, sizeof(buf), " %" PRIx64 " ", v);
	REQUIRE(dk__parse_u64(buf, (size_t)n, 16, &w) == 0 && w == v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	static const int bases[] = {0, 10, 16};
	uint64_t u[3] = {0, 0, 0};
	int urc[3];
	for (int i = 0; i < 3; i++) {
		urc[i] = dk__parse_u64(s, size, bases[i], &u[i]);
		check_rc(urc[i]);
		if (urc[i] == 0)
			u64_round_trip(u[i]);
	}

	int64_t sv = 0;
	int src = dk__parse_i64(s, size, &sv);
	check_rc(src);
	if (src == 0) {
		char buf[32];
		int64_t w;
		int n = snprintf(buf, sizeof(buf), "%" PRId64, sv);
		REQUIRE(dk__parse_i64(buf, (size_t)n, &w) == 0 && w == sv);
	}
	/* plain decimal digits: the signed parser agrees with the unsigned one */
	if (urc[1] == 0) {
		if (u[1] <= (uint64_t)INT64_MAX)
			REQUIRE(src == 0 && (uint64_t)sv == u[1]);
		else
			REQUIRE(src == -ERANGE);
	}

	struct dk__resource_line lines[32];
	memset(lines, 0, sizeof(lines));
	int n = dk__parse_resource(s, size, lines, 32);
	REQUIRE(n == -EINVAL || n == -ERANGE || (n >= 0 && n <= 32));
	if (n >= 0) {
		struct dk__resource_line few[2];
		int m = dk__parse_resource(s, size, few, 2);
		REQUIRE(m == (n < 2 ? n : 2));
		REQUIRE(memcmp(few, lines, (size_t)m * sizeof(few[0])) == 0);
		REQUIRE(dk__parse_resource(s, size, NULL, 0) == 0);
	}

	/* uevent: success leaves only flagged fields set and strings terminated. */
	struct dk__pci_uevent ue;
	int urc2 = dk__pci_parse_uevent(s, size, &ue);
	REQUIRE(urc2 == 0 || urc2 == -EINVAL);
	if (urc2 == 0) {
		REQUIRE((ue.have & ~0x1fu) == 0);
		REQUIRE(memchr(ue.driver, '\0', sizeof(ue.driver)) != NULL);
		REQUIRE(memchr(ue.slot, '\0', sizeof(ue.slot)) != NULL);
		REQUIRE(ue.class_id <= 0xffffff);
		if (!(ue.have & DK__UEV_DRIVER))
			REQUIRE(ue.driver[0] == '\0');
	}
	return 0;
}
