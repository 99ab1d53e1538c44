/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the VFIO capability-chain parser
 * (src/vfio/vfio_caps.c) and the region-info decoder built on it
 * (dk__vfio_region_decode in src/vfio/vfio_region.c).
 *
 * Input: byte 0 picks the reply kind (even: region info, odd: type1 IOMMU
 * info); the rest is the reply as the kernel would write it (struct
 * vfio_region_info / vfio_iommu_type1_info, cap_offset inside, then the
 * chain). Besides the sanitizers, it checks the parsers' promises: results
 * that point into the buffer fit in it, a failed parse leaves nothing
 * behind, decoded areas lie inside the region, sorted and disjoint.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/vfio.h>

#include "fuzz_check.h"
#include "vfio/vfio_caps.h"
#include "vfio/vfio_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void region(const uint8_t *buf, size_t len)
{
	struct dk__vfio_region_caps c;
	struct vfio_region_info ri;
	if (len < sizeof(ri)) {
		REQUIRE(dk__vfio_region_caps_parse(buf, len, sizeof(ri), 0, &c, NULL) == -EINVAL);
		return;
	}
	memcpy(&ri, buf, sizeof(ri));
	size_t err = 0;
	int rc = dk__vfio_region_caps_parse(buf, len, sizeof(ri), ri.cap_offset, &c, &err);
	REQUIRE(rc == 0 || rc == -EPROTO);
	if (rc < 0) {
		REQUIRE(c.flags == 0 && c.ncaps == 0);
		REQUIRE(err >= sizeof(ri) || err == ri.cap_offset);
	} else {
		if (c.flags & DK__VFIO_RCAP_SPARSE)
			REQUIRE(c.areas_off <= len && c.nr_areas <= (len - c.areas_off) / 16);
		else
			REQUIRE(c.nr_areas == 0);
		REQUIRE(ri.cap_offset == 0 || c.ncaps >= 1);
	}

	struct dk_vfio_region_info out;
	rc = dk__vfio_region_decode(buf, len, &out, &err);
	REQUIRE(rc == 0 || rc == -EPROTO || rc == -ENOMEM);
	if (rc < 0) {
		REQUIRE(out.areas == NULL && out.nr_areas == 0);
		return;
	}
	REQUIRE(out.size == ri.size && out.offset == ri.offset);
	REQUIRE(!out.nr_areas || (out.flags & DK_VFIO_REGION_MMAP));
	for (uint32_t i = 0; i < out.nr_areas; i++) {
		const struct dk_vfio_area *a = &out.areas[i];
		REQUIRE(a->size > 0 && a->offset <= out.size && a->size <= out.size - a->offset);
		if (i)
			REQUIRE(a->offset >= out.areas[i - 1].offset + out.areas[i - 1].size);
	}
	free(out.areas);
}

static void iommu(const uint8_t *buf, size_t len)
{
	struct dk__vfio_iommu_caps c;
	struct vfio_iommu_type1_info ii;
	if (len < sizeof(ii))
		return;
	memcpy(&ii, buf, sizeof(ii));
	int rc = dk__vfio_iommu_caps_parse(buf, len, sizeof(ii), ii.cap_offset, &c, NULL);
	REQUIRE(rc == 0 || rc == -EPROTO);
	if (rc < 0) {
		REQUIRE(c.flags == 0);
		return;
	}
	if (c.flags & DK__VFIO_ICAP_IOVA_RANGE) {
		REQUIRE(c.iovas_off <= len && c.nr_iovas <= (len - c.iovas_off) / 16);
		for (uint32_t i = 0; i < c.nr_iovas; i++)
			REQUIRE(dk__vfio_get_u64(buf, c.iovas_off + 16 * (size_t)i) <=
				dk__vfio_get_u64(buf, c.iovas_off + 16 * (size_t)i + 8));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* An exact-size heap copy: any read past the end is an ASan report. */
	size_t len = size - 1;
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	if (data[0] & 1)
		iommu(buf, len);
	else
		region(buf, len);
	free(buf);
	return 0;
}
