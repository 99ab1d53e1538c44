/* SPDX-License-Identifier: BSD-3-Clause */
/* contract: include/dmakit/p2p.h (memory the kernel publishes, listing), p2p_internal.h */
#define DK_LOG_COMPONENT "p2p"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <dmakit/log.h>

#include "core/sysfs.h"
#include "p2p/p2p_internal.h"

/* This process's mappings of p2pmem/allocate, to check frees and count. */
struct kalloc {
	void *addr;
	size_t len; /* rounded to pages */
	char name[40];
	struct kalloc *next;
};

static pthread_mutex_t g_klock = PTHREAD_MUTEX_INITIALIZER;
static struct kalloc *g_kallocs;

static int p2pmem_rel(const struct dk_pci_device *dev, const char *file, char *rel, size_t len)
{
	int n = snprintf(rel, len, "bus/pci/devices/%s/p2pmem/%s", dev->device.name, file);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int read_u64(const struct dk_pci_device *dev, const char *file, uint64_t *out)
{
	char rel[128];
	int rc = p2pmem_rel(dev, file, rel, sizeof(rel));
	if (rc == 0)
		rc = dk__sysfs_read_u64(rel, 10, out);
	if (rc == -EINVAL || rc == -ERANGE)
		DK_ERR("%s/%s: not a decimal number: the kernel writes one; check the sysfs root",
		       dk_sysfs_root(), rel);
	else if (rc < 0 && rc != -ENOENT)
		DK_ERR("%s/%s: %s", dk_sysfs_root(), rel, strerror(-rc));
	return rc;
}

static uint64_t count_allocs(const char *name)
{
	uint64_t n = 0;
	pthread_mutex_lock(&g_klock);
	for (struct kalloc *k = g_kallocs; k; k = k->next)
		n += strcmp(k->name, name) == 0;
	pthread_mutex_unlock(&g_klock);
	return n;
}

/* Like dk_p2p_kernel_stats, with -ENOENT quiet (listing). */
static int kstats(const struct dk_pci_device *dev, struct dk_p2p_stats *out)
{
	uint64_t size, avail, pub;
	int rc;
	if ((rc = read_u64(dev, "size", &size)) < 0 || (rc = read_u64(dev, "available", &avail)) < 0 ||
	    (rc = read_u64(dev, "published", &pub)) < 0)
		return rc;
	*out = (struct dk_p2p_stats){.size = size, .available = avail, .published = pub != 0,
				     .nr_allocs = count_allocs(dev->device.name)};
	return 0;
}

int dk_p2p_kernel_stats(const struct dk_pci_device *dev, struct dk_p2p_stats *out)
{
	if (!dev || !out) {
		DK_ERR("dk_p2p_kernel_stats: NULL %s", dev ? "out" : "device");
		return -EINVAL;
	}
	int rc = kstats(dev, out);
	if (rc == -ENOENT)
		DK_ERR("%s/bus/pci/devices/%s/p2pmem: incomplete or absent: the kernel publishes no P2P memory for it (needs CONFIG_PCI_P2PDMA and a driver that calls pci_p2pdma_add_resource)",
		       dk_sysfs_root(), dev->device.name);
	return rc;
}

void *dk_p2p_kernel_alloc(const struct dk_pci_device *dev, size_t size)
{
	if (!dev || size == 0) {
		DK_ERR("dk_p2p_kernel_alloc: %s", dev ? "size 0: ask for at least one byte" : "NULL device");
		errno = EINVAL;
		return NULL;
	}
	uint64_t pg = dk__p2p_page();
	size_t len = (size + pg - 1) / pg * pg;
	char rel[128], path[DK__PATH_MAX];
	struct kalloc *k = calloc(1, sizeof(*k));
	int rc = -ENOMEM;
	if (!k) {
		DK_ERR("%s: out of memory for p2pmem bookkeeping", dev->device.name);
		goto err;
	}
	if ((rc = p2pmem_rel(dev, "allocate", rel, sizeof(rel))) < 0 ||
	    (rc = dk__sysfs_path(path, sizeof(path), rel)) < 0) {
		DK_ERR("%s: sysfs path too long: use a shorter sysfs root", dev->device.name);
		goto err_free;
	}
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		DK_ERR("%s: %s", path, rc == -ENOENT ? "absent: the kernel has no p2pmem for this device, or is older than 6.2 (no allocate file)"
						   : strerror(-rc));
		goto err_free;
	}
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	rc = m == MAP_FAILED ? -errno : 0;
	close(fd);
	if (rc < 0) {
		DK_ERR("%s: mmap of %zu bytes: %s%s", path, len, strerror(-rc),
		       rc == -ENOMEM ? ": the kernel's pool has no room (see p2pmem/available)" : "");
		goto err_free;
	}
	k->addr = m;
	k->len = len;
	snprintf(k->name, sizeof(k->name), "%s", dev->device.name);
	pthread_mutex_lock(&g_klock);
	k->next = g_kallocs;
	g_kallocs = k;
	pthread_mutex_unlock(&g_klock);
	return m;

err_free:
	free(k);
err:
	errno = -rc;
	return NULL;
}

