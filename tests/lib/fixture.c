/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sysfs fixture builder (see fixture.h for the interface).
 *
 * The tree mimics what Linux shows for PCI:
 *
 *   devices/pci0000:00/                      host bridge (+ pci_bus/0000:00/)
 *   devices/pci0000:00/0000:00:1c.0/         root port (+ pci_bus/0000:01/)
 *   devices/pci0000:00/0000:00:1c.0/0000:01:00.0/   function below it
 *   bus/pci/devices/0000:01:00.0 -> ../../../devices/pci0000:00/0000:00:1c.0/0000:01:00.0
 *   bus/pci/drivers/<name>/{bind,unbind,new_id,remove_id,uevent} and
 *       bus/pci/drivers/<name>/<bdf> -> ../../../../devices/...
 *   bus/pci/{drivers_probe,drivers_autoprobe,rescan}
 *   kernel/iommu_groups/<n>/{type,reserved_regions} and
 *       kernel/iommu_groups/<n>/devices/<bdf> -> ../../../../devices/...
 *
 * In a function's directory: vendor, device, subsystem_vendor,
 * subsystem_device ("0x%04x\n"), class ("0x%06x\n"), revision ("0x%02x\n"),
 * numa_node ("%d\n"), irq, enable, driver_override ("(null)\n"), modalias,
 * uevent, resource, config, the write-only remove and rescan, the links
 * subsystem, driver, iommu_group, physfn / virtfnN; for an SR-IOV PF the
 * sriov_* files; for a bridge secondary_bus_number / subordinate_bus_number.
 * Every link is relative with as many "../" as the link's directory is deep.
 *
 * resource has 13 lines for a function and 17 for a bridge, as a kernel
 * built with CONFIG_PCI_IOV (every distribution kernel) writes it: lines
 * 0..5 the BARs, 6 the ROM, 7..12 the VF BARs (zero here), 13..16 the
 * bridge windows (zero here). Kernels without CONFIG_PCI_IOV write 7 and 11.
 *
 * Config space follows the PCI Local Bus 3.0 and PCIe Base specifications;
 * the capability layout is documented at dk_fx_cap_offset() in fixture.h.
 *
 * Every failure (I/O error or a misuse such as a duplicate address) prints
 * "fixture: <what>: <why>" on stderr and aborts: fixtures are scaffolding.
 */
#include "fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dmakit/pci.h>

/* Kernel IORESOURCE_* bits (include/linux/ioport.h). */
#define FX_IORESOURCE_IO        0x00000100ull
#define FX_IORESOURCE_MEM       0x00000200ull
#define FX_IORESOURCE_PREFETCH  0x00002000ull
#define FX_IORESOURCE_SIZEALIGN 0x00040000ull
#define FX_IORESOURCE_MEM_64    0x00100000ull

#define FX_CFG_SIZE             4096u
#define FX_PCIE_CAP_SIZE        0x3c /* version 2 structure, through Slot Status 2 */
#define FX_MSI_CAP_SIZE         0x18 /* 64-bit with per-vector masking */
#define FX_MSIX_CAP_SIZE        0x0c
#define FX_SSVID_CAP_SIZE       0x08
#define FX_SRIOV_CAP_SIZE       0x40
#define FX_MSIX_TABLE_OFFSET    0x2000u
#define FX_NUM_RES_LINES        13
#define FX_NUM_RES_LINES_BRIDGE 17

struct dk_fx_dev {
	struct dk_fx *fx;
	char bdf[24];
	uint32_t domain;
	uint8_t bus, slot, func;
	char *rel;                /* directory relative to the root: "devices/pci0000:00/..." */
	char *parent_rel;         /* its parent directory, relative */
	char *path;               /* absolute directory */
	struct dk_fx_dev *parent; /* upstream bridge, NULL on a root bus */
	struct dk_fx_dev *pf;     /* for VFs */
	struct dk_fx_spec spec;   /* spec.driver points to driver below */
	char *driver;
	int is_vf;
	unsigned int vf_index; /* N of the PF's virtfnN link */
	int removed;
	unsigned int cfg_len;
	/* Where the builder put each capability (0: absent). */
	uint16_t off_pcie, off_msi, off_msix, off_ssvid, off_acs, off_sriov;
	/* Patched as the tree grows. */
	uint8_t secondary, subordinate;
	uint16_t vf_offset, vf_stride;
};

struct dk_fx {
	char *root;
	struct dk_fx_dev **devs;
	size_t ndev, cap;
};

/* ---- failure and string helpers ----------------------------------------- */

__attribute__((format(printf, 1, 2))) static _Noreturn void fx_die(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fputs("fixture: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* snprintf that aborts instead of truncating. */
__attribute__((format(printf, 3, 4))) static void fx_fmt(char *buf, size_t len, const char *fmt,
							 ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		fx_die("path or value too long (%d bytes, room for %zu): \"%.80s...\"", n, len,
		       buf);
}

/* Allocated formatted string. */
__attribute__((format(printf, 1, 2))) static char *fx_strf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		fx_die("cannot format \"%s\"", fmt);
	char *s = malloc((size_t)n + 1);
	if (!s)
		fx_die("out of memory");
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

static void *fx_calloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (!p)
		fx_die("out of memory");
	return p;
}

static void put8(uint8_t *c, unsigned int off, uint8_t v)
{
	c[off] = v;
}

static void put16(uint8_t *c, unsigned int off, uint16_t v)
{
	c[off] = (uint8_t)v;
	c[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *c, unsigned int off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		c[off + (unsigned int)i] = (uint8_t)(v >> (8 * i));
}

static unsigned int align16(unsigned int v)
{
	return (v + 15u) & ~15u;
}

/* Number of components of a relative directory path ("a/b/c" -> 3). */
static unsigned int rel_depth(const char *rel)
{
	unsigned int n = 0;
	for (const char *p = rel; *p;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		n++;
		while (*p && *p != '/')
			p++;
	}
	return n;
}

/* Link target from directory from_rel to target_rel (both relative to the root). */
static void rel_target(char *buf, size_t len, const char *from_rel, const char *target_rel)
{
	unsigned int depth = rel_depth(from_rel);
	size_t need = (size_t)depth * 3 + strlen(target_rel) + 1;
	if (need > len)
		fx_die("link target to %s from %s is too long", target_rel, from_rel);
	char *p = buf;
	for (unsigned int i = 0; i < depth; i++) {
		memcpy(p, "../", 3);
		p += 3;
	}
	memcpy(p, target_rel, strlen(target_rel) + 1);
}

/* ---- file-system helpers (all abort on failure) ----------------------------- */

/* mkdir; returns 1 when created, 0 when a directory was already there. */
static int fx_mkdir(const char *path)
{
	if (mkdir(path, 0755) == 0)
		return 1;
	if (errno == EEXIST) {
		struct stat st;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		fx_die("mkdir %s: exists and is not a directory", path);
	}
	fx_die("mkdir %s: %s", path, strerror(errno));
}

/* mkdir -p of rel below root. */
static void fx_mkdirs(const char *root, const char *rel)
{
	char path[PATH_MAX];
	fx_fmt(path, sizeof(path), "%s/%s", root, rel);
	size_t base = strlen(root) + 1;
	for (char *p = path + base; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		fx_mkdir(path);
		*p = '/';
	}
	fx_mkdir(path);
}

static void fx_write_fd(int fd, const char *what, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fx_die("write %s: %s", what, strerror(errno));
		if (n == 0)
			fx_die("write %s: no progress", what);
		p += n;
		len -= (size_t)n;
	}
}

/* Create or replace file name in directory dirfd (dirpath for messages). */
static void fx_write_at(int dirfd, const char *dirpath, const char *name, const void *data,
			size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fx_die("create %s/%s: %s", dirpath, name, strerror(errno));
	char what[PATH_MAX];
	fx_fmt(what, sizeof(what), "%s/%s", dirpath, name);
	fx_write_fd(fd, what, data, len);
	if (close(fd) < 0)
		fx_die("close %s: %s", what, strerror(errno));
}

__attribute__((format(printf, 4, 5))) static void
fx_printf_at(int dirfd, const char *dirpath, const char *name, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		fx_die("value for %s/%s too long", dirpath, name);
	fx_write_at(dirfd, dirpath, name, buf, (size_t)n);
}

static void fx_symlink_at(int dirfd, const char *dirpath, const char *name, const char *target)
{
	if (symlinkat(target, dirfd, name) < 0)
		fx_die("symlink %s/%s -> %s: %s", dirpath, name, target, strerror(errno));
}

static int fx_open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		fx_die("open directory %s: %s", path, strerror(errno));
	return fd;
}

