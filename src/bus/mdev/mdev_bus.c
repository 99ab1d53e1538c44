/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The mdev bus object and its drivers (contract: include/dmakit/mdev.h,
 * src/bus/mdev/mdev_internal.h): drivers in registration order, an
 * instance probed by the first driver for its device_api that accepts it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bus/bus_internal.h"
#include "bus/mdev/mdev_internal.h"
#include "core/parse.h"

#define DK_LOG_COMPONENT "mdev"
#include "core/log_internal.h"

static struct dk_mdev_driver *g_drivers;
static int g_probed;

int dk__mdev_bus_probed(void)
{
	return g_probed;
}

int dk_mdev_driver_register(struct dk_mdev_driver *drv)
{
	if (!drv || !drv->driver.name || !drv->device_api || !drv->probe) {
		DK_ERR("cannot register mdev driver %s: name, device_api and probe are required",
		       drv && drv->driver.name ? drv->driver.name : "(unnamed)");
		return -EINVAL;
	}
	struct dk_mdev_driver **pp = &g_drivers;
	for (; *pp; pp = &(*pp)->next_) {
		if (*pp == drv || strcmp((*pp)->driver.name, drv->driver.name) == 0) {
			DK_ERR("mdev driver %s is already registered", drv->driver.name);
			return -EEXIST;
		}
	}
	drv->next_ = NULL;
	*pp = drv;
	return 0;
}

int dk_mdev_driver_unregister(struct dk_mdev_driver *drv)
{
	struct dk_mdev_driver **pp = &g_drivers;
	while (*pp && *pp != drv)
		pp = &(*pp)->next_;
	if (!*pp)
		return -ENOENT;
	for (unsigned int i = 0; i < dk_mdev_count(); i++) {
		struct dk_mdev_device *m = dk_mdev_get(i);
		if (m->driver == drv)
			dk__mdev_unplug(m);
	}
	*pp = drv->next_;
	drv->next_ = NULL;
	return 0;
}

int dk__mdev_plug(struct dk_mdev_device *m)
{
	if (m->driver)
		return -EALREADY;
	const struct dk_devargs *da;
	if (dk_bus_device_policy(m->uuid, &da) == DK_DEV_POLICY_SKIP) {
		DK_DEBUG("mdev %s: not probed (allow/deny list)", m->uuid);
		return -EPERM;
	}
	m->device.devargs = da;
	int offered = 0;
	for (struct dk_mdev_driver *drv = g_drivers; drv; drv = drv->next_) {
		if (strcmp(drv->device_api, m->device_api) != 0)
			continue;
		offered = 1;
		int rc = drv->probe(drv, m);
		if (rc == -ENODEV)
			continue;
		if (rc < 0) {
			DK_ERR("mdev %s: probe by driver %s failed: %s", m->uuid, drv->driver.name,
			       strerror(-rc));
			return rc;
		}
		m->driver = drv;
		m->device.driver = &drv->driver;
		DK_INFO("mdev %s: probed by %s", m->uuid, drv->driver.name);
		return 0;
	}
	if (!offered)
		DK_INFO("mdev %s (%s of %s): device_api \"%s\" has no dmakit driver: listed, not "
			"probed (register a dk_mdev_driver for it)",
			m->uuid, m->type_id, m->parent, m->device_api[0] ? m->device_api : "unknown");
	return -ENODEV;
}

int dk__mdev_unplug(struct dk_mdev_device *m)
{
	if (!m->driver)
		return -ENODEV;
	int rc = 0;
	if (m->driver->remove) {
		rc = m->driver->remove(m);
		if (rc < 0)
			DK_WARN("mdev %s: remove by driver %s failed: %s", m->uuid,
				m->driver->driver.name, strerror(-rc));
	}
	m->driver = NULL;
	m->device.driver = NULL;
	m->pci = NULL;
	return rc;
}

static int probe_all(void)
{
	int n = 0;
	for (unsigned int i = 0; i < dk_mdev_count(); i++) {
		struct dk_mdev_device *m = dk_mdev_get(i);
		if (!m->driver && dk__mdev_plug(m) == 0)
			n++;
	}
	return n;
}

int dk_mdev_scan(void)
{
	int rc = dk__mdev_scan();
	if (rc < 0 || !g_probed)
		return rc;
	probe_all();
	return (int)dk_mdev_count();
}

static int mdev_bus_scan(void)
{
	return dk__mdev_scan();
}

static int mdev_bus_probe(void)
{
	g_probed = 1;
	probe_all();
	return 0;
}

static struct dk_device *mdev_device_at(unsigned int i)
{
	return &dk_mdev_get(i)->device;
}

static struct dk_device *mdev_bus_find(const struct dk_device *start, dk_dev_cmp_fn cmp,
				       const void *data)
{
	return dk__bus_find_indexed(dk_mdev_count(), mdev_device_at, start, cmp, data);
}

static int mdev_bus_plug(struct dk_device *dev)
{
	return dk__mdev_plug(dk_mdev_from_device(dev));
}

static int mdev_bus_unplug(struct dk_device *dev)
{
	return dk__mdev_unplug(dk_mdev_from_device(dev));
}

static int mdev_bus_parse_name(const char *name, char *out, size_t len)
{
	if (!dk__uuid_valid(name))
		return -EINVAL;
	if (out && len < DK_MDEV_UUID_LEN)
		return -ENAMETOOLONG;
	for (int i = 0; out && i < DK_MDEV_UUID_LEN; i++) /* mdevs are named in lower case */
		out[i] = (char)(name[i] >= 'A' && name[i] <= 'F' ? name[i] - 'A' + 'a' : name[i]);
	return 0;
}

static void mdev_bus_cleanup(void)
{
	dk__mdev_free_all();
	g_probed = 0;
}

struct dk_bus dk__mdev_bus = {
    .name = "mdev",
    .scan = mdev_bus_scan,
    .probe = mdev_bus_probe,
    .find = mdev_bus_find,
    .plug = mdev_bus_plug,
    .unplug = mdev_bus_unplug,
    .parse_name = mdev_bus_parse_name,
    .cleanup = mdev_bus_cleanup,
};
