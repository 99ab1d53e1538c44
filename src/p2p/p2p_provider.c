/* SPDX-License-Identifier: BSD-3-Clause */
/* contract: include/dmakit/p2p.h (providers, pool and allocation), p2p_internal.h */
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
#include <dmakit/vfio.h>

#include "bus/pci/pci_internal.h"
#include "core/sysfs.h"
#include "p2p/p2p_internal.h"
#include "p2p/p2p_pool.h"

struct p2p_res {
	unsigned int bar;
	uint64_t offset; /* in the BAR */
	uint64_t size;
	uint8_t *va;     /* dmakit's own mapping of [offset, offset + size) */
	uint64_t bus;    /* bus address of va */
	uint64_t iova;   /* IOVA of va in every container (dk__p2p_dma_register) */
	struct dk__p2p_pool pool;
};

struct p2p_provider {
	char name[40]; /* dev->device.name */
	pthread_mutex_t lock;
	bool published;
	unsigned int nr_res;
	struct p2p_res res[DK_P2P_MAX_RESOURCES];
	struct p2p_provider *next;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER; /* g_providers */
static struct p2p_provider *g_providers;

uint64_t dk__p2p_page(void)
{
	static uint64_t page;
	if (!page)
		page = (uint64_t)sysconf(_SC_PAGESIZE);
	return page;
}

static struct p2p_provider *find_locked(const char *name)
{
	for (struct p2p_provider *p = g_providers; p; p = p->next)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

/* The provider of dev, locked; NULL with *rc set (-EINVAL, -ENOENT: logged). */
static struct p2p_provider *get_locked(const struct dk_pci_device *dev, const char *what, int *rc)
{
	if (!dev) {
		DK_ERR("%s: NULL device: pass a provider's dk_pci_device", what);
		*rc = -EINVAL;
		return NULL;
	}
	pthread_mutex_lock(&g_lock);
	struct p2p_provider *p = find_locked(dev->device.name);
	if (p)
		pthread_mutex_lock(&p->lock);
	pthread_mutex_unlock(&g_lock);
	if (!p) {
		DK_ERR("%s: %s is no P2P provider: add a BAR range first (dk_p2p_add_resource)", what,
		       dev->device.name);
		*rc = -ENOENT;
	}
	return p;
}

static uint64_t pages_of(uint64_t bytes)
{
	return (bytes + dk__p2p_page() - 1) / dk__p2p_page();
}

/* ---- adding a resource ------------------------------------------------------ */

static int check_range(const struct dk_pci_device *dev, unsigned int bar, uint64_t *size,
		       uint64_t offset)
{
	const char *n = dev->device.name;
	if (dev->kind != DK_PCI_KIND_FUNCTION) {
		DK_ERR("%s: an mdev's BARs are no PCI memory peers can reach: use a PCI function as provider", n);
		return -EINVAL;
	}
	if (bar >= DK_PCI_NUM_BARS) {
		DK_ERR("%s: BAR %u does not exist: BARs are 0..5", n, bar);
		return -EINVAL;
	}
	const struct dk_pci_bar *b = &dev->bars[bar];
	if (b->len == 0) {
		DK_ERR("%s: BAR %u is not implemented: pick a memory BAR (dmakit show %s)", n, bar, n);
		return -EINVAL;
	}
	if (!(b->flags & DK_PCI_BAR_MEM)) {
		DK_ERR("%s: BAR %u is not a memory BAR (I/O space cannot be shared): pick a memory BAR",
		       n, bar);
		return -EINVAL;
	}
	if (offset >= b->len) {
		DK_ERR("%s: offset 0x%" PRIx64 " is beyond BAR %u (0x%" PRIx64 " bytes)", n, offset,
		       bar, b->len);
		return -EINVAL;
	}
	if (*size == 0)
		*size = b->len - offset;
	if (*size > b->len - offset) {
		DK_ERR("%s: 0x%" PRIx64 " bytes at offset 0x%" PRIx64 " end beyond BAR %u (0x%" PRIx64
		       " bytes): pass a smaller size, or 0 for the rest of the BAR",
		       n, *size, offset, bar, b->len);
		return -EINVAL;
	}
	uint64_t pg = dk__p2p_page();
	if (offset % pg || *size % pg) {
		DK_ERR("%s: BAR %u range 0x%" PRIx64 "+0x%" PRIx64 " is not page-aligned: offset and size must be multiples of %" PRIu64,
		       n, bar, offset, *size, pg);
		return -EINVAL;
	}
	return 0;
}

static int check_room(const struct p2p_provider *p, const char *n, unsigned int bar,
		      uint64_t size, uint64_t offset)
{
	if (!p)
		return 0;
	if (p->nr_res == DK_P2P_MAX_RESOURCES) {
		DK_ERR("%s: already %u resources, the most a provider has: add larger ranges", n,
		       DK_P2P_MAX_RESOURCES);
		return -ENOSPC;
	}
	for (unsigned int i = 0; i < p->nr_res; i++) {
		const struct p2p_res *r = &p->res[i];
		if (r->bar == bar && offset < r->offset + r->size && r->offset < offset + size) {
			DK_ERR("%s: BAR %u range 0x%" PRIx64 "+0x%" PRIx64 " overlaps resource 0x%" PRIx64
			       "+0x%" PRIx64 " added before: add each range once",
			       n, bar, offset, size, r->offset, r->size);
			return -EBUSY;
		}
	}
	return 0;
}

/* Map through the VFIO device fd: the region must be mmappable over the range. */
static int map_vfio(const struct dk_pci_device *dev, unsigned int bar, uint64_t size,
		    uint64_t offset, void **va)
{
	struct dk_pci_region reg;
	int rc = dk_pci_region_info(dev, bar, &reg);
	if (rc < 0)
		return rc;
	bool inside = false;
	for (uint32_t i = 0; i < reg.nr_areas && (reg.flags & DK_PCI_REGION_MMAP); i++)
		if (offset >= reg.areas[i].offset &&
		    offset + size <= reg.areas[i].offset + reg.areas[i].len)
			inside = true;
	if (!inside) {
		DK_ERR("%s: BAR %u range 0x%" PRIx64 "+0x%" PRIx64 " is not mmappable through VFIO (dmakit regions %s): pick a range inside one mmappable area",
		       dev->device.name, bar, offset, size, dev->device.name);
		return -EINVAL;
	}
	int fd = dk_vfio_device_fd(dk_pci_vfio_device(dev));
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       (off_t)(reg.fd_offset + offset));
	if (m == MAP_FAILED) {
		rc = -errno;
		DK_ERR("%s: mmap of BAR %u through VFIO: %s: check the device is not being reset",
		       dev->device.name, bar, strerror(-rc));
		return rc;
	}
	*va = m;
	return 0;
}

/* Map by sysfs resource<N>: the kernel's userspace BAR interface. */
static int map_sysfs(const struct dk_pci_device *dev, unsigned int bar, uint64_t size,
		     uint64_t offset, void **va)
{
	char rel[96], path[DK__PATH_MAX];
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/resource%u", dev->device.name, bar);
	int rc = dk__sysfs_path(path, sizeof(path), rel);
	if (rc < 0) {
		DK_ERR("%s/%s: path too long: use a shorter sysfs root", dk_sysfs_root(), rel);
		return rc;
	}
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		DK_ERR("%s: %s: %s: run as root, or open the device through VFIO first (dk_pci_vfio_open)",
		       dev->device.name, path, strerror(-rc));
		return rc;
	}
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)offset);
	rc = m == MAP_FAILED ? -errno : 0;
	close(fd);
	if (rc < 0) {
		DK_ERR("%s: mmap of %s: %s: the kernel refuses it under lockdown or when a driver holds the BAR exclusively; open the device through VFIO instead",
		       dev->device.name, path, strerror(-rc));
		return rc;
	}
	*va = m;
	return 0;
}

