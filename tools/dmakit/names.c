/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * names.c - vendor, device, subsystem and class names for the commands, as
 * lspci prints them (dmakit/pci_ids.h gives the database's names; the
 * display of unknown IDs is lspci's):
 *
 *   vendor              the name, else "Vendor 1234"
 *   device              the name, else "Device 1234"
 *   subsystem vendor    the name, else "Unknown vendor 1234" (none when the
 *                       subsystem vendor ID is 0000 or ffff)
 *   subsystem device    the name, else "Device 1234"
 *   class               the subclass's name; else the base class's name
 *                       with the number, "Bridge [06ff]"; else "Class 06ff"
 *   vendor + device     "Vendor Device"; "Vendor Device 1234" when only the
 *                       vendor is known; "Device 1234:5678" when it is not
 *
 * Names are cut like lspci's (255 bytes, the last three replaced by "...").
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static int g_state = -1; /* -1 not decided, 0 off, 1 on */

bool cli_names_on(void)
{
	if (g_state < 0)
		g_state = !cli_numeric() && dk_pci_ids_path(NULL, 0) >= 0;
	return g_state == 1;
}

/* lspci's cut of an over-long result: rc is the length it wanted. */
static const char *cut(char *buf, int rc)
{
	if (rc >= CLI_NAME_LEN)
		memcpy(buf + CLI_NAME_LEN - 4, "...", 3);
	return buf;
}

/* The database's name (cut), or NULL. */
static const char *db(int rc, char *buf)
{
	return rc >= 0 ? cut(buf, rc) : NULL;
}

const char *cli_name_vendor(uint16_t v, char *buf)
{
	if (db(dk_pci_vendor_name(v, buf, CLI_NAME_LEN), buf))
		return buf;
	snprintf(buf, CLI_NAME_LEN, "Vendor %04x", v);
	return buf;
}

const char *cli_name_device(uint16_t v, uint16_t d, char *buf)
{
	if (db(dk_pci_device_name(v, d, buf, CLI_NAME_LEN), buf))
		return buf;
	snprintf(buf, CLI_NAME_LEN, "Device %04x", d);
	return buf;
}

static bool has_subsystem(const struct dk_pci_device *dev)
{
	return dev->id.subsystem_vendor_id != 0 && dev->id.subsystem_vendor_id != 0xffff;
}

const char *cli_name_subvendor(const struct dk_pci_device *dev, char *buf)
{
	uint16_t sv = dev->id.subsystem_vendor_id;
	if (!has_subsystem(dev))
		return NULL;
	if (db(dk_pci_vendor_name(sv, buf, CLI_NAME_LEN), buf))
		return buf;
	snprintf(buf, CLI_NAME_LEN, "Unknown vendor %04x", sv);
	return buf;
}

const char *cli_name_subdevice(const struct dk_pci_device *dev, char *buf)
{
	const struct dk_pci_id *id = &dev->id;
	if (!has_subsystem(dev))
		return NULL;
	if (db(dk_pci_subsystem_name(id->vendor_id, id->device_id, id->subsystem_vendor_id,
				     id->subsystem_device_id, buf, CLI_NAME_LEN),
	       buf))
		return buf;
	snprintf(buf, CLI_NAME_LEN, "Device %04x", id->subsystem_device_id);
	return buf;
}

const char *cli_name_class(uint32_t class_id, char *buf)
{
	uint8_t base = (uint8_t)(class_id >> 16), sub = (uint8_t)(class_id >> 8);
	char name[CLI_NAME_LEN];
	if (db(dk_pci_subclass_name(base, sub, buf, CLI_NAME_LEN), buf))
		return buf;
	if (db(dk_pci_class_name(base, name, sizeof(name)), name))
		return cut(buf, snprintf(buf, CLI_NAME_LEN, "%s [%02x%02x]", name, base, sub));
	snprintf(buf, CLI_NAME_LEN, "Class %02x%02x", base, sub);
	return buf;
}

const char *cli_name_progif(uint32_t class_id, char *buf)
{
	return db(dk_pci_progif_name((uint8_t)(class_id >> 16), (uint8_t)(class_id >> 8),
				     (uint8_t)class_id, buf, CLI_NAME_LEN),
		  buf);
}

/* "V D", "V Device dddd", "Device vvvv:dddd"; d_name is the second name or NULL. */
static const char *pair(uint16_t v, uint16_t d, const char *d_name, char *buf)
{
	char vn[CLI_NAME_LEN];
	if (!db(dk_pci_vendor_name(v, vn, sizeof(vn)), vn))
		snprintf(buf, CLI_NAME_LEN, "Device %04x:%04x", v, d);
	else if (!d_name)
		return cut(buf, snprintf(buf, CLI_NAME_LEN, "%s Device %04x", vn, d));
	else
		return cut(buf, snprintf(buf, CLI_NAME_LEN, "%s %s", vn, d_name));
	return buf;
}

const char *cli_name_pair(uint16_t v, uint16_t d, char *buf)
{
	char dn[CLI_NAME_LEN];
	return pair(v, d, db(dk_pci_device_name(v, d, dn, sizeof(dn)), dn), buf);
}

const char *cli_name_subsys_pair(const struct dk_pci_device *dev, char *buf)
{
	const struct dk_pci_id *id = &dev->id;
	char sn[CLI_NAME_LEN];
	if (!has_subsystem(dev))
		return NULL;
	int rc = dk_pci_subsystem_name(id->vendor_id, id->device_id, id->subsystem_vendor_id,
				       id->subsystem_device_id, sn, sizeof(sn));
	return pair(id->subsystem_vendor_id, id->subsystem_device_id, db(rc, sn), buf);
}

void cli_json_name_fields(struct cli_json *j, const struct dk_pci_device *dev, bool subsystem)
{
	char buf[CLI_NAME_LEN];
	if (!cli_names_on())
		return;
	cli_json_kv_str(j, "vendor_name", cli_name_vendor(dev->id.vendor_id, buf));
	cli_json_kv_str(j, "device_name",
			cli_name_device(dev->id.vendor_id, dev->id.device_id, buf));
	if (subsystem) {
		cli_json_kv_str(j, "subsystem_vendor_name", cli_name_subvendor(dev, buf));
		cli_json_kv_str(j, "subsystem_device_name", cli_name_subdevice(dev, buf));
	}
	cli_json_kv_str(j, "class_name", cli_name_class(dev->id.class_id, buf));
	if (subsystem)
		cli_json_kv_str(j, "prog_if_name", cli_name_progif(dev->id.class_id, buf));
}
