/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the VM guest test programs: start the library on the guest's
 * /sys, bind a device to vfio-pci, and wait on an eventfd. The VM is the
 * machine tests/vm/run.sh boots (edu at 0000:03:00.0, NVMe at 0000:04:00.0).
 */
#ifndef DK_VM_COMMON_H
#define DK_VM_COMMON_H

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/utsname.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dmakit/dmakit.h>
#include <dmakit/edu.h>

#include "tap.h"

#define VM_EDU "0000:03:00.0"
#define VM_NVME "0000:04:00.0"

/* The IOMMU address width the VM was booted with (run.sh --aw-bits: 48 or 39). */
static inline int vm_aw_bits(void)
{
	const char *v = getenv("DK_VM_AW_BITS");
	return v ? atoi(v) : 48;
}

/* 1 when the guest kernel is version maj.min or later (the suite boots Debian's 6.1
 * and its own 6.12, run.sh --kernel iommufd: some kernel facts differ between them). */
static inline int vm_kernel_at_least(int maj, int min)
{
	struct utsname u;
	int a = 0, b = 0;
	if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &a, &b) != 2)
		return 0;
	return a > maj || (a == maj && b >= min);
}

/* The VFIO backend the library uses for device bdf (dmakit/vfio.h, "backends"). */
static inline int vm_backend(const char *bdf)
{
	return dk_vfio_backend_select(bdf, NULL, 0);
}

/*
 * dk_init (no probe) on the real /sys unless initialized; skips when not in
 * the VM. The TAP harness calls dk_cleanup() after every test (which closes
 * every device and the default container), so each test starts afresh.
 */
static inline void vm_init(void)
{
	if (dk_initialized())
		return;
	if (!getenv("DK_VM"))
		SKIP("not in the dmakit test VM (run it with tests/vm/run.sh)");
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_PROBE;
	REQUIRE_INT_EQ(dk_init(&p), 0);
}

/*
 * Bind edu to vfio-pci, register the edu driver (once: registrations outlive
 * dk_cleanup) and dk_init in memory with probing, unless initialized; edu's
 * PCI device and driver state out. The caller skips first when the VM lacks
 * what it needs.
 */
static inline void vm_start_edu(struct dk_pci_device **dev, struct dk_edu **edu)
{
	if (!dk_initialized()) {
		REQUIRE_INT_EQ(dk_pci_bind(VM_EDU, "vfio-pci"), 0);
		int rc = dk_edu_driver_register();
		REQUIRE(rc == 0 || rc == -EEXIST);
		struct dk_init_params p;
		dk_init_params_default(&p);
		p.flags = DK_INIT_IN_MEMORY;
		REQUIRE_INT_EQ(dk_init(&p), 0);
	}
	*dev = dk_pci_find(VM_EDU);
	REQUIRE(*dev != NULL);
	*edu = dk_edu_get(*dev);
	REQUIRE(*edu != NULL);
}

/* The device, opened through VFIO (it must be bound to vfio-pci already). */
static inline struct dk_pci_device *vm_open(const char *bdf)
{
	vm_init();
	struct dk_pci_device *d = dk_pci_find(bdf);
	REQUIRE(d != NULL);
	if (!dk_pci_vfio_is_open(d))
		REQUIRE_INT_EQ(dk_pci_vfio_open(d), 0);
	return d;
}

/* The device, bound to vfio-pci (binding it when needed). */
static inline struct dk_pci_device *vm_vfio_dev(const char *bdf)
{
	vm_init();
	struct dk_pci_device *d = dk_pci_find(bdf);
	REQUIRE(d != NULL);
	REQUIRE_INT_EQ(dk_pci_bind(bdf, "vfio-pci"), 0);
	return d;
}

/* Wait up to ms for the eventfd; returns its counter, 0 on timeout. */
static inline uint64_t vm_wait_eventfd(int efd, int ms)
{
	struct pollfd p = {.fd = efd, .events = POLLIN};
	if (poll(&p, 1, ms) != 1)
		return 0;
	uint64_t v = 0;
	if (read(efd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return 0;
	return v;
}

#endif
