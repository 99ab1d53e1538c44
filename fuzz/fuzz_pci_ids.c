/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the PCI ID database index (src/bus/pci/pci_ids.h).
 * The input is a pci.ids file, not NUL-terminated. Besides the sanitizers,
 * it checks: every name found lies inside the input, is not empty, starts
 * with no blank and holds no line break; lookups of the IDs the input
 * names (its first bytes, read as IDs) only succeed or say -ENOENT; the
 * subsystem rule "subsystem == device gives the device's name" holds.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bus/pci/pci_ids.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const uint8_t *data, size_t size, int rc, const struct dk__pci_name *n)
{
	REQUIRE(rc == 0 || rc == -ENOENT);
	if (rc != 0)
		return;
	const char *s = (const char *)data;
	REQUIRE(n->s >= s && n->len > 0 && n->len <= size && n->s + n->len <= s + size);
	REQUIRE(n->s[0] != ' ' && n->s[0] != '\t');
	REQUIRE(!memchr(n->s, '\n', n->len) && !memchr(n->s, '\r', n->len));
}

static uint16_t u16_at(const uint8_t *data, size_t size, size_t i)
{
	return (uint16_t)((i < size ? data[i] : 0) << 8 | (i + 1 < size ? data[i + 1] : 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dk__pci_ids *db = dk__pci_ids_index((const char *)data, size);
	REQUIRE(db != NULL);
	struct dk__pci_name n, d;
	uint16_t v = u16_at(data, size, 0), dev = u16_at(data, size, 2);
	uint16_t sv = u16_at(data, size, 4), sd = u16_at(data, size, 6);
	check_name(data, size, dk__pci_ids_vendor(db, v, &n), &n);
	check_name(data, size, dk__pci_ids_device(db, v, dev, &n), &n);
	check_name(data, size, dk__pci_ids_subsystem(db, v, dev, sv, sd, &n), &n);
	check_name(data, size, dk__pci_ids_class(db, (uint8_t)v, &n), &n);
	check_name(data, size, dk__pci_ids_subclass(db, (uint8_t)v, (uint8_t)dev, &n), &n);
	check_name(data, size, dk__pci_ids_progif(db, (uint8_t)v, (uint8_t)dev, (uint8_t)sv, &n),
		   &n);
	/* A device known by name names its own subsystem unless an entry says otherwise. */
	if (dk__pci_ids_device(db, v, dev, &d) == 0)
		REQUIRE(dk__pci_ids_subsystem(db, v, dev, v, dev, &n) == 0);
	unsigned int first;
	if (dk__pci_ids_malformed(db, &first))
		REQUIRE(first >= 1);
	dk__pci_ids_free(db);
	return 0;
}
