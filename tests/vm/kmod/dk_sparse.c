// SPDX-License-Identifier: GPL-2.0
/*
 * dk_sparse: a mediated device with a sparse BAR, for the dmakit VM test suite.
 *
 * Each instance is a "vfio-pci" mdev with an emulated 256-byte config space and a
 * 64 KiB BAR0. Three parts of BAR0 can be mmapped (the region info carries a
 * SPARSE_MMAP capability listing them); they are backed by zeroed kernel pages of the
 * instance. The rest of BAR0 is trapped: a register page and two holes that only
 * pread/pwrite on the device fd reach. The register map is in dk_sparse_regs.h and
 * docs/vm.md. Written for the Linux 6.1 mdev API (mdev_register_parent with types); the
 * few calls that changed since are chosen by version, so that it also builds for the
 * suite's own 6.12 kernel (tests/vm/kernel), where it joins an IOAS like any emulated
 * device.
 */
#include <linux/device.h>
#include <linux/highmem.h>
#include <linux/kernel.h>
#include <linux/mdev.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci_regs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/vfio.h>

#include "dk_sparse_regs.h"

/* Region offsets in the device fd, as vfio-pci lays them out: index << 40. */
#define DKS_OFFSET_SHIFT 40
#define DKS_OFFSET_MASK ((1ULL << DKS_OFFSET_SHIFT) - 1)
#define DKS_INDEX_TO_OFFSET(i) ((u64)(i) << DKS_OFFSET_SHIFT)

struct dks_area {
	u32 offset;
	u32 size;
};

static const struct dks_area dks_areas[DKS_NR_AREAS] = {
	{ DKS_AREA0_OFFSET, DKS_AREA0_SIZE },
	{ DKS_AREA1_OFFSET, DKS_AREA1_SIZE },
	{ DKS_AREA2_OFFSET, DKS_AREA2_SIZE },
};
#define DKS_NR_PAGES ((DKS_AREA0_SIZE + DKS_AREA1_SIZE + DKS_AREA2_SIZE) >> PAGE_SHIFT)

struct dks_state {
	struct vfio_device vdev;
	struct mutex lock; /* config, registers, area memory accessed through read/write */
	u8 config[DKS_CONFIG_SIZE];
	u32 scratch;
	u32 traps;
	u32 ignored;
	u32 window;
	struct page *pages[DKS_NR_PAGES];
};

static struct {
	struct class *class;
	struct device dev;
	struct mdev_parent parent;
	atomic_t available;
} dks_parent;

static struct mdev_type dks_type = {
	.sysfs_name = "1",
	.pretty_name = "dmakit sparse BAR test device",
};
static struct mdev_type *dks_types[] = { &dks_type };

static const struct vfio_device_ops dks_ops;

/* ---- config space -------------------------------------------------------------- */

/*
 * Bits software may change: command (memory space, bus master, INTx disable) and
 * the address bits of BAR0. Everything else reads as emulated and ignores writes.
 */
static u8 dks_config_wmask(unsigned int off)
{
	switch (off) {
	case PCI_COMMAND:
		return PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	case PCI_COMMAND + 1:
		return PCI_COMMAND_INTX_DISABLE >> 8;
	case PCI_BASE_ADDRESS_0 + 2:
	case PCI_BASE_ADDRESS_0 + 3:
		return 0xff; /* 64 KiB: bits 16..31 are the address */
	default:
		return 0;
	}
}