/* A BAR register as the hardware holds it: from sysfs config when the device
 * has a sysfs directory (VFIO's config region virtualizes BARs: it shows what
 * the user wrote, sizing patterns included), else through its config path. */
static int bar_reg(const struct dk_pci_device *dev, size_t off, uint32_t *v)
{
	struct dk__pci_dev *d = dk__pci_dev(dev);
	if (d->sysfs_rel[0])
		return dk__pci_config_sysfs_ops.read(d, v, 4, off);
	return dk_pci_config_read(dev, v, 4, off);
}

/* What peers put on the bus for BAR bar: its register; the CPU address when it reads 0. */
static uint64_t bar_bus_addr(const struct dk_pci_device *dev, unsigned int bar)
{
	uint32_t r[2] = {0, 0};
	uint64_t bus = 0;
	if (bar_reg(dev, 0x10 + 4 * bar, &r[0]) == 4 && !(r[0] & 1)) {
		bus = r[0] & ~0xfull;
		if (((r[0] >> 1) & 3) == 2 && bar < 5 && bar_reg(dev, 0x14 + 4 * bar, &r[1]) == 4)
			bus |= (uint64_t)r[1] << 32;
	}
	if (bus == 0) {
		DK_INFO("%s: BAR %u register reads 0 (a VF, or config unreadable): bus address taken as the CPU address 0x%" PRIx64,
			dev->device.name, bar, dev->bars[bar].phys_addr);
		bus = dev->bars[bar].phys_addr;
	}
	return bus;
}

