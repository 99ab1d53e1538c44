/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "bus/pci/pci_uevent.h"
#include "core/parse.h"

/* "VVVV:DDDD" -> two 16-bit values. */
static int parse_pair(const char *v, size_t len, uint16_t *a, uint16_t *b)
{
	const char *colon = memchr(v, ':', len);
	uint64_t x, y;
	if (!colon)
		return -EINVAL;
	size_t la = (size_t)(colon - v);
	if (la == 0 || la == len - 1 || dk__parse_u64(v, la, 16, &x) < 0 ||
	    dk__parse_u64(colon + 1, len - la - 1, 16, &y) < 0 || x > 0xffff || y > 0xffff)
		return -EINVAL;
	*a = (uint16_t)x;
	*b = (uint16_t)y;
	return 0;
}

static int copy_word(const char *v, size_t len, char *dst, size_t dst_len)
{
	if (len == 0 || len >= dst_len)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] <= ' ' || v[i] == '/')
			return -EINVAL;
	memcpy(dst, v, len);
	dst[len] = '\0';
	return 0;
}

static int field(const char *k, size_t kl, const char *v, size_t vl, struct dk__pci_uevent *out)
{
#define KEY_IS(lit) (kl == sizeof(lit) - 1 && memcmp(k, lit, kl) == 0)
	uint64_t x;
	if (KEY_IS("DRIVER")) {
		if (copy_word(v, vl, out->driver, sizeof(out->driver)) < 0)
			return -EINVAL;
		out->have |= DK__UEV_DRIVER;
	} else if (KEY_IS("PCI_CLASS")) {
		if (vl == 0 || dk__parse_u64(v, vl, 16, &x) < 0 || x > 0xffffff)
			return -EINVAL;
		out->class_id = (uint32_t)x;
		out->have |= DK__UEV_CLASS;
	} else if (KEY_IS("PCI_ID")) {
		if (parse_pair(v, vl, &out->vendor_id, &out->device_id) < 0)
			return -EINVAL;
		out->have |= DK__UEV_ID;
	} else if (KEY_IS("PCI_SUBSYS_ID")) {
		if (parse_pair(v, vl, &out->subsystem_vendor_id, &out->subsystem_device_id) < 0)
			return -EINVAL;
		out->have |= DK__UEV_SUBSYS;
	} else if (KEY_IS("PCI_SLOT_NAME")) {
		if (copy_word(v, vl, out->slot, sizeof(out->slot)) < 0)
			return -EINVAL;
		out->have |= DK__UEV_SLOT;
	}
	return 0;
#undef KEY_IS
}

int dk__pci_parse_uevent(const char *s, size_t len, struct dk__pci_uevent *out)
{
	if (!s || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	const char *p = s, *end = s + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if (eol > p) {
			const char *eq = memchr(p, '=', (size_t)(eol - p));
			if (!eq || eq == p)
				return -EINVAL;
			int rc = field(p, (size_t)(eq - p), eq + 1, (size_t)(eol - eq - 1), out);
			if (rc < 0)
				return rc;
		}
		p = eol + 1;
	}
	return 0;
}