static void dks_config_init(struct dks_state *s)
{
	u8 *c = s->config;

	memset(c, 0, sizeof(s->config));
	*(__le16 *)&c[PCI_VENDOR_ID] = cpu_to_le16(DKS_VENDOR_ID);
	*(__le16 *)&c[PCI_DEVICE_ID] = cpu_to_le16(DKS_DEVICE_ID);
	c[PCI_REVISION_ID] = DKS_REVISION;
	c[PCI_CLASS_PROG] = DKS_CLASS & 0xff;
	c[PCI_CLASS_DEVICE] = (DKS_CLASS >> 8) & 0xff;
	c[PCI_CLASS_DEVICE + 1] = (DKS_CLASS >> 16) & 0xff;
	c[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	/* BAR0: 32-bit, non-prefetchable memory; the flag bits are all zero. */
	*(__le32 *)&c[PCI_BASE_ADDRESS_0] = cpu_to_le32(PCI_BASE_ADDRESS_SPACE_MEMORY);
	*(__le16 *)&c[PCI_SUBSYSTEM_VENDOR_ID] = cpu_to_le16(DKS_SUBSYS_VENDOR_ID);
	*(__le16 *)&c[PCI_SUBSYSTEM_ID] = cpu_to_le16(DKS_SUBSYS_ID);
	/* No capabilities, no interrupt pin. */
}

static ssize_t dks_config_rw(struct dks_state *s, char __user *ubuf, size_t count,
			     u64 pos, bool write)
{
	u8 buf[DKS_CONFIG_SIZE];
	size_t i;

	if (pos >= DKS_CONFIG_SIZE || count > DKS_CONFIG_SIZE - pos)
		return -EINVAL;
	if (!write)
		return copy_to_user(ubuf, &s->config[pos], count) ? -EFAULT : (ssize_t)count;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	for (i = 0; i < count; i++) {
		u8 m = dks_config_wmask(pos + i);

		s->config[pos + i] = (s->config[pos + i] & ~m) | (buf[i] & m);
	}
	return count;
}

/* ---- BAR0 -------------------------------------------------------------------------- */

/* The backing page of BAR0 offset @off, or NULL when @off is not in an area. */
static struct page *dks_area_page(struct dks_state *s, u64 off)
{
	unsigned int i, first = 0;

	for (i = 0; i < DKS_NR_AREAS; i++) {
		const struct dks_area *a = &dks_areas[i];

		if (off >= a->offset && off < a->offset + a->size)
			return s->pages[first + ((off - a->offset) >> PAGE_SHIFT)];
		first += a->size >> PAGE_SHIFT;
	}
	return NULL;
}

static u32 *dks_window_word(struct dks_state *s, u32 off, void **mapped)
{
	struct page *p = dks_area_page(s, off);
	u8 *va;

	if (!p)
		return NULL;
	va = kmap_local_page(p);
	*mapped = va;
	return (u32 *)(va + (off & ~PAGE_MASK));
}

static u32 dks_reg_read(struct dks_state *s, unsigned int reg)
{
	void *mapped;
	u32 *w, v;

	switch (reg) {
	case DKS_REG_ID:
		return DKS_ID_VALUE;
	case DKS_REG_VERSION:
		return DKS_VERSION_VALUE;
	case DKS_REG_SCRATCH:
		return s->scratch;
	case DKS_REG_TRAPS:
		return s->traps;
	case DKS_REG_IGNORED:
		return s->ignored;
	case DKS_REG_WINDOW:
		return s->window;
	case DKS_REG_WINDOW_DATA:
		w = dks_window_word(s, s->window, &mapped);
		if (!w)
			return 0;
		v = READ_ONCE(*w);
		kunmap_local(mapped);
		return v;
	case DKS_REG_AREAS:
		return DKS_NR_AREAS;
	default:
		return 0;
	}
}

static void dks_reg_write(struct dks_state *s, unsigned int reg, u32 v)
{
	void *mapped;
	u32 *w;

	switch (reg) {
	case DKS_REG_SCRATCH:
		s->scratch = v;
		break;
	case DKS_REG_TRAPS:
		s->traps = 0;
		break;
	case DKS_REG_WINDOW:
		if ((v & 3) || !dks_area_page(s, v))
			s->ignored++;
		else
			s->window = v;
		break;
	case DKS_REG_WINDOW_DATA:
		w = dks_window_word(s, s->window, &mapped);
		if (w) {
			WRITE_ONCE(*w, v);
			kunmap_local(mapped);
		}
		break;
	default: /* read-only and reserved registers */
		s->ignored++;
		break;
	}
}

static ssize_t dks_bar0_rw(struct dks_state *s, char __user *ubuf, size_t count,
			   u64 pos, bool write)
{
	size_t done = 0;

	if (pos >= DKS_BAR0_SIZE || count > DKS_BAR0_SIZE - pos)
		return -EINVAL;

	if (pos < PAGE_SIZE) { /* the register page */
		u32 v;

		if (count != 4 || (pos & 3))
			return -EINVAL;
		if (write) {
			if (copy_from_user(&v, ubuf, 4))
				return -EFAULT;
			dks_reg_write(s, pos, le32_to_cpu((__force __le32)v));
			if (pos != DKS_REG_TRAPS)
				s->traps++;
		} else {
			v = (__force u32)cpu_to_le32(dks_reg_read(s, pos));
			if (copy_to_user(ubuf, &v, 4))
				return -EFAULT;
			s->traps++;
		}
		return 4;
	}

	/* Areas and holes, one page at a time. */
	while (done < count) {
		u64 off = pos + done;
		size_t n = min_t(size_t, count - done, PAGE_SIZE - (off & ~PAGE_MASK));
		struct page *p = dks_area_page(s, off);

		if (p) {
			u8 *va = kmap_local_page(p);
			unsigned long left;

			if (write)
				left = copy_from_user(va + (off & ~PAGE_MASK), ubuf + done, n);
			else
				left = copy_to_user(ubuf + done, va + (off & ~PAGE_MASK), n);
			kunmap_local(va);
			if (left)
				return -EFAULT;
		} else if (write) {
			s->ignored++;
		} else if (clear_user(ubuf + done, n)) {
			return -EFAULT;
		}
		done += n;
	}
	s->traps++;
	return count;
}

static ssize_t dks_rw(struct vfio_device *vdev, char __user *buf, size_t count,
		      loff_t *ppos, bool write)
{
	struct dks_state *s = container_of(vdev, struct dks_state, vdev);
	u64 index = (u64)*ppos >> DKS_OFFSET_SHIFT;
	u64 pos = (u64)*ppos & DKS_OFFSET_MASK;
	ssize_t ret;

	mutex_lock(&s->lock);
	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		ret = dks_config_rw(s, buf, count, pos, write);
		break;
	case VFIO_PCI_BAR0_REGION_INDEX:
		ret = dks_bar0_rw(s, buf, count, pos, write);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	mutex_unlock(&s->lock);
	if (ret > 0)
		*ppos += ret;
	return ret;
}

static ssize_t dks_read(struct vfio_device *vdev, char __user *buf, size_t count,
			loff_t *ppos)
{
	return dks_rw(vdev, buf, count, ppos, false);
}

static ssize_t dks_write(struct vfio_device *vdev, const char __user *buf, size_t count,
			 loff_t *ppos)
{
	return dks_rw(vdev, (char __user *)buf, count, ppos, true);
}

/* mmap: only a range inside one area of BAR0, shared. */
static int dks_mmap(struct vfio_device *vdev, struct vm_area_struct *vma)
{
	struct dks_state *s = container_of(vdev, struct dks_state, vdev);
	u64 index = vma->vm_pgoff >> (DKS_OFFSET_SHIFT - PAGE_SHIFT);
	u64 off = ((u64)vma->vm_pgoff << PAGE_SHIFT) & DKS_OFFSET_MASK;
	u64 len = vma->vm_end - vma->vm_start;
	unsigned int i;
	int ret;

	if (index != VFIO_PCI_BAR0_REGION_INDEX || !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	for (i = 0; i < DKS_NR_AREAS; i++)
		if (off >= dks_areas[i].offset &&
		    off + len <= (u64)dks_areas[i].offset + dks_areas[i].size)
			break;
	if (i == DKS_NR_AREAS)
		return -EINVAL;

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
#else
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;
#endif
	for (i = 0; i < len >> PAGE_SHIFT; i++) {
		ret = vm_insert_page(vma, vma->vm_start + ((unsigned long)i << PAGE_SHIFT),
				     dks_area_page(s, off + ((u64)i << PAGE_SHIFT)));
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- ioctls --------------------------------------------------------------------------- */

static int dks_region_info(struct dks_state *s, unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_info_cap caps = { .buf = NULL, .size = 0 };
	struct vfio_region_info info;
	struct vfio_region_info_cap_sparse_mmap *sparse;
	size_t sz;
	unsigned int i;
	int ret = 0;

	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	info.offset = DKS_INDEX_TO_OFFSET(info.index);
	info.cap_offset = 0;
	switch (info.index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info.size = DKS_CONFIG_SIZE;
		info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
		break;
	case VFIO_PCI_BAR0_REGION_INDEX:
		info.size = DKS_BAR0_SIZE;
		info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
			     VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS;
		sz = struct_size(sparse, areas, DKS_NR_AREAS);
		sparse = kzalloc(sz, GFP_KERNEL);
		if (!sparse)
			return -ENOMEM;
		sparse->header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
		sparse->header.version = 1;
		sparse->nr_areas = DKS_NR_AREAS;
		for (i = 0; i < DKS_NR_AREAS; i++) {
			sparse->areas[i].offset = dks_areas[i].offset;
			sparse->areas[i].size = dks_areas[i].size;
		}
		ret = vfio_info_add_capability(&caps, &sparse->header, sz);
		kfree(sparse);
		if (ret)
			return ret;
		break;
	case VFIO_PCI_BAR1_REGION_INDEX ... VFIO_PCI_ROM_REGION_INDEX:
	case VFIO_PCI_VGA_REGION_INDEX:
		info.size = 0;
		info.flags = 0;
		break;
	default:
		return -EINVAL;
	}

	if (caps.size) {
		if (info.argsz < sizeof(info) + caps.size) {
			/* Too small for the capabilities: say how much is needed. */
			info.argsz = sizeof(info) + caps.size;
		} else {
			vfio_info_cap_shift(&caps, sizeof(info));
			if (copy_to_user((void __user *)arg + sizeof(info), caps.buf, caps.size))
				ret = -EFAULT;
			info.cap_offset = sizeof(info);
		}
		kfree(caps.buf);
		if (ret)
			return ret;
	}
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}

static void dks_reset(struct dks_state *s)
{
	mutex_lock(&s->lock);
	s->scratch = 0;
	s->traps = 0;
	s->ignored = 0;
	s->window = DKS_WINDOW_RESET;
	dks_config_init(s);
	mutex_unlock(&s->lock);
}

static long dks_ioctl(struct vfio_device *vdev, unsigned int cmd, unsigned long arg)
{
	struct dks_state *s = container_of(vdev, struct dks_state, vdev);
	unsigned long minsz;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO: {
		struct vfio_device_info info;

		minsz = offsetofend(struct vfio_device_info, num_irqs);
		if (copy_from_user(&info, (void __user *)arg, minsz))
			return -EFAULT;
		if (info.argsz < minsz)
			return -EINVAL;
		info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
		info.num_regions = VFIO_PCI_NUM_REGIONS;
		info.num_irqs = VFIO_PCI_NUM_IRQS;
		return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_GET_REGION_INFO:
		return dks_region_info(s, arg);
	case VFIO_DEVICE_GET_IRQ_INFO: {
		struct vfio_irq_info info;

		minsz = offsetofend(struct vfio_irq_info, count);
		if (copy_from_user(&info, (void __user *)arg, minsz))
			return -EFAULT;
		if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
			return -EINVAL;
		info.flags = 0;
		info.count = 0; /* no interrupts */
		return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_SET_IRQS:
		return -EINVAL;
	case VFIO_DEVICE_RESET:
		dks_reset(s);
		return 0;
	default:
		return -ENOTTY;
	}
}

/* ---- instances ------------------------------------------------------------------------ */

static void dks_free_pages(struct dks_state *s)
{
	unsigned int i;

	for (i = 0; i < DKS_NR_PAGES; i++) {
		if (s->pages[i])
			__free_page(s->pages[i]);
		s->pages[i] = NULL;
	}
}

static int dks_init_dev(struct vfio_device *vdev)
{
	struct dks_state *s = container_of(vdev, struct dks_state, vdev);
	int avail = atomic_read(&dks_parent.available);
	unsigned int i;

	do {
		if (avail < 1)
			return -ENOSPC;
	} while (!atomic_try_cmpxchg(&dks_parent.available, &avail, avail - 1));

	for (i = 0; i < DKS_NR_PAGES; i++) {
		s->pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!s->pages[i])
			goto err_free_pages;
	}
	mutex_init(&s->lock);
	s->window = DKS_WINDOW_RESET;
	dks_config_init(s);
	return 0;

err_free_pages:
	dks_free_pages(s);
	atomic_inc(&dks_parent.available);
	return -ENOMEM;
}

static void dks_release_dev(struct vfio_device *vdev)
{
	struct dks_state *s = container_of(vdev, struct dks_state, vdev);

	dks_free_pages(s);
	mutex_destroy(&s->lock);
	atomic_inc(&dks_parent.available);
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
	vfio_free_device(vdev); /* later kernels free it after release */
#endif
}

static int dks_probe(struct mdev_device *mdev)
{
	struct dks_state *s;
	int ret;

	s = vfio_alloc_device(dks_state, vdev, &mdev->dev, &dks_ops);
	if (IS_ERR(s))
		return PTR_ERR(s);
	ret = vfio_register_emulated_iommu_dev(&s->vdev);
	if (ret)
		goto err_put;
	dev_set_drvdata(&mdev->dev, s);
	return 0;

err_put:
	vfio_put_device(&s->vdev);
	return ret;
}

static void dks_remove(struct mdev_device *mdev)
{
	struct dks_state *s = dev_get_drvdata(&mdev->dev);

	vfio_unregister_group_dev(&s->vdev);
	vfio_put_device(&s->vdev);
}

static unsigned int dks_get_available(struct mdev_type *mtype)
{
	return atomic_read(&dks_parent.available);
}

static ssize_t dks_show_description(struct mdev_type *mtype, char *buf)
{
	return sysfs_emit(buf, "64 KiB BAR0, %u mmappable areas, trapped registers\n",
			  DKS_NR_AREAS);
}

static const struct vfio_device_ops dks_ops = {
	.name = "dk_sparse",
	.init = dks_init_dev,
	.release = dks_release_dev,
	.read = dks_read,
	.write = dks_write,
	.mmap = dks_mmap,
	.ioctl = dks_ioctl,
#if IS_ENABLED(CONFIG_IOMMUFD)
	/* An emulated device (no IOMMU of its own) in an IOAS: the core's helpers. */
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
#endif
#endif
};

static struct mdev_driver dks_driver = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.driver = {
		.name = DKS_PARENT_NAME,
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
	},
	.probe = dks_probe,
	.remove = dks_remove,
	.get_available = dks_get_available,
	.show_description = dks_show_description,
};

static void dks_parent_release(struct device *dev)
{
}

static int __init dks_init(void)
{
	int ret;

	atomic_set(&dks_parent.available, DKS_MAX_INSTANCES);
	ret = mdev_register_driver(&dks_driver);
	if (ret)
		return ret;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
	dks_parent.class = class_create(DKS_PARENT_NAME);
#else
	dks_parent.class = class_create(THIS_MODULE, DKS_PARENT_NAME);
#endif
	if (IS_ERR(dks_parent.class)) {
		ret = PTR_ERR(dks_parent.class);
		goto err_unregister_driver;
	}
	dks_parent.dev.class = dks_parent.class;
	dks_parent.dev.release = dks_parent_release;
	dev_set_name(&dks_parent.dev, "%s", DKS_PARENT_NAME);
	ret = device_register(&dks_parent.dev);
	if (ret)
		goto err_put_device;
	/* The type directory is "<class name>-<sysfs_name>": DKS_TYPE_NAME. */
	ret = mdev_register_parent(&dks_parent.parent, &dks_parent.dev, &dks_driver,
				   dks_types, ARRAY_SIZE(dks_types));
	if (ret)
		goto err_unregister_device;
	return 0;

err_unregister_device:
	device_unregister(&dks_parent.dev);
	goto err_destroy_class;
err_put_device:
	put_device(&dks_parent.dev);
err_destroy_class:
	class_destroy(dks_parent.class);
err_unregister_driver:
	mdev_unregister_driver(&dks_driver);
	return ret;
}

static void __exit dks_exit(void)
{
	mdev_unregister_parent(&dks_parent.parent);
	device_unregister(&dks_parent.dev);
	class_destroy(dks_parent.class);
	mdev_unregister_driver(&dks_driver);
}

module_init(dks_init);
module_exit(dks_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("dmakit test mdev: vfio-pci device with a sparse mmappable BAR0");
MODULE_AUTHOR("dmakit");
