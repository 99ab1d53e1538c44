/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bus framework: the registered buses (a singly linked list in registration
 * order), the allow/deny policy shared by all of them, and per-device logging
 * (contract: include/dmakit/bus.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmakit/bus.h>

#include "bus/bus_internal.h"

#define DK_LOG_COMPONENT "bus"
#include "core/log_internal.h"

static struct dk_bus *g_buses;

static struct {
	int is_allow; /* 1: allow list, 0: deny list (when n > 0) */
	unsigned int n;
	struct dk_devargs *list;
} g_policy;

int dk_bus_register(struct dk_bus *bus)
{
	if (!bus || !bus->name || !bus->scan || !bus->probe || !bus->find || !bus->parse_name) {
		DK_ERR("cannot register bus %s: name, scan, probe, find and parse_name are required",
		       bus && bus->name ? bus->name : "(unnamed)");
		return -EINVAL;
	}
	struct dk_bus **pp = &g_buses;
	for (; *pp; pp = &(*pp)->next_) {
		if (*pp == bus || strcmp((*pp)->name, bus->name) == 0) {
			DK_ERR("bus %s is already registered", bus->name);
			return -EEXIST;
		}
	}
	bus->next_ = NULL;
	*pp = bus;
	return 0;
}

int dk_bus_unregister(struct dk_bus *bus)
{
	for (struct dk_bus **pp = &g_buses; *pp; pp = &(*pp)->next_) {
		if (*pp == bus) {
			*pp = bus->next_;
			bus->next_ = NULL;
			return 0;
		}
	}
	return -ENOENT;
}

struct dk_bus *dk_bus_find_by_name(const char *name)
{
	for (struct dk_bus *b = g_buses; name && b; b = b->next_)
		if (strcmp(b->name, name) == 0)
			return b;
	errno = name ? ENOENT : EINVAL;
	return NULL;
}

struct dk_device *dk_bus_find_device(const struct dk_device *start, dk_dev_cmp_fn cmp,
				     const void *data)
{
	struct dk_bus *b = g_buses;
	if (start) {
		/* Continue on start's bus, then on the buses after it. */
		b = start->bus;
		struct dk_device *d = b->find(start, cmp, data);
		if (d)
			return d;
		b = b->next_;
	}
	for (; b; b = b->next_) {
		struct dk_device *d = b->find(NULL, cmp, data);
		if (d)
			return d;
	}
	errno = ENOENT;
	return NULL;
}

int dk_dev_cmp_name(const struct dk_device *dev, const void *data)
{
	return strcmp(dev->name, (const char *)data);
}

void dk__bus_policy_clear(void)
{
	free(g_policy.list);
	memset(&g_policy, 0, sizeof(g_policy));
}

static unsigned int count(const char *const *v)
{
	unsigned int n = 0;
	while (v && v[n])
		n++;
	return n;
}

int dk__bus_policy_set(const char *const *allow, const char *const *deny)
{
	unsigned int na = count(allow), nd = count(deny);
	dk__bus_policy_clear();
	if (na && nd) {
		DK_ERR("both an allow list and a deny list were given: use one of them");
		return -EINVAL;
	}
	unsigned int n = na ? na : nd;
	const char *const *src = na ? allow : deny;
	if (n > DK_INIT_MAX_DEVARGS) {
		DK_ERR("%u devices on the %s list: at most %d", n, na ? "allow" : "deny",
		       DK_INIT_MAX_DEVARGS);
		return -E2BIG;
	}
	if (!n)
		return 0;
	struct dk_devargs *list = calloc(n, sizeof(*list));
	if (!list)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		int rc = dk_devargs_parse(src[i], &list[i]);
		if (rc < 0) {
			DK_ERR("%s list entry %u (\"%s\") is not valid devargs", na ? "allow" : "deny",
			       i, src[i]);
			free(list);
			return rc;
		}
		for (unsigned int j = 0; j < i; j++) {
			if (strcmp(list[j].name, list[i].name) == 0) {
				DK_ERR("device %s is on the %s list twice: merge its arguments into one entry",
				       list[i].name, na ? "allow" : "deny");
				free(list);
				return -EINVAL;
			}
		}
	}
	g_policy.list = list;
	g_policy.n = n;
	g_policy.is_allow = na > 0;
	return 0;
}

enum dk_dev_policy dk_bus_device_policy(const char *name, const struct dk_devargs **devargs)
{
	if (devargs)
		*devargs = NULL;
	if (!g_policy.n)
		return DK_DEV_POLICY_PROBE;
	for (unsigned int i = 0; name && i < g_policy.n; i++) {
		if (strcmp(g_policy.list[i].name, name) == 0) {
			if (!g_policy.is_allow)
				return DK_DEV_POLICY_SKIP;
			if (devargs)
				*devargs = &g_policy.list[i];
			return DK_DEV_POLICY_PROBE;
		}
	}
	return g_policy.is_allow ? DK_DEV_POLICY_SKIP : DK_DEV_POLICY_PROBE;
}

int dk__bus_scan_all(void)
{
	for (struct dk_bus *b = g_buses; b; b = b->next_) {
		int rc = b->scan();
		if (rc < 0) {
			DK_ERR("scan of bus %s failed: %s", b->name, strerror(-rc));
			return rc;
		}
		DK_DEBUG("bus %s: %d devices", b->name, rc);
	}
	return 0;
}

int dk__bus_probe_all(void)
{
	for (struct dk_bus *b = g_buses; b; b = b->next_) {
		int rc = b->probe();
		if (rc < 0) {
			DK_ERR("probe on bus %s failed: %s", b->name, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

struct dk_device *dk__bus_find_indexed(unsigned int n, struct dk_device *(*at)(unsigned int),
				       const struct dk_device *start, dk_dev_cmp_fn cmp,
				       const void *data)
{
	unsigned int i = 0;
	if (start) {
		while (i < n && at(i) != start)
			i++;
		i++;
	}
	for (; i < n; i++) {
		struct dk_device *d = at(i);
		if (!cmp || cmp(d, data) == 0)
			return d;
	}
	return NULL;
}

static int any_device(const struct dk_device *dev, const void *data)
{
	(void)dev;
	(void)data;
	return 0;
}

static void remove_drivers(struct dk_bus *b)
{
	if (!b->unplug)
		return;
	for (struct dk_device *d = b->find(NULL, any_device, NULL); d;
	     d = b->find(d, any_device, NULL))
		if (d->driver)
			b->unplug(d);
}

static void cleanup(struct dk_bus *b)
{
	if (b->cleanup)
		b->cleanup();
}

/* fn on every bus, last registered first. */
static void for_each_rev(struct dk_bus *b, void (*fn)(struct dk_bus *))
{
	if (!b)
		return;
	for_each_rev(b->next_, fn);
	fn(b);
}

void dk__bus_remove_all(void)
{
	for_each_rev(g_buses, remove_drivers);
}

void dk__bus_cleanup_all(void)
{
	for_each_rev(g_buses, cleanup);
}

void dk_dev_log(enum dk_log_level level, const char *component, const struct dk_device *dev,
		const char *fmt, ...)
{
	if ((int)level > (int)dk_log_get_level())
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!component && dev)
		component = dev->driver ? dev->driver->name : dev->bus ? dev->bus->name : NULL;
	if (dev && dev->name)
		dk_log(level, component, "%s: %s", dev->name, msg);
	else
		dk_log(level, component, "%s", msg);
}
