/* SPDX-License-Identifier: BSD-3-Clause */
/* PCI addresses and ID-table matching: pure functions. */
#include <errno.h>
#include <stdio.h>

#include <dmakit/pci.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse 1..max hex digits ending at a character in term; advance *p. */
static int hexfield(const char **p, int max, char term, uint32_t *out)
{
	uint32_t v = 0;
	int n = 0;
	const char *s = *p;
	while (hexval(*s) >= 0) {
		if (++n > max)
			return -EINVAL;
		v = v << 4 | (uint32_t)hexval(*s);
		s++;
	}
	if (n == 0 || *s != term)
		return -EINVAL;
	*p = s + (term ? 1 : 0);
	*out = v;
	return 0;
}

int dk_pci_addr_parse(const char *s, struct dk_pci_addr *out)
{
	if (!s || !out)
		return -EINVAL;
	/* Count ':' to tell "DDDD:BB:DD.F" from "BB:DD.F". */
	int colons = 0;
	for (const char *c = s; *c; c++)
		colons += *c == ':';
	uint32_t dom = 0, bus, dev, fn;
	const char *p = s;
	if (colons == 2) {
		if (hexfield(&p, 8, ':', &dom) < 0)
			return -EINVAL;
	} else if (colons != 1) {
		return -EINVAL;
	}
	if (hexfield(&p, 2, ':', &bus) < 0 || hexfield(&p, 2, '.', &dev) < 0 ||
	    hexfield(&p, 1, '\0', &fn) < 0)
		return -EINVAL;
	if (dev > 31 || fn > 7)
		return -EINVAL;
	out->domain = dom;
	out->bus = (uint8_t)bus;
	out->dev = (uint8_t)dev;
	out->func = (uint8_t)fn;
	return 0;
}

int dk_pci_addr_format(const struct dk_pci_addr *a, char *buf, size_t len)
{
	if (!a)
		return -EINVAL;
	return snprintf(buf, len, "%04x:%02x:%02x.%x", a->domain, a->bus, a->dev, a->func);
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