static void fx_close(int fd, const char *what)
{
	if (close(fd) < 0)
		fx_die("close %s: %s", what, strerror(errno));
}

/* Write a whole file at root/rel. */
static void fx_write_root(const struct dk_fx *fx, const char *rel, const char *text)
{
	char path[PATH_MAX];
	fx_fmt(path, sizeof(path), "%s/%s", fx->root, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fx_die("create %s: %s", path, strerror(errno));
	fx_write_fd(fd, path, text, strlen(text));
	if (close(fd) < 0)
		fx_die("close %s: %s", path, strerror(errno));
}

/* Symlink at root/dir_rel/name pointing (relatively) to root/target_rel. */
static void fx_link_root(const struct dk_fx *fx, const char *dir_rel, const char *name,
			 const char *target_rel)
{
	char target[PATH_MAX], path[PATH_MAX];
	rel_target(target, sizeof(target), dir_rel, target_rel);
	fx_fmt(path, sizeof(path), "%s/%s/%s", fx->root, dir_rel, name);
	if (symlink(target, path) < 0)
		fx_die("symlink %s -> %s: %s", path, target, strerror(errno));
}

/* Unlink root/rel; a missing entry is fine (a test may have removed it). */
static void fx_unlink_root_quiet(const struct dk_fx *fx, const char *rel)
{
	char path[PATH_MAX];
	fx_fmt(path, sizeof(path), "%s/%s", fx->root, rel);
	if (unlink(path) < 0 && errno != ENOENT)
		fx_die("unlink %s: %s", path, strerror(errno));
}

static int rm_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	int rc = (type == FTW_DP || type == FTW_D) ? rmdir(path) : unlink(path);
	if (rc < 0)
		fx_die("remove %s: %s", path, strerror(errno));
	return 0;
}

/* rm -rf path (no shell). A missing path is fine when missing_ok. */
static void fx_rm_tree(const char *path, int missing_ok)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT && missing_ok)
			return;
		fx_die("remove %s: %s", path, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0)
			fx_die("remove %s: %s", path, strerror(errno));
		return;
	}
	if (nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fx_die("remove tree %s: %s", path, strerror(errno));
}

/* ---- specs ------------------------------------------------------------------ */

struct dk_fx_spec dk_fx_spec_endpoint(void)
{
	struct dk_fx_spec s;
	memset(&s, 0, sizeof(s));
	/* QEMU's NVMe controller. */
	s.vendor = 0x1b36;
	s.device = 0x0010;
	s.subsys_vendor = 0x1af4;
	s.subsys_device = 0x1100;
	s.class_code = 0x010802;
	s.revision = 0x02;
	s.header_type = 0;
	s.pcie_type = DK_PCIE_TYPE_ENDPOINT;
	s.numa_node = -1;
	s.iommu_group = -1;
	s.bars[0].start = 0xfe000000ull;
	s.bars[0].len = 0x4000;
	s.bars[0].flags = FX_IORESOURCE_MEM | FX_IORESOURCE_MEM_64 | FX_IORESOURCE_SIZEALIGN | 0x4;
	return s;
}

struct dk_fx_spec dk_fx_spec_bridge(int pcie_type)
{
	struct dk_fx_spec s;
	memset(&s, 0, sizeof(s));
	switch (pcie_type) {
	case DK_PCIE_TYPE_UPSTREAM: /* TI XIO3130 upstream port (QEMU x3130-upstream) */
		s.vendor = 0x104c;
		s.device = 0x8232;
		s.revision = 0x02;
		break;
	case DK_PCIE_TYPE_DOWNSTREAM: /* TI XIO3130 downstream port */
		s.vendor = 0x104c;
		s.device = 0x8233;
		s.revision = 0x01;
		break;
	default: /* QEMU pcie-root-port */
		s.vendor = 0x1b36;
		s.device = 0x000c;
		break;
	}
	s.class_code = 0x060400;
	s.header_type = 1;
	s.pcie_type = pcie_type;
	/* Root and downstream ports: ACS with SV, RR, CR, UF supported and on,
	 * as the kernel leaves them with an IOMMU enabled. */
	if (pcie_type == DK_PCIE_TYPE_ROOT_PORT || pcie_type == DK_PCIE_TYPE_DOWNSTREAM) {
		s.has_acs = 1;
		s.acs_cap = DK_PCI_ACS_SV | DK_PCI_ACS_RR | DK_PCI_ACS_CR | DK_PCI_ACS_UF;
		s.acs_ctrl = s.acs_cap;
	}
	s.msi_vectors = 1;
	s.numa_node = -1;
	s.iommu_group = -1;
	s.driver = "pcieport";
	return s;
}

/* ---- tree ---------------------------------------------------------------- */

struct dk_fx *dk_fx_new(void)
{
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	char tmpl[PATH_MAX];
	fx_fmt(tmpl, sizeof(tmpl), "%s/dkfx.XXXXXX", base);
	if (!mkdtemp(tmpl))
		fx_die("mkdtemp %s: %s", tmpl, strerror(errno));
	struct dk_fx *fx = fx_calloc(1, sizeof(*fx));
	fx->root = fx_strf("%s", tmpl);
	static const char *const dirs[] = {
	    "devices", "bus/pci/devices", "bus/pci/drivers", "bus/pci/slots", "kernel/iommu_groups",
	};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		fx_mkdirs(fx->root, dirs[i]);
	fx_write_root(fx, "bus/pci/drivers_probe", "");
	fx_write_root(fx, "bus/pci/rescan", "");
	fx_write_root(fx, "bus/pci/uevent", "");
	fx_write_root(fx, "bus/pci/drivers_autoprobe", "1\n");
	fx_write_root(fx, "bus/pci/resource_alignment", "\n");
	return fx;
}

const char *dk_fx_root(const struct dk_fx *fx)
{
	if (!fx)
		fx_die("dk_fx_root(NULL)");
	return fx->root;
}

static void dev_free(struct dk_fx_dev *d)
{
	free(d->rel);
	free(d->parent_rel);
	free(d->path);
	free(d->driver);
	free(d);
}

