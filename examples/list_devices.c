/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * list_devices: the smallest dmakit program. Initialises the library without
 * probing drivers and prints every PCI function with its place in the topology.
 *
 *   build/gcc/examples/list_devices            # this machine
 *   DMAKIT_SYSFS_ROOT=/some/tree list_devices  # any sysfs-shaped tree
 */
#include <stdio.h>
#include <string.h>

#include <dmakit/dmakit.h>

int main(void)
{
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_PROBE | DK_INIT_IN_MEMORY;
	int rc = dk_init(&p);
	if (rc < 0) {
		fprintf(stderr, "dk_init: %s\n", strerror(-rc));
		return 1;
	}
	for (unsigned int i = 0; i < dk_pci_count(); i++) {
		const struct dk_pci_device *d = dk_pci_get(i);
		printf("%s %04x:%04x class %06x depth %u under %s%s%s\n", d->device.name,
		       d->id.vendor_id, d->id.device_id, d->id.class_id, dk_pci_depth(d),
		       d->upstream ? d->upstream->device.name : d->host_bridge,
		       d->caps.acs.offset ? " ACS" : "", d->physfn ? " (VF)" : "");
	}
	dk_cleanup();
	return 0;
}
