/* SPDX-License-Identifier: BSD-3-Clause */
/* The IOVA plan (src/dma/dma_plan.c): the pure coverage rule, and
 * the plan on a host where no device is bound to vfio-pci. */
#include <errno.h>
#include <stdlib.h>

#include <dmakit/dmakit.h>

#include "tap.h"
#include "dma/dma_plan.h"

#define TOP DK__USER_VA_TOP

DK_TEST(va_fits_48_bit_iommu_with_msi_window)
{
	/* What QEMU's intel-iommu reports with aw-bits=48. */
	struct dk__iova_span r[] = {{0xfef00000, 0xffffffffffff}, {0, 0xfedfffff}};
	CHECK_INT_EQ(dk__dma_plan_va_fits(r, 2, UINT64_MAX, TOP), 1);
	/* A device that reaches only 46 bits cannot take user VAs. */
	CHECK_INT_EQ(dk__dma_plan_va_fits(r, 2, ((uint64_t)1 << 46) - 1, TOP), 0);
	/* No ranges capability: the VFIO layer reports 0..UINT64_MAX. */
	struct dk__iova_span all[] = {{0, UINT64_MAX}};
	CHECK_INT_EQ(dk__dma_plan_va_fits(all, 1, UINT64_MAX, TOP), 1);
}

DK_TEST(va_does_not_fit_39_bits_or_high_holes)
{
	struct dk__iova_span r39[] = {{0, 0xfedfffff}, {0xfef00000, 0x7fffffffff}};
	CHECK_INT_EQ(dk__dma_plan_va_fits(r39, 2, UINT64_MAX, TOP), 0);
	/* A reserved hole above 4 GiB breaks IOVA = VA too. */
	struct dk__iova_span hole[] = {{0, 0x1fffffffff}, {0x2000100000, 0xffffffffffff}};
	CHECK_INT_EQ(dk__dma_plan_va_fits(hole, 2, UINT64_MAX, TOP), 0);
	/* Adjacent pieces in any order still cover. */
	struct dk__iova_span split[] = {{0x800000000000, 0xffffffffffff},
					{0x100000000, 0x7fffffffffff}};
	CHECK_INT_EQ(dk__dma_plan_va_fits(split, 2, UINT64_MAX, TOP), 1);
	CHECK_INT_EQ(dk__dma_plan_va_fits(NULL, 0, UINT64_MAX, TOP), 0);
}

DK_TEST(plan_without_vfio_devices)
{
	/* The fixture-free host view: nothing bound to vfio-pci here (no scan). */
	struct dk__mem_iova_plan p;
	CHECK_INT_EQ(dk__dma_plan(DK_IOVA_MODE_AUTO, 0, &p), 0);
	CHECK_INT_EQ(p.mode, DK_IOVA_MODE_VA);
	CHECK_INT_EQ(dk__dma_plan(DK_IOVA_MODE_PA, 0, &p), 0);
	CHECK_INT_EQ(p.mode, DK_IOVA_MODE_PA);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk__dma_plan(DK_IOVA_MODE_REMAP, 0, &p), -ENODEV);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "bind one first");
	dk_test_log_capture_stop();
	/* And through dk_init: remap refused with the same reason. */
	setenv("DMAKIT_IOVA_MODE", "remap", 1);
	struct dk_init_params ip;
	dk_init_params_default(&ip);
	ip.flags = DK_INIT_NO_SCAN;
	CHECK_INT_EQ(dk_init(&ip), -ENODEV);
	unsetenv("DMAKIT_IOVA_MODE");
	REQUIRE_INT_EQ(dk_init(&ip), 0);
	CHECK_INT_EQ(dk_iova_mode(), DK_IOVA_MODE_VA);
	dk_cleanup();
}
