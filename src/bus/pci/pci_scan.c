/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PCI scan over sysfs: <root>/bus/pci/devices/<bdf>.
 *
 * Per device the scan reads, relative to the device directory (one dirfd,
 * no path re-resolution): uevent (IDs, class, subsystem, bound driver in one
 * read: the kernel's view, quirks included), config (revision,
 * capabilities), numa_node, resource, the iommu_group link, and
 * sriov_numvfs / sriov_totalvfs when the function has an SR-IOV capability.
 * A PF's virtfn<N> links name its VFs. The device's place in the topology
 * comes from the bus/pci/devices/<bdf> link target
 * (devices/pci0000:00/<bridge>/.../<bdf>). When uevent is missing or
 * malformed, the scan reads vendor, device, class, subsystem_* and the
 * driver link one by one instead.
 *
 * Bad input never stops the scan:
 *   - a directory that vanished (or a dangling link): warning, device skipped;
 *   - uevent malformed: warning naming it, the ID files read instead;
 *   - an ID file that is missing or not a hex number (when uevent is not
 *     usable): warning naming the path, the ID taken from config space;
 *     skipped when config cannot supply it (all ones, or too short);
 *   - config shorter than 64 bytes: warning, no capabilities;
 *   - resource missing or malformed: warning, BARs left empty;
 *   - numa_node / iommu_group / driver missing: -1 / -1 / "" (normal).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/pci/pci_caps.h"
#include "bus/pci/pci_internal.h"
#include "bus/pci/pci_topo.h"
#include "bus/pci/pci_uevent.h"
#include "core/parse.h"

#define DK_LOG_COMPONENT "pci"
#include "core/log_internal.h"

static struct dk__pci_dev **g_devs;
static unsigned int g_ndev;
static int g_truncation_noted; /* said once per scan */

unsigned int dk__pci_ndev(void)
{
	return g_ndev;
}

struct dk__pci_dev *dk__pci_dev_at(unsigned int i)
{
	return i < g_ndev ? g_devs[i] : NULL;
}

static void dev_free(struct dk__pci_dev *d)
{
	if (!d)
		return;
	dk__pci_vfio_release(d);
	free(d->devpath);
	free(d);
}

void dk__pci_free_all(void)
{
	for (unsigned int i = 0; i < g_ndev; i++)
		dev_free(g_devs[i]);
	free(g_devs);
	g_devs = NULL;
	g_ndev = 0;
	dk__pci_topo_bump();
}

static struct dk__pci_dev *find_addr(const struct dk_pci_addr *a);

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Read an ID attribute; fall back to config bytes [off, off+width) when usable. */
static int read_id(int dirfd, const char *devname, const char *attr, const uint8_t *cfg,
		   int cfg_len, int off, int width, uint32_t *out)
{
	uint64_t v;
	int rc = dk__sysfs_read_u64_at(dirfd, attr, 16, &v);
	uint64_t max = width == 3 ? 0xffffffu : 0xffffu;
	if (rc == 0 && v <= max) {
		*out = (uint32_t)v;
		return 0;
	}
	if (rc >= 0) /* read, but out of range */
		rc = -ERANGE;
	uint32_t c = 0;
	for (int i = width - 1; cfg_len >= off + width && i >= 0; i--)
		c = c << 8 | cfg[off + i];
	/* All ones is no ID: a VF's vendor/device registers and a gone device read so. */
	if (cfg_len >= off + width && c != (uint32_t)max) {
		DK_WARN("%s/bus/pci/devices/%s/%s: %s: using the value from config space (0x%x)",
			dk_sysfs_root(), devname, attr,
			rc == -EINVAL ? "not a hex number" : strerror(-rc), c);
		*out = c;
		return 0;
	}
	DK_WARN("%s/bus/pci/devices/%s/%s: %s, and config space cannot supply it: device skipped",
		dk_sysfs_root(), devname, attr, rc == -EINVAL ? "not a hex number" : strerror(-rc));
	return rc;
}

