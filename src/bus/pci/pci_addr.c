/* SPDX-License-Identifier: BSD-3-Clause */
/* PCI addresses and ID-table matching: pure functions. */
#include <errno.h>

#include <dmakit/pci.h>

#include "core/parse.h"

/* The grammar is core's (devargs normalizes names with it): core/parse.h. */
int dk_pci_addr_parse(const char *s, struct dk_pci_addr *out)
{
	struct dk__pci_bdf a;
	if (!out || dk__parse_pci_addr(s, &a) < 0)
		return -EINVAL;
	*out = (struct dk_pci_addr){.domain = a.domain, .bus = a.bus, .dev = a.dev, .func = a.func};
	return 0;
}

int dk_pci_addr_format(const struct dk_pci_addr *a, char *buf, size_t len)
{
	if (!a)
		return -EINVAL;
	struct dk__pci_bdf b = {.domain = a->domain, .bus = a->bus, .dev = a->dev, .func = a->func};
	return dk__format_pci_addr(&b, buf, len);
}

int dk_pci_addr_cmp(const struct dk_pci_addr *a, const struct dk_pci_addr *b)
{
	uint64_t x = (uint64_t)a->domain << 24 | (uint32_t)a->bus << 16 | (uint32_t)a->dev << 8 | a->func;
	uint64_t y = (uint64_t)b->domain << 24 | (uint32_t)b->bus << 16 | (uint32_t)b->dev << 8 | b->func;
	return x < y ? -1 : x > y;
}

static int field_ok(uint16_t want, uint16_t have)
{
	return want == DK_PCI_ANY_ID || want == have;
}

const struct dk_pci_id_match *dk_pci_id_match(const struct dk_pci_id_match *t,
					      const struct dk_pci_id *id)
{
	if (!t || !id)
		return NULL;
	for (; t->vendor_id != 0; t++) {
		if (field_ok(t->vendor_id, id->vendor_id) && field_ok(t->device_id, id->device_id) &&
		    field_ok(t->subsystem_vendor_id, id->subsystem_vendor_id) &&
		    field_ok(t->subsystem_device_id, id->subsystem_device_id) &&
		    (t->class_id & t->class_mask) == (id->class_id & t->class_mask))
			return t;
	}
	return NULL;
}