static int res_init(struct p2p_res *r, struct dk_pci_device *dev, unsigned int bar,
		    uint64_t size, uint64_t offset)
{
	void *va = NULL;
	int rc = dk_pci_vfio_is_open(dev) ? map_vfio(dev, bar, size, offset, &va)
					  : map_sysfs(dev, bar, size, offset, &va);
	if (rc < 0)
		return rc;
	rc = dk__p2p_pool_init(&r->pool, size / dk__p2p_page());
	if (rc < 0)
		goto err_unmap;
	r->bar = bar;
	r->offset = offset;
	r->size = size;
	r->va = va;
	r->bus = bar_bus_addr(dev, bar) + offset;
	rc = dk__p2p_dma_register(dev, va, size, r->bus, &r->iova);
	if (rc < 0)
		goto err_fini_pool;
	return 0;

err_fini_pool:
	dk__p2p_pool_fini(&r->pool);
	munmap(va, size);
	return rc;
err_unmap:
	DK_ERR("%s: no memory for the pool of 0x%" PRIx64 " bytes (%" PRIu64 " bytes of bookkeeping a page): add a smaller range",
	       dev->device.name, size, (uint64_t)13);
	munmap(va, size);
	return rc;
}

static struct p2p_provider *provider_new(const char *name)
{
	struct p2p_provider *p = calloc(1, sizeof(*p));
	if (!p) {
		DK_ERR("%s: out of memory for a P2P provider", name);
		return NULL;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

int dk_p2p_add_resource(struct dk_pci_device *dev, unsigned int bar, uint64_t size,
			uint64_t offset)
{
	if (!dev) {
		DK_ERR("dk_p2p_add_resource: NULL device: pass the provider's dk_pci_device");
		return -EINVAL;
	}
	int rc = check_range(dev, bar, &size, offset);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&g_lock);
	struct p2p_provider *p = find_locked(dev->device.name), *fresh = NULL;
	if ((rc = check_room(p, dev->device.name, bar, size, offset)) < 0)
		goto out_unlock;
	if (!p && !(p = fresh = provider_new(dev->device.name))) {
		rc = -ENOMEM;
		goto out_unlock;
	}
	pthread_mutex_lock(&p->lock);
	rc = res_init(&p->res[p->nr_res], dev, bar, size, offset);
	if (rc == 0)
		p->nr_res++;
	pthread_mutex_unlock(&p->lock);
	if (rc < 0)
		goto err_free_fresh;
	if (fresh) {
		fresh->next = g_providers;
		g_providers = fresh;
	}
	DK_INFO("%s: P2P resource BAR %u 0x%" PRIx64 "+0x%" PRIx64 " (bus 0x%" PRIx64 ")",
		dev->device.name, bar, offset, size, p->res[p->nr_res - 1].bus);
	goto out_unlock;

err_free_fresh:
	if (fresh) {
		pthread_mutex_destroy(&fresh->lock);
		free(fresh);
	}
out_unlock:
	pthread_mutex_unlock(&g_lock);
	return rc;
}

/* ---- publish, stats, remove ----------------------------------------------------- */

int dk_p2p_publish(struct dk_pci_device *dev, bool publish)
{
	int rc = 0;
	struct p2p_provider *p = get_locked(dev, "dk_p2p_publish", &rc);
	if (!p)
		return rc;
	p->published = publish;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static void stats_locked(const struct p2p_provider *p, struct dk_p2p_stats *out)
{
	*out = (struct dk_p2p_stats){.published = p->published, .nr_resources = p->nr_res};
	for (unsigned int i = 0; i < p->nr_res; i++) {
		out->size += p->res[i].size;
		out->available += (uint64_t)p->res[i].pool.free_pages * dk__p2p_page();
		out->nr_allocs += p->res[i].pool.nr_allocs;
	}
}

int dk_p2p_stats(const struct dk_pci_device *dev, struct dk_p2p_stats *out)
{
	int rc = 0;
	if (!out) {
		DK_ERR("dk_p2p_stats: NULL out: pass a struct dk_p2p_stats to fill");
		return -EINVAL;
	}
	struct p2p_provider *p = get_locked(dev, "dk_p2p_stats", &rc);
	if (!p)
		return rc;
	stats_locked(p, out);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static void provider_free(struct p2p_provider *p)
{
	for (unsigned int i = 0; i < p->nr_res; i++) {
		dk__p2p_dma_unregister(p->res[i].va, p->res[i].size, p->res[i].iova);
		munmap(p->res[i].va, p->res[i].size);
		dk__p2p_pool_fini(&p->res[i].pool);
	}
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static void unlink_locked(struct p2p_provider *p)
{
	for (struct p2p_provider **pp = &g_providers; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			return;
		}
}

int dk_p2p_remove(struct dk_pci_device *dev)
{
	if (!dev) {
		DK_ERR("dk_p2p_remove: NULL device: pass the provider's dk_pci_device");
		return -EINVAL;
	}
	pthread_mutex_lock(&g_lock);
	struct p2p_provider *p = find_locked(dev->device.name);
	int rc = 0;
	if (!p) {
		DK_ERR("dk_p2p_remove: %s is no P2P provider", dev->device.name);
		rc = -ENOENT;
		goto out_unlock;
	}
	struct dk_p2p_stats st;
	pthread_mutex_lock(&p->lock);
	stats_locked(p, &st);
	pthread_mutex_unlock(&p->lock);
	if (st.nr_allocs) {
		DK_ERR("%s: %" PRIu64 " P2P allocations outstanding (0x%" PRIx64 " bytes): free them (dk_p2p_free) before removing the provider",
		       p->name, st.nr_allocs, st.size - st.available);
		rc = -EBUSY;
		goto out_unlock;
	}
	unlink_locked(p);
	provider_free(p);
out_unlock:
	pthread_mutex_unlock(&g_lock);
	return rc;
}

/* Replace p's mappings with PROT_NONE reservations that are never released. */
static void fence(struct p2p_provider *p, const struct dk_p2p_stats *st)
{
	DK_ERR("%s: %" PRIu64 " P2P allocations still outstanding at dk_cleanup: their memory is fenced (any access faults); free P2P memory before dk_cleanup",
	       p->name, st->nr_allocs);
	for (unsigned int i = 0; i < p->nr_res; i++) {
		/* out of every container first: the devices cannot reach it either */
		dk__p2p_dma_unregister(p->res[i].va, p->res[i].size, p->res[i].iova);
		if (mmap(p->res[i].va, p->res[i].size, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
			DK_ERR("%s: fencing BAR %u range failed (%s): it stays mapped", p->name,
			       p->res[i].bar, strerror(errno));
		dk__p2p_pool_fini(&p->res[i].pool);
	}
	p->nr_res = 0; /* the reservations stay: provider_free unmaps nothing */
}

void dk__p2p_cleanup(void)
{
	pthread_mutex_lock(&g_lock);
	while (g_providers) {
		struct p2p_provider *p = g_providers;
		g_providers = p->next;
		struct dk_p2p_stats st;
		stats_locked(p, &st);
		if (st.nr_allocs)
			fence(p, &st);
		provider_free(p);
	}
	pthread_mutex_unlock(&g_lock);
	dk__p2p_dist_forget();
	dk__p2p_kernel_forget();
}

void dk__p2p_each_published(void (*fn)(const char *name, void *arg), void *arg)
{
	pthread_mutex_lock(&g_lock);
	for (struct p2p_provider *p = g_providers; p; p = p->next) {
		pthread_mutex_lock(&p->lock);
		bool pub = p->published;
		pthread_mutex_unlock(&p->lock);
		if (pub)
			fn(p->name, arg);
	}
	pthread_mutex_unlock(&g_lock);
}

int dk__p2p_published(const char *name)
{
	pthread_mutex_lock(&g_lock);
	struct p2p_provider *p = find_locked(name);
	int rc = -ENOENT;
	if (p) {
		pthread_mutex_lock(&p->lock);
		rc = p->published;
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_unlock(&g_lock);
	return rc;
}

int dk__p2p_list_own(struct dk_p2p_info *out, unsigned int max)
{
	int n = 0;
	pthread_mutex_lock(&g_lock);
	for (struct p2p_provider *p = g_providers; p; p = p->next) {
		const struct dk_pci_device *dev = dk_pci_find(p->name);
		if (!dev)
			continue;
		if ((unsigned int)n < max) {
			struct dk_p2p_info *i = &out[n];
			*i = (struct dk_p2p_info){.dev = dev, .kind = DK_P2P_KIND_DMAKIT};
			pthread_mutex_lock(&p->lock);
			stats_locked(p, &i->stats);
			for (unsigned int k = 0; k < p->nr_res; k++)
				i->bars |= 1u << p->res[k].bar;
			pthread_mutex_unlock(&p->lock);
		}
		n++;
	}
	pthread_mutex_unlock(&g_lock);
	return n;
}

/* ---- allocation -------------------------------------------------------------------- */

void *dk_p2p_alloc(struct dk_pci_device *dev, size_t size)
{
	int rc = 0;
	if (size == 0) {
		DK_ERR("dk_p2p_alloc: size 0: ask for at least one byte");
		errno = EINVAL;
		return NULL;
	}
	struct p2p_provider *p = get_locked(dev, "dk_p2p_alloc", &rc);
	if (!p) {
		errno = -rc;
		return NULL;
	}
	uint64_t n = pages_of(size);
	void *va = NULL;
	for (unsigned int i = 0; i < p->nr_res && !va; i++) {
		int64_t pg = n <= p->res[i].pool.npages ? dk__p2p_pool_alloc(&p->res[i].pool, n)
							: -ENOMEM;
		if (pg >= 0)
			va = p->res[i].va + (uint64_t)pg * dk__p2p_page();
	}
	if (!va) {
		struct dk_p2p_stats st;
		stats_locked(p, &st);
		DK_ERR("%s: no free run of %zu bytes in P2P memory (0x%" PRIx64 " of 0x%" PRIx64 " bytes available, fragmented or too little): free memory or add a resource",
		       p->name, size, st.available, st.size);
		errno = ENOMEM;
	}
	pthread_mutex_unlock(&p->lock);
	return va;
}

/* The resource of p holding addr, or NULL. */
static struct p2p_res *res_of(struct p2p_provider *p, const void *addr)
{
	for (unsigned int i = 0; i < p->nr_res; i++) {
		struct p2p_res *r = &p->res[i];
		if ((const uint8_t *)addr >= r->va && (const uint8_t *)addr < r->va + r->size)
			return r;
	}
	return NULL;
}

static int free_locked(struct p2p_provider *p, void *addr, size_t size)
{
	struct p2p_res *r = res_of(p, addr);
	if (!r) {
		DK_ERR("%s: dk_p2p_free of %p, which is not in its P2P memory: free it with the provider that allocated it",
		       p->name, addr);
		return -EINVAL;
	}
	uint64_t off = (uint64_t)((uint8_t *)addr - r->va), actual = 0;
	int rc = -EINVAL;
	if (size && off % dk__p2p_page() == 0)
		rc = dk__p2p_pool_free(&r->pool, off / dk__p2p_page(), pages_of(size), &actual);
	if (rc == -ERANGE)
		DK_ERR("%s: dk_p2p_free of %p with %zu bytes, but it was allocated with %" PRIu64 " pages: pass the size given to dk_p2p_alloc",
		       p->name, addr, size, actual);
	else if (rc < 0)
		DK_ERR("%s: dk_p2p_free of %p (size %zu): no allocation starts there (a double free, an interior address, or size 0): pass what dk_p2p_alloc returned",
		       p->name, addr, size);
	return rc < 0 ? -EINVAL : 0;
}

int dk_p2p_free(struct dk_pci_device *dev, void *addr, size_t size)
{
	int rc = 0;
	struct p2p_provider *p = get_locked(dev, "dk_p2p_free", &rc);
	if (!p)
		return rc;
	rc = free_locked(p, addr, size);
	pthread_mutex_unlock(&p->lock);
	return rc;
}

struct dk_p2p_sg *dk_p2p_alloc_sgl(struct dk_pci_device *dev, size_t length,
				   unsigned int *nents)
{
	if (!nents) {
		DK_ERR("dk_p2p_alloc_sgl: NULL nents: pass where to store the entry count");
		errno = EINVAL;
		return NULL;
	}
	struct dk_p2p_sg *sg = calloc(1, sizeof(*sg));
	if (!sg) {
		DK_ERR("dk_p2p_alloc_sgl: out of memory for the list");
		errno = ENOMEM;
		return NULL;
	}
	sg->addr = dk_p2p_alloc(dev, length);
	if (!sg->addr) {
		int e = errno;
		free(sg);
		errno = e;
		return NULL;
	}
	sg->length = length;
	sg->bus_addr = dk_p2p_virt_to_bus(dev, sg->addr);
	*nents = 1;
	return sg;
}

int dk_p2p_free_sgl(struct dk_pci_device *dev, struct dk_p2p_sg *sgl, unsigned int nents)
{
	if (!dev || !sgl) {
		DK_ERR("dk_p2p_free_sgl: NULL %s: pass the provider and the list of dk_p2p_alloc_sgl",
		       dev ? "list" : "device");
		return -EINVAL;
	}
	int first = 0;
	for (unsigned int i = 0; i < nents; i++) {
		int rc = dk_p2p_free(dev, sgl[i].addr, sgl[i].length);
		if (rc < 0 && first == 0)
			first = rc;
	}
	free(sgl);
	return first;
}

int dk__p2p_lookup(const void *addr, char *name, size_t name_len, uint64_t *bus)
{
	int rc = -ENOENT;
	pthread_mutex_lock(&g_lock);
	for (struct p2p_provider *p = g_providers; p && rc < 0; p = p->next) {
		pthread_mutex_lock(&p->lock);
		const struct p2p_res *r = res_of(p, addr);
		if (r) {
			snprintf(name, name_len, "%s", p->name);
			*bus = r->bus + (uint64_t)((const uint8_t *)addr - r->va);
			rc = 0;
		}
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_unlock(&g_lock);
	return rc;
}

uint64_t dk_p2p_virt_to_bus(const struct dk_pci_device *dev, const void *addr)
{
	int rc = 0;
	struct p2p_provider *p = get_locked(dev, "dk_p2p_virt_to_bus", &rc);
	if (!p) {
		errno = -rc;
		return 0;
	}
	const struct p2p_res *r = res_of(p, addr);
	uint64_t bus = r ? r->bus + (uint64_t)((const uint8_t *)addr - r->va) : 0;
	pthread_mutex_unlock(&p->lock);
	if (!r) {
		DK_ERR("%s: dk_p2p_virt_to_bus of %p, which is not in its P2P memory: pass an address of this provider",
		       dev->device.name, addr);
		errno = EINVAL;
	}
	return bus;
}