void dk_fx_free(struct dk_fx *fx)
{
	if (!fx)
		return;
	fx_rm_tree(fx->root, 0);
	for (size_t i = 0; i < fx->ndev; i++)
		dev_free(fx->devs[i]);
	free(fx->devs);
	free(fx->root);
	free(fx);
}

void dk_fx_host_bridge(struct dk_fx *fx, uint32_t domain, uint8_t bus)
{
	if (!fx)
		fx_die("dk_fx_host_bridge(NULL, ...)");
	char rel[128], path[PATH_MAX];
	fx_fmt(rel, sizeof(rel), "devices/pci%04x:%02x", domain, bus);
	fx_fmt(path, sizeof(path), "%s/%s", fx->root, rel);
	if (!fx_mkdir(path))
		return;
	char sub[PATH_MAX];
	fx_fmt(sub, sizeof(sub), "%s/pci_bus", path);
	fx_mkdir(sub);
	fx_fmt(sub, sizeof(sub), "%s/pci_bus/%04x:%02x", path, domain, bus);
	fx_mkdir(sub);
	int dfd = fx_open_dir(path);
	fx_write_at(dfd, path, "uevent", "", 0);
	fx_close(dfd, path);
}

void dk_fx_driver(struct dk_fx *fx, const char *name)
{
	if (!fx || !name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		fx_die("dk_fx_driver: bad driver name \"%s\"", name ? name : "(null)");
	char path[PATH_MAX];
	fx_fmt(path, sizeof(path), "%s/bus/pci/drivers/%s", fx->root, name);
	if (!fx_mkdir(path))
		return;
	int dfd = fx_open_dir(path);
	static const char *const files[] = {"bind", "unbind", "new_id", "remove_id", "uevent"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		fx_write_at(dfd, path, files[i], "", 0);
	fx_close(dfd, path);
}

static void iommu_group_dir(struct dk_fx *fx, int group)
{
	char rel[128], path[PATH_MAX];
	fx_fmt(rel, sizeof(rel), "kernel/iommu_groups/%d", group);
	fx_fmt(path, sizeof(path), "%s/%s", fx->root, rel);
	if (!fx_mkdir(path))
		return;
	int dfd = fx_open_dir(path);
	fx_write_at(dfd, path, "type", "DMA\n", 4);
	fx_write_at(dfd, path, "reserved_regions", "", 0);
	if (mkdirat(dfd, "devices", 0755) < 0)
		fx_die("mkdir %s/devices: %s", path, strerror(errno));
	fx_close(dfd, path);
}

/* Value of n hex digits at s, or -1. */
static long hex_n(const char *s, int n)
{
	long v = 0;
	for (int i = 0; i < n; i++) {
		char ch = s[i];
		int x;
		if (ch >= '0' && ch <= '9')
			x = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			x = ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			x = ch - 'A' + 10;
		else
			return -1;
		v = v << 4 | x;
	}
	return v;
}

/* Parse "DDDD:BB:DD.F" (domain 4 to 8 hex digits) strictly. */
static int parse_bdf(const char *s, uint32_t *domain, uint8_t *bus, uint8_t *slot, uint8_t *func)
{
	if (!s)
		return -1;
	const char *colon = strchr(s, ':');
	if (!colon || colon - s < 4 || colon - s > 8)
		return -1;
	long dom = hex_n(s, (int)(colon - s));
	const char *r = colon + 1;
	if (dom < 0 || strlen(r) != 7 || r[2] != ':' || r[5] != '.')
		return -1;
	long b = hex_n(r, 2), sl = hex_n(r + 3, 2), f = hex_n(r + 6, 1);
	if (b < 0 || sl < 0 || sl > 31 || f < 0 || f > 7)
		return -1;
	*domain = (uint32_t)dom;
	*bus = (uint8_t)b;
	*slot = (uint8_t)sl;
	*func = (uint8_t)f;
	return 0;
}

static struct dk_fx_dev *find_bdf(const struct dk_fx *fx, uint32_t domain, uint8_t bus,
				  uint8_t slot, uint8_t func)
{
	for (size_t i = 0; i < fx->ndev; i++) {
		struct dk_fx_dev *d = fx->devs[i];
		if (d->domain == domain && d->bus == bus && d->slot == slot && d->func == func)
			return d;
	}
	return NULL;
}

static int owned(const struct dk_fx *fx, const struct dk_fx_dev *d)
{
	for (size_t i = 0; i < fx->ndev; i++)
		if (fx->devs[i] == d)
			return 1;
	return 0;
}

static int is_bridge_spec(const struct dk_fx_spec *s)
{
	return s->header_type == 1 || s->header_type == 2;
}

static uint16_t routing_id(const struct dk_fx_dev *d)
{
	return (uint16_t)(d->bus << 8 | d->slot << 3 | d->func);
}

/* Place the capabilities; see dk_fx_cap_offset() in fixture.h. */
static void layout_caps(struct dk_fx_dev *d)
{
	const struct dk_fx_spec *s = &d->spec;
	unsigned int off = 0x40;
	if (s->pcie_type >= 0) {
		d->off_pcie = (uint16_t)off;
		off = align16(off + FX_PCIE_CAP_SIZE);
	}
	if (s->msi_vectors > 0) {
		d->off_msi = (uint16_t)off;
		off = align16(off + FX_MSI_CAP_SIZE);
	}
	if (s->msix_vectors > 0) {
		d->off_msix = (uint16_t)off;
		off = align16(off + FX_MSIX_CAP_SIZE);
	}
	if (is_bridge_spec(s) && (s->subsys_vendor || s->subsys_device)) {
		d->off_ssvid = (uint16_t)off;
		off = align16(off + FX_SSVID_CAP_SIZE);
	}
	if (off > 0x100)
		fx_die("%s: standard capabilities do not fit in 256 bytes", d->bdf);
	off = 0x100;
	if (s->has_acs) {
		d->off_acs = (uint16_t)off;
		unsigned int size = 8;
		if (s->acs_cap & DK_PCI_ACS_EC) {
			unsigned int bits = (s->acs_cap >> 8) & 0xff;
			size += ((bits ? bits : 256) + 31) / 32 * 4;
		}
		off = align16(off + size);
	}
	if (s->sriov_total_vfs > 0 && !d->is_vf) {
		d->off_sriov = (uint16_t)off;
		off = align16(off + FX_SRIOV_CAP_SIZE);
	}
}

static void default_link(const struct dk_fx_spec *s, uint8_t *speed, uint8_t *width)
{
	switch (s->pcie_type) {
	case DK_PCIE_TYPE_ROOT_PORT:
	case DK_PCIE_TYPE_UPSTREAM:
		*speed = 4;
		*width = 16;
		break;
	case DK_PCIE_TYPE_DOWNSTREAM:
		*speed = 4;
		*width = 4;
		break;
	case DK_PCIE_TYPE_RC_INTEGRATED:
	case DK_PCIE_TYPE_RC_EVENT_COLLECTOR:
		*speed = 0;
		*width = 0;
		break;
	default:
		*speed = 3;
		*width = 4;
		break;
	}
	if (s->link_speed)
		*speed = s->link_speed;
	if (s->link_width)
		*width = s->link_width;
}

static void build_pcie_cap(const struct dk_fx_dev *d, uint8_t *c, unsigned int o)
{
	const struct dk_fx_spec *s = &d->spec;
	int type = s->pcie_type & 0xf;
	int port = type == DK_PCIE_TYPE_ROOT_PORT || type == DK_PCIE_TYPE_DOWNSTREAM;
	int endpoint = type == DK_PCIE_TYPE_ENDPOINT || type == DK_PCIE_TYPE_LEGACY_ENDPOINT ||
		       type == DK_PCIE_TYPE_RC_INTEGRATED;
	uint8_t speed, width;
	default_link(s, &speed, &width);

	/* PCIe Capabilities: version 2, port type, slot implemented for ports. */
	put16(c, o + 0x02, (uint16_t)(2 | type << 4 | (port ? 1 << 8 : 0)));
	/* Device Capabilities: MPS 256, role-based error reporting, for
	 * endpoints unlimited L0s/L1 latency and FLR. */
	uint32_t devcap = 1u | 1u << 15;
	if (endpoint)
		devcap |= 7u << 6 | 7u << 9 | 1u << 28;
	put32(c, o + 0x04, devcap);
	/* Device Control: relaxed ordering, no snoop, MRRS 512. */
	put16(c, o + 0x08, 0x2810);
	if (speed) {
		uint8_t portnum = port ? d->slot : 0;
		uint32_t lnkcap = speed | (uint32_t)width << 4 | 3u << 10 | (uint32_t)portnum << 24;
		if (port)
			lnkcap |= 1u << 20; /* data link layer active reporting */
		put32(c, o + 0x0c, lnkcap);
		put16(c, o + 0x10, 0x0040); /* common clock */
		uint16_t lnksta = (uint16_t)(speed | width << 4 | 1 << 12);
		if (port)
			lnksta |= 1 << 13; /* DLL link active */
		put16(c, o + 0x12, lnksta);
		/* Link Capabilities 2: supported speeds vector; Link Control 2: target speed. */
		put32(c, o + 0x2c, ((1u << speed) - 1u) << 1);
		put16(c, o + 0x30, speed);
	}
	if (port)
		put32(c, o + 0x14, (uint32_t)(d->slot + 1u) << 19); /* physical slot number */
	/* Device Capabilities 2: completion timeout ranges A-D, disable; ARI forwarding for ports.
	 */
	put32(c, o + 0x24, 0x1fu | (port ? 1u << 5 : 0));
}

static void build_config(const struct dk_fx_dev *d, uint8_t *c)
{
	const struct dk_fx_spec *s = &d->spec;
	int bridge = is_bridge_spec(s);
	memset(c, 0, FX_CFG_SIZE);

	/* A VF reads 0xffff for its IDs (SR-IOV 1.1, 3.4.1.1/2): software takes them from the PF.
	 */
	put16(c, 0x00, d->is_vf ? 0xffff : s->vendor);
	put16(c, 0x02, d->is_vf ? 0xffff : s->device);
	int has_io = 0;
	for (int i = 0; i < 6; i++)
		if (s->bars[i].len && (s->bars[i].flags & FX_IORESOURCE_IO))
			has_io = 1;
	uint16_t cmd = d->is_vf ? 0x0004 : (uint16_t)(0x0006 | has_io);
	put16(c, 0x04, cmd);
	int any_cap = d->off_pcie || d->off_msi || d->off_msix || d->off_ssvid;
	put16(c, 0x06, any_cap ? 0x0010 : 0);
	put8(c, 0x08, s->revision);
	put8(c, 0x09, (uint8_t)s->class_code);
	put8(c, 0x0a, (uint8_t)(s->class_code >> 8));
	put8(c, 0x0b, (uint8_t)(s->class_code >> 16));
	put8(c, 0x0e, (uint8_t)((s->header_type & 0x7f) | (s->multifunction ? 0x80 : 0)));

	/* BARs: type 0 has six, type 1 two; a VF's read 0 (they live in the PF's SR-IOV cap). */
	unsigned int nbars = bridge ? 2 : 6;
	for (unsigned int i = 0; i < nbars && !d->is_vf; i++) {
		const struct dk_fx_bar *b = &s->bars[i];
		if (!b->len && !b->start)
			continue;
		unsigned int off = 0x10 + 4 * i;
		if (b->flags & FX_IORESOURCE_IO) {
			put32(c, off, (uint32_t)(b->start & ~3ull) | 1u);
			continue;
		}
		int is64 = (b->flags & FX_IORESOURCE_MEM_64) != 0;
		uint32_t lo = (uint32_t)(b->start & ~0xfull);
		if (is64)
			lo |= 0x4;
		if (b->flags & FX_IORESOURCE_PREFETCH)
			lo |= 0x8;
		put32(c, off, lo);
		if (is64 && i + 1 < nbars) {
			put32(c, off + 4, (uint32_t)(b->start >> 32));
			i++; /* the upper half takes the next BAR slot */
		}
	}
	const struct dk_fx_bar *rom = &s->bars[DK_PCI_ROM_INDEX];
	unsigned int rom_off = bridge ? 0x38 : 0x30;
	if (rom->len && !d->is_vf)
		put32(c, rom_off, (uint32_t)(rom->start & 0xfffff800u)); /* present, disabled */

	if (bridge) {
		put8(c, 0x18, d->bus);
		put8(c, 0x19, d->secondary);
		put8(c, 0x1a, d->subordinate);
		/* Windows closed (base > limit) until something is assigned. */
		put8(c, 0x1c, 0xf0);
		put16(c, 0x20, 0xfff0);
		put16(c, 0x24, 0xfff1); /* 64-bit prefetchable window, closed */
		put16(c, 0x26, 0x0001);
	} else {
		put16(c, 0x2c, s->subsys_vendor);
		put16(c, 0x2e, s->subsys_device);
	}
	if (!d->is_vf)
		put8(c, 0x3d, 1); /* INTA */

	/* Standard capability chain. */
	uint16_t offs[4] = {d->off_pcie, d->off_msi, d->off_msix, d->off_ssvid};
	static const uint8_t ids[4] = {DK_PCI_CAP_ID_EXP, DK_PCI_CAP_ID_MSI, DK_PCI_CAP_ID_MSIX,
				       0x0d};
	unsigned int prev = 0x34;
	for (int i = 0; i < 4; i++) {
		if (!offs[i])
			continue;
		put8(c, prev, (uint8_t)offs[i]);
		put8(c, offs[i], ids[i]);
		prev = offs[i] + 1u;
	}
	if (d->off_pcie)
		build_pcie_cap(d, c, d->off_pcie);
	if (d->off_msi) {
		int n = s->msi_vectors, mmc = 0;
		while ((1 << mmc) < n)
			mmc++;
		put16(c, d->off_msi + 2u, (uint16_t)(mmc << 1 | 1 << 7 | 1 << 8));
	}
	if (d->off_msix) {
		unsigned int n = (unsigned int)s->msix_vectors;
		uint32_t table = FX_MSIX_TABLE_OFFSET;
		uint32_t pba = table + ((n * 16u + 0xfffu) & ~0xfffu);
		put16(c, d->off_msix + 2u, (uint16_t)(n - 1));
		put32(c, d->off_msix + 4u, table | (s->msix_bar & 7u));
		put32(c, d->off_msix + 8u, pba | (s->msix_bar & 7u));
	}
	if (d->off_ssvid) {
		put16(c, d->off_ssvid + 4u, s->subsys_vendor);
		put16(c, d->off_ssvid + 6u, s->subsys_device);
	}

	/* Extended capabilities: header = id | version << 16 | next << 20. */
	uint16_t eoffs[2] = {d->off_acs, d->off_sriov};
	static const uint16_t eids[2] = {DK_PCI_EXT_CAP_ID_ACS, DK_PCI_EXT_CAP_ID_SRIOV};
	int last = -1;
	for (int i = 0; i < 2; i++) {
		if (!eoffs[i])
			continue;
		if (last >= 0)
			put32(c, eoffs[last],
			      (uint32_t)eids[last] | 1u << 16 | (uint32_t)eoffs[i] << 20);
		put32(c, eoffs[i], (uint32_t)eids[i] | 1u << 16);
		last = i;
	}
	if (d->off_acs) {
		put16(c, d->off_acs + 4u, s->acs_cap);
		put16(c, d->off_acs + 6u, s->acs_ctrl);
	}
	if (d->off_sriov) {
		unsigned int o = d->off_sriov;
		put16(c, o + 0x08, s->sriov_num_vfs ? 0x0009 : 0); /* VF enable, VF MSE */
		put16(c, o + 0x0c, s->sriov_total_vfs);            /* InitialVFs */
		put16(c, o + 0x0e, s->sriov_total_vfs);
		put16(c, o + 0x10, s->sriov_num_vfs);
		put8(c, o + 0x12, d->func); /* function dependency link */
		put16(c, o + 0x14, d->vf_offset);
		put16(c, o + 0x16, d->vf_stride);
		put16(c, o + 0x1a, s->sriov_vf_device ? s->sriov_vf_device : s->device);
		put32(c, o + 0x1c, 0x553); /* 4K, 8K, 64K, 256K, 1M, 4M */
		put32(c, o + 0x20, 0x1);   /* system page size 4K */
	}
}

/* Overwrite len bytes of dev's config at off, when the file holds them. */
static void patch_config(const struct dk_fx_dev *d, unsigned int off, const void *data, size_t len)
{
	if (d->removed || off + len > d->cfg_len)
		return;
	char path[PATH_MAX];
	fx_fmt(path, sizeof(path), "%s/config", d->path);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		fx_die("open %s: %s", path, strerror(errno));
	ssize_t n = pwrite(fd, data, len, (off_t)off);
	if (n < 0 || (size_t)n != len)
		fx_die("patch %s at 0x%x: %s", path, off, n < 0 ? strerror(errno) : "short write");
	if (close(fd) < 0)
		fx_die("close %s: %s", path, strerror(errno));
}

__attribute__((format(printf, 3, 4))) static void dev_printf(const struct dk_fx_dev *d,
							     const char *attr, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		fx_die("value for %s/%s too long", d->path, attr);
	char path[PATH_MAX];
	fx_fmt(path, sizeof(path), "%s/%s", d->path, attr);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fx_die("create %s: %s", path, strerror(errno));
	fx_write_fd(fd, path, buf, (size_t)n);
	if (close(fd) < 0)
		fx_die("close %s: %s", path, strerror(errno));
}

/* A child on bus appeared below bridge parent: update bus numbers up the chain. */
static void note_child_bus(struct dk_fx_dev *parent, struct dk_fx_dev *child)
{
	uint8_t bus = child->bus;
	if (bus <= parent->bus)
		fx_die("%s: bus %02x is not below bridge %s (on bus %02x)", child->bdf, bus,
		       parent->bdf, parent->bus);
	if (!parent->secondary) {
		parent->secondary = bus;
		patch_config(parent, 0x19, &bus, 1);
		dev_printf(parent, "secondary_bus_number", "%u\n", bus);
		char path[PATH_MAX];
		fx_fmt(path, sizeof(path), "%s/pci_bus/%04x:%02x", parent->path, parent->domain,
		       bus);
		fx_mkdir(path);
	} else if (bus != parent->secondary && !child->is_vf) {
		fx_die("%s: bus %02x differs from the secondary bus %02x of its bridge %s",
		       child->bdf, bus, parent->secondary, parent->bdf);
	}
	for (struct dk_fx_dev *p = parent; p; p = p->parent) {
		if (bus <= p->subordinate)
			break;
		p->subordinate = bus;
		patch_config(p, 0x1a, &bus, 1);
		dev_printf(p, "subordinate_bus_number", "%u\n", bus);
	}
}

static void write_resource(int dfd, const struct dk_fx_dev *d)
{
	const struct dk_fx_spec *s = &d->spec;
	unsigned int nlines = is_bridge_spec(s) ? FX_NUM_RES_LINES_BRIDGE : FX_NUM_RES_LINES;
	char buf[FX_NUM_RES_LINES_BRIDGE * 64];
	size_t len = 0;
	for (unsigned int i = 0; i < nlines; i++) {
		unsigned long long start = 0, end = 0, flags = 0;
		if (i < DK_PCI_NUM_RESOURCES) {
			const struct dk_fx_bar *b = &s->bars[i];
			start = b->start;
			end = b->len ? b->start + b->len - 1 : 0;
			flags = b->flags;
		}
		int n = snprintf(buf + len, sizeof(buf) - len, "0x%016llx 0x%016llx 0x%016llx\n",
				 start, end, flags);
		if (n < 0 || (size_t)n >= sizeof(buf) - len)
			fx_die("%s/resource: too long", d->path);
		len += (size_t)n;
	}
	fx_write_at(dfd, d->path, "resource", buf, len);
}

static void write_files(struct dk_fx *fx, struct dk_fx_dev *d)
{
	const struct dk_fx_spec *s = &d->spec;
	int dfd = fx_open_dir(d->path);
	const char *p = d->path;
	fx_printf_at(dfd, p, "vendor", "0x%04x\n", s->vendor);
	fx_printf_at(dfd, p, "device", "0x%04x\n", s->device);
	fx_printf_at(dfd, p, "subsystem_vendor", "0x%04x\n", s->subsys_vendor);
	fx_printf_at(dfd, p, "subsystem_device", "0x%04x\n", s->subsys_device);
	fx_printf_at(dfd, p, "class", "0x%06x\n", s->class_code & 0xffffffu);
	fx_printf_at(dfd, p, "revision", "0x%02x\n", s->revision);
	fx_printf_at(dfd, p, "numa_node", "%d\n", s->numa_node);
	fx_printf_at(dfd, p, "irq", "%d\n", d->is_vf ? 0 : 16 + (d->slot + d->func) % 8);
	fx_printf_at(dfd, p, "enable", "%d\n", d->driver ? 1 : 0);
	fx_printf_at(dfd, p, "driver_override", "(null)\n");
	fx_printf_at(dfd, p, "broken_parity_status", "0\n");
	fx_printf_at(dfd, p, "ari_enabled", "0\n");
	char modalias[128];
	fx_fmt(modalias, sizeof(modalias), "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", s->vendor,
	       s->device, s->subsys_vendor, s->subsys_device, (s->class_code >> 16) & 0xff,
	       (s->class_code >> 8) & 0xff, s->class_code & 0xff);
	fx_printf_at(dfd, p, "modalias", "%s\n", modalias);
	char drvline[96] = "";
	if (d->driver)
		fx_fmt(drvline, sizeof(drvline), "DRIVER=%s\n", d->driver);
	fx_printf_at(dfd, p, "uevent",
		     "%sPCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\n"
		     "PCI_SLOT_NAME=%s\nMODALIAS=%s\n",
		     drvline, s->class_code & 0xffffffu, s->vendor, s->device, s->subsys_vendor,
		     s->subsys_device, d->bdf, modalias);
	fx_write_at(dfd, p, "remove", "", 0);
	fx_write_at(dfd, p, "rescan", "", 0);
	write_resource(dfd, d);

	uint8_t *cfg = fx_calloc(1, FX_CFG_SIZE);
	build_config(d, cfg);
	fx_write_at(dfd, p, "config", cfg, d->cfg_len);
	free(cfg);

	if (is_bridge_spec(s)) {
		fx_printf_at(dfd, p, "secondary_bus_number", "%u\n", d->secondary);
		fx_printf_at(dfd, p, "subordinate_bus_number", "%u\n", d->subordinate);
		if (mkdirat(dfd, "pci_bus", 0755) < 0)
			fx_die("mkdir %s/pci_bus: %s", p, strerror(errno));
	}
	if (d->off_sriov) {
		fx_printf_at(dfd, p, "sriov_totalvfs", "%u\n", s->sriov_total_vfs);
		fx_printf_at(dfd, p, "sriov_numvfs", "%u\n", s->sriov_num_vfs);
		fx_printf_at(dfd, p, "sriov_offset", "%u\n", d->vf_offset);
		fx_printf_at(dfd, p, "sriov_stride", "%u\n", d->vf_stride);
		fx_printf_at(dfd, p, "sriov_vf_device", "%x\n",
			     s->sriov_vf_device ? s->sriov_vf_device : s->device);
		fx_printf_at(dfd, p, "sriov_drivers_autoprobe", "1\n");
	}

	char target[PATH_MAX];
	rel_target(target, sizeof(target), d->rel, "bus/pci");
	fx_symlink_at(dfd, p, "subsystem", target);
	if (d->driver) {
		char drel[PATH_MAX];
		fx_fmt(drel, sizeof(drel), "bus/pci/drivers/%s", d->driver);
		rel_target(target, sizeof(target), d->rel, drel);
		fx_symlink_at(dfd, p, "driver", target);
	}
	if (s->iommu_group >= 0) {
		char grel[128];
		fx_fmt(grel, sizeof(grel), "kernel/iommu_groups/%d", s->iommu_group);
		rel_target(target, sizeof(target), d->rel, grel);
		fx_symlink_at(dfd, p, "iommu_group", target);
	}
	fx_close(dfd, p);

	/* Links into the device from the rest of the tree. */
	fx_link_root(fx, "bus/pci/devices", d->bdf, d->rel);
	if (d->driver) {
		char drel[PATH_MAX];
		fx_fmt(drel, sizeof(drel), "bus/pci/drivers/%s", d->driver);
		fx_link_root(fx, drel, d->bdf, d->rel);
	}
	if (s->iommu_group >= 0) {
		char grel[128];
		fx_fmt(grel, sizeof(grel), "kernel/iommu_groups/%d/devices", s->iommu_group);
		fx_link_root(fx, grel, d->bdf, d->rel);
	}
}

static struct dk_fx_dev *add_common(struct dk_fx *fx, const char *bdf, struct dk_fx_dev *parent,
				    const struct dk_fx_spec *spec, struct dk_fx_dev *pf)
{
	if (!fx || !spec)
		fx_die("dk_fx_add: NULL fixture or spec");
	struct dk_fx_dev *d = fx_calloc(1, sizeof(*d));
	d->fx = fx;
	if (parse_bdf(bdf, &d->domain, &d->bus, &d->slot, &d->func) < 0)
		fx_die("\"%s\" is not a PCI address (use DDDD:BB:DD.F)", bdf ? bdf : "(null)");
	fx_fmt(d->bdf, sizeof(d->bdf), "%04x:%02x:%02x.%x", d->domain, d->bus, d->slot, d->func);
	if (find_bdf(fx, d->domain, d->bus, d->slot, d->func))
		fx_die("%s added twice", d->bdf);
	if (spec->config_len > FX_CFG_SIZE)
		fx_die("%s: config_len %u is larger than 4096", d->bdf, spec->config_len);
	if (spec->msi_vectors < 0 || spec->msi_vectors > 32 ||
	    (spec->msi_vectors & (spec->msi_vectors - 1)))
		fx_die("%s: msi_vectors %d is not a power of two in 1..32", d->bdf,
		       spec->msi_vectors);
	if (spec->msix_vectors < 0 || spec->msix_vectors > 2048)
		fx_die("%s: msix_vectors %d is outside 1..2048", d->bdf, spec->msix_vectors);
	if (spec->pcie_type < -1 || spec->pcie_type > 0xf)
		fx_die("%s: pcie_type %d is neither -1 nor a port type", d->bdf, spec->pcie_type);
	d->spec = *spec;
	d->spec.driver = NULL;
	if (spec->driver) {
		dk_fx_driver(fx, spec->driver);
		d->driver = fx_strf("%s", spec->driver);
		d->spec.driver = d->driver;
	}
	d->is_vf = pf != NULL;
	d->pf = pf;
	d->cfg_len = spec->config_len ? spec->config_len : FX_CFG_SIZE;
	d->vf_offset = 1;
	d->vf_stride = 1;

	if (pf) {
		d->parent = pf->parent;
		d->parent_rel = fx_strf("%s", pf->parent_rel);
		if (d->domain != pf->domain)
			fx_die("VF %s is in another domain than its PF %s", d->bdf, pf->bdf);
	} else if (parent) {
		if (!owned(fx, parent))
			fx_die("%s: parent is not a device of this fixture", d->bdf);
		if (parent->removed)
			fx_die("%s: parent %s was removed", d->bdf, parent->bdf);
		if (!is_bridge_spec(&parent->spec))
			fx_die("%s: parent %s is not a bridge (header type %u)", d->bdf,
			       parent->bdf, parent->spec.header_type);
		if (parent->domain != d->domain)
			fx_die("%s: parent %s is in another domain", d->bdf, parent->bdf);
		d->parent = parent;
		d->parent_rel = fx_strf("%s", parent->rel);
	} else {
		dk_fx_host_bridge(fx, d->domain, d->bus);
		d->parent_rel = fx_strf("devices/pci%04x:%02x", d->domain, d->bus);
	}
	d->rel = fx_strf("%s/%s", d->parent_rel, d->bdf);
	d->path = fx_strf("%s/%s", fx->root, d->rel);
	layout_caps(d);

	if (mkdir(d->path, 0755) < 0)
		fx_die("mkdir %s: %s", d->path, strerror(errno));
	if (fx->ndev == fx->cap) {
		size_t ncap = fx->cap ? fx->cap * 2 : 64;
		struct dk_fx_dev **nv = realloc(fx->devs, ncap * sizeof(*nv));
		if (!nv)
			fx_die("out of memory");
		fx->devs = nv;
		fx->cap = ncap;
	}
	fx->devs[fx->ndev++] = d;
	if (d->spec.iommu_group >= 0)
		iommu_group_dir(fx, d->spec.iommu_group);
	write_files(fx, d);
	if (d->parent)
		note_child_bus(d->parent, d);
	return d;
}

struct dk_fx_dev *dk_fx_add(struct dk_fx *fx, const char *bdf, const struct dk_fx_dev *parent,
			    const struct dk_fx_spec *spec)
{
	/* The handle is owned by fx, which updates the parent's bus numbers. */
	return add_common(fx, bdf, (struct dk_fx_dev *)(uintptr_t)parent, spec, NULL);
}

struct dk_fx_dev *dk_fx_add_vf(struct dk_fx *fx, struct dk_fx_dev *pf, unsigned int index,
			       const char *bdf, const struct dk_fx_spec *spec)
{
	if (!fx || !pf || !owned(fx, pf))
		fx_die("dk_fx_add_vf: the PF is not a device of this fixture");
	if (pf->is_vf)
		fx_die("dk_fx_add_vf: %s is a VF itself", pf->bdf);
	if (pf->removed)
		fx_die("dk_fx_add_vf: PF %s was removed", pf->bdf);
	struct dk_fx_dev *vf = add_common(fx, bdf, NULL, spec, pf);
	vf->vf_index = index;

	char name[32], target[64];
	fx_fmt(name, sizeof(name), "virtfn%u", index);
	fx_fmt(target, sizeof(target), "../%s", vf->bdf);
	char path[PATH_MAX];
	fx_fmt(path, sizeof(path), "%s/%s", pf->path, name);
	if (symlink(target, path) < 0)
		fx_die("symlink %s -> %s: %s", path, target, strerror(errno));
	fx_fmt(target, sizeof(target), "../%s", pf->bdf);
	fx_fmt(path, sizeof(path), "%s/physfn", vf->path);
	if (symlink(target, path) < 0)
		fx_die("symlink %s -> %s: %s", path, target, strerror(errno));

	/* Keep the PF's First VF Offset / VF Stride true to the VFs given. */
	if (pf->off_sriov && (index == 0 || index == 1)) {
		int delta = index == 0 ? routing_id(vf) - routing_id(pf)
				       : routing_id(vf) - (routing_id(pf) + pf->vf_offset);
		if (delta > 0 && delta <= 0xffff) {
			uint16_t v = (uint16_t)delta;
			uint8_t le[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
			if (index == 0) {
				pf->vf_offset = v;
				patch_config(pf, pf->off_sriov + 0x14u, le, 2);
				dev_printf(pf, "sriov_offset", "%u\n", v);
			} else {
				pf->vf_stride = v;
				patch_config(pf, pf->off_sriov + 0x16u, le, 2);
				dev_printf(pf, "sriov_stride", "%u\n", v);
			}
		}
	}
	return vf;
}

const char *dk_fx_dev_path(const struct dk_fx_dev *dev)
{
	if (!dev)
		fx_die("dk_fx_dev_path(NULL)");
	return dev->path;
}

const char *dk_fx_dev_bdf(const struct dk_fx_dev *dev)
{
	if (!dev)
		fx_die("dk_fx_dev_bdf(NULL)");
	return dev->bdf;
}

unsigned int dk_fx_cap_offset(const struct dk_fx_dev *dev, unsigned int id, int extended)
{
	if (!dev)
		fx_die("dk_fx_cap_offset(NULL, ...)");
	if (extended) {
		if (id == DK_PCI_EXT_CAP_ID_ACS)
			return dev->off_acs;
		if (id == DK_PCI_EXT_CAP_ID_SRIOV)
			return dev->off_sriov;
		return 0;
	}
	switch (id) {
	case DK_PCI_CAP_ID_EXP:
		return dev->off_pcie;
	case DK_PCI_CAP_ID_MSI:
		return dev->off_msi;
	case DK_PCI_CAP_ID_MSIX:
		return dev->off_msix;
	case 0x0d:
		return dev->off_ssvid;
	default:
		return 0;
	}
}

/* ---- bad-input helpers ----------------------------------------------------- */

static void attr_path(char *buf, size_t len, const struct dk_fx_dev *dev, const char *attr,
		      const char *op)
{
	if (!dev || !attr || !*attr || attr[0] == '/')
		fx_die("%s: bad device or attribute \"%s\"", op, attr ? attr : "(null)");
	if (dev->removed)
		fx_die("%s %s/%s: the device was removed", op, dev->bdf, attr);
	fx_fmt(buf, len, "%s/%s", dev->path, attr);
}

void dk_fx_write(struct dk_fx_dev *dev, const char *attr, const void *data, size_t len)
{
	char path[PATH_MAX];
	attr_path(path, sizeof(path), dev, attr, "dk_fx_write");
	if (!data && len)
		fx_die("dk_fx_write %s: NULL data", path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fx_die("dk_fx_write %s: %s", path, strerror(errno));
	fx_write_fd(fd, path, data, len);
	if (close(fd) < 0)
		fx_die("close %s: %s", path, strerror(errno));
}

void dk_fx_write_str(struct dk_fx_dev *dev, const char *attr, const char *text)
{
	if (!text)
		fx_die("dk_fx_write_str: NULL text");
	dk_fx_write(dev, attr, text, strlen(text));
}

void dk_fx_remove(struct dk_fx_dev *dev, const char *attr)
{
	char path[PATH_MAX];
	attr_path(path, sizeof(path), dev, attr, "dk_fx_remove");
	fx_rm_tree(path, 0);
}

void dk_fx_truncate(struct dk_fx_dev *dev, const char *attr, size_t len)
{
	char path[PATH_MAX];
	attr_path(path, sizeof(path), dev, attr, "dk_fx_truncate");
	if (truncate(path, (off_t)len) < 0)
		fx_die("truncate %s to %zu: %s", path, len, strerror(errno));
}

size_t dk_fx_read(const struct dk_fx_dev *dev, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];
	attr_path(path, sizeof(path), dev, attr, "dk_fx_read");
	if (!buf || len == 0)
		fx_die("dk_fx_read %s: no buffer", path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fx_die("dk_fx_read %s: %s", path, strerror(errno));
	size_t done = 0;
	while (done < len - 1) {
		ssize_t n = read(fd, buf + done, len - 1 - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fx_die("dk_fx_read %s: %s", path, strerror(errno));
		if (n == 0)
			break;
		done += (size_t)n;
	}
	buf[done] = '\0';
	if (close(fd) < 0)
		fx_die("close %s: %s", path, strerror(errno));
	return done;
}

/* 1 if d is anc or lies below it (through bridges or as a VF of a PF below it). */
static int below(const struct dk_fx_dev *d, const struct dk_fx_dev *anc)
{
	for (const struct dk_fx_dev *p = d; p; p = p->pf ? p->pf : p->parent)
		if (p == anc)
			return 1;
	return 0;
}

static void remove_dev(struct dk_fx_dev *dev, int links)
{
	if (!dev || dev->removed)
		fx_die("dk_fx_remove_device: %s", dev ? "device already removed" : "NULL device");
	struct dk_fx *fx = dev->fx;
	/* The kernel removes the whole subtree, VFs included. */
	for (size_t i = 0; i < fx->ndev; i++) {
		struct dk_fx_dev *d = fx->devs[i];
		if (d->removed || !below(d, dev))
			continue;
		if (links) {
			char rel[PATH_MAX];
			fx_fmt(rel, sizeof(rel), "bus/pci/devices/%s", d->bdf);
			fx_unlink_root_quiet(fx, rel);
			if (d->driver) {
				fx_fmt(rel, sizeof(rel), "bus/pci/drivers/%s/%s", d->driver,
				       d->bdf);
				fx_unlink_root_quiet(fx, rel);
			}
			if (d->spec.iommu_group >= 0) {
				fx_fmt(rel, sizeof(rel), "kernel/iommu_groups/%d/devices/%s",
				       d->spec.iommu_group, d->bdf);
				fx_unlink_root_quiet(fx, rel);
			}
		}
		fx_rm_tree(d->path, 1);
	}
	for (size_t i = 0; i < fx->ndev; i++)
		if (below(fx->devs[i], dev))
			fx->devs[i]->removed = 1;
	/* A VF removed on its own: drop the PF's virtfnN link too (the
	 * directory-only variant leaves it dangling on purpose). */
	if (links && dev->is_vf && !dev->pf->removed) {
		char path[PATH_MAX];
		fx_fmt(path, sizeof(path), "%s/virtfn%u", dev->pf->path, dev->vf_index);
		if (unlink(path) < 0 && errno != ENOENT)
			fx_die("unlink %s: %s", path, strerror(errno));
	}
}

void dk_fx_remove_device(struct dk_fx_dev *dev)
{
	remove_dev(dev, 1);
}

void dk_fx_remove_device_dir(struct dk_fx_dev *dev)
{
	remove_dev(dev, 0);
}

/* ---- mediated devices ----------------------------------------------------------------- */

static void mdev_name_ok(const char *what, const char *s)
{
	if (!s || !*s || strchr(s, '/') || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		fx_die("%s: bad name \"%s\"", what, s ? s : "(null)");
}

void dk_fx_mdev_type(struct dk_fx *fx, const char *parent, const char *type,
		     const char *device_api, int available)
{
	mdev_name_ok("dk_fx_mdev_type parent", parent);
	mdev_name_ok("dk_fx_mdev_type type", type);
	char prel[PATH_MAX], trel[PATH_MAX], path[PATH_MAX];
	fx_fmt(prel, sizeof(prel), "devices/virtual/%s/%s", parent, parent);
	fx_fmt(trel, sizeof(trel), "%s/mdev_supported_types/%s", prel, type);
	fx_mkdirs(fx->root, trel);
	fx_mkdirs(fx->root, "class/mdev_bus");
	fx_fmt(path, sizeof(path), "%s/class/mdev_bus/%s", fx->root, parent);
	struct stat st;
	if (lstat(path, &st) < 0)
		fx_link_root(fx, "class/mdev_bus", parent, prel);
	char tf[PATH_MAX];
	fx_fmt(tf, sizeof(tf), "%s/create", trel);
	fx_write_root(fx, tf, "");
	fx_fmt(tf, sizeof(tf), "%s/name", trel);
	fx_write_root(fx, tf, "fixture type\n");
	fx_fmt(tf, sizeof(tf), "%s/device_api", trel);
	char buf[128];
	fx_fmt(buf, sizeof(buf), "%s\n", device_api);
	fx_write_root(fx, tf, buf);
	fx_fmt(tf, sizeof(tf), "%s/available_instances", trel);
	fx_fmt(buf, sizeof(buf), "%d\n", available);
	fx_write_root(fx, tf, buf);
	fx_fmt(tf, sizeof(tf), "%s/devices", trel);
	fx_mkdirs(fx->root, tf);
}

void dk_fx_mdev(struct dk_fx *fx, const char *parent, const char *type, const char *uuid,
		int iommu_group)
{
	mdev_name_ok("dk_fx_mdev uuid", uuid);
	char prel[PATH_MAX], trel[PATH_MAX], drel[PATH_MAX], tf[PATH_MAX];
	fx_fmt(prel, sizeof(prel), "devices/virtual/%s/%s", parent, parent);
	fx_fmt(trel, sizeof(trel), "%s/mdev_supported_types/%s", prel, type);
	fx_fmt(drel, sizeof(drel), "%s/%s", prel, uuid);
	fx_mkdirs(fx->root, drel);
	fx_fmt(tf, sizeof(tf), "%s/remove", drel);
	fx_write_root(fx, tf, "");
	fx_link_root(fx, drel, "mdev_type", trel);
	fx_fmt(tf, sizeof(tf), "%s/devices", trel);
	fx_link_root(fx, tf, uuid, drel);
	if (iommu_group >= 0) {
		char grel[128];
		iommu_group_dir(fx, iommu_group);
		fx_fmt(grel, sizeof(grel), "kernel/iommu_groups/%d", iommu_group);
		fx_link_root(fx, drel, "iommu_group", grel);
		fx_fmt(grel, sizeof(grel), "kernel/iommu_groups/%d/devices", iommu_group);
		fx_link_root(fx, grel, uuid, drel);
	}
	fx_mkdirs(fx->root, "bus/mdev/devices");
	fx_link_root(fx, "bus/mdev/devices", uuid, drel);
}

void dk_fx_write_rel(struct dk_fx *fx, const char *rel, const char *text)
{
	fx_write_root(fx, rel, text);
}

void dk_fx_remove_rel(struct dk_fx *fx, const char *rel)
{
	char path[PATH_MAX];
	fx_fmt(path, sizeof(path), "%s/%s", fx->root, rel);
	fx_rm_tree(path, 0);
}

const char *dk_fx_mdev_type_file(const char *parent, const char *type, const char *file)
{
	static char rel[PATH_MAX];
	fx_fmt(rel, sizeof(rel), "devices/virtual/%s/%s/mdev_supported_types/%s/%s", parent,
	       parent, type, file);
	return rel;
}

void dk_fx_mdev_vanish(struct dk_fx *fx, const char *parent, const char *uuid)
{
	char rel[PATH_MAX];
	fx_fmt(rel, sizeof(rel), "devices/virtual/%s/%s/%s", parent, parent, uuid);
	dk_fx_remove_rel(fx, rel);
}

void dk_fx_mdev_remove(struct dk_fx *fx, const char *parent, const char *type, const char *uuid)
{
	char rel[PATH_MAX], path[PATH_MAX], target[PATH_MAX];
	fx_fmt(rel, sizeof(rel), "bus/mdev/devices/%s/iommu_group", uuid);
	fx_fmt(path, sizeof(path), "%s/%s", fx->root, rel);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n > 0) { /* .../kernel/iommu_groups/<n>: drop the group's link to it */
		target[n] = '\0';
		const char *g = strrchr(target, '/');
		fx_fmt(rel, sizeof(rel), "kernel/iommu_groups/%s/devices/%s", g ? g + 1 : target,
		       uuid);
		fx_unlink_root_quiet(fx, rel);
	}
	fx_fmt(rel, sizeof(rel), "devices/virtual/%s/%s/mdev_supported_types/%s/devices/%s",
	       parent, parent, type, uuid);
	fx_unlink_root_quiet(fx, rel);
	fx_fmt(rel, sizeof(rel), "bus/mdev/devices/%s", uuid);
	fx_unlink_root_quiet(fx, rel);
	dk_fx_mdev_vanish(fx, parent, uuid);
}

void dk_fx_mdev_parent_remove(struct dk_fx *fx, const char *parent)
{
	char rel[PATH_MAX];
	fx_fmt(rel, sizeof(rel), "class/mdev_bus/%s", parent);
	fx_unlink_root_quiet(fx, rel);
	fx_fmt(rel, sizeof(rel), "devices/virtual/%s", parent);
	dk_fx_remove_rel(fx, rel);
}

size_t dk_fx_read_rel(const struct dk_fx *fx, const char *rel, char *buf, size_t len)
{
	char path[PATH_MAX];
	fx_fmt(path, sizeof(path), "%s/%s", fx->root, rel);
	if (!buf || len == 0)
		fx_die("dk_fx_read_rel %s: no buffer", path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fx_die("dk_fx_read_rel %s: %s", path, strerror(errno));
	ssize_t n;
	do
		n = read(fd, buf, len - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		fx_die("dk_fx_read_rel %s: %s", path, strerror(errno));
	buf[n] = '\0';
	fx_close(fd, path);
	return (size_t)n;
}