static void read_bars(int dirfd, struct dk__pci_dev *d)
{
	char buf[2048];
	int n = dk__sysfs_read_str_at(dirfd, "resource", buf, sizeof(buf));
	if (n < 0) {
		DK_WARN("%s/%s/resource: %s: BARs unknown", dk_sysfs_root(), d->sysfs_rel,
			strerror(-n));
		return;
	}
	/* read_str stripped the final newline; parse wants whole lines. */
	buf[n++] = '\n';
	struct dk__resource_line lines[DK_PCI_NUM_RESOURCES];
	int nl = dk__parse_resource(buf, (size_t)n, lines, DK_PCI_NUM_RESOURCES);
	if (nl < 0) {
		DK_WARN("%s/%s/resource: malformed (expected lines \"0x<start> 0x<end> 0x<flags>\"): BARs unknown",
			dk_sysfs_root(), d->sysfs_rel);
		return;
	}
	for (int i = 0; i < nl; i++) {
		struct dk_pci_bar *b = &d->pub.bars[i];
		uint64_t f = lines[i].flags;
		b->raw_flags = f;
		if (lines[i].end == 0 && lines[i].start == 0)
			continue;
		b->phys_addr = lines[i].start;
		b->len = lines[i].end - lines[i].start + 1;
		if (f & DK__IORESOURCE_IO)
			b->flags |= DK_PCI_BAR_IO;
		if (f & DK__IORESOURCE_MEM)
			b->flags |= DK_PCI_BAR_MEM;
		if (f & DK__IORESOURCE_PREFETCH)
			b->flags |= DK_PCI_BAR_PREFETCH;
		if (f & DK__IORESOURCE_MEM_64)
			b->flags |= DK_PCI_BAR_MEM64;
	}
}

static void parse_caps(struct dk__pci_dev *d, const uint8_t *cfg, int len)
{
	if (len < 64) {
		memset(&d->pub.caps, 0, sizeof(d->pub.caps));
		d->pub.caps.config_len = (uint32_t)(len > 0 ? len : 0);
		if (len >= 0)
			DK_WARN("%s/%s/config: %d bytes (truncated; a header is 64): capabilities not parsed",
				dk_sysfs_root(), d->sysfs_rel, len);
		return;
	}
	dk__pci_caps_parse(cfg, (size_t)len, &d->pub.caps);
	if ((d->pub.caps.flags & DK_PCI_CAPS_TRUNCATED) && !g_truncation_noted) {
		g_truncation_noted = 1;
		DK_NOTICE("%s/%s/config: only %d bytes readable: capabilities not parsed%s",
			  dk_sysfs_root(), d->sysfs_rel, len,
			  geteuid() ? " (reading config space beyond 64 bytes needs root)" : "");
	}
	if (d->pub.caps.flags & DK_PCI_CAPS_MALFORMED)
		DK_WARN("%s/%s/config: malformed capability chain (%s): capabilities after it ignored",
			dk_sysfs_root(), d->sysfs_rel,
			d->pub.caps.flags & DK_PCI_CAPS_LOOP ? "loop" : "pointer out of range");
}

int dk__pci_read_caps(struct dk__pci_dev *d)
{
	uint8_t cfg[4096];
	int n = d->cfg_ops->read(d, cfg, sizeof(cfg), 0);
	if (n < 0)
		return n;
	parse_caps(d, cfg, n);
	return 0;
}

