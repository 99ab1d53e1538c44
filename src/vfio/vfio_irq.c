/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interrupts: VFIO_DEVICE_GET_IRQ_INFO and VFIO_DEVICE_SET_IRQS with
 * eventfds (enable N vectors, disable an index), unmask (INTx is
 * automasked) and loopback trigger.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/vfio.h>

#include "vfio/vfio_internal.h"

#define DK_LOG_COMPONENT "vfio"
#include "core/log_internal.h"

static const char *irq_name(uint32_t index)
{
	static const char *const names[] = {"INTx", "MSI", "MSI-X", "ERR", "REQ"};
	return index < 5 ? names[index] : "device-specific";
}

static int check_index(const struct dk_vfio_device *d, uint32_t index, const char *what)
{
	if (!d) {
		DK_ERR("%s: NULL device", what);
		return -EINVAL;
	}
	if (index >= d->info.num_irqs) {
		DK_ERR("%s: %s: IRQ index %u out of range: the device has IRQ indexes 0..%u", d->name,
		       what, index, d->info.num_irqs ? d->info.num_irqs - 1 : 0);
		return -EINVAL;
	}
	return 0;
}

int dk_vfio_irq_info(const struct dk_vfio_device *d, uint32_t index, struct dk_vfio_irq_info *out)
{
	int rc = check_index(d, index, "IRQ info");
	if (rc < 0)
		return rc;
	if (!out)
		return -EINVAL;
	struct vfio_irq_info ii = {.argsz = sizeof(ii), .index = index};
	if (ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii) < 0) {
		rc = -errno;
		DK_ERR("%s: VFIO_DEVICE_GET_IRQ_INFO(%u): %s", d->name, index, strerror(errno));
		return rc;
	}
	out->index = index;
	out->flags = ii.flags;
	out->count = ii.count;
	return 0;
}

static int set_irqs(const struct dk_vfio_device *d, uint32_t flags, uint32_t index,
		    uint32_t start, uint32_t count, const void *data, size_t data_len,
		    const char *what)
{
	size_t sz = sizeof(struct vfio_irq_set) + data_len;
	struct vfio_irq_set *s = calloc(1, sz);
	if (!s)
		return -ENOMEM;
	s->argsz = (uint32_t)sz;
	s->flags = flags;
	s->index = index;
	s->start = start;
	s->count = count;
	if (data_len)
		memcpy(s->data, data, data_len);
	int rc = 0;
	if (ioctl(d->fd, VFIO_DEVICE_SET_IRQS, s) < 0) {
		rc = -errno;
		if (errno == EINVAL && (flags & VFIO_IRQ_SET_DATA_EVENTFD))
			DK_ERR("%s: %s %s: VFIO_DEVICE_SET_IRQS: %s (another IRQ index may be enabled: disable it first)",
			       d->name, what, irq_name(index), strerror(errno));
		else
			DK_ERR("%s: %s %s: VFIO_DEVICE_SET_IRQS: %s", d->name, what, irq_name(index),
			       strerror(errno));
	}
	free(s);
	return rc;
}

int dk_vfio_irq_enable(const struct dk_vfio_device *d, uint32_t index, const int *efds, uint32_t n)
{
	struct dk_vfio_irq_info ii;
	int rc = dk_vfio_irq_info(d, index, &ii);
	if (rc < 0)
		return rc;
	if (!efds || n == 0) {
		DK_ERR("%s: enable %s: give at least one eventfd", d->name, irq_name(index));
		return -EINVAL;
	}
	if (!(ii.flags & VFIO_IRQ_INFO_EVENTFD)) {
		DK_ERR("%s: %s does not signal through eventfds", d->name, irq_name(index));
		return -ENOTSUP;
	}
	if (n > ii.count) {
		DK_ERR("%s: enable %u %s vectors: the device has %u", d->name, n, irq_name(index),
		       ii.count);
		return -EINVAL;
	}
	int32_t *fds = calloc(n, sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		fds[i] = efds[i];
	rc = set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, index, 0, n, fds,
		      n * sizeof(*fds), "enable");
	free(fds);
	return rc;
}

int dk_vfio_irq_disable(const struct dk_vfio_device *d, uint32_t index)
{
	int rc = check_index(d, index, "IRQ disable");
	if (rc < 0)
		return rc;
	return set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, index, 0, 0, NULL,
			0, "disable");
}

static int check_vector(const struct dk_vfio_device *d, uint32_t index, uint32_t vector,
			const char *what, struct dk_vfio_irq_info *ii)
{
	int rc = dk_vfio_irq_info(d, index, ii);
	if (rc < 0)
		return rc;
	if (vector >= ii->count) {
		DK_ERR("%s: %s %s vector %u: the device has %u", d->name, what, irq_name(index),
		       vector, ii->count);
		return -EINVAL;
	}
	return 0;
}

int dk_vfio_irq_unmask(const struct dk_vfio_device *d, uint32_t index, uint32_t vector)
{
	struct dk_vfio_irq_info ii;
	int rc = check_vector(d, index, vector, "unmask", &ii);
	if (rc < 0)
		return rc;
	if (!(ii.flags & VFIO_IRQ_INFO_MASKABLE)) {
		DK_ERR("%s: %s is not maskable: nothing to unmask", d->name, irq_name(index));
		return -ENOTSUP;
	}
	return set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, index, vector, 1,
			NULL, 0, "unmask");
}

int dk_vfio_irq_trigger(const struct dk_vfio_device *d, uint32_t index, uint32_t vector)
{
	struct dk_vfio_irq_info ii;
	int rc = check_vector(d, index, vector, "trigger", &ii);
	if (rc < 0)
		return rc;
	return set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, index, vector, 1,
			NULL, 0, "trigger");
}