int dk_p2p_kernel_free(void *addr, size_t size)
{
	uint64_t pg = dk__p2p_page();
	size_t len = (size + pg - 1) / pg * pg;
	pthread_mutex_lock(&g_klock);
	struct kalloc **pp = &g_kallocs;
	while (*pp && (*pp)->addr != addr)
		pp = &(*pp)->next;
	struct kalloc *k = *pp;
	if (k && k->len == len && size)
		*pp = k->next;
	pthread_mutex_unlock(&g_klock);
	if (!k) {
		DK_ERR("dk_p2p_kernel_free of %p: not a live allocation of dk_p2p_kernel_alloc (double free?): pass what it returned",
		       addr);
		return -EINVAL;
	}
	if (k->len != len || size == 0) {
		DK_ERR("dk_p2p_kernel_free of %p with %zu bytes, but %zu were mapped: pass the size given to dk_p2p_kernel_alloc",
		       addr, size, k->len);
		return -EINVAL;
	}
	munmap(k->addr, k->len);
	free(k);
	return 0;
}

/* ---- listing ------------------------------------------------------------------ */

static bool candidate(const struct dk_pci_device *dev, struct dk_p2p_info *i)
{
	if (dev->kind != DK_PCI_KIND_FUNCTION || dk_pci_is_bridge(dev))
		return false;
	*i = (struct dk_p2p_info){.dev = dev, .kind = DK_P2P_KIND_CANDIDATE};
	for (unsigned int b = 0; b < DK_PCI_NUM_BARS; b++) {
		const struct dk_pci_bar *bar = &dev->bars[b];
		if ((bar->flags & DK_PCI_BAR_MEM) && (bar->flags & DK_PCI_BAR_PREFETCH) &&
		    bar->len >= dk__p2p_page()) {
			i->bars |= 1u << b;
			i->stats.size += bar->len;
		}
	}
	i->stats.available = i->stats.size;
	return i->bars != 0;
}

static void put(struct dk_p2p_info *out, unsigned int max, int *n, const struct dk_p2p_info *i)
{
	if ((unsigned int)*n < max)
		out[*n] = *i;
	(*n)++;
}

int dk_p2p_list(unsigned int kinds, struct dk_p2p_info *out, unsigned int max)
{
	const unsigned int all = DK_P2P_KIND_DMAKIT | DK_P2P_KIND_KERNEL | DK_P2P_KIND_CANDIDATE;
	if (kinds == 0 || (kinds & ~all) || (!out && max)) {
		DK_ERR("dk_p2p_list: kinds 0x%x (a mask of DK_P2P_KIND_*), out %p with max %u: bad arguments",
		       kinds, (void *)out, max);
		return -EINVAL;
	}
	int n = 0;
	if (kinds & DK_P2P_KIND_DMAKIT)
		n = dk__p2p_list_own(out, max);
	unsigned int count = dk_pci_count();
	for (unsigned int i = 0; i < count && (kinds & DK_P2P_KIND_KERNEL); i++) {
		struct dk_p2p_info info = {.dev = dk_pci_get(i), .kind = DK_P2P_KIND_KERNEL};
		if (info.dev->kind == DK_PCI_KIND_FUNCTION && kstats(info.dev, &info.stats) == 0)
			put(out, max, &n, &info);
	}
	for (unsigned int i = 0; i < count && (kinds & DK_P2P_KIND_CANDIDATE); i++) {
		struct dk_p2p_info info;
		if (candidate(dk_pci_get(i), &info))
			put(out, max, &n, &info);
	}
	return n;
}

void dk__p2p_kernel_forget(void)
{
	pthread_mutex_lock(&g_klock);
	while (g_kallocs) {
		struct kalloc *k = g_kallocs;
		g_kallocs = k->next;
		free(k);
	}
	pthread_mutex_unlock(&g_klock);
}