/* Locate the device in the topology from its bus/pci/devices link target. */
static int read_topology(int busfd, struct dk__pci_dev *d, const char *name)
{
	char target[DK__PATH_MAX];
	ssize_t n = readlinkat(busfd, name, target, sizeof(target) - 1);
	if (n < 0) {
		/* Not a link (fixture or odd sysfs): no topology. */
		return -errno;
	}
	target[n] = '\0';
	char *p = strstr(target, "devices/");
	/* Skip leading "../" parts: the kernel's links look like ../../../devices/... */
	while (p && p > target && p[-1] != '/')
		p = strstr(p + 1, "devices/");
	if (!p)
		return -EINVAL;
	d->devpath = strdup(p);
	if (!d->devpath)
		return -ENOMEM;
	/* Host bridge: the component right before the first address component. */
	char *save = NULL, *prev = NULL;
	char tmp[DK__PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", p);
	for (char *c = strtok_r(tmp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		struct dk_pci_addr a;
		if (dk_pci_addr_parse(c, &a) == 0) {
			if (prev)
				snprintf(d->pub.host_bridge, sizeof(d->pub.host_bridge), "%s", prev);
			break;
		}
		prev = c;
	}
	return 0;
}

/* Address of the parent bridge from devpath, if the parent is a PCI function. */
static int parent_addr(const struct dk__pci_dev *d, struct dk_pci_addr *out)
{
	if (!d->devpath)
		return -ENOENT;
	const char *last = strrchr(d->devpath, '/');
	if (!last || last == d->devpath)
		return -ENOENT;
	const char *q = last - 1;
	while (q > d->devpath && *q != '/')
		q--;
	char comp[64];
	size_t len = (size_t)(last - q - 1);
	if (len >= sizeof(comp))
		return -ENOENT;
	memcpy(comp, q + 1, len);
	comp[len] = '\0';
	return dk_pci_addr_parse(comp, out);
}

/*
 * IDs, class and bound driver from "uevent": one read instead of six.
 * Returns 0, or -ENOENT / -EINVAL when the caller must read the ID files.
 */
static int read_ids_uevent(int dirfd, struct dk__pci_dev *d)
{
	char buf[1024];
	struct dk__pci_uevent ue;
	int n = dk__sysfs_read_str_at(dirfd, "uevent", buf, sizeof(buf));
	if (n < 0) {
		DK_DEBUG("%s/%s/uevent: %s: reading the ID files instead", dk_sysfs_root(),
			 d->sysfs_rel, strerror(-n));
		return -ENOENT;
	}
	const unsigned int need = DK__UEV_CLASS | DK__UEV_ID;
	if (dk__pci_parse_uevent(buf, (size_t)n, &ue) < 0 || (ue.have & need) != need) {
		DK_WARN("%s/%s/uevent: malformed (expected PCI_CLASS=, PCI_ID=VVVV:DDDD lines): reading the ID files instead",
			dk_sysfs_root(), d->sysfs_rel);
		return -EINVAL;
	}
	struct dk_pci_device *p = &d->pub;
	p->id.vendor_id = ue.vendor_id;
	p->id.device_id = ue.device_id;
	p->id.class_id = ue.class_id;
	p->id.subsystem_vendor_id = ue.subsystem_vendor_id;
	p->id.subsystem_device_id = ue.subsystem_device_id;
	snprintf(p->kernel_driver, sizeof(p->kernel_driver), "%s", ue.driver);
	return 0;
}

/* The slow path: one attribute per value, config space as a fallback. */
static int read_ids_files(int dirfd, struct dk__pci_dev *d, const uint8_t *cfg, int cfg_len)
{
	struct dk_pci_device *p = &d->pub;
	const char *name = d->name;
	uint32_t v, dv, cls;
	uint64_t x;
	if (read_id(dirfd, name, "vendor", cfg, cfg_len, 0, 2, &v) < 0 ||
	    read_id(dirfd, name, "device", cfg, cfg_len, 2, 2, &dv) < 0 ||
	    read_id(dirfd, name, "class", cfg, cfg_len, 9, 3, &cls) < 0)
		return -EINVAL;
	p->id.vendor_id = (uint16_t)v;
	p->id.device_id = (uint16_t)dv;
	p->id.class_id = cls;
	/* Subsystem IDs: absent files are normal for some bridges. */
	int type0 = cfg_len >= 0x30 && (cfg[0x0e] & 0x7f) == 0;
	if (dk__sysfs_read_u64_at(dirfd, "subsystem_vendor", 16, &x) == 0 && x <= 0xffff)
		p->id.subsystem_vendor_id = (uint16_t)x;
	else if (type0)
		p->id.subsystem_vendor_id = le16(cfg + 0x2c);
	if (dk__sysfs_read_u64_at(dirfd, "subsystem_device", 16, &x) == 0 && x <= 0xffff)
		p->id.subsystem_device_id = (uint16_t)x;
	else if (type0)
		p->id.subsystem_device_id = le16(cfg + 0x2e);
	if (dk__sysfs_read_link_name_at(dirfd, "driver", p->kernel_driver,
					sizeof(p->kernel_driver)) < 0)
		p->kernel_driver[0] = '\0';
	return 0;
}

/* Point every VF listed by a PF's virtfn<N> links at its PF. */
static void link_vfs(int busfd, struct dk__pci_dev *pf)
{
	char rel[96], buf[64];
	for (unsigned int i = 0; i < pf->pub.sriov_numvfs; i++) {
		snprintf(rel, sizeof(rel), "%s/virtfn%u", pf->name, i);
		struct dk_pci_addr a;
		if (dk__sysfs_read_link_name_at(busfd, rel, buf, sizeof(buf)) < 0 ||
		    dk_pci_addr_parse(buf, &a) < 0)
			continue;
		struct dk__pci_dev *vf = find_addr(&a);
		if (vf)
			vf->pub.physfn = &pf->pub;
	}
}

static struct dk__pci_dev *scan_one(int busfd, const char *name, const struct dk_pci_addr *addr)
{
	int dirfd = openat(busfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		DK_WARN("%s/bus/pci/devices/%s: %s (device removed during the scan?): skipped",
			dk_sysfs_root(), name, strerror(errno));
		errno = ENODEV;
		return NULL;
	}
	struct dk__pci_dev *d = calloc(1, sizeof(*d));
	if (!d) {
		close(dirfd);
		return NULL;
	}
	/* name parsed as a PCI address, so it is at most 16 characters. */
	snprintf(d->name, sizeof(d->name), "%.24s", name);
	snprintf(d->sysfs_rel, sizeof(d->sysfs_rel), "bus/pci/devices/%.24s", name);
	d->cfg_ops = &dk__pci_config_sysfs_ops;
	struct dk_pci_device *p = &d->pub;
	p->device.name = d->name;
	p->device.bus = &dk__pci_bus;
	p->device.numa_node = -1;
	p->kind = DK_PCI_KIND_FUNCTION;
	p->has_addr = 1;
	p->addr = *addr;
	p->iommu_group = -1;

	uint8_t cfg[4096];
	int cfg_len = (int)dk__sysfs_read_bin_at(dirfd, "config", cfg, sizeof(cfg), 0);
	if (cfg_len < 0)
		DK_WARN("%s/%s/config: %s: capabilities unknown", dk_sysfs_root(), d->sysfs_rel,
			strerror(-cfg_len));

	uint64_t x;
	if (read_ids_uevent(dirfd, d) < 0 && read_ids_files(dirfd, d, cfg, cfg_len) < 0)
		goto err_free;
	if (cfg_len > 8)
		p->revision = cfg[8];
	else if (dk__sysfs_read_u64_at(dirfd, "revision", 16, &x) == 0 && x <= 0xff)
		p->revision = (uint8_t)x;

	char buf[64];
	if (dk__sysfs_read_str_at(dirfd, "numa_node", buf, sizeof(buf)) > 0) {
		int64_t nn;
		if (dk__parse_i64(buf, strlen(buf), &nn) == 0 && nn >= -1 && nn < 65536)
			p->device.numa_node = (int)nn;
		else
			DK_WARN("%s/%s/numa_node: \"%s\" is not a node number: NUMA node unknown",
				dk_sysfs_root(), d->sysfs_rel, buf);
	}
	if (dk__sysfs_read_link_name_at(dirfd, "iommu_group", buf, sizeof(buf)) > 0) {
		uint64_t g;
		if (dk__parse_u64(buf, strlen(buf), 10, &g) == 0 && g <= INT32_MAX)
			p->iommu_group = (int)g;
	}
	read_bars(dirfd, d);
	parse_caps(d, cfg, cfg_len);
	if (p->caps.sriov.offset) {
		if (dk__sysfs_read_u64_at(dirfd, "sriov_totalvfs", 10, &x) == 0 && x <= 0xffff)
			p->sriov_totalvfs = (uint16_t)x;
		if (dk__sysfs_read_u64_at(dirfd, "sriov_numvfs", 10, &x) == 0 && x <= 0xffff)
			p->sriov_numvfs = (uint16_t)x;
	}
	/* VFs learn their PF from the PF's virtfn links after the scan. */
	close(dirfd);
	read_topology(busfd, d, name);
	return d;

err_free:
	close(dirfd);
	dev_free(d);
	errno = ENODEV;
	return NULL;
}

static int cmp_dev(const void *a, const void *b)
{
	const struct dk__pci_dev *x = *(struct dk__pci_dev *const *)a;
	const struct dk__pci_dev *y = *(struct dk__pci_dev *const *)b;
	if (x->pub.has_addr != y->pub.has_addr)
		return x->pub.has_addr ? -1 : 1;
	if (!x->pub.has_addr)
		return strcmp(x->name, y->name);
	return dk_pci_addr_cmp(&x->pub.addr, &y->pub.addr);
}

static struct dk__pci_dev *find_addr(const struct dk_pci_addr *a)
{
	unsigned int lo = 0, hi = g_ndev;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		struct dk__pci_dev *d = g_devs[mid];
		int c = d->pub.has_addr ? dk_pci_addr_cmp(&d->pub.addr, a) : 1;
		if (c == 0)
			return d;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct dk_pci_device *dk_pci_find(const char *name)
{
	struct dk_pci_addr a;
	if (!name) {
		errno = EINVAL;
		return NULL;
	}
	if (dk_pci_addr_parse(name, &a) == 0) {
		struct dk__pci_dev *d = find_addr(&a);
		if (d)
			return &d->pub;
	} else {
		for (unsigned int i = 0; i < g_ndev; i++)
			if (strcmp(g_devs[i]->name, name) == 0)
				return &g_devs[i]->pub;
	}
	errno = ENOENT;
	return NULL;
}

int dk__pci_list_add(struct dk__pci_dev *d)
{
	void *nv = realloc(g_devs, (g_ndev + 1) * sizeof(*g_devs));
	if (!nv)
		return -ENOMEM;
	g_devs = nv;
	g_devs[g_ndev++] = d;
	qsort(g_devs, g_ndev, sizeof(*g_devs), cmp_dev);
	return 0;
}

void dk__pci_list_del(struct dk__pci_dev *d)
{
	for (unsigned int i = 0; i < g_ndev; i++) {
		if (g_devs[i] != d)
			continue;
		memmove(&g_devs[i], &g_devs[i + 1], (g_ndev - i - 1) * sizeof(*g_devs));
		g_ndev--;
		break;
	}
	dev_free(d);
}

/* Take the mdevs out of the list before a rescan (they are not in bus/pci). */
static int keep_mdevs(struct dk__pci_dev ***keep, unsigned int *nkeep)
{
	unsigned int n = 0;
	*keep = NULL;
	*nkeep = 0;
	for (unsigned int i = 0; i < g_ndev; i++)
		n += g_devs[i]->pub.kind == DK_PCI_KIND_MDEV;
	if (!n)
		return 0;
	*keep = malloc(n * sizeof(**keep));
	if (!*keep)
		return -ENOMEM;
	unsigned int j = 0;
	for (unsigned int i = 0; i < g_ndev; i++) {
		if (g_devs[i]->pub.kind != DK_PCI_KIND_MDEV) {
			g_devs[j++] = g_devs[i];
			continue;
		}
		(*keep)[(*nkeep)++] = g_devs[i];
	}
	g_ndev = j;
	return 0;
}

/* Put them back after the scan; on ENOMEM they are freed (closed). */
static int restore_mdevs(struct dk__pci_dev **keep, unsigned int nkeep)
{
	int rc = 0;
	for (unsigned int i = 0; i < nkeep; i++) {
		if (rc == 0 && dk__pci_list_add(keep[i]) == 0)
			continue;
		if (rc == 0)
			DK_ERR("PCI rescan ran out of memory: mdev %s closed", keep[i]->name);
		rc = -ENOMEM;
		dev_free(keep[i]);
	}
	free(keep);
	return rc;
}

/* The sysfs scan proper: every function of bus/pci/devices, replacing the list. */
static int scan_sysfs(const char *path)
{
	int rc;
	dk__pci_free_all();
	g_truncation_noted = 0;
	int busfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (busfd < 0) {
		if (errno == ENOENT && access(dk_sysfs_root(), F_OK) == 0) {
			DK_INFO("%s does not exist: no PCI devices", path);
			return 0;
		}
		rc = -errno;
		DK_ERR("cannot open %s: %s (is sysfs mounted? set DMAKIT_SYSFS_ROOT)", path,
		       strerror(errno));
		return rc;
	}
	DIR *dir = fdopendir(dup(busfd));
	if (!dir) {
		rc = -errno;
		close(busfd);
		return rc;
	}
	unsigned int cap = 0;
	struct dirent *de;
	rc = 0;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		struct dk_pci_addr a;
		if (dk_pci_addr_parse(de->d_name, &a) < 0) {
			DK_WARN("%s/%s: not a PCI address: ignored", path, de->d_name);
			continue;
		}
		struct dk__pci_dev *d = scan_one(busfd, de->d_name, &a);
		if (!d) {
			if (errno == ENOMEM) {
				rc = -ENOMEM;
				break;
			}
			continue;
		}
		if (g_ndev == cap) {
			unsigned int ncap = cap ? cap * 2 : 64;
			void *nv = realloc(g_devs, ncap * sizeof(*g_devs));
			if (!nv) {
				dev_free(d);
				rc = -ENOMEM;
				break;
			}
			g_devs = nv;
			cap = ncap;
		}
		g_devs[g_ndev++] = d;
	}
	closedir(dir);
	if (rc < 0) {
		DK_ERR("PCI scan ran out of memory after %u devices", g_ndev);
		close(busfd);
		dk__pci_free_all();
		return rc;
	}
	if (g_ndev)
		qsort(g_devs, g_ndev, sizeof(*g_devs), cmp_dev);
	/* Resolve upstream bridges and PFs now that every device is known. */
	for (unsigned int i = 0; i < g_ndev; i++) {
		struct dk__pci_dev *d = g_devs[i];
		struct dk_pci_addr up;
		if (parent_addr(d, &up) == 0) {
			struct dk__pci_dev *u = find_addr(&up);
			d->pub.upstream = u ? &u->pub : NULL;
		}
		if (d->pub.sriov_numvfs)
			link_vfs(busfd, d);
	}
	close(busfd);
	return (int)g_ndev;
}

int dk__pci_scan(void)
{
	char path[DK__PATH_MAX];
	int rc = dk__sysfs_path(path, sizeof(path), "bus/pci/devices");
	if (rc < 0)
		return rc;
	struct dk__pci_dev **keep;
	unsigned int nkeep;
	if (keep_mdevs(&keep, &nkeep) < 0) {
		DK_ERR("PCI rescan: out of memory: nothing changed");
		return -ENOMEM;
	}
	rc = scan_sysfs(path);
	int rrc = restore_mdevs(keep, nkeep);
	dk__pci_topo_bump(); /* new device list: every result computed on the old one is stale */
	if (rc < 0)
		return rc;
	return rrc < 0 ? rrc : (int)g_ndev;
}

unsigned int dk_pci_depth(const struct dk_pci_device *dev)
{
	unsigned int n = 0;
	for (const struct dk_pci_device *u = dev ? dev->upstream : NULL; u && n < 256; u = u->upstream)
		n++;
	return n;
}

unsigned int dk_pci_count(void)
{
	return g_ndev;
}

struct dk_pci_device *dk_pci_get(unsigned int index)
{
	if (index >= g_ndev) {
		errno = ENOENT;
		return NULL;
	}
	return &g_devs[index]->pub;
}

int dk_pci_device_refresh(struct dk_pci_device *dev)
{
	if (!dev)
		return -EINVAL;
	struct dk__pci_dev *d = dk__pci_dev(dev);
	int rc = dk__pci_read_caps(d);
	dk__pci_topo_bump();
	if (rc < 0) {
		DK_ERR("%s: cannot re-read config space: %s", d->name, strerror(-rc));
		return rc;
	}
	if (d->sysfs_rel[0]) {
		char rel[DK__PATH_MAX];
		snprintf(rel, sizeof(rel), "%s/driver", d->sysfs_rel);
		if (dk__sysfs_read_link_name(rel, dev->kernel_driver, sizeof(dev->kernel_driver)) < 0)
			dev->kernel_driver[0] = '\0';
	}
	return 0;
}
